"""The COCO RLE JSON contract, checked against pycocotools and the source PNGs themselves."""

from __future__ import annotations

import gzip
import json
import warnings

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from converters import api
from converters.sample import label_maps

SPLITS = {"mose": "train", "davis": "train", "youtube-vos": "valid"}


@pytest.fixture(scope="module")
def converted(sample_root, tmp_path_factory):
    """Each sample layout converted once to COCO JSON: {layout: (json dict, source split folder)}."""
    out = tmp_path_factory.mktemp("coco")
    result = {}
    for layout, split in SPLITS.items():
        path = out / f"{layout}.json"
        api.convert(sample_root[layout], path, to="coco", from_=layout, reader_options={"split": split})
        root = sample_root[layout] / ("DAVIS" if layout == "davis" else split)
        result[layout] = (json.loads(path.read_text()), root, path)
    return result


def source_label(root, layout, video, file_name):
    stem = file_name.rsplit(".", 1)[0]
    folder = "Annotations/480p" if layout == "davis" else "Annotations"
    return label_maps(root / folder / video).get(f"{stem}.png")


@pytest.mark.parametrize("layout", sorted(SPLITS))
def test_masks_equal_pycocotools_on_the_source_pngs(converted, layout):
    """counts byte-identical to pycocotools.mask.encode; area and bbox as mask.area and mask.toBbox."""
    data, root, _ = converted[layout]
    videos = {v["id"]: v for v in data["videos"]}
    checked = 0
    for annotation in data["annotations"]:
        video = videos[annotation["video_id"]]
        for index, file_name in enumerate(video["file_names"]):
            label = source_label(root, layout, video["name"], file_name.split("/")[1])
            segmentation = annotation["segmentations"][index]
            if label is None:
                assert segmentation is None
                continue
            value = annotation["object_id"]
            if video["vosconv"]["encoding"] == "binary":
                value = 255
            binary = np.asfortranarray((label == value).astype(np.uint8))
            if not binary.any():
                assert segmentation is None and annotation["areas"][index] is None and annotation["bboxes"][index] is None
                continue
            expected = coco_mask.encode(binary)
            assert segmentation == {"size": [video["height"], video["width"]], "counts": expected["counts"].decode()}
            assert annotation["areas"][index] == int(coco_mask.area(expected))
            assert annotation["bboxes"][index] == [int(v) for v in coco_mask.toBbox(expected)]
            checked += 1
    assert checked >= 4


@pytest.mark.parametrize("layout", sorted(SPLITS))
def test_videos_section(converted, layout):
    data, root, _ = converted[layout]
    assert [v["id"] for v in data["videos"]] == list(range(1, len(data["videos"]) + 1))
    assert [v["name"] for v in data["videos"]] == sorted(v["name"] for v in data["videos"])
    for video in data["videos"]:
        folder = root / ("JPEGImages/480p" if layout == "davis" else "JPEGImages") / video["name"]
        frames = sorted(p.name for p in folder.glob("*.jpg") if not p.name.startswith("."))
        assert video["file_names"] == [f"{video['name']}/{f}" for f in frames]
        assert video["length"] == len(frames)
        annotated = [i for i, f in enumerate(frames) if source_label(root, layout, video["name"], f) is not None]
        assert video["annotated_frames"] == annotated


def test_one_annotation_per_object_per_video_and_void(converted):
    data, _, _ = converted["davis"]
    per_video = {}
    for annotation in data["annotations"]:
        per_video.setdefault(annotation["video_id"], []).append(annotation)
        assert len(annotation["segmentations"]) == len(annotation["areas"]) == len(annotation["bboxes"])
    assert [a["id"] for a in data["annotations"]] == list(range(1, len(data["annotations"]) + 1))
    # the void region is no annotation and no category (Mask2Former would register a class too many): it is in the video
    assert all(a["iscrowd"] == 0 for a in data["annotations"]) and "void" not in {c["name"] for c in data["categories"]}
    voided = [v for v in data["videos"] if "void" in v["vosconv"]]
    assert voided and all(len(v["vosconv"]["void"]) == v["length"] for v in voided)
    for track in per_video.values():
        ids = [a["object_id"] for a in track]
        assert ids == sorted(set(ids))


def test_categories_from_source_or_a_single_object_category(converted):
    mose, _, _ = converted["mose"]
    assert mose["categories"] == [{"id": 1, "name": "object", "supercategory": "object"}]
    assert {a["category_id"] for a in mose["annotations"]} == {1}
    ytvos, root, _ = converted["youtube-vos"]
    meta = json.loads((root.parent / "train" / "meta.json").read_text())
    names = {o.get("category") for v in meta["videos"].values() for o in v["objects"].values()} - {None}
    # valid meta.json carries no categories: every object gets the placeholder category
    assert {c["name"] for c in ytvos["categories"]} <= names | {"object"}


def test_one_record_per_line(converted):
    """The streaming layout the coco reader indexes: each video and annotation on its own line."""
    _, _, path = converted["mose"]
    lines = path.read_text().splitlines()
    assert lines[0].startswith('{"info":') and lines[1] == '"videos":['
    data = json.loads(path.read_text())
    assert len(lines) == 2 + len(data["videos"]) + 2 + len(data["annotations"]) + 2


def test_gzip_output_is_deterministic_and_equal(sample_root, tmp_path):
    paths = []
    for attempt in range(2):
        path = tmp_path / f"{attempt}" / "out.json.gz"
        api.convert(sample_root["mose"], path, to="coco", reader_options={"split": "valid"})
        paths.append(path)
    assert paths[0].read_bytes() == paths[1].read_bytes()
    plain = tmp_path / "plain.json"
    api.convert(sample_root["mose"], plain, to="coco", reader_options={"split": "valid"})
    assert gzip.decompress(paths[0].read_bytes()) == plain.read_bytes()


def test_image_root_is_absolute_so_the_file_reads_from_any_folder(sample_root, tmp_path, monkeypatch):
    """Converted with a relative source path, the JSON still finds its frames when read from another folder."""
    monkeypatch.chdir(sample_root["mose"].parent)
    relative = sample_root["mose"].name
    (tmp_path / "sub").mkdir()
    api.convert(relative, tmp_path / "sub" / "out.json", to="coco", reader_options={"split": "train"})
    header = json.loads((tmp_path / "sub" / "out.json").read_text().splitlines()[0][len('{"info":') : -1])
    root = header["vosconv"]["image_root"]
    assert root == str((sample_root["mose"] / "train" / "JPEGImages").resolve())
    monkeypatch.chdir(tmp_path / "sub")
    api.convert("out.json", tmp_path / "back", to="mose")

    def frames(root):
        return sorted(p.relative_to(root) for p in root.rglob("*.jpg") if not p.name.startswith("."))  # the sample has `._` files

    assert frames(tmp_path / "back") == frames(sample_root["mose"] / "train")


def test_compresslevel_is_checked_and_said_to_do_nothing_for_plain_json(sample_root, tmp_path):
    """A level for a .json output used to be taken silently (and make convert's pipeline set one)."""
    from converters.errors import OptionError, VosconvWarning

    options = {"reader_options": {"split": "train"}, "from_": "mose"}
    with pytest.warns(VosconvWarning, match=r"plain\.json: compresslevel applies to a \.json\.gz output"):
        api.convert(sample_root["mose"], tmp_path / "plain.json", to="coco", writer_options={"compresslevel": 9}, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no level given, or a .gz output: nothing to say
        api.convert(sample_root["mose"], tmp_path / "quiet.json", to="coco", **options)
        api.convert(sample_root["mose"], tmp_path / "best.json.gz", to="coco", writer_options={"compresslevel": 9}, **options)
        api.convert(sample_root["mose"], tmp_path / "default.json.gz", to="coco", **options)
    assert (tmp_path / "best.json.gz").stat().st_size < (tmp_path / "default.json.gz").stat().st_size
    assert gzip.decompress((tmp_path / "best.json.gz").read_bytes()) == (tmp_path / "quiet.json").read_bytes()
    with pytest.raises(OptionError, match="compresslevel must be 0 to 9, got 12"):
        api.convert(sample_root["mose"], tmp_path / "x.json.gz", to="coco", writer_options={"compresslevel": 12}, **options)
    assert not (tmp_path / "x.json.gz").exists()


def test_short_writes_still_write_every_byte(sample_root, tmp_path, monkeypatch):
    """``os.writev`` may take fewer bytes than offered (a signal, a nearly full disk): the rest is written after."""
    import os

    whole = tmp_path / "whole.json"
    api.convert(sample_root["mose"], whole, to="coco", reader_options={"split": "train"})
    writev, calls = os.writev, []

    def a_few_bytes_at_a_time(fd, buffers):
        calls.append(len(buffers))
        taken = b"".join(bytes(b) for b in buffers)[: 1 + len(calls) % 97]  # 1 to 97 bytes, ending mid-piece
        return writev(fd, [taken])

    monkeypatch.setattr(os, "writev", a_few_bytes_at_a_time)
    short = tmp_path / "short.json"
    api.convert(sample_root["mose"], short, to="coco", reader_options={"split": "train"})
    assert len(calls) > 100
    assert short.read_bytes() == whole.read_bytes()


def test_a_write_that_takes_nothing_is_an_error_not_a_hang(sample_root, tmp_path, monkeypatch):
    import os

    from converters.errors import OutputError

    calls = []

    def nothing(fd, buffers):
        calls.append(fd)
        if len(calls) > 100:  # the loop would never end: fail the test instead
            raise AssertionError("a write that takes nothing was retried forever")
        return 0

    monkeypatch.setattr(os, "writev", nothing)
    with pytest.raises(OutputError, match="took no bytes"):
        api.convert(sample_root["mose"], tmp_path / "out.json", to="coco", reader_options={"split": "train"})
    assert not (tmp_path / "out.json").exists()


def test_shard_files_read_into_one_buffer_give_each_file_its_own_lines(tmp_path):
    """A shorter file read after a longer one into the same buffer: none of the longer one's bytes show through."""
    from converters.formats.coco.writer import _lines, _read_into

    files = {"long": b'{"a":1}\n{"b":22222222222}\n', "short": b'{"c":3}\n', "empty": b""}
    buffer = bytearray()
    for name, content in files.items():
        (tmp_path / name).write_bytes(content)
        buffer, size = _read_into(buffer, tmp_path / name)
        assert [bytes(buffer[start:end]) for start, end in _lines(buffer, size)] == content.splitlines()
    (tmp_path / "torn").write_bytes(b'{"d":4}\n{"e":')  # cut mid-line: not what a shard writes
    with pytest.raises(OSError, match="torn: shard file changed while it was read"):
        _read_into(buffer, tmp_path / "torn")


@pytest.mark.parametrize("count", [16, 1024])
def test_gathered_pieces_never_hand_writev_more_buffers_than_it_takes(count, monkeypatch):
    """One piece, then pairs: a flush only after passing the limit would hand ``count + 1`` buffers (EINVAL)."""
    from converters.formats.coco import writer as coco

    calls: list[int] = []
    monkeypatch.setattr(coco, "_write_all", lambda fd, parts: calls.append(len(parts)))
    out = coco._Gathered(-1, count=count)
    out.add(b"header")
    for _ in range(3 * count):
        out.add(b"prefix", memoryview(b"record"))
    out.flush()
    assert max(calls) <= count
    assert sum(calls) == 1 + 6 * count


def _shard_files(staging, shards):
    """Shard files as ``CocoWriter.write_shard`` writes them, from (video records, [(position, annotation record)])."""
    from converters.writer import ShardResult

    (staging / "shards").mkdir(parents=True)
    results = []
    for index, (videos, records) in enumerate(shards):
        names = (f"shards/{index:05d}.videos.jsonl", f"shards/{index:05d}.annotations.jsonl")
        (staging / names[0]).write_bytes(b"".join(v.encode() + b"\n" for v in videos))
        (staging / names[1]).write_bytes(b"".join(f"{p}\t{a}\n".encode() for p, a in records))
        results.append(ShardResult(index, names, {"placeholders": []}))
    return results


@pytest.mark.parametrize("suffix", [".json", ".json.gz"])
def test_finalize_numbers_every_line_in_shard_order(tmp_path, suffix):
    """Empty shards, a long shard before a short one (one reused read buffer), more lines than one
    writev takes, lines over the 1 MB batch, non-ASCII text: the ids and records a plain reading gives."""
    from converters.formats.coco.writer import CocoWriter
    from converters.model import DatasetInfo

    def record(n, text="x"):
        return json.dumps({"name": f"v{n}", "text": text * n}, ensure_ascii=False, separators=(",", ":"))

    shards = [
        ([], []),
        ([record(1, "é\u2028\t"), record(3000)], [(1, record(2000)), (0, record(2, '\\"'))]),
        ([record(2)], [(0, record(0))]),
        ([record(i) for i in range(1500)], [(i % 1500, record(i % 7)) for i in range(1200)]),
        ([record(3 << 18)], [(0, record(5 << 18)), (0, record(1))]),
        ([], []),
    ]
    staging = tmp_path / "staging"
    result = CocoWriter().finalize(_shard_files(staging, shards), DatasetInfo("mose"), staging, tmp_path / f"out{suffix}")
    data = result.read_bytes()
    text = (gzip.decompress(data) if suffix.endswith(".gz") else data).decode()
    videos, annotations, first = [], [], 0
    for shard_videos, shard_annotations in shards:
        videos += [{"id": len(videos) + k, **json.loads(v)} for k, v in enumerate(shard_videos, 1)]
        for position, a in shard_annotations:
            annotations.append({"id": len(annotations) + 1, "video_id": first + position + 1, **json.loads(a)})
        first += len(shard_videos)
    loaded = json.loads(text)
    assert loaded["videos"] == videos and loaded["annotations"] == annotations
    lines = text.split("\n")
    assert lines[1] == '"videos":[' and lines[2 + len(videos)] == "],"  # one record per line, as the coco reader indexes it


def test_without_writev_the_file_is_the_same(sample_root, tmp_path, monkeypatch):
    """Windows has no ``os.writev``: the pieces then go through the buffered file, to the same bytes."""
    import os

    options = {"to": "coco", "reader_options": {"split": "train"}}
    api.convert(sample_root["mose"], tmp_path / "writev.json", **options)
    monkeypatch.delattr(os, "writev")
    api.convert(sample_root["mose"], tmp_path / "plain.json", **options)
    assert (tmp_path / "plain.json").read_bytes() == (tmp_path / "writev.json").read_bytes()


@pytest.mark.parametrize("target", ["coco", "cocovid"])
def test_a_supercategory_the_writer_fills_reads_back_as_none(tmp_path, target):
    """YouTube-VIS files give every category a supercategory; the one written for a category without reads back as
    none, while one the source gave (its name included) stays."""
    mask = np.zeros((4, 6), np.uint8)
    mask[1:3, 2:5] = 1
    counts = coco_mask.encode(np.asfortranarray(mask))["counts"].decode()
    source = {
        "videos": [{"id": 1, "file_names": ["v/00000.jpg"], "height": 4, "width": 6, "length": 1}],
        "annotations": [
            {"id": i, "video_id": 1, "category_id": i, "segmentations": [{"size": [4, 6], "counts": counts}]} for i in (1, 2, 3)
        ],
        "categories": [
            {"id": 1, "name": "person"},
            {"id": 2, "name": "dog", "supercategory": "dog"},
            {"id": 3, "name": "cat", "supercategory": "animal"},
        ],
    }
    (tmp_path / "source.json").write_text(json.dumps(source))
    out = tmp_path / "out.json"
    api.convert(tmp_path / "source.json", out, to=target, from_="coco")
    written = json.loads(out.read_text())
    assert [c["supercategory"] for c in written["categories"]] == ["person", "dog", "animal"]
    with api.open_reader(out, target) as reader:
        back = reader.info().categories
    assert [(c.name, c.supercategory) for c in back] == [("person", None), ("dog", "dog"), ("cat", "animal")]
