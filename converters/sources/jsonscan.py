"""A JSON document too big to hold, read one value at a time.

BURST's, YouTube-VIS's and CocoVID's annotation files are each one JSON object whose lists
(``sequences``, ``annotations``, ``images``) grow with the dataset. :func:`scan` reads the text
through a sliding window and parses the top-level object by hand: each top-level value, and
each element of the lists asked for, is parsed by the json module's compiled decoder
(``raw_decode``) on its own, handed to a visitor with its byte range, and dropped. The file
is read in order, never sought, so a gzip stream is read as it unpacks. :func:`load_span`
parses one value again later from its range. Memory follows the window (16 MiB of text) and
the largest single element or other top-level value, never the file; it takes about 1.3 times
a ``json.load`` of the file (8.8 s and 107 MB peak RSS for a 234 MB BURST file on which
``json.load`` takes 6.7 s and 688 MB).
"""

from __future__ import annotations

import codecs
import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO, NoReturn

from ..errors import SourceError

#: Text read at a time; a value longer than what is held makes the window grow until it fits.
WINDOW = 1 << 24
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
_BOM = codecs.BOM_UTF8

#: Called with an element's place in its list, its parsed value and its ``(byte offset, byte length)``.
Visitor = Callable[[int, object, tuple[int, int]], None]


class JsonFault(SourceError):
    """Where the file stops being JSON that can be parsed. ``malformed``: it is not JSON (a syntax error, a
    truncated file); else it may be, but Python's parser cannot take it (not UTF-8, nested too deeply, an
    integer of thousands of digits)."""

    def __init__(self, path: str | os.PathLike, cause: str | None = None, malformed: bool = True) -> None:
        super().__init__(path, cause)
        self.malformed = malformed


class _Text:
    """A window of the file's UTF-8 text, with the byte offset of any character position in it."""

    def __init__(self, file: BinaryIO, path: str | os.PathLike) -> None:
        self.file, self.path = file, path
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.text = ""
        self.base = 0  # byte offset of text[0]
        self.mark = (0, 0)  # (character position, its byte offset): byte offsets are asked for in order
        self.eof = False
        self.started = False

    def fail(self, position: int, cause: str) -> NoReturn:
        raise JsonFault(self.path, f"malformed JSON at byte {self.byte(position)}: {cause}")

    def grow(self) -> bool:
        """Read more text (as much again as is held, at least a window); False at the end of the file."""
        if self.eof:
            return False
        chunk = self.file.read(max(WINDOW, len(self.text)))
        if not self.started:  # a byte order mark, which json.load passes over, is no part of the text
            self.started = True
            while chunk and len(chunk) <= len(_BOM) and _BOM.startswith(chunk):  # a mark, or its start: read past it
                more = self.file.read(WINDOW)
                if not more:
                    break
                chunk += more
            if chunk.startswith(_BOM):
                chunk, self.base, self.mark = chunk[len(_BOM) :], len(_BOM), (0, len(_BOM))
        try:
            self.text += self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            start = self.base + len(self.text.encode("utf-8")) + exc.start
            raise JsonFault(self.path, f"not UTF-8 text ({exc.reason} at byte {start})", malformed=False) from None
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
        """The position of the first character at or after ``position`` that is not whitespace (reading on for it,
        the whitespace let go as it is passed: a run of it may be longer than any value)."""
        while True:
            position = _SPACE.match(self.text, position).end()
            if position < len(self.text):
                return position
            position = self.drop(position)
            if not self.grow():
                return position

    def at(self, position: int) -> str:
        return self.text[position] if position < len(self.text) else ""

    def value(self, position: int, what: str) -> tuple[object, int]:
        """The JSON value starting at ``position`` and the position after it, reading on until it is whole."""
        while True:
            decoded = self._decode(position, what)
            if decoded is not None and not self._may_go_on(decoded[1]):
                return decoded
            if not self.grow():  # the file's end
                if decoded is None or decoded[1] < len(self.text):
                    raise JsonFault(self.path, f"{what} (byte {self.byte(position)}): the file ends inside it (truncated?)")
                return decoded

    def _decode(self, position: int, what: str) -> tuple[object, int] | None:
        """The value at ``position`` and the position after it in the text held; None where the text ends inside it."""
        try:
            return _DECODER.raw_decode(self.text, position)
        except json.JSONDecodeError as exc:
            if _cut_short(exc, self.text):
                return None
            raise JsonFault(self.path, f"{what} (byte {self.byte(position)}): malformed JSON: {exc.msg}") from None
        except RecursionError:
            cause = f"{what} (byte {self.byte(position)}): nested too deeply to parse"
            raise JsonFault(self.path, cause, malformed=False) from None
        except ValueError as exc:  # an integer of thousands of digits, which Python will not convert
            raise JsonFault(self.path, f"{what} (byte {self.byte(position)}): {exc}", malformed=False) from None

    def _may_go_on(self, end: int) -> bool:
        """Whether a value decoded up to ``end`` may go on past the text: it ends where the text does, or it is a
        number followed by nothing but a ``.`` or an exponent's start (``1.`` decodes as ``1``, the ``.`` left)."""
        if end == len(self.text):
            return True
        return self.text[end - 1].isdigit() and _NUMBER_TAIL.match(self.text, end) is not None


#: What a value cut short may end in where the decoder stops: the start of a literal (or a bare minus sign), or a
#: number's fraction or exponent with no digit yet.
_LITERALS = ("true", "false", "null", "NaN", "Infinity", "-Infinity")
_NUMBER_TAIL = re.compile(r"(?:\.|[eE][-+]?)\Z")


def _cut_short(error: json.JSONDecodeError, text: str) -> bool:
    """Whether the decoder stopped because the text ends (inside a string, an escape or a literal, or where a
    value or delimiter should come), not at a fault within it: only then is reading more worth it, and at the
    file's end only then is it truncated rather than malformed."""
    rest = text[error.pos : error.pos + 10]
    if error.msg.startswith("Unterminated string"):
        return True
    if error.msg.startswith("Invalid \\uXXXX escape"):  # at the u of an escape the text ends within
        return error.pos + 5 >= len(text)
    if error.pos + len(rest) < len(text):
        return False
    return any(literal.startswith(rest) for literal in _LITERALS) or _NUMBER_TAIL.match(rest) is not None


def scan(
    file: BinaryIO, path: str | os.PathLike, lists: Mapping[str, Visitor], document: str, header: dict | None = None
) -> dict:
    """Each element of the top-level lists named in ``lists`` handed to its visitor, in the file's order; returns
    the top-level object with those lists empty. A named key whose value is not a list is parsed as any other.

    ``file`` is read from where it stands to its end; ``path`` is what errors name; ``document`` what the file
    should be ("a BURST JSON"). The top-level values go into ``header`` as they are read, so a visitor sees those
    before its list. Raises :class:`JsonFault` naming the byte where the file stops being a JSON object (a
    top-level key given twice included), SourceError when it is another JSON value.
    """
    text = _Text(file, path)
    header = {} if header is None else header
    seen: set[str] = set()
    position = text.char(0)
    if text.at(position) != "{":
        raise SourceError(path, f"empty file, not {document}" if not text.text.strip() else f"not {document} object")
    position = text.char(position + 1)
    if text.at(position) == "}":
        position += 1
    else:
        while True:
            start = position
            key, position = text.value(position, "a top-level key")
            if not isinstance(key, str):
                text.fail(position, "a key that is not a string")
            if key in seen:  # json.load keeps the last; a list already handed out cannot be taken back
                text.fail(start, f"the top-level key {key!r} is given twice")
            seen.add(key)
            position = text.char(position)
            if text.at(position) != ":":
                text.fail(position, f"expected ':' after the key {key!r}" if text.at(position) else "the file ends early")
            position = text.char(position + 1)
            if key in lists and text.at(position) == "[":
                header[key], position = [], _elements(text, position + 1, key, lists[key])
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
    return header


def _elements(text: _Text, position: int, key: str, visit: Visitor) -> int:
    """Each element of the list, parsed and visited in turn; the position after the list's ``]``."""
    number = 0
    position = text.char(position)
    if text.at(position) == "]":
        return position + 1
    while True:
        start = text.byte(position)
        value, position = text.value(position, f"{key}/{number}")
        visit(number, value, (start, text.byte(position) - start))
        number += 1
        position = text.char(text.drop(position))
        if text.at(position) == "]":
            return position + 1
        if text.at(position) != ",":
            text.fail(position, f"expected ',' or ']' after an element of {key}" if text.at(position) else "the file ends early")
        position = text.char(position + 1)


def read_span(file: BinaryIO, span: tuple[int, int], path: str | os.PathLike, what: str) -> bytes:
    """The bytes of a range of an open file; SourceError when the file has fewer (it changed since it was scanned)."""
    file.seek(span[0])
    data = file.read(span[1])
    if len(data) != span[1]:
        raise SourceError(path, f"{what}: the file changed since it was indexed (byte {span[0]})")
    return data


def load_span(path: str | Path, span: tuple[int, int], what: str) -> object:
    """The JSON value in a byte range of the file; SourceError naming ``what`` and its byte when it does not parse."""
    try:
        with open(path, "rb") as file:
            data = read_span(file, span, path, what)
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    return parse(data, path, f"{what} (byte {span[0]})")


def parse(data: bytes, path: str | os.PathLike, what: str) -> object:
    """A whole JSON document; SourceError naming ``what`` when it is not one."""
    try:
        return json.loads(data)
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"{what}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except RecursionError:
        raise SourceError(path, f"{what}: nested too deeply to parse") from None
    except ValueError as exc:
        raise SourceError(path, f"{what}: malformed JSON: {exc}") from None
