"""Start-up of the packaged app (Linux bundle) against the same app run from source.

Budget (issue 10): with the embedded demo database already initialized, the bundle reaches
its main window ("main window ready": signed in) in at most 2 s, and in at most 1.5 times
the time of `python -m factorypulse_desktop.cli` measured in the same run.

    .venv/bin/python benchmarks/packaged_startup.py [--bundle dist/linux/dist/factorypulse]
                                                    [--runs 5]

Without --bundle it builds one first (packaging/linux/build.py, about a minute). Both take
turns on the same demo cluster; each run starts PostgreSQL and stops it at exit, like a user's.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKERS = ("main window shown", "main window ready")
BUDGET_S = 2.0
BUDGET_RATIO = 1.5


def _times(argv: list[str], env: dict[str, str]) -> dict[str, float]:
    """Seconds from launch until the process prints each marker (exit not counted)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    seen: dict[str, float] = {}
    for line in proc.stdout:
        for marker in MARKERS:
            if marker in line:
                seen[marker] = time.perf_counter() - start
    _out, err = proc.communicate(timeout=300)
    if proc.returncode != 0 or "main window ready" not in seen:
        raise SystemExit(f"{argv} failed ({proc.returncode}):\n{err}")
    return seen


def _build_bundle(out: Path) -> Path:
    spec = importlib.util.spec_from_file_location(
        "fp_linux_build", ROOT / "packaging" / "linux" / "build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = build
    spec.loader.exec_module(build)
    result = build.build(out)
    print(f"built {result.archive.name} in {result.seconds:.0f} s, "
          f"{result.unpacked_bytes / 1e6:.1f} MB unpacked")
    return Path(result.bundle)


def _p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _summary(label: str, values: list[float]) -> str:
    runs = ", ".join(f"{v:.2f}" for v in values)
    return (f"{label}: median {statistics.median(values):.3f} s, p95 {_p95(values):.3f} s"
            f"  (runs: {runs})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", type=Path,
                        help="an unpacked bundle folder (holding `factorypulse`)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="fp-packaged-startup-"))
    base.chmod(0o755)  # as root, PostgreSQL's own account must reach the data and binaries
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "FACTORYPULSE"))}
    env.update(QT_QPA_PLATFORM="offscreen", FACTORYPULSE_DATA_DIR=str(base / "data"),
               FACTORYPULSE_CONFIG_DIR=str(base / "config"), XDG_CONFIG_HOME=str(base / "xdg"),
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    source_env = dict(env, PYTHONPATH=str(ROOT))  # these sources, not an installed copy
    try:
        bundle = (args.bundle or _build_bundle(base / "build")).absolute()
        packaged = [str(bundle / "factorypulse"), "--demo", "--smoke-test"]
        source = [sys.executable, "-m", "factorypulse_desktop.cli", "--demo", "--smoke-test"]
        first = _times(packaged, env)["main window ready"]
        print(f"first start of the bundle (initdb + migrate + seed + window): {first:.2f} s")
        _times(source, source_env)  # warm the source tree's bytecode cache, not counted
        ours: dict[str, list[float]] = {"packaged": [], "source": []}
        shown: dict[str, list[float]] = {"packaged": [], "source": []}
        for _ in range(args.runs):  # taking turns spreads the machine's noise over both
            for kind, argv, run_env in (("packaged", packaged, env),
                                        ("source", source, source_env)):
                times = _times(argv, run_env)
                ours[kind].append(times["main window ready"])
                shown[kind].append(times.get("main window shown", float("nan")))
    finally:
        subprocess.run([sys.executable, "-c",
                        "from factorypulse_desktop.runtime.embedded import EmbeddedCluster;"
                        f"EmbeddedCluster(__import__('pathlib').Path({str(base)!r})"
                        "/'data'/'embedded'/'demo').stop()"],
                       env=dict(os.environ, PYTHONPATH=str(ROOT)), check=False)
        shutil.rmtree(base, ignore_errors=True)
    print(_summary("packaged, main window shown", shown["packaged"]))
    print(_summary("source,   main window shown", shown["source"]))
    print(_summary("packaged, main window ready (signed in)", ours["packaged"]))
    print(_summary("source,   main window ready (signed in)", ours["source"]))
    packaged_median = statistics.median(ours["packaged"])
    ratio = packaged_median / statistics.median(ours["source"])
    ok = packaged_median <= BUDGET_S and ratio <= BUDGET_RATIO
    print(f"ratio packaged/source (medians, ready): {ratio:.2f}x")
    print(f"budget: packaged <= {BUDGET_S} s and <= {BUDGET_RATIO}x source: "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
