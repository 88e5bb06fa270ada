"""Venue configuration: venues, assets, instruments, risk settings and the demo set-up."""

from openpit.config.loader import ConfigError, VenueConfig, load_config, load_demo_config

__all__ = ["ConfigError", "VenueConfig", "load_config", "load_demo_config"]
