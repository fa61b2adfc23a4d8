"""The one route table: every HTTP endpoint, who may call it, what it reads and answers."""

from __future__ import annotations

from aiohttp import web

from streaming.handover import RunListing
from streaming.logo import LOGO_TYPES
from streaming.whep import SDP_TYPE
from studio.branding import Branding
from studio.captions.cues import CaptionInput, CaptionPatch, CaptionShift
from studio.captions.formats import SRT_TYPE, VTT_TYPE
from studio.models import (
    AuditEntry,
    ExtendInput,
    SessionInput,
    SessionPatch,
    StudioInput,
    StudioPatch,
    TokenInput,
)
from studio.report import SessionReport
from studio.roles import Role
from web import auth, pages
from web.api import (
    branding,
    captions,
    channels,
    clips,
    interpretation,
    ops,
    program,
    recordings,
    restreams,
    sessions,
    studios,
    tokens,
)
from web.endpoint import Query, Route
from web.keys import OPENAPI
from web.media import channel as channel_http
from web.media import hls as hls_http
from web.media import interpret as interpret_http
from web.media import runs as runs_http
from web.media import whep as whep_http
from web.media import whip as whip_http
from web.views import (
    ClipView,
    ImportView,
    IngestUrls,
    ProgramView,
    RecordingView,
    SessionCreated,
    SessionView,
    StreamKeyView,
    StudioView,
    TokenCreated,
    TokenView,
)
from web.websocket import websocket

ADMIN = frozenset({Role.ADMIN})
OPERATORS = frozenset({Role.ADMIN, Role.OPERATOR})
STAFF = frozenset({Role.ADMIN, Role.OPERATOR, Role.MODERATOR})
CAPTIONERS = frozenset({Role.ADMIN, Role.CAPTIONER})
CORRECTORS = frozenset({Role.ADMIN, Role.OPERATOR, Role.CAPTIONER})
INTERPRETERS = frozenset({Role.ADMIN, Role.INTERPRETER})
S = "/api/v1/sessions/{session_id}"


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI document of this API."""
    return web.Response(body=request.app[OPENAPI], content_type="application/json")


async def _login(request: web.Request, body: auth.LoginInput) -> web.Response:
    return await auth.login(request, body)


async def _viewer(request: web.Request, body: auth.ViewerInput) -> web.Response:
    return await auth.viewer_pass(request, body)


def _page_route(
    path: str, name: str, operation: str, summary: str, *, framable: bool = False
) -> Route:
    """``GET path``: the browser page ``web/static/<name>``."""
    handler = pages.page(name, operation, framable=framable)
    return Route("GET", path, handler, summary, "pages", media_types=(pages.HTML_TYPE,))


ROUTES: tuple[Route, ...] = (
    Route("GET", "/api/v1/program", program.program, "The programme guide", "programme",
          response=ProgramView, viewer_gate=True,
          query=(Query("studio_id", "only this studio's sessions"),
                 Query("language", "only sessions in this language"))),
    Route("GET", "/api/v1/program.ics", program.program_ics, "The programme as iCalendar",
          "programme", media_types=("text/calendar",), viewer_gate=True,
          query=(Query("code", "the event's access code, for calendar apps"),)),
    Route("GET", "/api/v1/program/export", program.export_program, "Export the programme file",
          "programme", media_types=("application/yaml", "text/csv"), roles=ADMIN, errors=(400,),
          query=(Query("format", "file format", ("yaml", "csv")),)),
    Route("POST", "/api/v1/program/import", program.import_program, "Import a programme file",
          "programme", body=str, response=ImportView, roles=ADMIN,
          body_media_types=program.YAML_TYPES + program.CSV_TYPES, errors=(409, 413, 415, 422)),
    Route("GET", "/api/v1/studios", studios.list_studios, "List studios", "studios",
          response=list[StudioView], viewer_gate=True),
    Route("POST", "/api/v1/studios", studios.create_studio, "Create a studio", "studios",
          body=StudioInput, response=StudioView, status=201, roles=ADMIN, errors=(409, 422)),
    Route("GET", "/api/v1/studios/{studio_id}", studios.get_studio, "One studio", "studios",
          response=StudioView, viewer_gate=True, errors=(404,)),
    Route("PATCH", "/api/v1/studios/{studio_id}", studios.update_studio,
          "Rename a studio or turn its channel's playout on or off",
          "studios", body=StudioPatch, response=StudioView, roles=ADMIN, errors=(404, 409, 422)),
    Route("DELETE", "/api/v1/studios/{studio_id}", studios.delete_studio,
          "Delete a studio without sessions", "studios", status=204, roles=ADMIN,
          errors=(404, 409)),
    Route("GET", "/api/v1/studios/{studio_id}/program.ics", program.studio_ics,
          "A studio's programme as iCalendar", "programme", media_types=("text/calendar",),
          viewer_gate=True, errors=(404,),
          query=(Query("code", "the event's access code, for calendar apps"),)),
    Route("GET", "/api/v1/studios/{studio_id}/channel", channels.channel,
          "What the studio's channel has on air now and next", "channels",
          response=channels.ChannelView, viewer_gate=True, errors=(404,)),
    Route("GET", "/api/v1/studios/{studio_id}/join-code", channels.join_code,
          "The studio's hall join code (issued on first use)", "channels",
          response=channels.JoinCodeView, viewer_gate=True, errors=(404,)),
    Route("POST", "/api/v1/studios/{studio_id}/join-code", channels.renew_join_code,
          "Issue a new hall join code (the old one stops working)", "channels",
          response=channels.JoinCodeView, roles=OPERATORS, errors=(404,)),
    Route("GET", "/api/v1/studios/{studio_id}/join-code.svg", channels.join_code_svg,
          "The QR code of the studio's join address (SVG)", "channels",
          media_types=(channels.SVG_TYPE,), viewer_gate=True, errors=(404,)),
    Route("GET", "/api/v1/join/{code}", channels.resolve,
          "What a join code opens: its studio's channel now", "channels",
          response=channels.JoinView, viewer_gate=True, errors=(404, 410, 422)),
    Route("POST", "/api/v1/sessions", sessions.create_session, "Schedule a session", "sessions",
          body=SessionInput, response=SessionCreated, status=201, roles=OPERATORS,
          errors=(404, 409, 422)),
    Route("GET", S, sessions.get_session, "One session", "sessions", response=SessionView,
          viewer_gate=True, errors=(404,)),
    Route("PATCH", S, sessions.update_session, "Change a session", "sessions", body=SessionPatch,
          response=SessionView, roles=OPERATORS, errors=(404, 409, 422)),
    Route("DELETE", S, sessions.delete_session, "Delete a session", "sessions", status=204,
          roles=OPERATORS, errors=(404, 409)),
    Route("POST", S + "/live", sessions.go_live, "Go live now", "sessions",
          response=SessionView, roles=OPERATORS, errors=(404, 409)),
    Route("POST", S + "/end", sessions.end, "End the broadcast", "sessions",
          response=SessionView, roles=OPERATORS, errors=(404, 409)),
    Route("POST", S + "/cancel", sessions.cancel, "Cancel the session", "sessions",
          response=SessionView, roles=OPERATORS, errors=(404, 409)),
    Route("POST", S + "/extend", sessions.extend, "Extend the planned end", "sessions",
          body=ExtendInput, response=SessionView, roles=OPERATORS, errors=(404, 409, 422)),
    Route("POST", S + "/stream-key", sessions.rotate_stream_key, "Issue a new stream key",
          "sessions", response=StreamKeyView, roles=OPERATORS, errors=(404,)),
    Route("GET", S + "/ingest", sessions.ingest, "Where to publish", "sessions",
          response=IngestUrls, roles=OPERATORS, errors=(404,)),
    Route("GET", S + "/audit", sessions.audit, "Moderators' actions in this session", "sessions",
          response=list[AuditEntry], roles=frozenset({Role.ADMIN, Role.MODERATOR}),
          errors=(404,)),
    Route("GET", S + "/report", sessions.report, "After-event report of a session", "sessions",
          response=SessionReport, roles=OPERATORS, errors=(404,)),
    Route("GET", S + "/recording", recordings.recording,
          "The session's recording: state (and why it failed), duration, trim", "recordings",
          response=RecordingView, roles=OPERATORS, errors=(404,)),
    Route("PUT", S + "/recording/trim", recordings.trim,
          "Trim the replay's start and end (playlists to the segment, the MP4 to the frame)",
          "recordings", body=recordings.TrimInput, response=RecordingView, roles=OPERATORS,
          errors=(404, 409, 422, 503), media_session=True),
    Route("GET", S + "/recording.mp4", recordings.download,
          "The replay as an MP4 download (a mov_text subtitle stream per caption language)",
          "recordings", media_types=(recordings.MP4_TYPE,), viewer_gate=True, errors=(404, 503),
          media_session=True),
    Route("POST", S + "/clips", clips.make_clips,
          "Clip the session (the last seconds, or in and out on the replay): one MP4 per "
          "aspect, cut in the background, optionally with a caption language burned in",
          "recordings", body=clips.ClipInput,
          response=list[ClipView], status=202, roles=STAFF, errors=(404, 409, 422),
          media_session=True),
    Route("GET", S + "/clips", clips.list_clips,
          "The session's clips (staff: every clip; viewers: those ready)", "recordings",
          response=list[ClipView], viewer_gate=True, errors=(404,)),
    Route("GET", S + "/clips/{clip_id}.mp4", clips.download, "A clip as an MP4 download",
          "recordings", media_types=(clips.MP4_TYPE,), viewer_gate=True, errors=(404,),
          media_session=True),
    Route("GET", S + "/restreams", restreams.list_restreams,
          "Restream destinations and the status of each push", "sessions",
          response=list[restreams.RestreamView], roles=OPERATORS, errors=(404, 503),
          media_session=True),
    Route("POST", S + "/restreams", restreams.add_restream, "Add a restream destination",
          "sessions", body=restreams.RestreamInput, response=restreams.RestreamView, status=201,
          roles=OPERATORS, errors=(404, 409, 422, 503), media_session=True),
    Route("PATCH", S + "/restreams/{restream_id}", restreams.update_restream,
          "Rename a restream destination or switch it on or off", "sessions",
          body=restreams.RestreamPatch, response=restreams.RestreamView, roles=OPERATORS,
          errors=(404, 422, 503), media_session=True),
    Route("DELETE", S + "/restreams/{restream_id}", restreams.remove_restream,
          "Remove a restream destination", "sessions", status=204, roles=OPERATORS,
          errors=(404, 503), media_session=True),
    Route("GET", S + "/health", restreams.health, "Ingest health of the session", "sessions",
          response=restreams.HealthView, roles=STAFF, errors=(404, 503), media_session=True),
    Route("POST", S + "/captions", captions.add_caption,
          "Add a caption line to a live session (text, language, optional start/end: the "
          "picture's time; default now)", "captions", body=CaptionInput,
          response=captions.CaptionView, status=201, roles=CAPTIONERS,
          errors=(401, 403, 404, 409, 422)),
    Route("GET", S + "/captions", captions.list_captions, "The session's caption cues",
          "captions", response=list[captions.CaptionView], viewer_gate=True, errors=(404, 422),
          query=(Query("language", "only cues of this caption language"),)),
    Route("GET", "/api/v1/captions/languages", captions.languages,
          "The event's caption languages (each a subtitle rendition of every session)",
          "captions", response=captions.LanguagesView),
    Route("GET", S + "/captions.vtt", captions.download_vtt,
          "The session's captions of one language as a WebVTT file, timed from when it went "
          "live", "captions", media_types=(VTT_TYPE,), viewer_gate=True, errors=(404, 422),
          query=(Query("language", "the caption language (default: the event's first)"),)),
    Route("GET", S + "/captions.srt", captions.download_srt,
          "The session's captions of one language as a SubRip file, timed from when it went "
          "live", "captions", media_types=(SRT_TYPE,), viewer_gate=True, errors=(404, 422),
          query=(Query("language", "the caption language (default: the event's first)"),)),
    Route("GET", S + "/captions/live", captions.live_captions,
          "Caption websocket for caption services (upgrade): each text frame a caption line "
          "as for POST …/captions plus an optional ref, each answered in order with "
          '{"type": "cue"} or {"type": "error"} (docs/captions.md)', "captions", status=101,
          roles=CAPTIONERS, errors=(400, 401, 403, 404)),
    Route("PATCH", S + "/captions/{caption_id}", captions.correct_caption,
          "Correct a caption cue: its text, or move it by shift_ms", "captions",
          body=CaptionPatch, response=captions.CaptionView, roles=CORRECTORS,
          errors=(401, 403, 404, 422)),
    Route("POST", S + "/captions/shift", captions.shift_captions,
          "Move every cue of one caption language by shift_ms", "captions", body=CaptionShift,
          response=captions.ShiftedView, roles=CORRECTORS, errors=(401, 403, 404, 422)),
    Route("GET", S + "/interpretation", interpretation.interpretation,
          "The event's interpretation languages and those an interpreter speaks in the session "
          "now (the others carry the original sound)", "interpretation",
          response=interpretation.InterpretationView, viewer_gate=True, errors=(404, 503),
          media_session=True),
    Route("GET", "/api/v1/branding", branding.get_branding,
          "The event's name, colours and logo (for pages, slates and the hall screen)",
          "branding", response=branding.BrandingView),
    Route("PUT", "/api/v1/branding", branding.set_branding,
          "Set the event's name and colours (a pair below WCAG AA 4.5:1 is refused)",
          "branding", body=Branding, response=branding.BrandingView, roles=ADMIN,
          errors=(422,)),
    Route("DELETE", "/api/v1/branding", branding.reset_branding,
          "Back to the configured name and colours", "branding",
          response=branding.BrandingView, roles=ADMIN),
    Route("PUT", "/api/v1/branding/logo", branding.put_logo,
          "Upload the event's logo: PNG, JPEG or WebP, at most 512 KiB (SVG is refused)",
          "branding", body=bytes, body_media_types=tuple(LOGO_TYPES),
          response=branding.BrandingView, roles=ADMIN, errors=(413, 415, 422)),
    Route("DELETE", "/api/v1/branding/logo", branding.delete_logo, "Remove the event's logo",
          "branding", status=204, roles=ADMIN),
    Route("GET", branding.LOGO_PATH, branding.logo, "The event's logo", "branding",
          media_types=tuple(LOGO_TYPES), errors=(404,)),
    Route("GET", "/branding.css", branding.css,
          "The event's colours as CSS variables (--brand-bg, --brand-text, --brand-accent)",
          "branding", media_types=(branding.CSS_TYPE,)),
    Route("GET", "/api/v1/tokens", tokens.list_tokens, "List access tokens", "access",
          response=list[TokenView], roles=ADMIN),
    Route("POST", "/api/v1/tokens", tokens.create_token, "Issue an access token", "access",
          body=TokenInput, response=TokenCreated, status=201, roles=ADMIN, errors=(404, 422)),
    Route("DELETE", "/api/v1/tokens/{token_id}", tokens.revoke_token, "Revoke a token", "access",
          status=204, roles=ADMIN, errors=(404,)),
    Route("POST", "/api/v1/auth/login", _login, "Sign a browser in with a token", "access",
          body=auth.LoginInput, response=auth.SignedIn, errors=(401, 422)),
    Route("GET", "/api/v1/auth/me", auth.me, "Who the browser is signed in as", "access",
          response=auth.SignedIn, roles=STAFF),
    Route("GET", "/api/v1/auth/session", auth.sign_in_state,
          "Whether the browser is signed in, and as whom (200 either way)", "access",
          response=auth.SignInState),
    Route("POST", "/api/v1/auth/logout", auth.logout, "Sign the browser out", "access",
          status=204),
    Route("POST", "/api/v1/auth/viewer", _viewer, "Get a viewer pass (checks the access code)",
          "access", body=auth.ViewerInput, response=auth.ViewerPass, errors=(403, 422, 429)),
    Route("GET", "/api/v1/openapi.json", openapi, "This document", "operations"),
    Route("GET", "/ws", websocket, "Websocket for chat, Q&A, polls and viewer counts "
          "(upgrade; protocol in docs/protocol.md)", "realtime", status=101, errors=(400,)),
    Route("GET", "/hls/{session_id}/index.m3u8", hls_http.multivariant,
          "The session's HLS multivariant playlist (renditions, audio and a subtitle rendition "
          "per caption language), live or the replay's", "media",
          media_types=(hls_http.PLAYLIST_TYPE,), viewer_gate=True, errors=(404, 503),
          query=(Query("v", "the player's viewer id (its websocket's), for the viewer count"),),
          media_session=True),
    Route("GET", "/hls/{session_id}/{name}", hls_http.media_resource,
          "A media playlist (LL-HLS blocking reload), init segment, segment or part; a "
          "caption language's subtitle playlist (subs-sv.m3u8) or WebVTT segment", "media",
          media_types=(hls_http.PLAYLIST_TYPE, hls_http.MP4_TYPE, VTT_TYPE), viewer_gate=True,
          errors=(400, 404, 503),
          query=(Query("_HLS_msn", "block until this media sequence number is available"),
                 Query("_HLS_part", "with _HLS_msn: block until this part is available"),
                 Query("v", "the player's viewer id (its websocket's), for the viewer count")),
          media_session=True),
    Route("GET", "/hls/c/{studio_id}/{name}", channel_http.channel_resource,
          "The studio channel's stable HLS address: index.m3u8 and its media playlists "
          "(LL-HLS blocking reload), stitching the live session and replays", "media",
          media_types=(hls_http.PLAYLIST_TYPE,), viewer_gate=True, errors=(400, 404, 503),
          query=(Query("_HLS_msn", "block until this media sequence number is available"),
                 Query("_HLS_part", "with _HLS_msn: block until this part is available"),
                 Query("v", "the player's viewer id (its websocket's), for the viewer count"))),
    Route("POST", "/whep/{session_id}", whep_http.offer,
          "Low-latency playback (WHEP): an SDP offer in, the SDP answer and the resource's "
          "Location out (no trickle ICE: PATCH answers 405)", "media", body=str, status=201,
          body_media_types=(SDP_TYPE,), media_types=(SDP_TYPE,),
          viewer_gate=True, errors=(404, 409, 422, 503),
          query=(Query("v", "the player's viewer id (its websocket's), for the viewer count"),
                 Query("audio", "an interpretation language to hear instead of the original "
                       "sound (the interpreter's voice while on air, the original otherwise)")),
          media_session=True),
    Route("DELETE", "/whep/{session_id}/{resource_id}", whep_http.leave,
          "End a low-latency (WHEP) playback", "media", status=204, viewer_gate=True,
          errors=(404, 503), media_session=True),
    Route("POST", "/whip/{session_id}", whip_http.publish,
          "Publish the session over WebRTC (WHIP, RFC 9725): the SDP offer in, the SDP answer, "
          "Location and ETag out. Authorization: Bearer <stream key>; X-Torget-Takeover: 1 "
          "replaces a present publisher; no trickle ICE (PATCH answers 405)", "media",
          body=str, status=201, body_media_types=(SDP_TYPE,),
          media_types=(SDP_TYPE,), errors=(400, 401, 404, 409, 413, 415, 503), media_session=True),
    Route("DELETE", "/whip/{session_id}/{resource_id}", whip_http.unpublish,
          "End a WHIP publish (Authorization: Bearer <stream key>)", "media", status=204,
          errors=(401, 404, 503), media_session=True),
    Route("POST", "/whip/{session_id}/interpret/{language}", interpret_http.publish,
          "An interpreter publishes their voice for one language of a live session (WHIP, "
          "sound only: an offer with video is refused): the SDP offer in, the SDP answer, "
          "Location and ETag out. Authorization: Bearer <interpreter token>; one interpreter "
          "per language (docs/interpretation.md)", "media", body=str, status=201,
          body_media_types=(SDP_TYPE,), media_types=(SDP_TYPE,), roles=INTERPRETERS,
          errors=(400, 401, 403, 404, 409, 413, 415, 422, 503), media_session=True),
    Route("DELETE", "/whip/{session_id}/interpret/{language}/{resource_id}",
          interpret_http.unpublish, "Stop interpreting (the interpreter's WHIP resource)",
          "media", status=204, roles=INTERPRETERS, errors=(401, 403, 404, 503),
          media_session=True),
    Route("GET", "/internal/media/{session_id}/runs", runs_http.listing,
          "Node to node: what this node recorded of the session (X-Torget-Node-Pass)",
          "operations", response=RunListing, errors=(403, 404)),
    Route("GET", "/internal/media/{session_id}/runs/{name}", runs_http.run_file,
          "Node to node: one init segment or segment this node recorded (X-Torget-Node-Pass)",
          "operations", media_types=(runs_http.FILE_TYPE,), errors=(403, 404)),
    Route("GET", "/healthz", ops.healthz, "Health of this node", "operations",
          response=ops.Health, errors=(503,)),
    Route("GET", "/metrics", ops.metrics, "Prometheus metrics", "operations",
          media_types=("text/plain",)),
    _page_route("/", "index.html", "guide_page", "Viewer page: the programme guide"),
    _page_route("/s/{session_id}", "session.html", "session_page",
          "Viewer page: a session's player, chat, Q&A and polls"),
    _page_route("/embed/{session_id}", "embed.html", "embed_page",
          "Embeddable player of a session (may be framed by other sites)", framable=True),
    _page_route("/c/{studio_id}", "channel.html", "channel_page",
          "Viewer page: a studio's channel (what is on air, the next session between)"),
    _page_route("/embed/c/{studio_id}", "channel.html", "channel_embed_page",
          "Embeddable player of a studio's channel (may be framed by other sites)", framable=True),
    _page_route("/screen/{studio_id}", "screen.html", "screen_page",
          "Hall screen: highlighted question, poll results, join code and QR code"),
    _page_route("/j/{code}", "join.html", "join_page",
          "Participation page a hall join code opens (questions, votes, polls)"),
    _page_route("/studio", "studio.html", "studio_page", "Operator console"),
    _page_route("/moderate", "moderate.html", "moderate_page", "Moderator console"),
    _page_route("/caption", "caption.html", "caption_page",
          "Caption console: write live captions while watching the programme (WHEP)"),
    _page_route("/interpret", "interpret.html", "interpret_page",
          "Interpreter console: speak a language of the programme while watching it (WHEP "
          "in, WHIP sound out)"),
    _page_route("/report", "report.html", "report_page", "After-event report page"),
    _page_route("/admin", "admin.html", "admin_page",
          "Admin page: programme import, studios, access tokens"),
    Route("GET", "/static/{name}", pages.static_file,
          "A static file of the browser apps (ETag, Last-Modified, ranges; cached a year when "
          "?v= is its version)", "pages", media_types=pages.STATIC_MEDIA_TYPES, errors=(404,),
          query=(Query("v", "the file's version, as the pages stamp it"),)),
    Route("GET", "/static/{folder}/{name}", pages.static_nested,
          "A static file in a folder of the browser apps (scripts, catalogues, vendored code)",
          "pages", media_types=pages.STATIC_MEDIA_TYPES, errors=(404,),
          query=(Query("v", "the file's version, as the pages stamp it"),)),
)  # fmt: skip


def add_routes(app: web.Application) -> None:
    """Register every route of the table; every GET route answers HEAD too (the same status
    and headers, no body: uptime monitors and caches ask with HEAD)."""
    for route in ROUTES:
        handler = route.aiohttp_handler()
        app.router.add_route(route.method, route.path, handler)
        if route.method == "GET":
            app.router.add_route("HEAD", route.path, handler)
