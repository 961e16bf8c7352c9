"""External links: refused before they could open (T-IN-08), never fetched (T-IN-09)."""

from __future__ import annotations

import ast
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import factorypulse_desktop
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.links import (
    ExternalLink,
    LinkError,
    describe_for_confirmation,
    parse_drive_link,
    parse_link,
)

DRIVE_ID = "1AbCdEfGhIj_Kl-Mn0"


@pytest.mark.parametrize(("text", "says"), [
    ("javascript:alert(1)", "“javascript:”"),
    ("  JaVaScRiPt:alert(document.domain)", "“JaVaScRiPt:”"),
    ("java\tscript:alert(1)", "https://"),
    ("data:text/html,<script>alert(1)</script>", "“data:”"),
    ("data:text/html;base64,PHNjcmlwdD4=", "“data:”"),
    ("file:///C:/Windows/System32/calc.exe", "“file:”"),
    ("ms-msdt:/id PCWDiagnostic /skip force", "“ms-msdt:”"),
    ("search-ms:query=invoice", "“search-ms:”"),
    ("http://drive.google.com/file/d/x", "“http:”"),
    ("vbscript:msgbox(1)", "“vbscript:”"),
    ("//evil.example/x", "https://"),
    ("drive.google.com/file/d/" + DRIVE_ID, "https://"),
    ("", "https://"),
    ("https:evil.example", "https://"),
    ("https:///evil.example", "no address"),
    ("https://", "no address"),
    ("https://drive.google.com@evil.example/", "evil.example"),
    ("https://drive.google.com:pw@evil.example:443/file", "evil.example"),
    ("https://@evil.example/", "evil.example"),
    ("https://evil.example\\@drive.google.com/", "backslash"),
    ("https://drive.google.com\\.evil.example/", "backslash"),
    ("https://drive.google.com/file/d/x y", "space"),
    ("https://drive.google.com/\x00", "invisible"),
    ("https://drive.google.com/\u202efdp.exe", "invisible"),
    ("https://drive.goo\u200bgle.com/", "invisible"),
    ("https://drive.google.com\u3000/", "space"),
    ("https://drive.google.com:8080/", "port 8080"),
    ("https://drive.google.com:0443x/", "port"),
    ("https://127.0.0.1/", "numeric"),
    ("https://0x7f.1/", "numeric"),
    ("https://2130706433/", "numeric"),
    ("https://10.0.0.1:443/", "numeric"),
    ("https://[::1]/", "numeric"),
    ("https://[fe80::1%25eth0]/", "numeric"),
    ("https://[::1/", "not a valid"),
    ("https://localhost/", "not a full internet address"),
    ("https://intranet/docs", "not a full internet address"),
    ("https://drive%2egoogle%2ecom/", "not a full internet address"),
    ("https://drive%2egoogle.com/", "not a valid"),
    ("https://-evil.example/", "not a valid"),
    ("https://a..example/", "not a valid"),
    ("https://xn--zz.example/", "not a valid"),
    ("https://faß.example/", "“ß”"),
    ("https://example.com/" + "a" * 2100, "too long"),
])
def test_T_IN_08_hostile_links_are_refused(text: str, says: str) -> None:
    with pytest.raises(LinkError) as refused:
        parse_link(text)
    assert says in str(refused.value)
    assert isinstance(refused.value, UserFacingError)


def test_T_IN_08_userinfo_names_the_real_host() -> None:
    with pytest.raises(LinkError, match=r"really opens evil\.example\."):
        parse_link("https://drive.google.com@evil.example/file/d/" + DRIVE_ID)


@pytest.mark.parametrize("text", [
    "https://drive.google.com.evil.example/file/d/" + DRIVE_ID + "/view",
    "https://evil-drive.google.com.example/file/d/" + DRIVE_ID,
    "https://drive.google.co/file/d/" + DRIVE_ID,
    "https://drive-google.com/file/d/" + DRIVE_ID,
    "https://xdrive.google.com/file/d/" + DRIVE_ID,
    "https://dr\u0456ve.google.com/file/d/" + DRIVE_ID,  # Cyrillic i (U+0456)
    "https://evil.example/drive.google.com/file/d/" + DRIVE_ID,
    "https://evil.example/?u=https://drive.google.com/file/d/" + DRIVE_ID,
    "https://evil.example#@drive.google.com/file/d/" + DRIVE_ID,
])
def test_T_IN_08_look_alike_hosts_are_not_drive(text: str) -> None:
    link = parse_link(text)
    assert (link.provider, link.external_id) == ("url", None)
    with pytest.raises(LinkError, match="not a Google Drive link"):
        parse_drive_link(text)


def test_T_IN_08_a_drive_host_without_a_file_is_not_a_drive_file() -> None:
    with pytest.raises(LinkError, match="does not point to a file or folder"):
        parse_drive_link("https://drive.google.com/drive/my-drive")


def test_T_IN_08_homographs_show_both_spellings() -> None:
    link = parse_link("https://dr\u0456ve.google.com/file/d/" + DRIVE_ID)
    assert link.host_ascii == "xn--drve-m9d.google.com"
    assert link.url.startswith("https://xn--drve-m9d.google.com/")
    assert describe_for_confirmation(link) == (
        "This opens dr\u0456ve.google.com (in plain letters: xn--drve-m9d.google.com) "
        "in your browser."
    )


@pytest.mark.parametrize(("text", "provider", "external_id", "link_type"), [
    (f"https://drive.google.com/file/d/{DRIVE_ID}/view?usp=sharing", "google_drive", DRIVE_ID,
     "file"),
    (f"https://drive.google.com/file/d/{DRIVE_ID}", "google_drive", DRIVE_ID, "file"),
    (f"https://drive.google.com/drive/folders/{DRIVE_ID}", "google_drive", DRIVE_ID, "folder"),
    (f"https://drive.google.com/drive/u/0/folders/{DRIVE_ID}?usp=sharing", "google_drive",
     DRIVE_ID, "folder"),
    (f"https://drive.google.com/open?id={DRIVE_ID}", "google_drive", DRIVE_ID, "file"),
    (f"https://docs.google.com/document/d/{DRIVE_ID}/edit", "google_drive", DRIVE_ID, "file"),
    (f"https://docs.google.com/spreadsheets/d/{DRIVE_ID}/edit#gid=0", "google_drive", DRIVE_ID,
     "file"),
    (f"https://docs.google.com/presentation/d/{DRIVE_ID}/edit", "google_drive", DRIVE_ID,
     "file"),
    (f"https://docs.google.com/drawings/d/{DRIVE_ID}/edit", "google_drive", DRIVE_ID, "file"),
    (f"https://docs.google.com/presentation/d/{DRIVE_ID}/embed?start=false", "google_drive",
     DRIVE_ID, "embed"),
    (f"https://docs.google.com/spreadsheets/d/{DRIVE_ID}/pubhtml", "google_drive", DRIVE_ID,
     "embed"),
    ("https://docs.google.com/document/d/e/2PACX-1vTabcdefghij/pub", "google_drive", None,
     "embed"),
    ("https://www.dropbox.com/s/a1b2c3d4e5/Drawing%20A.pdf?dl=0", "dropbox", "a1b2c3d4e5",
     "shared_link"),
    ("https://dropbox.com/scl/fi/x9y8z7w6/Quote.pdf?rlkey=abc&dl=0", "dropbox", "x9y8z7w6",
     "shared_link"),
    ("https://www.dropbox.com/scl/fo/f0ld3r1d/h?rlkey=abc", "dropbox", "f0ld3r1d", "folder"),
    ("https://www.dropbox.com/sh/sh4r3d1d/AAAbbbCCC?dl=0", "dropbox", "sh4r3d1d", "folder"),
    ("https://dl.dropboxusercontent.com/s/a1b2c3d4e5/Drawing.pdf", "dropbox", "a1b2c3d4e5",
     "file"),
    ("https://1drv.ms/w/s!AkXyZ123abc?e=Qw1", "onedrive", "w/s!AkXyZ123abc", "shared_link"),
    ("https://onedrive.live.com/?cid=ABC&id=ABC123%21456", "onedrive", "ABC123!456", "file"),
    ("https://onedrive.live.com/redir?resid=ABC123%21456&authkey=x", "onedrive", "ABC123!456",
     "embed"),
    ("https://onedrive.live.com/embed?resid=ABC123%21456", "onedrive", "ABC123!456", "embed"),
    ("https://contoso.sharepoint.com/:w:/s/Quality/EbQx?e=abc", "onedrive", None,
     "shared_link"),
    ("https://contoso-my.sharepoint.com/:x:/g/personal/ana/EbQx", "onedrive", None,
     "shared_link"),
    ("https://evil.contoso.sharepoint.com/x", "url", None, "shared_link"),
    ("https://contoso.sharepoint.com.evil.example/x", "url", None, "shared_link"),
    ("https://supplier.example/datasheets/m8.pdf", "url", None, "shared_link"),
    ("https://www.dropbox.com/home", "url", None, "shared_link"),
    ("https://drive.google.com/file/d/short/view", "url", None, "shared_link"),
])
def test_T_IN_08_known_providers_are_recognised(text: str, provider: str,
                                               external_id: str | None, link_type: str) -> None:
    link = parse_link(text)
    assert (link.provider, link.external_id, link.link_type) == (provider, external_id,
                                                                  link_type)
    assert link.url == text  # these are already canonical


def test_T_IN_08_links_are_stored_in_one_canonical_form() -> None:
    link = parse_link(f"  HTTPS://Drive.Google.COM.:443/file/d/{DRIVE_ID}/view  ")
    assert link == ExternalLink(
        url=f"https://drive.google.com/file/d/{DRIVE_ID}/view", provider="google_drive",
        external_id=DRIVE_ID, link_type="file", host="drive.google.com",
        host_ascii="drive.google.com",
    )
    assert parse_drive_link(link.url) == link
    assert describe_for_confirmation(link) == "This opens drive.google.com in your browser."


def test_T_IN_08_unicode_is_percent_encoded_and_host_converted() -> None:
    link = parse_link('https://Bücher.example/Zeichnungä?q="<x>"')
    assert link.url == "https://xn--bcher-kva.example/Zeichnung%C3%A4?q=%22%3Cx%3E%22"
    assert (link.host, link.host_ascii) == ("bücher.example", "xn--bcher-kva.example")
    assert "bücher.example" in describe_for_confirmation(link)
    assert "xn--bcher-kva.example" in describe_for_confirmation(link)


# --- T-IN-09 -------------------------------------------------------------------------------

NETWORK_MODULES = ("urllib.request", "http.client", "requests", "httpx", "aiohttp", "urllib3",
                   "socket")
# Packages allowed to open network connections. Keep this list short:
# - integrations.gdrive talks to Google's API hosts only (arrives with the Drive work);
# - runtime picks free local ports for the embedded PostgreSQL (runtime/cluster_state.py).
NETWORK_ALLOWED = ("factorypulse_desktop.integrations.gdrive", "factorypulse_desktop.runtime")


def _imported_modules(tree: ast.AST) -> set[str]:
    """Every module an import names, "from a import b" counting as a and a.b.

    Also `importlib.import_module("x")` and `__import__("x")` with a literal name.
    """
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Call) and (name := _dynamic_import(node)):
            names.add(name)
    return names


def _dynamic_import(call: ast.Call) -> str | None:
    function = call.func
    called = (function.id if isinstance(function, ast.Name)
              else function.attr if isinstance(function, ast.Attribute) else "")
    if called not in ("import_module", "__import__") or not call.args:
        return None
    first = call.args[0]
    return first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) \
        else None


def _is_network(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in NETWORK_MODULES)


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _allowed(module: str) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in NETWORK_ALLOWED)


def test_T_IN_09_no_generic_url_fetcher_exists() -> None:
    root = Path(factorypulse_desktop.__file__).parent
    sources = sorted(root.rglob("*.py"))
    assert len(sources) > 20  # the walk really sees the package
    offenders: dict[str, list[str]] = {}
    for path in sources:
        module = _module_name(path, root)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        network = sorted(name for name in _imported_modules(tree) if _is_network(name))
        if network and not _allowed(module):
            offenders[module] = network
    assert offenders == {}


def test_T_IN_09_the_import_walk_sees_what_it_must() -> None:
    tree = ast.parse("import socket\nfrom urllib import request\nfrom http.client import "
                     "HTTPSConnection\nimport urllib.parse\nfrom . import requests\n"
                     "def f():\n    import httpx.sync\n"
                     "importlib.import_module('urllib3')\n__import__('aiohttp')\n")
    assert sorted(filter(_is_network, _imported_modules(tree))) == [
        "aiohttp", "http.client", "http.client.HTTPSConnection", "httpx.sync", "socket",
        "urllib.request", "urllib3",
    ]
    assert _allowed("factorypulse_desktop.runtime.cluster_state")
    assert not _allowed("factorypulse_desktop.runtimes")


# --- any text ---------------------------------------------------------------------------------

_LINK_PIECES = ["https://", "HTTPS://", "http://", "javascript:", "@", ":", ":443", "/", "\\",
                ".", "..", "drive.google.com", "evil.example", "xn--", "[::1]", "%2e", "?id=",
                "#", " ", "\t", "\x00", "\u202e", "\u200b", "ß", "é", "0x7f", "1"]
_HOST_PIECES = ["drive", "google", "com", "example", ".", ".", "-", "_", "@", ":", ":443",
                "xn--bcher-kva", "bücher", "dr\u0456ve", "\uff11", "\u3002", "%2e", "[", "]",
                "0x7f", "1"]


def _joined(pieces: list[str], max_size: int) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(pieces), st.characters()), max_size=max_size
                    ).map("".join)


# Plain text, pieces of hostile links, and "https://" + host-like pieces + path-like pieces
# (so that many examples get past the scheme check).
_LINKS = st.one_of(
    st.text(),
    _joined(_LINK_PIECES, 10),
    st.tuples(st.sampled_from(["https://", "HTTPS://", " https://"]),
              st.lists(st.sampled_from(_HOST_PIECES), min_size=1, max_size=8).map("".join),
              st.sampled_from([".com", ".example", ".xn--p1ai", ""]),
              _joined(_LINK_PIECES, 6)).map("".join),
)


@settings(deadline=None)
@given(_LINKS)
def test_T_IN_08_any_text_is_refused_or_a_clean_https_link(text: str) -> None:
    try:
        link = parse_link(text)
    except LinkError:
        return
    assert link.url.startswith("https://")
    assert link.url.startswith(f"https://{link.host_ascii}/")
    for host in (link.host, link.host_ascii):
        assert host and "@" not in host
        assert not any(char.isspace() or unicodedata.category(char) in ("Cc", "Cf")
                       for char in host)
    assert link.host_ascii.isascii()
    assert parse_link(link.url) == link  # the canonical form is stable
