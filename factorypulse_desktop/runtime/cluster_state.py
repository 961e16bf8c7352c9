"""Where the server listens, kept in ``cluster.json`` so every process finds the same server.

Linux/macOS: the default port on a unix socket in a private 0700 folder (``run/``, or a short
folder in the temp folder when ``run/``'s path is too long for a socket). Windows: a free TCP
port on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from factorypulse_desktop.runtime.errors import EmbeddedError
from factorypulse_desktop.runtime.run_as import RunAs, chown_to, is_private_dir, make_private_dir

IS_WINDOWS = sys.platform == "win32"
UNIX_PORT = 5432  # the socket folder is private, so every cluster can use the default port
TCP_HOST = "127.0.0.1"
STATE_FILE = "cluster.json"
# sun_path holds 108 bytes on Linux and 104 on macOS, including the final NUL.
SOCKET_PATH_MAX = 103 if sys.platform == "darwin" else 107


@dataclass(frozen=True)
class ClusterState:
    """What another process needs to reach the same server (stored in cluster.json)."""

    port: int
    socket_dir: str | None  # None on Windows (TCP)


def load_state(root: Path) -> ClusterState:
    """The state saved under ``root``, or what initialization will choose if there is none."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        raw = json.loads((root / STATE_FILE).read_text())
        return ClusterState(port=int(raw["port"]), socket_dir=raw.get("socket_dir"))
    # Not initialized yet: what initialization will choose.
    if IS_WINDOWS:
        return ClusterState(port=0, socket_dir=None)
    return ClusterState(port=UNIX_PORT, socket_dir=str(root / "run"))


def save_state(root: Path, state: ClusterState, run_as: RunAs | None) -> None:
    path = root / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"port": state.port, "socket_dir": state.socket_dir}))
    chown_to(run_as, tmp)
    os.replace(tmp, path)


def choose_state(root: Path, run_as: RunAs | None) -> ClusterState:
    """Port and socket folder for the next start; new ones if the old ones are unusable."""
    current = load_state(root)
    if IS_WINDOWS:
        port = current.port
        if port == 0 or not _tcp_port_free(port):
            port = _free_tcp_port()
        return ClusterState(port=port, socket_dir=None)
    socket_dir = _choose_socket_dir(root, current.socket_dir, run_as)
    return ClusterState(port=UNIX_PORT, socket_dir=str(socket_dir))


def _choose_socket_dir(root: Path, current: str | None, run_as: RunAs | None) -> Path:
    run_dir = root / "run"
    if _usable_socket_dir(run_dir):
        make_private_dir(run_as, run_dir)
        return run_dir
    if current and Path(current) != run_dir and is_private_dir(run_as, Path(current)):
        return Path(current)
    # run/ cannot hold the socket: use a private folder in the temp folder.
    for parent in (None, "/tmp"):
        candidate = Path(tempfile.mkdtemp(prefix="fp-pg-", dir=parent))
        if _usable_socket_dir(candidate):
            chown_to(run_as, candidate)
            candidate.chmod(0o700)
            return candidate
        candidate.rmdir()
    raise EmbeddedError(
        "No temporary folder can hold PostgreSQL's unix socket; set TMPDIR to a short path."
    )


def _usable_socket_dir(folder: Path) -> bool:
    """Short enough for sun_path, and without a comma (libpq splits host lists on commas)."""
    socket_path = folder / f".s.PGSQL.{UNIX_PORT}"
    return len(os.fsencode(socket_path)) <= SOCKET_PATH_MAX and "," not in str(folder)


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((TCP_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _tcp_port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((TCP_HOST, port))
        except OSError:
            return False
        return True
