"""A fake Google Drive v3 on 127.0.0.1 (importable as `fake_drive` from tests in this folder).

It holds an in-memory tree and answers what google-api-python-client sends: ``about``,
``files.list`` (``q`` with ``in parents``, ``trashed``, ``name contains`` and Drive's
escapes; ``orderBy``; paging; ``fields``), ``files.get`` (and ``alt=media``), multipart and
resumable uploads (308 + ``Range`` until the last chunk; a status query ``bytes */size``;
``DELETE`` cancels a session). Every request needs a bearer token the fake authorization
server issued (share its ``access_tokens`` list). Knobs: ``fail_next`` (statuses to answer
before behaving) and the ``requests`` log.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import secrets
import threading
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from fake_google import start

FOLDER = "application/vnd.google-apps.folder"
ROOT_ID = "0AFakeRootFolderUk9PVA"
USER = {"kind": "drive#user", "displayName": "Ada Lovelace",
        "emailAddress": "ada@example.com", "permissionId": "06218345127799402171"}
FULL_DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"

_LITERAL = r"'((?:[^'\\]|\\.)*)'"  # Drive's string literal: \' and \\ inside
_CLAUSES = [
    ("parent", re.compile(_LITERAL + r"\s+in\s+parents")),
    ("trashed", re.compile(r"trashed\s*=\s*(true|false)")),
    ("name", re.compile(r"name\s+contains\s+" + _LITERAL)),
]
_REASONS = {400: "badRequest", 401: "authError", 403: "insufficientPermissions",
            404: "notFound", 429: "rateLimitExceeded", 500: "backendError",
            503: "backendError"}


class Reply(Exception):
    """An HTTP answer other than JSON 200, raised from anywhere in a handler."""

    def __init__(self, status: int, body: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


def error(status: int, message: str = "", reason: str | None = None) -> Reply:
    """Google's JSON error shape (what googleapiclient's HttpError parses)."""
    reason = reason or _REASONS.get(status, "error")
    headers = {}
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="https://accounts.google.com/"'
    if reason == "insufficientPermissions":
        headers["WWW-Authenticate"] = ('Bearer realm="https://accounts.google.com/", '
                                       f'error="insufficient_scope", scope="{FULL_DRIVE_SCOPE}"')
    body = {"error": {"code": status, "message": message or reason,
                      "errors": [{"domain": "global", "reason": reason,
                                  "message": message or reason}]}}
    return Reply(status, body, headers)


@dataclass
class Node:
    id: str
    name: str
    mime_type: str
    parents: list[str]
    content: bytes = b""
    trashed: bool = False
    modified: str = "2026-11-20T09:30:00.000Z"

    def resource(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "kind": "drive#file", "id": self.id, "name": self.name,
            "mimeType": self.mime_type, "parents": list(self.parents),
            "trashed": self.trashed, "modifiedTime": self.modified, "owners": [USER],
            "webViewLink": f"https://drive.google.com/file/d/{self.id}/view",
            "iconLink": f"https://drive-thirdparty.googleusercontent.com/16/type/"
                        f"{self.mime_type}"}
        if self.mime_type != FOLDER:
            data.update(size=str(len(self.content)),
                        md5Checksum=hashlib.md5(self.content).hexdigest(),
                        sha256Checksum=hashlib.sha256(self.content).hexdigest())
        return data


@dataclass
class Session:
    """A resumable upload in progress."""

    metadata: dict[str, Any]
    mime_type: str
    total: int | None
    fields: str | None
    received: bytearray = field(default_factory=bytearray)


@dataclass
class FakeDrive:
    access_tokens: list[str]  # the fake authorization server's list, shared
    fail_next: list[int] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    nodes: dict[str, Node] = field(default_factory=dict)
    sessions: dict[str, Session] = field(default_factory=dict)
    base: str = ""
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.nodes[ROOT_ID] = Node(ROOT_ID, "My Drive", FOLDER, [])

    @property
    def root_url(self) -> str:
        return self.base + "/"

    # -- building the tree ---------------------------------------------------------------------

    def add_folder(self, name: str, parent: str = "root") -> str:
        return self._add(Node(self._new_id(), name, FOLDER, [self._resolve(parent)]))

    def add_file(self, name: str, content: bytes = b"", parent: str = "root",
                 mime_type: str = "application/octet-stream") -> str:
        return self._add(Node(self._new_id(), name, mime_type, [self._resolve(parent)],
                              content))

    def named(self, name: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.name == name]

    def _new_id(self) -> str:
        return f"1Fake{next(self._ids):05d}" + secrets.token_urlsafe(8)

    def _add(self, node: Node) -> str:
        self.nodes[node.id] = node
        return node.id

    def _resolve(self, file_id: str) -> str:
        return ROOT_ID if file_id == "root" else file_id

    def _node(self, file_id: str) -> Node:
        node = self.nodes.get(self._resolve(file_id))
        if node is None:
            raise error(404, f"File not found: {file_id}.")
        return node

    # -- one request ---------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: Any, body: bytes) -> Reply:
        url = urllib.parse.urlsplit(target)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(url.query).items()}
        with self._lock:
            self.requests.append((method, url.path))
            if self.fail_next:
                return error(self.fail_next.pop(0))
            if headers.get("Authorization", "").removeprefix("Bearer ") \
                    not in self.access_tokens:
                return error(401, "Request had invalid authentication credentials.")
            try:
                return self._route(method, url.path, query, headers, body)
            except Reply as reply:
                return reply

    def _route(self, method: str, path: str, query: dict[str, str], headers: Any,
               body: bytes) -> Reply:
        fields = query.get("fields")
        if (method, path) == ("GET", "/drive/v3/about"):
            return ok({"kind": "drive#about", "user": USER}, fields or "kind")
        if (method, path) == ("GET", "/drive/v3/files"):
            return self._list(query)
        if method == "GET" and path.startswith("/drive/v3/files/"):
            node = self._node(urllib.parse.unquote(path.rsplit("/", 1)[1]))
            if query.get("alt") == "media":
                return Reply(200, node.content, {"Content-Type": node.mime_type})
            return ok(node.resource(), fields or "kind,id,name,mimeType")
        if path == "/upload/drive/v3/files":
            return self._upload(method, query, headers, body)
        raise error(404, f"No {method} {path} on the fake.")

    # -- files.list ----------------------------------------------------------------------------

    def _list(self, query: dict[str, str]) -> Reply:
        found = [n for n in self.nodes.values()
                 if n.id != ROOT_ID and _matches(n, parse_q(query.get("q", "")), self)]
        found.sort(key=lambda n: _order_key(n, query.get("orderBy", "")))
        size = min(int(query.get("pageSize", "100")), 1000)
        start = _offset(query.get("pageToken"))
        page: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False,
                                "files": [n.resource() for n in found[start:start + size]]}
        if start + size < len(found):
            page["nextPageToken"] = f"~!!~offset-{start + size}"
        default = "kind,nextPageToken,incompleteSearch,files(kind,id,name,mimeType)"
        return ok(page, query.get("fields") or default)

    # -- uploads -------------------------------------------------------------------------------

    def _upload(self, method: str, query: dict[str, str], headers: Any,
                body: bytes) -> Reply:
        kind = query.get("uploadType")
        if method == "POST" and kind == "multipart":
            metadata, mime, content = _multipart(headers.get("Content-Type", ""), body)
            return ok(self._create(metadata, mime, content).resource(),
                      query.get("fields") or "kind,id,name,mimeType")
        if method == "POST" and kind == "resumable":
            return self._start_session(query, headers, body)
        session_id = query.get("upload_id", "")
        if kind == "resumable" and session_id in self.sessions:
            if method == "DELETE":
                del self.sessions[session_id]
                return Reply(499, b"")  # what Drive answers a cancelled session
            if method == "PUT":
                return self._chunk(session_id, headers, body)
        raise error(400, f"Bad upload request ({method} uploadType={kind}).")

    def _start_session(self, query: dict[str, str], headers: Any, body: bytes) -> Reply:
        session_id = secrets.token_urlsafe(16)
        total = headers.get("X-Upload-Content-Length")
        self.sessions[session_id] = Session(
            json.loads(body or b"{}"), headers.get("X-Upload-Content-Type",
                                                   "application/octet-stream"),
            int(total) if total is not None else None, query.get("fields"))
        location = (f"{self.base}/upload/drive/v3/files?uploadType=resumable&"
                    f"upload_id={session_id}")
        return Reply(200, b"", {"Location": location})

    def _chunk(self, session_id: str, headers: Any, body: bytes) -> Reply:
        session = self.sessions[session_id]
        match = re.fullmatch(r"bytes (\*|(\d+)-(\d+))/(\*|\d+)",
                             headers.get("Content-Range", "bytes */*"))
        if match is None:
            raise error(400, "Bad Content-Range.")
        if match.group(1) != "*":
            if int(match.group(2)) != len(session.received):
                raise error(400, "Chunk does not continue the upload.")
            session.received += body
        if match.group(4) != "*":
            session.total = int(match.group(4))
        if session.total is not None and len(session.received) >= session.total:
            del self.sessions[session_id]
            node = self._create(session.metadata, session.mime_type, bytes(session.received))
            return ok(node.resource(), session.fields or "kind,id,name,mimeType")
        extra = {"Range": f"bytes=0-{len(session.received) - 1}"} if session.received else {}
        return Reply(308, b"", extra)

    def _create(self, metadata: dict[str, Any], mime: str, content: bytes) -> Node:
        parents = [self._node(p).id for p in metadata.get("parents", ["root"])]
        node = Node(self._new_id(), metadata.get("name", "Untitled"),
                    metadata.get("mimeType", mime), parents, content,
                    modified=datetime.now(UTC).isoformat(timespec="milliseconds")
                    .replace("+00:00", "Z"))
        self._add(node)
        return node


# -- query, order, paging, fields -------------------------------------------------------------

def parse_q(q: str) -> list[tuple[str, str]]:
    """Clauses joined by ``and``; anything else is Drive's 400 "Invalid Value"."""
    clauses: list[tuple[str, str]] = []
    rest = q.strip()
    while rest:
        for kind, pattern in _CLAUSES:
            match = pattern.match(rest)
            if match:
                clauses.append((kind, re.sub(r"\\(.)", r"\1", match.group(1))))
                rest = rest[match.end():].strip()
                break
        else:
            raise error(400, "Invalid Value", "invalid")
        if rest:
            if not rest.startswith("and "):
                raise error(400, "Invalid Value", "invalid")
            rest = rest[4:].strip()
    return clauses


def _matches(node: Node, clauses: list[tuple[str, str]], drive: FakeDrive) -> bool:
    for kind, value in clauses:
        if kind == "parent" and drive._resolve(value) not in node.parents:
            return False
        if kind == "trashed" and node.trashed != (value == "true"):
            return False
        if kind == "name" and value.casefold() not in node.name.casefold():
            return False
    return True


def _order_key(node: Node, order_by: str) -> tuple[Any, ...]:
    keys: list[Any] = []
    for part in filter(None, (p.strip() for p in order_by.split(","))):
        if part == "folder":
            keys.append(node.mime_type != FOLDER)
        elif part == "name":
            keys.append(node.name.casefold())
        else:
            raise error(400, f"Invalid orderBy: {part}", "invalid")
    return tuple(keys)


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    if not token.startswith("~!!~offset-"):
        raise error(400, "Invalid pageToken", "invalid")
    return int(token.removeprefix("~!!~offset-"))


def parse_fields(text: str) -> dict[str, Any]:
    """``a,b(c,d)`` → ``{"a": {}, "b": {"c": {}, "d": {}}}``."""
    tree: dict[str, Any] = {}
    stack: list[dict[str, Any]] = []
    current, token = tree, ""
    for char in text + ",":
        if char == "(":
            stack.append(current)
            current = current.setdefault(token.strip(), {})
            token = ""
        elif char in "),":
            if token.strip():
                current[token.strip()] = {}
            token = ""
            if char == ")":
                current = stack.pop()
        else:
            token += char
    return tree


def project(value: Any, tree: dict[str, Any]) -> Any:
    """Keep only the fields asked for (an empty tree or ``*`` keeps everything)."""
    if not tree or "*" in tree:
        return value
    if isinstance(value, list):
        return [project(v, tree) for v in value]
    if isinstance(value, dict):
        return {k: project(value[k], sub) for k, sub in tree.items() if k in value}
    return value


def ok(body: dict[str, Any], fields: str) -> Reply:
    return Reply(200, project(body, parse_fields(fields)))


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, Any], str, bytes]:
    """The metadata part and the media part of a ``multipart/related`` body."""
    boundary = re.search(r'boundary="?([^";]+)"?', content_type)
    if boundary is None:
        raise error(400, "Missing boundary.")
    parts = []
    for raw in body.split(b"--" + boundary.group(1).encode())[1:-1]:
        head, _sep, content = raw.lstrip(b"\r\n").partition(b"\n\n")
        if not _sep:
            head, _sep, content = raw.lstrip(b"\r\n").partition(b"\r\n\r\n")
        mime = re.search(rb"content-type:\s*([^\r\n;]+)", head, re.IGNORECASE)
        parts.append((mime.group(1).decode() if mime else "",
                      content.removesuffix(b"\n").removesuffix(b"\r")))
    if len(parts) != 2:
        raise error(400, "A multipart upload has a metadata part and a media part.")
    return json.loads(parts[0][1]), parts[1][0], parts[1][1]


def serve(fake: FakeDrive) -> ThreadingHTTPServer:
    """Start the fake on 127.0.0.1 (an OS-chosen port) in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            # Read the whole body first, even when refusing, as Google does.
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            reply = fake.handle(self.command, self.path, self.headers, body)
            data = reply.body if isinstance(reply.body, bytes) else \
                json.dumps(reply.body).encode() if reply.body is not None else b""
            self.send_response(reply.status)
            headers = {"Content-Type": "application/json; charset=UTF-8", **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, *_args: Any) -> None:
            pass

    server, fake.base = start(Handler)
    return server
