"""WebRTC playback (WHEP) benchmark: server cost per viewer, and glass-to-glass latency."""
