"""The media benchmark: publish-to-first-segment, glass-to-glass latency, CPU per session.

See ``run.py`` for what is measured and how; ``python -m bench media`` runs it alone.
"""
