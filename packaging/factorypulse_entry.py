"""Entry point of the packaged app (PyInstaller needs a script; `factorypulse` runs the CLI).

A bundle has no `python -m`, so the preview runner starts the worker as
`<app> --preview-worker ...` (see preview/runner.py); everything else goes to cli.main.
"""

from __future__ import annotations

import os
import sys


def restore_library_path() -> None:
    """Give the programs this app starts the user's LD_LIBRARY_PATH, not the bundle's.

    On Linux the bootloader points LD_LIBRARY_PATH at the bundle (keeping the user's value
    in LD_LIBRARY_PATH_ORIG), and children inherit it: the browser or viewer that
    QDesktopServices opens would load our copies of libstdc++, GLib, OpenSSL... The dynamic
    linker read the variable when this process started, so changing it now changes only
    what children inherit. LD_LIBRARY_PATH_ORIG stays for runtime/pgbinaries.py. On macOS
    the bootloader only unsets DYLD_LIBRARY_PATH: nothing of ours leaks to children.
    """
    if not getattr(sys, "frozen", False) or not sys.platform.startswith("linux"):
        return
    original = os.environ.get("LD_LIBRARY_PATH_ORIG")
    if original:
        os.environ["LD_LIBRARY_PATH"] = original
    else:
        os.environ.pop("LD_LIBRARY_PATH", None)


def run() -> int:
    restore_library_path()
    if len(sys.argv) > 1 and sys.argv[1] == "--preview-worker":
        from factorypulse_desktop.preview.worker import main as worker_main

        return worker_main(sys.argv[2:])
    from factorypulse_desktop.cli import main

    return main()


if __name__ == "__main__":
    raise SystemExit(run())
