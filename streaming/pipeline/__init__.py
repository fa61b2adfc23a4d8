"""One live session's media: its ffmpeg runs, the files they write, its LL-HLS playlists.

``supervisor`` (``SessionPipeline``: runs, restarts, slates, the run journal), ``output`` (what
a run wrote, read into playlist updates) and ``slate`` (the slate's own ffmpeg). See
``docs/architecture.md`` ("Media: RTMP ingest to LL-HLS", "Slates and recordings").
"""
