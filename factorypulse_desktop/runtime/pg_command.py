"""Running PostgreSQL's programs (initdb, pg_ctl) and collecting their output."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from factorypulse_desktop.runtime import pgbinaries
from factorypulse_desktop.runtime.errors import EmbeddedError
from factorypulse_desktop.runtime.run_as import RunAs


def run_pg_command(
    argv: list[str],
    *,
    timeout: float,
    bin_dir: Path,
    cwd: Path,
    run_as: RunAs | None,
    detach: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program (as ``run_as`` when given); stdout and stderr merged.

    ``detach`` is for pg_ctl start: the server it leaves running must outlive us. Output goes
    to a temporary file, not a pipe: the server started by pg_ctl inherits the handles on
    Windows and a pipe would never reach end-of-file.
    """
    kwargs: dict[str, object] = {}
    if run_as is not None:
        kwargs.update(user=run_as.uid, group=run_as.gid, extra_groups=list(run_as.groups))
    if sys.platform == "win32":
        flags = subprocess.CREATE_NO_WINDOW
        if detach:
            flags |= subprocess.CREATE_NEW_PROCESS_GROUP
        kwargs["creationflags"] = flags
    elif detach:
        # Its own session: Ctrl+C in a terminal or the app's death does not reach it.
        kwargs["start_new_session"] = True
    with tempfile.TemporaryFile() as out:
        try:
            completed = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=pgbinaries.pg_env(bin_dir),
                cwd=cwd,
                timeout=timeout,
                check=False,
                **kwargs,  # type: ignore[call-overload]
            )
        except subprocess.TimeoutExpired as exc:
            raise EmbeddedError(
                f"{Path(argv[0]).name} did not finish within {timeout:.0f} seconds."
            ) from exc
        except OSError as exc:
            raise EmbeddedError(f"Could not run {argv[0]}: {exc}.") from exc
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    return subprocess.CompletedProcess(argv, completed.returncode, text, "")
