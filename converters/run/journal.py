"""The record of finished shards that lets an interrupted conversion resume.

The parent process appends one JSON line per finished shard to ``journal.jsonl`` in the
staging folder when the shard is done. A line names
the shard, a key over everything that determines the shard's bytes (vosconv version,
reader and writer with their options, the source, the shard's videos and their sizes),
the files it wrote with size and sha256, what ``finalize`` needs from it, and a seal (a
digest of the line) that voids the line if anything in it changes. On ``--resume`` a shard
is reused only when its line is sealed and well formed, its key matches and its files
(inside the staging folder) are intact; anything else is done again, so the result is the
same as an uninterrupted run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path, PurePosixPath
from typing import Any

from ..sources.checksums import sha256
from ..version import __version__

JOURNAL = "journal.jsonl"
#: Bumped when what a line records changes: lines of an older vosconv are then never reused.
#: 2: folder-layout shards list their files (1 listed none, which pruning would have emptied).
FORMAT = 2


def shard_key(context: dict[str, Any], names_and_sizes: list[tuple[str, int]]) -> str:
    """A digest of everything that decides a shard's bytes."""
    record = {"vosconv": __version__, "journal": FORMAT, **context, "videos": names_and_sizes}
    text = json.dumps(record, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def options_record(options: object) -> dict[str, Any]:
    return dataclasses.asdict(options) if dataclasses.is_dataclass(options) else {}


def checksums(
    staging: Path, files: tuple[str, ...], known: tuple[tuple[str, int, str], ...] = ()
) -> tuple[tuple[str, int, str], ...]:
    """``(path, bytes, sha256)`` of each file a shard wrote (paths relative to ``staging``).

    ``known`` are those the writer computed from the bytes it wrote; the others are read back.
    """
    given = {c[0]: c for c in known}
    return tuple(given.get(name) or (name, (staging / name).stat().st_size, sha256(staging / name)) for name in files)


class Journal:
    def __init__(self, staging: Path) -> None:
        self.path = staging / JOURNAL

    def entries(self) -> dict[int, dict[str, Any]]:
        """Well-formed entries by shard index; a line torn by a crash, or not one we wrote, is ignored.

        Ignoring is always safe: a shard without an entry is simply done again.
        """
        found: dict[int, dict[str, Any]] = {}
        if not self.path.exists():
            return found
        with open(self.path, "rb") as file:
            for line in file:
                try:
                    entry = json.loads(line)
                except (UnicodeDecodeError, ValueError, RecursionError):
                    continue
                if _well_formed(entry) and _sealed(entry):
                    found[entry["shard"]] = entry
        return found

    def intact(self, entry: dict[str, Any], key: str, staging: Path) -> bool:
        """True when the entry belongs to this plan and every file it lists is still what it wrote.

        The files must be exactly those with checksums, each a plain relative path inside
        ``staging``: a reused entry can never bring in a file from anywhere else.
        """
        if entry.get("key") != key:
            return False
        result = entry["result"]
        if [c[0] for c in result["checksums"]] != result["files"]:
            return False
        root = staging.resolve()
        for name, size, digest in result["checksums"]:
            path = staging / name
            if not _inside(root, name) or path.is_symlink() or not path.is_file():
                return False
            if path.stat().st_size != size or sha256(path) != digest:
                return False
        return True

    def record(self, entry: dict[str, Any]) -> None:
        line = json.dumps(seal(entry), sort_keys=True) + "\n"
        with open(self.path, "a") as file:
            file.write(line)  # no fsync: after a power cut, resume re-checks every file's sha256 anyway


def seal(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with ``seal``, a digest of the rest: any change to a line (``facts`` included) voids it."""
    body = {k: v for k, v in entry.items() if k != "seal"}
    return {**body, "seal": _digest(body)}


def _sealed(entry: dict[str, Any]) -> bool:
    return entry.get("seal") == _digest({k: v for k, v in entry.items() if k != "seal"})


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _well_formed(entry: object) -> bool:
    """The shape :meth:`Journal.record` writes: anything else (hand edits, another tool, damage) is not reused."""
    if not isinstance(entry, dict) or not isinstance(entry.get("key"), str):
        return False
    shard, result, stats = entry.get("shard"), entry.get("result"), entry.get("stats")
    if type(shard) is not int or shard < 0 or not isinstance(result, dict) or not isinstance(stats, dict):
        return False
    files, checksums = result.get("files"), result.get("checksums")
    if result.get("index") != shard or not isinstance(result.get("facts"), dict):
        return False
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files) or not isinstance(checksums, list):
        return False
    return all(
        isinstance(c, list)
        and len(c) == 3
        and isinstance(c[0], str)
        and type(c[1]) is int
        and c[1] >= 0
        and isinstance(c[2], str)
        for c in checksums
    )


def _inside(root: Path, name: str) -> bool:
    """``name`` is a relative path that stays inside ``root`` (after resolving links)."""
    relative = PurePosixPath(name)
    if not name or relative.is_absolute() or ".." in relative.parts or "\\" in name:
        return False
    return (root / relative).resolve().is_relative_to(root)
