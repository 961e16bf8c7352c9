"""Which backups a retention policy keeps (pure: no files, no clock).

Slots (N newest days, ISO weeks, months, each kept by its newest backup) are filled by verified
backups only, so a new backup pushes an old one out only once it has verified itself. The newest
verified backup and every backup newer than it (not yet verified) are always kept; with no
verified backup at all nothing is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Policy:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12


@dataclass(frozen=True)
class Entry:
    name: str
    created_at: datetime
    verified: bool


def _newest_per_period(entries: list[Entry], count: int,
                       period: Callable[[datetime], Hashable]) -> set[str]:
    kept: set[str] = set()
    seen: list[Hashable] = []
    for entry in entries:  # newest first
        key = period(entry.created_at)
        if key in seen:
            continue
        if len(seen) == count:
            break
        seen.append(key)
        kept.add(entry.name)
    return kept


def to_keep(entries: Iterable[Entry], policy: Policy) -> set[str]:
    """Names of the backups that survive `policy`."""
    ordered = sorted(entries, key=lambda e: e.created_at, reverse=True)
    verified = [e for e in ordered if e.verified]
    if not verified:
        return {e.name for e in ordered}
    newest = verified[0]
    keep = {e.name for e in ordered if e.created_at >= newest.created_at}
    keep |= _newest_per_period(verified, policy.daily, lambda t: t.date())
    keep |= _newest_per_period(verified, policy.weekly, lambda t: t.isocalendar()[:2])
    keep |= _newest_per_period(verified, policy.monthly, lambda t: (t.year, t.month))
    return keep
