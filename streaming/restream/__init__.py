"""Restream: push a live session's source rendition to RTMP destinations (YouTube, Facebook).

``urls`` (check, mask, scrub destination URLs, where a push may connect), ``retry`` (back-off
and giving up) and ``buffer`` (what one push sends) are pure; ``reach`` resolves a destination
and applies the rules; ``pusher`` runs one destination's ffmpeg and
``restreamer`` keeps the pushes of a node in step with the programme. See
``docs/architecture.md`` ("Restream and ingest health").
"""
