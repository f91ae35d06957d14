"""The dashboard's routes, one module per resource; station.web.app puts them together."""
