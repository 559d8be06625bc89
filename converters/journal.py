"""The record of finished shards that lets an interrupted conversion resume.

The parent process appends one JSON line per finished shard to ``journal.jsonl`` in the
staging folder when the shard is done. A line names
the shard, a key over everything that determines the shard's bytes (vosconv version,
reader and writer with their options, the source, the shard's videos and their sizes),
the files it wrote with size and sha256, and what ``finalize`` needs from it. On
``--resume`` a shard is reused only when its key matches and its files are intact;
anything else is done again, so the result is the same as an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from . import __version__
from .checksums import sha256

JOURNAL = "journal.jsonl"


def shard_key(context: dict[str, Any], names_and_sizes: list[tuple[str, int]]) -> str:
    """A digest of everything that decides a shard's bytes."""
    text = json.dumps({"vosconv": __version__, **context, "videos": names_and_sizes}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def options_record(options: object) -> dict[str, Any]:
    return dataclasses.asdict(options) if dataclasses.is_dataclass(options) else {}


def checksums(staging: Path, files: tuple[str, ...]) -> tuple[tuple[str, int, str], ...]:
    """``(path, bytes, sha256)`` of each file a shard wrote (paths relative to ``staging``)."""
    return tuple((name, (staging / name).stat().st_size, sha256(staging / name)) for name in files)


class Journal:
    def __init__(self, staging: Path) -> None:
        self.path = staging / JOURNAL

    def entries(self) -> dict[int, dict[str, Any]]:
        """Complete entries by shard index; a line torn by a crash is ignored."""
        found: dict[int, dict[str, Any]] = {}
        if not self.path.exists():
            return found
        with open(self.path) as file:
            for line in file:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue
                found[int(entry["shard"])] = entry
        return found

    def intact(self, entry: dict[str, Any], key: str, staging: Path) -> bool:
        """True when the entry belongs to this plan and every file it lists is still what it wrote."""
        if entry.get("key") != key:
            return False
        for name, size, digest in entry["result"]["checksums"]:
            path = staging / name
            if not path.is_file() or path.stat().st_size != size or sha256(path) != digest:
                return False
        return True

    def record(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, sort_keys=True) + "\n"
        with open(self.path, "a") as file:
            file.write(line)  # no fsync: after a power cut, resume re-checks every file's sha256 anyway
