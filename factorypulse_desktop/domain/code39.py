"""Code 39 barcodes: the pattern of bars and spaces for a text (pure, no drawing).

Code 39 is read by every handheld scanner acting as a keyboard, needs no check digit and holds
digits, capital letters, space and ``-.$/+%``. Each character is five bars and four spaces, three
of the nine wide; characters are separated by a narrow space and the code starts and ends with
``*``.
"""

from __future__ import annotations

__all__ = ["CHARSET", "encode", "modules"]

# Nine elements per character, bar first, alternating: 1 = wide, 0 = narrow.
_PATTERNS: dict[str, str] = {
    "0": "000110100", "1": "100100001", "2": "001100001", "3": "101100000",
    "4": "000110001", "5": "100110000", "6": "001110000", "7": "000100101",
    "8": "100100100", "9": "001100100", "A": "100001001", "B": "001001001",
    "C": "101001000", "D": "000011001", "E": "100011000", "F": "001011000",
    "G": "000001101", "H": "100001100", "I": "001001100", "J": "000011100",
    "K": "100000011", "L": "001000011", "M": "101000010", "N": "000010011",
    "O": "100010010", "P": "001010010", "Q": "000000111", "R": "100000110",
    "S": "001000110", "T": "000010110", "U": "110000001", "V": "011000001",
    "W": "111000000", "X": "010010001", "Y": "110010000", "Z": "011010000",
    "-": "010000101", ".": "110000100", " ": "011000100", "$": "010101000",
    "/": "010100010", "+": "010001010", "%": "000101010", "*": "010010100",
}
CHARSET = frozenset(_PATTERNS) - {"*"}
WIDE = 3  # a wide element is three narrow ones (the standard allows 2 to 3)


def encode(value: str) -> list[tuple[bool, int]]:
    """(is_bar, width in narrow modules) for ``*value*``; lower-case letters are read as
    capitals. Raises ValueError naming a character Code 39 cannot hold."""
    text = value.upper()
    bad = sorted({c for c in text if c not in CHARSET})
    if bad:
        raise ValueError(f"Code 39 cannot hold {''.join(bad)!r}")
    out: list[tuple[bool, int]] = []
    for index, char in enumerate(f"*{text}*"):
        if index:
            out.append((False, 1))  # the gap between characters
        for position, wide in enumerate(_PATTERNS[char]):
            out.append((position % 2 == 0, WIDE if wide == "1" else 1))
    return out


def modules(value: str) -> int:
    """The width of the whole code in narrow modules (without the quiet zones)."""
    return sum(width for _bar, width in encode(value))


def decode(elements: list[tuple[bool, int]]) -> str:
    """The text of ``encode``'s elements (for tests that read a printed code back)."""
    by_pattern = {p: c for c, p in _PATTERNS.items()}
    chars: list[str] = []
    i = 0
    while i + 9 <= len(elements):
        pattern = "".join("1" if w > 1 else "0" for _bar, w in elements[i:i + 9])
        chars.append(by_pattern.get(pattern, "?"))
        i += 10  # nine elements and the gap
    text = "".join(chars)
    if len(text) < 2 or text[0] != "*" or text[-1] != "*":
        raise ValueError(f"not a Code 39 pattern: {text!r}")
    return text[1:-1]
