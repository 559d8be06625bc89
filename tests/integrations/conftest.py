"""SAM 2's real training code on the path: the installed ``sam2`` sdist's ``training`` package (make test
installs it), with the torchvision stand-in only where no torchvision is installed."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from converters import api
from converters.sample import write_sample

STUBS = str(Path(__file__).parent / "stubs")
if importlib.util.find_spec("torchvision") is None and STUBS not in sys.path:
    sys.path.append(STUBS)


def clean_copy(split: Path, target: Path) -> Path:
    """The split's folders without the sample's junk files, as SAM 2's PNGRawDataset needs them.

    SAM 2 lists ``JPEGImages/.DS_Store`` as a video and fails on ``._00000.png``; vosconv skips
    those (the shards are made from the junk-ful copy).
    """
    shutil.copytree(split, target)
    for path in sorted(target.rglob("*"), reverse=True):
        if path.is_file() and (path.name.startswith(".") or path.suffix not in (".jpg", ".png")):
            path.unlink()
    return target


@pytest.fixture(scope="session")
def sam2_sets(tmp_path_factory):
    """layout -> (clean split folder, {"parquet"|"hdf5"|"hdf5-dense": folder}) for the MOSE train, YouTube-VOS valid
    and DAVIS 480p samples (DAVIS: void bands, a 2016 binary 0/255 sequence, grayscale ids)."""
    base = tmp_path_factory.mktemp("sam2")
    sets = {}
    for layout, split in (("mose", "train"), ("youtube-vos", "valid"), ("davis", None)):
        root = write_sample(base / layout, layout)
        clean = base / f"{layout}-clean"
        if split is None:  # DAVIS/{JPEGImages,Annotations}/480p
            for folder in ("JPEGImages", "Annotations"):
                clean_copy(root / "DAVIS" / folder / "480p", clean / folder)
        else:
            clean_copy(root / split, clean)
        outputs = {}
        for fmt, writer_options in (("parquet", {}), ("hdf5", {}), ("hdf5-dense", {"masks": "dense"})):
            outputs[fmt] = base / f"{layout}-{fmt}"
            options = {} if split is None else {"split": split}
            api.convert(
                root, outputs[fmt], to=fmt.split("-")[0], from_=layout, reader_options=options, writer_options=writer_options
            )
        sets[layout] = (clean, outputs)
    return sets
