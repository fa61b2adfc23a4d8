"""The media plane: RTMP and WHIP ingest, the ffmpeg pipeline, HLS/LL-HLS and WebRTC relay.

Pure core (no sockets, no processes; each module's docstring has the details):

- ``vocab``: the enums every module shares; ``errors``: the ``StreamingError`` tree.
- ``ladder``: which renditions a session gets (source passed through when H.264, lower rungs,
  AAC audio), the target duration, part targets and PART-HOLD-BACK they imply.
- ``ffmpeg_args``: argument lists for the live pipeline (dash muxer writing CMAF fragments that
  become LL-HLS parts), slates, recording remux and restream.
- ``names``: every file/URL name of a session's HLS directory and the strict parser for them.
- ``fmp4``: reads ffmpeg's init and (growing) media segments: codecs, fragments, keyframes.
- ``llhls``: the per-rendition LL-HLS media playlist model, blocking-reload decisions,
  multivariant playlist and cache headers.
"""
