"""Connection profiles: JSON round trip, atomic write, validation, never a password."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime import profiles as profiles_module
from factorypulse_desktop.runtime.profiles import (
    CONFIG_DIR_ENV_VAR,
    DEMO_PROFILE,
    PROFILES_FILE,
    SCHEMA_VERSION,
    ConnectionProfile,
    ProfileStore,
    config_dir,
)

SERVER = ConnectionProfile(
    name="Plant server",
    kind="server",
    host="db.example.com",
    port=6432,
    database="fp_prod",
    sslmode="verify-full",
    last_username="j.doe",
    remember_password=True,
)


def test_round_trip_keeps_every_field_and_the_order(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    assert store.load() == []
    assert store.last_used is None
    store.save([SERVER, DEMO_PROFILE])
    store.last_used = "Demo"

    again = ProfileStore(tmp_path)
    assert again.load() == [SERVER, DEMO_PROFILE]
    assert again.last_used == "Demo"
    assert again.get("plant server") == SERVER  # names match case-insensitively
    assert again.get("nothing") is None

    data = json.loads((tmp_path / PROFILES_FILE).read_text(encoding="utf-8"))
    assert data["schema_version"] == SCHEMA_VERSION
    assert data["last_used"] == "Demo"
    assert [p["name"] for p in data["profiles"]] == ["Plant server", "Demo"]


def test_demo_profile() -> None:
    assert DEMO_PROFILE.kind == "embedded"
    assert DEMO_PROFILE.embedded_profile == "demo"
    assert DEMO_PROFILE.last_username == "acme.admin"


def test_upsert_replaces_renames_and_remove_clears_last_used(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.upsert(DEMO_PROFILE)
    store.upsert(SERVER)
    store.last_used = SERVER.name
    changed = ConnectionProfile(name="Plant server", kind="server", host="10.0.0.5")
    store.upsert(changed)
    assert store.load() == [DEMO_PROFILE, changed]

    renamed = ConnectionProfile(name="Plant", kind="server", host="10.0.0.5")
    store.upsert(renamed, replacing="Plant server")
    assert store.load() == [DEMO_PROFILE, renamed]
    assert store.last_used == "Plant"  # the mark follows the rename

    store.remove("Plant")
    assert store.load() == [DEMO_PROFILE]
    assert store.last_used is None
    store.remove("not there")  # no error
    store.last_used = None
    assert store.last_used is None


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.upsert(SERVER)
    store.upsert(DEMO_PROFILE)
    other = ConnectionProfile(name="PLANT SERVER", kind="embedded")
    with pytest.raises(UserFacingError, match='already a connection named "PLANT SERVER"'):
        store.upsert(other, replacing="Demo")  # renaming onto another profile's name
    with pytest.raises(UserFacingError, match="already a connection named"):
        store.save([SERVER, other])
    assert store.load() == [SERVER, DEMO_PROFILE]  # nothing changed


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "A connection needs a name."),
        ({"host": ""}, "Enter the name or address of the database server."),
        ({"host": "   "}, "Enter the name or address of the database server."),
        ({"host": "db example"}, "is not a valid server name"),
        ({"port": 0}, "The port must be a number from 1 to 65535, not 0."),
        ({"port": 70000}, "The port must be a number from 1 to 65535, not 70000."),
        ({"port": "5432"}, "The port must be a number from 1 to 65535"),
        ({"port": True}, "The port must be a number from 1 to 65535"),
        ({"sslmode": "allow-all"}, '"allow-all" is not an encryption \\(TLS\\) mode. Choose one'),
        ({"database": ""}, "Enter the name of the database on the server."),
        ({"kind": "cloud"}, '"cloud" is not a kind of connection'),
    ],
)
def test_validation_messages(changes: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"name": "X", "kind": "server", "host": "db", **changes}
    with pytest.raises(UserFacingError, match=message):
        ConnectionProfile(**values)  # type: ignore[arg-type]


def test_embedded_profiles_need_no_host_but_a_valid_folder_name() -> None:
    profile = ConnectionProfile(name=" Mine ", kind="embedded", host="")
    assert profile.name == "Mine"  # text is stripped
    with pytest.raises(UserFacingError, match="not a valid name for a database on this"):
        ConnectionProfile(name="Bad", kind="embedded", embedded_profile="../escape")


def test_no_password_is_ever_written(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.save([SERVER, DEMO_PROFILE])
    store.last_used = SERVER.name
    text = (tmp_path / PROFILES_FILE).read_text(encoding="utf-8")
    assert 'password"' not in text.replace('"remember_password"', "")
    for entry in json.loads(text)["profiles"]:
        assert set(entry) == {
            "name",
            "kind",
            "embedded_profile",
            "host",
            "port",
            "database",
            "sslmode",
            "last_username",
            "remember_password",
        }
    # A password someone typed into the file by hand is neither loaded nor written back.
    data = json.loads(text)
    data["profiles"][0]["password"] = "hunter2-secret"
    (tmp_path / PROFILES_FILE).write_text(json.dumps(data), encoding="utf-8")
    loaded = store.load()
    assert loaded == [SERVER, DEMO_PROFILE]
    store.save(loaded)
    assert "hunter2-secret" not in (tmp_path / PROFILES_FILE).read_text(encoding="utf-8")


def test_atomic_write_keeps_the_old_file_when_writing_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ProfileStore(tmp_path)
    store.save([SERVER])
    before = (tmp_path / PROFILES_FILE).read_bytes()

    def broken_replace(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(profiles_module.os, "replace", broken_replace)
    with pytest.raises(OSError):
        store.save([SERVER, DEMO_PROFILE])
    monkeypatch.undo()

    assert (tmp_path / PROFILES_FILE).read_bytes() == before
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    assert store.load() == [SERVER]


def test_the_file_is_replaced_not_rewritten_in_place(tmp_path: Path) -> None:
    store = ProfileStore(tmp_path)
    store.save([SERVER])
    inode = (tmp_path / PROFILES_FILE).stat().st_ino
    store.save([SERVER, DEMO_PROFILE])
    assert (tmp_path / PROFILES_FILE).stat().st_ino != inode


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_folder_and_file_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "config"
    ProfileStore(folder).save([SERVER])
    assert (folder.stat().st_mode & 0o777) == 0o700
    assert ((folder / PROFILES_FILE).stat().st_mode & 0o077) == 0


def test_damaged_file_is_set_aside_and_bad_entries_skipped(tmp_path: Path) -> None:
    path = tmp_path / PROFILES_FILE
    path.write_text("{not json", encoding="utf-8")
    store = ProfileStore(tmp_path)
    assert store.load() == []
    assert [p.name for p in tmp_path.glob(f"{PROFILES_FILE}.damaged-*")]
    payload = {
        "schema_version": 1,
        "profiles": [
            {"name": "Broken", "kind": "server", "host": "", "port": 5432},
            {"name": "Demo", "kind": "embedded", "embedded_profile": "demo", "future": 1},
            "garbage",
        ],
    }
    path.write_text(json.dumps(payload), encoding="utf-8")
    assert store.load() == [
        ConnectionProfile(name="Demo", kind="embedded", embedded_profile="demo")
    ]


def test_a_newer_format_is_read_but_not_overwritten(tmp_path: Path) -> None:
    payload = {
        "schema_version": SCHEMA_VERSION + 1,
        "profiles": [{"name": "A", "kind": "embedded"}],
    }
    (tmp_path / PROFILES_FILE).write_text(json.dumps(payload), encoding="utf-8")
    store = ProfileStore(tmp_path)
    assert [p.name for p in store.load()] == ["A"]
    with pytest.raises(UserFacingError, match="newer Factory Pulse"):
        store.upsert(DEMO_PROFILE)


def test_config_dir_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CONFIG_DIR_ENV_VAR, str(tmp_path / "cfg"))
    assert config_dir() == tmp_path / "cfg"
    store = ProfileStore()
    store.upsert(DEMO_PROFILE)
    assert (tmp_path / "cfg" / PROFILES_FILE).is_file()
    monkeypatch.delenv(CONFIG_DIR_ENV_VAR)
    assert config_dir().name == "factorypulse-desktop"
