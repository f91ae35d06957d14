"""`station sync`: send the province centre what it lacks of this station's books (station/centre receives).

protocol.py is the wire format both sides share; collect.py reads what the centre must hold from the
station's catalog; client.py speaks HTTP to the centre with retries; run.py drives one sync; state.py keeps
when the station last reached the centre. Nothing here imports the centre (tests/test_layers.py).
"""
