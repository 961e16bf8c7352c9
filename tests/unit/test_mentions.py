"""Finding @mentions in what people type and resolving them to people (domain.mentions)."""

from __future__ import annotations

import uuid

from factorypulse_desktop.domain.mentions import (
    Person,
    find_tokens,
    names,
    partial_at,
    resolve,
)

QUINN = Person(uuid.uuid4(), "acme.qa", "Quinn Rivera")
SAM = Person(uuid.uuid4(), "acme.engineering", "Sam Ortiz")
ANA = Person(uuid.uuid4(), "ana", "Ana María Núñez")
PEOPLE = [QUINN, SAM, ANA]


def test_user_names_and_quoted_display_names_are_found() -> None:
    text = 'Ask @acme.qa and @"Sam  Ortiz", please.'
    assert [(t.name, t.quoted) for t in find_tokens(text)] == [
        ("acme.qa", False), ("Sam  Ortiz", True)]
    first = find_tokens(text)[0]
    assert text[first.start:first.end] == "@acme.qa"
    assert resolve(text, PEOPLE).people == (QUINN, SAM)


def test_trailing_punctuation_and_email_addresses_are_not_part_of_a_mention() -> None:
    assert [t.name for t in find_tokens("Thanks @acme.qa.")] == ["acme.qa"]
    assert find_tokens("mail quinn@acme.example or sales@example.com") == []
    assert resolve("write to quinn@acme.qa", PEOPLE).people == ()


def test_matching_ignores_case_accents_form_and_spacing_and_counts_each_person_once() -> None:
    decomposed = "Ana Mari\u0301a Nu\u0301n\u0303ez"  # as typed on macOS (NFD)
    text = f'@ACME.QA @"{decomposed}" @acme.qa @"quinn rivera"'
    result = resolve(text, PEOPLE)
    assert result.people == (QUINN, ANA)
    assert result.unknown == ()


def test_unknown_names_are_reported_as_written() -> None:
    result = resolve('Hi @nobody and @"Someone Else" and @nobody', PEOPLE)
    assert result.people == ()
    assert result.unknown == ("nobody", "Someone Else")


def test_the_word_being_typed_after_an_at_sign_is_offered_for_completion() -> None:
    text = "Please check, @acme.q"
    assert partial_at(text, len(text)) == (14, "acme.q")
    assert partial_at("just @", 6) == (5, "")
    assert partial_at("a@b", 3) is None
    assert partial_at("@acme.qa done", 13) is None


def test_names_lists_display_names() -> None:
    assert names([QUINN, SAM]) == "Quinn Rivera, Sam Ortiz"
