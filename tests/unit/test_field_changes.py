"""Field changes in words (domain.field_changes): labels, codes, names, long values."""

from __future__ import annotations

import uuid

from factorypulse_desktop.domain.field_changes import (
    EMPTY,
    describe_changes,
    field_label,
    referenced_ids,
)


def test_changes_read_as_labels_and_words_sorted_by_label() -> None:
    changes = {"status": {"old": "active", "new": "on_hold"},
               "priority_level": {"old": "medium", "new": "high"},
               "estimated_value": {"old": None, "new": 1250.5},
               "tags": {"old": [], "new": ["cnc", "urgent"]},
               "is_active": {"old": True, "new": False}}
    assert [str(c) for c in describe_changes(changes)] == [
        "Active: Yes \u2192 No",
        f"Estimated value: {EMPTY} \u2192 1250.5",
        "Priority: Medium \u2192 High",
        "Status: Active \u2192 On hold",
        f"Tags: {EMPTY} \u2192 cnc, urgent",
    ]


def test_ids_are_shown_by_name_and_unknown_ones_say_so() -> None:
    alex, gone = uuid.uuid4(), uuid.uuid4()
    changes = {"assigned_to": {"old": str(gone), "new": str(alex)}}
    assert referenced_ids(changes) == {alex, gone}
    [change] = describe_changes(changes, {alex: "Alex Carter"})
    assert (change.label, change.old, change.new) == (
        "Assigned to", "someone no longer visible", "Alex Carter")


def test_long_or_multiline_values_become_one_short_line() -> None:
    [change] = describe_changes({"description": {"old": "a\nb", "new": "x" * 500}})
    assert change.old == "a b"
    assert len(change.new) == 160 and change.new.endswith("…")
    assert field_label("some_new_column") == "Some new column"
    assert describe_changes(None) == () and describe_changes({"title": "broken"}) == ()
