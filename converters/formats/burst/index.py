"""Finding each sequence of a BURST JSON without parsing the file whole.

A BURST file is one JSON object whose ``sequences`` list holds every video (a split's file is
hundreds of megabytes). :func:`scan` walks the file's bytes once through a memory map: a regular
expression steps over strings and scalars in compiled code, so Python sees only brackets, and
the byte range of each element of ``sequences`` is noted. Each sequence is then parsed on its
own (:func:`load_span`), one at a time; the rest of the file (``categories``, ``split``) is parsed
once with ``sequences`` emptied. Memory is bounded by the largest sequence and the top-level
fields, never by the file.
"""

from __future__ import annotations

import json
import mmap
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ...errors import SourceError

#: Anything but a bracket: runs of scalars, punctuation and whitespace, and whole strings (escapes included).
_NOT_BRACKET = re.compile(rb'(?:[^\[\]{}"]+|"[^"\\]*(?:\\.[^"\\]*)*")*')
_SEQUENCES_KEY = re.compile(rb'"sequences"\s*:\s*$')
_BLANK = re.compile(rb"\s*")
_COMMA = re.compile(rb"\s*,\s*")
_OPENS = {ord("{"): ord("}"), ord("["): ord("]")}
#: Deeper nesting than any BURST file has (a bbox in a mask entry is at depth 6): a bomb, not data.
MAX_DEPTH = 64


@dataclass(frozen=True)
class Layout:
    """Where the sequences are: the list's byte range and each element's ``(offset, length)``."""

    sequences: tuple[int, int]
    elements: tuple[tuple[int, int], ...]


def scan(path: Path) -> Layout:
    """The byte ranges of the top-level ``sequences`` list and of each of its elements.

    Raises SourceError naming the byte where the file stops being a JSON object with such a list.
    """
    try:
        with open(path, "rb") as file:
            if file.seek(0, 2) == 0:
                raise SourceError(path, "empty file, not a BURST JSON")
            with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
                return _scan(data, path)
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None


def _scan(data: mmap.mmap, path: Path) -> Layout:
    """The bracket walk; what lies outside ``sequences`` is checked when :func:`header` parses it."""
    stack: list[int] = []
    sequences: tuple[int, int] | None = None
    list_start = -1
    elements: list[tuple[int, int]] = []
    element_start = gap_start = -1
    for position, byte, gap in _brackets(data, path):
        inside = list_start >= 0 and sequences is None  # between the sequences list's brackets
        if byte in _OPENS:
            depth = len(stack)
            if depth >= MAX_DEPTH:
                raise SourceError(path, f"malformed JSON at byte {position}: nested more than {MAX_DEPTH} deep")
            if depth == 1 and byte == ord("[") and _SEQUENCES_KEY.search(gap):
                if list_start >= 0:
                    raise SourceError(path, f"malformed JSON at byte {position}: a second sequences list")
                list_start = gap_start = position + 1
            elif depth == 2 and inside:
                _check_gap(data, gap_start, position, not elements, path, len(elements), byte)
                element_start = position
            stack.append(_OPENS[byte])
            continue
        if not stack or stack[-1] != byte:
            raise SourceError(path, f"malformed JSON at byte {position}: unexpected {chr(byte)!r}")
        stack.pop()
        if len(stack) == 2 and inside:
            elements.append((element_start, position + 1 - element_start))
            gap_start = position + 1
        elif len(stack) == 1 and inside:
            if _BLANK.fullmatch(data, gap_start, position) is None:
                raise SourceError(path, f"sequences/{len(elements)} (byte {gap_start}): expected an object")
            sequences = (list_start - 1, position + 2 - list_start)
    if stack:
        raise SourceError(path, f"malformed JSON: the file ends inside {len(stack)} open brackets (truncated?)")
    if sequences is None:
        raise SourceError(path, "not a BURST JSON: no top-level sequences list")
    return Layout(sequences, tuple(elements))


def _brackets(data: mmap.mmap, path: Path) -> Iterator[tuple[int, int, bytes]]:
    """Every bracket outside strings: its offset, its byte, and the last bytes skipped before it."""
    position, size = 0, len(data)
    while True:
        end = _NOT_BRACKET.match(data, position).end()
        if end >= size:
            return
        byte = data[end]
        if byte == ord('"'):
            raise SourceError(path, f"malformed JSON at byte {end}: a string that never ends")
        yield end, byte, data[max(position, end - 64) : end]
        position = end + 1


def _check_gap(data: mmap.mmap, start: int, end: int, first: bool, path: Path, number: int, byte: int) -> None:
    """Between two sequences only a comma; before the first, nothing; and each is an object."""
    pattern = _BLANK if first else _COMMA
    if byte != ord("{") or pattern.fullmatch(data, start, end) is None:
        raise SourceError(path, f"sequences/{number} (byte {start}): expected an object")


def load_span(path: str, span: tuple[int, int], what: str) -> object:
    """The JSON value in a byte range of the file; SourceError naming ``what`` and its byte when it does not parse."""
    try:
        with open(path, "rb") as file:
            file.seek(span[0])
            data = file.read(span[1])
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    if len(data) != span[1]:
        raise SourceError(path, f"{what}: the file changed since it was indexed (byte {span[0]})")
    return parse(data, path, f"{what} (byte {span[0]})")


def parse(data: bytes, path: str | Path, what: str) -> object:
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"{what}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        raise SourceError(path, f"{what}: nested too deeply to parse") from None
    except ValueError as exc:
        raise SourceError(path, f"{what}: malformed JSON: {exc}") from None


def header(path: Path, layout: Layout) -> dict:
    """The top-level object with ``sequences`` emptied: ``split``, ``categories`` and whatever else the file has."""
    start, length = layout.sequences
    with open(path, "rb") as file:
        head = file.read(start)
        file.seek(start + length)
        tail = file.read()
    value = parse(head + b"[]" + tail, path, "the top-level object")
    if not isinstance(value, dict) or value.get("sequences") != []:
        raise SourceError(path, "not a BURST JSON: no top-level sequences list")
    return value
