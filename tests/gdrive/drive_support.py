"""Helpers for the Google Drive tests (importable as `drive_support`): the fakes as one
object, the fake browser, and the account the fake Drive signs in as."""

from __future__ import annotations

import threading
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from fake_drive import FakeDrive
from fake_google import FakeGoogle, visit

from factorypulse_desktop.services.auth import Workspace
from factorypulse_desktop.services.gdrive import GoogleEndpoints

ACCOUNT_ID = "06218345127799402171"  # the fake Drive's user


@dataclass
class Google:
    auth: FakeGoogle
    drive: FakeDrive
    endpoints: GoogleEndpoints


def org_of(ws: Workspace) -> uuid.UUID:
    return ws.identity.memberships[0].organization_id


def browser(google: Google) -> Callable[[str], None]:
    """Accepts the consent screen and returns to the app's loopback port, on a thread."""
    def open_browser(url: str) -> None:
        answer = google.auth.consent(url)
        redirect = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["redirect_uri"][0]
        threading.Thread(target=visit, args=(redirect + "?" + urllib.parse.urlencode(answer),),
                         daemon=True).start()
    return open_browser
