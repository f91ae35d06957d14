"""Catalog: the books, their registers, the database of entries and pages, and the home folder's files."""
