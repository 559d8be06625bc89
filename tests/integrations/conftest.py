"""SAM 2's real training code on the path: the installed ``sam2`` sdist's ``training`` package (make test-env
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
    """layout -> (clean split folder, {"parquet": folder, "hdf5": folder}) for the MOSE train and YouTube-VOS valid samples."""
    base = tmp_path_factory.mktemp("sam2")
    sets = {}
    for layout, split in (("mose", "train"), ("youtube-vos", "valid")):
        root = write_sample(base / layout, layout)
        clean = clean_copy(root / split, base / f"{layout}-clean")
        outputs = {}
        for fmt in ("parquet", "hdf5"):
            outputs[fmt] = base / f"{layout}-{fmt}"
            api.convert(root, outputs[fmt], to=fmt, from_=layout, reader_options={"split": split})
        sets[layout] = (clean, outputs)
    return sets
