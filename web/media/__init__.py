"""The media plane's HTTP edge: HLS/LL-HLS, WHEP and WHIP handlers, and forwarding to the
node that holds a session's media."""
