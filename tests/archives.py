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


def with_member_replaced(root: Path, target: Path, kind: str, member: str, chunks) -> Path:
    """``root`` as a deflated zip or a tar.gz whose ``member`` holds the bytes of ``chunks`` (an iterable,
    so a member of many megabytes of zeros is never held whole); the sizes are declared honestly."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    if kind == "zip":
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                name = path.relative_to(root).as_posix()
                if name != member:
                    archive.write(path, name)
                    continue
                with archive.open(name, "w", force_zip64=True) as out:
                    for chunk in chunks:
                        out.write(chunk)
        return target
    with tarfile.open(target, "w:gz", compresslevel=1) as archive:
        for path in files:
            name = path.relative_to(root).as_posix()
            if name != member:
                archive.add(path, name, recursive=False)
                continue
            data = b"".join(chunks)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return target


def with_zip64_compressed_size(source: Path, target: Path, member: str, compressed: int) -> Path:
    """``source`` (a zip) whose central directory gives ``member`` a ZIP64 compressed size of ``compressed``
    bytes: the 32-bit field says 0xFFFFFFFF and a ZIP64 extra field holds the size, as a large archive's would."""
    data = bytearray(source.read_bytes())
    name = member.encode()
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.index(b"PK\x01\x02", entry + 4)
    name_length, extra_length = (
        int.from_bytes(data[entry + 28 : entry + 30], "little"),
        int.from_bytes(data[entry + 30 : entry + 32], "little"),
    )
    data[entry + 20 : entry + 24] = b"\xff\xff\xff\xff"
    data[entry + 30 : entry + 32] = (extra_length + 12).to_bytes(2, "little")
    at = entry + 46 + name_length + extra_length
    data[at:at] = (1).to_bytes(2, "little") + (8).to_bytes(2, "little") + compressed.to_bytes(8, "little")
    end = data.rindex(b"PK\x05\x06")
    directory_size = int.from_bytes(data[end + 12 : end + 16], "little")
    data[end + 12 : end + 16] = (directory_size + 12).to_bytes(4, "little")
    target.write_bytes(bytes(data))
    return target


def with_directory_name(source: Path, target: Path, member: str, name: str) -> Path:
    """``source`` (a zip) whose central directory calls ``member`` ``name``; its local header, and every other
    member, unchanged: a directory renamed (by damage or on purpose) after the archive was written."""
    data = bytearray(source.read_bytes())
    old = member.encode()
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(old)] != old or int.from_bytes(data[entry + 28 : entry + 30], "little") != len(old):
        entry = data.index(b"PK\x01\x02", entry + 4)
    new = name.encode()
    data[entry + 28 : entry + 30] = len(new).to_bytes(2, "little")
    data[entry + 46 : entry + 46 + len(old)] = new
    end = data.rindex(b"PK\x05\x06")
    directory_size = int.from_bytes(data[end + 12 : end + 16], "little")
    data[end + 12 : end + 16] = (directory_size + len(new) - len(old)).to_bytes(4, "little")
    target.write_bytes(bytes(data))
    return target
