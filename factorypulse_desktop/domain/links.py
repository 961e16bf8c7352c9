"""External links on documents: checked before they are stored or opened (T-IN-08, T-IN-09).

A document may be a link instead of stored bytes. :func:`parse_link` accepts only plain
``https://`` addresses and refuses everything a browser could be tricked with: other schemes
(``javascript:``, ``data:``, ``file:``, ``ms-msdt:``, ``http:``), a user name before ``@``
(``https://drive.google.com@evil.example/`` opens evil.example), spaces and invisible
characters, backslashes (browsers read them as ``/``), ports other than 443, numeric
addresses and names without a dot. The result is one canonical URL (lowercase ASCII host,
no port, non-ASCII percent-encoded) that satisfies the ``external_url ~ '^https://'`` check.

Providers are recognised by their exact host name only, so ``drive.google.com.evil.example``
is an ordinary link, never a Drive one.

The app never downloads a link (T-IN-09): it is stored and handed to the system browser after
:func:`describe_for_confirmation` has named the real host.

Internationalised host names are converted with Python's IDNA 2003 codec. Browsers use UTS 46,
which reads "ß" and "ς" differently (IDNA 2003 turns "ß" into "ss"), so hosts containing them
are refused: the host shown must be the host the browser visits.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import SplitResult, parse_qs, quote, urlsplit

from factorypulse_desktop.domain.errors import UserFacingError

__all__ = [
    "LINK_TYPES",
    "MAX_URL_LENGTH",
    "PROVIDERS",
    "ExternalLink",
    "LinkError",
    "describe_for_confirmation",
    "parse_drive_link",
    "parse_link",
]

MAX_URL_LENGTH = 2048
# The values of documents.storage_provider and documents.link_type that links can have.
PROVIDERS = ("google_drive", "dropbox", "onedrive", "url")
LINK_TYPES = ("file", "folder", "shared_link", "embed")

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]{0,31}")
_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_\-]{0,61}[a-z0-9_])?")
# WHATWG URL parsing reads a host whose last label is a number ("127.1", "0x7f.1") as IPv4.
_NUMERIC_LABEL = re.compile(r"[0-9]+|0x[0-9a-f]*")
# Characters IDNA 2003 and the UTS 46 of browsers map differently (ZWJ/ZWNJ are refused
# earlier as invisible).
_DEVIATIONS = frozenset("ßς")
# Printable ASCII that may stay as it is in a stored URL; the rest (non-ASCII, and quotes or
# angle brackets that could break out of markup) is percent-encoded.
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"


class LinkError(UserFacingError, ValueError):
    """A link that cannot be added; `str(error)` says why in one sentence."""


@dataclass(frozen=True)
class ExternalLink:
    """A checked https link. `host` is shown to people; `host_ascii` is what is visited."""

    url: str  # canonical: https://, lowercase ASCII host, no port
    provider: str  # one of PROVIDERS
    external_id: str | None  # the provider's id of the file or folder, when the link has one
    link_type: str  # one of LINK_TYPES
    host: str  # Unicode form ("bücher.example")
    host_ascii: str  # punycode form ("xn--bcher-kva.example"); equal to `host` when ASCII


class _Kind(NamedTuple):
    provider: str
    external_id: str | None
    link_type: str


_PLAIN = _Kind("url", None, "shared_link")


def parse_link(text: str) -> ExternalLink:
    """The link in `text` (surrounding white space ignored); LinkError when it is refused."""
    text = text.strip()
    _check_scheme(text)
    _check_characters(text)
    parts = _split(text)
    host_ascii = _host_ascii(parts.netloc)
    host = _host_unicode(host_ascii)  # also refuses punycode that does not decode
    url = _canonical_url(host_ascii, parts)
    kind = _recognise(host_ascii, parts.path, parts.query)
    return ExternalLink(url=url, provider=kind.provider, external_id=kind.external_id,
                        link_type=kind.link_type, host=host, host_ascii=host_ascii)


def parse_drive_link(text: str) -> ExternalLink:
    """Like :func:`parse_link`, but only a Google Drive or Google Docs link is accepted."""
    link = parse_link(text)
    if link.provider == "google_drive":
        return link
    if link.host_ascii in _GOOGLE_HOSTS:
        raise LinkError("This Google Drive link does not point to a file or folder; open it in "
                        "Drive and use “Copy link” again.")
    raise LinkError(f"This is not a Google Drive link: it opens {_named(link)}. Drive links "
                    "start with https://drive.google.com/ or https://docs.google.com/.")


def describe_for_confirmation(link: ExternalLink) -> str:
    """The sentence shown before a link opens, naming the host the browser will visit."""
    return f"This opens {_named(link)} in your browser."


def _named(link: ExternalLink) -> str:
    # Both forms when they differ, so a look-alike (Cyrillic U+0456 for "i") shows itself.
    if link.host == link.host_ascii:
        return link.host
    return f"{link.host} (in plain letters: {link.host_ascii})"


# --- checks ------------------------------------------------------------------------------


def _check_scheme(text: str) -> None:
    scheme, colon, rest = text.partition(":")
    if colon and scheme.lower() == "https":
        if not rest.startswith("//"):
            raise LinkError("This link is incomplete: it must start with “https://”.")
        return
    if colon and _SCHEME.fullmatch(scheme):
        raise LinkError(f"Only https:// links can be added. This one starts with “{scheme}:”.")
    if not text:
        raise LinkError("Paste a link that starts with “https://”.")
    raise LinkError("Only https:// links can be added. This one does not start with "
                    "“https://”.")


def _check_characters(text: str) -> None:
    if len(text) > MAX_URL_LENGTH:
        raise LinkError(f"This link is too long ({len(text):,} characters; at most "
                        f"{MAX_URL_LENGTH:,}).")
    if any(_is_hidden(char) for char in text):
        raise LinkError("This link contains a space or an invisible character; copy it again "
                        "from the browser's address bar.")
    if "\\" in text:
        raise LinkError("This link contains a backslash (\\), which browsers read as “/”; "
                        "it cannot be added.")


def _is_hidden(char: str) -> bool:
    """White space, control, format (bidi, zero-width) and surrogate characters."""
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zs")


def _split(text: str) -> SplitResult:
    try:
        return urlsplit(text)
    except ValueError:  # an unclosed "[" or look-alike characters in the host
        raise LinkError("This link's address is not a valid internet address.") from None


def _host_ascii(netloc: str) -> str:
    """The lowercase ASCII host the browser would visit; LinkError for anything doubtful."""
    if "@" in netloc:
        real = _without_port(netloc.rpartition("@")[2]).lower() or "no address at all"
        raise LinkError(f"This link hides where it goes: it really opens {real}. Links with "
                        "a name before “@” cannot be added.")
    if netloc.startswith("["):
        raise _numeric_address(netloc)
    host, _, port = netloc.partition(":")
    _check_port(port)
    host = host.lower().removesuffix(".")  # a trailing dot names the same host
    if not host:
        raise LinkError("This link has no address after “https://”.")
    host_ascii = _to_ascii(host)
    _check_host_name(host_ascii)
    return host_ascii


def _without_port(netloc: str) -> str:
    if netloc.startswith("["):
        return netloc.partition("]")[0] + "]"
    return netloc.partition(":")[0]


def _check_port(port: str) -> None:
    # "" is "host:" with nothing after the colon, which means the default port.
    if port and not (port.isascii() and port.isdigit() and int(port) == 443):
        raise LinkError(f"This link uses port {port[:10]}; only links to the normal https "
                        "port can be added.")


def _to_ascii(host: str) -> str:
    if host.isascii():
        return host
    if _DEVIATIONS & set(host):
        raise LinkError("This link's address contains “ß” or “ς”, which browsers can read in "
                        "two ways; it cannot be added.")
    try:
        return host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise LinkError("This link's address is not a valid internet address.") from None


def _check_host_name(host: str) -> None:
    labels = host.split(".")
    if _NUMERIC_LABEL.fullmatch(labels[-1]) or _is_ip_address(host):
        raise _numeric_address(host)
    if len(labels) < 2:
        raise LinkError(f"“{host}” is not a full internet address; links need a name such "
                        "as drive.google.com.")
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise LinkError("This link's address is not a valid internet address.")


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _numeric_address(host: str) -> LinkError:
    return LinkError(f"This link points to a numeric address ({host[:45]}); only named "
                     "addresses such as drive.google.com can be added.")


def _host_unicode(host_ascii: str) -> str:
    try:
        host = host_ascii.encode("ascii").decode("idna")
    except UnicodeError:
        raise LinkError("This link's address is not a valid internet address.") from None
    if any(_is_odd_in_host(char) for char in host):
        raise LinkError("This link's address is not a valid internet address.")
    return host.lower()


def _is_odd_in_host(char: str) -> bool:
    # Hidden characters and separators cannot come out of the codec today; checked so that a
    # codec change cannot slip them in. Unassigned and private-use characters do come out of
    # IDNA 2003 but browsers refuse them, so the link could never open.
    return (_is_hidden(char) or char in "@/\\:%"
            or unicodedata.category(char) in ("Cn", "Co"))


def _canonical_url(host_ascii: str, parts: SplitResult) -> str:
    url = f"https://{host_ascii}{_encoded(parts.path) or '/'}"
    if parts.query:
        url += "?" + _encoded(parts.query)
    if parts.fragment:
        url += "#" + _encoded(parts.fragment)
    if len(url) > MAX_URL_LENGTH:
        raise LinkError(f"This link is too long ({len(url):,} characters once written out; "
                        f"at most {MAX_URL_LENGTH:,}).")
    return url


def _encoded(part: str) -> str:
    return quote(part, safe=_URL_SAFE)


# --- providers ---------------------------------------------------------------------------

_DRIVE_ID = r"(?P<id>[A-Za-z0-9_\-]{10,})"
_DRIVE_FILE = re.compile(rf"/file/d/{_DRIVE_ID}(?:/.*)?")
_DRIVE_FOLDER = re.compile(rf"/drive/(?:u/[0-9]+/)?folders/{_DRIVE_ID}/?")
_DRIVE_OPEN = re.compile(r"/(?:open|uc)/?")
_DRIVE_QUERY_ID = re.compile(_DRIVE_ID)
_DOCS_KINDS = r"(?:document|spreadsheets|presentation|drawings)/(?:u/[0-9]+/)?"
_DOCS_FILE = re.compile(rf"/{_DOCS_KINDS}d/{_DRIVE_ID}(?:/(?P<view>[^/]*).*)?")
# A published copy (/d/e/2PACX-…/pub) carries a publish id, not the file's Drive id.
_DOCS_PUBLISHED = re.compile(rf"/{_DOCS_KINDS}d/e/[A-Za-z0-9_\-]+(?:/.*)?")
_DOCS_EMBED_VIEWS = frozenset({"pub", "pubhtml", "embed", "htmlembed"})

_DROPBOX_ID = r"(?P<id>[A-Za-z0-9_\-]+)"
_DROPBOX_FORMS = (
    (re.compile(rf"/s/{_DROPBOX_ID}(?:/.*)?"), "shared_link"),
    (re.compile(rf"/scl/fi/{_DROPBOX_ID}(?:/.*)?"), "shared_link"),
    (re.compile(rf"/scl/fo/{_DROPBOX_ID}(?:/.*)?"), "folder"),
    (re.compile(rf"/sh/{_DROPBOX_ID}(?:/.*)?"), "folder"),
)

_ONEDRIVE_ID = re.compile(r"[A-Za-z0-9!_.\-]{1,200}")
_ONEDRIVE_EMBED = re.compile(r"/(?:redir|embed)(?:\.aspx)?/?", re.IGNORECASE)
_ONEDRIVE_SHORT = re.compile(r"/(?P<id>[A-Za-z0-9!_.\-/]+)")
# One plain tenant label: contoso.sharepoint.com, contoso-my.sharepoint.com (OneDrive).
_SHAREPOINT = re.compile(r"[a-z0-9]+(?:-my)?\.sharepoint\.com")


def _google_drive(path: str, query: str) -> _Kind | None:
    if match := _DRIVE_FILE.fullmatch(path):
        return _Kind("google_drive", match["id"], "file")
    if match := _DRIVE_FOLDER.fullmatch(path):
        return _Kind("google_drive", match["id"], "folder")
    if _DRIVE_OPEN.fullmatch(path) and (drive_id := _query_id(query, ("id",), _DRIVE_QUERY_ID)):
        return _Kind("google_drive", drive_id, "file")
    return None


def _google_docs(path: str, query: str) -> _Kind | None:
    if _DOCS_PUBLISHED.fullmatch(path):
        return _Kind("google_drive", None, "embed")
    if match := _DOCS_FILE.fullmatch(path):
        embed = match["view"] in _DOCS_EMBED_VIEWS
        return _Kind("google_drive", match["id"], "embed" if embed else "file")
    return None


def _dropbox(path: str, query: str) -> _Kind | None:
    for pattern, link_type in _DROPBOX_FORMS:
        if match := pattern.fullmatch(path):
            return _Kind("dropbox", match["id"], link_type)
    return None


def _dropbox_content(path: str, query: str) -> _Kind:
    # The direct-download host serves files only; its path may repeat the shared link's id.
    shared = _dropbox(path, query)
    return _Kind("dropbox", shared.external_id if shared else None, "file")


def _onedrive_short(path: str, query: str) -> _Kind | None:
    match = _ONEDRIVE_SHORT.fullmatch(path)
    return _Kind("onedrive", match["id"], "shared_link") if match else None


def _onedrive_live(path: str, query: str) -> _Kind | None:
    item_id = _query_id(query, ("resid", "id"), _ONEDRIVE_ID)
    if _ONEDRIVE_EMBED.fullmatch(path):
        return _Kind("onedrive", item_id, "embed")
    return _Kind("onedrive", item_id, "file") if item_id else None


def _query_id(query: str, names: tuple[str, ...], pattern: re.Pattern[str]) -> str | None:
    values = parse_qs(query)
    for name in names:
        for value in values.get(name, []):
            if pattern.fullmatch(value):
                return value
    return None


_BY_HOST: dict[str, Callable[[str, str], _Kind | None]] = {
    "drive.google.com": _google_drive,
    "docs.google.com": _google_docs,
    "www.dropbox.com": _dropbox,
    "dropbox.com": _dropbox,
    "dl.dropboxusercontent.com": _dropbox_content,
    "1drv.ms": _onedrive_short,
    "onedrive.live.com": _onedrive_live,
}
_GOOGLE_HOSTS = frozenset({"drive.google.com", "docs.google.com"})


def _recognise(host_ascii: str, path: str, query: str) -> _Kind:
    """Provider, id and link type; exact host names only, anything else is a plain link."""
    if _SHAREPOINT.fullmatch(host_ascii):
        return _Kind("onedrive", None, "shared_link")
    recognise = _BY_HOST.get(host_ascii)
    return (recognise(path, query) if recognise else None) or _PLAIN
