"""The province centre: where the stations of a province send what they scanned.

Its catalog is on PostgreSQL (catalog.py, schema under Alembic in migrations/), its files in a
content-addressed store on disk (store.py), stations known by their tokens (tokens.py), its API in app.py,
run by `station centre serve`. It uses the station's catalog models; nothing of the station imports it
(tests/test_layers.py), so a station runs without PostgreSQL.
"""
