"""BURST's JSON from any source: ``sequences`` plus the top-level fields the source had (``split``, ``categories``).

A video becomes a sequence: ``all_image_paths`` its frames, ``annotated_image_paths`` its annotated
ones, ``track_category_ids`` its objects (track id = object id, as a string; ``null`` for an object
without a category), ``segmentations`` one ``{track id: {"rle": counts, ...}}`` per annotated frame
holding only the objects present (BURST's scorer counts an encoded null mask against you). Each
entry's other fields are the mask's per-frame values (``is_gt``, ``score``, ``bbox``, ... where the
source had them), and the sequence's other fields its metadata. From a source that is not BURST:
``dataset`` is empty and ``seq_name`` the video's name (``<images>/<seq_name>/`` then holds its
frames), ``id`` numbers the videos after the largest id given (the file's record says which: the reader
takes them for no metadata), the category lists are empty, and
``fps`` is left out (no source says it). What BURST cannot say (a void region, the PNGs' encoding and
palette, object frame lists and metadata) goes in a ``vosconv`` record in the sequence, only where
there is some: BURST's tools read named fields and pass over it. The file starts with vosconv's own
record (``vosconv``: where the frames were, and the source's dataset attributes), which BURST's tools
ignore and vosconv reads back.

Streamed like the COCO writer: each shard writes one sequence per line, and ``finalize`` joins them.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ...errors import SourceError
from ...model import DatasetInfo, MaskEncoding, Video
from ...version import __version__
from ...writer import Shard, ShardResult, Writer, unlocated_frames, unlocated_note
from . import spec

#: The start of a sequence line whose ``id`` ``finalize`` fills in (width and height come first).
_UNNUMBERED = re.compile(rb'\{"width":\d+,"height":\d+,"id":null,')


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _check_sequence_folder(video: Video) -> None:
    """The ``dataset`` and ``seq_name`` a video's metadata gives (a COCO file's may) name its frames' folder,
    ``<images>/<dataset>/<seq_name>/``, and its name read back, ``<dataset>__<seq_name>``: neither may lead out of the
    images folder, and the name must be the video's."""
    fields = dict(spec.restored_value(key, value) for key, value in video.metadata)  # as sequence_record fills them
    dataset, seq_name = fields.get("dataset", ""), fields.get("seq_name", video.name)
    for key, part in (("dataset", dataset), ("seq_name", seq_name)):
        if not isinstance(part, str):
            raise SourceError(video.name, f"its metadata's {key} {part!r} is not text, as a BURST sequence's must be")
        fault = spec.folder_name_fault(key, part)
        if fault is not None:
            raise SourceError(video.name, f"its metadata's {key} {fault}")
    if spec.video_name(dataset, seq_name) != video.name:
        raise SourceError(
            video.name,
            f"its metadata's dataset {dataset!r} and seq_name {seq_name!r} would be read back as video "
            f"{spec.video_name(dataset, seq_name)!r}",
        )


def sequence_record(video: Video) -> dict[str, Any]:
    """The sequence of one video, fields in BURST's documented order (its metadata's other fields after them)."""
    fields = dict(spec.restored_value(key, value) for key, value in video.metadata)
    annotated = [f for f in video.frames if f.masks is not None]
    own = {
        "width": video.width,
        "height": video.height,
        "id": fields.get("id"),
        "seq_name": fields.get("seq_name", video.name),
        "dataset": fields.get("dataset", ""),
        "all_image_paths": [f.file_name for f in video.frames],
        "annotated_image_paths": [f.file_name for f in annotated],
        "track_category_ids": {str(o.object_id): o.category_id for o in video.objects},
        "segmentations": [
            {str(m.object_id): {"rle": m.counts, **dict(spec.restored_value(k, v) for k, v in m.values)} for m in f.masks.objects}
            for f in annotated
        ],
    }
    record: dict[str, Any] = {}
    for key in spec.FIELD_ORDER:
        if key in own:
            record[key] = own[key]
        elif key in fields:
            record[key] = fields[key]
        elif key in spec.REQUIRED_DEFAULTS:
            record[key] = spec.REQUIRED_DEFAULTS[key]
    record.update((key, value) for key, value in fields.items() if key not in record)
    kept = vosconv_record(video)
    if kept:
        record[spec.VOSCONV_KEY] = kept
    return record


def vosconv_record(video: Video) -> dict[str, Any]:
    """What BURST cannot say and vosconv reads back (empty for a BURST source, so its files stay BURST's own):
    the mask encoding and palette, the void region of each frame, object frame lists and metadata."""
    record: dict[str, Any] = {}
    if video.encoding is not MaskEncoding.PALETTE:
        record["encoding"] = video.encoding.value
    if video.palette is not None:
        record["palette"] = base64.b64encode(video.palette).decode("ascii")
    void = [[f.index, f.masks.void.counts] for f in video.frames if f.masks is not None and f.masks.void is not None]
    if void:
        record["void"] = void
    objects = {
        str(o.object_id): {
            **({"frames": list(o.frames)} if o.frames is not None else {}),
            **({"metadata": dict(o.metadata)} if o.metadata else {}),
        }
        for o in video.objects
        if o.frames is not None or o.metadata
    }
    if objects:
        record["objects"] = objects
    return record


def header_fields(info: DatasetInfo) -> dict[str, Any]:
    """The top-level fields other than ``sequences``: the source's as they were, else ``split`` and ``categories``
    (``burstapi.BURSTDataset`` needs both) from what the source said."""
    kept = info.attribute(spec.HEADER_ATTRIBUTE)
    fields = _kept_header(kept) if kept else {}
    fields.setdefault("split", info.split)
    fields.setdefault(
        "categories",
        [
            {"id": c.id, "name": c.name, **({"supercategory": c.supercategory} if c.supercategory is not None else {})}
            for c in info.categories
        ],
    )
    return fields


def _kept_header(text: str) -> dict[str, Any]:
    """The source's top-level fields, kept as the ``burst_header`` attribute: any file may carry one (a COCO
    JSON someone edited), so it must be a JSON object without the keys the writer writes itself."""
    where = f"<the source's {spec.HEADER_ATTRIBUTE}>"
    try:
        fields = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise SourceError(where, f"not JSON ({exc})") from None
    if not isinstance(fields, dict):
        raise SourceError(where, f"expected a JSON object of BURST's top-level fields, got {type(fields).__name__}")
    for key in ("sequences", spec.VOSCONV_KEY):
        if key in fields:
            raise SourceError(where, f"holds {key!r}, which the burst writer writes itself")
    return fields


def _restored(where: str, key: str, value: Any) -> str:
    """The field name of a metadata or value pair; SourceError when its ``<key>:json`` value is not JSON."""
    try:
        return spec.restored_value(key, value)[0]
    except (ValueError, RecursionError) as exc:
        raise SourceError(where, f"{key}: not JSON ({exc})") from None


class BurstWriter(Writer):
    """One BURST JSON: ``sequences`` with each track's RLE per annotated frame, ``split`` and ``categories``."""

    name = "burst"
    output_kind = "file"
    suffix = ".burst.json"
    finalize_reads_checksums = False

    @classmethod
    def owns(cls, path: Path) -> bool:
        """A regular file (never a link) that starts with this writer's record."""
        if path.is_symlink() or not path.is_file():
            return False
        try:
            with open(path, "rb") as file:
                return file.read(len(spec.FILE_HEAD)) == spec.FILE_HEAD
        except OSError:
            return False

    def check(self, video: Video) -> None:
        """A sequence has one place per field: a video field BURST fills from the frames and masks (``segmentations``,
        ...) or a mask value named ``rle`` would be lost, and a ``<key>:json`` value must be JSON (any file may carry
        one: a COCO JSON someone edited), so such a video is refused."""
        reserved = {*spec.MODEL_FIELDS, spec.VOSCONV_KEY}
        for key, value in video.metadata:
            field = _restored(video.name, key, value)
            if field in reserved:
                raise SourceError(video.name, f"its metadata field {field!r} is one the burst writer fills from the video itself")
        _check_sequence_folder(video)  # its metadata's JSON values restored above
        for frame in video.frames:
            for mask in frame.masks.objects if frame.masks is not None else ():
                for key, value in mask.values:
                    if _restored(f"{video.name}/{frame.file_name}", key, value) == "rle":
                        raise SourceError(f"{video.name}/{frame.file_name}", f"object {mask.object_id} has a value named 'rle'")

    def write_shard(self, videos: Iterable[Video], shard: Shard, staging: Path, info: DatasetInfo) -> ShardResult:
        header_fields(info)  # a bad kept header is refused before any sequence is written
        name = f"shards/{shard.index:05d}.jsonl"
        (staging / "shards").mkdir(exist_ok=True)
        ids: list[int] = []
        numbered = 0
        unlocated: dict[str, int] = {}
        with open(staging / name, "w", encoding="utf-8") as file:
            for video in videos:
                record = sequence_record(video)
                if type(record["id"]) is int:
                    ids.append(record["id"])
                elif record["id"] is None:
                    numbered += 1
                file.write(_dumps(record) + "\n")
                folder = "/".join(str(part) for part in (record["dataset"], record["seq_name"]) if part)
                count = unlocated_frames(
                    video, info.image_root, lambda f, folder=folder: f"{folder}/{f.file_name}", names_every_frame=True
                )
                if count:
                    unlocated[video.name] = count
        facts = {"largest_id": max(ids, default=0), "numbered": numbered, **({"unlocated": unlocated} if unlocated else {})}
        return ShardResult(shard.index, (name,), facts)

    def notes(self, results: Sequence[ShardResult]) -> list[str]:
        """The file names its frames (``<images>/<dataset>/<seq_name>/``): say which are not there."""
        return unlocated_note(results, "parquet, hdf5 and sav keep the frames themselves")

    def finalize(self, results: Sequence[ShardResult], info: DatasetInfo, staging: Path, output: Path) -> Path:
        next_id = max((r.facts["largest_id"] for r in results), default=0) + 1
        numbered = sum(r.facts.get("numbered", 0) for r in results)  # 0 in an earlier version's journal
        facts: dict[str, Any] = {
            "written_by": f"vosconv {__version__}",
            "image_root": None if info.image_root is None else str(Path(info.image_root).resolve()),
        }
        if numbered:  # ids the source did not give: the reader takes them for vosconv's, not the source's metadata
            facts[spec.NUMBERED_KEY] = [next_id, next_id + numbered - 1]
        attributes = {key: value for key, value in info.attributes if key != spec.HEADER_ATTRIBUTE}
        if attributes:  # the source's own (DAVIS split lists, a derived set's record): BURST has no field for them
            facts["attributes"] = attributes
        head = "{" + f'"{spec.VOSCONV_KEY}":{_dumps(facts)}'
        head += "".join(f",{_dumps(key)}:{_dumps(value)}" for key, value in header_fields(info).items())
        result = staging / "result.json"
        with open(result, "wb") as out:
            out.write(head.encode("utf-8") + b',\n"sequences":[')
            first = True
            for shard in sorted(results, key=lambda r: r.index):
                with open(staging / shard.files[0], "rb") as lines:
                    for line in lines:
                        line = line.rstrip(b"\n")
                        match = _UNNUMBERED.match(line)
                        if match:
                            line = match.group(0)[: -len(b"null,")] + b"%d," % next_id + line[match.end() :]
                            next_id += 1
                        out.write((b"\n" if first else b",\n") + line)
                        first = False
            out.write(b"\n]}\n")
        return result
