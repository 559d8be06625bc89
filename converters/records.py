"""One strict way to read untrusted records (JSON objects from files vosconv did not necessarily write).

A :class:`Record` wraps a parsed JSON object with the file it came from and where in it it
sits; its typed accessors return the value or raise :class:`~converters.errors.SourceError`
naming the file and the field: ``manifest.json: malformed manifest: videos/3/frames: expected
an integer, got '7'``. A reader then needs no broad ``except (KeyError, TypeError, ...)``,
which also turned vosconv's own bugs into "malformed file" messages.

Integers are strict by default (not a bool, a float or a string of digits). Where other tools'
files are known to hold floats or strings (YouTube-VIS sizes written as ``480.0``, ids as ``"7"``),
ask for ``lenient=True``: a number or a string as Python's ``int()`` takes it (the readers did so before).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, NoReturn

from .errors import SourceError

__all__ = ["MISSING", "Record", "shown"]


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


#: The default of an accessor whose field is required.
MISSING: Any = _Missing()


def shown(value: object, limit: int = 40) -> str:
    """A value for an error message, cut short (a nested list can be long)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: object) -> str:
    """What a JSON value is, in the words of an error message."""
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "a list", dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


class Record:
    """A JSON object read from ``path``; ``field`` says where in the file it is (``videos/3``), ``context`` what it is.

    Each accessor takes the key, and a ``default`` returned when the key is absent (or null,
    with ``null_is_missing``); without a default a missing key is an error naming it.
    """

    __slots__ = ("context", "field", "path", "value")

    def __init__(self, value: object, path: str | os.PathLike, field: str = "", context: str = "") -> None:
        self.path, self.field, self.context = path, field, context
        if not isinstance(value, dict):
            self.fail(f"expected an object, got {shown(value)}")
        self.value: dict[str, Any] = value

    # ------------------------------------------------------------------ errors

    def where(self, key: str | int | None = None) -> str:
        """The field's name in messages, its keys and list positions joined by ``/``: ``videos/3/frames``."""
        if key is None:
            return self.field
        return f"{self.field}/{key}" if self.field else str(key)

    def fail(self, cause: str, key: str | int | None = None) -> NoReturn:
        """Raise the SourceError naming the file, the context and the field."""
        field = self.where(key)
        parts = [part for part in (self.context, field) if part]
        raise SourceError(self.path, ": ".join([*parts, cause]))

    def _absent(self, key: str, default: Any) -> Any:
        """The default of a key the record lacks; an error naming it when it is required."""
        if default is MISSING:
            self.fail("missing", key)
        return default

    # ------------------------------------------------------------------ accessors

    def __contains__(self, key: str) -> bool:
        return key in self.value

    def raw(self, key: str, default: Any = MISSING) -> Any:
        """The value as it is (for a field any JSON value may be, or one checked elsewhere)."""
        return self.value[key] if key in self.value else self._absent(key, default)

    def int(self, key: str, default: Any = MISSING, *, lenient: bool = False, nullable: bool = False) -> Any:
        """An integer; ``lenient``: also an integral float or a string of digits (``480.0``, ``"7"``)."""
        if key not in self.value:
            return self._absent(key, default)
        value = self.value[key]
        return None if value is None and nullable else self.as_int(value, key, lenient=lenient)

    def as_int(self, value: object, key: str | int | None = None, *, lenient: bool = False) -> int:
        """``value`` (found at ``key``) as an integer, strictly or leniently as :meth:`int` says."""
        if type(value) is int:
            return value
        if lenient and isinstance(value, (float, str)):
            try:
                return int(value)  # as Python's int() takes it: 480.0, "7"
            except (ValueError, OverflowError) as exc:  # "abc", nan, inf, a 5,000-digit string
                self.fail(f"expected an integer, got {shown(value)} ({type(exc).__name__}: {exc})", key)
        self.fail(f"expected an integer, got {shown(value)}", key)

    def text(self, key: str, default: Any = MISSING, *, nullable: bool = False, lenient: bool = False) -> Any:
        """A string (or None, when ``nullable`` and the value is null); ``lenient``: also a number, as its digits
        (another tool's name ``7``), never a list or an object (whose repr would go on as the text)."""
        if key not in self.value:
            return self._absent(key, default)
        value = self.value[key]
        if value is None and nullable:
            return value
        if lenient and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str):
            self._check_utf8(value, key)
            return value
        self.fail(f"expected a string, got {shown(value)}", key)

    def _check_utf8(self, value: str, key: str | int) -> None:
        """JSON's ``\\udcff`` escapes decode to half a character, which no writer can encode: refused here, named."""
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                self.fail(f"{shown(value)} is not UTF-8 text (character {exc.start} is a lone surrogate)", key)

    def bool(self, key: str, default: Any = MISSING) -> Any:
        if key not in self.value:
            return self._absent(key, default)
        value = self.value[key]
        if isinstance(value, bool):
            return value
        self.fail(f"expected true or false, got {shown(value)}", key)

    def list(self, key: str, default: Any = MISSING, *, nullable: bool = False) -> Any:
        if key not in self.value:
            return self._absent(key, default)
        value = self.value[key]
        if isinstance(value, list) or (value is None and nullable):
            return value
        self.fail(f"expected a list, got {_kind(value)}", key)

    def ints(self, key: str, default: Any = MISSING, *, nullable: bool = False) -> Any:
        """A list of integers (strictly: no bool, float or string among them)."""
        if key not in self.value:
            return self._absent(key, default)
        values = self.list(key, nullable=nullable)
        if values is not None and not all(type(v) is int for v in values):
            self.fail(f"expected a list of integers, got {shown(values)}", key)
        return values

    def texts(self, key: str, default: Any = MISSING, *, nullable: bool = False) -> Any:
        """A list of strings."""
        if key not in self.value:
            return self._absent(key, default)
        values = self.list(key, nullable=nullable)
        if values is not None and not all(isinstance(v, str) for v in values):
            self.fail(f"expected a list of strings, got {shown(values)}", key)
        for index, value in enumerate(values or ()):
            self._check_utf8(value, f"{key}/{index}")
        return values

    def record(self, key: str, default: Any = MISSING) -> Any:
        """A nested object, as a Record (its fields named under this one's)."""
        if key not in self.value:
            return self._absent(key, default)
        value = self.value[key]
        if not isinstance(value, dict):
            self.fail(f"expected an object, got {shown(value)}", key)
        return Record(value, self.path, self.where(key), self.context)

    def records(self, key: str, default: Any = MISSING) -> Any:
        """A list of objects, as Records named ``key[i]``."""
        if key not in self.value:
            return self._absent(key, default)
        return list(self.each(self.list(key), key))

    def each(self, values: list, key: str) -> Iterator[Record]:
        """Records of a list found at ``key``."""
        for index, value in enumerate(values):
            yield Record(value, self.path, self.where(f"{key}/{index}"), self.context)
