"""What the DAVIS-style layouts share: ``JPEGImages/<video>/NNNNN.jpg`` beside ``Annotations/<video>/NNNNN.png``.

Listing frames (hidden files skipped, numeric order, duplicates refused; a layout may prefix the
number, as VOST's ``frame00000.jpg``) and reading one video folder pair into a
:class:`~converters.model.Video`, and :class:`FolderLayoutReader`, the base of every folder
layout's reader: MOSE, DAVIS, YouTube-VOS and VOST readers differ only in where those folders are
and what metadata sits beside them. A source with annotations only (no frame folder) is read as
masks without images, unless the ``images`` option attaches frames from another folder.
Every file access goes through a :class:`~converters.sources.files.FileSystem` (the local disk
by default), so the same code reads a folder and an archive.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from ...codecs import labels, png, rle
from ...errors import SourceError, VosconvWarning
from ...model import Frame, ImageRef, Mask, MaskEncoding, ObjectInfo, Video
from ...reader import Detection, Reader, VideoRef
from ...sources import files as sources
from ...sources.files import LOCAL, Entry, FileSystem, no_images_folder
from ...sources.imagefiles import probe_image
from ...suggest import did_you_mean
from ..lookalikes import unread_layout
from .entries import frame_files, video_folders, visible_entries
from .spec import IMAGE_SUFFIXES, MASK_SUFFIX, NUMBERED, SPLIT_NAMES, FrameNames, frameless, no_frames


def split_of(folder: str | os.PathLike) -> str | None:
    """The split a split folder given directly is (``MOSE/train`` -> ``train``), as if found under its root.

    Only for the published split names: a folder called ``my_subset`` holding the pair is not a split.
    """
    name = os.path.basename(os.path.abspath(folder))  # "." is the folder it names
    return name if name.lower() in SPLIT_NAMES else None


def split_choices(split: str, found: list[str], label: str = "splits here") -> str:
    """``splits here: train, valid; did you mean 'train'?`` for an error about a split that is not there."""
    if not found:
        return f"{label}: none"
    return f"{label}: {', '.join(found)};{did_you_mean(split, found)}".rstrip(";")


@dataclass(frozen=True)
class FolderVideoRef(VideoRef):
    """A video as a pair of folders; either may be None (no images, or no annotations).

    ``attached``: ``image_dir`` is a folder on the local disk that the ``images`` option names, not
    one of the source's (which may be an archive). ``annotations_only``: the source has no frame
    folder at all, so the frames are the mask files' (each without an image).
    """

    image_dir: str | None = None
    mask_dir: str | None = None
    objects: tuple[ObjectInfo, ...] = ()  # objects known from metadata (YouTube-VOS meta.json)
    attached: bool = False
    annotations_only: bool = False

    def folders(self) -> tuple[str, ...]:
        return tuple(folder for folder in (self.image_dir, self.mask_dir) if folder)


def folder_ref(
    name: str,
    image_dir: str | None,
    mask_dir: str | None,
    objects: tuple[ObjectInfo, ...] = (),
    fs: FileSystem = LOCAL,
    *,
    attached: bool = False,
    annotations_only: bool = False,
) -> FolderVideoRef:
    """A ref for a folder pair, sized and stamped from the files in it (for shard planning and resuming).

    An ``attached`` image folder is on the local disk (the ``images`` option), whatever ``fs`` is.
    """
    nbytes, stamp = 0, hashlib.sha256()
    for folder, folder_fs in ((image_dir, LOCAL if attached else fs), (mask_dir, fs)):
        if folder is not None:
            stamp.update(b"\0folder")
            try:
                entries = visible_entries(folder, folder_fs)
            except SourceError:  # reading the video says so, naming the folder (a skippable error)
                stamp.update(b"\0unlistable")
                continue
            for entry in sorted((e for e in entries if e.is_file), key=lambda e: e.name):
                nbytes += entry.size
                stamp.update(f"\0{entry.name}\0{entry.size}\0{entry.mtime_ns}".encode("utf-8", "surrogateescape"))
    return FolderVideoRef(name, nbytes, stamp.hexdigest(), image_dir, mask_dir, objects, attached, annotations_only)


def read_folder_video(ref: FolderVideoRef, fs: FileSystem = LOCAL, names: FrameNames = NUMBERED, binary: bool = True) -> Video:
    """Read one video: every mask PNG decoded once and turned into RLE in one pass.

    In an archive, a video's files are read in archive order (frames, then masks), so a
    .tar.gz is decompressed nearly sequentially. Frame files are named like ``names``; ``binary``
    False: a grayscale video holding only 0 and 255 is void alone, not DAVIS 2016's one object.
    Annotations only: each mask file is a frame (``<stem>.jpg``, no image), sized by the PNGs.
    """
    image_fs = LOCAL if ref.attached else fs
    images, masks = _video_files(ref, fs, image_fs, names)
    size = _frame_size(images, image_fs) if images else None
    slots = _frame_slots(images, masks, image_fs)
    decoded, modes, palette, size = _decode_masks([_stem(name) for name, _ in slots], masks, size, fs)
    encoding = _encoding(modes, decoded, ref.mask_dir, binary)
    frames = _frames(slots, decoded, encoding)
    try:
        return Video(
            name=ref.name,
            width=size[0],
            height=size[1],
            frames=frames,
            objects=_objects(ref.objects, frames),
            encoding=encoding,
            palette=palette if encoding is MaskEncoding.PALETTE else None,
        )
    except ValueError as exc:  # what the model refuses (a frame size out of range, say)
        raise SourceError(ref.image_dir or ref.mask_dir or ref.name, str(exc)) from None


def _frame_slots(images: list[Entry], masks: dict[str, str], image_fs: FileSystem) -> list[tuple[str, ImageRef | None]]:
    """Each frame's file name and image: the frame files', or, annotations only, ``<stem>.jpg`` of each mask without one."""
    if images:
        return [(entry.name, image_fs.image_ref(entry.path)) for entry in images]
    return [(stem + IMAGE_SUFFIXES[0], None) for stem in masks]


def _stem(name: str) -> str:
    """``00005`` of ``00005.jpg``: what pairs a frame with its mask."""
    return name.rpartition(".")[0]


def _video_files(
    ref: FolderVideoRef, fs: FileSystem, image_fs: FileSystem, names: FrameNames
) -> tuple[list[Entry], dict[str, str]]:
    """The frame files in order, and the mask paths by stem (in frame order).

    A video without frames, or a mask without its frame, is an error; annotations only, the masks are the frames.
    """
    images = frame_files(ref.image_dir, IMAGE_SUFFIXES, image_fs, names) if ref.image_dir else []
    masks = {_stem(e.name): e.path for e in frame_files(ref.mask_dir, (MASK_SUFFIX,), fs, names)} if ref.mask_dir else {}
    if ref.annotations_only:
        if not masks:
            raise SourceError(ref.mask_dir or ref.name, "video has no frames (annotations only, and no mask file)")
        return [], masks
    if not images:
        inside = [e.name for e in visible_entries(ref.image_dir, image_fs) if not e.is_file] if ref.image_dir else []
        cause = no_frames(sorted(inside)) if ref.image_dir else "annotations without a frame folder"
        raise SourceError(ref.image_dir or ref.mask_dir or ref.name, cause)
    orphans = sorted(set(masks) - {_stem(e.name) for e in images})
    if orphans:
        raise SourceError(masks[orphans[0]], frameless(orphans, ref.image_dir))
    return images, masks


class _Palette:
    """A video keeps one palette, its first mask's; a later mask whose used colours differ is warned of, once."""

    def __init__(self) -> None:
        self.value: bytes | None = None
        self.source: str | None = None
        self.warned = False

    def see(self, path: str, palette: bytes | None, masks: list[Mask]) -> None:
        if palette is None:
            return
        if self.value is None:
            self.value, self.source = palette, path
        elif palette != self.value and not self.warned:
            used = [0, *(m.object_id for m in masks)]
            kept = self.value.ljust(768, b"\0")  # a value beyond the kept palette is written black (png.encode pads it)
            if any(palette[3 * v : 3 * v + 3] != kept[3 * v : 3 * v + 3] for v in used):
                self.warned = True  # once a video: the colours are not data, but they are not kept either
                warnings.warn(
                    f"{path}: its palette colours differ from {self.source}'s; a video keeps one palette "
                    "(the first), so this frame's colours change in the output (its pixel values do not)",
                    VosconvWarning,
                    stacklevel=4,
                )


def _decode_masks(
    stems: list[str], masks: dict[str, str], size: tuple[int, int] | None, fs: FileSystem
) -> tuple[dict[str, list[Mask]], set[str], bytes | None, tuple[int, int]]:
    """Each mask as RLE by stem (in frame order), the PNG modes seen, the video's palette, and its frame size.

    ``size`` None (annotations only): the first mask's size is the video's, and every other mask must have it.
    """
    decoded: dict[str, list[Mask]] = {}
    modes: set[str] = set()
    palette = _Palette()
    for stem in stems:
        path = masks.get(stem)
        if path is None:
            continue
        label, info = _read_mask(path, fs, size)
        size = size or (info.width, info.height)
        modes.add(info.mode)
        decoded[stem] = rle.encode(label)
        palette.see(path, info.palette, decoded[stem])
    return decoded, modes, palette.value, size


def _frames(
    slots: list[tuple[str, ImageRef | None]], decoded: dict[str, list[Mask]], encoding: MaskEncoding
) -> tuple[Frame, ...]:
    """One Frame per ``(file name, image)``; a frame without a mask file is unannotated (no masks), not empty."""
    frames = []
    for index, (name, image) in enumerate(slots):
        found = decoded.get(_stem(name))
        frame_masks = labels.frame_masks(found, encoding) if found is not None else None
        frames.append(Frame(index, name, image, frame_masks))
    return tuple(frames)


def _objects(known: tuple[ObjectInfo, ...], frames: tuple[Frame, ...]) -> tuple[ObjectInfo, ...]:
    """The objects metadata names, and every other object a mask shows, by id."""
    objects = {o.object_id: o for o in known}
    for frame in frames:
        if frame.masks is not None:
            for mask in frame.masks.objects:
                objects.setdefault(mask.object_id, ObjectInfo(mask.object_id))
    return tuple(objects[k] for k in sorted(objects))


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


def _read_mask(path: str, fs: FileSystem, size: tuple[int, int] | None):
    """The mask's values and header; its size is checked against the frame's (if known) before anything is inflated."""
    try:
        data = fs.read(path)
    except OSError as exc:
        raise SourceError(path, f"cannot read mask: {exc.strerror or exc}") from None
    try:
        info = png.read_header(data)
        if size is not None and (info.width, info.height) != size:
            raise SourceError(path, f"mask is {info.width}x{info.height} but its frame is {size[0]}x{size[1]}")
        return png.decode(data, reuse=True)  # turned into RLE before the next mask is read
    except png.PngError as exc:
        raise SourceError(path, str(exc)) from None


def _encoding(modes: set[str], decoded: dict[str, list[Mask]], where: str | None, binary: bool = True) -> MaskEncoding:
    """Palette, grayscale ids, or (where the layout has it) DAVIS 2016 binary: grayscale holding only 0 and 255."""
    if len(modes) > 1:
        raise SourceError(where, "the video mixes palette and grayscale masks")
    if modes == {"L"}:
        if binary and all(m.object_id == 255 for masks in decoded.values() for m in masks):
            return MaskEncoding.BINARY
        return MaskEncoding.GRAYSCALE
    return MaskEncoding.PALETTE


# --------------------------------------------------------------------------------------------
# The base of every folder layout's reader


@dataclass(frozen=True)
class VideoIndex:
    """A file naming videos (a DAVIS split list, YouTube-VOS's ``meta.json``): each it names must have a frame folder."""

    path: Path
    names: tuple[str, ...]  # in the order an error reports the first without a folder
    noun: str = "video"  # what the file calls a video in the error ("sequence" for DAVIS)
    only: bool = False  # True: read only the videos it names (a split list); False: other folders are videos too

    def select(self, folders: set[str], with_images: set[str], images: Path) -> set[str]:
        """The videos to read of those with ``folders``; SourceError names the index when a video it names has no frames."""
        missing = [name for name in self.names if name not in with_images]
        if missing:
            raise SourceError(self.path, f"lists {self.noun} {missing[0]!r}, which has no folder in {images}")
        return set(self.names) if self.only else folders


@dataclass(frozen=True)
class LayoutFolders:
    """Where the chosen split keeps its videos: ``images/<video>/`` beside ``annotations/<video>/``."""

    images: Path
    annotations: Path  # need not exist (a test split without annotations)
    index: VideoIndex | None = None
    objects: Mapping[str, tuple[ObjectInfo, ...]] = field(default_factory=dict)  # by video, from metadata


class FolderLayoutReader(Reader):
    """A folder layout's reader: it lists the video folder pairs and reads each with :func:`read_folder_video`.

    A layout adds only what differs. To read a new one (as the LVOS and VOST readers do):

    1. put its on-disk names in ``formats/<name>/spec.py`` (the shared ones are in ``folders/spec.py``);
    2. subclass this, with ``name``, ``Options`` (give it ``images: str | None = None`` and the layout
       takes frames from elsewhere too) and :meth:`sniff_layout` (how sure it is of a folder); set
       ``frame_names`` when its frames are not bare numbers, and ``binary_masks`` False when 255 is
       always void (never DAVIS 2016's 0/255 object);
    3. implement :meth:`layout_folders`: find the chosen split's frame and mask folders, and, where the
       layout has them, an index file (:class:`VideoIndex`) and per-video objects from metadata;
    4. override :meth:`info` for its split and categories (its ``image_root`` from :meth:`image_root`),
       :meth:`roots` when it reads files beside the folders (its frames' folder from :meth:`frames_folder`),
       and :meth:`video_objects` when objects come from metadata best read once the index is checked
       (DAVIS's semantics files).

    Listing, sizing and stamping refs, and reading frames and masks are then this class's, and so are
    sources with annotations only (no frame folder: prediction folders, ``--no-images`` outputs), whose
    frames are their mask files, and the ``images`` option, which takes each video's frames from
    ``<images>/<video>/`` instead (the annotation folders still say which videos there are).
    """

    #: How the layout names frame files (and masks): ``00000.jpg`` unless a layout says otherwise.
    frame_names: ClassVar[FrameNames] = NUMBERED
    #: Whether a grayscale video holding only 0 and 255 is DAVIS 2016's one object (else 255 is void).
    binary_masks: ClassVar[bool] = True

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        """A folder that looks like a layout vosconv does not read yet is no folder layout of ours; else the layout says."""
        fs = sources.filesystem(source)
        lookalike = unread_layout(source, fs)
        if lookalike is not None:
            return Detection(0, f"looks like {lookalike.describe()}, which vosconv does not read yet")
        return cls.sniff_layout(source, fs)

    @classmethod
    def sniff_layout(cls, source: Path, fs: FileSystem) -> Detection:
        """How sure this layout is of ``source`` (seen through ``fs``, so archives count), from names alone."""
        raise NotImplementedError

    def layout_folders(self) -> LayoutFolders:
        """Where the chosen split's video folders are (computed afresh by each call: a reader is pickled small)."""
        raise NotImplementedError

    def video_objects(self, folders: LayoutFolders) -> Mapping[str, tuple[ObjectInfo, ...]]:
        """Each video's objects known from metadata (categories, frame lists), by video name."""
        return folders.objects

    # ------------------------------------------------------------ where the frames come from

    def attached_images(self) -> Path | None:
        """The folder the ``images`` option names (``<video>/<frame>.jpg`` on the local disk), or None without one."""
        value = getattr(self.options, "images", None)
        if value is None:
            return None
        path = Path(os.path.abspath(value))
        if not path.is_dir():
            raise SourceError(value, no_images_folder(value, "<video>/ frame folders"))
        return path

    def frames_folder(self, layout_images: Path) -> Path:
        """Where the frames are read from: the ``images`` option's folder, else the layout's own ``layout_images``."""
        return self.attached_images() or layout_images

    def image_root(self, layout_images: Path) -> str | None:
        """``DatasetInfo.image_root``: the frames' folder, or None when the source has none (annotations only)."""
        folder = self.frames_folder(layout_images)
        return str(folder) if folder != layout_images or self.fs.is_dir(folder) else None

    def missing_images(self) -> str | None:
        """Annotations only (no frame folder) and no ``images`` option: a writer that embeds images refuses."""
        if self.attached_images() is not None:
            return None
        folders = self.layout_folders()
        if self.fs.is_dir(folders.images) or not self.fs.is_dir(folders.annotations):
            return None
        return f"it holds annotations only (there is no {folders.images})"

    # ------------------------------------------------------------ the contract

    def roots(self) -> list[Path]:
        folders = self.layout_folders()
        return [self.source, self.frames_folder(folders.images), folders.annotations]

    def list_videos(self) -> list[VideoRef]:
        folders, fs = self.layout_folders(), self.fs
        with_masks = set(video_folders(folders.annotations, fs)) if fs.is_dir(folders.annotations) else set()
        attached = self.attached_images()
        annotations_only = attached is None and bool(with_masks) and not fs.is_dir(folders.images)
        if annotations_only:  # each video's frames are its mask files
            frames, with_frames, names = folders.annotations, with_masks, set(with_masks)
        elif attached is not None:  # the annotation folders say which videos there are; the images folder may hold more
            frames, names = attached, set(with_masks)
            with_frames = set(video_folders(attached))
        else:
            frames = folders.images
            with_frames = set(video_folders(frames, fs)) if fs.is_dir(frames) else set()
            names = with_frames | with_masks
        if folders.index is not None:
            names = folders.index.select(names, with_frames, frames)
        if attached is not None:
            _check_attached(attached, names, with_frames)
        objects = self.video_objects(folders)
        return [
            folder_ref(
                name,
                str(frames / name) if name in with_frames and not annotations_only else None,
                str(folders.annotations / name) if name in with_masks else None,
                objects.get(name, ()),
                fs,
                attached=attached is not None,
                annotations_only=annotations_only,
            )
            for name in sorted(names)
        ]

    def read_video(self, ref: FolderVideoRef) -> Video:
        return read_folder_video(ref, self.fs, self.frame_names, self.binary_masks)


def _check_attached(images: Path, names: set[str], with_frames: set[str]) -> None:
    """Every video read has a frame folder in the ``images`` option's folder; SourceError names the first without."""
    missing = sorted(names - with_frames)
    if missing:  # a dataset's root given for its frames folder: name the folder that holds them
        inner = next((images / sub for sub in ("JPEGImages", "JPEGImages/480p") if (images / sub / missing[0]).is_dir()), None)
        hint = f"; {inner} holds it: pass --images {inner}" if inner is not None else ""
        raise SourceError(images / missing[0], f"no frame folder for video {missing[0]!r} in the images folder{hint}")
