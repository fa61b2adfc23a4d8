"""Caption latency as viewers meet it: from a captioner's Enter to the line on screen, beside
each viewer's own distance from live (``python -m bench captions``)."""
