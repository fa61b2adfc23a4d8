"""Clip benchmark: the time and CPU to cut a 60 s clip from a recording (copy and crops)."""
