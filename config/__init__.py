"""Torget's configuration: the documented defaults in ``torget.toml`` and how they are loaded."""

from config.settings import ConfigError, Settings, load_settings

__all__ = ["ConfigError", "Settings", "load_settings"]
