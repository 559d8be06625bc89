"""The catalog of bad input: each kind, what vosconv does with it, and that nothing is dropped silently.

Every case starts from a good copy of a bundled sample, breaks one thing, and checks the
expected behaviour: an error naming the file and the cause (under ``--on-error fail``), the
same video skipped and recorded under ``--on-error skip``, ``validate`` reporting it; or, for
legal oddities, a note and a normal conversion.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shutil
import struct
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from converters import api
from converters.codecs import png
from converters.errors import SourceError
from converters.run.validate import validate

from .archives import pack, stored_zip_with_damaged_members, with_directory_name
from .pngs import chunk, chunk_spans, make_png
from .rle_strings import overflowing_string


@dataclass(frozen=True)
class Case:
    layout: str
    split: str
    breaks: Callable[[Path], str]  # breaks the copy; returns the path the error must name
    message: str  # part of the expected error message
    video_level: bool = True  # the error belongs to one video (so skip can leave it out)

    @property
    def options(self) -> dict:
        """The reader options: SA-V's split is the folder itself (a train folder or a val/test one)."""
        return {} if self.layout == "sav" else {"split": self.split}


def first(root: Path, pattern: str) -> Path:
    return sorted(p for p in root.glob(pattern) if not p.name.startswith("."))[0]


def mose_masks(root: Path) -> Path:
    return first(root / "train" / "Annotations", "*")


def mose_frames(root: Path) -> Path:
    return first(root / "train" / "JPEGImages", "*")


def truncate(path: Path, keep: int) -> str:
    path.write_bytes(path.read_bytes()[:keep])
    return str(path)


def replace_png(path: Path, image: Image.Image) -> str:
    image.save(path)
    return str(path)


def _rgb_mask(root: Path) -> str:
    path = first(mose_masks(root), "*.png")
    return replace_png(path, Image.open(path).convert("RGB"))


def _sixteen_bit_mask(root: Path) -> str:
    path = first(mose_masks(root), "*.png")
    return replace_png(path, Image.fromarray(np.asarray(Image.open(path)).astype(np.uint16) * 300))


def _resized_mask(root: Path) -> str:
    path = first(mose_masks(root), "*.png")
    image = Image.open(path)
    return replace_png(path, image.resize((image.width + 2, image.height)))


def _mask_without_frame(root: Path) -> str:
    masks = mose_masks(root)
    orphan = masks / "00999.png"
    shutil.copy(first(masks, "*.png"), orphan)
    return str(orphan)


def _frameless_annotations(root: Path) -> str:
    folder = root / "train" / "Annotations" / "ffffffff"
    shutil.copytree(mose_masks(root), folder)
    return str(folder)


def _empty_video_folder(root: Path) -> str:
    folder = root / "train" / "JPEGImages" / "eeeeeeee"
    folder.mkdir()
    (folder / ".DS_Store").write_bytes(b"junk")
    return str(folder)


def _non_numeric_frame(root: Path) -> str:
    frames = mose_frames(root)
    odd = frames / "frame_a.jpg"
    shutil.copy(first(frames, "*.jpg"), odd)
    return str(odd)


def _duplicate_frame_number(root: Path) -> str:
    frames = mose_frames(root)
    twin = frames / "1.jpg"
    shutil.copy(first(frames, "00001.jpg"), twin)
    return str(twin)


def _truncated_jpeg(root: Path) -> str:
    path = first(mose_frames(root), "00002.jpg")
    return truncate(path, path.stat().st_size // 2)


def _jpeg_header_cut(root: Path) -> str:
    return truncate(first(mose_frames(root), "00002.jpg"), 40)


def _not_an_image(root: Path) -> str:
    path = first(mose_masks(root), "00004.png")
    path.write_text("this is not a PNG")
    return str(path)


def _unreadable(root: Path) -> str:
    """A mask that cannot be opened: a dangling link where a PNG should be (root reads any file)."""
    path = first(mose_masks(root), "00001.png")
    path.unlink()
    path.symlink_to(root / "nowhere.png")
    return str(path)


def _link_loop(root: Path) -> str:
    """A mask that is a link to itself: following it fails (ELOOP), like a dangling one, for that file only."""
    path = first(mose_masks(root), "00002.png")
    path.unlink()
    path.symlink_to(path.name)
    return str(path)


def _video_folder_link(target: str) -> Callable[[Path], str]:
    """A video's frame folder replaced by a link that leads nowhere (or to itself): a video, unreadable."""

    def breaks(root: Path) -> str:
        folder = sorted(p for p in (root / "train" / "JPEGImages").iterdir() if not p.name.startswith("."))[-1]
        shutil.rmtree(folder)
        folder.symlink_to(folder.name if target == "itself" else root / "nowhere")
        return str(folder)

    return breaks


def _ytvos_meta(root: Path) -> Path:
    return root / "train" / "meta.json"


def _malformed_meta(root: Path) -> str:
    path = _ytvos_meta(root)
    path.write_text(path.read_text()[:-10])
    return str(path)


def _meta_names_missing_video(root: Path) -> str:
    path = _ytvos_meta(root)
    meta = json.loads(path.read_text())
    meta["videos"]["0000000000"] = {"objects": {"1": {"category": "dog", "frames": ["00000"]}}}
    path.write_text(json.dumps(meta))
    return str(path)


def _video_folders_of_a_non_utf8_name(root: Path) -> str:
    """A video whose folders are named by bytes that are not UTF-8 (Latin-1 "vid\xe9o"): Python names it with lone
    surrogates, which once went through the reader and stopped the writers with a UnicodeEncodeError traceback."""
    name, renamed = mose_frames(root).name, os.fsdecode(b"vid\xe9o")
    for folder in ("JPEGImages", "Annotations"):
        (root / "train" / folder / name).rename(root / "train" / folder / renamed)
    return str(root / "train" / "JPEGImages" / renamed)


def _meta_category_of_half_a_character(root: Path) -> str:
    """A JSON escape of a lone surrogate ("\\udcff") is valid JSON but no UTF-8 text: it once stopped the writers."""
    path = _ytvos_meta(root)
    meta = json.loads(path.read_text())
    video = meta["videos"][sorted(meta["videos"])[0]]
    video["objects"][sorted(video["objects"])[0]]["category"] = "dog\udcff"
    path.write_text(json.dumps(meta))
    return str(path)


def _meta_nested_too_deeply(root: Path) -> str:
    """JSON nested deeper than Python's parser recurses: a RecursionError traceback, once."""
    path = _ytvos_meta(root)
    path.write_text(path.read_text().replace('{"videos"', '{"notes": ' + "[" * 100_000 + "]" * 100_000 + ', "videos"', 1))
    return str(path)


def _davis_listed_missing(root: Path) -> str:
    path = root / "DAVIS" / "ImageSets" / "2017" / "train.txt"
    path.write_text(path.read_text() + "no-such-sequence\n")
    return str(path)


def _davis_void_palette_rgb(root: Path) -> str:
    path = first(root / "DAVIS" / "Annotations" / "480p", "*/00000.png")
    return replace_png(path, Image.open(path).convert("RGBA"))


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    return [(data[start + 4 : start + 8], data[start + 8 : end - 4]) for _, start, end in chunk_spans(data)]


def _write_chunks(path: Path, chunks: list[tuple[bytes, bytes]]) -> str:
    path.write_bytes(png.SIGNATURE + b"".join(chunk(kind, body) for kind, body in chunks))
    return str(path)


def _palette_mask_of_bit_depth_3(root: Path) -> str:
    """A palette PNG of bit depth 3 (the format allows 1/2/4/8) with image data of 3-bit rows: it once
    decoded to an array narrower than its header, and converted to RLE that does not cover the frame."""
    path = first(mose_masks(root), "00001.png")
    chunks = _png_chunks(path.read_bytes())
    width, height = struct.unpack(">II", chunks[0][1][:8])
    rows = np.zeros((height, (3 * width + 7) // 8 + 1), np.uint8)
    palette = next(body for kind, body in chunks if kind == b"PLTE")
    header = struct.pack(">IIBBBBB", width, height, 3, 3, 0, 0, 0)
    return _write_chunks(path, [(b"IHDR", header), (b"PLTE", palette), (b"IDAT", zlib.compress(rows.tobytes())), (b"IEND", b"")])


def _second_ihdr_after_the_image_data(root: Path) -> str:
    """The mask's own IHDR moved after the image data, a 4-bit one first: Pillow reads the first,
    vosconv once read the last (and took the mask for a good one)."""
    path = first(mose_masks(root), "00002.png")
    chunks = _png_chunks(path.read_bytes())
    original = chunks[0]
    forged = (b"IHDR", original[1][:8] + b"\x04" + original[1][9:])
    return _write_chunks(path, [forged, *chunks[1:-1], original, chunks[-1]])


def _interlaced_mask_with_an_empty_iccp(root: Path) -> str:
    """An interlaced mask (Pillow decodes those) with an empty iCCP chunk after the image data, over
    which Pillow raises IndexError while loading: it once escaped as a traceback, even under skip."""
    path = first(mose_masks(root), "00003.png")
    with Image.open(path) as image:
        values, palette = np.asarray(image), bytes(image.getpalette())
    data = make_png(values, interlace=True, palette=palette)
    return _write_chunks(path, [*_png_chunks(data)[:-1], (b"iCCP", b""), (b"IEND", b"")])


def _interlaced_mask_with_data_past_its_image(root: Path) -> str:
    """An interlaced mask (Pillow decodes those) whose image data inflates to 100 bytes more than its header's image:
    Pillow ignores them, and so did vosconv there, where the fast path refuses them (found by fuzzing: a grayscale
    mask whose header said 2 bits read as other values)."""
    path = first(mose_masks(root), "00004.png")
    with Image.open(path) as image:
        values, palette = np.asarray(image), bytes(image.getpalette())
    chunks = _png_chunks(make_png(values, interlace=True, palette=palette))
    stream = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT")) + bytes(100)
    kept = [(kind, body) for kind, body in chunks if kind not in (b"IDAT", b"IEND")]
    return _write_chunks(path, [*kept, (b"IDAT", zlib.compress(stream)), (b"IEND", b"")])


def _sav_train_json(root: Path) -> Path:
    return first(root / "sav_000", "*_manual.json")


def _edit_json(path: Path, change: Callable[[dict], None]) -> str:
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return str(path)


def _sav_no_frames_but_10_12_objects(root: Path) -> str:
    """No annotated frame to bound masklet_num: it once sized a tuple of 10^12 object ids."""

    def change(doc: dict) -> None:
        for key in [k for k in doc if k.startswith("masklet_")]:
            del doc[key]
        doc.update(video_frame_count=0.0, masklet=[], masklet_num=10**12)

    return _edit_json(_sav_train_json(root), change)


def _sav_nan_height(root: Path) -> str:
    """Python's json reads NaN: the error once said only "cannot convert float NaN to integer"."""
    return _edit_json(_sav_train_json(root), lambda doc: doc.update(video_height=float("nan")))


def _half_a_character_in_a_masklet_field(doc: dict) -> None:
    """A per-masklet field holding a "\\udcff" escape: kept as object metadata, it stopped the Parquet writer."""
    doc["masklet_size_bucket"] = ["small\udcff", *doc["masklet_size_bucket"][1:]]


def _device(path: Path) -> str:
    """The file replaced by a link to a device (/dev/null here; a pipe or /dev/zero made reading it wait or run forever)."""
    path.unlink()
    path.symlink_to("/dev/null")
    return str(path)


def _pipe(path: Path) -> str:
    """The file replaced by a named pipe: opening one waits for a writer, so reading it once hung the run."""
    path.unlink()
    os.mkfifo(path)
    return str(path)


def _sav_val_video(root: Path, folder: str) -> Path:
    return first(root / folder, "*")


def _sav_val_masks_of_another_size(root: Path) -> str:
    """Every mask of a video 2 pixels narrower than its frames: the video once took the masks' size."""
    masks = sorted(_sav_val_video(root, "Annotations_6fps").rglob("*.png"))
    for path in masks:
        image = Image.open(path)
        image.resize((image.width - 2, image.height)).save(path)
    return str(masks[0])


def _sav_val_truncated_jpeg(root: Path) -> str:
    path = first(_sav_val_video(root, "JPEGImages_24fps"), "00004.jpg")
    return truncate(path, path.stat().st_size // 2)


def _sav_val_frame(root: Path, name: str) -> str:
    frames = _sav_val_video(root, "JPEGImages_24fps")
    shutil.copy(first(frames, "00000.jpg"), frames / name)
    return str(frames / name)


def _sav_val_list_of_a_name_too_long(root: Path) -> str:
    """A list line of 100,000 characters: no file system holds the name, and looking for its record said so in an
    OSError (ENAMETOOLONG) traceback."""
    path = root / "sav_val.txt"
    path.write_text(path.read_text() + "x" * 100_000 + "\n")
    return str(path)


def _sav_val_list_leads_out(root: Path) -> str:
    path = root / "sav_val.txt"
    path.write_text(path.read_text() + "../JPEGImages_24fps/sav_000001\n")
    return str(path)


CASES = {
    "truncated PNG": Case("mose", "train", lambda r: truncate(first(mose_masks(r), "00003.png"), 100), "truncated PNG"),
    "not an image": Case("mose", "train", _not_an_image, "not a PNG file"),
    "RGB mask": Case("mose", "train", _rgb_mask, "RGB PNG"),
    "RGBA mask": Case("davis", "val", _davis_void_palette_rgb, "RGBA PNG"),
    "16-bit mask": Case("mose", "train", _sixteen_bit_mask, "16-bit"),
    "palette mask of bit depth 3": Case("mose", "train", _palette_mask_of_bit_depth_3, "bit depth 3 in a palette PNG"),
    "mask with a second IHDR after its image data": Case("mose", "train", _second_ihdr_after_the_image_data, "second IHDR"),
    "interlaced mask with an empty iCCP chunk": Case(
        "mose", "train", _interlaced_mask_with_an_empty_iccp, "unreadable PNG: IndexError"
    ),
    "interlaced mask with data past its image": Case(
        "mose", "train", _interlaced_mask_with_data_past_its_image, "image data inflates to more than"
    ),
    "mask size differs from its frame": Case("mose", "train", _resized_mask, "but its frame is"),
    "mask without a frame": Case("mose", "train", _mask_without_frame, "annotation without a frame"),
    "frame-less annotation folder": Case("mose", "train", _frameless_annotations, "annotations without a frame folder"),
    "empty video folder": Case("mose", "train", _empty_video_folder, "video has no frames"),
    "non-numeric frame name": Case("mose", "train", _non_numeric_frame, "not a frame number"),
    "duplicate frame number": Case("mose", "train", _duplicate_frame_number, "duplicate frame number 1"),
    "truncated JPEG": Case("mose", "train", _truncated_jpeg, "truncated JPEG"),
    "JPEG cut inside its header": Case("mose", "train", _jpeg_header_cut, "JPEG"),
    "unreadable file": Case("mose", "train", _unreadable, "not a readable file"),
    "link loop": Case("mose", "train", _link_loop, "not a readable file"),
    "video folder is a dangling link": Case("mose", "train", _video_folder_link("nowhere"), "cannot list folder"),
    "video folder is a link loop": Case("mose", "train", _video_folder_link("itself"), "cannot list folder"),
    "malformed meta.json": Case("youtube-vos", "train", _malformed_meta, "invalid JSON", video_level=False),
    "meta.json names a missing video": Case("youtube-vos", "train", _meta_names_missing_video, "0000000000", video_level=False),
    "video folders of a non-UTF-8 name": Case("mose", "train", _video_folders_of_a_non_utf8_name, "is not UTF-8 text"),
    "meta.json category of half a character": Case(
        "youtube-vos", "train", _meta_category_of_half_a_character, "is not UTF-8 text", video_level=False
    ),
    "meta.json nested too deeply": Case(
        "youtube-vos", "train", _meta_nested_too_deeply, "not JSON that can be read", video_level=False
    ),
    "sequence listed in ImageSets but missing": Case(
        "davis", "train", _davis_listed_missing, "no-such-sequence", video_level=False
    ),
    "SA-V masklet file of no frames and 10^12 objects": Case(
        "sav", "train", _sav_no_frames_but_10_12_objects, "video_frame_count is 0"
    ),
    "SA-V masklet file with a NaN height": Case("sav", "train", _sav_nan_height, "video_height is nan"),
    "SA-V masklet file with half a character": Case(
        "sav", "train", lambda r: _edit_json(_sav_train_json(r), _half_a_character_in_a_masklet_field), "is not UTF-8 text"
    ),
    "SA-V mp4 that is a device": Case("sav", "train", lambda r: _device(first(r / "sav_000", "*.mp4")), "not a regular file"),
    "SA-V masklet file that is a device": Case("sav", "train", lambda r: _device(_sav_train_json(r)), "not a regular file"),
    "SA-V val mask that is a device": Case(
        "sav", "val", lambda r: _device(first(_sav_val_video(r, "Annotations_6fps"), "001/00004.png")), "not a regular file"
    ),
    "SA-V val video list that is a device": Case(
        "sav", "val", lambda r: _device(r / "sav_val.txt"), "not a regular file", video_level=False
    ),
    "SA-V val masks of another size than their frames": Case(
        "sav", "val", _sav_val_masks_of_another_size, "mask is 64x48 but its frame is 66x48"
    ),
    "SA-V val truncated JPEG": Case("sav", "val", _sav_val_truncated_jpeg, "truncated JPEG"),
    "SA-V val non-numeric frame name": Case("sav", "val", lambda r: _sav_val_frame(r, "frame_a.jpg"), "not a frame number"),
    "SA-V val duplicate frame number": Case("sav", "val", lambda r: _sav_val_frame(r, "000000.jpg"), "duplicate frame number 0"),
    "SA-V val video list naming a video too long to be a folder": Case(
        "sav", "val", _sav_val_list_of_a_name_too_long, "100000 bytes long, over 255", video_level=False
    ),
    "SA-V val video list leading out": Case(
        "sav", "val", _sav_val_list_leads_out, "cannot be a file or folder name", video_level=False
    ),
}


@pytest.fixture(scope="module")
def sav_sample(tmp_path_factory) -> dict[str, Path]:
    """SA-V as SAM 2 has it, two videos each: a train folder (mp4 + masklet JSON) and a val folder (JPEG + 0/1 PNGs)."""
    pytest.importorskip("av")
    from . import savdata

    base = tmp_path_factory.mktemp("sav")
    train = savdata.make_train(base / "sav_train", {"sav_000001": 14, "sav_000002": 13}, auto=False)
    val = base / "sav_val"
    api.convert(train, val, to="sav", from_="sav")
    for path in (val / "Annotations_6fps").rglob("*.png"):  # SA-V's own: no vosconv record, 0/1 values
        Image.fromarray((np.asarray(Image.open(path)) > 0).astype(np.uint8)).save(path)
    shutil.rmtree(val / ".vosconv")
    (val / ".vosconv.json").unlink()
    return {"train": train, "val": val}


@pytest.fixture(params=sorted(CASES))
def broken(request, sample_copy, tmp_path):
    case = CASES[request.param]
    if case.layout == "sav":
        root = tmp_path / f"copy-sav-{case.split}"
        shutil.copytree(request.getfixturevalue("sav_sample")[case.split], root)
    else:
        root = sample_copy(case.layout)
    return case, root, case.breaks(root)


def test_fail_names_the_file_and_the_cause(broken, tmp_path):
    case, root, culprit = broken
    out = tmp_path / "out.json"
    with pytest.raises(SourceError) as error:
        api.convert(root, out, to="coco", from_=case.layout, reader_options=case.options)
    assert case.message in str(error.value)
    assert culprit in str(error.value)
    assert not out.exists() and not any(p.name.startswith(".out.json") for p in tmp_path.iterdir())


def test_skip_leaves_out_only_the_bad_video_and_records_it(broken, tmp_path):
    case, root, culprit = broken
    out = tmp_path / "out.json"
    options = case.options
    if not case.video_level:  # the source as a whole is unreadable: skipping cannot help
        with pytest.raises(SourceError, match=case.message):
            api.convert(root, out, to="coco", from_=case.layout, reader_options=options, on_error="skip")
        return
    summary = api.convert(root, out, to="coco", from_=case.layout, reader_options=options, on_error="skip")
    with api.open_reader(root, case.layout, options) as reader:
        names = [ref.name for ref in reader.list_videos()]
    (skipped,) = summary.stats.skipped
    assert skipped["file"] == culprit and case.message in skipped["message"]
    written = [v["name"] for v in json.loads(out.read_text())["videos"]]
    assert written == [n for n in names if n != skipped["video"]]
    records = [json.loads(line) for line in summary.errors_file.read_text().splitlines()]
    assert records == [skipped] and summary.errors_file == tmp_path / "out.json.errors.jsonl"


def test_a_source_named_relatively_lists_its_skipped_videos_in_the_same_bytes(sample_copy, tmp_path, monkeypatch):
    """``errors.jsonl`` gave the bad file's path as the source was named: relative to the folder the run started in,
    so the same source named relatively and absolutely gave different outputs, and the list, read from anywhere
    else, named a file that is not there. It names the file by its absolute path."""
    root = sample_copy("mose")
    culprit = truncate(first(mose_masks(root), "00003.png"), 100)
    options = {"split": "train"}
    api.convert(root, tmp_path / "absolute", to="mose", reader_options=options, on_error="skip")
    monkeypatch.chdir(root.parent)
    summary = api.convert(root.name, tmp_path / "relative", to="mose", reader_options=options, on_error="skip")
    assert summary.stats.skipped[0]["file"] == culprit
    for name in ("errors.jsonl", ".vosconv.json"):
        assert (tmp_path / "relative" / name).read_bytes() == (tmp_path / "absolute" / name).read_bytes(), name


def test_a_video_a_writer_refuses_is_listed_by_its_name_not_as_a_file_where_the_run_started(sample_copy, tmp_path, monkeypatch):
    """A writer's check names the video it refuses, not a file; errors.jsonl took that name for a relative path and
    made it absolute: ``<the folder the run started in>/<video>``, a file that is not there, and other bytes from
    another folder. The video's name stays as the writer gave it."""
    root = sample_copy("mose")
    first_video = min(p.name for p in (root / "train" / "Annotations").iterdir() if not p.name.startswith("."))
    for folder in ("JPEGImages", "Annotations"):  # a trailing blank: a name DAVIS's ImageSets lists cannot hold
        (root / "train" / folder / first_video).rename(root / "train" / folder / f"{first_video} ")
    options = {"from_": "mose", "reader_options": {"split": "train"}, "on_error": "skip"}
    outputs = []
    for place in (tmp_path, root):
        monkeypatch.chdir(place)
        outputs.append(tmp_path / f"from-{place.name}")
        summary = api.convert(root, outputs[-1], to="davis", **options)
        assert [(s["video"], s["file"]) for s in summary.stats.skipped] == [(f"{first_video} ", f"{first_video} ")]
    assert (outputs[0] / "errors.jsonl").read_bytes() == (outputs[1] / "errors.jsonl").read_bytes()


def test_validate_reports_it(broken):
    case, root, culprit = broken
    with api.open_reader(root, case.layout, case.options) as reader:
        report = validate(reader)
    assert not report.ok
    assert any(e["file"] == culprit and case.message in e["message"] for e in report.errors), report.errors


def test_validate_reports_every_bad_video_not_just_the_first(sample_copy):
    root = sample_copy("mose")
    videos = sorted(p for p in (root / "train" / "Annotations").iterdir() if not p.name.startswith("."))
    culprits = [truncate(first(v, "00001.png"), 80) for v in videos[:2]]
    with api.open_reader(root, "mose", {"split": "train"}) as reader:
        report = validate(reader, workers=2)
    assert sorted(e["file"] for e in report.errors) == sorted(culprits)


def test_legal_oddities_are_notes_not_errors(sample_copy):
    """Empty frames, objects listed but never seen, single-frame videos: the conversion goes on."""
    root = sample_copy("youtube-vos")
    meta_path = root / "train" / "meta.json"
    meta = json.loads(meta_path.read_text())
    name = sorted(meta["videos"])[0]
    meta["videos"][name]["objects"]["9"] = {"category": "ghost", "frames": ["00000"]}
    meta_path.write_text(json.dumps(meta))
    single = root / "train" / "JPEGImages" / "aaaaaaaaaa"
    single.mkdir()
    shutil.copy(first(root / "train" / "JPEGImages" / name, "*.jpg"), single / "00000.jpg")
    with api.open_reader(root, "youtube-vos", {"split": "train"}) as reader:
        report = validate(reader)
    assert report.ok, report.errors
    kinds = {(n["video"], n["note"]) for n in report.notes}
    assert (name, "unseen-objects") in kinds
    assert ("aaaaaaaaaa", "single-frame") in kinds
    assert any(kind == "empty-frames" for _, kind in kinds)


def test_hidden_files_are_ignored_not_errors(sample_copy, tmp_path):
    root = sample_copy("mose")
    masks = mose_masks(root)
    (masks / "._00000.png").write_bytes(b"\x00\x05\x16\x07 AppleDouble")
    (masks / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (mose_frames(root) / "._00000.jpg").write_bytes(b"junk")
    with api.open_reader(root, "mose", {"split": "train"}) as reader:
        assert validate(reader).ok


@pytest.mark.parametrize("suffix", [".json.gz", ".json"])
def test_corrupt_coco_input(tmp_path, sample_root, suffix):
    good = tmp_path / f"good{suffix}"
    api.convert(sample_root["mose"], good, to="coco", reader_options={"split": "valid"})
    bad = tmp_path / f"bad{suffix}"
    data = good.read_bytes()
    bad.write_bytes(data[: len(data) // 2] if suffix == ".json.gz" else data.replace(b'"counts":"', b'"counts":', 1))
    with pytest.raises(SourceError) as error:
        list(api.read_videos(bad, "coco"))
    assert str(bad) in str(error.value)


@pytest.mark.filterwarnings("ignore:.*no images folder")
@pytest.mark.parametrize("hostile", ["overflowing string", "huge uncompressed counts"])
def test_coco_input_with_hostile_counts(tmp_path, sample_root, hostile):
    """RLE counts crafted to overflow int64 (which once crashed the decoder) are a SourceError naming the file."""
    good = tmp_path / "good.json"
    api.convert(sample_root["mose"], good, to="coco", reader_options={"split": "valid"})
    data = json.loads(good.read_text())
    segmentation = next(s for a in data["annotations"] for s in a["segmentations"] if s is not None)
    height, width = segmentation["size"]
    if hostile == "overflowing string":
        segmentation["counts"] = overflowing_string([5, 1, 2**63 - 6, 2**63 - 1000, 1000 + height * width])
    else:
        segmentation["counts"] = [2**40, 2**40, 2**40]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=str(bad)):
        api.convert(bad, tmp_path / "back", to="mose")


def test_gzip_that_is_not_gzip(tmp_path):
    bad = tmp_path / "x.json.gz"
    bad.write_bytes(b"plain text, not gzip")
    with pytest.raises(SourceError, match=str(bad)):
        list(api.read_videos(bad, "coco"))


def test_truncated_gzip_detected_at_the_end(tmp_path):
    payload = gzip.compress(json.dumps({"videos": [], "annotations": []}).encode())
    bad = tmp_path / "cut.json.gz"
    bad.write_bytes(payload[:-6])
    with pytest.raises(SourceError, match=str(bad)):
        list(api.read_videos(bad, "coco"))


def test_a_bad_video_in_a_parallel_run_stops_it_with_the_same_error(sample_copy, tmp_path):
    root = sample_copy("mose")
    culprit = truncate(first(mose_masks(root), "00003.png"), 100)
    with pytest.raises(SourceError, match=culprit):
        api.convert(root, tmp_path / "o.json", to="coco", reader_options={"split": "train"}, workers=2)


def test_png_with_bad_crc_is_corrupt(sample_copy, tmp_path):
    root = sample_copy("mose")
    path = first(mose_masks(root), "00002.png")
    data = bytearray(path.read_bytes())
    data[40] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="corrupt PNG"):
        api.convert(root, tmp_path / "o.json", to="coco", reader_options={"split": "train"})


def test_unreadable_without_root_privileges(sample_copy, tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads files whatever their permissions")
    root = sample_copy("mose")
    path = first(mose_masks(root), "00001.png")
    path.chmod(0)
    with pytest.raises(SourceError, match="cannot read mask"):
        api.convert(root, tmp_path / "o.json", to="coco", reader_options={"split": "train"})


def test_rgb_mask_is_never_quantised(sample_copy):
    """An RGB mask could be mapped to ids by colour, but that scrambles them: refuse it."""
    root = sample_copy("mose")
    _rgb_mask(root)
    buffer = io.StringIO()
    with api.open_reader(root, "mose", {"split": "train"}) as reader:
        report = validate(reader)
    print(report.errors, file=buffer)
    assert "scrambles" in buffer.getvalue() and "save the masks as palette or grayscale PNGs of the ids" in buffer.getvalue()


def _jpeg_with_thumbnail(size: int = 64) -> bytes:
    """A JPEG whose EXIF block holds a thumbnail: an end-of-image marker before the scan starts."""
    rng = np.random.default_rng(3)
    image = Image.fromarray(rng.integers(0, 256, (size, size, 3), np.uint8))
    thumbnail = io.BytesIO()
    image.resize((8, 8)).save(thumbnail, "JPEG")
    exif = Image.Exif()
    exif[0x010E] = "with a thumbnail"
    blob = exif.tobytes() + thumbnail.getvalue()  # the thumbnail's bytes, ending in FF D9, inside APP1
    out = io.BytesIO()
    image.save(out, "JPEG", exif=blob, quality=95)
    data = out.getvalue()
    from converters.sources.imagefiles import _scan_start

    assert data.index(b"\xff\xd9") < _scan_start(data)  # the header holds an end-of-image marker
    return data


def test_a_complete_jpeg_with_a_long_trailer_is_accepted_and_a_cut_one_is_not(tmp_path):
    """Phones append kilobytes after the end-of-image marker; a cut-off file must still fail, even when its
    EXIF thumbnail carries an end-of-image marker of its own."""
    from converters.sources.imagefiles import probe_image

    data = _jpeg_with_thumbnail()
    whole = tmp_path / "whole.jpg"
    whole.write_bytes(data + b"SEFT" + bytes(range(256)) * 20)  # 5 KB after the marker
    assert probe_image(str(whole)) == (64, 64)
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[: len(data) - 200])
    with pytest.raises(SourceError, match="truncated JPEG"):
        probe_image(str(cut))


@pytest.fixture(scope="module")
def damaged_stored_zip(sample_root, tmp_path_factory) -> tuple[Path, str, str]:
    """The MOSE sample as a stored zip with one train JPEG damaged mid-file: its header and tail,
    all a reader probes, are intact, so only a writer that copies the bytes finds it (by CRC-32)."""
    root = sample_root["mose"]
    jpeg = sorted(p for p in (root / "train" / "JPEGImages").rglob("00003.jpg"))[0]
    member = jpeg.relative_to(root).as_posix()
    target = stored_zip_with_damaged_members(root, tmp_path_factory.mktemp("damaged") / "stored.zip", [member])
    return target, jpeg.parent.name, f"{target}/{member}"


def _videos_of(output: Path) -> dict[str, object]:
    return {video.name: video for video in api.read_videos(output)}


@pytest.mark.parametrize("writer", ["parquet", "hdf5", "mose"])
@pytest.mark.parametrize("workers", [1, 2])
def test_an_image_only_the_writer_finds_damaged_is_skipped_with_its_video(
    damaged_stored_zip, sample_root, tmp_path, writer, workers
):
    source, culprit, member = damaged_stored_zip
    options = {"split": "train"}
    with pytest.raises(SourceError, match="CRC-32 mismatch") as failed:
        api.convert(source, tmp_path / "failed", to=writer, from_="mose", reader_options=options)
    assert failed.value.path == member
    assert not (tmp_path / "failed").exists()

    out = tmp_path / "skipped"
    summary = api.convert(source, out, to=writer, from_="mose", reader_options=options, on_error="skip", workers=workers)
    (record,) = summary.stats.skipped
    assert (record["video"], record["file"]) == (culprit, member) and "CRC-32 mismatch" in record["message"]
    assert [json.loads(line) for line in summary.errors_file.read_text().splitlines()] == [record]

    # the rest is exactly what the same source without that video gives
    clean = tmp_path / "clean"
    shutil.copytree(sample_root["mose"], clean)
    for folder in ("JPEGImages", "Annotations"):
        shutil.rmtree(clean / "train" / folder / culprit)
    expected = tmp_path / "expected"
    api.convert(clean, expected, to=writer, from_="mose", reader_options=options)
    got, want = _videos_of(out), _videos_of(expected)
    assert culprit not in got and sorted(got) == sorted(want)
    for name in want:
        assert [f.masks for f in got[name].frames] == [f.masks for f in want[name].frames]
        assert [f.file_name for f in got[name].frames] == [f.file_name for f in want[name].frames]
    if writer == "mose":  # nothing of the skipped video is left half written
        assert not list(out.rglob(f"*{culprit}*"))
    assert summary.stats.videos == len(want)


def _forge_huge_header(path: Path, monkeypatch) -> list[bool]:
    """The PNG's header made to declare 30000x30000; returns a list that each ``png.decode`` call appends to
    (True when it is given the forged file): nothing inflated for it leaves only False in it."""
    chunks = _png_chunks(path.read_bytes())
    _write_chunks(path, [(b"IHDR", struct.pack(">II", 30_000, 30_000) + chunks[0][1][8:]), *chunks[1:]])
    forged = path.read_bytes()
    decoded: list[bool] = []
    decode = png.decode
    monkeypatch.setattr(png, "decode", lambda data, **options: decoded.append(data == forged) or decode(data, **options))
    return decoded


def test_a_mask_header_larger_than_its_frame_is_refused_before_inflating(sample_copy, monkeypatch):
    """A mask whose header declares far more pixels than its frame is refused from the header alone:
    nothing is inflated for it (a small file can hold a stream that inflates 1032:1 to gigabytes)."""
    root = sample_copy("mose")
    path = first(mose_masks(root), "00001.png")
    decoded = _forge_huge_header(path, monkeypatch)
    with api.open_reader(root, "mose", {"split": "train"}) as reader:
        report = validate(reader)
    assert any(e["file"] == str(path) and "mask is 30000x30000 but its frame is" in e["message"] for e in report.errors)
    assert decoded and not any(decoded)


def _damage_every_packet_after_the_first(path: Path) -> None:
    """16 bytes flipped in the middle of each packet but the first: the container and frame 0 stay whole, the
    H.264 data after it does not (a disk or download error; H.264 itself carries no checksum)."""
    import av

    with av.open(str(path)) as container:
        spans = [(p.pos, p.size) for p in container.demux(container.streams.video[0]) if p.size]
    data = bytearray(path.read_bytes())
    for position, size in spans[1:]:
        for i in range(position + size // 2, position + size // 2 + min(16, size // 2)):
            data[i] ^= 0x55
    path.write_bytes(bytes(data))


def test_h264_data_the_decoder_finds_damaged_is_an_error_not_concealed_pixels(sav_sample, tmp_path):
    """FFmpeg conceals decoding errors (the frames come out, patched from their neighbours): the conversion once
    wrote such frames as the video's. Now the writer's decode fails, naming the mp4, and skip leaves the video out."""
    root = tmp_path / "train"
    shutil.copytree(sav_sample["train"], root)
    culprit = first(root / "sav_000", "*.mp4")
    _damage_every_packet_after_the_first(culprit)
    with pytest.raises(SourceError, match="cannot decode frame") as failed:
        api.convert(root, tmp_path / "failed", to="sav", from_="sav")
    assert failed.value.path == str(culprit)
    assert not (tmp_path / "failed").exists()
    summary = api.convert(root, tmp_path / "out", to="sav", from_="sav", on_error="skip")
    (skipped,) = summary.stats.skipped
    assert (skipped["video"], skipped["file"]) == (culprit.stem, str(culprit))
    assert not list((tmp_path / "out").rglob(f"*{culprit.stem}*"))


def _second_fourcc_replaced(data: bytes, old: bytes, new: bytes) -> bytes:
    """The mp4 with its sample description's codec (the second ``old``, the first being the ftyp brand) as ``new``."""
    at = data.index(old, data.index(b"stsd"))
    return data[:at] + new + data[at + len(old) :]


@pytest.mark.parametrize(
    ("edit", "says"),
    [
        (lambda data: data.replace(b"VideoHandler", b"\xa0ideoHandler"), None),
        (lambda data: _second_fourcc_replaced(data, b"avc1", b"zzzz"), "of a codec FFmpeg cannot decode"),
    ],
    ids=["a stream name that is not UTF-8", "a codec FFmpeg does not know"],
)
def test_an_mp4_of_odd_metadata_or_an_unknown_codec(sav_sample, tmp_path, edit, says):
    """Found by fuzzing: PyAV decodes every metadata tag strictly as it opens a file, so a handler name that is not
    UTF-8 was a UnicodeDecodeError traceback; it is metadata vosconv reads none of, so the video reads. A codec
    FFmpeg does not know gives a stream without a decoder: an AttributeError traceback, now an unreadable video."""
    root = tmp_path / "train"
    shutil.copytree(sav_sample["train"], root)
    culprit = first(root / "sav_000", "*.mp4")
    culprit.write_bytes(edit(culprit.read_bytes()))
    if says is None:
        api.convert(root, tmp_path / "out.parquet", to="parquet", from_="sav")
        return
    with pytest.raises(SourceError, match=says) as caught:
        list(api.read_videos(root, "sav"))
    assert caught.value.path == str(culprit)


def test_a_frame_of_a_file_without_a_video_stream_is_an_unreadable_video(tmp_path):
    """A frame read from a media file with no video stream (a writer reading frames of an mp4 replaced since it was
    listed, or an ``ImageRef(path, frame=n)`` given in Python): the sparse decoder's packet scan indexed the missing
    stream, an IndexError traceback. It is the SourceError naming the file that a full read gives."""
    import wave

    pytest.importorskip("av")
    from converters.model import ImageRef
    from converters.sources import imagefiles

    path = tmp_path / "sav_000001.mp4"
    with wave.open(str(path), "wb") as sound:  # a file FFmpeg opens, holding audio alone
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(8000)
        sound.writeframes(bytes(1600))
    with pytest.raises(SourceError, match="no video stream") as caught:
        imagefiles.read_bytes(ImageRef(str(path), frame=0))
    assert caught.value.path == str(path)


@pytest.mark.parametrize("frames", [True, False], ids=["its frames' size", "no frames: the largest frame size"])
def test_an_sa_v_mask_header_larger_than_its_frame_is_never_inflated(sav_sample, tmp_path, monkeypatch, frames):
    """Finding the foreground value (0/1 or 0/255) decodes val masks before any video is read: it once inflated
    whatever a mask's header declared (a 3.5 MB PNG of 60000x60000 zeros took 3.5 GB). Now each mask is held to
    its video's frame size from its header (with no frames to say it, to the largest frame size there may be),
    there as when the video is read."""
    root = tmp_path / "val"
    shutil.copytree(sav_sample["val"], root)
    path = first(first(root / "Annotations_6fps", "*"), "000/00000.png")
    if not frames:
        for jpeg in first(root / "JPEGImages_24fps", "*").iterdir():
            jpeg.unlink()
    decoded = _forge_huge_header(path, monkeypatch)
    with api.open_reader(root, "sav") as reader:
        assert reader.info().attribute("foreground") == "1"
        report = validate(reader)
    if frames:
        message = "mask is 30000x30000 but its frame is 66x48"
        assert any(e["file"] == str(path) and message in e["message"] for e in report.errors), report.errors
    assert decoded and not any(decoded)


@pytest.mark.parametrize(
    ("size", "says"),
    [((80, 60), "frame 4 is 80x60; the video is 66x48"), ((2000, 2000), "cannot decode frame 4")],
    ids=["a little larger", "far larger: refused before FFmpeg allocates it"],
)
def test_an_mp4_whose_frames_change_size_mid_way_is_an_error(sav_sample, tmp_path, size, says):
    """The header and the first frames agree with the JSON, later frames are of another size: they were once written
    as frames of the video, whatever their size (a 2000x2000 JPEG in a 66x48 video). Frames far larger than the header
    are refused by the decoder (``max_pixels``), the others when they come out."""
    from . import savdata

    root = tmp_path / "train"
    shutil.copytree(sav_sample["train"], root)
    culprit = first(root / "sav_000", "*.mp4")
    savdata.make_resizing_mp4(culprit, 14, 4, size)
    with pytest.raises(SourceError, match=says) as failed:
        api.convert(root, tmp_path / "failed", to="sav", from_="sav")
    assert failed.value.path == str(culprit)
    summary = api.convert(root, tmp_path / "out", to="sav", from_="sav", on_error="skip")
    assert [(r["video"], r["file"]) for r in summary.stats.skipped] == [(culprit.stem, str(culprit))]


def test_an_sa_v_archive_is_refused_saying_so(sav_sample, tmp_path):
    """The SA-V reader reads folders only: a zip of a val folder was refused as "an SA-V masklet file is named ...",
    which said nothing of the cause."""
    archive = tmp_path / "sav_val.zip"
    shutil.make_archive(str(archive.with_suffix("")), "zip", sav_sample["val"])
    with pytest.raises(SourceError, match="not from an archive: extract it first") as caught:
        list(api.read_videos(archive, "sav"))
    assert caught.value.path == str(archive)


def _in_thread_unblocking(fifo: Path, call: Callable[[], object]) -> BaseException | None:
    """What ``call`` raised, run in a thread: one still waiting on the pipe after 10 s is let go (a writer opens the
    pipe and closes it) and the test fails, rather than hang."""
    import threading

    raised: list[BaseException | None] = [None]

    def target() -> None:
        try:
            call()
        except BaseException as exc:  # handed to the test
            raised[0] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(10)
    if thread.is_alive():
        with open(fifo, "wb"):  # the reader blocked in open() goes on, and reads an empty file
            pass
        thread.join(10)
        pytest.fail(f"reading {fifo} waited for a writer")
    return raised[0]


@pytest.mark.parametrize("format", ["coco", "cocovid", "ytvis", "burst", None])
def test_a_source_that_is_a_pipe_is_refused_not_waited_on(tmp_path, format):
    """A source JSON that is a named pipe: opening it waited for a writer that never came (the run hung, named reader
    or detection alike). Now it is a SourceError naming it, as a device is."""
    fifo = tmp_path / "annotations.json"
    os.mkfifo(fifo)
    error = _in_thread_unblocking(fifo, lambda: list(api.read_videos(fifo, format)))
    assert isinstance(error, SourceError), error
    assert error.path == str(fifo) and "not a regular file or folder" in error.cause


@pytest.mark.parametrize("split", ["valid", None])
def test_a_youtube_vos_meta_json_that_is_a_pipe_is_named_not_a_missing_split(sample_copy, tmp_path, split):
    meta = sample_copy("youtube-vos") / "valid" / "meta.json"
    meta.unlink()
    os.mkfifo(meta)
    source = meta.parent.parent if split else meta.parent
    with pytest.raises(SourceError) as caught:
        list(api.read_videos(source, "youtube-vos", **({"split": split} if split else {})))
    assert caught.value.path == str(meta) and "not a regular file" in caught.value.cause


def test_a_davis_split_list_of_a_non_utf8_name_is_left_out_with_a_warning(sample_copy, tmp_path):
    """ImageSets/2017/<bytes that are not UTF-8>.txt became a key of the split-list attribute, which stopped every
    writer (a UnicodeEncodeError writing the Parquet card). It is left out, named, as an unreadable list is."""
    root = sample_copy("davis")
    sets = root / "DAVIS" / "ImageSets" / "2017"
    odd = sets / os.fsdecode(b"train\xe9.txt")
    shutil.copy(sets / "train.txt", odd)
    with pytest.warns(UserWarning, match="the list's name is not UTF-8 text") as caught:
        api.convert(root, tmp_path / "out.parquet", to="parquet", from_="davis")
    assert any(str(odd) in str(w.message) for w in caught)
    with api.open_reader(tmp_path / "out.parquet", "parquet") as reader:
        lists = json.loads(reader.info().attribute("split_lists"))
    kept = [p for p in (root / "DAVIS" / "ImageSets").glob("*/*.txt") if p != odd]
    assert sorted(lists) == sorted(f"{p.parent.name}/{p.stem}" for p in kept)


def test_an_sa_v_record_nested_too_deeply_names_it(sav_sample, tmp_path):
    """vosconv's record beside an SA-V val folder it wrote (.vosconv/<video>.json), nested deeper than the parser
    recurses: a RecursionError traceback, once."""
    out = tmp_path / "val"
    api.convert(sav_sample["train"], out, to="sav", from_="sav")
    record = first(out / ".vosconv", "sav_*.json")
    record.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(SourceError, match="unreadable vosconv record") as caught:
        list(api.read_videos(out, "sav"))
    assert caught.value.path == str(record)


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
@pytest.mark.parametrize("split", [7, True, ["train"]])
def test_a_manifest_split_that_is_not_a_string_names_the_field(sample_root, tmp_path, fmt, split):
    """The manifest's source split, a number: it once reached the writer, which made shard names of it (a TypeError
    traceback converting the output on). Now reading the manifest names the field."""
    out = tmp_path / f"out.{fmt}"
    api.convert(sample_root["mose"], out, to=fmt, reader_options={"split": "valid"})
    manifest = out / "manifest.json"
    _edit_json(manifest, lambda doc: doc["source"].update(split=split))
    with pytest.raises(SourceError, match="source/split: expected a string") as caught:
        api.convert(out, tmp_path / "again.parquet", to="parquet")
    assert caught.value.path == str(manifest)


@pytest.mark.parametrize(
    ("fmt", "which"), [("parquet", "manifest.json"), ("hdf5", "manifest.json"), ("parquet", "shard")], ids=str
)
@pytest.mark.parametrize("consumer", ["reader", "loader"])
def test_a_pipe_inside_an_output_folder_is_refused_not_waited_on(sample_root, tmp_path, fmt, which, consumer):
    """manifest.json or a Parquet shard replaced by a named pipe: reading it waited for a writer that never came."""
    from converters.loading import open_dataset

    out = tmp_path / f"out.{fmt}"
    api.convert(sample_root["mose"], out, to=fmt, reader_options={"split": "valid"})
    fifo = out / "manifest.json" if which == "manifest.json" else first(out / "data", "*.parquet")
    fifo.unlink()
    os.mkfifo(fifo)
    if consumer == "reader":
        error = _in_thread_unblocking(fifo, lambda: list(api.read_videos(out, fmt)))
    else:
        error = _in_thread_unblocking(fifo, lambda: [video.read_video() for video in open_dataset(out)])
    assert isinstance(error, SourceError), error
    assert error.path == str(fifo) and "not a regular file" in error.cause


def test_a_burst_header_of_half_a_character_names_the_file(tmp_path):
    """A category definition holding a "\\udcff" escape (JSON, but no UTF-8 text): the header went into the dataset
    attributes as it was and stopped the Parquet writer with a UnicodeEncodeError traceback."""
    from . import burstdata

    annotations, frames = burstdata.write_tree(tmp_path / "burst")
    path = annotations / "val" / "all_classes.json"
    doc = json.loads(path.read_text())
    doc["categories"] = [{"id": 1, "name": "person", "def": "a human \udcff"}]
    path.write_text(json.dumps(doc))
    with pytest.raises(SourceError, match="its header holds text that is not UTF-8") as caught:
        api.convert(path, tmp_path / "out.parquet", to="parquet", reader_options={"images": str(frames / "val")})
    assert caught.value.path == str(path)


def test_a_frame_that_is_a_pipe_in_an_sa_v_folder_vosconv_wrote_is_refused_not_waited_on(sav_sample, tmp_path):
    """The val folder vosconv writes names each video's frames in its record (.vosconv/<video>.json), so they are
    probed without being listed: a frame replaced by a named pipe made the reader wait for a writer."""
    out = tmp_path / "val"
    api.convert(sav_sample["train"], out, to="sav", from_="sav")
    fifo = Path(_pipe(first(first(out / "JPEGImages_24fps", "sav_*"), "00004.jpg")))
    error = _in_thread_unblocking(fifo, lambda: list(api.read_videos(out, "sav")))
    assert isinstance(error, SourceError), error
    assert error.path == str(fifo) and "not a regular file" in error.cause


@pytest.mark.parametrize("split", [float("nan"), 7, "val\udcff"], ids=["NaN", "a number", "half a character"])
def test_an_sa_v_dataset_record_of_a_split_that_is_not_text_names_it(sav_sample, tmp_path, split):
    """The split in the record beside an SA-V folder vosconv wrote (.vosconv/.dataset.json) names the shards of a
    Parquet output: a number there was a TypeError traceback in the writer, half a character a UnicodeEncodeError."""
    out = tmp_path / "val"
    api.convert(sav_sample["train"], out, to="sav", from_="sav")
    record = out / ".vosconv" / ".dataset.json"
    _edit_json(record, lambda doc: doc.update(split=split))
    with pytest.raises(SourceError, match="not a vosconv record") as caught:
        api.convert(out, tmp_path / "out.parquet", to="parquet", from_="sav")
    assert caught.value.path == str(record)


@pytest.mark.parametrize("to", ["coco", "cocovid"])
@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda source: source.update(split="valid\udcff"), "is not UTF-8 text"),
        (lambda source: source.update(attributes={"resolution": 480}), "attributes must map names to strings"),
    ],
    ids=["split of half a character", "attribute of a number"],
)
def test_a_coco_header_of_text_no_writer_can_store_names_the_file(sample_root, tmp_path, to, change, says):
    """info.vosconv.source, edited: a "\\udcff" escape in the split (JSON, but half a character) stopped the Parquet
    writer with a UnicodeEncodeError traceback; an attribute that is not a string went on into DatasetInfo."""
    good = tmp_path / f"good.{to}.json"
    api.convert(sample_root["mose"], good, to=to, reader_options={"split": "valid"})
    bad = tmp_path / f"bad.{to}.json"
    doc = json.loads(good.read_text())
    change(doc["info"]["vosconv"]["source"])
    bad.write_text(json.dumps(doc))
    with pytest.raises(SourceError, match=says) as caught:
        api.convert(bad, tmp_path / "out.parquet", to="parquet", from_=to)
    assert caught.value.path == str(bad)


def test_a_burst_sequence_holding_a_5000_digit_number_names_the_file(sample_root, tmp_path):
    """Python's JSON decoder refuses integers of over 4,300 digits with a plain ValueError, which the BURST index
    let out as a traceback (the other readers' JSON loaders turn it into a SourceError)."""
    good = tmp_path / "good.burst.json"
    api.convert(sample_root["mose"], good, to="burst", reader_options={"split": "valid"})
    bad = tmp_path / "bad.burst.json"
    bad.write_text(good.read_text().replace('"width":', '"note": ' + "9" * 5000 + ', "width":', 1))
    with pytest.raises(SourceError, match="5000 digits") as caught:
        list(api.read_videos(bad, "burst"))
    assert caught.value.path == str(bad)


@pytest.mark.parametrize("size_field", [b"77777777777\0", b"\x80" + b"\xff" * 11], ids=["8 GiB in octal", "2^88 in base-256"])
def test_a_tar_pax_header_of_a_forged_size_is_refused_before_reading_it(tmp_path, size_field):
    """tarfile reads a pax header's whole declared size in one read: 8 GiB was an allocation of 8 GiB for a 3 KB file
    (a MemoryError under a memory limit), a base-256 size past 2^63 an OverflowError traceback."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("train/JPEGImages/v/00000.jpg")
        info.size, info.pax_headers = 4, {"comment": "a pax header first"}
        tar.addfile(info, io.BytesIO(b"\xff\xd8\xff\xd9"))
    data = bytearray(buffer.getvalue())
    assert data[156:157] == b"x"  # the first header is the pax one
    data[124:136], data[148:156] = size_field, b" " * 8
    data[148:156] = b"%06o\0 " % sum(data[:512])
    path = tmp_path / "forged.tar"
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError, match="a pax or long-name header of") as caught:
        list(api.read_videos(path, "mose", split="train"))
    assert caught.value.path == str(path)


@pytest.mark.parametrize("writer", ["parquet", "hdf5"])
def test_the_bad_images_of_a_shard_are_found_in_one_rewrite(sample_root, tmp_path, shard_writes, writer):
    """Two videos of one shard whose images only the writer finds damaged: both are skipped after one rewrite of the
    shard, not one rewrite per bad video (quadratic in a shard's bad images)."""
    from converters import registry

    root = sample_root["mose"]
    videos = sorted(p.name for p in (root / "train" / "JPEGImages").iterdir() if p.is_dir())
    members = [f"train/JPEGImages/{name}/00003.jpg" for name in videos[1:]]  # all but the first video
    source = stored_zip_with_damaged_members(root, tmp_path / "damaged.zip", members)
    calls = shard_writes(registry.load("writer", writer))
    summary = api.convert(source, tmp_path / "out", to=writer, from_="mose", reader_options={"split": "train"}, on_error="skip")
    assert len(calls) == 2  # the first try, and one without both videos
    assert [(r["video"], r["file"]) for r in summary.stats.skipped] == [(n, f"{source}/{m}") for n, m in zip(videos[1:], members)]
    assert sorted(_videos_of(tmp_path / "out")) == videos[:1]


def _without_counts(doc: dict) -> None:
    segmentation = next(s for a in doc["annotations"] for s in a["segmentations"] if s is not None)
    del segmentation["counts"]


def _image_id_of_an_object(doc: dict) -> None:
    doc["annotations"][0]["image_id"] = {"id": 1}


def _annotation_without_image_id(doc: dict) -> None:
    del doc["annotations"][0]["image_id"]


def _video_name_of_a_list(doc: dict) -> None:
    doc["videos"][0]["name"] = [["x"]]


def _category_name_of_an_object(doc: dict) -> None:
    del doc["info"]
    doc["categories"] = [{"id": 1, "name": {"en": "dog"}}]


def _videos_of_false(doc: dict) -> None:
    del doc["info"]  # another tool's YouTube-VIS file: its lists are checked as it is rewritten
    doc["videos"] = False


def _annotations_of_false(doc: dict) -> None:
    doc["annotations"] = False


def _categories_of_zero(doc: dict) -> None:
    doc["categories"] = 0


@pytest.mark.parametrize(
    ("fmt", "change", "says"),
    [
        ("coco", _without_counts, "an RLE segmentation without counts"),
        ("cocovid", _image_id_of_an_object, r"annotations/0/image_id: expected an integer, got \{'id': 1\}"),
        ("cocovid", _annotation_without_image_id, "annotations/0/image_id: missing"),
        ("coco", _video_name_of_a_list, r"name: expected a string, got \[\['x'\]\]"),
        ("ytvis", _category_name_of_an_object, r"categories/0/name: expected a string, got \{'en': 'dog'\}"),
        ("ytvis", _videos_of_false, "videos: expected a list, got False"),
        ("cocovid", _annotations_of_false, "annotations: expected a list, got False"),
        ("cocovid", _categories_of_zero, "categories: expected a list, got 0"),
    ],
    ids=[
        "RLE without counts",
        "CocoVID image_id of an object",
        "CocoVID without image_id",
        "video name of a list",
        "category name of an object",
        "YouTube-VIS videos of false",
        "CocoVID annotations of false",
        "CocoVID categories of 0",
    ],
)
def test_a_video_coco_json_field_of_the_wrong_kind_names_the_file(sample_root, tmp_path, fmt, change, says):
    """Fields of the wrong kind, found by fuzzing: an RLE object without counts was a KeyError traceback, a CocoVID
    image_id that is an object a TypeError (unhashable), YouTube-VIS "videos": false a TypeError (not iterable), a
    video or category name that is a list or an object went on as its repr ("[['x']]"), and a CocoVID file's
    "annotations": false or "categories": 0 read as an empty list (every mask gone in silence)."""
    good = tmp_path / "good.json"
    api.convert(sample_root["mose"], good, to="cocovid" if fmt == "cocovid" else "coco", reader_options={"split": "valid"})
    bad = tmp_path / "bad.json"
    doc = json.loads(good.read_text())
    change(doc)
    bad.write_text(json.dumps(doc))
    with pytest.raises(SourceError, match=says) as caught:
        list(api.read_videos(bad, fmt))
    assert caught.value.path == str(bad)


@pytest.mark.parametrize("value", ["external", "elsewhere", -1])
def test_an_hdf5_group_whose_images_disagree_with_the_manifest_is_refused_by_the_reader(mose_shards, tmp_path, value):
    """The reader read a group's images attribute of any other value than "embedded" as frames without images, as the
    loader once did (found by fuzzing): a conversion went on with the video's frames missing."""
    from .test_loader_bad_input import first_shard, with_hdf5_group

    out = with_hdf5_group(mose_shards["hdf5"], tmp_path / "out", lambda g: g.attrs.__setitem__("images", value))
    with pytest.raises(SourceError, match=rf"the group's images are '{value}', the manifest's embedded") as caught:
        list(api.read_videos(out, "hdf5"))
    assert caught.value.path == str(first_shard(out))


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
def test_a_manifest_video_its_shard_entry_does_not_list_stops_the_reader(mose_shards, tmp_path, fmt):
    """A manifest whose video list puts a video in a shard whose own list leaves it out: the reader listed the shards'
    videos only, so a conversion went on without that video in silence (found by fuzzing). The manifest disagrees
    with itself: an error naming it, as for any corrupt manifest."""
    out = tmp_path / "out"
    shutil.copytree(mose_shards[fmt], out)
    manifest = json.loads((out / "manifest.json").read_text())
    dropped = manifest["shards"][0]["videos"].pop()
    (out / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(SourceError, match=rf"video '{dropped}': the manifest puts it in shard .*does not name it") as caught:
        list(api.read_videos(out, fmt))
    assert caught.value.path == str(out / "manifest.json")


@pytest.mark.parametrize(
    ("annotated", "says"),
    [
        ({}, r"annotated: expected a list of frame indices below 4, got \{\}"),
        ([0, 1, 2**32 + 2, 3], "annotated: expected a list of frame indices below 4"),
        ([0, 1, 3], r"annotated leaves out frames \[2\], which have masks"),
    ],
    ids=["an object", "an index past the frames", "a frame with masks left out"],
)
def test_an_sa_v_record_whose_annotated_frames_leave_out_masks_names_it(sav_sample, tmp_path, annotated, says):
    """vosconv's record beside an SA-V val/test folder it wrote lists the annotated frames, which the video takes
    instead of the frames with PNGs: edited to leave one out (or not a list), the frame's masks were dropped in
    silence (found by fuzzing)."""
    out = tmp_path / "val"
    api.convert(sav_sample["train"], out, to="sav", from_="sav")
    record = first(out / ".vosconv", "sav_*.json")
    doc = json.loads(record.read_text())
    assert doc["annotated"] == [0, 1, 2, 3]
    doc["annotated"] = annotated
    record.write_text(json.dumps(doc))
    with pytest.raises(SourceError, match=says) as caught:
        list(api.read_videos(out, "sav"))
    assert caught.value.path == str(record)


def _without_entry(manifest: dict, name: str) -> None:
    manifest["videos"] = [v for v in manifest["videos"] if v["name"] != name]


def _without_entry_or_listing(manifest: dict, name: str) -> None:
    _without_entry(manifest, name)
    for shard in manifest["shards"]:
        shard["videos"] = [v for v in shard["videos"] if v != name]


@pytest.mark.parametrize("fmt", ["parquet", "hdf5"])
@pytest.mark.parametrize(
    ("edit", "culprit", "says"),
    [
        (_without_entry, "manifest.json", r"shard .* lists video '{}', which the manifest's videos do not"),
        (_without_entry_or_listing, "shard", r"holds 1 video\(s\) its manifest entry does not list, '{}' first"),
    ],
    ids=["entry deleted, its shard still naming it", "entry and listing deleted"],
)
def test_a_video_its_shard_holds_but_the_manifest_does_not_list_is_refused_not_dropped(
    mose_shards, tmp_path, fmt, edit, culprit, says
):
    """A manifest's video entry deleted while its shard still holds the video: the reader listed the shards' lists (the
    Parquet one read the video without its entry's checks, the HDF5 one refused it as of 0 frames) and the loader the
    entries (the video gone from training in silence); with the shard's listing deleted too, every consumer left the
    video out in silence, validate included (the shard's sha256 still holds). Now the manifest's two lists must agree
    (reader, validate, loader), and the reader checks each shard's own index of videos against its entry."""
    from converters.loading import open_dataset
    from converters.run.validate import validate as validate_reader

    from .test_loader_bad_input import first_shard

    out = tmp_path / "out"
    shutil.copytree(mose_shards[fmt], out)
    manifest = json.loads((out / "manifest.json").read_text())
    gone = manifest["shards"][0]["videos"][0]
    edit(manifest, gone)
    (out / "manifest.json").write_text(json.dumps(manifest))
    named = str(out / "manifest.json") if culprit == "manifest.json" else str(first_shard(out))
    message = says.format(gone)
    with pytest.raises(SourceError, match=message) as caught:
        list(api.read_videos(out, fmt))
    assert caught.value.path == named
    with pytest.raises(SourceError, match=message):
        api.convert(out, tmp_path / "copy.json", to="coco", on_error="skip")
    with api.open_reader(out, fmt) as reader:
        (error,) = validate_reader(reader).errors
    assert error["file"] == named and re.search(message, error["message"])
    if culprit == "manifest.json":  # the loader's index is the manifest's videos: it refuses a manifest at odds with itself
        with pytest.raises(SourceError, match=message):
            open_dataset(out)


def _mask_members(root: Path) -> tuple[str, str]:
    """Frame 3's mask of the MOSE sample's first two train videos, as zip member names."""
    videos = sorted(p.name for p in (root / "train" / "Annotations").iterdir() if p.is_dir())
    return tuple(f"train/Annotations/{video}/00003.png" for video in videos[:2])


def _swapped(source: Path, target: Path, first: str, second: str) -> tuple[Path, str, str]:
    """Two videos' masks swapped in the central directory alone: each name leads to the other's bytes."""
    with_directory_name(source, target, first, "x" * len(first))
    with_directory_name(target, target, second, first)
    with_directory_name(target, target, "x" * len(first), second)
    return target, first, "the local header at offset .* names another member"


ZIP_DIRECTORY_RENAMES = {
    "two masks swapped": _swapped,
    "a mask renamed to another video's": lambda s, t, a, b: (with_directory_name(s, t, a, b), b, "names two members so"),
    "a mask renamed to another of its video's": lambda s, t, a, b: (
        with_directory_name(s, t, a, a.replace("00003", "00002")),
        a.replace("00003", "00002"),
        "names two members so",
    ),
    "a mask renamed through '..' to another video's": lambda s, t, a, b: (
        with_directory_name(s, t, a, f"{a.rsplit('/', 2)[0]}/../{b.split('/', 2)[2]}"),
        f"{a.rsplit('/', 2)[0]}/../{b.split('/', 2)[2]}",
        "a member name with a '..' part",
    ),
    "a mask renamed out of the archive": lambda s, t, a, b: (
        with_directory_name(s, t, a, "../00003.png"),
        "../00003.png",
        "'..' part",
    ),
}


@pytest.mark.parametrize("case", sorted(ZIP_DIRECTORY_RENAMES))
def test_a_zip_member_its_central_directory_names_otherwise_is_refused(sample_root, tmp_path, case):
    """A zip's central directory renaming a mask while its local header keeps the name: swapped, one video's mask read
    as the other's (same size: no error, masks exchanged in silence); renamed onto a member or through '..' onto one,
    the later entry won and the other mask was gone; renamed out of the archive ('../x'), the member was left out, its
    frame read as unannotated. zipfile refuses names that differ ("File name in directory ... and header ... differ");
    vosconv now refuses all four, naming the archive and the member, and validate reports it."""
    root = sample_root["mose"]
    packed = pack(root, tmp_path / "good.zip", "zip", hidden=False)
    first, second = _mask_members(root)
    source, member, says = ZIP_DIRECTORY_RENAMES[case](packed, tmp_path / "renamed.zip", first, second)
    with pytest.raises(SourceError, match=f"corrupt zip archive: .*{says}") as caught:
        api.convert(source, tmp_path / "out.json", to="coco", from_="mose", reader_options={"split": "train"})
    assert caught.value.path == f"{source}/{member}"
    with api.open_reader(source, "mose", {"split": "train"}) as reader:
        report = validate(reader)
    assert any(e["file"] == f"{source}/{member}" and re.search(says, e["message"]) for e in report.errors), report.errors


def _same_annotation_id(doc: dict, other_video: bool) -> None:
    """The second annotation of the first video (or the first of another video) given the first annotation's id."""
    first = doc["annotations"][0]
    twin = next(a for a in doc["annotations"][1:] if (a["video_id"] != first["video_id"]) == other_video)
    twin["id"] = first["id"]


@pytest.mark.parametrize("fmt", ["ytvis", "cocovid"])
@pytest.mark.parametrize("other_video", [False, True], ids=["in one video", "in two videos"])
def test_two_annotations_of_one_id_are_both_read(tmp_path, fmt, other_video):
    """Annotation ids are named by nothing else in a YouTube-VIS or CocoVID file (tracks go by video and position, or
    by instance_id), so a repeated one is harmless: both annotations are read, nothing replaced. Video ids and CocoVID
    image ids are named by annotations, and a repeated one is refused (tests/readers: two videos or images sharing an id)."""
    from .readers.test_cocovid import write_mmdet
    from .readers.test_ytvis import write_2019

    if fmt == "ytvis":
        path = write_2019(tmp_path / "good") / "train.json"
    else:
        path, _ = write_mmdet(tmp_path / "good")
    doc = json.loads(path.read_text())
    bad = tmp_path / "bad.json"
    _same_annotation_id(doc, other_video)
    bad.write_text(json.dumps(doc))
    assert len({a["id"] for a in doc["annotations"]}) == len(doc["annotations"]) - 1

    def content(source: Path) -> list:
        return [(v.name, v.objects, [f.masks for f in v.frames]) for v in api.read_videos(source, fmt)]

    read = content(bad)
    assert read == content(path)
    tracks = {(a["video_id"], a.get("instance_id", id(a))) for a in doc["annotations"]}  # YouTube-VIS: one each
    assert sum(len(objects) for _, objects, _ in read) == len(tracks)


def test_an_hdf5_shard_that_cannot_be_opened_loses_its_own_videos_alone_under_skip(tmp_path):
    """Listing an HDF5 output opens each shard to hold its own index of videos to the manifest; a shard that cannot
    be opened (its signature damaged) stopped the whole run there, under skip too, where before its videos were each
    an error and the other shards' videos converted. It still is that: the check is of a shard that opens."""
    import converters
    from converters.codecs.rle import encode
    from converters.model import Frame, FrameMasks, MaskEncoding, ObjectInfo, Video

    label = np.zeros((6, 8), np.uint8)
    label[1:3, 2:6] = 1
    frame = Frame(0, "00000.jpg", None, FrameMasks(tuple(encode(label))))
    videos = [Video(f"v{i}", 8, 6, (frame,), (ObjectInfo(1),), MaskEncoding.PALETTE) for i in range(3)]
    out = tmp_path / "out.h5"
    converters.write_videos(videos, out, to="hdf5", writer_options={"shard_bytes": 1})  # a shard per video
    damaged = sorted(out.glob("part-*.h5"))[1]
    damaged.write_bytes(b"\0" * 8 + damaged.read_bytes()[8:])  # no HDF5 signature
    summary = api.convert(out, tmp_path / "copy.json", to="coco", on_error="skip")
    assert summary.stats.videos == 2
    assert [(r["video"], r["file"]) for r in summary.stats.skipped] == [("v1", str(damaged))]
    assert "cannot open HDF5 shard" in summary.stats.skipped[0]["message"]
    with api.open_reader(out, "hdf5") as reader:
        assert [e["file"] for e in validate(reader).errors] == [str(damaged)]  # its sha256, the manifest's no more
