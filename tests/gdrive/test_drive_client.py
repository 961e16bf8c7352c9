"""The Drive client with the real google-api-python-client and google-auth against a fake
Drive (`fake_drive`) and the fake authorization server (`fake_google`) on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import random
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_drive import FULL_DRIVE_SCOPE, ROOT_ID, FakeDrive
from fake_drive import serve as serve_drive
from fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle
from fake_google import serve as serve_google
from googleapiclient.http import MediaFileUpload

from factorypulse_desktop.integrations.gdrive import drive, oauth
from factorypulse_desktop.integrations.gdrive.drive import (
    DriveCancelled,
    DriveClient,
    DriveError,
)
from factorypulse_desktop.integrations.gdrive.oauth import DRIVE_FILE, OAuthClient

REFRESH_TOKEN = "1//fake-refresh-token-for-drive-tests"
MiB = 1024 * 1024


@pytest.fixture
def google(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # http token endpoint (tests only)
    fake = FakeGoogle()
    fake.refresh_tokens.add(REFRESH_TOKEN)  # as if the person had connected before
    server = serve_google(fake)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def fake(google: FakeGoogle) -> Iterator[FakeDrive]:
    fake = FakeDrive(google.access_tokens)
    server = serve_drive(fake)
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def credentials(google: FakeGoogle) -> object:
    client = OAuthClient(CLIENT_ID, CLIENT_SECRET, (DRIVE_FILE,), token_uri=google.token_uri)
    return oauth.credentials_for(client, REFRESH_TOKEN, (DRIVE_FILE,))


@pytest.fixture
def client(google: FakeGoogle, fake: FakeDrive, sleeps: list[float]) -> DriveClient:
    return DriveClient(credentials(google), root_url=fake.root_url, timeout_s=5,
                       sleep=sleeps.append)


def test_about_names_the_account(client: DriveClient, fake: FakeDrive) -> None:
    assert client.about() == ("06218345127799402171", "ada@example.com")
    assert fake.requests == [("GET", "/drive/v3/about")]


def test_a_folder_of_250_items_comes_in_3_pages_folders_first(
        client: DriveClient, fake: FakeDrive) -> None:
    parent = fake.add_folder("Line 3")
    names = [f"report {i:03d}.pdf" for i in range(200)] + [f"batch {i:02d}" for i in range(50)]
    random.Random(7).shuffle(names)
    for name in names:
        if name.startswith("batch"):
            fake.add_folder(name, parent)
        else:
            fake.add_file(name, b"x", parent)
    fake.nodes[fake.add_file("old.pdf", b"x", parent)].trashed = True
    pages = [client.list_folder(parent)]
    while pages[-1].next_page_token:
        pages.append(client.list_folder(parent, page_token=pages[-1].next_page_token))
    items = [item for page in pages for item in page.items]
    assert [len(p.items) for p in pages] == [100, 100, 50]
    assert [i.is_folder for i in items] == [True] * 50 + [False] * 200
    assert [i.name for i in items] == sorted(names, key=lambda n: (not n.startswith("b"), n))
    assert items[60].size == 1 and items[60].parents == (parent,)
    assert items[60].md5 == hashlib.md5(b"x").hexdigest() and items[60].owner == "Ada Lovelace"
    assert client.list_folder(parent, query_text="report 19").items[0].name == "report 190.pdf"


def test_search_escapes_quotes_and_backslashes(client: DriveClient, fake: FakeDrive) -> None:
    folder = fake.add_folder("Quality")
    fake.add_file("O'Brien's audit.xlsx", b"a", folder)
    fake.add_file("OBrien audit.xlsx", b"b", folder)
    fake.add_file(r"C:\temp\dump.csv", b"c")
    assert [i.name for i in client.search("o'brien").items] == ["O'Brien's audit.xlsx"]
    assert [i.name for i in client.search(r"\temp").items] == [r"C:\temp\dump.csv"]
    found = client.list_folder(folder, query_text="'s audit")
    assert [i.name for i in found.items] == ["O'Brien's audit.xlsx"]
    assert drive.quote("it's a \\ test") == r"'it\'s a \\ test'"


def test_get_refreshes_metadata_with_checksums(client: DriveClient, fake: FakeDrive) -> None:
    content = b"torque,42\n" * 1000
    file_id = fake.add_file("torque.csv", content, mime_type="text/csv")
    item = client.get(file_id)
    assert (item.name, item.size, item.mime_type, item.is_folder) == (
        "torque.csv", len(content), "text/csv", False)
    assert item.md5 == hashlib.md5(content).hexdigest()
    assert item.sha256 == hashlib.sha256(content).hexdigest()
    assert item.modified is not None and item.modified.utcoffset() is not None
    assert item.owner == "Ada Lovelace" and item.parents == (ROOT_ID,)
    assert item.web_url and item.icon_url
    no_name = drive.item_from_json({"id": "1", "owners": [{"emailAddress": "bo@example.com"}]})
    assert no_name.owner == "bo@example.com" and no_name.size is None


def test_breadcrumbs_walk_the_parents_within_a_bound(
        client: DriveClient, fake: FakeDrive) -> None:
    a = fake.add_folder("Plant")
    b = fake.add_folder("Line 1", a)
    leaf = fake.add_file("shift.pdf", b"s", b)
    assert [i.name for i in client.path_of(leaf)] == ["My Drive", "Plant", "Line 1",
                                                      "shift.pdf"]
    deep = "root"
    for level in range(30):
        deep = fake.add_folder(f"level {level}", deep)
    trail = client.path_of(deep)
    assert len(trail) == drive.MAX_DEPTH and trail[-1].name == "level 29"
    fake.nodes[a].parents = [b]  # a loop Drive should never have: still ends
    assert [i.name for i in client.path_of(leaf)] == ["Plant", "Line 1", "shift.pdf"]


def test_resumable_upload_in_8_mib_chunks_arrives_intact(
        client: DriveClient, fake: FakeDrive, tmp_path: Path) -> None:
    folder = fake.add_folder("Uploads")
    source = tmp_path / "scan.bin"
    source.write_bytes(os.urandom(20 * MiB))
    reported: list[int] = []
    item = client.upload(source, folder, progress=reported.append)
    assert reported == [8 * MiB, 16 * MiB, 20 * MiB]
    expected = hashlib.sha256(source.read_bytes()).hexdigest()
    assert hashlib.sha256(fake.nodes[item.id].content).hexdigest() == expected
    assert item.sha256 == expected and item.parents == (folder,) and item.name == "scan.bin"
    assert fake.requests.count(("POST", "/upload/drive/v3/files")) == 1  # at the fake
    assert fake.requests.count(("PUT", "/upload/drive/v3/files")) == 3


def test_an_upload_resumes_after_a_failed_chunk(
        client: DriveClient, fake: FakeDrive, tmp_path: Path, sleeps: list[float]) -> None:
    source = tmp_path / "log.bin"
    source.write_bytes(os.urandom(3 * MiB))
    first = [True]

    def progress(sent: int) -> None:
        if first.pop() if first else False:
            fake.fail_next.append(503)  # the second chunk fails once

    item = client.upload(source, "root", progress=progress, chunk_size=MiB)
    assert fake.nodes[item.id].content == source.read_bytes()
    assert len(sleeps) == 1
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    assert client.upload(empty, "root").size == 0


def test_cancel_after_the_first_chunk(client: DriveClient, fake: FakeDrive,
                                      tmp_path: Path) -> None:
    source = tmp_path / "scan.bin"
    source.write_bytes(os.urandom(20 * MiB))
    reported: list[int] = []
    with pytest.raises(DriveCancelled):
        client.upload(source, "root", progress=reported.append, cancelled=lambda: bool(reported))
    assert reported == [8 * MiB]
    assert fake.requests.count(("PUT", "/upload/drive/v3/files")) == 1
    assert ("DELETE", "/upload/drive/v3/files") in fake.requests
    assert fake.sessions == {} and fake.named("scan.bin") == []


def test_a_401_refreshes_once_and_retries(client: DriveClient, fake: FakeDrive,
                                          google: FakeGoogle) -> None:
    client.about()
    assert len(google.token_calls) == 1  # the first token
    fake.fail_next = [401]
    assert client.about()[1] == "ada@example.com"
    assert len(google.token_calls) == 2 and len(google.access_tokens) == 2
    assert google.token_calls[-1]["grant_type"] == "refresh_token"
    fake.fail_next = [401, 401]  # a token Drive keeps refusing: one refresh, then a message
    with pytest.raises(DriveError, match="did not accept the connection") as refused:
        client.about()
    assert refused.value.status == 401 and len(google.token_calls) == 3


def test_invalid_grant_on_that_refresh_is_a_revoked_grant(
        client: DriveClient, fake: FakeDrive, google: FakeGoogle) -> None:
    client.about()
    google.revoked.add(REFRESH_TOKEN)  # withdrawn at myaccount.google.com
    fake.fail_next = [401]
    with pytest.raises(oauth.GrantRevokedError, match="Reconnect Google Drive"):
        client.about()


def test_429_then_503_back_off_with_bounded_jitter(
        google: FakeGoogle, fake: FakeDrive) -> None:
    sleeps: list[float] = []
    shares = iter([0.0, 1.0])
    client = DriveClient(credentials(google), root_url=fake.root_url, sleep=sleeps.append,
                         rand=lambda: next(shares))
    fake.fail_next = [429, 503]
    assert client.about()[0] == "06218345127799402171"
    assert sleeps == [0.25, 1.0]  # [half, all] of the 0.5 s and 1 s steps


def test_five_503s_give_up_after_five_attempts(client: DriveClient, fake: FakeDrive,
                                               sleeps: list[float]) -> None:
    fake.fail_next = [503] * 5
    with pytest.raises(DriveError) as failed:
        client.about()
    assert failed.value.status == 503 and "busy or unavailable" in str(failed.value)
    assert fake.requests.count(("GET", "/drive/v3/about")) == 5
    assert len(sleeps) == 4 and len(set(sleeps)) == 4  # jittered by the real random
    for attempt, delay in enumerate(sleeps, start=1):
        ceiling = min(drive.BACKOFF_CAP_S, drive.BACKOFF_BASE_S * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert all(drive.backoff_delay(n) <= drive.BACKOFF_CAP_S for n in range(1, 50))


def test_404_and_a_missing_scope_are_plain(client: DriveClient, fake: FakeDrive) -> None:
    with pytest.raises(DriveError) as missing:
        client.get("1NoSuchFile")
    assert str(missing.value) == "This Drive item no longer exists or is not shared with you."
    fake.fail_next = [403]
    with pytest.raises(DriveError) as scope:
        client.search("x")
    assert str(scope.value).startswith("Google Drive did not grant access to this:")
    assert "full access to your Google Drive (drive)" in str(scope.value)
    assert FULL_DRIVE_SCOPE.endswith("/drive")


def test_unreachable_or_silent_drive_cannot_be_reached(google: FakeGoogle) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    refused = DriveClient(credentials(google), root_url=f"http://127.0.0.1:{port}/")
    with pytest.raises(DriveError, match="cannot be reached: check the internet connection"):
        refused.about()
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/"
        started = time.monotonic()
        with pytest.raises(DriveError, match="cannot be reached"):
            DriveClient(credentials(google), root_url=url, timeout_s=0.5).about()
        assert time.monotonic() - started < 3


def test_the_fake_speaks_multipart_and_media_as_the_library_sends_them(
        google: FakeGoogle, fake: FakeDrive, tmp_path: Path) -> None:
    source = tmp_path / "note.txt"
    source.write_bytes(b"line one\r\nline two\n")
    service = drive.build_service(credentials(google), fake.root_url, 5)
    created = service.files().create(
        body={"name": "note.txt"}, fields="id,size",
        media_body=MediaFileUpload(str(source), mimetype="text/plain")).execute()
    assert created["size"] == str(source.stat().st_size)
    assert service.files().get_media(fileId=created["id"]).execute() == source.read_bytes()
    assert ("POST", "/upload/drive/v3/files") in fake.requests
