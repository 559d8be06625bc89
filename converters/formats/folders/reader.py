"""What the DAVIS-style layouts share: ``JPEGImages/<video>/NNNNN.jpg`` beside ``Annotations/<video>/NNNNN.png``.

Listing frames (hidden files skipped, numeric order, duplicates refused) and reading one
video folder pair into a :class:`~converters.model.Video`. MOSE, DAVIS and YouTube-VOS
readers differ only in where those folders are and what metadata sits beside them.
Every file access goes through a :class:`~converters.sources.files.FileSystem` (the local disk
by default), so the same code reads a folder and an archive.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from dataclasses import dataclass
from typing import Any

from ...codecs import labels, png, rle
from ...errors import SourceError, VosconvWarning
from ...model import Frame, Mask, MaskEncoding, ObjectInfo, Video
from ...reader import VideoRef
from ...sources.files import LOCAL, Entry, FileSystem
from ...sources.imagefiles import probe_image
from ...suggest import did_you_mean

IMAGE_SUFFIXES = (".jpg", ".jpeg")
MASK_SUFFIX = ".png"
IMAGES = "JPEGImages"
#: The resolution folders DAVIS has inside ``JPEGImages/`` (``1080p`` is DAVIS 2016's name for full resolution).
DAVIS_RESOLUTIONS = ("480p", "Full-Resolution", "1080p")
# the split folders MOSE, MOSEv2 and YouTube-VOS ship (and common others)
SPLIT_NAMES = frozenset({"train", "valid", "val", "test", "trainval", "train_all_frames", "valid_all_frames", "test_all_frames"})


def split_of(folder: str | os.PathLike) -> str | None:
    """The split a split folder given directly is (``MOSE/train`` -> ``train``), as if found under its root.

    Only for the published split names: a folder called ``my_subset`` holding the pair is not a split.
    """
    name = os.path.basename(os.path.abspath(folder))  # "." is the folder it names
    return name if name.lower() in SPLIT_NAMES else None


def davis_resolution_folder(folder: str | os.PathLike, fs: FileSystem = LOCAL) -> str | None:
    """``JPEGImages/480p/`` (or another DAVIS resolution) when ``folder`` has one holding video folders: it marks DAVIS.

    A DAVIS root needs no ``ImageSets/`` (the 2016 download and many copies have none), and read as
    MOSE its ``480p`` became one video. A resolution folder holding frames is a MOSE video so named.
    """
    for resolution in DAVIS_RESOLUTIONS:
        path = os.path.join(folder, IMAGES, resolution)
        if not fs.is_dir(path):
            continue
        try:
            entries = fs.scandir(path)
        except OSError:
            continue
        if not any(e.is_file and e.name.lower().endswith(IMAGE_SUFFIXES) for e in entries):
            return f"{IMAGES}/{resolution}/"
    return None


def split_choices(split: str, found: list[str], label: str = "splits here") -> str:
    """``splits here: train, valid; did you mean 'train'?`` for an error about a split that is not there."""
    if not found:
        return f"{label}: none"
    return f"{label}: {', '.join(found)};{did_you_mean(split, found)}".rstrip(";")


@dataclass(frozen=True)
class FolderVideoRef(VideoRef):
    """A video as a pair of folders; either may be None (no images, or no annotations)."""

    image_dir: str | None = None
    mask_dir: str | None = None
    objects: tuple[ObjectInfo, ...] = ()  # objects known from metadata (YouTube-VOS meta.json)

    def folders(self) -> tuple[str, ...]:
        return tuple(folder for folder in (self.image_dir, self.mask_dir) if folder)


def visible_entries(folder: str | os.PathLike, fs: FileSystem = LOCAL) -> list[Entry]:
    """Entries of ``folder`` whose names do not start with a dot (``.DS_Store``, ``._00000.png``)."""
    try:
        return [e for e in fs.scandir(folder) if not e.name.startswith(".")]
    except OSError as exc:
        raise SourceError(folder, f"cannot list folder: {exc.strerror or exc}") from None


def subfolders(folder: str | os.PathLike, fs: FileSystem = LOCAL) -> list[str]:
    """Names of the visible sub-folders of ``folder``, sorted."""
    return sorted(e.name for e in visible_entries(folder, fs) if e.is_dir)


def video_folders(folder: str | os.PathLike, fs: FileSystem = LOCAL) -> list[str]:
    """Names of the video folders in ``JPEGImages/`` or ``Annotations/``, sorted.

    An entry that cannot be opened as a folder (a dangling link, a link loop, a link inside
    an archive) is listed too, so reading that video fails naming it, and ``--on-error skip``
    records it, rather than the video silently not existing. Plain files are not videos.
    """
    return sorted(e.name for e in visible_entries(folder, fs) if not e.is_file)


def frame_files(folder: str | os.PathLike, suffixes: tuple[str, ...], fs: FileSystem = LOCAL) -> list[Entry]:
    """The frame files of one video folder in frame order (numeric, so ``9 < 10`` at any width).

    Other files are ignored. Two files with the same frame number (``00005.jpg`` and
    ``5.jpg``, or ``.jpg`` beside ``.jpeg``) and names that are not numbers are errors.
    """
    found: dict[int, Entry] = {}
    for entry in visible_entries(folder, fs):
        stem, dot, suffix = entry.name.rpartition(".")
        if not dot or "." + suffix.lower() not in suffixes:
            continue
        if not entry.is_file:
            raise SourceError(entry.path, "not a readable file (a folder, or a link to nothing)")
        if not stem.isdigit():
            raise SourceError(entry.path, "frame file name is not a frame number")
        number = int(stem)
        if number in found:
            raise SourceError(entry.path, f"duplicate frame number {number} (also {found[number].name})")
        found[number] = entry
    return [found[n] for n in sorted(found)]


def read_json(path: str | os.PathLike, fs: FileSystem = LOCAL) -> Any:
    """A metadata JSON file (meta.json, categories.json); SourceError names the file, and where a syntax error is."""
    try:
        return json.loads(fs.read(path))
    except OSError as exc:
        raise SourceError(path, f"cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise SourceError(path, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise SourceError(path, f"invalid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None


def folder_ref(
    name: str,
    image_dir: str | None,
    mask_dir: str | None,
    objects: tuple[ObjectInfo, ...] = (),
    fs: FileSystem = LOCAL,
) -> FolderVideoRef:
    """A ref for a folder pair, sized and stamped from the files in it (for shard planning and resuming)."""
    nbytes, stamp = 0, hashlib.sha256()
    for folder in (image_dir, mask_dir):
        if folder is not None:
            stamp.update(b"\0folder")
            try:
                entries = visible_entries(folder, fs)
            except SourceError:  # reading the video says so, naming the folder (a skippable error)
                stamp.update(b"\0unlistable")
                continue
            for entry in sorted((e for e in entries if e.is_file), key=lambda e: e.name):
                nbytes += entry.size
                stamp.update(f"\0{entry.name}\0{entry.size}\0{entry.mtime_ns}".encode("utf-8", "surrogateescape"))
    return FolderVideoRef(name, nbytes, stamp.hexdigest(), image_dir, mask_dir, objects)


def read_folder_video(ref: FolderVideoRef, fs: FileSystem = LOCAL) -> Video:
    """Read one video: every mask PNG decoded once and turned into RLE in one pass.

    In an archive, a video's files are read in archive order (frames, then masks), so a
    .tar.gz is decompressed nearly sequentially.
    """
    images = frame_files(ref.image_dir, IMAGE_SUFFIXES, fs) if ref.image_dir else []
    masks = {e.name[: -len(MASK_SUFFIX)]: e.path for e in frame_files(ref.mask_dir, (MASK_SUFFIX,), fs)} if ref.mask_dir else {}
    if not images:
        where = ref.image_dir or ref.mask_dir or ref.name
        raise SourceError(where, "video has no frames" if ref.image_dir else "annotations without a frame folder")
    stems = {e.name.rpartition(".")[0] for e in images}
    orphans = sorted(set(masks) - stems)
    if orphans:
        raise SourceError(masks[orphans[0]], "annotation without a frame of the same name")

    width, height = _frame_size(images, fs)
    modes = set()
    palette, palette_from, warned = None, None, False
    decoded: dict[str, list[Mask]] = {}
    for stem in (e.name.rpartition(".")[0] for e in images):
        path = masks.get(stem)
        if path is None:
            continue
        label, info = _read_mask(path, fs, (width, height))
        modes.add(info.mode)
        decoded[stem] = rle.encode(label)
        if palette is None and info.palette is not None:
            palette, palette_from = info.palette, path
        elif info.palette is not None and info.palette != palette and not warned:
            used = [0, *(m.object_id for m in decoded[stem])]
            if any(info.palette[3 * v : 3 * v + 3] != palette[3 * v : 3 * v + 3] for v in used):
                warned = True  # once a video: the colours are not data, but they are not kept either
                warnings.warn(
                    f"{path}: its palette colours differ from {palette_from}'s; a video keeps one palette "
                    "(the first), so this frame's colours change in the output (its pixel values do not)",
                    VosconvWarning,
                    stacklevel=2,
                )

    encoding = _encoding(modes, decoded, ref.mask_dir)
    frames = []
    for index, entry in enumerate(images):
        stem = entry.name.rpartition(".")[0]
        found = decoded.get(stem)
        frame_masks = labels.frame_masks(found, encoding) if found is not None else None
        frames.append(Frame(index, entry.name, fs.image_ref(entry.path), frame_masks))

    objects = {o.object_id: o for o in ref.objects}
    for frame in frames:
        if frame.masks is not None:
            for mask in frame.masks.objects:
                objects.setdefault(mask.object_id, ObjectInfo(mask.object_id))
    try:
        return Video(
            name=ref.name,
            width=width,
            height=height,
            frames=tuple(frames),
            objects=tuple(objects[k] for k in sorted(objects)),
            encoding=encoding,
            palette=palette if encoding is MaskEncoding.PALETTE else None,
        )
    except ValueError as exc:  # what the model refuses (a frame size out of range, say)
        raise SourceError(ref.image_dir or ref.mask_dir or ref.name, str(exc)) from None


def _frame_size(images: list[Entry], fs: FileSystem) -> tuple[int, int]:
    """The video's frame size; every frame must be a whole image of that size."""
    size = None
    for entry in images:
        found = probe_image(entry.path, fs=fs)
        if size is None:
            size = found
        elif found != size:
            raise SourceError(entry.path, f"frame is {found[0]}x{found[1]}, other frames of the video are {size[0]}x{size[1]}")
    return size


def _read_mask(path: str, fs: FileSystem, size: tuple[int, int]):
    """The mask's values and header; its size is checked against the frame's before anything is inflated."""
    try:
        data = fs.read(path)
    except OSError as exc:
        raise SourceError(path, f"cannot read mask: {exc.strerror or exc}") from None
    try:
        info = png.read_header(data)
        if (info.width, info.height) != size:
            raise SourceError(path, f"mask is {info.width}x{info.height} but its frame is {size[0]}x{size[1]}")
        return png.decode(data, reuse=True)  # turned into RLE before the next mask is read
    except png.PngError as exc:
        raise SourceError(path, str(exc)) from None


def _encoding(modes: set[str], decoded: dict[str, list[Mask]], where: str | None) -> MaskEncoding:
    """Palette, grayscale ids, or DAVIS 2016 binary (grayscale holding only 0 and 255)."""
    if len(modes) > 1:
        raise SourceError(where, "the video mixes palette and grayscale masks")
    if modes == {"L"}:
        if all(m.object_id == 255 for masks in decoded.values() for m in masks):
            return MaskEncoding.BINARY
        return MaskEncoding.GRAYSCALE
    return MaskEncoding.PALETTE
