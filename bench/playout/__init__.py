"""The studio channel's playout benchmark (``python -m bench playout``)."""
