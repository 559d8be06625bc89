"""SAM 2's REAL ``PalettisedPNGSegmentLoader`` (the sam2==1.1.0 sdist's ``training`` package) on DAVIS written
to the MOSE and YouTube-VOS layouts: the objects it trains on are the source's, never 255."""

from __future__ import annotations

import numpy as np
import pytest
from training.dataset.vos_segment_loader import PalettisedPNGSegmentLoader

from converters import api
from converters.sample import label_maps


def loaded(folder) -> dict[str, dict[int, np.ndarray]]:
    """Each PNG's objects as SAM 2's loader gives them: {file: {object id: mask}}."""
    loader = PalettisedPNGSegmentLoader(str(folder))
    return {
        name: {int(k): v.numpy() for k, v in loader.load(frame_id).items()}
        for frame_id, name in sorted(loader.frame_id_to_png_filename.items())
    }


@pytest.mark.parametrize("layout", ["mose", "youtube-vos"])
def test_sam2_trains_on_the_sources_objects(sample_root, tmp_path, layout):
    api.convert(sample_root["davis"], tmp_path / "out", to=layout, from_="davis", reader_options={"split": "train"})
    for video in ("pelican", "paper-boat"):  # DAVIS 2016's 0/255; void bands around objects 1 and 2
        source = label_maps(sample_root["davis"] / "DAVIS" / "Annotations" / "480p" / video)
        got = loaded(tmp_path / "out" / "Annotations" / video)
        assert sorted(got) == sorted(source)
        for name, label in source.items():
            if video == "pelican":
                expected = {1: label == 255}
            else:
                expected = {int(v): label == v for v in np.unique(label) if v not in (0, 255)}
            assert sorted(got[name]) == sorted(expected), (video, name)
            for object_id, mask in expected.items():
                np.testing.assert_array_equal(got[name][object_id], mask)


def test_with_void_keep_sam2_sees_255_as_an_object(sample_root, tmp_path):
    """What ``-w void=keep`` means for this consumer (the reason drop is the default)."""
    api.convert(
        sample_root["davis"],
        tmp_path / "out",
        to="mose",
        from_="davis",
        reader_options={"split": "train"},
        writer_options={"void": "keep"},
    )
    got = loaded(tmp_path / "out" / "Annotations" / "paper-boat")
    assert any(255 in objects for objects in got.values())
