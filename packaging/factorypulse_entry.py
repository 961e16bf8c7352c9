"""Entry point of the packaged app (PyInstaller needs a script; `factorypulse` runs the CLI).

A bundle has no `python -m`, so the preview runner starts the worker as
`<app> --preview-worker ...` (see preview/runner.py); everything else goes to cli.main.
"""

from __future__ import annotations

import sys


def run() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--preview-worker":
        from factorypulse_desktop.preview.worker import main as worker_main

        return worker_main(sys.argv[2:])
    from factorypulse_desktop.cli import main

    return main()


if __name__ == "__main__":
    raise SystemExit(run())
