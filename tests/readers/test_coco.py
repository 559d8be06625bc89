"""The coco reader: vosconv's own streamed files, other tools' YouTube-VIS JSON, and bad input."""

from __future__ import annotations

import gzip
import json
import pickle
import re
import warnings

import numpy as np
import pytest
from pycocotools import mask as coco_mask

from converters import api
from converters.codecs import labels
from converters.errors import SourceError, VosconvWarning
from converters.formats.coco.reader import CocoReader
from converters.model import MaskEncoding


def rle(binary: np.ndarray) -> dict:
    encoded = coco_mask.encode(np.asfortranarray(binary.astype(np.uint8)))
    return {"size": list(binary.shape), "counts": encoded["counts"].decode()}


@pytest.fixture
def foreign(tmp_path):
    """A YouTube-VIS file as other tools write it: no object ids, list and string counts, a polygon, nulls."""
    height, width = 6, 8
    first = np.zeros((height, width), bool)
    first[1:3, 2:5] = True
    second = np.zeros((height, width), bool)
    second[4:6, 0:3] = True
    data = {
        "videos": [
            {
                "id": 7,
                "width": width,
                "height": height,
                "length": 3,
                "file_names": ["vidB/00000.jpg", "vidB/00005.jpg", "vidB/00010.jpg"],
            },
            {"id": 3, "width": width, "height": height, "length": 1, "file_names": ["vidA/00000.jpg"]},
        ],
        "annotations": [
            {
                "id": 1,
                "video_id": 7,
                "category_id": 2,
                "iscrowd": 0,
                "segmentations": [rle(first), None, {"size": [height, width], "counts": [9, 2, 4, 2, 31]}],
            },
            {"id": 2, "video_id": 7, "category_id": 1, "iscrowd": 0, "segmentations": [None, rle(second), None]},
            {
                "id": 3,
                "video_id": 3,
                "category_id": 1,
                "iscrowd": 0,
                "segmentations": [[[1.0, 1.0, 4.0, 1.0, 4.0, 3.0, 1.0, 3.0]]],
            },
        ],
        "categories": [{"id": 1, "name": "person"}, {"id": 2, "name": "dog"}],
    }
    path = tmp_path / "foreign.json"
    path.write_text(json.dumps(data))
    return path, first, second


def rle_string(counts: list[int]) -> str:
    return coco_mask.frPyObjects({"size": [1, sum(counts)], "counts": counts}, 1, sum(counts))["counts"].decode()


def read(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VosconvWarning)
        reader = CocoReader(path, CocoReader.Options(**options))
        with reader:
            info = reader.info()
            return info, [reader.read_video(ref) for ref in reader.list_videos()]


def test_reads_other_tools_files(foreign):
    path, first, second = foreign
    info, videos = read(path)
    assert [v.name for v in videos] == ["vidA", "vidB"]
    assert [(c.id, c.name) for c in info.categories] == [(1, "person"), (2, "dog")]
    video = videos[1]
    assert [f.file_name for f in video.frames] == ["00000.jpg", "00005.jpg", "00010.jpg"]
    assert video.annotated_indices == (0, 1, 2)  # YouTube-VIS lists annotated frames only
    assert [(o.object_id, o.category_id) for o in video.objects] == [(1, 2), (2, 1)]
    np.testing.assert_array_equal(labels.label_map(video, video.frames[0].masks), first.astype(np.uint8))
    np.testing.assert_array_equal(labels.label_map(video, video.frames[1].masks), 2 * second.astype(np.uint8))
    assert video.frames[2].masks.get(1).area == 4  # uncompressed counts [9, 2, 4, 2, 31]
    polygon = videos[0].frames[0].masks.get(1)
    assert polygon is not None and polygon.area > 0
    assert video.encoding is MaskEncoding.PALETTE and video.palette is None
    assert all(f.image is None for f in video.frames)


def test_polygons_on_huge_frames_are_refused_not_rasterised(foreign):
    """Where pycocotools' encoder could write past its buffer, the reader names the video and says why."""
    path, _, _ = foreign
    data = json.loads(path.read_text())
    data["videos"][1].update(width=4096, height=4096)  # vidA: 2**24 pixels, its one mask a polygon
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"vidA.*polygons on 4096x4096 frames are not supported") as caught:
        read(path)
    assert caught.value.path == str(path)


@pytest.mark.parametrize(
    ("polygons", "says"),
    [
        ([[1.0, 1.0, float("nan"), 1.0, 4.0, 3.0]], "coordinate nan"),  # each of these segfaulted pycocotools
        ([[1.0, 1.0, 1e12, 1.0, 4.0, 3.0]], "coordinate 1000000000000.0"),
        ([[1.0, 1.0, -1e9, 1.0, 4.0, 3.0]], "coordinate -1000000000.0"),
        ([[1.0, 1.0, 4.0, 1.0]], "polygon 1 is not a list of at least 3"),  # pycocotools would take it for a box
        ([[1.0, 1.0, 4.0, 1.0, 4.0, 3.0], [1, 2, 3]], "polygon 2 is not a list"),  # pycocotools: a bare Exception
        ([[1.0, 1.0, "4", 1.0, 4.0, 3.0]], "coordinate '4'"),
        ([], "non-empty list of polygons"),
    ],
)
def test_polygons_pycocotools_cannot_take_are_source_errors(foreign, polygons, says):
    """A foreign file's polygon is checked before pycocotools sees it: a clear error naming the video, not a crash."""
    path, _, _ = foreign
    data = json.loads(path.read_text())
    data["annotations"][2]["segmentations"] = [polygons]  # vidA's one mask
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"vidA.*" + re.escape(says)):
        read(path)


def test_polygons_just_outside_the_frame_are_kept(foreign):
    """Coordinates a little past the edges (as annotation tools write them) rasterise as pycocotools does."""
    path, _, _ = foreign
    data = json.loads(path.read_text())
    data["annotations"][2]["segmentations"] = [[[-0.5, -0.5, 8.5, -0.5, 8.5, 6.5, -0.5, 6.5]]]
    path.write_text(json.dumps(data))
    _, videos = read(path)
    assert videos[0].frames[0].masks.get(1).area == 48  # every pixel of the 8x6 frame


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "../escaped"), ("name", "{tmp}/escaped"), ("file_names", ["vidA/.."]), ("file_names", ["vidA/"])],
)
def test_names_that_would_leave_the_output_are_refused(foreign, tmp_path, field, value):
    """Converting a hostile file to a folder layout writes nothing outside the output (nothing at all)."""
    path, _, _ = foreign
    data = json.loads(path.read_text())
    data["videos"][1][field] = value.format(tmp=tmp_path) if isinstance(value, str) else value  # vidA
    path.write_text(json.dumps(data))
    out = tmp_path / "deep" / "out"
    with pytest.raises(SourceError, match="cannot be a file or folder name"):
        api.convert(path, out, to="mose", from_="coco", writer_options={"images": False})
    assert not out.exists() and not (tmp_path / "escaped").exists()
    assert not (tmp_path / "deep").exists()  # made for the run, and gone with it


@pytest.mark.parametrize("to", ["parquet", "hdf5", "mose"])
def test_a_frame_a_file_names_that_is_no_image_is_not_copied_into_the_output(sample_copy, tmp_path, to):
    """A COCO file (or a Parquet/HDF5 manifest written without images) names its frames; what is there was copied
    byte for byte, whatever it was (a text file named 00003.jpg went into the shards as a frame). A frame read
    from a path must be a JPEG or PNG: else a SourceError naming it, its video skipped under --on-error skip."""
    mose = sample_copy("mose")
    coco = tmp_path / "in.json"
    api.convert(mose, coco, to="coco", from_="mose", reader_options={"split": "train"})
    images = mose / "train" / "JPEGImages"
    video = sorted(p.name for p in images.iterdir() if not p.name.startswith("."))[0]
    (images / video / "00003.jpg").write_bytes(b"not an image: a private note\n")
    out = tmp_path / "out"
    with pytest.raises(SourceError, match=rf"{video}/00003\.jpg: not a JPEG or PNG image"):
        api.convert(coco, out, to=to, reader_options={"images": str(images)})
    assert not out.exists()
    summary = api.convert(coco, out, to=to, reader_options={"images": str(images)}, on_error="skip")
    assert [s["video"] for s in summary.stats.skipped] == [video]


@pytest.mark.parametrize(("width", "height"), [(0, 6), (8, -6), (-8, -6)])
def test_a_frame_size_that_is_not_positive_is_an_error(foreign, width, height):
    """Never passed on to pycocotools (its sizes are unsigned) or to the RLE code."""
    path, _, _ = foreign
    data = json.loads(path.read_text())
    data["videos"][1].update(width=width, height=height)  # vidA, whose mask is a polygon
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=rf"vidA.*frame size {width}x{height} is not positive"):
        read(path)


def test_area_and_bbox_are_recomputed_not_trusted(foreign, tmp_path):
    path, first, _ = foreign
    data = json.loads(path.read_text())
    data["annotations"][0]["areas"] = [999, None, 1]
    data["annotations"][0]["bboxes"] = [[0, 0, 1, 1], None, None]
    path.write_text(json.dumps(data))
    _, videos = read(path)
    mask = videos[1].frames[0].masks.get(1)
    assert mask.area == int(first.sum())
    assert mask.bbox == (2, 1, 3, 2)


def test_counts_become_the_strings_pycocotools_writes(foreign):
    """Other tools' counts with zero-length runs, as a list or a string, come out byte-identical to pycocotools."""
    path, _, _ = foreign
    data = json.loads(path.read_text())
    height, width = 6, 8
    counts = [0, 0, 9, 2, 0, 0, 4, 2, 31]  # the mask of [9, 2, 4, 2, 31], cut into zero-length runs
    data["annotations"][0]["segmentations"][2]["counts"] = counts
    data["annotations"][1]["segmentations"][1]["counts"] = rle_string(counts)
    path.write_text(json.dumps(data))
    _, videos = read(path)
    binary = coco_mask.decode({"size": [height, width], "counts": rle_string(counts).encode()})
    expected = coco_mask.encode(np.asfortranarray(binary))["counts"].decode()
    assert expected != rle_string(counts)
    assert videos[1].frames[2].masks.get(1).counts == expected
    assert videos[1].frames[1].masks.get(2).counts == expected
    assert videos[1].frames[1].masks.get(2).area == 4


def test_images_option_and_missing_images(foreign, tmp_path):
    """Without a folder for its file_names the reader says so when asked (a conversion asks), and warns of nothing."""
    path, _, _ = foreign
    with warnings.catch_warnings(), CocoReader(path) as reader:
        warnings.simplefilter("error")
        assert reader.info().image_root is None
        assert "records no images folder" in reader.missing_images()
    images = tmp_path / "frames"
    images.mkdir()
    _, videos = read(path, images=str(images))
    assert videos[1].frames[1].image.path == str(images / "vidB" / "00005.jpg")
    with pytest.raises(SourceError, match="images folder does not exist"):
        read(path, images=str(tmp_path / "nowhere"))


def test_own_gzip_file_reads_like_the_plain_one(sample_root, tmp_path):
    plain, packed = tmp_path / "a.json", tmp_path / "a.json.gz"
    for out in (plain, packed):
        api.convert(sample_root["youtube-vos"], out, to="coco", reader_options={"split": "train"})
    assert read(plain)[1] == read(packed)[1]


def test_own_file_re_saved_by_json_dump_keeps_what_its_header_says(sample_root, tmp_path):
    """Loaded and dumped again (indented, one line no more per record): split, image root and placeholders survive."""
    own = tmp_path / "a.json"
    api.convert(sample_root["youtube-vos"], own, to="coco", reader_options={"split": "train"})
    resaved = tmp_path / "b.json"
    resaved.write_text(json.dumps(json.loads(own.read_text()), indent=2))
    assert read(resaved) == read(own)


def test_reader_pickles_without_the_video_list(sample_root, tmp_path):
    out = tmp_path / "a.json.gz"
    api.convert(sample_root["mose"], out, to="coco", reader_options={"split": "train"})
    with CocoReader(out) as reader:
        refs = reader.list_videos()
        clone = pickle.loads(pickle.dumps(reader))
        assert clone._index.refs == ()
        assert clone.read_video(refs[-1]) == reader.read_video(refs[-1])


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["annotations"][0].update(segmentations=[None]), "segmentations for 3 frames"),
        (lambda d: d["annotations"][0]["segmentations"][0].update(size=[3, 3]), "differs from the video"),
        (lambda d: d["annotations"][0].update(video_id=99), "unknown video id 99"),
        (lambda d: d["annotations"][1]["segmentations"][1].update(counts="0"), "invalid RLE"),
        (lambda d: d.pop("videos"), 'expected "videos"'),
    ],
)
def test_bad_records_name_the_file_and_the_cause(foreign, mutate, message):
    path, _, _ = foreign
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=message) as error:
        read(path)
    assert str(path) in str(error.value)


def test_corrupt_files(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"videos": [')
    with pytest.raises(SourceError, match="not valid JSON"):
        read(broken)
    packed = tmp_path / "broken.json.gz"
    packed.write_bytes(gzip.compress(b'{"info":{"vosconv":{}},\n"videos":[\n' * 50)[:-20])
    with pytest.raises(SourceError, match=str(packed)):
        read(packed)


def test_sniff(foreign, sample_root, tmp_path):
    path, _, _ = foreign
    assert CocoReader.sniff(path).score == 5
    own = tmp_path / "own.json"
    api.convert(sample_root["mose"], own, to="coco", reader_options={"split": "valid"})
    assert CocoReader.sniff(own).score == 10
    assert api.detect(own) == "coco"
    assert CocoReader.sniff(sample_root["mose"]).score == 0


def test_a_file_without_annotations_reads(foreign):
    """A test split's file: every video listed, no annotation at all (an empty list once broke the index)."""
    path, _, _ = foreign
    data = json.loads(path.read_text())
    data["annotations"] = []
    path.write_text(json.dumps(data))
    _, videos = read(path)
    assert [v.name for v in videos] == ["vidA", "vidB"]
    assert all(not f.masks.objects for v in videos for f in v.frames)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        (lambda d: d["videos"][0].update(id="abc"), "malformed file"),
        (lambda d: d["annotations"][0].pop("video_id"), "malformed file"),
        (lambda d: d.update(videos=[1]), "malformed file"),
        (lambda d: d["categories"][0].pop("id"), "malformed header or categories"),
        (lambda d: d["categories"][0].update(id=2**40), "malformed header or categories"),
        (lambda d: d["videos"][1].update(height=float("inf")), "OverflowError"),
        (lambda d: d["annotations"][0].update(category_id="abc"), "category id"),
        (lambda d: d["annotations"][0].update(object_id=-1), "object id -1"),
        (lambda d: d.update(info={"vosconv": 5}), "info.vosconv must be an object"),
        (lambda d: d.update(info={"vosconv": {"image_root": 7}}), "image_root must be"),
        (lambda d: d.update(info={"vosconv": {"source": {"attributes": [1]}}}), "attributes must be objects"),
        (lambda d: d.update(info={"vosconv": {"placeholder_categories": "1"}}), "placeholder_categories"),
        (lambda d: d.update(info={"vosconv": {"filled_supercategories": [True]}}), "filled_supercategories"),
    ],
)
def test_malformed_records_are_source_errors(foreign, change, says):
    """Whatever a record holds, the reader answers with a SourceError naming the file, never a raw exception."""
    path, _, _ = foreign
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=re.escape(says)) as caught:
        read(path)
    assert caught.value.path == str(path)


def test_json_too_deep_to_parse_is_a_source_error(tmp_path):
    path = tmp_path / "deep.json"
    path.write_text('{"videos": ' + "[" * 200_000 + "]" * 200_000 + "}")
    with pytest.raises(SourceError, match=r"not JSON that can be read: videos/0 \(byte 12\): nested too deeply"):
        read(path)
    path.write_text("[" * 200_000 + "]" * 200_000)  # never parsed: the document is read as an object, a value at a time
    with pytest.raises(SourceError, match="not a video COCO JSON object"):
        read(path)


# ------------------------------------------------------------------ polygons that would make pycocotools allocate without bound


def _zigzag(vertices: int, reach: float) -> list[float]:
    """A polygon whose every edge crosses ``2 * reach`` pixels: each coordinate within ``reach`` of 0."""
    return [value for i in range(vertices) for value in ((-reach if i % 2 else reach), -reach + 2 * reach * i / vertices)]


def test_a_polygon_outline_too_long_for_its_frame_is_refused_before_pycocotools_sees_it(foreign, monkeypatch):
    """4,000 vertices zigzagging across the frame, each within the reach limit, asked pycocotools for gigabytes
    (a 1080p frame: 5 GB; under a memory limit it wrote through NULL and the process died)."""
    import pycocotools.mask

    path, _, _ = foreign
    data = json.loads(path.read_text())
    data["annotations"][2]["segmentations"] = [[_zigzag(4000, 30.0)]]  # vidA, 8x6: reach 32
    path.write_text(json.dumps(data))

    def refuse(*args, **kwargs):
        raise AssertionError("pycocotools was handed the polygon")

    monkeypatch.setattr(pycocotools.mask, "frPyObjects", refuse)
    with pytest.raises(SourceError, match=r"vidA.*annotation 3: frame 0: polygons whose outline is \d+ points") as caught:
        read(path)
    assert caught.value.path == str(path)


def test_outline_points_count_as_pycocotools_does():
    from converters.formats.coco.segmentation import outline_points

    # scaled by 5 and rounded: x 0, 20, 20, 0; y 0, 0, 15, 15 -> edges of 20, 15, 20, 15 steps, one point more each
    assert outline_points([0.0, 0.0, 4.0, 0.0, 4.0, 3.0, 0.0, 3.0]) == 74
    assert outline_points([0.0, 0.0, 0.09, 0.0, 0.0, 0.09]) == 3  # (int)(5 * 0.09 + .5) == 0: three points, no steps
    # C truncates toward zero: (int)(-5 + .5) == -4, so x is -4, 5, 0 and y 0, 0, 5: steps 9, 5, 5
    assert outline_points([-1.0, 0.0, 1.0, 0.0, 0.0, 1.0]) == 9 + 5 + 5 + 3


def test_detailed_honest_polygons_still_pass(foreign):
    """A 4,000-vertex outline of an object in the frame rasterises exactly as pycocotools does."""
    path, _, _ = foreign
    data = json.loads(path.read_text())
    height, width = 480, 640
    data["videos"][1].update(width=width, height=height)  # vidA
    angles = np.linspace(0, 2 * np.pi, 4000, endpoint=False)
    radius = 200 + 20 * np.sin(angles * 60)  # a wavy outline: 60 bumps
    polygon = np.stack([320 + radius * np.cos(angles), 240 + radius * np.sin(angles)], axis=1).ravel().tolist()
    data["annotations"][2]["segmentations"] = [[polygon]]
    path.write_text(json.dumps(data))
    _, videos = read(path)
    mask = videos[0].frames[0].masks.get(1)
    want = coco_mask.merge(coco_mask.frPyObjects([polygon], height, width))
    assert mask.counts == want["counts"].decode() and mask.area == int(coco_mask.area(want))


# ------------------------------------------------------------------ record lines the JSON parser refuses


def _own_file(sample_root, tmp_path) -> tuple:
    path = tmp_path / "own.json"
    api.convert(sample_root["mose"], path, to="coco", reader_options={"split": "valid"})
    return path, path.read_bytes()


HOSTILE_VALUES = {
    "a byte that is not UTF-8": (b'"\xff"', "not UTF-8"),
    "nesting 100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "an integer of 5,000 digits": (b"9" * 5000, "digits"),
}


@pytest.mark.parametrize("hostile", sorted(HOSTILE_VALUES))
def test_an_annotation_line_the_parser_refuses_is_a_source_error(sample_root, tmp_path, hostile):
    """vosconv's own files are read line by line: such a line escaped as a traceback (UnicodeDecodeError,
    RecursionError, ValueError). Now a SourceError naming the file, the video, the byte and the record."""
    path, data = _own_file(sample_root, tmp_path)
    value, says = HOSTILE_VALUES[hostile]
    start = data.index(b'\n{"id":', data.index(b'"annotations":[')) + 1
    prefix = re.match(rb'\{"id":(\d+),"video_id":\d+,', data[start:])
    at = start + prefix.end()
    path.write_bytes(data[:at] + b'"x":' + value + b"," + data[at:])
    with pytest.raises(SourceError, match=re.escape(says)) as caught:
        read(path)
    assert caught.value.path == str(path)
    assert f"malformed record at byte {start} (id {prefix.group(1).decode()})" in caught.value.cause
    assert caught.value.cause.startswith("video ")


@pytest.mark.parametrize("hostile", sorted(HOSTILE_VALUES))
def test_a_foreign_file_the_parser_refuses_is_a_source_error(foreign, hostile):
    path, _, _ = foreign
    value, _ = HOSTILE_VALUES[hostile]
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"category_id": 2', b'"x": ' + value + b', "category_id": 2', 1))
    with pytest.raises(SourceError, match="not JSON that can be read") as caught:
        read(path)
    assert caught.value.path == str(path)


@pytest.mark.parametrize(
    ("counts", "says"),
    [
        ([[9, 2], [4, 2, 31]], "RLE counts must be non-negative integers, not [9, 2]"),  # reached numba: a TypingError
        ([9.0, 2, 4, 2, 31], "not 9.0"),
        ([9, True, 4, 2, 31], "not True"),
        ([9, -2, 4, 2, 31], "not -2"),
        ({"a": 1}, "must be a string or a list of integers, not dict"),
        ("é0", "not ASCII"),
    ],
)
def test_rle_counts_that_are_not_run_lengths_are_refused_by_the_reader(foreign, counts, says):
    path, _, _ = foreign
    data = json.loads(path.read_text())
    data["annotations"][0]["segmentations"][2]["counts"] = counts  # vidB, annotation 1, frame 2
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"vidB.*annotation 1: frame 2: .*" + re.escape(says)) as caught:
        read(path)
    assert caught.value.path == str(path)


# ------------------------------------------------------------------ two records that would be one


def test_two_videos_with_one_id_are_refused_not_merged(foreign):
    """The second video of an id replaced the first: 3 videos in, 2 out, exit 0."""
    path, _, _ = foreign
    data = json.loads(path.read_text())
    data["videos"].append({**data["videos"][1], "name": "vidC"})  # vidA's id, 3
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"two videos share the id 3: 'vidA' and 'vidC'") as caught:
        read(path)
    assert caught.value.path == str(path)


def test_two_videos_with_one_name_are_refused_naming_it(foreign):
    path, _, _ = foreign
    data = json.loads(path.read_text())
    data["videos"][1]["name"] = "vidB"
    data["videos"][0]["name"] = "vidB"
    path.write_text(json.dumps(data))
    with pytest.raises(SourceError, match=r"two videos share a name: 'vidB' \(video ids \d and \d\)"):
        read(path)
