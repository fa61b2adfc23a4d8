"""The media plane: RTMP and WHIP ingest, the ffmpeg pipeline, HLS/LL-HLS and WebRTC relay."""
