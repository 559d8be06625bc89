"""The exact-round-trip checks every reader/writer pair must pass, as plain functions.

Each check converts the bundled synthetic samples (:mod:`converters.sample`, generated on
the spot: no test data ships) with a registered writer, and raises AssertionError naming
the first difference. The samples carry the real traits: 4-bit PNGs, 0/255 masks, void,
sparse annotation, empty frames, vanishing objects, hidden files. pytest is not needed
here; :mod:`converters.testing.suite` wraps these checks as a pytest class.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..api import convert as convert_source
from ..api import open_reader, open_writer
from ..errors import SourceError
from ..model import DatasetInfo, Video
from ..sample import LAYOUTS, write_sample
from .content import ALL_METADATA, assert_same_content, fingerprint

__all__ = [
    "METADATA_KEPT",
    "SOURCES",
    "check_failed_conversion_leaves_no_output",
    "check_output_independent_of_workers",
    "check_reader_round_trip",
    "check_round_trip",
    "convert",
    "native_files",
    "read_all",
    "write_samples",
]

#: The source cases: name -> (sample layout, reader options).
SOURCES: dict[str, tuple[str, dict[str, str]]] = {
    "mose-train": ("mose", {"split": "train"}),
    "mose-valid": ("mose", {"split": "valid"}),
    "davis-train": ("davis", {"split": "train"}),
    "davis-val": ("davis", {"split": "val"}),
    "youtube-vos-train": ("youtube-vos", {"split": "train"}),
    "youtube-vos-valid": ("youtube-vos", {"split": "valid"}),
}

#: Metadata each writer's format can hold (all of it, for formats not listed). BURST keeps another source's video
#: metadata too: the fields it fills for a video without them (id, seq_name, dataset, ...) are read back as none.
METADATA_KEPT: dict[str, frozenset[str]] = {
    "mose": frozenset(),
    "davis": frozenset({"categories"}),
    "youtube-vos": frozenset({"categories", "object_frames"}),
}


def write_samples(folder: str | os.PathLike) -> dict[str, Path]:
    """Every layout's synthetic sample under ``folder``: layout name -> dataset root (about a second)."""
    return {layout: write_sample(Path(folder) / layout, layout) for layout in LAYOUTS}


def read_all(
    path: str | os.PathLike, fmt: str, options: dict | None = None, as_written: Callable[[Video], Video] | None = None
) -> tuple[list[dict], DatasetInfo]:
    """The fingerprint of every video of a source, in order, and its dataset info.

    ``as_written`` is a writer's :meth:`~converters.writer.Writer.as_written`: the source as that
    writer's output holds it by design (a layout without void writes it as background).
    """
    with open_reader(path, fmt, options) as reader:
        info = reader.info()
        change = as_written or (lambda video: video)
        return [fingerprint(change(reader.read_video(ref)), info) for ref in reader.list_videos()], info


def convert(source: Path, layout: str, options: dict, writer: str, out: Path, **kwargs: Any) -> Path:
    """``source`` (a sample layout read with ``options``) converted by ``writer`` to ``out``."""
    convert_source(source, out, to=writer, from_=layout, reader_options=options, **kwargs)
    return out


def check_round_trip(
    samples: dict[str, Path],
    source: str,
    writer: str,
    out: Path,
    *,
    reader: str | None = None,
    kept: frozenset[str] = ALL_METADATA,
) -> None:
    """Sample ``source`` (a key of SOURCES) -> ``writer`` -> ``reader`` gives the same content, exactly.

    Pixel values (as RLE), ids, void, empty and unannotated frames, names, palettes, JPEG bytes.
    ``kept`` narrows the object metadata compared, for a format that cannot hold it all.
    """
    layout, options = SOURCES[source]
    expected, _ = read_all(samples[layout], layout, options, open_writer(writer).as_written)
    convert(samples[layout], layout, options, writer, out)
    actual, _ = read_all(out, reader or writer)
    names, got_names = [v["name"] for v in expected], [v["name"] for v in actual]
    if got_names != names:
        raise AssertionError(f"{source} via {writer}: videos {got_names}, expected {names}")
    for want, got in zip(expected, actual):
        assert_same_content(want, got, kept=kept)


def check_reader_round_trip(
    source: str | os.PathLike,
    reader: str,
    options: dict | None,
    writer: str,
    out: Path,
    *,
    kept: frozenset[str] | None = None,
    writer_options: dict | None = None,
) -> None:
    """A reader's own fixture at ``source`` -> ``writer`` -> read back gives the same content, exactly.

    The reader-side half of the suite: a new reader (LVOS, BURST, ...) proves that what it reads
    survives every format that can hold it. The output is read back with the reader of the same
    name as ``writer``; ``kept`` defaults to what that format holds (:data:`METADATA_KEPT`).
    """
    expected, _ = read_all(source, reader, options, open_writer(writer, writer_options).as_written)
    convert_source(source, out, to=writer, from_=reader, reader_options=options, writer_options=writer_options)
    actual, _ = read_all(out, writer)
    names, got_names = [v["name"] for v in expected], [v["name"] for v in actual]
    if got_names != names:
        raise AssertionError(f"{reader} {source} via {writer}: videos {got_names}, expected {names}")
    for want, got in zip(expected, actual):
        assert_same_content(want, got, kept=METADATA_KEPT.get(writer, ALL_METADATA) if kept is None else kept)


def native_files(root: Path) -> dict[str, Path]:
    """Every visible file of a dataset tree, by relative path (hidden and stray ``.txt`` files excluded)."""
    return {
        p.relative_to(root).as_posix(): p
        for p in sorted(root.rglob("*"))
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts) and p.suffix != ".txt"
    }


def check_output_independent_of_workers(
    samples: dict[str, Path], writer: str, folder: Path, *, output_name: str = "out", source: str = "youtube-vos-train"
) -> None:
    """Same input and options, same bytes, with 1 or 2 worker processes (written under ``folder``)."""
    layout, options = SOURCES[source]
    one = convert(samples[layout], layout, options, writer, folder / "one" / output_name, workers=1)
    two = convert(samples[layout], layout, options, writer, folder / "two" / output_name, workers=2)
    if one.is_file():
        if one.read_bytes() != two.read_bytes():
            raise AssertionError(f"{writer}: {one} and {two} differ")
        return
    files_one, files_two = native_files(one), native_files(two)
    if sorted(files_one) != sorted(files_two):
        raise AssertionError(f"{writer}: 1 worker wrote {sorted(files_one)}, 2 workers {sorted(files_two)}")
    for key in files_one:
        if files_one[key].read_bytes() != files_two[key].read_bytes():
            raise AssertionError(f"{writer}: {key} differs between 1 and 2 workers")


def check_failed_conversion_leaves_no_output(
    samples: dict[str, Path], writer: str, folder: Path, *, output_name: str = "out"
) -> None:
    """A bad mask stops the run with its path named, and nothing that looks like an output remains in ``folder``.

    ``folder`` must be empty: a broken copy of the MOSE sample is made in it, then converted beside itself.
    """
    source = Path(shutil.copytree(samples["mose"], folder / "broken-mose"))
    victim = sorted((source / "train" / "Annotations").rglob("00003.png"))[-1]
    victim.write_bytes(victim.read_bytes()[:60])
    out = folder / output_name
    try:
        convert(source, "mose", {"split": "train"}, writer, out, workers=2)
    except SourceError as error:
        if str(victim) not in str(error):
            raise AssertionError(f"{writer}: the error does not name {victim}: {error}") from error
    else:
        raise AssertionError(f"{writer}: a conversion from a source with a truncated mask ({victim}) succeeded")
    if out.exists():
        raise AssertionError(f"{writer}: a failed conversion left {out}")
    left = sorted(p.name for p in folder.iterdir() if p != source)
    if left:
        raise AssertionError(f"{writer}: a failed conversion left {left} in {folder}")
