"""Finding @mentions in a message and resolving them to people.

Two spellings are understood: ``@username`` (a user name as the database allows it: a letter,
then letters, digits, dot, dash or underscore) and ``@"Display Name"`` for people whose name
has spaces. A trailing dot is punctuation ("ask @acme.qa."), not part of the name. An ``@``
inside a word (an e-mail address) is not a mention. Pure: no Qt, no database.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# @ at the start or after something that is not a word character (so not in "a@b.com").
_TOKEN = re.compile(r'(?<![\w@])@(?:"([^"\n]{1,120})"|([A-Za-z][A-Za-z0-9._-]{0,62}))')


@dataclass(frozen=True)
class Person:
    """Someone who can be mentioned."""

    id: uuid.UUID
    username: str
    display_name: str


@dataclass(frozen=True)
class Token:
    """One ``@…`` in the text: where it is and what was written after the @."""

    start: int
    end: int
    name: str
    quoted: bool


@dataclass(frozen=True)
class Resolved:
    people: tuple[Person, ...]
    """Each person mentioned, once, in the order first mentioned."""
    unknown: tuple[str, ...]
    """What followed an @ but matched nobody (as written)."""


def _fold(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def find_tokens(text: str) -> list[Token]:
    """Every @mention written in `text`, in order."""
    found = []
    for match in _TOKEN.finditer(text):
        if match.group(1) is not None:
            found.append(Token(match.start(), match.end(), match.group(1).strip(), True))
            continue
        name = match.group(2).rstrip(".-_")
        if name:
            found.append(Token(match.start(), match.start() + 1 + len(name), name, False))
    return found


def resolve(text: str, people: Iterable[Person]) -> Resolved:
    """The people `text` mentions; a user name matches before a display name."""
    by_username = {p.username.casefold(): p for p in people}
    by_name: dict[str, Person] = {}
    for candidate in by_username.values():
        by_name.setdefault(_fold(candidate.display_name), candidate)
    chosen: dict[uuid.UUID, Person] = {}
    unknown: list[str] = []
    for token in find_tokens(text):
        person: Person | None = None if token.quoted else by_username.get(
            token.name.casefold())
        if person is None:
            person = by_name.get(_fold(token.name))
        if person is None:
            if token.name not in unknown:
                unknown.append(token.name)
        else:
            chosen.setdefault(person.id, person)
    return Resolved(tuple(chosen.values()), tuple(unknown))


def mention_text(person: Person) -> str:
    """How to write a mention of `person`: the user name (always one word)."""
    return f"@{person.username}"


def partial_at(text: str, cursor: int) -> tuple[int, str] | None:
    """The @word being typed just before `cursor` (its start and what follows the @), if any."""
    before = text[:cursor]
    match = re.search(r'(?<![\w@])@([A-Za-z0-9._-]*)$', before)
    if match is None:
        return None
    return match.start(), match.group(1)


def names(people: Sequence[Person]) -> str:
    """“Quinn Rivera, Sam Ortiz”: for a plain “Mentions:” line."""
    return ", ".join(p.display_name for p in people)
