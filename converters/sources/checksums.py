"""Known SHA256 checksums of the official dataset downloads, to tell which release a file is.

Sources: the MOSE-api repository's history (the training archive was re-released on
2023-11-23 to drop four single-frame videos, so both values are genuine) and the
TensorFlow Datasets checksum file for the DAVIS 2017 zips (see ../shared/docs/input-layouts.md).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Release:
    dataset: str
    file_name: str
    description: str


KNOWN: dict[str, Release] = {
    "8bcb6081699ee273b7983dbe8204daf6045077fe0f356d49f6f365c2b3328bdb": Release(
        "MOSE", "train.tar.gz", "MOSE train, first release (Feb 2023; includes 4 single-frame videos)"
    ),
    "3f805e66ecb576fdd37a1ab2b06b08a428edd71994920443f70d09537918270b": Release(
        "MOSE", "train.tar.gz", "MOSE train, re-release of 2023-11-23 (the current one)"
    ),
    "884baecf7d7e85cd35486e45d6c474dc34352a227ac75c49f6d5e4afb61b331c": Release("MOSE", "valid.tar.gz", "MOSE valid"),
    "e3d0b5b77c3d031b000a19e0e25e3e2cac65d183755601bc2cf066df1a2aa492": Release(
        "DAVIS", "DAVIS-2017-trainval-480p.zip", "DAVIS 2017 train+val, 480p"
    ),
    "519494b320e7a333b98188e0f44e028f379c3312a1fc1a3e8bddd64b2c9ecfaf": Release(
        "DAVIS", "DAVIS-2017-trainval-Full-Resolution.zip", "DAVIS 2017 train+val, full resolution"
    ),
}


def sha256(path: str | os.PathLike, progress: Callable[[int], object] | None = None, chunk: int = 4 << 20) -> str:
    """The file's SHA256, reading it in chunks; ``progress(n)`` is called with each chunk's size."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(chunk):
            digest.update(block)
            if progress is not None:
                progress(len(block))
    return digest.hexdigest()


def identify(digest: str) -> Release | None:
    return KNOWN.get(digest.lower())


def releases_named(file_name: str) -> list[Release]:
    """Known releases whose download has this file name (to explain a mismatch)."""
    return [r for r in KNOWN.values() if r.file_name == file_name]
