"""vosconv's COCO RLE JSON: the names and first bytes the writer, the reader and the output checks share."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from pathlib import Path

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
