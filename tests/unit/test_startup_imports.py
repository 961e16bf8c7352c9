"""The cold start loads no database library before the first window (issue 3's budget).

psycopg takes about 0.12 s to import and SQLAlchemy 0.15-0.3 s, more than a bare PySide6
window (0.11 s). The window comes first; a worker loads them (services/workspace.py,
services/loading.py, docs/decisions/0002-window-before-sign-in.md). An import added at the
top of a start-up module would silently undo that, so this checks it in a fresh interpreter.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
import factorypulse_desktop.cli
import factorypulse_desktop.runtime.local_server
import factorypulse_desktop.ui.app
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))
"""


def _top_level_modules_after(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_start_up_modules_load_no_database_library() -> None:
    loaded = _top_level_modules_after(PROBE)
    assert "PySide6" in loaded  # the probe did import the window's modules
    assert not loaded & {"psycopg", "psycopg_binary", "sqlalchemy", "alembic"}


@pytest.mark.parametrize("module", [
    "factorypulse_desktop.services.auth",
    "factorypulse_desktop.services.setup",
    "factorypulse_desktop.services.workspace",
])
def test_signing_in_needs_psycopg_but_not_sqlalchemy(module: str) -> None:
    loaded = _top_level_modules_after(
        f"import json, sys\nimport {module}\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    assert "psycopg" in loaded
    assert "sqlalchemy" not in loaded
