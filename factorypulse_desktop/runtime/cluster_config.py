"""The server's configuration: ``factorypulse.conf`` (included by postgresql.conf) and pg_hba.conf.

Both are rewritten at every start from :class:`ClusterSettings` and the chosen port and socket
folder, so an edit by hand never outlives a restart.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from factorypulse_desktop.runtime.cluster_state import IS_WINDOWS, TCP_HOST, ClusterState

CONF_FILE = "factorypulse.conf"
# Settings that carry the security model; ClusterSettings.extra may not change them.
PROTECTED_SETTINGS = frozenset(
    {
        "listen_addresses",
        "unix_socket_directories",
        "unix_socket_permissions",
        "unix_socket_group",
        "port",
        "password_encryption",
        "data_directory",
        "config_file",
        "hba_file",
        "ident_file",
    }
)
_SETTING_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")


@dataclass(frozen=True)
class ClusterSettings:
    """postgresql.conf settings, written to ``factorypulse.conf`` at every start."""

    fsync: bool = True  # tests pass False: also synchronous_commit=off, full_page_writes=off
    max_connections: int = 100
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.extra:
            if not _SETTING_NAME_RE.match(name):
                raise ValueError(f"Invalid PostgreSQL setting name {name!r}.")
            if name.lower() in PROTECTED_SETTINGS:
                raise ValueError(f"The setting {name!r} is managed by EmbeddedCluster.")


def _quote_conf(value: str) -> str:
    """A postgresql.conf string literal: backslashes and single quotes doubled."""
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"A postgresql.conf value cannot contain line breaks: {value!r}.")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _quote_list_item(value: str) -> str:
    """An element of a comma-separated GUC list such as unix_socket_directories."""
    return '"' + value.replace('"', '""') + '"'


def include_text() -> str:
    """Appended once to the postgresql.conf initdb wrote, so it reads our CONF_FILE."""
    return (
        f"\n# Factory Pulse Desktop settings (rewritten at every start)\n"
        f"include {_quote_conf(CONF_FILE)}\n"
    )


def hba_text(superuser: str) -> str:
    """pg_hba.conf."""
    header = "# Written by Factory Pulse Desktop; rewritten at every start.\n"
    if IS_WINDOWS:
        return header + f"host all all {TCP_HOST}/32 scram-sha-256\n"
    # Only the OS user owning the data can reach the 0700 socket folder, so the superuser
    # may use trust there; every other role authenticates with SCRAM.
    return header + f"local all {superuser} trust\n" + "local all all scram-sha-256\n"


def conf_text(settings: ClusterSettings, state: ClusterState) -> str:
    """factorypulse.conf: where to listen, then the settings (``extra`` last)."""
    values: dict[str, str] = {
        "port": str(state.port),
        "max_connections": str(settings.max_connections),
        "password_encryption": "scram-sha-256",
    }
    if IS_WINDOWS or state.socket_dir is None:
        values["listen_addresses"] = TCP_HOST
        values["unix_socket_directories"] = ""
    else:
        values["listen_addresses"] = ""
        values["unix_socket_directories"] = _quote_list_item(state.socket_dir)
        values["unix_socket_permissions"] = "0700"
    if not settings.fsync:
        values.update(fsync="off", synchronous_commit="off", full_page_writes="off")
    values.update(settings.extra)
    lines = ["# Written by Factory Pulse Desktop at every start; do not edit."]
    lines += [f"{name} = {_quote_conf(str(value))}" for name, value in values.items()]
    return "\n".join(lines) + "\n"
