"""Faults for the soak run, injected from the driver at random intervals.

* `terminate`: `pg_terminate_backend` of 1-3 random backends of the app (pool, listener or
  upload connections: application_name `factorypulse*`);
* `terminate_listeners`: every LISTEN connection at once (T-NET-04 under load);
* `cut`: the TCP proxy the workstations connect through resets every connection and refuses
  new ones for 1-5 s (the server "gone" as a client sees it), then passes again;
* `restart`: `pg_ctl restart` of the cluster (fast shutdown), at most `max_restarts` times.

The proxy is `tests/db/tcp_proxy.py`, imported by path (tests/ is not a package).
"""

from __future__ import annotations

import importlib.util
import random
import sys
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]


def load_tcp_proxy() -> ModuleType:
    name = "fp_tests_tcp_proxy"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "db" / "tcp_proxy.py")
    if spec is None or spec.loader is None:
        raise RuntimeError("tests/db/tcp_proxy.py not found")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class FaultInjector:
    """A thread that injects one random fault every `low`-`high` seconds until stopped."""

    def __init__(self, cluster: Any, owner_conninfo: str, proxy: Any | None, *,
                 low: float = 20.0, high: float = 60.0, max_restarts: int = 1,
                 seed: int = 7) -> None:
        self._cluster = cluster
        self._owner = owner_conninfo
        self._proxy = proxy
        self._low, self._high = low, high
        self._max_restarts = max_restarts
        self._rng = random.Random(seed)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="faults", daemon=True)
        self._t0 = time.perf_counter()
        self.log: list[dict[str, Any]] = []
        self.restarts = 0

    def start(self) -> FaultInjector:
        self._t0 = time.perf_counter()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(120)
        if self._proxy is not None:
            self._proxy.resume()

    def _loop(self) -> None:
        while not self._stop.wait(self._rng.uniform(self._low, self._high)):
            kinds = ["terminate", "terminate", "terminate_listeners"]
            if self._proxy is not None:
                kinds.append("cut")
            if self.restarts < self._max_restarts:
                kinds.append("restart")
            kind = self._rng.choice(kinds)
            at = round(time.perf_counter() - self._t0, 1)
            try:
                detail = getattr(self, f"_{kind}")()
            except Exception as error:  # report, keep injecting
                detail = f"failed: {type(error).__name__}: {error}"
            self.log.append({"at_s": at, "fault": kind, "detail": detail})
            print(f"  [fault at {at:.0f} s] {kind}: {detail}", flush=True)

    def _backends(self, where: str) -> list[int]:
        with psycopg.connect(self._owner, autocommit=True) as conn:
            return [r[0] for r in conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                f"AND pid <> pg_backend_pid() AND {where}").fetchall()]

    def _kill(self, pids: list[int]) -> int:
        with psycopg.connect(self._owner, autocommit=True) as conn:
            return sum(bool(conn.execute("SELECT pg_terminate_backend(%s)", (p,)).fetchone()[0])  # type: ignore[index]
                       for p in pids)

    def _terminate(self) -> str:
        pids = self._backends("application_name LIKE 'factorypulse%'")
        chosen = self._rng.sample(pids, min(len(pids), self._rng.randint(1, 3)))
        return f"terminated {self._kill(chosen)} of {len(pids)} app backends"

    def _terminate_listeners(self) -> str:
        pids = self._backends("application_name = 'factorypulse-listener'")
        return f"terminated {self._kill(pids)} listener backends"

    def _cut(self) -> str:
        assert self._proxy is not None
        pause = self._rng.uniform(1.0, 5.0)
        self._proxy.cut()
        time.sleep(pause)
        self._proxy.resume()
        return f"proxy cut for {pause:.1f} s"

    def _restart(self) -> str:
        started = time.perf_counter()
        self._cluster.restart()
        self.restarts += 1
        return f"server restarted in {time.perf_counter() - started:.1f} s"
