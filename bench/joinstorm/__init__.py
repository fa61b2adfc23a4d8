"""The join-storm benchmark: a dead node's websocket viewers joining the others at once."""
