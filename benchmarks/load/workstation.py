"""One workstation: a separate process signed in as its own person, running the mix.

Like the app, it holds a `Workspace` (pooled connection, RLS as the person) and a `ChangeFeed`
on a thread of its own (the LISTEN connection, catch-up by cursor). It records every operation
and every change id the feed delivered. The driver coordinates three phases through
`multiprocessing` events: all signed in (ready) -> run for `seconds` -> every workstation has
stopped writing (quiesced), after which each one lets its feed catch up and compares what it
received with what the database shows the person.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import tempfile
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text

CATCH_UP_TIMEOUT = 90.0  # the feed's backoff tops out at 30 s after a restart


@dataclass(frozen=True)
class Spec:
    """What the driver tells a workstation (picklable: crosses the spawn boundary)."""

    index: int
    username: str
    password: str
    role: str
    org_id: str
    org_slug: str
    host: str
    port: int
    database: str
    seconds: float
    think: float  # mean pause between operations, seconds (exponential)
    seed: int
    out: str  # the JSON file this workstation writes
    codes: tuple[str, ...]  # station codes of its organization's open operations
    # T-NET-07's fixed pace instead of think times: operations per second (0: think), and
    # one operation only instead of the role's mix (None: the mix).
    rate: float = 0.0
    only: str | None = None


class Delivered:
    """Change ids the feed delivered, in order, with duplicates counted."""

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.seen: set[int] = set()
        self.duplicates = 0
        self.batches = 0
        self.states: list[tuple[float, str]] = []
        self.lock = threading.Lock()

    def on_changes(self, changes: list[Any]) -> None:
        with self.lock:
            self.batches += 1
            for change in changes:
                if change.id in self.seen:
                    self.duplicates += 1
                self.seen.add(change.id)
                self.ids.append(change.id)

    def on_state(self, state: Any) -> None:
        self.states.append((time.time(), state.value))


def main(spec: Spec, ready: Any, go: Any, wrote: Any, quiesced: Any) -> None:
    """Entry point of the spawned process (`ready`/`go`/`quiesced`: events; `wrote`: a queue
    that gets this index when its writing phase is over)."""
    logging.basicConfig(level=logging.ERROR)
    result: dict[str, Any] = {"index": spec.index, "username": spec.username,
                              "role": spec.role, "org": spec.org_slug, "org_id": spec.org_id}
    try:
        _run(spec, ready, go, wrote, quiesced, result)
    except BaseException:
        result["crash"] = traceback.format_exc()
        ready.set()  # never leave the driver waiting on a dead workstation
        if "ops" not in result:  # its writing phase ended here
            wrote.put(spec.index)
    finally:
        Path(spec.out).write_text(json.dumps(result, default=str))


def _run(spec: Spec, ready: Any, go: Any, wrote: Any, quiesced: Any,
         result: dict[str, Any]) -> None:
    from factorypulse_desktop.services import auth
    from factorypulse_desktop.services.auth import ConnectionProfile
    from factorypulse_desktop.services.live import ChangeFeed

    from . import mix

    profile = ConnectionProfile(name="load", kind="server", host=spec.host, port=spec.port,
                                database=spec.database, sslmode="disable")
    ws = auth.sign_in(profile, spec.username, spec.password)
    org = uuid.UUID(spec.org_id)
    rng = random.Random(spec.seed)
    tmp = Path(tempfile.mkdtemp(prefix=f"fp-load-ws{spec.index}-"))
    ctx = mix.Context(ws=ws, org=org, role=spec.role, rng=rng, tmp=tmp, codes=list(spec.codes))
    ctx.load()
    # The cursor the feed starts from: what the person could see at sign-in.
    start = int(ws.read(lambda c: c.execute(text(
        "SELECT coalesce(max(id), 0) FROM change_log")).scalar_one()))
    delivered = Delivered()
    feed = ChangeFeed(ws.conninfo(), last_seen=start)
    stop = threading.Event()
    listener = threading.Thread(target=feed.run, args=(stop, delivered.on_changes,
                                                       delivered.on_state),
                                name="live-feed", daemon=True)
    listener.start()
    ready.set()
    go.wait()
    started = time.perf_counter()
    deadline = started + spec.seconds
    ops: list[dict[str, Any]] = []
    due = started
    while time.perf_counter() < deadline:
        record = mix.run_one(ctx, spec.only or mix.choose(ctx), started)
        ops.append(record.to_json())
        if spec.rate > 0:  # a fixed schedule: a late operation is followed at once
            due += 1 / spec.rate
            pause = due - time.perf_counter()
        else:
            pause = rng.expovariate(1 / spec.think) if spec.think > 0 else 0.0
        time.sleep(max(0.0, min(pause, deadline - time.perf_counter())))
    result["elapsed_s"] = time.perf_counter() - started
    result["ops"] = ops
    wrote.put(spec.index)
    # Every workstation has stopped writing: the database's head no longer moves.
    result["quiesced"] = bool(quiesced.wait(300))
    result.update(_converge(ws, feed, delivered, start))
    stop.set()
    listener.join(10)
    result["feed_states"] = delivered.states
    result["listener_alive_after_stop"] = listener.is_alive()
    ws.close()
    shutil.rmtree(tmp, ignore_errors=True)


def _converge(ws: Any, feed: Any, delivered: Delivered, start: int) -> dict[str, Any]:
    """Wait until the feed reached the person's head, then compare ids one by one."""
    def head() -> int:
        return int(ws.read(lambda c: c.execute(text(
            "SELECT coalesce(max(id), 0) FROM change_log")).scalar_one()))

    target = head()
    waited = time.perf_counter()
    while feed.last_seen < target and time.perf_counter() - waited < CATCH_UP_TIMEOUT:
        time.sleep(0.1)
    caught_up_s = time.perf_counter() - waited
    # The feed delivers rows whose transaction committed late (ids below its cursor) on a
    # later fetch; a quiet moment lets the last such fetch happen.
    time.sleep(1.0)
    visible = ws.read(lambda c: [int(r[0]) for r in c.execute(text(
        "SELECT id FROM change_log WHERE id > :start ORDER BY id"), {"start": start})])
    with delivered.lock:
        got = set(delivered.seen)
        duplicates = delivered.duplicates
        count = len(delivered.ids)
        batches = delivered.batches
    shown = set(visible)
    missing = sorted(shown - got)
    unexpected = sorted(i for i in got if i > start and i not in shown)
    return {
        "start_cursor": start, "final_cursor": feed.last_seen, "head": target,
        "head_after": head(), "caught_up_s": round(caught_up_s, 3),
        "delivered": count, "batches": batches, "duplicates": duplicates,
        "visible_since_start": len(visible), "missing": missing[:50],
        "missing_count": len(missing), "unexpected": unexpected[:50],
        "unexpected_count": len(unexpected),
    }
