"""Small synthetic datasets in the MOSE, DAVIS and YouTube-VOS folder layouts, byte-identical for the same arguments.

Real datasets cannot ship with the project, yet every reader and writer must meet their
quirks, so the samples carry them on purpose (see ``shared/docs/input-layouts.md``):
objects that vanish and come back, objects that first appear mid-video, fully empty
annotated frames, DAVIS void (255) bands, DAVIS 2016 binary masks, grayscale index masks,
two DAVIS palettes, 4-bit YouTube-VOS PNGs, sparse valid annotations, frame numbers that
step by 5 and start above 0, frame sizes that are not multiples of 8, and hidden macOS
files beside the data.

Frames (drawn by :mod:`converters.synthetic`) are smooth colourful textures seen through a slowly panning camera, with each
object drawn as a shaded, tinted ellipse that moves, turns and occludes its neighbours;
the masks are those ellipses. Every random choice comes from ``numpy.random.default_rng(seed)``
drawn in a fixed order, files are written by Pillow (JPEG quality 90, PNG without
timestamps), so the same ``(layout, seed, scale)`` gives the same bytes with the same Pillow.

Trees written by :func:`write_sample` (``<v8>`` / ``<v10>``: 8 / 10 lowercase hex characters):

* ``mose``: ``out/train/{JPEGImages,Annotations}/<v8>/NNNNN.{jpg,png}`` (every frame
  annotated) and ``out/valid/...`` (only ``00000.png``); 8-bit VOC-palette PNGs; junk files
  ``.DS_Store``, ``._00000.png``, ``._00000.jpg`` and ``notes.txt`` in some folders.
* ``davis``: ``out/DAVIS/{JPEGImages,Annotations}/480p/<seq>/NNNNN.{jpg,png}`` (every frame
  annotated) and ``out/DAVIS/ImageSets/{2016,2017}/{train,val}.txt``.
* ``youtube-vos``: ``out/{train,valid}/{meta.json,JPEGImages,Annotations}``; frames
  ``00000, 00005, ...``; 4-bit PNGs with the 16-colour YouTube-VOS palette.

Tests read the masks back with :func:`label_maps` (Pillow, independent of :mod:`converters.codecs.png`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .codecs import png
from .errors import OutputError
from .formats.davis import spec as davis_spec
from .formats.folders.spec import ANNOTATIONS, IMAGES
from .formats.youtube_vos.spec import META
from .sources.files import file_in_the_way
from .synthetic import Plan, video_frames

__all__ = ["DAVIS191_PALETTE", "LAYOUTS", "VOC_PALETTE", "YOUTUBE_PALETTE", "label_maps", "write_sample"]

LAYOUTS = ("mose", "davis", "youtube-vos")

JPEG_QUALITY = 90


# --------------------------------------------------------------------------------------------
# Palettes (input-layouts.md §1.2)


#: The VOC colour map most DAVIS 2017 and MOSE tools write (index 9 = (192, 0, 0), 255 = (224, 224, 192)).
VOC_PALETTE = png.DAVIS_PALETTE
#: The DAVIS authors' 2017 toolkit variant: VOC entries 0-21 with 192 written as 191, then grey ramps (i, i, i).
DAVIS191_PALETTE = png.voc_palette(191)[: 22 * 3] + bytes(v for i in range(22, 256) for v in (i, i, i))
#: The 16 colours of YouTube-VOS's 4-bit annotation PNGs.
YOUTUBE_PALETTE = png.YOUTUBE_VOS_PALETTE

# macOS litter, as found in the MOSE training tree: an AppleDouble header and a Finder store.
_APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(56)
_DS_STORE = b"\x00\x00\x00\x01Bud1" + bytes(56)

_CATEGORIES = ("person", "dog", "skateboard", "cat", "horse", "bird", "surfboard", "umbrella")


# --------------------------------------------------------------------------------------------
# Public entry points


def write_sample(out: str | os.PathLike, layout: str = "mose", *, seed: int = 0, scale: int = 1) -> Path:
    """Write a synthetic dataset in ``layout`` at ``out`` and return ``out``, the path to give a reader.

    For DAVIS that is the folder holding ``DAVIS/`` (readers accept it, as they accept the
    folder that holds MOSE's and YouTube-VOS's split folders). ``scale`` multiplies both the
    number of videos and the length of each (so the data grows as ``scale**2``); ``scale=1``
    is 32 to 48 frames per layout, written in well under a second. ``out`` must not exist or
    be an empty folder (:class:`~converters.errors.OutputError` otherwise). The dataset is
    built in a hidden sibling folder and renamed into place at the end, so an interrupted
    run leaves nothing that looks like a dataset.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown sample layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    if isinstance(scale, bool) or not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}")
    out = Path(out)
    if out.name in ("", ".", ".."):  # the finished folder is renamed into place, which the current folder cannot be
        raise OutputError(f"{os.fspath(out)!r} ends in '.' or '..'; name a new folder (vosconv sample data/MOSE)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise OutputError(f"{out}: exists and is not an empty folder; choose another path or remove it")
    if (blocker := file_in_the_way(out)) is not None:  # mkdir said only "File exists"
        raise OutputError(f"cannot write {out}: {blocker} is a file, not a folder; choose another path")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        build = Path(tempfile.mkdtemp(prefix=f".{out.name}-", suffix=".partial", dir=out.parent))
    except OSError as exc:
        raise OutputError(f"{out}: cannot write here: {exc.strerror or exc}") from None
    try:
        _WRITERS[layout](build, np.random.default_rng(seed), scale)
        umask = os.umask(0)
        os.umask(umask)
        build.chmod(0o777 & ~umask)  # mkdtemp made it private; the dataset is an ordinary folder
        try:
            if out.exists():
                out.rmdir()
            build.rename(out)
        except OSError as exc:  # another process filled or created ``out`` meanwhile
            raise OutputError(f"{out}: cannot move the finished sample into place: {exc.strerror or exc}") from None
    except OSError as exc:  # a full disk while writing
        shutil.rmtree(build, ignore_errors=True)
        raise OutputError(f"{out}: cannot write the sample: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    return out


def label_maps(root: str | os.PathLike) -> dict[str, np.ndarray]:
    """Every annotation PNG under ``root`` as its pixel values, keyed by POSIX path relative to ``root``.

    Read with Pillow rather than :mod:`converters.codecs.png`, so tests can use it as an
    independent oracle. Hidden files (``._00000.png``) are skipped. Binary DAVIS 2016 masks
    come back as 0/255, exactly as stored.
    """
    root = Path(root)
    found = {}
    for path in sorted(root.rglob("*.png")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        with Image.open(path) as image:
            found[relative.as_posix()] = np.asarray(image, dtype=np.uint8).copy()
    return found


# --------------------------------------------------------------------------------------------
# File writing


def _save_jpeg(path: Path, image: np.ndarray) -> None:
    Image.fromarray(image).save(path, format="JPEG", quality=JPEG_QUALITY)


def _save_png(path: Path, label: np.ndarray, palette: bytes | None) -> None:
    """A palette PNG (8-bit, or 4-bit with a 16-colour palette) or, without a palette, 8-bit grayscale."""
    height, width = label.shape
    if palette is None:
        Image.frombytes("L", (width, height), label.tobytes()).save(path, format="PNG")
        return
    image = Image.frombytes("P", (width, height), label.tobytes())
    image.putpalette(palette)
    image.save(path, format="PNG", bits=4 if len(palette) == 48 else 8)


def _folders(root: Path, split: str, name: str) -> tuple[Path, Path]:
    images, masks = root / split / IMAGES / name, root / split / ANNOTATIONS / name
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    return images, masks


def _hex_names(rng: np.random.Generator, count: int, digits: int) -> list[str]:
    """``count`` distinct random ids of ``digits`` lowercase hex characters, like MOSE's and YouTube-VOS's."""
    names: list[str] = []
    while len(names) < count:
        name = f"{int(rng.integers(0, 16**digits)):0{digits}x}"
        if name not in names:
            names.append(name)
    return names


def _suffix(repeat: int) -> str:
    """``""``, ``"-b"``, ``"-c"``, ..., ``"-ba"``: keeps DAVIS names lowercase words when ``scale`` repeats them."""
    if repeat == 0:
        return ""
    letters = ""
    while repeat:
        repeat, digit = divmod(repeat, 26)
        letters = chr(ord("a") + digit) + letters
    return "-" + letters


# --------------------------------------------------------------------------------------------
# MOSE (input-layouts.md §2): train annotates every frame, valid only 00000.png.

_MOSE = {
    "train": (
        # object 2 vanishes for 3 frames and returns; object 3 appears at frame 5; frame 7 is empty
        Plan(320, 180, 12, hidden=((), ((3, 6),), ((0, 5),)), empty=((7, 8),)),
        Plan(250, 141, 8, hidden=((), ())),  # two large objects crossing: heavy occlusion
        Plan(240, 160, 10, hidden=(((2, 4),), (), (), ((6, 10),))),  # object 4 leaves for good
    ),
    "valid": (
        Plan(256, 144, 8, hidden=((), ())),
        Plan(198, 111, 6, hidden=((), ((2, 4),), ())),
    ),
}


def _write_mose(root: Path, rng: np.random.Generator, scale: int) -> None:
    """MOSE: 8-hex video ids, 8-bit VOC-palette PNGs, macOS junk and a stray text file in the train tree."""
    plans = [(split, plan) for _ in range(scale) for split, split_plans in _MOSE.items() for plan in split_plans]
    names = _hex_names(rng, len(plans), 8)
    train = []
    for (split, plan), name in zip(plans, names):
        images, masks = _folders(root, split, name)
        for frame, image, label in video_frames(rng, plan, scale):
            _save_jpeg(images / f"{frame}.jpg", image)
            if split == "train" or frame == "00000":
                _save_png(masks / f"{frame}.png", label, VOC_PALETTE)
        if split == "train":
            train.append((images, masks))
    (root / "train" / ".DS_Store").write_bytes(_DS_STORE)
    (root / "train" / IMAGES / ".DS_Store").write_bytes(_DS_STORE)
    (train[0][1] / ".DS_Store").write_bytes(_DS_STORE)
    (train[0][1] / "._00000.png").write_bytes(_APPLE_DOUBLE)
    (train[1][0] / "._00000.jpg").write_bytes(_APPLE_DOUBLE)
    (train[0][0] / "notes.txt").write_text("object 2 walks behind the pillar in frames 3-5\n")


# --------------------------------------------------------------------------------------------
# DAVIS 2017 trainval 480p (input-layouts.md §4-5), with one DAVIS 2016 style and one grayscale sequence.


@dataclass(frozen=True)
class _Sequence:
    name: str
    split: str  # "train" or "val"
    plan: Plan
    mode: str  # "voc", "191" (palettes), "binary" (L 0/255), "gray" (L ids)
    davis2016: bool = False  # listed in ImageSets/2016 too


_DAVIS = (
    # ids 1..3, void bands around objects 1 and 2 in even frames, object 3 gone in frames 4-5
    _Sequence("paper-boat", "train", Plan(285, 160, 10, hidden=((), (), ((4, 6),)), void=(1, 2)), "voc"),
    _Sequence("pelican", "train", Plan(285, 160, 8, hidden=((),)), "binary", davis2016=True),
    # the 191/grey palette, void around object 2, every object gone in frame 5 (as in bmx-bumps)
    _Sequence("lamp-swing", "val", Plan(303, 160, 8, hidden=((), ()), empty=((5, 6),), void=(2,)), "191", davis2016=True),
    _Sequence("tram-stop", "val", Plan(377, 160, 6, hidden=((), (), ())), "gray"),
)


def _write_davis(root: Path, rng: np.random.Generator, scale: int) -> None:
    """DAVIS: hyphenated sequence names, every frame annotated, ImageSets lists that partition the sequences."""
    davis = root / davis_spec.ROOT
    lists: dict[tuple[str, str], list[str]] = {(year, split): [] for year in ("2016", "2017") for split in ("train", "val")}
    palettes = {"voc": VOC_PALETTE, "191": DAVIS191_PALETTE, "binary": None, "gray": None}
    for repeat in range(scale):
        for sequence in _DAVIS:
            name = sequence.name + _suffix(repeat)
            images = davis / IMAGES / davis_spec.DEFAULT_RESOLUTION / name
            masks = davis / ANNOTATIONS / davis_spec.DEFAULT_RESOLUTION / name
            images.mkdir(parents=True)
            masks.mkdir(parents=True)
            for frame, image, label in video_frames(rng, sequence.plan, scale):
                _save_jpeg(images / f"{frame}.jpg", image)
                _save_png(masks / f"{frame}.png", label * 255 if sequence.mode == "binary" else label, palettes[sequence.mode])
            lists["2017", sequence.split].append(name)
            if sequence.davis2016:
                lists["2016", sequence.split].append(name)
    for (year, split), names in lists.items():
        folder = davis / davis_spec.IMAGE_SETS / year
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{split}.txt").write_text("".join(f"{n}\n" for n in sorted(names)))
    (davis / IMAGES / davis_spec.DEFAULT_RESOLUTION / ".DS_Store").write_bytes(_DS_STORE)


# --------------------------------------------------------------------------------------------
# YouTube-VOS 2019 (input-layouts.md §6): frames every 5, meta.json per split, sparse valid PNGs.

_YOUTUBE = {
    "train": (
        # object 2 vanishes and returns; object 3 first appears at 00020
        Plan(320, 180, 12, hidden=((), ((3, 6),), ((0, 4),)), step=5),
        Plan(256, 144, 8, hidden=((), ()), empty=((4, 5),), first=10, step=5),  # 00010..00045, 00030 empty
        Plan(213, 120, 10, hidden=(((7, 10),), ()), step=5),
    ),
    "valid": (
        Plan(240, 160, 10, hidden=((), (), ((0, 5),)), step=5),  # PNGs 00000 (1, 2) and 00025 (3)
        Plan(160, 240, 8, hidden=((), ((0, 3),), ((0, 3),)), first=15, step=5),  # portrait; PNGs 00015 (1), 00030 (2, 3)
    ),
}


def _write_youtube(root: Path, rng: np.random.Generator, scale: int) -> None:
    """YouTube-VOS: 10-hex ids, 4-bit PNGs; train lists visible frames and categories, valid only first appearances."""
    plans = [(split, plan) for _ in range(scale) for split, split_plans in _YOUTUBE.items() for plan in split_plans]
    names = _hex_names(rng, len(plans), 10)
    meta: dict[str, dict[str, dict]] = {"train": {}, "valid": {}}
    for (split, plan), name in zip(plans, names):
        images, masks = _folders(root, split, name)
        categories = [str(rng.choice(_CATEGORIES)) for _ in plan.hidden] if split == "train" else []
        visible: dict[int, list[str]] = {}
        frames = plan.frame_names(scale)
        for frame, image, label in video_frames(rng, plan, scale):
            _save_jpeg(images / f"{frame}.jpg", image)
            ids = sorted(set(np.unique(label).tolist()) - {0})
            if split == "train":
                _save_png(masks / f"{frame}.png", label, YOUTUBE_PALETTE)
            else:  # only objects seen for the first time here, the others are 0 ("don't care")
                new = [i for i in ids if i not in visible]
                if new:
                    _save_png(masks / f"{frame}.png", np.where(np.isin(label, new), label, 0).astype(np.uint8), YOUTUBE_PALETTE)
            for i in ids:
                visible.setdefault(i, []).append(frame)
        objects = {}
        for object_id in sorted(visible):
            if split == "train":
                objects[str(object_id)] = {"category": categories[object_id - 1], "frames": visible[object_id]}
            else:
                objects[str(object_id)] = {"frames": frames[frames.index(visible[object_id][0]) :]}
        meta[split][name] = {"objects": objects}
    for split, videos in meta.items():
        document = {"videos": {name: videos[name] for name in sorted(videos)}}
        (root / split / META).write_text(json.dumps(document) + "\n")
    (root / "train" / IMAGES / ".DS_Store").write_bytes(_DS_STORE)


_WRITERS = {"mose": _write_mose, "davis": _write_davis, "youtube-vos": _write_youtube}
