"""The websocket fan-out benchmark: N viewers in one room, chat at a fixed rate (see run.py)."""
