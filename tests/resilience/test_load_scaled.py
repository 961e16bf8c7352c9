"""T-NET-07 scaled down, in the suite: the load driver itself, run as a person runs it.

The full case (10 workstations x 5 edits/s for 10 minutes) is a benchmark
(`benchmarks/load/driver.py --workstations 10 --seconds 600 --only message --rate 5`, figures
in docs/reliability.md). This runs the same driver for a few seconds with 4 workstations of
both organizations, as separate processes against a throwaway server, and checks what the
case asks: every workstation converges to its organization's head, every acknowledged edit is
stored once, no row of the other organization is visible, the notification queue stays empty.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_T_NET_07_workstations_converge_and_the_queue_stays_empty(tmp_path: Path) -> None:
    report_file = tmp_path / "load.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    finished = subprocess.run(
        [sys.executable, "-m", "benchmarks.load.driver", "--workstations", "4",
         "--seconds", "8", "--only", "message", "--rate", "5", "--json", str(report_file)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    report = json.loads(report_file.read_text())
    (run,) = report["runs"]
    figures, writes = run["figures"], run["writes"]
    assert figures["total"] >= 4 * 8 * 5 * 0.8  # the pace was (nearly) kept
    assert figures["errors"] == {}
    assert writes["acknowledged"] == writes["acknowledged_once"] == figures["total"]
    assert not (writes["lost"] or writes["duplicates"] or writes["wrong_org"])
    stations = run["convergence"]["workstations"]
    assert len(stations) == 4 and all(w["pass"] for w in stations), stations
    assert all(w["final"] == w["org_head"] and w["missing"] == w["duplicates"] == 0
               for w in stations)
    assert run["isolation"]["foreign_rows"] == {}
    assert len(run["isolation"]["readable_tables"]) == 4
    assert all(n > 40 for n in run["isolation"]["readable_tables"].values())
    assert run["notification_queue"]["max"] < 0.01 and run["notification_queue"]["samples"] > 0
    assert not run["crashes"] and not run["listeners_stuck"]
    assert run["pass"] and report["pass"]
