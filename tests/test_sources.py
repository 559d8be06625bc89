"""The filesystem layer: folders and archives (zip, tar, tar.gz) read in place, without extraction.

Paths inside an archive are ``<archive>/<member>``; listings, reads and seeks must give
exactly what the extracted folder gives. Bad archives fail with the archive (and the member,
when known) named; the index lives in a temporary folder that ``close`` removes; readers
pickle as paths, and a worker that cannot see the parent's memory loads the saved index.
"""

from __future__ import annotations

import gzip
import io
import json
import multiprocessing
import os
import pickle
import random
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path

import pytest

from converters import api
from converters.errors import DetectionError, SourceError
from converters.formats.mose.reader import MoseReader
from converters.model import ImageRef
from converters.sources import archives
from converters.sources import files as sources
from converters.sources.imagefiles import probe_image, read_bytes
from converters.testing import fingerprint

from .archives import HIDDEN, KINDS, pack, stored_zip_with_damaged_members, with_member_replaced, with_zip64_compressed_size

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def own_temp(tmp_path, monkeypatch):
    """Index folders go to a private temporary folder, so a test can see what is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    for catalog in list(archives._CATALOGS.values()):  # nothing leaks into the next test
        catalog.release()
    archives._CATALOGS.clear()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("vosconv-archive-"))


@pytest.fixture
def mose_archive(sample_root, tmp_path):
    def make(kind: str, **options) -> Path:
        return pack(sample_root["mose"], tmp_path / f"mose{KINDS[kind]}", kind, **options)

    return make


def visible_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# ------------------------------------------------------------------------------------ the layer


def test_archive_kind_and_json_gz_is_not_an_archive(tmp_path, sample_root):
    assert [sources.archive_kind(n) for n in ("a.zip", "a.TAR", "a.tar.gz", "a.tgz")] == ["zip", "tar", "tgz", "tgz"]
    assert sources.archive_kind("a.json.gz") is None and sources.archive_kind("a.gz") is None
    out = tmp_path / "x.json.gz"
    api.convert(sample_root["mose"], out, to="coco", reader_options={"split": "valid"})
    assert sources.filesystem(out) is sources.LOCAL
    assert api.detect(out) == "coco"


def test_published_mose_archive_needs_no_split(sample_root, tmp_path):
    """``train.tar.gz`` unpacks to ``train/``: detected as MOSE, and its one split is chosen without ``--split``."""
    shutil.copytree(sample_root["mose"] / "train", tmp_path / "tree" / "train")
    archive = pack(tmp_path / "tree", tmp_path / "train.tar.gz", "tgz")
    assert api.detect(archive) == "mose"
    with api.open_reader(archive) as reader, MoseReader(sample_root["mose"], MoseReader.Options(split="train")) as folder:
        assert reader.info().split == "train"
        assert [r.name for r in reader.list_videos()] == [r.name for r in folder.list_videos()]


def test_a_folder_named_like_an_archive_is_a_folder(tmp_path):
    (tmp_path / "data.zip").mkdir()
    assert sources.filesystem(tmp_path / "data.zip") is sources.LOCAL


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_listing_and_reading_match_the_folder(kind, mose_archive, sample_root):
    root = sample_root["mose"]
    archive = mose_archive(kind)
    fs = sources.filesystem(archive)
    try:
        for folder in [root, *sorted(p for p in root.rglob("*") if p.is_dir())]:
            inside = archive / folder.relative_to(root) if folder != root else archive
            assert fs.is_dir(inside) and not fs.is_file(inside) and fs.exists(inside)
            want = {(e.name, e.is_dir(), e.is_file(), e.stat().st_size if e.is_file() else 0) for e in os.scandir(folder)}
            got = {(e.name, e.is_dir, e.is_file, e.size) for e in fs.scandir(inside)}
            assert {g for g in got if g[0] not in HIDDEN} == {w for w in want if w[0] not in HIDDEN}
            if any(name.endswith(".png") for name, *_ in want):
                assert {g[0] for g in got} >= set(HIDDEN)  # the junk is listed (readers skip it)
            assert all(e.path == f"{inside}/{e.name}" for e in fs.scandir(inside))
        for name, data in visible_files(root).items():
            assert fs.is_file(archive / name) and not fs.is_dir(archive / name)
            assert fs.read(archive / name) == data
            with fs.open(archive / name) as file:  # what probe_image does: the head, then the tail
                assert file.read(10) == data[:10]
                file.seek(max(file.seek(0, os.SEEK_END) - 7, 0))
                assert file.read() == data[-7:]
        assert not fs.exists(archive / "train" / "nope") and not fs.is_dir(archive / "nope")
        with pytest.raises(FileNotFoundError):
            fs.read(archive / "train" / "nope.png")
        with pytest.raises(IsADirectoryError):
            fs.read(archive / "train")
        with pytest.raises(NotADirectoryError):
            fs.scandir(archive / next(iter(visible_files(root))))
        if kind == "zip":
            assert not fs.exists(archive / "__MACOSX")  # junk from a Mac's archiver is not listed
    finally:
        fs.close()


def _without_utf8_flag(data: bytes) -> bytes:
    """The zip as Info-ZIP writes it on Linux: UTF-8 names, general purpose bit 11 not set."""
    data = bytearray(data)
    for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = data.find(signature)
        while start != -1:
            data[start + offset + 1] &= ~0x08  # bit 11 is bit 3 of the flags' high byte
            start = data.find(signature, start + 4)
    return bytes(data).replace(b"cafX.txt", b"caf\x82.txt")  # a byte only cp437 reads


def test_zip_names_in_utf8_without_the_flag_read_as_written(tmp_path):
    """zipfile would decode such a name as cp437 (``vid├⌐o``); unzip, and we, read UTF-8."""
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as archive:
        archive.writestr("vidéo/ü.txt", b"utf8")
        archive.writestr("cafX.txt", b"cp437")  # made "caf\x82.txt" below: cp437 0x82 is "é", and not UTF-8
        named = zipfile.ZipInfo("renamed.txt")  # 7-Zip's legacy name, with the UTF-8 one in extra field 0x7075
        utf8 = "résumé.txt".encode()
        named.extra = struct.pack("<HHBI", 0x7075, 5 + len(utf8), 1, zlib.crc32(b"renamed.txt")) + utf8
        archive.writestr(named, b"extra")
    target = tmp_path / "linux.zip"
    target.write_bytes(_without_utf8_flag(plain.getvalue()))
    with zipfile.ZipFile(target) as check:  # the flag is really gone
        assert "vid├⌐o/├╝.txt" in check.namelist()
    fs = sources.filesystem(target)
    try:
        assert sorted(e.name for e in fs.scandir(target)) == ["café.txt", "résumé.txt", "vidéo"]
        assert fs.read(target / "vidéo" / "ü.txt") == b"utf8"
        assert fs.read(target / "café.txt") == b"cp437"
        assert fs.read(target / "résumé.txt") == b"extra"
    finally:
        fs.close()


def test_member_names_are_normalised(tmp_path):
    target = tmp_path / "odd.tar"
    with tarfile.open(target, "w") as archive:
        for name, data in (("./a/b.txt", b"one"), ("/a//c.txt", b"two"), ("../escape.txt", b"no"), ("x/y/z.txt", b"deep")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    fs = sources.filesystem(target)
    assert sorted(e.name for e in fs.scandir(target / "a")) == ["b.txt", "c.txt"]
    assert fs.read(target / "a" / "c.txt") == b"two"
    assert [e.name for e in fs.scandir(target)] == ["a", "x"]  # folders that have no member of their own
    assert [e.name for e in fs.scandir(target / "x")] == ["y"] and fs.read(target / "x/y/z.txt") == b"deep"
    with pytest.raises(FileNotFoundError):
        fs.read(tmp_path / "elsewhere.txt")  # not a path inside the archive
    fs.close()


def test_tar_links(tmp_path):
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG data")
    os.link(folder / "a.png", folder / "b.png")
    (folder / "c.png").symlink_to("a.png")
    target = tmp_path / "links.tar"
    with tarfile.open(target, "w") as archive:
        archive.add(folder, "tree")
    fs = sources.filesystem(target)
    assert fs.read(target / "tree" / "b.png") == b"\x89PNG data"  # a hard link: the same bytes
    (link,) = [e for e in fs.scandir(target / "tree") if e.name == "c.png"]
    assert not link.is_file and not link.is_dir and fs.exists(link.path)  # a symbolic link: listed, never read
    with pytest.raises(OSError, match="not a regular file"):
        fs.read(link.path)
    fs.close()


def test_concatenated_gzip_members_and_trailing_zeros(tmp_path, mose_archive, sample_root):
    tar = mose_archive("tar").read_bytes()
    target = tmp_path / "two.tar.gz"
    target.write_bytes(gzip.compress(tar[:100_000]) + gzip.compress(tar[100_000:]) + bytes(1024))
    fs = sources.filesystem(target)
    files = visible_files(sample_root["mose"])
    assert all(fs.read(target / name) == data for name, data in files.items())
    fs.close()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_image_refs_point_into_the_archive(kind, mose_archive, sample_root):
    archive = mose_archive(kind)
    train = MoseReader.Options(split="train")
    with MoseReader(archive, train) as reader, MoseReader(sample_root["mose"], train) as folder:
        ref = reader.list_videos()[0]
        video, same = reader.read_video(ref), folder.read_video(folder.list_videos()[0])
        image = video.frames[0].image
        assert image.archive == str(archive) and image.path == f"train/JPEGImages/{video.name}/00000.jpg"
        assert image.location == f"{archive}/{image.path}"
        assert read_bytes(image) == read_bytes(same.frames[0].image)
        assert probe_image(f"{archive}/{image.path}", fs=reader.fs) == (video.width, video.height)


def test_image_ref_fields():
    with pytest.raises(ValueError):
        ImageRef(archive="a.zip")
    assert ImageRef(path="x/1.jpg").location == "x/1.jpg"
    assert ImageRef(data=b"x").location == "<image bytes>"


# ------------------------------------------------------------------------------- tar.gz blocks


def test_tgz_blocks_give_the_same_bytes_across_seek_points(tmp_path, sample_root, monkeypatch):
    """Small seek-point spacing and a one-block cache: every member read crosses or re-reads blocks."""
    monkeypatch.setattr(archives, "MIN_SPACING", 64 * 1024)
    monkeypatch.setattr(archives, "CACHED_BLOCKS", 1)
    root = tmp_path / "tree"
    shutil.copytree(sample_root["davis"], root)
    noise = root / "DAVIS" / "noise"  # incompressible: zlib ends a deflate block every ~16 kB, so seek points are dense
    noise.mkdir()
    for n in range(6):
        (noise / f"{n}.bin").write_bytes(random.Random(n).randbytes(150_000 + n))
    archive = pack(root, tmp_path / "d.tar.gz", "tgz", compresslevel=1)
    fs = sources.filesystem(archive)
    catalog = fs._catalog()
    assert len(catalog.blocks.points) > 8
    files = visible_files(root)
    for name in reversed(files):  # backwards: no read continues the previous one
        assert fs.read(archive / name) == files[name]
    assert catalog.blocks.decompressed > catalog.blocks.size
    fs.close()


def test_spacing_bounds_the_index():
    assert archives.spacing_for(10 * 1024 * 1024) == archives.MIN_SPACING
    spacing = archives.spacing_for(100 * 2**30)
    assert spacing % 2**20 == 0 and 100 * 2**30 / spacing <= archives.MAX_POINTS


# ------------------------------------------------------------------------------- bad archives


def convert_fails(source: Path, out: Path) -> SourceError:
    with pytest.raises(SourceError) as caught:
        api.convert(source, out, to="coco", reader_options={"split": "train"})
    assert not out.exists() and not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
    return caught.value


def test_truncated_tgz_names_the_archive_and_member(mose_archive, tmp_path, own_temp):
    data = mose_archive("tgz").read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) // 2])
    error = convert_fails(cut, tmp_path / "out.json")
    assert error.path.startswith(f"{cut}/train/") and "truncated gzip data" in error.cause
    assert leftovers(own_temp) == []


def test_corrupt_tgz(mose_archive, tmp_path):
    data = bytearray(mose_archive("tgz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(bytes(data))
    error = convert_fails(bad, tmp_path / "out.json")
    assert error.path.startswith(str(bad)) and "corrupt gzip data" in error.cause


def test_truncated_tar_names_the_cut_member(mose_archive, tmp_path):
    archive = mose_archive("tar")
    with tarfile.open(archive) as tar:
        last = [m for m in tar.getmembers() if m.isfile()][-1]
    cut = tmp_path / "cut.tar"
    cut.write_bytes(archive.read_bytes()[: last.offset_data + last.size // 2])
    error = convert_fails(cut, tmp_path / "out.json")
    assert error.path == f"{cut}/{last.name}" and "truncated" in error.cause
    whole = tmp_path / "whole.tar"  # cut after a whole member: no end-of-archive marker
    whole.write_bytes(archive.read_bytes()[: last.offset_data + -(-last.size // 512) * 512])
    assert "end-of-archive marker" in convert_fails(whole, tmp_path / "out.json").cause


def test_corrupt_zip(mose_archive, tmp_path):
    data = mose_archive("zip").read_bytes()
    cut = tmp_path / "cut.zip"
    cut.write_bytes(data[: len(data) // 2])
    error = convert_fails(cut, tmp_path / "out.json")
    assert error.path == str(cut) and "no central directory" in error.cause
    with zipfile.ZipFile(mose_archive("zip")) as archive:
        masks = [i for i in archive.infolist() if i.filename.startswith("train/Annotations/")]
        info = next(i for i in masks if i.filename.endswith("/00001.png"))
    flipped = bytearray(data)
    flipped[info.header_offset + 30 + len(info.filename) + 20] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(flipped))
    error = convert_fails(bad, tmp_path / "out.json")
    assert error.path == f"{bad}/{info.filename}" and "corrupt zip member" in error.cause


def test_zip_bomb_member_stops_at_its_declared_size(mose_archive, tmp_path):
    """A member whose directory entry claims 100 bytes but that inflates to 20 MB is inflated to 101 bytes, then refused."""
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(mose_archive("zip")) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        victim = next(i.filename for i in source.infolist() if i.filename.endswith("/00001.png"))
        for info in source.infolist():
            out.writestr(info, bytes(20 << 20) if info.filename == victim else source.read(info))
    data = bytearray(bomb.read_bytes())
    name = victim.encode()
    local = data.index(name) - 30  # the victim's local header precedes its name
    central = data.index(b"PK\x01\x02", local)
    central = data.index(name, central) - 46
    data[local + 22 : local + 26] = (100).to_bytes(4, "little")
    data[central + 24 : central + 28] = (100).to_bytes(4, "little")
    bomb.write_bytes(bytes(data))
    error = convert_fails(bomb, tmp_path / "out.json")
    assert error.path == f"{bomb}/{victim}" and "101 bytes where the directory says 100" in error.cause


ZEROS = 64 << 20  # far more than any member of the sample may hold: a member refused unread never allocates it


def _zeros(chunk: int = 4 << 20):
    for _ in range(ZEROS // chunk):
        yield bytes(chunk)


def _sample_member(root: Path, folder: str, name: str) -> str:
    found = sorted(p for p in (root / "train" / folder).rglob(name))[0]
    return found.relative_to(root).as_posix()


BLOWN_UP = {  # a member of many megabytes, honestly declared, that a tiny archive holds: name -> its bytes, the error
    "zeros named .png": ("Annotations", "00001.png", lambda data: _zeros(), "not a PNG file"),
    "a mask followed by zeros": ("Annotations", "00001.png", lambda data: [data, *_zeros()], "PNG can hold"),
    "a frame followed by zeros": ("JPEGImages", "00001.jpg", lambda data: [data, *_zeros()], "JPEG can hold"),
    "zeros named .jpg": ("JPEGImages", "00001.jpg", lambda data: _zeros(), "not a JPEG file"),
}


@pytest.mark.parametrize("kind", ["zip", "tgz"])
@pytest.mark.parametrize("case", sorted(BLOWN_UP))
def test_a_member_too_big_for_its_kind_is_refused_before_it_is_read(case, kind, sample_root, tmp_path):
    """1 GiB of zeros deflates to 1 MB: a member is judged by its first bytes and its declared size
    (a small multiple of the image its header states) before it is inflated or read whole."""
    import tracemalloc

    root = sample_root["mose"]
    folder, name, content, message = BLOWN_UP[case]
    member = _sample_member(root, folder, name)
    archive = with_member_replaced(root, tmp_path / f"blown{KINDS[kind]}", kind, member, content((root / member).read_bytes()))
    assert archive.stat().st_size < ZEROS // 8
    fs = sources.filesystem(archive)
    try:
        fs.scandir(archive)  # the index is built (one streaming pass) before memory is watched
        for read in (fs.read, fs.open):
            tracemalloc.start()
            try:
                with pytest.raises(SourceError, match=message) as error:
                    read(archive / member)
                peak = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert error.value.path == f"{archive}/{member}"
            assert peak < ZEROS // 4, f"{peak} bytes allocated on the way to refusing it"
    finally:
        fs.close()
    out = tmp_path / "out.json"
    summary = api.convert(archive, out, to="coco", reader_options={"split": "train"}, on_error="skip")
    (skipped,) = summary.stats.skipped
    assert skipped["file"] == f"{archive}/{member}" and message in skipped["message"]


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2])
def test_compressed_members_inflate_piece_by_piece_to_the_same_bytes(tmp_path, method):
    """Members of several compressed pieces (random bytes: about their own size compressed) and one of a few bytes."""
    rng = random.Random(5)
    members = {"meta.json": rng.randbytes(3 << 20), "small.txt": b"ok\n", "empty.txt": b"", "zeros.bin": bytes(5 << 20)}
    target = tmp_path / "pieces.zip"
    with zipfile.ZipFile(target, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    fs = sources.filesystem(target)
    try:
        for name, data in members.items():
            assert fs.read(target / name) == data
            with fs.open(target / name) as file:
                assert file.read() == data
    finally:
        fs.close()


def test_a_zip64_compressed_size_past_the_archive_end_is_refused_when_indexing(mose_archive, tmp_path):
    """A directory entry claiming 2**40 compressed bytes in a small archive was read by allocating them (a MemoryError)."""
    source = mose_archive("zip")
    with zipfile.ZipFile(source) as archive:
        member = next(i.filename for i in archive.infolist() if i.filename.endswith("/00001.png"))
    bad = with_zip64_compressed_size(source, tmp_path / "bad.zip", member, 1 << 40)
    with zipfile.ZipFile(bad) as archive:
        assert archive.getinfo(member).compress_size == 1 << 40  # what any zip reader sees
    for on_error in ("fail", "skip"):
        error = convert_fails(bad, tmp_path / "out.json") if on_error == "fail" else None
        if on_error == "skip":
            with pytest.raises(SourceError) as caught:
                api.convert(bad, tmp_path / "out.json", to="coco", reader_options={"split": "train"}, on_error="skip")
            error = caught.value
        assert error.path == f"{bad}/{member}" and "past the archive's end" in error.cause


def test_archive_member_thousands_of_folders_deep(tmp_path):
    """Folder bookkeeping is a loop: a deep member is listed, not a RecursionError."""
    deep = tmp_path / "deep.zip"
    with zipfile.ZipFile(deep, "w") as out:
        out.writestr("/".join(["d"] * 5000) + "/x.txt", b"x")
    with pytest.raises(DetectionError, match="cannot tell the format"):
        api.detect(deep)  # listed whole; no dataset layout inside: a clear answer, not a RecursionError


@pytest.mark.parametrize("name", ["x.zip", "x.tar.gz", "x.tgz", "x.tar"])
def test_not_an_archive(tmp_path, name):
    bad = tmp_path / name
    bad.write_bytes(b"plain text, not an archive" * 40)
    with pytest.raises(SourceError, match="not a") as caught:
        api.detect(bad)
    assert caught.value.path == str(bad)


def test_gzip_that_holds_no_tar(tmp_path):
    bad = tmp_path / "x.tar.gz"
    bad.write_bytes(gzip.compress(b"plain text" * 100))
    with pytest.raises(SourceError, match="not a tar archive"):
        api.detect(bad)


# ------------------------------------------------------------------ lifetime, pickling, processes


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_index_is_built_once_and_removed_by_close(kind, mose_archive, own_temp, monkeypatch):
    archive = mose_archive(kind)
    builds = []
    real = archives._Catalog.build.__func__
    monkeypatch.setattr(archives._Catalog, "build", classmethod(lambda cls, *a, **k: builds.append(a) or real(cls, *a, **k)))
    reader = api.open_reader(archive, options={"split": "train"})  # detect sniffs with three readers
    assert reader.name == "mose"
    reader.list_videos()
    assert len(builds) == 1 and len(leftovers(own_temp)) == 1
    saved = Path(reader.fs._catalog().index_dir)
    assert sorted(p.name for p in saved.iterdir()) == sorted(
        [archives.TABLE_FILE] + ([archives.GZIP_INDEX_FILE] if kind == "tgz" else [])
    )
    reader.close()
    assert leftovers(own_temp) == [] and archives._CATALOGS == {}


def test_convert_leaves_no_temporary_files(mose_archive, tmp_path, own_temp):
    api.convert(mose_archive("tgz"), tmp_path / "o.json", to="coco", reader_options={"split": "train"}, workers=2)
    assert leftovers(own_temp) == []


def test_reader_pickles_as_paths(mose_archive):
    archive = mose_archive("tgz")
    with MoseReader(archive, MoseReader.Options(split="train")) as reader:
        refs = reader.list_videos()
        state = pickle.dumps(reader.fs)
        assert len(state) < 400 and b"members" not in state
        clone = pickle.loads(pickle.dumps(reader))
        assert clone.read_video(refs[0]) == reader.read_video(refs[0])


def _fingerprints(reader) -> list[dict]:
    info = reader.info()
    return [fingerprint(reader.read_video(ref), info) for ref in reader.list_videos()]


def _in_fresh_process(state: bytes) -> tuple[list[dict], bool]:
    """What a spawned worker sees: no catalog in memory, only the pickled reader."""
    reader = pickle.loads(state)
    loaded = not archives._CATALOGS
    result = _fingerprints(reader)
    catalog = archives._CATALOGS[os.path.abspath(reader.fs.archive)]
    return result, loaded and catalog.index_dir == reader.fs._index_dir and catalog._owner is None


@pytest.mark.parametrize("kind", ["tgz", "zip"])
def test_spawned_worker_loads_the_saved_index(kind, mose_archive):
    with MoseReader(mose_archive(kind), MoseReader.Options(split="train")) as reader:
        expected = _fingerprints(reader)
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            got, loaded = pool.apply(_in_fresh_process, (pickle.dumps(reader),))
    assert got == expected and loaded


def test_changed_archive_is_refused_by_workers(mose_archive):
    archive = mose_archive("tar")
    with MoseReader(archive, MoseReader.Options(split="train")) as reader:
        reader.list_videos()
        state = pickle.dumps(reader)
        archives._CATALOGS.clear()  # as in a spawned worker
        os.utime(archive, ns=(0, 0))
        clone = pickle.loads(state)
        with pytest.raises(SourceError, match="changed after it was indexed"):
            clone.list_videos()


# ---------------------------------------------------------------------------------- memory

MEMORY_DRIVER = r"""
import json, resource, sys
import converters
converters.convert(sys.argv[1], sys.argv[2], to="coco", from_="mose", workers=1, progress=False)
print(json.dumps(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
"""


def _big_jpeg(jpeg: bytes, size: int, seed: int) -> bytes:
    """A valid JPEG of about ``size`` bytes: random comment segments (incompressible) after SOI."""
    rng = random.Random(seed)
    parts = [jpeg[:2]]
    while sum(map(len, parts)) < size:
        body = rng.randbytes(65000)
        parts.append(b"\xff\xfe" + (len(body) + 2).to_bytes(2, "big") + body)
    parts.append(jpeg[2:])
    return b"".join(parts)


def _peak_rss_kb(source: Path, out: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-c", MEMORY_DRIVER, str(source), str(out)], cwd=REPO, capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_memory_stays_bounded_for_a_big_tgz(sample_root, tmp_path):
    """Converting a 150 MB .tar.gz needs about what a tiny one needs: blocks are cached, not the archive."""
    video = sorted(p for p in (sample_root["mose"] / "train" / "JPEGImages").iterdir() if not p.name.startswith("."))[0]
    masks = sample_root["mose"] / "train" / "Annotations" / video.name
    archives_made = {}
    for name, videos, frame_size in (("small", 1, 20_000), ("big", 20, 700_000)):
        target = tmp_path / f"{name}.tar.gz"
        with tarfile.open(target, "w:gz", compresslevel=1) as archive:
            for v in range(videos):
                for kind, folder in (("JPEGImages", video), ("Annotations", masks)):
                    for k, frame in enumerate(sorted(p for p in folder.iterdir() if not p.name.startswith("."))):
                        data = frame.read_bytes()
                        if kind == "JPEGImages":
                            data = _big_jpeg(data, frame_size, seed=v * 1000 + k)
                        info = tarfile.TarInfo(f"train/{kind}/v{v:03d}/{frame.name}")
                        info.size = len(data)
                        archive.addfile(info, io.BytesIO(data))
        archives_made[name] = target
    big_size = archives_made["big"].stat().st_size
    assert big_size > 120e6
    small = _peak_rss_kb(archives_made["small"], tmp_path / "small.json")
    big = _peak_rss_kb(archives_made["big"], tmp_path / "big.json")
    assert (big - small) * 1024 < big_size / 4, (small, big, big_size)
    assert len(json.loads((tmp_path / "big.json").read_text())["videos"]) == 20


@pytest.mark.parametrize("relative", ["../x.jpg", "v/../../x.jpg", "/etc/hostname", "v/..", "", "..\\x.jpg", "\\\\host\\x"])
def test_recorded_image_paths_stay_inside_the_images_folder(relative):
    with pytest.raises(ValueError, match="leads out of the images folder"):
        sources.join_inside("/data/images", relative)


def test_recorded_image_paths_inside_are_joined():
    assert sources.join_inside("/data/images", "v/00000.jpg") == "/data/images/v/00000.jpg"
    assert sources.join_inside("/data/images", "v/..a/00000.jpg") == "/data/images/v/..a/00000.jpg"


def test_validate_finds_a_damaged_stored_zip_member_a_conversion_does_not_read_whole(sample_root, tmp_path):
    """A stored JPEG is probed by its head and tail only; its CRC-32 is checked when validate reads it whole."""
    from converters.run.validate import validate

    root = sample_root["mose"]
    members = [  # mid-JPEG: no header or tail; the valid split's is not read
        sorted(p for p in (root / split / "JPEGImages").rglob("00003.jpg"))[0].relative_to(root).as_posix()
        for split in ("train", "valid")
    ]
    target = stored_zip_with_damaged_members(root, tmp_path / "stored.zip", members)
    with api.open_reader(target, "mose", {"split": "train"}) as reader:
        report = validate(reader)
    damaged = (f"{target}/{members[0]}", "corrupt zip member: CRC-32 mismatch")
    assert [(e["file"], e["message"]) for e in report.errors] == [damaged]
    with api.open_reader(root, "mose", {"split": "train"}) as reader:
        assert validate(reader).ok  # the same files in a folder: nothing to say


def test_a_bug_under_the_tgz_block_reader_is_not_reported_as_bad_gzip_data(tmp_path, sample_root, monkeypatch):
    """indexed_gzip's own errors (OSErrors, ValueErrors) are the data's; anything else is raised as itself."""
    archive = pack(sample_root["davis"], tmp_path / "d.tar.gz", "tgz")
    fs = sources.filesystem(archive)
    blocks = fs._catalog().blocks
    name = next(iter(visible_files(sample_root["davis"])))

    def broken(*args):
        raise TypeError("a bug")

    monkeypatch.setattr(blocks, "gz", type("Gz", (), {"pread": staticmethod(broken)})())
    with pytest.raises(TypeError, match="a bug"):
        fs.read(archive / name)

    def failing(*args):
        raise OSError("zran_read returned error")

    monkeypatch.setattr(blocks, "gz", type("Gz", (), {"pread": staticmethod(failing)})())
    with pytest.raises(SourceError, match="cannot read gzip data"):
        fs.read(archive / name)
    fs.close()


def _small_zip(path: Path) -> bytearray:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("meta.json", b"{}")
        archive.writestr("a.txt", b"a" * 100)
    return bytearray(path.read_bytes())


def test_a_zip_needing_a_version_zipfile_does_not_know_is_a_source_error(tmp_path):
    """zipfile raises NotImplementedError for a 'version needed to extract' above 6.3: it escaped as a traceback."""
    target = tmp_path / "new.zip"
    data = _small_zip(target)
    entry = data.index(b"PK\x01\x02")
    data[entry + 6 : entry + 8] = (255).to_bytes(2, "little")  # the first directory entry needs version 25.5
    target.write_bytes(data)
    with pytest.raises(SourceError, match="zip") as caught:
        sources.filesystem(target).read(target / "meta.json")
    assert caught.value.path == str(target)


def test_a_zip_whose_directory_places_a_member_before_the_archive_start_is_a_source_error(tmp_path):
    """An end record whose directory offset is too large gives members a negative offset: os.pread's EINVAL escaped."""
    target = tmp_path / "shifted.zip"
    data = _small_zip(target)
    end = data.rindex(b"PK\x05\x06")
    offset = int.from_bytes(data[end + 16 : end + 20], "little")
    data[end + 16 : end + 20] = (offset + 1000).to_bytes(4, "little")
    target.write_bytes(data)
    with zipfile.ZipFile(target) as archive:
        assert archive.infolist()[0].header_offset < 0  # what zipfile makes of it
    with pytest.raises(SourceError, match="corrupt zip"):
        sources.filesystem(target).read(target / "meta.json")


# ------------------------------------------------------------------ open_regular


def test_open_regular_hands_back_a_blocking_file(tmp_path):
    """Opened with O_NONBLOCK so a pipe cannot make it wait; a regular file is handed on as ``open`` hands it."""
    path = tmp_path / "x.bin"
    path.write_bytes(b"\r\n\x1a" * 3)
    with sources.open_regular(path) as file:
        assert os.get_blocking(file.fileno())
        assert file.read() == b"\r\n\x1a" * 3


def test_open_regular_opens_in_binary_mode(tmp_path, monkeypatch):
    """Windows opens a descriptor in text mode (CRLF to LF, ^Z an end) unless O_BINARY is given, as ``open`` does."""
    flags: list[int] = []
    real_open = os.open
    monkeypatch.setattr(os, "O_BINARY", 1 << 30, raising=False)
    monkeypatch.setattr(os, "open", lambda path, flag, *args: flags.append(flag) or real_open(path, flag & ~(1 << 30), *args))
    path = tmp_path / "x.bin"
    path.write_bytes(b"x")
    assert sources.read_regular(path) == b"x"
    assert flags and all(flag & (1 << 30) for flag in flags)


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts descriptors in /proc")
def test_open_regular_closes_its_descriptor_when_it_fails(tmp_path, monkeypatch):
    path = tmp_path / "x.bin"
    path.write_bytes(b"x")

    def fail(fd):
        raise OSError(5, "Input/output error")

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(os, "fstat", fail)
    for _ in range(3):
        with pytest.raises(OSError, match="Input/output"):
            sources.open_regular(path)
    monkeypatch.undo()
    assert len(os.listdir("/proc/self/fd")) == before
