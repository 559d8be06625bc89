"""The suite every reader/writer pair must pass: convert, read back, compare exactly.

Writers are taken from the registry: any writer with a reader of the same name is
round-tripped from every source layout, so a new format is covered as soon as it is
registered. Sources are the bundled synthetic samples, which carry the real traits
(4-bit PNGs, 0/255 masks, void, sparse annotation, empty frames, vanishing objects,
hidden files).
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pytest

from converters import api, registry
from converters.errors import SourceError
from converters.run.pipeline import staging_path
from converters.sample import label_maps

from .content import assert_same_content, fingerprint

SOURCES = {
    "mose-train": ("mose", {"split": "train"}),
    "mose-valid": ("mose", {"split": "valid"}),
    "davis-train": ("davis", {"split": "train"}),
    "davis-val": ("davis", {"split": "val"}),
    "youtube-vos-train": ("youtube-vos", {"split": "train"}),
    "youtube-vos-valid": ("youtube-vos", {"split": "valid"}),
}
ROUND_TRIP_WRITERS = sorted(set(registry.names("writer")) & set(registry.names("reader")))
OUTPUT_NAMES = {"coco": "out.json", "coco-gz": "out.json.gz"}
#: Object metadata each format can hold (all of it, for formats not listed).
METADATA_KEPT = {"mose": frozenset(), "davis": frozenset({"categories"})}


def read_all(path: Path, fmt: str, options: dict | None = None) -> tuple[list[dict], object]:
    with api.open_reader(path, fmt, options) as reader:
        info = reader.info()
        return [fingerprint(reader.read_video(ref), info) for ref in reader.list_videos()], info


def convert(source: Path, layout: str, options: dict, writer: str, out: Path, **kwargs) -> Path:
    fmt = "coco" if writer == "coco-gz" else writer
    api.convert(source, out, to=fmt, from_=layout, reader_options=options, **kwargs)
    return out


@pytest.mark.parametrize("writer", [*ROUND_TRIP_WRITERS, "coco-gz"])
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_round_trip_is_exact(sample_root, tmp_path, source, writer):
    """Pixel values (as RLE), ids, void, empty and unannotated frames, names, JPEG bytes: all survive."""
    layout, options = SOURCES[source]
    expected, _ = read_all(sample_root[layout], layout, options)
    out = convert(sample_root[layout], layout, options, writer, tmp_path / OUTPUT_NAMES.get(writer, "out"))
    actual, _ = read_all(out, "coco" if writer == "coco-gz" else writer)
    assert [v["name"] for v in actual] == [v["name"] for v in expected]
    for want, got in zip(expected, actual):
        assert_same_content(want, got, **({"kept": METADATA_KEPT[writer]} if writer in METADATA_KEPT else {}))


def native_files(root: Path) -> dict[str, Path]:
    """Every visible file of a dataset tree, by relative path (hidden and stray files excluded)."""
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts) and p.suffix != ".txt"
    }


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_native_layout_survives_coco(sample_root, tmp_path, source):
    """Source -> COCO JSON -> the source's own layout gives the same PNG values, palettes, names and JPEG bytes."""
    layout, options = SOURCES[source]
    split_root = sample_root[layout] / options["split"] if layout != "davis" else sample_root[layout] / "DAVIS"
    coco = convert(sample_root[layout], layout, options, "coco", tmp_path / "x.json")
    back = convert(coco, "coco", {}, layout, tmp_path / "back")
    if layout == "davis":  # DAVIS splits share one tree: compare only this split's sequences
        names = (split_root / "ImageSets" / "2017" / f"{options['split']}.txt").read_text().split()
        assert (back / "ImageSets" / "2017" / f"{options['split']}.txt").read_text().split() == names
        keep = {f"JPEGImages/480p/{n}" for n in names} | {f"Annotations/480p/{n}" for n in names}
        src = {k: v for k, v in native_files(split_root).items() if k.rsplit("/", 1)[0] in keep}
    else:
        src = native_files(split_root)
    dst = {k: v for k, v in native_files(back).items() if not k.startswith("ImageSets")}
    assert sorted(dst) == sorted(src)
    source_masks, written_masks = label_maps(split_root), label_maps(back)
    from PIL import Image

    for name, path in src.items():
        if name.endswith(".jpg"):
            assert filecmp.cmp(path, dst[name], shallow=False), name
        elif name.endswith(".png"):
            np.testing.assert_array_equal(written_masks[name], source_masks[name], err_msg=name)
            with Image.open(path) as a, Image.open(dst[name]) as b:
                assert (a.mode, a.getpalette()) == (b.mode, b.getpalette()), name
        elif name == "meta.json":
            assert json.loads(dst[name].read_text()) == json.loads(path.read_text())


@pytest.mark.parametrize("writer", [*ROUND_TRIP_WRITERS, "coco-gz"])
def test_output_bytes_do_not_depend_on_workers(sample_root, tmp_path, writer):
    """Same input and options, same bytes, with 1 or 2 worker processes."""
    layout, options = SOURCES["youtube-vos-train"]
    name = OUTPUT_NAMES.get(writer, "out")
    one = convert(sample_root[layout], layout, options, writer, tmp_path / "one" / name, workers=1)
    two = convert(sample_root[layout], layout, options, writer, tmp_path / "two" / name, workers=2)
    if one.is_file():
        assert one.read_bytes() == two.read_bytes()
    else:
        files_one, files_two = native_files(one), native_files(two)
        assert sorted(files_one) == sorted(files_two)
        for key in files_one:
            assert files_one[key].read_bytes() == files_two[key].read_bytes(), key


@pytest.mark.parametrize("writer", [*ROUND_TRIP_WRITERS, "coco-gz"])
def test_failed_conversion_leaves_no_output(sample_copy, tmp_path, writer):
    """A bad mask stops the run with its path named, and nothing that looks like an output remains."""
    source = sample_copy("mose")
    victim = sorted((source / "train" / "Annotations").rglob("00003.png"))[-1]
    victim.write_bytes(victim.read_bytes()[:60])
    out = tmp_path / OUTPUT_NAMES.get(writer, "out")
    with pytest.raises(SourceError, match=str(victim)):
        convert(source, "mose", {"split": "train"}, writer, out, workers=2)
    assert not out.exists()
    assert not staging_path(out).exists()
    assert list(tmp_path.iterdir()) == [source]
