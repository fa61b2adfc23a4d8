"""Benchmarks of Torget, run by ``make bench`` (``python -m bench``) into ``BENCHMARKS.md``."""
