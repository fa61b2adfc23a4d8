"""The media plane: RTMP and WHIP ingest, the ffmpeg pipeline, LL-HLS, WebRTC relay, recordings.

No HTTP here (that is ``web.media``). ``docs/architecture.md`` lists the modules (pure core
first) and tells how they work together ("Media: RTMP ingest to LL-HLS" and the sections after).
"""
