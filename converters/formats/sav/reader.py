"""SA-V, SAM 2's dataset: a train folder (mp4 + masklet JSON) or a val/test split folder (JPEG + per-object PNGs).

Train frames are decoded from the mp4 with PyAV when a writer reads them (never all at once),
by default only the annotated ones, named by their 24 fps index as SAM 2's extraction names
them (``00000.jpg``, ``00004.jpg``, ...); ``frames=all`` keeps every frame. Object ids are the
JSON's ``masklet_id`` as given (SA-V counts from 0), or the objects' positions, as SAM 2 reads
them, where those ids are not unique and increasing (``-r masklets=both`` written back); the
masklet fields travel as object metadata, and auto masklets' stability scores as each mask's
per-frame value.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ...codecs import video as videos
from ...errors import OptionError, SourceError
from ...model import (
    Category,
    DatasetInfo,
    Frame,
    FrameMasks,
    ImageRef,
    Mask,
    ObjectInfo,
    Video,
    check_text,
)
from ...reader import Detection, Reader, VideoRef
from ...sources import imagefiles
from ...sources.entry import archive_kind
from ..folders.entries import frame_files
from . import files, spec, splitfiles
from .files import SavVideoRef
from .masklets import Masklets, objects_and_masks, parse_masklets


@dataclass(frozen=True)
class SavOptions:
    masklets: Literal["manual", "auto", "both"] = "manual"  # both: the auto objects after the manual ones, renumbered
    frames: Literal["annotated", "all"] = "annotated"  # all: every 24 fps frame of the mp4 (annotated ones every 4th)
    quality: int = 95  # JPEG quality of frames decoded from an mp4 (cv2.imwrite's default)

    def __post_init__(self) -> None:
        if not 1 <= self.quality <= 100:
            raise ValueError(f"quality must be 1..100, got {self.quality}")


class SavReader(Reader):
    """Reads SA-V: a train folder (mp4 + ``_manual.json``/``_auto.json``) or a val/test folder (JPEG + per-object PNG)."""

    name = "sav"
    Options = SavOptions

    @classmethod
    def sniff(cls, source: Path) -> Detection:
        if source.is_file():
            if spec.TRAIN_JSON.fullmatch(source.name) and files.looks_like_masklets(source):
                return Detection(20, "an SA-V masklet file (its frames from the mp4 beside it, if there)")
            return Detection(0, "not an SA-V folder or masklet file")
        if files.is_split_folder(source):
            return Detection(20, f"SA-V val/test: {spec.IMAGES}/ and {spec.ANNOTATIONS}/")
        half = [n for n in (spec.IMAGES, spec.ANNOTATIONS) if (source / n).is_dir()]
        if half:
            other = ({spec.IMAGES, spec.ANNOTATIONS} - set(half)).pop()
            return Detection(0, f"{half[0]}/ without {other}/", near=5)
        alone: list[str] = []  # masklet files whose videos are elsewhere (or not downloaded): said if no shard has any
        for folder in files.train_folders(source):
            names = set(os.listdir(folder))
            paired = [n for n in sorted(names) if n.endswith(".mp4") and f"{n[:-4]}_manual.json" in names]
            if paired:
                where = "" if folder == source else f" in {folder.name}/"
                return Detection(20, f"SA-V train: {paired[0]} with {paired[0][:-4]}_manual.json{where}")
            alone = alone or sorted(n for n in names if n.endswith("_manual.json") and not n.startswith("."))
        if alone:  # their masks read one file at a time
            return Detection(0, f"{alone[0]} without its mp4: name that JSON as the source to read its masks alone", near=5)
        return Detection(0, f"no mp4 with its _manual.json, nor {spec.IMAGES}/ and {spec.ANNOTATIONS}/")

    @property
    def is_train(self) -> bool:
        return not files.is_split_folder(self.source)

    def missing_images(self) -> str | None:
        """Masks without frames (a masklet file named alone; a val/test folder written with images=false): a writer
        that embeds images refuses, where it would store every frame without one."""
        if self.is_train:
            stem = files.train_stem(self.source.name) if self.source.is_file() else None  # a misnamed file: listing says
            if stem is None or os.path.lexists(self.source.parent / f"{stem}.mp4"):  # read with it (a bad one is named then)
                return None
            return f"it is a masklet file alone (no {stem}.mp4 beside it holds its frames)"
        images = self.source / spec.IMAGES
        return None if images.is_dir() else f"it holds masks only (there is no {images})"

    def _sidecar(self, name: str) -> dict | None:
        """vosconv's own record beside a val/test layout it wrote, or None (SA-V's own files have none)."""
        path = self.source / spec.SIDECAR / f"{name}.json"
        if not path.is_file():
            return None
        try:
            with open(path, encoding="utf-8") as file:
                value = json.load(file)
        except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nesting too deep
            raise SourceError(path, f"unreadable vosconv record: {exc}") from None
        if not isinstance(value, dict):
            raise SourceError(path, "a vosconv record is a JSON object")
        return value

    def info(self) -> DatasetInfo:
        if self.is_train:
            return DatasetInfo("sav", split="train", attributes=(("frames", self.options.frames),))
        record = self._sidecar(spec.DATASET_RECORD) or {}
        lists = [n for n in files.listdir(self.source) if spec.VIDEO_LIST.fullmatch(n)]
        try:
            listed = spec.VIDEO_LIST.fullmatch(lists[0]).group(1) if lists else None
            split = record.get("split", listed)  # the source's, none too (the list is named val)
            if split is not None and not isinstance(split, str):  # it names the shards of a Parquet output
                raise TypeError(f"split is {split!r}, not a string")
            attributes = dict(record.get("attributes") or {})
            for text in (split, *attributes, *attributes.values()):
                check_text("the record's text", text)  # every writer stores them as UTF-8
            categories = tuple(
                Category(int(c["id"]), str(c["name"]), c.get("supercategory")) for c in record.get("categories", ())
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise SourceError(
                self.source / spec.SIDECAR / f"{spec.DATASET_RECORD}.json", f"not a vosconv record: {exc!r}"
            ) from None
        foreground = self._first_foreground()
        if foreground is not None:
            attributes["foreground"] = str(foreground)
        return DatasetInfo(
            "sav",
            split=split,
            categories=categories,
            image_root=str(self.source / spec.IMAGES),
            attributes=tuple(sorted((str(k), str(v)) for k, v in attributes.items())),
        )

    def _first_foreground(self) -> int | None:
        """The foreground value of the first PNG that shows an object (SAM 2 writes 0/1, SA-V's val files 0/255):
        written back the same. All-zero PNGs (an object absent from a frame) say nothing and are passed over."""
        root = self.source / spec.ANNOTATIONS
        for video in files.listdir(root):
            try:
                size = self._video_size(video)
            except SourceError:  # reading that video says so
                continue
            for obj in files.listdir(root / video) if (root / video).is_dir() else ():
                for name in files.listdir(root / video / obj) if (root / video / obj).is_dir() else ():
                    if name.endswith(".png"):
                        try:  # a mask its frames' size, checked from its header: never inflated when it is not
                            label, _ = splitfiles.decode_png(root / video / obj / name, size)
                        except SourceError:  # reading its video says so, and --on-error skip skips that video alone
                            continue
                        foreground = int(label.max()) if label.size else 0
                        if foreground:
                            return foreground
        return None

    def _video_size(self, video: str) -> tuple[int, int] | None:
        """``(height, width)`` of a val/test video: vosconv's record's, else its first frame file's; None when neither."""
        record = self._sidecar(video)
        if record is not None:
            try:
                return int(record["height"]), int(record["width"])
            except (KeyError, TypeError, ValueError) as exc:
                raise SourceError(self.source / spec.SIDECAR / f"{video}.json", f"not a vosconv record: {exc!r}") from None
        frames = self.source / spec.IMAGES / video
        names = [n for n in files.listdir(frames) if n.lower().endswith((".jpg", ".jpeg"))] if frames.is_dir() else []
        if not names:
            return None
        width, height = imagefiles.probe_image(str(frames / names[0]))
        return height, width

    def check_integrity(self) -> list[SourceError]:
        """Beyond the archive checks: each train mp4 holds as many frames as its header counts (its packets counted,
        nothing decoded). A conversion reads the header alone and finds a file cut short only in the writer."""
        errors = super().check_integrity()
        for ref in self.list_videos() if self.is_train else ():
            if ref.mp4 is None:
                continue
            try:
                counted, held = videos.held_frames(ref.mp4)
            except SourceError:  # unreadable: reading the video says so
                continue
            if held < counted:
                errors.append(SourceError(ref.mp4, f"the file holds {held} frames; its header counts {counted} (cut short?)"))
        return errors

    def roots(self) -> list[Path]:
        return [self.source] if self.is_train else [self.source, self.source / spec.IMAGES, self.source / spec.ANNOTATIONS]

    def list_videos(self) -> list[VideoRef]:
        return self._train_refs() if self.is_train else self._split_refs()

    def _train_refs(self) -> list[VideoRef]:
        if self.source.is_file():  # one masklet file: the video beside it, if there
            named = spec.TRAIN_JSON.fullmatch(self.source.name)
            if named is None:
                if archive_kind(self.source):
                    raise SourceError(
                        self.source, "SA-V is read from its folders or a masklet file, not from an archive: extract it first"
                    )
                raise SourceError(self.source, "an SA-V masklet file is named <video>_manual.json or <video>_auto.json")
            if named.group(2) == "manual" and self.options.masklets == "auto":  # never the manual masks when auto were asked
                raise OptionError(
                    "-r masklets",
                    f"auto asked for, but the source is the manual file {self.source.name}: name "
                    f"{named.group(1)}_auto.json as the source (or -r masklets=both for both)",
                )
            return [files.train_ref(self.source.parent, named.group(1), set(files.listdir(self.source.parent)))]
        folders = files.train_folders(self.source)
        if not folders:  # never an empty output from a folder that is no SA-V at all
            raise SourceError(self.source, f"not an SA-V folder: {self.sniff(self.source).reason}")
        refs: dict[str, SavVideoRef] = {}
        for folder in folders:
            names = set(files.listdir(folder))
            for stem in sorted({files.train_stem(n) for n in names} - {None}):  # a masklet file without its mp4 too
                ref = files.train_ref(folder, stem, names)
                if stem in refs:
                    earlier = Path(files.train_file(refs[stem])).parent
                    raise SourceError(files.train_file(ref), f"video {stem} is also in {earlier}")
                refs[stem] = ref
        return [refs[name] for name in sorted(refs)]

    def _split_refs(self) -> list[VideoRef]:
        images, annotations = self.source / spec.IMAGES, self.source / spec.ANNOTATIONS
        lists = [n for n in files.listdir(self.source) if spec.VIDEO_LIST.fullmatch(n)]
        if lists:
            names = sorted(splitfiles.listed_names(self.source / lists[0]))
        else:
            names = sorted(n for n in files.listdir(images) if (images / n).is_dir())
        refs = []
        for name in names:  # a video without its frame folder is an error of its own, when it is read (--on-error)
            folder = images / name
            try:
                size = sum(e.stat().st_size for e in os.scandir(folder) if e.is_file())
            except OSError:
                size = 0
            refs.append(SavVideoRef(name, size, f"{name}:{size}", images=str(folder), annotations=str(annotations / name)))
        return refs

    def read_video(self, ref: SavVideoRef) -> Video:
        return self._read_split(ref) if ref.images is not None else self._read_train(ref)

    # ------------------------------------------------------------------ train

    def _masklets(self) -> str:
        """``-r masklets``; but a masklet file named as the source is the one read (and its sibling, with ``both``)."""
        named = spec.TRAIN_JSON.fullmatch(self.source.name) if self.source.is_file() else None
        return named.group(2) if named and self.options.masklets != "both" else self.options.masklets

    def _read_train(self, ref: SavVideoRef) -> Video:
        if ref.mp4 is None and not self.source.is_file():  # never a video without its frames in silence
            raise SourceError(
                files.train_file(ref),
                f"no {ref.name}.mp4 beside it: the video's frames are missing (name the file to read its masks alone)",
            )
        masklets = self._masklets()
        wanted = {"manual": [ref.manual], "auto": [ref.auto], "both": [ref.manual, ref.auto]}[masklets]
        kinds = {"manual": ["manual"], "auto": ["auto"], "both": ["manual", "auto"]}[masklets]
        where = files.train_file(ref)
        if ref.manual is None and "manual" in kinds:
            raise SourceError(where, f"no {ref.name}_manual.json beside it (-r masklets=auto reads the auto one)")
        if ref.auto is None and kinds == ["auto"]:
            raise SourceError(where, f"no {ref.name}_auto.json beside it (-r masklets=manual reads the manual one)")
        if ref.auto is None and "auto" in kinds:  # never manual alone in silence: its objects would mean something else
            raise SourceError(
                where,
                f"no {ref.name}_auto.json beside it for -r masklets=both (SA-V has none for some videos): "
                "--on-error skip leaves such videos out and lists them, -r masklets=manual reads the manual masklets alone",
            )
        parsed = [parse_masklets(path) for path in wanted if path is not None]
        first_path, first = wanted[0], parsed[0]
        for path, other in zip(wanted[1:], parsed[1:]):
            if (other.frames, other.height, other.width) != (first.frames, first.height, first.width):
                raise SourceError(
                    path,
                    f"its video is {other.width}x{other.height}, {other.frames} frames; {first_path} says "
                    f"{first.width}x{first.height}, {first.frames} frames",
                )
        objects, per_frame = objects_and_masks(parsed)
        if ref.mp4 is None:  # a masklet file alone: masks without frames
            return self._train_video(ref, first, objects, per_frame)
        facts = videos.probe(ref.mp4)
        if (facts.width, facts.height) != (first.width, first.height):
            raise SourceError(
                ref.mp4, f"the video is {facts.width}x{facts.height}; {first_path} says {first.width}x{first.height}"
            )
        if facts.frames < first.frames:
            raise SourceError(ref.mp4, f"the video has {facts.frames} frames; {first_path} says {first.frames}")
        return self._train_video(ref, first, objects, per_frame)

    def _train_video(self, ref: SavVideoRef, first: Masklets, objects: list[ObjectInfo], per_frame: list[list[Mask]]) -> Video:
        quality = self.options.quality
        numbers = range(first.frames) if self.options.frames == "all" else range(0, first.frames, spec.ANNOTATE_EVERY)
        frames = []
        for position, number in enumerate(numbers):
            annotated = number % spec.ANNOTATE_EVERY == 0
            masks = FrameMasks(tuple(per_frame[number // spec.ANNOTATE_EVERY])) if annotated else None
            image = None if ref.mp4 is None else ImageRef(path=ref.mp4, frame=number, quality=quality)
            frames.append(Frame(position, spec.frame_name(number), image, masks))
        try:
            return Video(ref.name, first.width, first.height, tuple(frames), tuple(objects), metadata=first.video_fields)
        except ValueError as exc:
            raise SourceError(files.train_file(ref), str(exc)) from None

    # ------------------------------------------------------------------ val / test

    def _read_split(self, ref: SavVideoRef) -> Video:
        record = self._sidecar(ref.name)
        if record is None and not Path(ref.images).is_dir():
            raise SourceError(ref.images, f"video {ref.name} of the video list has no frame folder")
        if record is not None and isinstance(record.get("frames"), list):
            names = [str(n) for n in record["frames"]]
        else:  # numbered as SAM 2 reads them (int(stem)), each number once, as the folder layouts are
            names = [entry.name for entry in frame_files(ref.images, (".jpg", ".jpeg"))]
        shown = splitfiles.frame_size(ref.images, names, record)
        try:
            size = shown if record is None else (int(record["height"]), int(record["width"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise SourceError(self.source / spec.SIDECAR / f"{ref.name}.json", f"not a vosconv record: {exc!r}") from None
        if shown is not None and shown != size:
            raise SourceError(ref.images, f"frames are {shown[1]}x{shown[0]}; vosconv's record says {size[1]}x{size[0]}")
        per_frame, object_ids, size = splitfiles.object_masks(Path(ref.annotations), ref.images, names, size)
        if size is None:
            raise SourceError(ref.images, "no frames and no masks: the video's size is unknown")
        if record is not None:
            splitfiles.check_annotated(record, per_frame, len(names), self.source / spec.SIDECAR / f"{ref.name}.json")
        return splitfiles.split_video(ref, names, per_frame, object_ids, size, record)
