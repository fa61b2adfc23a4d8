"""The programme's use cases of the event's branding (``studio.branding``): the name and
colours from the settings, as the admin changed them, and the logo; mixed into
``studio.service.Programme``."""

from __future__ import annotations

import base64

import msgspec

from config import Settings
from studio.access import Action, Principal, authorize
from studio.branding import Branding, check_branding
from studio.store import Store

BRANDING_KEY = "branding"
LOGO_KEY = "branding.logo"


class StoredLogo(msgspec.Struct, frozen=True):
    """The logo as kept in the store: its media type and bytes (base64)."""

    media_type: str
    data: str

    @property
    def content(self) -> bytes:
        """The picture's bytes."""
        return base64.b64decode(self.data)


def configured_branding(settings: Settings) -> Branding:
    """The branding the settings give (``[event]``), checked (InvalidInput otherwise)."""
    event = settings.event
    return check_branding(
        Branding(
            name=event.name,
            background=event.brand_background,
            text=event.brand_text,
            accent=event.brand_accent,
        )
    )


class BrandingCases:
    """Read and set the event's branding (the programme's ``store`` and ``settings``)."""

    store: Store
    settings: Settings

    def configured_branding(self) -> Branding:
        """The branding the settings give (``[event]``), checked."""
        return configured_branding(self.settings)

    async def branding(self) -> Branding:
        """The event's branding: as the admin set it, else as configured."""
        stored = await self.store.get_meta(BRANDING_KEY)
        if stored is None:
            return self.configured_branding()
        return msgspec.json.decode(stored, type=Branding)

    async def set_branding(self, who: Principal | None, branding: Branding) -> Branding:
        """Set the name and colours (admin); a pair below WCAG AA contrast is refused."""
        authorize(who, Action.MANAGE_BRANDING)
        clean = check_branding(branding)
        await self.store.put_meta(BRANDING_KEY, msgspec.json.encode(clean).decode())
        return clean

    async def reset_branding(self, who: Principal | None) -> Branding:
        """Go back to the configured name and colours (admin)."""
        authorize(who, Action.MANAGE_BRANDING)
        await self.store.delete_meta(BRANDING_KEY)
        return self.configured_branding()

    async def logo(self) -> StoredLogo | None:
        """The event's logo, if one was uploaded."""
        stored = await self.store.get_meta(LOGO_KEY)
        return None if stored is None else msgspec.json.decode(stored, type=StoredLogo)

    def check_branding_access(self, who: Principal | None) -> None:
        """Raise unless ``who`` may set the branding (before reading an upload)."""
        authorize(who, Action.MANAGE_BRANDING)

    async def set_logo(self, who: Principal | None, media_type: str, data: bytes) -> None:
        """Keep a logo the media plane has checked (admin)."""
        authorize(who, Action.MANAGE_BRANDING)
        logo = StoredLogo(media_type, base64.b64encode(data).decode())
        await self.store.put_meta(LOGO_KEY, msgspec.json.encode(logo).decode())

    async def remove_logo(self, who: Principal | None) -> None:
        """Remove the logo (admin)."""
        authorize(who, Action.MANAGE_BRANDING)
        await self.store.delete_meta(LOGO_KEY)
