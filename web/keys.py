"""Typed keys for what the application holds (aiohttp ``AppKey``s), in one place."""

from __future__ import annotations

from aiohttp import web

from config import Settings
from realtime.actions import Actions
from realtime.hub import Hub
from realtime.playback_viewers import PlaybackViewers
from streaming.channel_feed import Channels
from streaming.health import HealthBoard
from streaming.ownership import Echoes
from streaming.plane import MediaPlane
from streaming.restream.restreamer import Restreamer
from streaming.whep import WhepManager
from studio.interaction.ratelimit import RateLimiter
from studio.service import Programme
from studio.signing import Signer
from web.media.proxy import MediaProxy
from web.metrics import Metrics
from web.views import Urls

SETTINGS = web.AppKey("settings", Settings)
PROGRAMME = web.AppKey("programme", Programme)
URLS = web.AppKey("urls", Urls)
METRICS = web.AppKey("metrics", Metrics)
SIGNER = web.AppKey("signer", Signer)
OPENAPI = web.AppKey("openapi", bytes)
HUB = web.AppKey("hub", Hub)
ACTIONS = web.AppKey("actions", Actions)
MEDIA = web.AppKey("media", MediaPlane)
RESTREAMER = web.AppKey("restreamer", Restreamer)
HEALTH = web.AppKey("health", HealthBoard)
WHEP = web.AppKey("whep", WhepManager)
PLAYBACK = web.AppKey("playback", PlaybackViewers)
MEDIA_PROXY = web.AppKey("media_proxy", MediaProxy)
ECHOES = web.AppKey("echoes", Echoes)
CODE_ATTEMPTS = web.AppKey("code_attempts", RateLimiter)  # wrong access codes per address
CHANNELS = web.AppKey("channels", Channels)
