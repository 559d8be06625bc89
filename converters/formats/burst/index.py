"""Reading a BURST JSON one sequence at a time, never the whole file at once.

A BURST file is one JSON object whose ``sequences`` list holds every video of a split, masks
included, so it grows with the split. :func:`scan` reads the file's text through a sliding window and parses
the top-level object by hand: each top-level value and each element of ``sequences`` is parsed by
the json module's compiled decoder (``raw_decode``) on its own, handed to a visitor with its byte
range, and dropped. :func:`load_span` parses one sequence again later (in a worker) from its range.
Memory follows the window (16 MiB of text) and the largest single sequence or top-level value,
never the file; it takes about 1.3 times a ``json.load`` of the file (8.8 s and 107 MB peak RSS
for a 234 MB file on which ``json.load`` takes 6.7 s and 688 MB).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO, NoReturn

from ...errors import SourceError

#: Text read at a time; a value longer than what is held makes the window grow until it fits.
WINDOW = 1 << 24
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")

#: Called with each sequence's place in the list, its parsed value and its ``(byte offset, byte length)``.
Visitor = Callable[[int, object, tuple[int, int]], None]


class _Text:
    """A window of the file's UTF-8 text, with the byte offset of any character position in it."""

    def __init__(self, file: BinaryIO, path: Path) -> None:
        self.file, self.path = file, path
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.base = 0  # byte offset of text[0]
        self.mark = (0, 0)  # (character position, its byte offset): byte offsets are asked for in order
        self.eof = False

    def fail(self, position: int, cause: str) -> NoReturn:
        raise SourceError(self.path, f"malformed JSON at byte {self.byte(position)}: {cause}")

    def grow(self) -> bool:
        """Read more text (as much again as is held, at least a window); False at the end of the file."""
        if self.eof:
            return False
        chunk = self.file.read(max(WINDOW, len(self.text)))
        try:
            self.text += self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            start = self.base + len(self.text.encode("utf-8")) + exc.start
            raise SourceError(self.path, f"not UTF-8 text ({exc.reason} at byte {start})") from None
        self.eof = not chunk
        return True

    def drop(self, position: int) -> int:
        """Forget the text before ``position`` (once it is most of the window); the same place in the kept text."""
        if position < WINDOW // 2:
            return position
        byte = self.byte(position)
        self.text = self.text[position:]
        self.base, self.mark = byte, (0, byte)
        return 0

    def byte(self, position: int) -> int:
        """The byte offset in the file of character ``position`` (at or after the last one asked for)."""
        char, byte = self.mark
        piece = self.text[char:position]
        byte += len(piece) if piece.isascii() else len(piece.encode("utf-8"))
        self.mark = (position, byte)
        return byte

    def char(self, position: int) -> int:
        """The position of the first character at or after ``position`` that is not whitespace (reading on for it)."""
        while True:
            position = _SPACE.match(self.text, position).end()
            if position < len(self.text) or not self.grow():
                return position

    def at(self, position: int) -> str:
        return self.text[position] if position < len(self.text) else ""

    def value(self, position: int, what: str) -> tuple[object, int]:
        """The JSON value starting at ``position`` and the position after it, reading on until it is whole."""
        while True:
            try:
                value, end = _DECODER.raw_decode(self.text, position)
            except json.JSONDecodeError as exc:
                cut = _cut_short(exc, len(self.text))
                if cut and self.grow():
                    continue  # cut by the window's end: try again with more
                cause = "the file ends inside it (truncated?)" if cut else f"malformed JSON: {exc.msg}"
                raise SourceError(self.path, f"{what} (byte {self.byte(position)}): {cause}") from None
            except RecursionError:
                raise SourceError(self.path, f"{what} (byte {self.byte(position)}): nested too deeply to parse") from None
            except ValueError as exc:  # an integer of thousands of digits, which Python will not convert
                raise SourceError(self.path, f"{what} (byte {self.byte(position)}): {exc}") from None
            if end < len(self.text) or not self.grow():  # a number at the window's end may go on
                return value, end


def _cut_short(error: json.JSONDecodeError, length: int) -> bool:
    """Whether the decoder stopped at the text's end (a string, number or literal cut there), not at a fault
    within the text: only then is reading more worth it, so a fault early in a big file is reported at once."""
    return error.msg.startswith("Unterminated string") or error.pos >= length - 64


def scan(path: Path, visit: Visitor) -> dict:
    """Every sequence handed to ``visit``; returns the top-level object with ``sequences`` emptied.

    Raises SourceError naming the byte where the file stops being a JSON object with a ``sequences`` list.
    """
    try:
        with open(path, "rb") as file:
            return _object(_Text(file, path), visit)
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None


def _object(text: _Text, visit: Visitor) -> dict:
    position = text.char(0)
    if text.at(position) != "{":
        raise SourceError(text.path, "empty file, not a BURST JSON" if not text.text.strip() else "not a BURST JSON object")
    header: dict = {}
    position = text.char(position + 1)
    if text.at(position) == "}":
        position += 1
    else:
        while True:
            key, position = text.value(position, "a top-level key")
            if not isinstance(key, str):
                text.fail(position, "a key that is not a string")
            position = text.char(position)
            if text.at(position) != ":":
                text.fail(position, f"expected ':' after the key {key!r}")
            position = text.char(position + 1)
            if key == "sequences" and text.at(position) == "[":
                if key in header:
                    text.fail(position, "a second sequences list")
                header[key], position = [], _sequences(text, position + 1, visit)
            else:
                header[key], position = text.value(position, f"the top-level {key!r}")
            position = text.char(position)
            if text.at(position) == "}":
                position += 1
                break
            if text.at(position) != ",":
                text.fail(position, "expected ',' or '}' after a top-level value" if text.at(position) else "the file ends early")
            position = text.char(position + 1)
    position = text.char(position)
    if text.at(position):
        text.fail(position, "content after the top-level object")
    if header.get("sequences") != []:
        raise SourceError(text.path, "not a BURST JSON: no top-level sequences list")
    return header


def _sequences(text: _Text, position: int, visit: Visitor) -> int:
    """Each element of the list, parsed and visited in turn; the position after the list's ``]``."""
    number = 0
    position = text.char(position)
    if text.at(position) == "]":
        return position + 1
    while True:
        if text.at(position) != "{":
            raise SourceError(text.path, f"sequences/{number} (byte {text.byte(position)}): expected an object")
        start = text.byte(position)
        value, position = text.value(position, f"sequences/{number}")
        visit(number, value, (start, text.byte(position) - start))
        number += 1
        position = text.char(text.drop(position))
        if text.at(position) == "]":
            return position + 1
        if text.at(position) != ",":
            text.fail(position, "expected ',' or ']' after a sequence" if text.at(position) else "the file ends early")
        position = text.char(position + 1)


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
    """A whole JSON document; SourceError naming ``what`` when it is not one."""
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"{what}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        raise SourceError(path, f"{what}: nested too deeply to parse") from None
    except ValueError as exc:
        raise SourceError(path, f"{what}: malformed JSON: {exc}") from None
