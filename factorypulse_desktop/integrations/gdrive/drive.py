"""The app's Google Drive client: browse, search, refresh metadata, upload (no Qt; call it on
a worker thread).

Built on google-api-python-client from the bundled Drive v3 discovery document, with
``rootUrl`` replaced by ``root_url``: ``client_options={"api_endpoint": ...}`` moves only the
JSON API, while uploads are addressed from ``rootUrl`` (TESTING.md), so patching the document
is what points *everything* at one host (Google, or the fake in the tests).

Retries are ours, not the library's ``execute(num_retries=...)``: its sleeps (``rand() *
2**n``, no cap) cannot be injected or bounded per call, and it also retries timeouts, which
would keep an offline person waiting. Here 429, 5xx and Drive's 403 rate limits get at most
`MAX_ATTEMPTS` attempts with capped exponential backoff and jitter; a 401 is handled one level
down by google-auth's ``AuthorizedHttp`` (one refresh, one retry).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.resources
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.integrations.gdrive import oauth

GOOGLE_ROOT_URL = "https://www.googleapis.com/"
FOLDER_MIME = "application/vnd.google-apps.folder"
MAX_ATTEMPTS = 5
BACKOFF_BASE_S = 0.5
BACKOFF_CAP_S = 8.0
MAX_DEPTH = 20
_CHUNK_GRANULE = 256 * 1024  # Drive accepts resumable chunks in multiples of 256 KiB

# Exactly what DriveItem needs: Drive sends only the fields asked for.
ITEM_FIELDS = ("id,name,mimeType,size,modifiedTime,owners(displayName,emailAddress),"
               "md5Checksum,sha256Checksum,webViewLink,iconLink,parents")
_PAGE_FIELDS = f"nextPageToken,files({ITEM_FIELDS})"
_SCOPE_WORDS = {
    oauth.DRIVE_FILE: "files this app created or opened (drive.file)",
    oauth.DRIVE_READONLY: "seeing and downloading all your Drive files (drive.readonly)",
    "https://www.googleapis.com/auth/drive": "full access to your Google Drive (drive)",
}

T = TypeVar("T")


class DriveError(UserFacingError):
    """A Drive call failed; the message says what it means for the person."""

    OFFLINE = "Google Drive cannot be reached: check the internet connection."
    NOT_FOUND = "This Drive item no longer exists or is not shared with you."
    BUSY = "Google Drive is busy or unavailable right now. Try again in a few minutes."

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DriveCancelled(UserFacingError):
    def __init__(self) -> None:
        super().__init__("The upload to Google Drive was cancelled.")


@dataclass(frozen=True)
class DriveItem:
    id: str
    name: str
    mime_type: str
    is_folder: bool
    size: int | None = None
    modified: datetime | None = None
    owner: str | None = None
    md5: str | None = None
    sha256: str | None = None
    web_url: str | None = None
    icon_url: str | None = None
    parents: tuple[str, ...] = ()


@dataclass(frozen=True)
class DrivePage:
    items: tuple[DriveItem, ...]
    next_page_token: str | None


def item_from_json(data: dict[str, Any]) -> DriveItem:
    """A DriveItem from Drive's file resource (absent fields become None)."""
    owners = data.get("owners") or [{}]
    mime = str(data.get("mimeType", ""))
    return DriveItem(
        id=str(data["id"]), name=str(data.get("name", "")), mime_type=mime,
        is_folder=mime == FOLDER_MIME,
        size=int(data["size"]) if "size" in data else None,  # a string in Drive's JSON
        modified=datetime.fromisoformat(data["modifiedTime"]) if "modifiedTime" in data
        else None,
        owner=owners[0].get("displayName") or owners[0].get("emailAddress"),
        md5=data.get("md5Checksum"), sha256=data.get("sha256Checksum"),
        web_url=data.get("webViewLink"), icon_url=data.get("iconLink"),
        parents=tuple(data.get("parents", ())))


def quote(text: str) -> str:
    """A string literal for Drive's query language (backslash and quote escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def backoff_delay(attempt: int, rand: Callable[[], float] = random.random) -> float:
    """The wait after failed `attempt` (1-based): half the capped exponential step, plus a
    random share of the other half, so clients that failed together do not retry together."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
    return ceiling / 2 + rand() * ceiling / 2


@functools.cache
def _bundled_document() -> str:
    """The Drive v3 discovery document shipped with the library (read once)."""
    return (importlib.resources.files("googleapiclient.discovery_cache") / "documents"
            / "drive.v3.json").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=4)
def _document_for(root_url: str) -> str:
    """The document with every Google host replaced by `root_url` (a string: the library
    rewrites a dict it is given, so each build must parse its own)."""
    document = json.loads(_bundled_document())
    if document["rootUrl"] != root_url:
        document["rootUrl"] = root_url  # the JSON API, uploads and batch all derive from it
        document["baseUrl"] = root_url + document["servicePath"]
        document.pop("mtlsRootUrl", None)  # would move requests back to Google
    return json.dumps(document)


def authorized_http(credentials: Any, timeout_s: float) -> Any:
    """An httplib2 connection with a timeout that adds the token and refreshes it once
    after a 401."""
    import google_auth_httplib2
    from googleapiclient.http import build_http

    http = build_http()  # the library's Http: 308 is "resume incomplete", not a redirect
    http.timeout = timeout_s
    return google_auth_httplib2.AuthorizedHttp(credentials, http=http, max_refresh_attempts=1)


def build_service(credentials: Any, root_url: str = GOOGLE_ROOT_URL,
                  timeout_s: float = 30) -> Any:
    """The Drive v3 service object for `root_url` (offline: no discovery fetch)."""
    from googleapiclient.discovery import build_from_document

    root = root_url if root_url.endswith("/") else root_url + "/"
    # `http` carries the credentials; the library refuses both arguments at once.
    return build_from_document(_document_for(root),
                               http=authorized_http(credentials, timeout_s))


class DriveClient:
    """One Google account's Drive. Safe to share between worker threads: each thread gets
    its own connection (httplib2 connections are not thread-safe)."""

    def __init__(self, credentials: Any, *, root_url: str = GOOGLE_ROOT_URL,
                 timeout_s: float = 30, sleep: Callable[[float], None] = time.sleep,
                 rand: Callable[[], float] = random.random) -> None:
        self._credentials = credentials
        self._timeout_s = timeout_s
        self._sleep = sleep
        self._rand = rand
        self._service = build_service(credentials, root_url, timeout_s)
        self._local = threading.local()

    # -- reading ------------------------------------------------------------------------------

    def about(self) -> tuple[str, str | None]:
        """The account's stable id (``permissionId``) and its email address."""
        data = self._execute(self._service.about().get(
            fields="user(permissionId,emailAddress,displayName)"))
        user = data.get("user", {})
        return str(user["permissionId"]), user.get("emailAddress")

    def list_folder(self, folder_id: str = "root", *, page_token: str | None = None,
                    page_size: int = 100, query_text: str = "") -> DrivePage:
        """One page of a folder's items, folders first, then by name."""
        query = f"{quote(folder_id)} in parents and trashed = false"
        if query_text:
            query += f" and name contains {quote(query_text)}"
        return self._list(query, page_token, page_size)

    def search(self, text: str, *, page_token: str | None = None,
               page_size: int = 100) -> DrivePage:
        """Items anywhere in the drive whose name contains `text`."""
        query = "trashed = false"
        if text:
            query = f"name contains {quote(text)} and {query}"
        return self._list(query, page_token, page_size)

    def get(self, file_id: str) -> DriveItem:
        """Fresh metadata of one item (name, size, modified time, owner, checksums)."""
        return item_from_json(self._execute(self._service.files().get(
            fileId=file_id, fields=ITEM_FIELDS)))

    def path_of(self, file_id: str) -> list[DriveItem]:
        """Breadcrumbs, the drive's root first and the item last. At most `MAX_DEPTH`
        items (the nearest ones), and a loop in the parents ends the walk."""
        trail = [self.get(file_id)]
        seen = {trail[0].id}
        while trail[-1].parents and len(trail) < MAX_DEPTH:
            parent = trail[-1].parents[0]
            if parent in seen:
                break
            seen.add(parent)
            trail.append(self.get(parent))
        return trail[::-1]

    def _list(self, query: str, page_token: str | None, page_size: int) -> DrivePage:
        data = self._execute(self._service.files().list(
            q=query, orderBy="folder,name", pageSize=page_size, pageToken=page_token,
            spaces="drive", fields=_PAGE_FIELDS))
        return DrivePage(tuple(item_from_json(f) for f in data.get("files", ())),
                         data.get("nextPageToken") or None)

    # -- uploading ----------------------------------------------------------------------------

    def upload(self, path: Path, folder_id: str, *,
               progress: Callable[[int], None] | None = None,
               cancelled: Callable[[], bool] | None = None,
               chunk_size: int = 8 * 1024 * 1024) -> DriveItem:
        """Upload `path` into `folder_id` in resumable chunks; `progress` gets the bytes
        sent so far after each chunk; `cancelled` is asked before each chunk."""
        from googleapiclient.http import MediaFileUpload

        if chunk_size <= 0 or chunk_size % _CHUNK_GRANULE:
            raise ValueError("chunk_size must be a positive multiple of 256 KiB")
        media = MediaFileUpload(str(path), resumable=True, chunksize=chunk_size)
        try:
            request = self._service.files().create(
                body={"name": path.name, "parents": [folder_id]}, media_body=media,
                fields=ITEM_FIELDS)
            return item_from_json(self._send_chunks(request, media.size(), progress,
                                                    cancelled or (lambda: False)))
        finally:
            media.stream().close()

    def _send_chunks(self, request: Any, size: int, progress: Callable[[int], None] | None,
                     cancelled: Callable[[], bool]) -> dict[str, Any]:
        response = None
        while response is None:
            if cancelled():
                self._abandon(request)
                raise DriveCancelled()
            status, response = self._retrying(
                lambda: request.next_chunk(http=self._http()))
            if progress is not None:
                progress(status.resumable_progress if response is None else size)
        return dict(response)

    def _abandon(self, request: Any) -> None:
        """Tell Drive to drop a started upload session (best effort: it expires anyway)."""
        if request.resumable_uri:
            with contextlib.suppress(Exception):  # cancelling must not fail on the network
                self._http().request(request.resumable_uri, "DELETE")

    # -- requests, retries and errors ---------------------------------------------------------

    def _http(self) -> Any:
        http = getattr(self._local, "http", None)
        if http is None:
            http = self._local.http = authorized_http(self._credentials, self._timeout_s)
        return http

    def _execute(self, request: Any) -> dict[str, Any]:
        return dict(self._retrying(lambda: request.execute(http=self._http())))

    def _retrying(self, send: Callable[[], T]) -> T:
        """`send()`, again after 429/5xx/rate-limit answers, up to `MAX_ATTEMPTS` times;
        every failure leaves as a plain-language error."""
        from googleapiclient.errors import HttpError

        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                return _translating(send)
            except HttpError as error:
                if not _retryable(error) or attempt == MAX_ATTEMPTS:
                    raise _drive_error(error) from None
            self._sleep(backoff_delay(attempt, self._rand))
        raise AssertionError("unreachable")


def _translating(send: Callable[[], T]) -> T:
    """Run `send`, turning token and network failures into the app's errors (HttpError is
    left to the retry loop)."""
    import google.auth.exceptions
    import httplib2

    try:
        return send()
    except google.auth.exceptions.RefreshError as error:
        if "invalid_grant" in str(error):
            raise oauth.GrantRevokedError() from None
        raise oauth.OAuthError("exchange", detail="refresh refused") from None
    except (google.auth.exceptions.TransportError, httplib2.HttpLib2Error, OSError):
        # refused, timed out, no DNS, reset: all the same to the person
        raise DriveError(DriveError.OFFLINE) from None


def _error_reason(error: Any) -> str:
    try:
        body = json.loads(error.content.decode("utf-8"))
        return str(body["error"]["errors"][0].get("reason", ""))
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""


def _retryable(error: Any) -> bool:
    status = error.resp.status
    return status == 429 or status >= 500 or (
        status == 403 and _error_reason(error) in ("rateLimitExceeded",
                                                   "userRateLimitExceeded"))


def _missing_scope(error: Any) -> str:
    """The scope Google asks for, from ``WWW-Authenticate: Bearer ... scope="..."``."""
    challenge = error.resp.get("www-authenticate", "")
    match = re.search(r'scope="([^"]+)"', challenge)
    wanted = match.group(1).split() if match else []
    return _SCOPE_WORDS.get(wanted[0], wanted[0]) if wanted else "wider Google Drive access"


def _drive_error(error: Any) -> DriveError:
    status = int(error.resp.status)
    reason = _error_reason(error)
    if status == 404:
        return DriveError(DriveError.NOT_FOUND, status)
    if status == 403 and reason in ("insufficientPermissions", "insufficientScopes"):
        return DriveError("Google Drive did not grant access to this: it needs "
                          f"{_missing_scope(error)}. Reconnect Google Drive and allow it.",
                          status)
    if status == 403 and reason == "insufficientFilePermissions":
        return DriveError("Your Google account may not change this Drive item.", status)
    if status == 403 and reason == "storageQuotaExceeded":
        return DriveError("The Google Drive is full.", status)
    if status == 401:
        return DriveError("Google Drive did not accept the connection. Reconnect Google "
                          "Drive.", status)
    if _retryable(error):  # still failing after every attempt
        return DriveError(DriveError.BUSY, status)
    return DriveError(f"Google Drive refused the request ({status} {reason or 'error'}).",
                      status)
