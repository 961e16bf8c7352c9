"""Same as `python -m benchmarks.load.driver`, as a file: python benchmarks/load/run.py ..."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.load.driver import main

if __name__ == "__main__":
    raise SystemExit(main())
