"""Connection profiles, as the UI sees them (it may not import `runtime` directly)."""

from __future__ import annotations

from factorypulse_desktop.runtime.profiles import DEMO_PROFILE, ConnectionProfile, ProfileStore

__all__ = ["DEMO_PROFILE", "ConnectionProfile", "ProfileStore"]
