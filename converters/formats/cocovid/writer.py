"""CocoVID: the video COCO that mmdet 3.x (ex-mmtracking) trains VIS, MOT and VOS models on.

``videos`` (``id``, ``name``, ``width``, ``height``), ``images`` (every frame, in order: ``file_name``
``<video>/<frame>``, ``height``, ``width``, ``id``, ``frame_id`` = its position in the video,
``video_id``), one ``annotations`` entry per frame and object present (``id``, ``video_id``,
``image_id``, ``category_id``, ``instance_id``, ``bbox``, ``segmentation`` as compressed RLE,
``area``, ``iscrowd``), and ``categories``: the layout of mmdet's ``youtubevis2coco.py``, which
numbers ``instance_id`` over the whole file from 1 in order of first appearance (mmdet's
``BaseVideoDataset`` takes 0 as "no instance id"). Beside those, each annotation keeps the
source's ``object_id``; each image says whether it was ``annotated`` and carries the frame's
``void`` region (RLE) where it has one, so that neither an empty frame nor DAVIS's void turns
into a category; each video says how its source stored masks and lists its objects (``vosconv``: encoding,
palette, each object's category, YouTube-VOS frame list and metadata, even one with no mask), and
the header which category stands for "none", so that the ``cocovid`` reader gives the source back.

mmdet's ``BaseVideoDataset.filter_data`` drops every frame without an annotation from its video
(and shortens ``video_length``) unless ``filter_cfg=dict(filter_empty_gt=False)``: frames with no
object are written, but mmdet does not train on them unless told to.

Streamed like the ``coco`` writer: each shard writes JSON lines without ids, and ``finalize``
numbers videos, images, instances and annotations in shard order.
"""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from ...model import DatasetInfo, ObjectInfo, Video
from ...version import __version__
from ...writer import Shard, ShardResult, Writer, unlocated_frames, unlocated_note
from ..coco.writer import DESCRIPTION, category_records, file_name, filled_supercategories, placeholder_categories


def _dumps(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class CocoVidWriter(Writer):
    """One CocoVID ``.json`` file (mmdet 3.x videos/images/annotations), one annotation per frame and object."""

    name = "cocovid"
    output_kind = "file"
    suffix = ".cocovid.json"
    finalize_reads_checksums = False

    def write_shard(self, videos: Iterable[Video], shard: Shard, staging: Path, info: DatasetInfo) -> ShardResult:
        object_category, _ = placeholder_categories(info)
        stem = f"shards/{shard.index:05d}"
        (staging / "shards").mkdir(exist_ok=True)
        counts, placeholder, unlocated = [], False, {}
        names = (f"{stem}.videos.jsonl", f"{stem}.images.jsonl", f"{stem}.annotations.jsonl")
        with contextlib.ExitStack() as stack:
            vfile, ifile, afile = (stack.enter_context(open(staging / name, "w")) for name in names)
            for position, video in enumerate(videos):
                vfile.write(_dumps(video_record(video)) + "\n")
                count = unlocated_frames(
                    video, info.image_root, lambda f, v=video: file_name(v, f, info.image_root), names_every_frame=True
                )
                if count:
                    unlocated[video.name] = count
                for frame in video.frames:
                    ifile.write(f"{position}\t{frame.index}\t{_dumps(image_record(video, frame.index, info.image_root))}\n")
                tracks, used = self._annotations(video, position, object_category.id, afile)
                placeholder |= used
                counts.append([len(video.frames), tracks])
        facts = {"videos": counts, "placeholder": placeholder, **({"unlocated": unlocated} if unlocated else {})}
        return ShardResult(shard.index, names, facts)

    def notes(self, results: Sequence[ShardResult]) -> list[str]:
        """The file names its frames: say which are not where it names them."""
        return unlocated_note(results, "parquet, hdf5 and sav keep the frames themselves")

    @staticmethod
    def _annotations(video: Video, position: int, default_category: int, out) -> tuple[int, bool]:
        """Write the video's annotations frame by frame; (the number of tracks, whether the placeholder category was used)."""
        categories = {o.object_id: o.category_id for o in video.objects}
        instances: dict[int, int] = {}  # object id -> instance number within the video, by first appearance
        size = [video.height, video.width]
        placeholder = False
        for frame in video.frames:
            if frame.masks is None:
                continue
            for mask in frame.masks.objects:
                local = instances.setdefault(mask.object_id, len(instances) + 1)
                category = categories.get(mask.object_id)
                placeholder |= category is None
                record = {
                    "category_id": default_category if category is None else category,
                    "object_id": mask.object_id,
                    "bbox": list(mask.bbox),
                    "segmentation": {"size": size, "counts": mask.counts},
                    "area": mask.area,
                    "iscrowd": 0,
                }
                if mask.values:  # the mask's per-frame values (SA-V's stability score, BURST's is_gt and score)
                    record["values"] = dict(mask.values)
                out.write(f"{position}\t{frame.index}\t{local}\t{_dumps(record)}\n")
        return len(instances), placeholder

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        object_category, _ = placeholder_categories(info)
        categories = list(info.categories) + ([object_category] if any(r.facts["placeholder"] for r in results) else [])
        header = {  # it starts as the coco writer's does: how --overwrite knows the file is vosconv's to replace
            "description": DESCRIPTION,
            "format": self.name,
            "version": __version__,
            "vosconv": {
                "source": {"format": info.source_format, "split": info.split, "attributes": dict(info.attributes)},
                "image_root": None if info.image_root is None else str(Path(info.image_root).resolve()),
                # the category given to objects whose source has none: read back as none
                "placeholder_categories": [object_category.id] if len(categories) > len(info.categories) else [],
                "filled_supercategories": filled_supercategories(info),
            },
        }
        result = staging / "result.json"
        with open(result, "w") as out:
            out.write('{"info":' + _dumps(header) + ',\n"videos":[')
            self._write_videos(out, staging, results)
            out.write('\n],\n"images":[')
            self._write_images(out, staging, results)
            out.write('\n],\n"annotations":[')
            self._write_annotations(out, staging, results)
            out.write('\n],\n"categories":' + _dumps(category_records(categories)) + "}\n")
        return result

    @staticmethod
    def _write_videos(out, staging: Path, results: Sequence[ShardResult]) -> None:
        separator, video_id = "\n", 0
        for result in results:
            with open(staging / result.files[0]) as lines:
                for line in lines:
                    video_id += 1
                    out.write(f'{separator}{{"id":{video_id},{line[1:-1]}')
                    separator = ",\n"

    @staticmethod
    def _write_images(out, staging: Path, results: Sequence[ShardResult]) -> None:
        separator = "\n"
        for first_video, first_image, _, result in _offsets(results):
            with open(staging / result.files[1]) as lines:
                for line in lines:
                    position, index, record = line.split("\t", 2)
                    image_id = first_image[int(position)] + int(index) + 1
                    video_id = first_video + int(position) + 1
                    out.write(f'{separator}{{"id":{image_id},"video_id":{video_id},"frame_id":{int(index)},{record[1:-1]}')
                    separator = ",\n"

    @staticmethod
    def _write_annotations(out, staging: Path, results: Sequence[ShardResult]) -> None:
        separator, annotation_id = "\n", 0
        for first_video, first_image, first_instance, result in _offsets(results):
            with open(staging / result.files[2]) as lines:
                for line in lines:
                    position, index, local, record = line.split("\t", 3)
                    annotation_id += 1
                    at = int(position)
                    video_id, image_id = first_video + at + 1, first_image[at] + int(index) + 1
                    instance_id = first_instance[at] + int(local)
                    head = f'"id":{annotation_id},"video_id":{video_id},"image_id":{image_id},"instance_id":{instance_id}'
                    out.write(f"{separator}{{{head},{record[1:-1]}")
                    separator = ",\n"


def _offsets(results: Sequence[ShardResult]):
    """Per shard: (videos before it, images before each of its videos, instances before each of its videos, the shard)."""
    videos = images = instances = 0
    for result in results:
        first_image, first_instance = [], []
        for frames, tracks in result.facts["videos"]:
            first_image.append(images)
            first_instance.append(instances)
            images += frames
            instances += tracks
        yield videos, first_image, first_instance, result
        videos += len(result.facts["videos"])


def video_record(video: Video) -> dict:
    """The ``videos[]`` entry, without its ``id``; ``vosconv`` holds what the ``cocovid`` reader needs to give the video back."""
    palette = base64.b64encode(video.palette).decode("ascii") if video.palette is not None else None
    record = {
        "name": video.name,
        "width": video.width,
        "height": video.height,
        "vosconv": {"encoding": video.encoding.value, "palette": palette, "objects": [_object_record(o) for o in video.objects]},
    }
    if video.metadata:  # SA-V's and BURST's per-video fields, as in the coco file
        record["metadata"] = dict(video.metadata)
    return record


def _object_record(obj: ObjectInfo) -> dict:
    """What annotations cannot say of an object: its category when it has no mask, YouTube-VOS's frame list, metadata."""
    record: dict = {"object_id": obj.object_id, "category_id": obj.category_id}
    if obj.frames is not None:
        record["frames"] = list(obj.frames)
    if obj.metadata:
        record["metadata"] = dict(obj.metadata)
    return record


def image_record(video: Video, index: int, image_root: str | None = None) -> dict:
    """The ``images[]`` entry of one frame, without its ids; ``file_name`` as the coco writer's (where the image is)."""
    frame = video.frames[index]
    record = {
        "file_name": file_name(video, frame, image_root),
        "height": video.height,
        "width": video.width,
        "annotated": frame.masks is not None,
    }
    if frame.masks is not None and frame.masks.void is not None:
        record["void"] = {"size": [video.height, video.width], "counts": frame.masks.void.counts}
    return record
