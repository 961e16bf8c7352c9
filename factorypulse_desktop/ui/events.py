"""The change bus: live changes, grouped by entity type, for the pages that show them.

    bus = ChangeBus(parent=window)
    live.sig_changes.connect(bus.publish)
    bus.subscribe("projects", projects_page.on_rows_changed)   # slot(ids: list[uuid.UUID])

`publish` runs on the GUI thread (connect it to `LiveUpdates.sig_changes`). For each entity type
in the batch it emits `sig_changed(entity_type, ids)` once and calls that type's subscribers
with the ids (each id once, in change order). A page then re-reads those rows and updates them
in place; a row that no longer comes back was deleted (or is no longer visible).

Subscribers are held weakly when they are bound methods (a page going away needs no
unsubscribe), and skipped once their Qt object has been deleted.
"""

from __future__ import annotations

import uuid
import weakref
from collections.abc import Callable, Iterable

import shiboken6
from PySide6.QtCore import QObject, Signal, Slot

from factorypulse_desktop.domain.live import Change

Subscriber = Callable[[list[uuid.UUID]], object]


class _Ref:
    """A subscriber: a weak reference for bound methods, a strong one otherwise."""

    def __init__(self, slot: Subscriber) -> None:
        self._weak: weakref.WeakMethod[Subscriber] | None = None
        self._strong: Subscriber | None = None
        if hasattr(slot, "__self__") and hasattr(slot, "__func__"):
            self._weak = weakref.WeakMethod(slot)
        else:
            self._strong = slot

    def get(self) -> Subscriber | None:
        slot = self._weak() if self._weak is not None else self._strong
        if slot is None:
            return None
        owner = getattr(slot, "__self__", None)
        if isinstance(owner, QObject) and not shiboken6.isValid(owner):
            return None  # the widget was deleted on the C++ side
        return slot

    def matches(self, slot: Subscriber) -> bool:
        return self.get() == slot


class ChangeBus(QObject):
    """Routes live changes to the pages by entity type (a table name such as "projects")."""

    sig_changed = Signal(str, list)  # entity_type, list[uuid.UUID]

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._subscribers: dict[str, list[_Ref]] = {}

    def subscribe(self, entity_type: str, slot: Subscriber) -> None:
        """Call `slot(ids)` whenever rows of `entity_type` changed."""
        self._subscribers.setdefault(entity_type, []).append(_Ref(slot))

    def unsubscribe(self, entity_type: str, slot: Subscriber) -> None:
        refs = self._subscribers.get(entity_type, [])
        self._subscribers[entity_type] = [r for r in refs if not r.matches(slot)]

    @Slot(list)
    def publish(self, changes: Iterable[Change]) -> None:
        grouped: dict[str, dict[uuid.UUID, None]] = {}
        for change in changes:
            grouped.setdefault(change.entity_type, {})[change.entity_id] = None
        for entity_type, ids in grouped.items():
            id_list = list(ids)
            self.sig_changed.emit(entity_type, id_list)
            refs = self._subscribers.get(entity_type)
            if not refs:
                continue
            slots = [(ref, ref.get()) for ref in refs]
            # Prune the dead first: a slot may (un)subscribe while it runs.
            self._subscribers[entity_type] = [ref for ref, slot in slots if slot is not None]
            for _ref, slot in slots:
                if slot is not None:
                    slot(list(id_list))
