"""Revisions of the store's schema, oldest first by their ids (``0001``, ``0002``, ...)."""
