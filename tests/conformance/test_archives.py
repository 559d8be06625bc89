"""An archive converts exactly like its extracted folder: the same videos, the same output bytes, the same errors.

Every bundled sample is packed as zip, tar and tar.gz (with macOS junk inside, as real
archives have) and read in place. The only difference allowed anywhere is the recorded
image root, which names the folder inside the archive (``<archive>/train/JPEGImages``).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from converters import api
from converters.run.validate import validate
from converters.testing import SOURCES, read_all

from ..archives import KINDS, pack
from ..test_bad_input import CASES


@pytest.fixture(scope="session")
def packed(sample_root, tmp_path_factory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("archives")
    return {
        (layout, kind): pack(root, folder / f"{layout}{KINDS[kind]}", kind)
        for layout, root in sample_root.items()
        for kind in KINDS
    }


def _in_archive(text: str, root: Path, archive: Path) -> str:
    """A folder-source path or message as the same source read from ``archive`` says it."""
    return text.replace(str(root), str(archive))


@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("source", sorted(SOURCES))
def test_reads_like_the_folder(sample_root, packed, source, kind):
    layout, options = SOURCES[source]
    archive = packed[layout, kind]
    assert api.detect(archive) == layout
    expected, folder_info = read_all(sample_root[layout], layout, options)
    got, info = read_all(archive, layout, options)
    assert got == expected  # names, sizes, masks as RLE, palettes, objects, sha256 of every JPEG
    assert info.image_root == _in_archive(folder_info.image_root, sample_root[layout], archive)
    assert dataclasses.replace(info, image_root=None) == dataclasses.replace(folder_info, image_root=None)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _output(path: Path) -> dict[str, bytes]:
    return {"": path.read_bytes()} if path.is_file() else _files(path)


@pytest.mark.parametrize("writer", ["coco", "layout", "parquet"])
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("source", ["mose-train", "davis-val", "youtube-vos-valid"])
def test_same_output_bytes_whatever_the_worker_count(sample_root, packed, tmp_path, source, kind, writer):
    layout, options = SOURCES[source]
    to = layout if writer == "layout" else writer
    name = "out.json" if writer == "coco" else "out"
    api.convert(sample_root[layout], tmp_path / "folder" / name, to=to, from_=layout, reader_options=options)
    archive = packed[layout, kind]
    recorded = ("", "manifest.json")  # the JSON file, or the manifest: they name the image root
    want = {
        key: _in_archive(data.decode(), sample_root[layout], archive).encode() if key in recorded else data
        for key, data in _output(tmp_path / "folder" / name).items()
    }
    for workers in (1, 2):
        out = tmp_path / f"archive-{workers}" / name
        api.convert(archive, out, to=to, reader_options=options, workers=workers)
        assert _output(out) == want
    if writer == "coco":
        assert json.loads(want[""])["info"]["vosconv"]["image_root"].startswith(f"{archive}/")


#: SA-V is read from folders only; Python's zipfile and tarfile store names as text, which a name of bytes that are
#: not UTF-8 is not
PACKED = sorted(n for n, case in CASES.items() if case.layout != "sav" and "non-UTF-8" not in n)


@pytest.mark.parametrize("kind", ["tgz", "zip"])
@pytest.mark.parametrize("name", PACKED)
def test_validate_reports_the_same_errors(sample_copy, tmp_path, name, kind):
    case = CASES[name]
    root = sample_copy(case.layout)
    case.breaks(root)
    archive = pack(root, tmp_path / f"broken{KINDS[kind]}", kind)
    options = {"split": case.split}
    with api.open_reader(root, case.layout, options) as reader:
        folder = validate(reader)
    with api.open_reader(archive, case.layout, options) as reader:
        inside = validate(reader, workers=2)
    assert not folder.ok
    mapped = [{k: _in_archive(v, root, archive) if isinstance(v, str) else v for k, v in e.items()} for e in folder.errors]
    if name.startswith("video folder is a"):  # an archive does not follow links: the OS's cause is not there to repeat
        assert all(e["message"].startswith("cannot list folder") for e in inside.errors)
        inside.errors = [{**e, "message": m["message"]} for e, m in zip(inside.errors, mapped)]
    assert inside.errors == mapped
    assert inside.notes == folder.notes
