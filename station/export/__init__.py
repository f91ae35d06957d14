"""Export: what leaves the station: PDF names, the export workbook and its verification, separator sheets, reports."""
