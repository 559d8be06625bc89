"""vosconv's COCO RLE JSON: the names, first bytes and header shape the writer, the readers and the output checks share."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path

from ...errors import SourceError
from ...model import check_text as check_utf8

#: What a COCO file is named (a file of another name is read too, by its first bytes).
SUFFIXES = (".json", ".json.gz")
DESCRIPTION = "VOS annotations converted by vosconv"
#: The key of vosconv's facts in ``info`` (source, image root, placeholder categories) and in each video record.
HEADER_KEY = "vosconv"
#: The key of a video's void region (one RLE or null per frame) in its ``vosconv`` record.
VOID_KEY = "void"
#: The first bytes of every file the writer makes (before gzip): how vosconv recognises its own output.
FILE_HEAD = b'{"info":{"description":' + json.dumps(DESCRIPTION).encode()
#: The line after the header in the line-per-record form the writer makes (and the reader indexes).
VIDEOS_LINE = b'"videos":[\n'
GZIP_MAGIC = b"\x1f\x8b"


def is_vosconv_coco(path_or_head: str | os.PathLike | bytes) -> bool:
    """Whether a file (or the first bytes of its JSON, unpacked) starts as every COCO file vosconv writes.

    A path is opened only when it is a regular file (a FIFO would block, a link is not followed:
    ``--overwrite`` replaces no link); unreadable or corrupt gzip is not vosconv's.
    """
    if isinstance(path_or_head, (bytes, bytearray)):
        return path_or_head.startswith(FILE_HEAD)
    path = Path(path_or_head)
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with open(path, "rb") as raw:
            head = raw.read(len(FILE_HEAD))
            if head.startswith(GZIP_MAGIC):
                raw.seek(0)
                with gzip.GzipFile(fileobj=raw) as unpacked:
                    head = unpacked.read(len(FILE_HEAD))
    except (OSError, EOFError, zlib.error):
        return False
    return head.startswith(FILE_HEAD)


def check_header(header: object, source: Path) -> None:
    """``info.vosconv``, where present, has the shape vosconv writes (a re-saved or edited file may not)."""

    def malformed(cause: str) -> SourceError:
        return SourceError(source, f"malformed file: {cause}")

    if not isinstance(header, dict):
        raise malformed(f"info must be an object, got {type(header).__name__}")
    facts = header.get(HEADER_KEY, {})
    if not isinstance(facts, dict):
        raise malformed("info.vosconv must be an object")
    found = facts.get("source", {})
    if not isinstance(found, dict) or not isinstance(found.get("attributes") or {}, dict):
        raise malformed("info.vosconv.source and its attributes must be objects")
    if not isinstance(found.get("split"), (str, type(None))) or not isinstance(facts.get("image_root"), (str, type(None))):
        raise malformed("info.vosconv.source.split and info.vosconv.image_root must be strings or null")
    attributes = found.get("attributes") or {}
    if not all(isinstance(value, str) for value in attributes.values()):
        raise malformed("info.vosconv.source.attributes must map names to strings")
    for text in (found.get("split"), facts.get("image_root"), *attributes, *attributes.values()):
        try:  # the writers store them as UTF-8: a "\\udcff" escape is JSON, but half a character
            check_utf8("info.vosconv: the text", text)
        except ValueError as exc:
            raise malformed(str(exc)) from None
    for key in ("placeholder_categories", "filled_supercategories"):
        ids = facts.get(key, [])
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise malformed(f"info.vosconv.{key} must be a list of integers")
