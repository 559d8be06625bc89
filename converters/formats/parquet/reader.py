"""vosconv's Parquet output back to the intermediate form, exactly.

``list_videos`` reads each shard's footer (the ``vosconv`` key-value metadata locates every
video's rows and row groups); ``read_video`` reads only that video's row groups through a
``ParquetFile`` kept open per process. Embedded JPEGs come back as bytes; frames written
with ``images=false`` point into the recorded image root (or the ``images`` option) when
that folder exists, else have no image.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ...codecs import rle
from ...errors import SourceError
from ...model import VOID_ID, Frame, FrameMasks, ImageRef, Video
from ...reader import VideoRef
from ...records import Record
from ...sources.files import check_regular, join_inside
from ..sharded import manifest as shards
from ..sharded.objects import with_frame_values
from ..sharded.reader import ShardedReader
from .spec import METADATA_CRC_KEY, METADATA_KEY

if TYPE_CHECKING:  # pyarrow is imported when a shard is opened: detecting another format costs no pyarrow import
    import pyarrow.parquet as pq


@dataclass(frozen=True)
class ParquetVideoRef(VideoRef):
    """The shard file, and the video's rows and row groups in it (``[start, stop)``)."""

    file: str = ""
    rows: tuple[int, int] = (0, 0)
    row_groups: tuple[int, int] = (0, 0)
    entry: shards.VideoEntry | None = None  # what the manifest says of the video, checked on reading

    def files(self) -> tuple[str, ...]:
        return (self.file,)


@dataclass(frozen=True)
class ParquetShard:
    """An open shard: the file, its per-video records (from the footer) by video name, and where row groups start."""

    path: str
    file: pq.ParquetFile
    videos: dict[str, dict]  # the footer record of each video (checked as it is read: see build_video)
    group_starts: list[int]  # the first row of each row group, then the row count

    def rows_of_groups(self, first: int, stop: int) -> tuple[int, int]:
        """The rows ``[start, stop)`` that row groups ``first..stop`` hold; ValueError for groups the file lacks."""
        if not 0 <= first <= stop < len(self.group_starts):
            raise ValueError(f"row groups {first}..{stop} of {len(self.group_starts) - 1}")
        return self.group_starts[first], self.group_starts[stop]

    def close(self) -> None:
        self.file.close()


def open_shard(path: str) -> ParquetShard:
    """Open a shard and parse its footer; SourceError names the file when it is missing or corrupt."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_regular(path)  # pyarrow would wait on a pipe for a writer
    try:
        # pre-buffering coalesces reads for object stores; on local files it doubles the cost of a random read
        # page CRCs (the writer stores them) catch a damaged page, JPEG bytes included; older files have none
        file = pq.ParquetFile(path, pre_buffer=False, page_checksum_verification=True)
        keys = file.metadata.metadata or {}
        raw, crc = keys.get(METADATA_KEY), keys.get(METADATA_CRC_KEY)
        if raw is None:
            raise SourceError(path, "no vosconv metadata in the footer: not a vosconv Parquet shard")
        if crc is not None and crc != str(zlib.crc32(raw)).encode():
            raise SourceError(path, "the footer's vosconv metadata fails its CRC-32: a damaged footer")
        footer = Record(json.loads(raw), path, context="malformed vosconv metadata")
        videos = {video.text("name"): video.value for video in footer.records("videos")}
        starts = [0]
        for group in range(file.metadata.num_row_groups):
            starts.append(starts[-1] + file.metadata.row_group(group).num_rows)
    except SourceError:
        raise
    except FileNotFoundError:
        raise SourceError(path, "shard file missing") from None
    except (OSError, pa.ArrowException) as exc:
        raise SourceError(path, f"cannot read Parquet shard: {exc}") from None
    except (ValueError, RecursionError) as exc:  # not JSON, or nested too deep to parse
        raise SourceError(path, f"malformed vosconv metadata ({type(exc).__name__}: {exc})") from None
    return ParquetShard(path, file, videos, starts)


class ParquetReader(ShardedReader):
    """Reads a folder written by the ``parquet`` writer."""

    name = "parquet"
    open_shard = staticmethod(open_shard)

    def held_videos(self, path: str) -> list[str]:
        return list(self._shards.get(path).videos)

    def shard_video(self, shard: shards.ShardEntry, name: str, entry: shards.VideoEntry | None) -> ParquetVideoRef:
        """The video's rows and row groups from the footer, which must agree: the reader reads the
        groups, the training loader the rows, so a footer whose two disagree would load another video."""
        opened = self._shards.get(str(self.source / shard.file))
        record = opened.videos.get(name)
        if record is None:
            raise SourceError(opened.path, f"video {name!r} listed in the manifest is not in the shard")
        record = Record(record, opened.path, context=f"video {name!r}: malformed footer record")
        first, stop = _span(record, "row_groups")
        rows = _span(record, "rows")
        try:
            spanned = opened.rows_of_groups(first, stop)
        except ValueError as exc:
            record.fail(f"{exc}", "row_groups")
        if rows != spanned:
            record.fail(f"{list(rows)} are not the rows of its row groups {first}..{stop}, {list(spanned)}", "rows")
        nbytes = sum(opened.file.metadata.row_group(i).total_byte_size for i in range(first, stop))
        return ParquetVideoRef(name, nbytes, shards.shard_stamp(self.source, shard), opened.path, rows, (first, stop), entry)

    def read_video(self, ref: ParquetVideoRef) -> Video:
        import pyarrow as pa

        shard = self._shards.get(ref.file)
        try:
            table = shard.file.read_row_groups(list(range(*ref.row_groups)))
        except (OSError, pa.ArrowException) as exc:
            raise SourceError(ref.file, f"cannot read video {ref.name!r}: {exc}") from None
        try:
            record = Record(shard.videos[ref.name], ref.file, context=f"video {ref.name!r}: malformed footer record")
            rows = [
                Record(row, ref.file, f"row {i}", f"video {ref.name!r}: malformed rows")
                for i, row in enumerate(table.to_pylist())
            ]
            video = build_video(record, rows, self._image_dir())
            shards.check_against_entry(video, ref.entry)
            return video
        except ValueError as exc:  # what the RLE checks, the model or the manifest's check refuse
            raise SourceError(ref.file, f"video {ref.name!r}: malformed rows ({type(exc).__name__}: {exc})") from None


def _span(record: Record, key: str) -> tuple[int, int]:
    """``[start, stop)`` of a footer record."""
    span = record.ints(key)
    if len(span) != 2:
        record.fail(f"expected [start, stop], got {span}", key)
    return span[0], span[1]


def build_video(record: Record, rows: list[Record], images: str | None) -> Video:
    """A Video from its footer record and its rows (in frame order)."""
    objects, encoding, palette = shards.parse_video_record(record)
    name, count = record.text("name"), record.int("frames")
    if len(rows) != count or any(r.text("video") != name or r.int("frame_index") != i for i, r in enumerate(rows)):
        raise ValueError(f"the rows are not frames 0..{count - 1} of the video")
    width, height = record.int("width"), record.int("height")
    frames = tuple(Frame(i, row.text("file_name"), _image(row, images), _masks(row, height, width)) for i, row in enumerate(rows))
    video = Video(name, width, height, frames, objects, encoding, palette, shards.video_metadata(record))
    return with_frame_values(video, record)


def _image(row: Record, images: str | None) -> ImageRef | None:
    cell = row.raw("image")
    if cell is None:
        return None
    image = row.record("image")
    data = image.raw("bytes")
    if data is not None:
        if not isinstance(data, bytes):
            image.fail(f"expected bytes, got {type(data).__name__}", "bytes")
        return ImageRef(data=data)
    return ImageRef(path=join_inside(images, image.text("path"))) if images else None


def _masks(row: Record, height: int, width: int) -> FrameMasks | None:
    if not row.bool("annotated"):
        return None
    objects, void = [], None
    for o in row.each(row.list("objects", nullable=True) or (), "objects"):
        mask = rle.checked_mask(o.int("object_id"), o.text("counts"), o.int("area"), tuple(o.ints("bbox")), height, width)
        if o.raw("iscrowd") and mask.object_id == VOID_ID:
            void = mask
        else:
            objects.append(mask)
    return FrameMasks(tuple(objects), void)
