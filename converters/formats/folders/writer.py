"""Back to the native folder layouts: what MOSE, DAVIS and YouTube-VOS writers share.

JPEGs are copied byte for byte; each annotated frame's masks are painted back into a
label map and stored as a PNG in the video's encoding (palette with the source palette,
grayscale, or DAVIS 2016 0/255). Frames without an annotation file get none, and frames
whose objects are all absent get an all-zero PNG, so "unannotated" and "empty" survive.
The output's root holds a small hidden ``.vosconv.json`` (which the layout readers, skipping
hidden files, never see): it is how ``--overwrite`` knows the folder is vosconv's to replace.

MOSE and YouTube-VOS have no void and no 0/255 masks, and their consumers (SAM 2's
``PalettisedPNGSegmentLoader``, the DAVIS 2017 kit, Cutie) take every non-zero pixel value as an
object: written there, a DAVIS 2016 binary video stores object 1 as palette id 1, and DAVIS's
void (255) becomes background 0 unless ``void=keep`` (:meth:`LayoutWriter.as_written`). The run's
summary says so, and the marker records which videos were changed; so it does for what a layout
has no place for (object and video metadata, per-frame values, MOSE's categories, ...) and, with
``images=false``, for frames without a mask, which have no file.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import numpy as np

from ...codecs import labels, png, rle
from ...errors import SourceError
from ...model import NAME_MAX, VOID_ID, Category, DatasetInfo, MaskEncoding, Video
from ...sources import imagefiles
from ...version import __version__
from ...writer import Shard, ShardResult, Writer, checksum_of
from .exclusive import NewEntries
from .marker import changed_files, foreign_entries, is_marked, marked_format, refuse_foreign, with_files
from .spec import ANNOTATIONS, IMAGE_SUFFIXES, IMAGES, MARKER, MASK_SUFFIX, WRITTEN_BY

OUTPUT = "output"
#: Names a dataset folder (or a folder-layout output older than the marker) has at its root.
_LAYOUT_NAMES = (IMAGES, ANNOTATIONS, "ImageSets", "meta.json")
#: Written by ``renumber=true`` at the output's root: ``{video: {new id: source id}}``.
RENUMBERED = "object_ids.json"
#: Every name a folder-layout writer puts at the output's root (``errors.jsonl``: the videos a run skipped).
#: The formats whose outputs these names describe (the marker says which wrote a folder).
_LAYOUT_FORMATS = frozenset({"mose", "davis", "youtube-vos", ""})
_OWN_NAMES = frozenset({*_LAYOUT_NAMES, MARKER, RENUMBERED, "categories.json", "davis_semantics.json", "errors.jsonl"})


_OVERLAP = (
    "its masks overlap, and a {name} PNG holds one object per pixel; write coco, parquet or hdf5 (masks=rle), "
    "which keep every mask"
)


# What the folder layouts' readers take as frames: visible files named by frame number, JPEGs
# as .jpg/.jpeg (spec.IMAGE_SUFFIXES), listed in numeric order. A video outside these rules would be
# written, then lost or reordered on the next read, so it is refused (from a COCO file of another tool, say).


def check_listable_name(video: Video, listing: str) -> None:
    """A video list (DAVIS's ``ImageSets/``, SA-V's ``sav_val.txt``) has one name per line, read stripped (published
    lists have CRLF and trailing blanks): a name with surrounding blanks or a line break would not read back."""
    if video.name != video.name.strip() or len(video.name.splitlines()) != 1:
        raise SourceError(video.name, f"a {listing} cannot hold a name with surrounding blanks or a line break")


def check_readable_names(video: Video, layout: str) -> None:
    """SourceError unless the video's folder and frame names read back as the same frames, in order."""
    if video.name.startswith("."):
        raise SourceError(video.name, f"{layout} readers skip folders whose names start with '.', so the video would be lost")
    previous = None
    for frame in video.frames:
        where = f"{video.name}/{frame.file_name}"
        suffix = frame.file_name[len(frame.stem) :].lower()
        if frame.image is not None and suffix not in IMAGE_SUFFIXES:
            raise SourceError(where, f"{layout} readers take only .jpg/.jpeg frames, so the image would be lost")
        if not frame.stem.isdigit() or not frame.stem.isascii():
            raise SourceError(where, f"{layout} frame files are named by frame number (00005.jpg), so the frame would be lost")
        mask = f"{frame.stem}{MASK_SUFFIX}"  # longer than the frame's own name when it has no image, so any suffix
        if len(mask) > NAME_MAX:
            too_long = f"{len(mask)} bytes long, over the {NAME_MAX} a file name can be"
            raise SourceError(where, f"its mask file {mask} would be {too_long}")
        if previous is not None and int(frame.stem) <= int(previous.stem):
            raise SourceError(where, f"{layout} readers order frames by number, and it follows {previous.file_name}")
        previous = frame


@dataclass(frozen=True)
class LayoutOptions:
    images: bool = True  # copy each frame's JPEG; false: annotations only
    renumber: bool = False  # objects numbered 1..K per video, the mapping in object_ids.json
    void: Literal["drop", "keep"] = "drop"  # the void region (255): background 0 (drop), or kept as 255

    def __post_init__(self) -> None:
        if self.void not in ("drop", "keep"):
            raise ValueError(f"void must be drop or keep, got {self.void!r}")


#: What a layout without void did with a source's void (the marker's and the summary's words).
_VOID_DONE = {"drop": "written as background 0", "keep": "kept as pixel value 255, which its loaders take for an object"}


#: What a layout may have no place for (the marker's keys), in the summary's words.
_NOT_KEPT = {
    "categories": "the category of {n} object{s}",
    "merged_categories": "the category of {n} object{s} whose category shares its name with another (read back as that one)",
    "dataset_categories": "{n} of the dataset's categories as given",
    "object_frames": "the frame list of {n} object{s}",
    "object_metadata": "the metadata of {n} object{s}",
    "mask_values": "the per-frame values of {n} mask{s}",
    "video_metadata": "the metadata of {n} video{s}",
    "unseen_objects": "{n} object{s} on no frame",
    "frame_names": "the file name of {n} annotated frame{s} without {their} images (read back as <number>.jpg)",
}


def _frames(count: object) -> str:
    return f"{count} frame{'' if count == 1 else 's'}"


def _unkept_frame_lists(video: Video) -> int:
    """Objects whose frame list (YouTube-VOS's) is not just the frames where they have pixels: those lists are lost in a
    layout without them, where the others come back from the masks (YouTube-VOS's writer derives them so)."""
    shown: dict[int, list[str]] = {}
    for frame in video.frames:
        for mask in frame.masks.objects if frame.masks is not None else ():
            if mask.area > 0:
                shown.setdefault(mask.object_id, []).append(frame.stem)
    return sum(1 for o in video.objects if o.frames is not None and list(o.frames) != shown.get(o.object_id, []))


def merged_categories(categories: Sequence[Category]) -> dict[int, int]:
    """For a layout that names each object's category (DAVIS's ``categories.json``, YouTube-VOS's ``meta.json``): the
    ids of the categories another of the same name takes the place of (the last of that name, as in a JSON object keyed
    by name), each with the id of that other. Objects of those categories read back with the other's."""
    last = {c.name: c.id for c in categories}
    return {c.id: last[c.name] for c in categories if last[c.name] != c.id}


def _reads_as_binary(video: Video) -> bool:
    """A grayscale video without any object pixel: its PNGs hold only 0 and the void's 255, which the layouts' readers
    take for DAVIS 2016's binary masks (255 as object 1)."""
    return video.encoding is MaskEncoding.GRAYSCALE and not any(f.masks is not None and f.masks.objects for f in video.frames)


def _pixel_value_fix(name: str) -> str:
    return f"a {name} PNG holds one value 1-254 per pixel; write sav (one PNG per object), coco, parquet or hdf5 (masks=rle)"


class LayoutWriter(Writer):
    """Shared by the folder writers: one images folder and one annotations folder per video.

    Subclasses say where those folders go (``image_dir``/``mask_dir``), which palette
    masks get when the source had none, and what index files ``finalize`` writes.
    """

    Options = LayoutOptions
    output_kind = "directory"
    finalize_reads_checksums = False  # a checksum per frame and object: the run need not hold them
    finalize_reads_files = False  # nor their names: the marker's listing walks the output
    default_palette: ClassVar[bytes] = png.DAVIS_PALETTE
    #: DAVIS holds a void region and 0/255 masks; MOSE and YouTube-VOS hold neither.
    holds_void: ClassVar[bool] = False
    #: What the source says of objects that the layout holds: "categories", "object_frames" (YouTube-VOS frame
    #: lists), "unseen_objects" (an object on no frame). No layout holds metadata or per-frame values.
    keeps: ClassVar[frozenset[str]] = frozenset()
    #: What of the dataset's own record ``finalize`` found no place for (its categories), for :meth:`notes`.
    _dataset_unkept: dict[str, int] = {}

    @classmethod
    def owns(cls, path: Path) -> bool:
        """A folder holding the marker that every folder-layout writer leaves, and nothing else of the user's."""
        return is_marked(path) and not foreign_entries(path, _OWN_NAMES) and changed_files(path) is None

    @classmethod
    def lookalike(cls, path: Path) -> str | None:
        """A dataset folder without the marker: the source itself, or the output of a vosconv older than the marker."""
        if not path.is_dir() or path.is_symlink():
            return None
        marked = marked_format(path)
        if marked is not None:  # another folder writer's output (sav) speaks for itself
            if marked not in _LAYOUT_FORMATS:
                return None
            return refuse_foreign(path, _OWN_NAMES) if foreign_entries(path, _OWN_NAMES) else changed_files(path)
        names = sorted(entry.name + ("/" if entry.is_dir() else "") for entry in os.scandir(path))
        if not any(name.rstrip("/") in _LAYOUT_NAMES for name in names):
            return None
        listed = ", ".join(names[:4] + (["..."] if len(names) > 4 else []))
        return (
            f"looks like a dataset folder ({listed}) and lacks the {MARKER} that vosconv leaves in the folders "
            "it writes, so --overwrite does not replace it; if it is the output of an older vosconv (those left no "
            f"{MARKER}), delete it by hand, else choose another output"
        )

    def image_dir(self, info: DatasetInfo) -> str:
        return IMAGES

    def mask_dir(self, info: DatasetInfo) -> str:
        return ANNOTATIONS

    def as_written(self, video: Video) -> Video:
        """The video as this layout's consumers need it: DAVIS 2016's 0/255 as palette id 1, void dropped.

        A layout without void (MOSE, YouTube-VOS) stores a binary video's object as palette id 1
        (SAM 2's loader would take 0/255 for object 255, the DAVIS kit for no object at all), and
        the void region as background 0, unless ``void=keep``. DAVIS keeps both as they are.
        """
        if _reads_as_binary(video):  # grayscale PNGs of only 0 and 255 are DAVIS 2016's: 255 would read as object 1
            video = dataclasses.replace(video, encoding=MaskEncoding.PALETTE, palette=self.default_palette)
        if self.holds_void:
            return video
        if video.encoding is MaskEncoding.BINARY:  # a binary video holds no void
            return dataclasses.replace(video, encoding=MaskEncoding.PALETTE, palette=self.default_palette)
        if self.options.void == "keep" or not video.has_void:
            return video
        frames = tuple(
            f
            if f.masks is None or f.masks.void is None
            else dataclasses.replace(f, masks=dataclasses.replace(f.masks, void=None))
            for f in video.frames
        )
        return dataclasses.replace(video, frames=frames)

    def write_shard(self, videos: Iterable[Video], shard: Shard, staging: Path, info: DatasetInfo) -> ShardResult:
        facts, written, renumbered, changed = {}, [], {}, {}
        made = NewEntries(staging / OUTPUT)  # every folder and file new: a name the file system folds is refused
        for video in videos:
            change = {**(self._change(video) or {}), **self._unkept(video, info)}
            if change:
                changed[video.name] = change
            video = self.as_written(video)
            unwritten = self._unwritten_frames(video)
            if unwritten == len(video.frames):  # nothing of the video is written, so no index may list it
                changed[video.name] = {"unwritten_frames": unwritten} if unwritten else {"no_frames": True}
                continue
            if unwritten:  # frames without a mask or an image to write have no file here
                changed.setdefault(video.name, {})["unwritten_frames"] = unwritten
            if getattr(self.options, "renumber", False):
                video, mapping = labels.renumbered(video)
                renumbered[video.name] = {str(new): old for old, new in mapping.items()}
            images, masks = f"{self.image_dir(info)}/{video.name}", f"{self.mask_dir(info)}/{video.name}"
            try:
                written += self.write_video(video, made, images, masks)
            except BaseException:  # none of the shard left: the run may write it again without this video (--on-error skip)
                made.discard()
                raise
            facts[video.name] = self.video_facts(video, info)
        # every file is listed, so a resumed run checks them and drops what a crashed shard left behind
        files = tuple(name for name, _, _ in written)
        result_facts = {"videos": facts, **({"renumbered": renumbered} if renumbered else {})}
        if changed:
            result_facts["changed"] = changed
        return ShardResult(shard.index, files, facts=result_facts, checksums=tuple(written))

    def _unwritten_frames(self, video: Video) -> int:
        """Frames that get no file: without an annotation file and without an image written (``images=false``).

        A folder layout knows a frame by its files only, so such a frame is not in the output.
        """
        return sum(1 for f in video.frames if f.masks is None and (f.image is None or not self.options.images))

    def _unkept(self, video: Video, info: DatasetInfo) -> dict[str, dict[str, int]]:
        """What the source says of the video that the layout has no place for, counted (the summary's note)."""
        held = {c.id for c in info.categories} if "categories" in self.keeps else set()
        merged = merged_categories(info.categories) if held else {}
        seen = {m.object_id for f in video.frames if f.masks is not None for m in f.masks.objects}
        counts = {
            "categories": sum(1 for o in video.objects if o.category_id is not None and o.category_id not in held),
            "merged_categories": sum(1 for o in video.objects if o.category_id in merged),
            "object_frames": 0 if "object_frames" in self.keeps else _unkept_frame_lists(video),
            "object_metadata": sum(1 for o in video.objects if o.metadata),
            "mask_values": sum(1 for f in video.frames if f.masks is not None for m in f.masks.objects if m.values),
            "video_metadata": 1 if video.metadata else 0,
            "unseen_objects": 0
            if "unseen_objects" in self.keeps
            else sum(1 for o in video.objects if o.object_id not in seen and o.category_id not in held),
            # without its image, an annotated frame is known by its mask alone: it reads back as <number>.jpg
            "frame_names": 0
            if self.options.images
            else sum(1 for f in video.frames if f.masks is not None and f.file_name != f.stem + IMAGE_SUFFIXES[0]),
        }
        kept = {what: count for what, count in counts.items() if count}
        return {"not_kept": kept} if kept else {}

    def _change(self, video: Video) -> dict[str, int] | None:
        """What :meth:`as_written` does to the video, for the summary and the marker: None when nothing."""
        if _reads_as_binary(video):
            return {"grayscale": 1, **(self._change(dataclasses.replace(video, encoding=MaskEncoding.PALETTE)) or {})}
        if self.holds_void:
            return None
        if video.encoding is MaskEncoding.BINARY:
            return {"binary": 1}
        void_frames = sum(1 for f in video.frames if f.masks is not None and f.masks.void is not None)
        return {"void_frames": void_frames} if void_frames else None

    def notes(self, results: Sequence[ShardResult]) -> list[str]:
        """What the run changed for this layout's consumers, in words: the summary prints them."""
        record = self._conventions(results)
        notes = []
        if "binary_as_palette" in record:
            count = len(record["binary_as_palette"])
            notes.append(
                f"{count} DAVIS 2016 binary (0/255) video{'s' if count != 1 else ''}: object 1 written as palette id 1, "
                f"as {self.name} loaders read it"
            )
        if "grayscale_as_palette" in record:
            count = len(record["grayscale_as_palette"])
            notes.append(
                f"{count} grayscale video{'s' if count != 1 else ''} without any object pixel written as palette PNGs: "
                "grayscale ones holding only 0 and 255 read back as DAVIS 2016 binary masks (255 as object 1)"
            )
        if "void_videos" in record:
            count, frames = len(record["void_videos"]), record["void_frames"]
            fix = "; -w void=keep keeps it" if record["void"] == "drop" else ""
            notes.append(
                f"void ({VOID_ID}) in {_frames(frames)} of {count} video{'s' if count != 1 else ''} "
                f"{_VOID_DONE[record['void']]} ({self.name} has no void){fix}"
            )
        if "not_kept" in record:
            parts = [
                _NOT_KEPT[what].format(n=n, s="s" if n != 1 else "", their="their" if n != 1 else "its")
                for what, n in record["not_kept"].items()
            ]
            notes.append(
                f"not written, as a {self.name} folder has no place for them: {', '.join(parts)} "
                "(coco, parquet and hdf5 keep them)"
            )
        renumbered = sum(
            any(int(new) != old for new, old in ids.items())
            for result in results
            for ids in result.facts.get("renumbered", {}).values()
        )
        if renumbered:
            notes.append(
                f"object ids of {renumbered} video{'s' if renumbered != 1 else ''} renumbered 1..K; "
                f"the source's ids are in {RENUMBERED}"
            )
        if "unwritten_frames" in record:
            count, left_out = len(record["unwritten_videos"]), record.get("left_out_videos", [])
            notes.append(
                f"{_frames(record['unwritten_frames'])} without an annotation file in {count} video{'s' if count != 1 else ''}"
                f" not written: without their images a {self.name} folder has no file for them"
                + (f"; left out, having no annotated frame: {', '.join(left_out)}" if left_out else "")
            )
        if "frameless_videos" in record:
            names = ", ".join(record["frameless_videos"])
            notes.append(f"left out, having no frame (a {self.name} folder knows a video by its files): {names}")
        return notes

    def _conventions(self, results: Sequence[ShardResult]) -> dict[str, object]:
        """The marker's record of what :meth:`as_written` changed: binary videos, void frames and videos."""
        changed = {name: change for result in results for name, change in result.facts.get("changed", {}).items()}
        record: dict[str, object] = {}
        binary = sorted(name for name, change in changed.items() if change.get("binary"))
        if binary:
            record["binary_as_palette"] = binary
        grayscale = sorted(name for name, change in changed.items() if change.get("grayscale"))
        if grayscale:
            record["grayscale_as_palette"] = grayscale
        void = {name: change["void_frames"] for name, change in changed.items() if change.get("void_frames")}
        if void:
            record.update(void=self.options.void, void_frames=sum(void.values()), void_videos=sorted(void))
        not_kept: dict[str, int] = dict(self._dataset_unkept)
        for change in changed.values():
            for what, count in change.get("not_kept", {}).items():
                not_kept[what] = not_kept.get(what, 0) + count
        if not_kept:
            record["not_kept"] = {what: not_kept[what] for what in _NOT_KEPT if what in not_kept}
        unwritten = {name: change["unwritten_frames"] for name, change in changed.items() if change.get("unwritten_frames")}
        if unwritten:
            record.update(unwritten_frames=sum(unwritten.values()), unwritten_videos=sorted(unwritten))
            written = self._written_names(results)  # once: per name it was quadratic in the number of videos
            left_out = sorted(name for name in unwritten if name not in written)
            if left_out:
                record["left_out_videos"] = left_out
        frameless = sorted(name for name, change in changed.items() if change.get("no_frames"))
        if frameless:  # no file to write, so no folder and no index entry
            record["frameless_videos"] = frameless
        return record

    @staticmethod
    def _written_names(results: Sequence[ShardResult]) -> set[str]:
        return {name for result in results for name in result.facts["videos"]}

    def check(self, video: Video) -> None:
        check_readable_names(video, self.name)
        renumber = getattr(self.options, "renumber", False)
        if renumber and len(video.objects) >= 255:
            raise SourceError(
                video.name, f"{len(video.objects)} objects do not fit the pixel values 1-254; {_pixel_value_fix(self.name)}"
            )
        problem = labels.pixel_value_problem(video if not renumber else labels.renumbered(video)[0])
        if problem is not None:
            where, cause = problem
            # renumbering maps the ids alone: offered only where the video has no overlap and at most 254 objects
            helps = not renumber and "overlap" not in cause and len(video.objects) < VOID_ID
            helps = helps and labels.overlapping_frame(video) is None
            hint = " (or -w renumber=true: ids 1..K, the mapping in object_ids.json)" if helps else ""
            raise SourceError(where, f"{cause}: {_pixel_value_fix(self.name)}{hint}")
        # after the masks' own problems (the more basic refusal); a reader pairs each mask with its frame's image
        if self.options.images:
            bare = next((f for f in video.frames if f.masks is not None and f.image is None), None)
            if bare is not None:
                raise SourceError(
                    f"{video.name}/{bare.file_name}",
                    f"the frame has no image, and a {self.name} folder holds an annotation only beside its frame's "
                    "image; write with images=false (--no-images), or to coco, parquet or hdf5",
                )

    def write_video(self, video: Video, made: NewEntries, image_dir: str, mask_dir: str) -> list[tuple[str, int, str]]:
        """Write the video's frames and masks into its folders ``image_dir`` and ``mask_dir`` (relative to the output),
        made new by ``made``; ``(path, bytes, sha256)`` of each file, the path relative to the staging folder.

        The checksums come from the bytes in hand, so the journal need not read the files back.
        """
        mode = labels.png_mode(video.encoding)
        palette = (video.palette or self.default_palette) if video.encoding is MaskEncoding.PALETTE else None
        label = np.zeros(video.size, np.uint8)
        written: list[tuple[str, int, str]] = []
        own: set[str] = set()  # which of its two folders the video has made

        def put(folder: str, name: str, data: bytes, where: str) -> None:
            """A folder or file already there is another video's, under a name the file system folds into this one."""
            if folder not in own:
                made.folder(folder, video.name)
                own.add(folder)
            made.file(f"{folder}/{name}", data, where)
            written.append(checksum_of(f"{OUTPUT}/{folder}/{name}", data))

        for frame in video.frames:
            where = f"{video.name}/{frame.file_name}"
            if frame.image is not None and self.options.images:
                put(image_dir, frame.file_name, imagefiles.read_bytes(frame.image), where)  # read_bytes: SourceError
            if frame.masks is not None:
                try:
                    labels.label_map(video, frame.masks, out=label, overlapping="refuse")  # overwritten whole
                except rle.MasksOverlap:
                    raise SourceError(where, _OVERLAP.format(name=self.name)) from None
                put(mask_dir, f"{frame.stem}{MASK_SUFFIX}", png.encode(label, mode, palette), where)
        return written

    def video_facts(self, video: Video, info: DatasetInfo) -> object:
        """What ``finalize`` needs to know about a written video (small and JSON-able)."""
        return None

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        root = staging / OUTPUT
        (root / self.mask_dir(info)).mkdir(parents=True, exist_ok=True)  # the layout's mark, even with no mask in it
        videos = {name: facts for result in results for name, facts in result.facts["videos"].items()}
        self.write_index(root, videos, info)
        renumbered = {name: ids for result in results for name, ids in result.facts.get("renumbered", {}).items()}
        if renumbered:
            write_json(root / RENUMBERED, renumbered)
        record = {"format": self.name, "version": __version__, "written_by": WRITTEN_BY, "attributes": dict(info.attributes)}
        read_back = set(self.categories_read_back(info, videos))
        lost = sum(1 for c in info.categories if c not in read_back)
        self._dataset_unkept = {"dataset_categories": lost} if lost else {}
        conventions = self._conventions(results)
        if conventions.get("not_kept", {}).get("merged_categories"):  # which category each such object reads back as
            conventions["merged_categories"] = {str(i): j for i, j in merged_categories(info.categories).items()}
        if conventions:  # what was changed for the layout's consumers (void dropped, 0/255 as palette id 1)
            record["conventions"] = conventions
        record.update(self.marker_facts(info, videos))
        # last, as it records every file; the attributes say how a derived set was made (converters/run/derive.py)
        write_json(root / MARKER, with_files(root, record))
        return root

    def write_index(self, root: Path, videos: dict[str, object], info: DatasetInfo) -> None:
        """Index files beside the folders (DAVIS ImageSets, YouTube-VOS meta.json); none for MOSE."""

    def marker_facts(self, info: DatasetInfo, videos: dict[str, object]) -> dict[str, object]:
        """What the marker records for the layout's reader beyond its files (:func:`.marker.recorded`)."""
        return {}

    def categories_read_back(self, info: DatasetInfo, videos: dict[str, object]) -> tuple[Category, ...]:
        """The dataset's categories as the layout's reader gives them back from what :meth:`write_index` wrote (``videos``:
        each written video's :meth:`video_facts`): the rest are lost, and the summary says so. None for MOSE."""
        return ()


def write_json(path: Path, value: object) -> None:
    """A small index file (meta.json, davis_semantics.json) beside the folders."""
    with open(path, "w") as file:
        json.dump(value, file)
        file.write("\n")
