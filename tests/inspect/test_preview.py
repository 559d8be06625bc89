"""``preview``: overlay pixels at known mask locations have the object's colour; sheets, GIFs, side by side, options."""

from __future__ import annotations

import io
import sys

import numpy as np
import pytest
from PIL import Image

import converters
from converters.cli import main
from converters.codecs import rle
from converters.codecs.png import DAVIS_PALETTE
from converters.errors import MissingDependency, OptionError, OutputError
from converters.inspect.preview import parse_frames
from converters.inspect.render import ALPHA, render_frame
from converters.model import DatasetInfo, Frame, FrameMasks, ImageRef, Mask, ObjectInfo, Video
from converters.sample import VOC_PALETTE, label_maps

VOC = np.frombuffer(VOC_PALETTE, np.uint8).reshape(256, 3)


def eroded(binary: np.ndarray, by: int = 1) -> np.ndarray:
    """Pixels whose 4-neighbours up to ``by`` steps away are all in the mask (off the outline)."""
    inner = binary.copy()
    for _ in range(by):
        shrunk = inner.copy()
        shrunk[1:] &= inner[:-1]
        shrunk[:-1] &= inner[1:]
        shrunk[:, 1:] &= inner[:, :-1]
        shrunk[:, :-1] &= inner[:, 1:]
        shrunk[[0, -1]] = False
        shrunk[:, [0, -1]] = False
        inner = shrunk
    return inner


def label_video(label: np.ndarray, *, palette: bytes | None = None, image: bytes | None = None, void: bool = False) -> Video:
    """A one-frame video of ``label``'s ids, masks encoded by vosconv's RLE (255 is void)."""
    masks = rle.encode(label)
    objects = tuple(m for m in masks if m.object_id != 255)
    void_mask = next((m for m in masks if m.object_id == 255), None) if void else None
    frame = Frame(0, "0.jpg", ImageRef(data=image) if image else None, FrameMasks(objects, void_mask))
    height, width = label.shape
    return Video("v", width, height, (frame,), tuple(ObjectInfo(m.object_id) for m in objects), palette=palette)


@pytest.fixture
def two_objects() -> np.ndarray:
    label = np.zeros((40, 60), np.uint8)
    label[5:25, 5:30] = 1
    label[10:35, 35:55] = 2
    return label


def test_without_an_image_each_object_is_its_palette_colour_on_black(two_objects):
    pixels = np.asarray(render_frame(label_video(two_objects), label_video(two_objects).frames[0], ids=False))
    default = np.frombuffer(DAVIS_PALETTE, np.uint8).reshape(256, 3)
    for k in (1, 2):
        inside = eroded(two_objects == k)
        assert (pixels[inside] == default[k]).all()
        edge = (two_objects == k) & ~inside
        assert (pixels[edge] == (default[k].astype(int) + 255) // 2).all()  # a lighter outline
    assert (pixels[two_objects == 0] == 0).all()


def test_the_videos_own_palette_wins(two_objects):
    palette = bytes([0, 0, 0, 10, 200, 30, 250, 240, 5])  # three colours: the rest come from DAVIS's
    video = label_video(two_objects, palette=palette)
    pixels = np.asarray(render_frame(video, video.frames[0], ids=False))
    assert (pixels[eroded(two_objects == 1)] == (10, 200, 30)).all()
    assert (pixels[eroded(two_objects == 2)] == (250, 240, 5)).all()


def test_over_an_image_the_colour_is_blended_half_way(two_objects):
    rng = np.random.default_rng(3)
    photo = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="PNG")  # lossless, so the expected blend is exact
    video = label_video(two_objects, image=buffer.getvalue())
    pixels = np.asarray(render_frame(video, video.frames[0], ids=False)).astype(int)
    default = np.frombuffer(DAVIS_PALETTE, np.uint8).reshape(256, 3).astype(int)
    for k in (1, 2):
        inside = eroded(two_objects == k)
        expected = np.round(photo[inside] * (1 - ALPHA) + default[k] * ALPHA)
        assert (pixels[inside] == expected).all()
    assert (pixels[two_objects == 0] == photo[two_objects == 0]).all()  # untouched outside the masks


def test_ids_are_drawn_inside_each_object(two_objects):
    video = label_video(two_objects)
    plain = np.asarray(render_frame(video, video.frames[0], ids=False))
    labelled = np.asarray(render_frame(video, video.frames[0], ids=True))
    changed = (plain != labelled).any(axis=2)
    for k in (1, 2):
        drawn = labelled[changed & (two_objects == k)]
        assert (drawn == 0).all(axis=1).any()  # the black box behind the id
        assert (drawn > 200).all(axis=1).any()  # the white id


def test_void_is_hatched_in_the_void_colour(two_objects):
    label = two_objects.copy()
    label[30:38, 2:30] = 255
    video = label_video(label, void=True)
    pixels = np.asarray(render_frame(video, video.frames[0], ids=False))
    void = label == 255
    painted = (pixels == np.frombuffer(DAVIS_PALETTE, np.uint8).reshape(256, 3)[255]).all(axis=2)
    inside = eroded(void)
    assert painted[inside].any() and not painted[inside].all()  # stripes
    assert (painted[inside] | (pixels[inside] == 0).all(axis=1)).all()  # void colour or the black beneath
    assert painted[void & ~inside].all()  # outlined


def test_overlapping_masks_all_show():
    """Other tools' COCO files may hold masks that share pixels: each is decoded on its own."""
    first = np.zeros((30, 30), np.uint8)
    first[0:20, 0:20] = 1
    second = np.zeros((30, 30), np.uint8)
    second[10:30, 10:30] = 2
    masks = (rle.encode(first)[0], rle.encode(second)[0])
    video = Video("v", 30, 30, (Frame(0, "0.jpg", masks=FrameMasks(masks)),), (ObjectInfo(1), ObjectInfo(2)))
    pixels = np.asarray(render_frame(video, video.frames[0], ids=False))
    assert (pixels[2:8, 2:8] == VOC[1]).all() and (pixels[22:28, 22:28] == VOC[2]).all()
    assert (pixels[12:18, 12:18] == VOC[2]).all()  # the later object on top


def test_ids_from_0_and_above_255_get_colours_of_their_own():
    """SA-V's and COCO's ids: 300 crashed (IndexError on the 256-colour palette); 0 was the palette's black, invisible
    on black; an object 255 took void's colour. Each now gets a bright colour of its own, the same in every frame."""
    ids = (0, 1, 255, 256, 300, 2**31 - 1)
    label = {k: np.zeros((20, 10 * len(ids)), bool) for k in ids}
    for i, k in enumerate(ids):
        label[k][5:15, 10 * i + 2 : 10 * i + 8] = True
    masks = tuple(rle.encode(label[k].astype(np.uint8))[0] for k in ids)
    masks = tuple(Mask(k, m.counts, m.area, m.bbox) for k, m in zip(ids, masks))
    frames = tuple(Frame(i, f"{i}.jpg", masks=FrameMasks(masks)) for i in range(2))
    video = Video("v", 10 * len(ids), 20, frames, tuple(ObjectInfo(k) for k in ids))
    first, second = (np.asarray(render_frame(video, f, ids=False)) for f in frames)
    assert (first == second).all()  # the same colours in every frame
    default = np.frombuffer(DAVIS_PALETTE, np.uint8).reshape(256, 3)
    seen = []
    for k in ids:
        inside = first[eroded(label[k])]
        assert (inside == inside[0]).all(), k  # one colour a mask
        colour = tuple(int(c) for c in inside[0])
        assert colour != (0, 0, 0) and colour != tuple(default[255]), k
        seen.append(colour)
    assert seen[1] == tuple(default[1])  # ids 1 to 254 keep the palette's colour, as the PNGs show them
    assert len(set(seen)) == len(ids)


def test_an_unannotated_frame_is_dimmed_and_marked():
    photo = np.full((40, 120, 3), 200, np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(photo).save(buffer, format="PNG")
    video = Video("v", 120, 40, (Frame(0, "0.jpg", ImageRef(data=buffer.getvalue())),))
    pixels = np.asarray(render_frame(video, video.frames[0]))
    assert (pixels[30:, :] == 80).all()  # 40 % of the image
    assert (pixels[:20, :] > 200).all(axis=2).any()  # the "not annotated" text, white


def test_sheet_from_the_sample_has_the_blend_of_frame_and_colour_at_the_masks(sample_root, tmp_path):
    """End to end through the command: a 1:1 sheet of one frame; its pixels over object k are JPEG/2 + colour/2."""
    root = sample_root["mose"]
    video = sorted(p.name for p in (root / "train" / "Annotations").iterdir() if not p.name.startswith("."))[0]
    out = tmp_path / "sheet.png"
    argv = ["preview", str(root), "--split", "train", "--video", video, "--frames", "3", "--scale", "1", "--no-ids"]
    assert main([*argv, "-o", str(out)]) == 0
    label = label_maps(root / "train" / "Annotations" / video)["00003.png"]
    with Image.open(root / "train" / "JPEGImages" / video / "00003.jpg") as image:
        photo = np.asarray(image.convert("RGB")).astype(int)
    height, width = label.shape
    with Image.open(out) as sheet:
        tile = np.asarray(sheet.convert("RGB"))[:height, :width].astype(int)
    ids = sorted(set(np.unique(label).tolist()) - {0})
    assert ids
    for k in ids:
        inside = eroded(label == k, by=1)
        expected = np.round(photo[inside] * (1 - ALPHA) + VOC[k] * ALPHA)
        assert (tile[inside] == expected).all(), k
    assert (tile[label == 0] == photo[label == 0]).all()


def test_compare_with_a_lossless_conversion_shows_the_same_overlays(sample_root, tmp_path):
    root = sample_root["davis"]
    converters.convert(root, tmp_path / "davis.json", to="coco")
    out = tmp_path / "side.png"
    converters.preview(root, out, compare=tmp_path / "davis.json", videos=["paper-boat"], frames="0,4", scale=1.0, ids=False)
    with Image.open(out) as sheet:
        pixels = np.asarray(sheet.convert("RGB"))
    width, height = 285, 160
    left, right = pixels[:height, :width], pixels[:height, width + 4 : 2 * width + 4]
    assert (left == right).all() and left.any()


def test_compare_draws_both_sides_in_the_shown_sources_colours(two_objects):
    """A source without a palette (COCO from another tool, SA-V) beside one with its own: the same masks were drawn in
    two colours, which read as a difference where there is none."""
    from converters.inspect.preview import video_tiles

    palette = bytes([0, 0, 0, 10, 200, 30, 250, 240, 5])
    mine, theirs = label_video(two_objects, palette=palette), label_video(two_objects)
    (tile,) = video_tiles(mine, [0], other=theirs, compare=True, ids=False, scale=1.0)
    pixels = np.asarray(tile.image)
    left, right = pixels[:, :60], pixels[:, 64:124]
    assert (left == right).all()
    assert (left[eroded(two_objects == 1)] == (10, 200, 30)).all()


def test_compare_outlines_and_names_the_frames_that_differ(sample_root, tmp_path):
    """Side by side alone, a changed mask had to be spotted by eye: a frame whose masks differ is outlined in red and
    its caption says so; a dataset beside itself (or its lossless conversion) shows no difference."""
    import dataclasses

    from converters.api import open_reader
    from converters.inspect.preview import DIFFERS, video_tiles

    converters.convert(sample_root["davis"], tmp_path / "davis.json", to="coco")
    with open_reader(sample_root["davis"]) as reader, open_reader(tmp_path / "davis.json") as converted:
        video = reader.read_video(reader.list_videos()[0])
        twin = converted.read_video(converted.list_videos()[0])
    frames = list(twin.frames)
    frames[3] = dataclasses.replace(frames[3], masks=FrameMasks(frames[3].masks.objects[1:], frames[3].masks.void))
    frames[5] = dataclasses.replace(frames[5], masks=None)
    changed = dataclasses.replace(twin, frames=tuple(frames[:7]))  # frame 7 missing

    def outlined(tile) -> bool:
        pixels = np.asarray(tile.image)
        return bool((pixels[[0, -1]] == DIFFERS).all() and (pixels[:, [0, -1]] == DIFFERS).all())

    for other in (video, twin):
        tiles = video_tiles(video, range(8), other=other, compare=True, scale=0.5)
        assert not any(outlined(t) or "differs" in t.caption for t in tiles)
    tiles = video_tiles(video, range(8), other=changed, compare=True, scale=0.5)
    assert [outlined(t) for t in tiles] == [i in (3, 5, 7) for i in range(8)]
    assert ["differs" in t.caption for t in tiles] == [i in (3, 5, 7) for i in range(8)]


def test_compare_marks_a_video_the_other_side_lacks(sample_root, tmp_path):
    root = sample_root["davis"]
    converters.convert(root, tmp_path / "part.json", to="coco", reader_options={"split": "train"})
    out = tmp_path / "side.png"
    converters.preview(root, out, compare=tmp_path / "part.json", videos=["lamp-swing"], frames="0", scale=1.0)
    with Image.open(out) as sheet:
        right = np.asarray(sheet.convert("RGB"))[:160, 307:610]
    assert (right > 200).all(axis=2).any() and (right == 0).mean() > 0.9  # "video missing", white on black


def test_gif_has_one_frame_per_chosen_frame(sample_root, tmp_path):
    out = tmp_path / "a.gif"
    written = converters.preview(sample_root["mose"], out, reader_options={"split": "train"}, frames="::2")
    assert written == [out]
    first = sorted(p.name for p in (sample_root["mose"] / "train" / "JPEGImages").iterdir() if not p.name.startswith("."))[0]
    count = len(list((sample_root["mose"] / "train" / "JPEGImages" / first).glob("[0-9]*.jpg")))
    with Image.open(out) as gif:
        assert gif.format == "GIF" and gif.n_frames == len(range(0, count, 2))


def test_gif_at_the_slowest_fps_holds_the_longest_delay_a_gif_can(sample_root, tmp_path):
    out = tmp_path / "slow.gif"  # 0.001 fps is 1000 s a frame; a GIF's delay is 16 bits of 10 ms (OverflowError)
    converters.preview(sample_root["mose"], out, reader_options={"split": "train"}, frames="0,1", fps=0.001)
    with Image.open(out) as gif:
        assert gif.n_frames == 2 and gif.info["duration"] == 655350


def test_a_folder_gets_one_sheet_per_video(sample_root, tmp_path):
    written = converters.preview(sample_root["davis"], tmp_path / "previews", videos=["pelican", "tram-stop"])
    assert [p.name for p in written] == ["pelican.png", "tram-stop.png"]
    assert all(p.stat().st_size > 0 for p in written)


def test_a_folder_gets_a_sheet_for_a_video_named_with_255_bytes(sample_copy, tmp_path):
    """``<video>.png`` and its temporary name are longer than the video's: a valid 255-byte name was
    'File name too long'. The file name is cut, with a digest of the whole name."""
    train = sample_copy("mose") / "train"
    old = sorted(p.name for p in (train / "Annotations").iterdir())[0]
    long = "v" * 255
    for folder in ("JPEGImages", "Annotations"):
        (train / folder / old).rename(train / folder / long)
    written = converters.preview(train.parent, tmp_path / "previews", reader_options={"split": "train"}, videos=[long])
    [sheet] = written
    assert sheet.name.startswith("v" * 200) and sheet.name.endswith(".png") and sheet.stat().st_size > 0
    assert len(f".{sheet.name}.vosconv-tmp") <= 255


def test_a_folder_of_previews_does_not_replace_one_video_s_sheet_with_another_s_a_file_system_folds_into_it(
    sample_copy, tmp_path
):
    """On macOS or Windows ``bear.png`` is the ``Bear.png`` written a moment before: the second sheet replaced the first
    in silence. Here the folder is made to show ``bear.png`` as that file (a link to it: tests/writers/test_folding.py
    says why), and the second sheet is refused, the first left as written."""
    train = sample_copy("mose") / "train"
    first, second = sorted(p.name for p in (train / "Annotations").iterdir())[:2]
    for folder in ("JPEGImages", "Annotations"):
        (train / folder / first).rename(train / folder / "Bear")
        (train / folder / second).rename(train / folder / "bear")
    out = tmp_path / "previews"
    out.mkdir()
    (out / "bear.png").symlink_to("Bear.png")
    options = {"reader_options": {"split": "train"}, "videos": ["Bear", "bear"], "overwrite": True}
    with pytest.raises(OutputError, match=r"bear\.png: on this file system, which folds case .* it is Bear\.png, written"):
        converters.preview(train.parent, out, **options)
    assert (out / "bear.png").is_symlink()
    with Image.open(out / "Bear.png") as sheet:
        assert sheet.format == "PNG"


def test_a_folder_of_previews_is_refused_whole_when_frames_miss_a_video(sample_root, tmp_path):
    """One file a video: --frames past the end of the second video wrote the first one's sheet, then failed with
    'no frame to show', naming no video."""
    with pytest.raises(OptionError, match=r"--frames.*9 selects no frame of d0327a782c: 8 frames; leave it out"):
        converters.preview(sample_root["youtube-vos"], tmp_path / "previews", reader_options={"split": "valid"}, frames="9")
    assert not list(tmp_path.rglob("*.png"))


def test_a_folder_of_previews_with_a_video_without_frames_does_not_blame_frames_it_was_not_given(tmp_path):
    """Without --frames, a video of no frames (a COCO video record listing none) was refused as 'None selects no frame'."""
    from converters import api
    from tests.memsource import box, convert, jpeg, rle

    shown = Frame(0, "00000.jpg", ImageRef(data=jpeg(6, 8, 10)), FrameMasks((rle(box(6, 8, 0, 0, 2, 2), 1),)))
    videos = [Video("a", 8, 6, (shown,), (ObjectInfo(1),)), Video("b", 8, 6, (), ())]
    convert(DatasetInfo("memory"), videos, api.open_writer("coco"), tmp_path / "in.json")
    with pytest.raises(OptionError, match=r"--video: b: 0 frames, nothing to show; leave it out with --video NAME") as caught:
        converters.preview(tmp_path / "in.json", tmp_path / "previews")
    assert "None" not in str(caught.value) and not (tmp_path / "previews").exists()


@pytest.mark.parametrize("name", ["p.png", "p.gif"])
def test_a_preview_file_of_a_video_without_frames_does_not_blame_frames_it_was_not_given(tmp_path, name):
    """One file of a video of no frames, no --frames given, was refused as '--frames: no frame to show'."""
    from converters import api
    from tests.memsource import convert

    convert(DatasetInfo("memory"), [Video("b", 8, 6, (), ())], api.open_writer("coco"), tmp_path / "in.json")
    with pytest.raises(OptionError, match=r"--video: b: 0 frames, nothing to show"):
        converters.preview(tmp_path / "in.json", tmp_path / name)
    assert not (tmp_path / name).exists()


def test_mp4_without_pyav_names_it(sample_root, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(MissingDependency, match="pip install av"):
        converters.preview(sample_root["mose"], tmp_path / "a.mp4", reader_options={"split": "valid"})
    assert not list(tmp_path.iterdir())


def test_mp4_with_pyav(sample_root, tmp_path):
    av = pytest.importorskip("av")
    out = tmp_path / "a.mp4"
    converters.preview(sample_root["mose"], out, reader_options={"split": "train"}, frames="0:6")
    with av.open(str(out)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 6


def test_mp4_of_frames_a_pixel_wide_plays(sample_root, tmp_path):
    """yuv420p needs even sides: a tile 1 pixel wide (and 15 high with its caption) was cropped to 0 wide, and PyAV
    raised IndexError; odd sides now get a black column or row, not lose one."""
    av = pytest.importorskip("av")
    out = tmp_path / "a.mp4"
    converters.preview(sample_root["mose"], out, reader_options={"split": "train"}, frames="0:3", scale=0.001)
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert (stream.width, stream.height) == (2, 16) and sum(1 for _ in container.decode(video=0)) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["a.mp4"]


def test_an_existing_output_is_kept_without_overwrite(sample_root, tmp_path):
    out = tmp_path / "p.png"
    out.write_bytes(b"precious")
    with pytest.raises(OutputError, match="--overwrite"):
        converters.preview(sample_root["mose"], out, reader_options={"split": "valid"})
    assert out.read_bytes() == b"precious"
    converters.preview(sample_root["mose"], out, reader_options={"split": "valid"}, overwrite=True)
    assert out.read_bytes().startswith(b"\x89PNG")


def test_the_same_preview_twice_is_the_same_bytes(sample_root, tmp_path):
    for name in ("a.png", "b.png", "a.gif", "b.gif"):
        converters.preview(sample_root["mose"], tmp_path / name, reader_options={"split": "train"}, frames="0:3")
    assert (tmp_path / "a.png").read_bytes() == (tmp_path / "b.png").read_bytes()
    assert (tmp_path / "a.gif").read_bytes() == (tmp_path / "b.gif").read_bytes()


def test_unknown_videos_and_bad_options_are_named(sample_root, tmp_path):
    with pytest.raises(OptionError, match="no video named nope"):
        converters.preview(sample_root["davis"], tmp_path / "p.png", videos=["nope"])
    with pytest.raises(OptionError, match="--frames"):
        converters.preview(sample_root["davis"], tmp_path / "p.png", frames="a:b")
    with pytest.raises(OptionError, match="-o"):
        converters.preview(sample_root["davis"], tmp_path / "p.bmp")
    with pytest.raises(OptionError, match="--scale"):
        converters.preview(sample_root["davis"], tmp_path / "p.png", scale=0)
    with pytest.raises(OptionError, match=r"p\.png names a \.png file; --format gif is for a folder"):
        converters.preview(sample_root["davis"], tmp_path / "p.png", format="gif")  # a PNG was written, unsaid
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("spec", "count", "expected"),
    [
        (None, 20, [0, 3, 5, 8, 11, 14, 16, 19]),  # 8 spread out, first and last included
        (None, 5, [0, 1, 2, 3, 4]),
        ("all", 3, [0, 1, 2]),
        ("0,5,10,99", 12, [0, 5, 10]),  # past the end: left out
        ("-1", 12, [11]),
        ("2:5", 12, [2, 3, 4]),
        ("::5", 12, [0, 5, 10]),
        ("1,1,1:3", 12, [1, 2]),  # no repeats
        ([-1, 0, 0, 99], 12, [11, 0]),  # from Python, as from the command line: [-1] was left out, [0, 0] shown twice
    ],
)
def test_frame_specs(spec, count, expected):
    assert parse_frames(spec, count, 8) == expected


@pytest.mark.parametrize("spec", ["x", "1:2:0", "1:2:3:4", ""])
def test_bad_frame_specs(spec):
    with pytest.raises(OptionError, match="--frames"):
        parse_frames(spec, 10, 8)


@pytest.mark.parametrize("where", ["a source mask", "new in a listed folder", "a compared source's mask"])
def test_overwrite_never_replaces_source_data(sample_copy, where):
    """--overwrite replaces previews: a source's mask PNG (of the dataset shown, or of the one compared) is not one."""
    root = sample_copy("mose")
    mask = sorted((root / "train" / "Annotations").rglob("00000.png"))[0]
    out = mask.parent / "preview.png" if where == "new in a listed folder" else mask
    before = mask.read_bytes()
    source, compare = (root, None) if where != "a compared source's mask" else (sample_copy("davis"), root / "train")
    options = {"reader_options": {"split": "train"}} if compare is None else {"compare": compare}
    with pytest.raises(OutputError, match="source data"):
        converters.preview(source, out, overwrite=True, **options)
    assert mask.read_bytes() == before and not (mask.parent / "preview.png").exists()


def test_a_new_preview_may_go_inside_the_dataset_folder_but_not_replace_a_file_there(sample_copy):
    """A file inside the source is not known to be the preview's (a Parquet source's shards are such files)."""
    root = sample_copy("mose")
    converters.preview(root, root / "preview.png", reader_options={"split": "valid"})
    assert (root / "preview.png").read_bytes().startswith(b"\x89PNG")
    with pytest.raises(OutputError, match=r"already exists inside .*may be source data.*delete it by hand"):
        converters.preview(root, root / "preview.png", reader_options={"split": "valid"}, overwrite=True)


@pytest.mark.parametrize("suffix", ["png", "gif", "mp4"])
def test_ctrl_c_while_writing_leaves_no_file(sample_root, tmp_path, monkeypatch, suffix):
    """A preview is written to a hidden temporary file renamed into place: Ctrl-C leaves neither a half file nor that."""
    import os

    if suffix == "mp4":
        pytest.importorskip("av")

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        converters.preview(sample_root["mose"], tmp_path / f"p.{suffix}", reader_options={"split": "train"}, frames="0:2")
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


def test_a_preview_of_videos_of_other_shapes_is_sized_as_it_is_composed(tmp_path, monkeypatch):
    """An animation puts every frame on a canvas as wide as the widest video and as tall as the tallest: a wide video
    beside a tall one holds far more than their tiles (a 1-row 1000-wide frame and 20 1-column 3000-tall frames: the
    tiles are some 75,000 pixels, the 21 canvases 63 million); a sheet is as wide as its widest video (3 million)."""
    from converters import api
    from converters.inspect import preview
    from tests.memsource import convert, rle

    def one(height: int, width: int, frames: int) -> Video:
        label = np.ones((height, width), bool)
        masks = FrameMasks((rle(label, 1),))
        frames_ = tuple(Frame(i, f"{i:05d}.jpg", None, masks) for i in range(frames))
        return Video(f"v{height}x{width}", width, height, frames_, (ObjectInfo(1),))

    convert(DatasetInfo("memory"), [one(1, 1000, 1), one(3000, 1, 20)], api.open_writer("coco"), tmp_path / "in.json")
    monkeypatch.setattr(preview, "MAX_PIXELS", 2_000_000)
    for name in ("p.gif", "p.png"):
        with pytest.raises(OptionError, match=rf"{name}: the frames shown would take \d+ million pixels, over 2 million"):
            converters.preview(
                tmp_path / "in.json", tmp_path / name, videos=["v1x1000", "v3000x1"], frames="all", scale=1, columns=20
            )
    assert not list(tmp_path.glob("p.*"))


@pytest.mark.parametrize("columns", [0, -1, 2.5, True])
def test_columns_other_than_a_positive_integer_are_refused(sample_root, tmp_path, columns):
    """The CLI's --columns is checked; the API's was a ZeroDivisionError (0) or Pillow's ValueError (-1) traceback."""
    with pytest.raises(OptionError, match=r"--columns: expected a positive integer"):
        converters.preview(sample_root["davis"], tmp_path / "p.png", columns=columns)
    assert not (tmp_path / "p.png").exists()


def test_a_preview_too_large_to_hold_is_refused_before_drawing(sample_root, tmp_path, monkeypatch):
    """Every tile of a file is held while it is made: --frames all --scale 8 of 300 frames at 1080p would have held
    some 120 GB. The size is worked out from the masks' frame sizes before any frame is drawn."""
    from converters.inspect import preview

    monkeypatch.setattr(preview, "MAX_PIXELS", 2_000_000)  # the sample's frames are small: a limit they pass
    drawn = []
    monkeypatch.setattr(preview, "render_frame", lambda *a, **k: drawn.append(1))
    out = tmp_path / "p.gif"
    with pytest.raises(OptionError, match=r"p\.gif: the frames shown would take \d+ million pixels, over 2 million; choose"):
        converters.preview(sample_root["mose"], out, reader_options={"split": "train"}, frames="all", scale=8)
    assert not drawn and not list(tmp_path.iterdir())
