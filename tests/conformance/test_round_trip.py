"""The suite every reader/writer pair must pass: convert, read back, compare exactly.

Writers are taken from the registry: any writer with a reader of the same name is
round-tripped from every source layout, so a new format is covered as soon as it is
registered. The checks themselves live in :mod:`converters.testing` (plugins run the same
ones); sources are the bundled synthetic samples, which carry the real traits (4-bit PNGs,
0/255 masks, void, sparse annotation, empty frames, vanishing objects, hidden files).
"""

from __future__ import annotations

import filecmp
import json

import numpy as np
import pytest

from converters import registry
from converters.run.pipeline import staging_path
from converters.sample import label_maps
from converters.testing import (
    ALL_METADATA,
    METADATA_KEPT,
    SOURCES,
    check_failed_conversion_leaves_no_output,
    check_output_independent_of_workers,
    check_round_trip,
    convert,
    native_files,
)

ROUND_TRIP_WRITERS = sorted(set(registry.names("writer")) & set(registry.names("reader")))
#: Test case -> (writer, output name): every round-trip writer, and COCO once more gzipped.
WRITER_CASES = {
    **{name: (name, "out.json" if name == "coco" else "out") for name in ROUND_TRIP_WRITERS},
    "coco-gz": ("coco", "out.json.gz"),
}


@pytest.mark.parametrize("case", sorted(WRITER_CASES))
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_round_trip_is_exact(sample_root, tmp_path, source, case):
    """Pixel values (as RLE), ids, void, empty and unannotated frames, names, JPEG bytes: all survive."""
    writer, name = WRITER_CASES[case]
    check_round_trip(sample_root, source, writer, tmp_path / name, kept=METADATA_KEPT.get(writer, ALL_METADATA))


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


@pytest.mark.parametrize("case", sorted(WRITER_CASES))
def test_output_bytes_do_not_depend_on_workers(sample_root, tmp_path, case):
    """Same input and options, same bytes, with 1 or 2 worker processes."""
    writer, name = WRITER_CASES[case]
    check_output_independent_of_workers(sample_root, writer, tmp_path, output_name=name)


@pytest.mark.parametrize("case", sorted(WRITER_CASES))
def test_failed_conversion_leaves_no_output(sample_root, tmp_path, case):
    """A bad mask stops the run with its path named, and nothing that looks like an output remains."""
    writer, name = WRITER_CASES[case]
    check_failed_conversion_leaves_no_output(sample_root, writer, tmp_path, output_name=name)
    assert not staging_path(tmp_path / name).exists()
