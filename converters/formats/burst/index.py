"""Reading a BURST JSON one sequence at a time, never the whole file at once.

A BURST file is one JSON object whose ``sequences`` list holds every video of a split, masks
included, so it grows with the split: :func:`scan` hands each sequence to a visitor with its
byte range as :mod:`converters.sources.jsonscan` reads it, and the reader parses one sequence
again later (in a worker) from its range. Memory follows the largest sequence, never the file
(8.8 s and 107 MB peak RSS for a 234 MB file on which ``json.load`` takes 6.7 s and 688 MB).
"""

from __future__ import annotations

from pathlib import Path

from ...errors import SourceError
from ...sources import jsonscan
from ...sources.jsonscan import Visitor, load_span, parse

__all__ = ["load_span", "parse", "scan"]


def scan(path: Path, visit: Visitor) -> dict:
    """Every sequence handed to ``visit``; returns the top-level object with ``sequences`` emptied.

    Raises SourceError naming the byte where the file stops being a JSON object with a ``sequences`` list.
    """

    def sequence(number: int, value: object, span: tuple[int, int]) -> None:
        if not isinstance(value, dict):
            raise SourceError(path, f"sequences/{number} (byte {span[0]}): expected an object")
        visit(number, value, span)

    try:
        with open(path, "rb") as file:
            header = jsonscan.scan(file, path, {"sequences": sequence}, "a BURST JSON")
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    if header.get("sequences") != []:
        raise SourceError(path, "not a BURST JSON: no top-level sequences list")
    return header
