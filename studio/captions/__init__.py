"""Live captions: the cue model and its rules (``cues``), and the caption file formats
(``formats``: WebVTT and SubRip). Pure: no I/O (docs/captions.md)."""
