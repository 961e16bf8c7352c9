"""Cold start: `factorypulse --demo` to a usable main window, against a bare PySide6 window.

Budget (issue 3): at most 1.5 s, and at most 3 times the time of a bare PySide6 window
showing one table, both measured here in the same run, with the embedded demo database
already initialized.

    .venv/bin/python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BARE_WINDOW = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow, QTableWidget, QTableWidgetItem
from PySide6.QtCore import QTimer
app = QApplication(sys.argv)
window = QMainWindow()
table = QTableWidget(20, 5)
for r in range(20):
    for c in range(5):
        table.setItem(r, c, QTableWidgetItem(f"{r}:{c}"))
window.setCentralWidget(table)
window.show()
QTimer.singleShot(0, lambda: (print("main window ready", flush=True), app.quit()))
app.exec()
"""


def _times(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Seconds from launch until the process prints each of its markers."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout is not None
    seen: dict[str, float] = {}
    for line in proc.stdout:
        for marker in ("main window shown", "main window ready"):
            if marker in line:
                seen[marker] = time.perf_counter() - start
    _out, err = proc.communicate(timeout=300)
    if proc.returncode != 0 or "main window ready" not in seen:
        raise SystemExit(f"{argv} failed:\n{err}")
    return seen


def _time(argv: list[str], env: dict[str, str]) -> float:
    return _times(argv, env)["main window ready"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="fp-startup-"))
    base.chmod(0o711)  # as root, PostgreSQL's own account must enter it
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", FACTORYPULSE_DATA_DIR=str(base / "data"),
               FACTORYPULSE_CONFIG_DIR=str(base / "config"), XDG_CONFIG_HOME=str(base / "xdg"),
               FACTORYPULSE_LOG_DIR=str(base / "log"))
    app = [sys.executable, "-m", "factorypulse_desktop.cli", "--demo", "--smoke-test"]
    try:
        first = _time(app, env)  # initializes and seeds the demo cluster (not budgeted)
        print(f"first start (initdb + migrate + seed + window): {first:.2f} s")
        bare, shown, ours = [], [], []
        for _ in range(args.runs):
            bare.append(_time([sys.executable, "-c", BARE_WINDOW], env))
            times = _times(app, env)
            shown.append(times["main window shown"])
            ours.append(times["main window ready"])
    finally:
        subprocess.run([sys.executable, "-c",
                        "from factorypulse_desktop.runtime.embedded import EmbeddedCluster;"
                        f"EmbeddedCluster(__import__('pathlib').Path({str(base)!r})"
                        "/'data'/'embedded'/'demo').stop()"], env=env, check=False)
        shutil.rmtree(base, ignore_errors=True)
    b, w, o = statistics.median(bare), statistics.median(shown), statistics.median(ours)

    def runs(values: list[float]) -> str:
        return ", ".join(f"{x:.2f}" for x in values)

    print(f"bare PySide6 window with a table: median {b:.3f} s  (runs: {runs(bare)})")
    print(f"factorypulse --demo, main window on screen and usable: median {w:.3f} s  "
          f"(runs: {runs(shown)})  ratio {w / b:.2f}x")
    print(f"factorypulse --demo, signed in (person and organization shown): median {o:.3f} s  "
          f"(runs: {runs(ours)})  ratio {o / b:.2f}x")
    ok = w <= 1.5 and w / b <= 3.0 and o <= 1.5
    print(f"budget: window <= 1.5 s and <= 3x the bare window, signed in <= 1.5 s: "
          f"{'PASS' if ok else 'FAIL'}")
    print("note: each run stops the server at exit and the next starts it again, so every "
          "run includes starting PostgreSQL (about 0.15 s); exit time is not counted. "
          "Why the window comes before the sign-in: docs/decisions/0002-window-before-sign-in.md")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
