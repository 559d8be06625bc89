"""What a process holds grows with the videos by an index's worth, not with the files it writes or the videos it reads."""

from __future__ import annotations

import hashlib
import tracemalloc
from pathlib import Path

import numpy as np
from PIL import Image

from converters import api
from converters.formats.folders import listing
from converters.formats.mose.writer import MoseWriter

from .folderdata import save_palette_png

FRAMES = 20


def write_mose(root: Path, videos: int, frames: int = FRAMES) -> Path:
    """``videos`` videos of ``frames`` 16x16 frames, two objects on each, every frame annotated."""
    for index in range(videos):
        name = f"v{index:04d}"
        (root / "JPEGImages" / name).mkdir(parents=True)
        for t in range(frames):
            Image.new("RGB", (16, 16), (index % 256, t * 10, 0)).save(root / "JPEGImages" / name / f"{t:05d}.jpg")
            label = np.zeros((16, 16), np.uint8)
            label[2:6, t % 10 : t % 10 + 4] = 1
            label[9:14, 3:12] = 2
            save_palette_png(root / "Annotations" / name / f"{t:05d}.png", label)
    return root


def conversion_peak(source: Path, output: Path) -> int:
    """The most memory Python held while converting ``source`` to a MOSE folder, in this process."""
    tracemalloc.start()
    try:
        api.convert(source, output, to="mose", from_="mose", progress=False)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_run_keeps_no_checksum_or_name_per_file_written_until_finalize(tmp_path, monkeypatch):
    """Every shard's result was kept with a sha256 and the name of each file it wrote (a frame's JPEG, each mask) until
    ``finalize``, which never reads them: about 230 bytes per file of the whole dataset. The journal keeps them; the run
    does not."""
    seen = []
    finalize = MoseWriter.finalize

    def spy(self, results, *args):
        seen.extend(results)
        return finalize(self, results, *args)

    monkeypatch.setattr(MoseWriter, "finalize", spy)
    api.convert(write_mose(tmp_path / "src", 3), tmp_path / "out", to="mose", from_="mose", progress=False)
    assert len(seen) == 3 and all(result.files == () and result.checksums == () for result in seen)


def test_memory_grows_by_far_less_than_the_files_written(tmp_path):
    """Measured, per video of 20 frames (40 files written): 22 kB more peak with a checksum per file held to the end
    and every path of the output sorted in memory for the marker's digest, 7 kB now (each shard's list of its files,
    the videos' refs, the journal's lines); 12 kB is far from both."""
    small, big = 6, 24
    api.convert(write_mose(tmp_path / "warm", 1), tmp_path / "warm-out", to="mose", from_="mose", progress=False)  # imports
    peaks = [conversion_peak(write_mose(tmp_path / f"src{n}", n), tmp_path / f"out{n}") for n in (small, big)]
    growth = (peaks[1] - peaks[0]) / (big - small)
    assert growth < 12_000, f"{growth:.0f} bytes more peak memory per video ({peaks})"


def test_the_marker_digest_is_that_of_every_path_sorted(tmp_path):
    """The output's paths are walked a folder at a time, no longer listed whole and sorted: the digest must be the
    one a marker already written records, where names sort around a folder's ``/`` (``a.x`` < ``a/b`` < ``a0``)."""
    files = ["a/b", "a/b c/d", "a.x", "a-", "a0", "ab/c", "a b", "z/\u00e9t\u00e9/1.png", "z/e/2", "b/.DS_Store", "top"]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "empty" / "folder").mkdir(parents=True)
    names = sorted(name.encode() for name in files if not name.endswith(".DS_Store") and name != "top")
    assert list(listing.paths(tmp_path, frozenset({"top"}))) == names
    expected = {"count": len(names), "sha256": hashlib.sha256(b"\0".join(names)).hexdigest()}
    assert listing.record(tmp_path, frozenset({"top"})) == expected


def test_an_hdf5_shard_read_whole_holds_a_bounded_metadata_cache(tmp_path):
    """libhdf5 kept the object headers and chunk indexes of every video read in its metadata cache, 2 MiB of its count
    by default (about 30 MB of memory a shard, once 500 videos of it were read, in every process reading it); it is
    held to 512 KiB. 150 videos fill about 800 KiB of it uncapped."""
    from converters.formats.hdf5.reader import METADATA_CACHE_BYTES, Hdf5Reader

    output = tmp_path / "out.h5"
    api.convert(write_mose(tmp_path / "src", 150, frames=2), output, to="hdf5", from_="mose", progress=False)
    with Hdf5Reader(output) as reader:
        refs = reader.list_videos()
        for ref in refs:
            reader.read_video(ref)
        _, _, cached, _ = reader._shards.get(refs[0].file).id.get_mdc_size()
    assert METADATA_CACHE_BYTES == 512 << 10 and 0 < cached <= METADATA_CACHE_BYTES
