"""Packing a dataset folder into the archives vosconv reads in place (zip, tar, tar.gz), as the published ones are."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from pathlib import Path

KINDS = {"zip": ".zip", "tar": ".tar", "tgz": ".tar.gz"}
#: Junk that macOS and Finder put into archives: never part of a dataset.
HIDDEN = {"._00000.png": b"\x00\x05\x16\x07 AppleDouble", ".DS_Store": b"\x00\x00\x00\x01Bud1"}


def pack(root: Path, target: Path, kind: str, *, hidden: bool = True, compresslevel: int = 6) -> Path:
    """Every file, folder and link under ``root`` as members named relative to it, in sorted (archive) order.

    ``hidden`` adds ``._00000.png`` and ``.DS_Store`` to every folder holding a PNG, and (zip)
    a ``__MACOSX/`` tree, as archives made on a Mac have.
    """
    paths = sorted(root.rglob("*"))
    extras: list[tuple[str, bytes]] = []
    if hidden:
        folders = sorted({p.parent for p in paths if p.suffix == ".png"})
        extras = [
            (f"{f.relative_to(root).as_posix()}/{name}", data)
            for f in folders
            for name, data in HIDDEN.items()
            if not (f / name).exists()
        ]
    if kind == "zip":
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as archive:
            for path in paths:
                name = path.relative_to(root).as_posix()
                if path.is_symlink():
                    info = zipfile.ZipInfo(name)
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    archive.writestr(info, os.readlink(path))
                else:
                    archive.write(path, name)
            for name, data in extras:
                archive.writestr(name, data)
            if hidden:
                archive.writestr("__MACOSX/._train", b"\x00\x05\x16\x07 resource fork")
        return target
    options = {"compresslevel": compresslevel} if kind == "tgz" else {}
    with tarfile.open(target, "w:gz" if kind == "tgz" else "w", **options) as archive:
        for path in paths:
            archive.add(path, path.relative_to(root).as_posix(), recursive=False)
        for name, data in extras:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return target


def stored_zip_with_damaged_members(root: Path, target: Path, members: list[str]) -> Path:
    """``root``'s files as a stored (uncompressed) zip, one byte flipped in the middle of each of
    ``members``: header and tail, all a reader probes, stay intact; only the CRC-32 finds it."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(root).as_posix())
    with zipfile.ZipFile(target) as archive:
        infos = [archive.getinfo(name) for name in members]
    data = bytearray(target.read_bytes())
    for info in infos:
        data[info.header_offset + 30 + len(info.filename) + info.compress_size // 2] ^= 0xFF
    target.write_bytes(bytes(data))
    return target
