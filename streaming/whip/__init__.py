"""WHIP ingest (RFC 9725): a browser or OBS publishes a session over WebRTC. No HTTP here.

``ingest`` (``WhipIngest``, one ``WhipResource`` per accepted offer, talking to the media plane
through the ``WhipPlane`` protocol) and ``decoders`` (what runs in aiortc's receiver threads
instead of its decoders). See ``docs/architecture.md`` ("WebRTC ingest (WHIP)").
"""
