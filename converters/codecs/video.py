"""Frames of a video file (SA-V's mp4s), decoded with PyAV and streamed: never a whole video in memory.

Colours follow the file's own metadata: a BT.709-tagged stream is converted with BT.709, an
untagged one with BT.601, as FFmpeg's swscale does and as OpenCV 5 does (OpenCV 4.10 used BT.601
for every file). With that, the frames are pixel-identical to what SAM 2's extraction
(``cv2.VideoCapture``) gets from the same mp4; the tests check it on mp4s made with libx264.

A :class:`FrameCursor` decodes forward only; asking for an earlier frame reopens the file.
Each process keeps its last cursor (:func:`frame_jpeg`), so a writer reading a video's frames in
order decodes the file once, in any worker.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import MissingDependency, SourceError, install_hint
from . import jpeg


def _av():
    try:
        import av
    except ImportError as exc:
        raise MissingDependency(f"reading video files needs PyAV: {install_hint('sav')}") from exc
    return av


@dataclass(frozen=True)
class VideoFacts:
    """What the container says of its first video stream, before decoding."""

    width: int
    height: int
    frames: int  # counted from the packets when the header does not say
    colorspace: str


#: The least ``max_pixels`` a decoder is given: codecs ask for work buffers past a small frame's own pixels
#: (FFmpeg's MPEG-4 Part 2 decoder, 54K for a 98x66 video); a frame of a million pixels is no danger.
MIN_PIXEL_LIMIT = 1 << 20


def check_plain_file(path: str) -> None:
    """A folder, a pipe or a device where a file should be (an mp4, a masklet JSON): a SourceError, where reading a
    pipe would wait, or never end. A path that is not there is left to the reading, which names the cause. (Unlike
    ``sources.files.check_regular``, which lets a folder through: codecs import nothing of ``sources``.)"""
    if os.path.exists(path) and not os.path.isfile(path):
        raise SourceError(path, "not a regular file (a folder, a pipe or a device)")


def _open(av: Any, path: str) -> Any:
    """The container of ``path``; metadata that is not UTF-8 (PyAV decodes every tag as the file is opened, strictly
    by default, and vosconv reads none) cannot stop the reading."""
    return av.open(path, metadata_errors="replace")


def _first_video_stream(container: Any, path: str) -> Any:
    """The container's first video stream, which has a decoder."""
    if not container.streams.video:
        raise SourceError(path, "no video stream in the file")
    stream = container.streams.video[0]
    if stream.codec_context is None:  # a codec FFmpeg does not know: PyAV gives the stream no decoder
        raise SourceError(path, "unreadable video: its video stream is of a codec FFmpeg cannot decode")
    return stream


@contextlib.contextmanager
def _video_stream(path: str) -> Iterator[tuple[Any, Any]]:
    """``(container, its first video stream)``; SourceError naming ``path`` when it cannot be read as a video."""
    av = _av()
    check_plain_file(path)
    try:
        with _open(av, path) as container:
            yield container, _first_video_stream(container, path)
    except av.FFmpegError as exc:
        raise SourceError(path, f"unreadable video: {exc}") from None


def _packets_held(container: Any, stream: Any) -> int:
    """The packets that carry a frame, counted without decoding."""
    return sum(1 for packet in container.demux(stream) if packet.size)


def probe(path: str) -> VideoFacts:
    """Size and frame count of ``path``'s video stream; SourceError when it cannot be read as a video."""
    with _video_stream(path) as (container, stream):
        frames = stream.frames if stream.frames > 0 else _packets_held(container, stream)  # not in the header: counted
        space = stream.codec_context.colorspace
        return VideoFacts(stream.codec_context.width, stream.codec_context.height, frames, str(space))


def held_frames(path: str) -> tuple[int, int]:
    """``(frames the header counts, frames the packets hold)``, nothing decoded: a file cut short holds fewer than its
    header (moov first) counts, which a conversion finds only when its writer decodes the missing frames."""
    with _video_stream(path) as (container, stream):
        held = _packets_held(container, stream)
        return (stream.frames if stream.frames > 0 else held), held


def packet_ranks(path: str) -> dict[int, int] | None:
    """Each packet's timestamp -> its frame's number (its rank in presentation order), read without decoding;
    None where a timestamp cannot say the number (one missing or given twice, packets dropped or corrupt)."""
    av = _av()
    stamps = []
    with _open(av, path) as container:
        for packet in container.demux(_first_video_stream(container, path)):  # one at a time: never the whole file
            if packet.size:
                if packet.pts is None or packet.is_discard or packet.is_corrupt:
                    return None
                stamps.append(packet.pts)
    ranks = {stamp: number for number, stamp in enumerate(sorted(stamps))}
    return ranks if len(ranks) == len(stamps) else None


#: SA-V keeps every 4th frame (SAM 2's extraction): the frames between are decoded only where others refer to them.
SPARSE_EVERY = 4


class FrameCursor:
    """Decodes one video file forward: ``rgb(n)`` returns frame ``n`` (from 0) as (H, W, 3) uint8 RGB.

    Sparse until told otherwise: a frame whose number is not a multiple of ``every`` is not decoded
    when no other frame refers to it (H.264's non-reference B-frames: FFmpeg's ``skip_frame=NONREF``,
    set packet by packet, on one thread so that each packet gets its own setting); every other frame
    is decoded exactly as in a full decode, so the frames kept are the same pixels. Frames are then
    numbered by the rank of their timestamp among the file's packets, which is their number in a full
    decode; a file where that may not hold (a packet without a timestamp, two with one, packets the
    container drops) is decoded in full. Asking for a frame sparse decoding may skip decodes every
    frame from then on (the file reopened), as does a frame missing from the decoder's output.
    """

    def __init__(self, path: str, every: int | None = SPARSE_EVERY) -> None:
        self.path = path
        self.every = every  # None: decode every frame
        self._container = None
        self._frames = None
        self.position = 0  # the number of the next frame the iterator gives
        self.decoded = 0  # frames the decoder gave, all opens together (what sparse decoding saves shows here)
        self.size = (0, 0)  # (width, height) every frame must have: the stream header's

    def _open(self) -> None:
        av = _av()
        self.close()
        check_plain_file(self.path)
        try:
            ranks = packet_ranks(self.path) if self.every else None
            self._container = _open(av, self.path)
            stream = _first_video_stream(self._container, self.path)
            context = stream.codec_context
            self.size = (context.width, context.height)  # the header's, which the reader held to the masks' size
            if context.width > 0 and context.height > 0:  # a far larger frame fails before FFmpeg allocates it
                context.options = {"max_pixels": str(max(2 * context.width * context.height, MIN_PIXEL_LIMIT))}
            if ranks is None:
                stream.thread_type = "AUTO"  # FFmpeg's own decoding threads; the frames are the same
                self._frames = enumerate(self._container.decode(stream))
            else:
                self._frames = self._sparse(stream, ranks, self.every)
        except SourceError:
            self.close()
            raise
        except av.FFmpegError as exc:
            self.close()
            raise SourceError(self.path, f"unreadable video: {exc}") from None
        self.position = 0

    def _sparse(self, stream, ranks: dict[int, int], every: int):
        """``(number, frame)`` of every frame decoded, the non-reference frames between every ``every``-th skipped."""
        context = stream.codec_context
        context.thread_type = "NONE"  # the skip setting must apply to exactly the packet sent with it
        for packet in self._container.demux(stream):
            number = ranks.get(packet.pts)
            context.skip_frame = "NONREF" if packet.size and number is not None and number % every else "DEFAULT"
            for frame in context.decode(packet if packet.size else None):
                yield ranks.get(frame.pts, -1), frame

    def frame(self, number: int):
        """The ``av.VideoFrame`` numbered ``number``; SourceError when the video ends first."""
        av = _av()
        if self.every and number % self.every:  # sparse decoding may have skipped it: every frame from here on
            self.every, self._frames = None, None
        if self._frames is None or number < self.position:
            self._open()
        try:
            while True:
                found = next(self._frames, None)
                if found is None and self.every:  # the end, or frames a full decode would give: count them
                    return self._in_full(number)
                if found is None:
                    raise SourceError(self.path, f"the video ends after {self.position} frames; frame {number} was asked for")
                index, picture = found
                self.decoded += 1
                if picture.is_corrupt:  # damaged data FFmpeg concealed (patched from neighbours): never a frame of the video
                    self.close()  # (every frame decoded is checked: a damaged reference spoils the kept frames after it)
                    where = index if index >= 0 else self.position
                    raise SourceError(self.path, f"cannot decode frame {where}: its data is damaged (the decoder concealed it)")
                if index < self.position or index > number:  # not numbered as a full decode numbers it, or missing
                    return self._in_full(number)
                self.position = index + 1
                if index == number:
                    if (picture.width, picture.height) != self.size:  # the stream changed size mid-way
                        raise SourceError(
                            self.path,
                            f"frame {number} is {picture.width}x{picture.height}; the video is {self.size[0]}x{self.size[1]}",
                        )
                    return picture
        except av.FFmpegError as exc:
            self.close()
            raise SourceError(self.path, f"cannot decode frame {self.position}: {exc}") from None

    def _in_full(self, number: int):
        """Frame ``number`` from a full decode, and every frame after it: what sparse decoding could not say."""
        self.every, self._frames = None, None
        return self.frame(number)

    def rgb(self, number: int) -> np.ndarray:
        # One thread: a forked worker once hung on a futex inside this call, where swscale's own pool (threads=0, the
        # default) is the only thread machinery; the pixels are the same, it takes as long at 720p, and the work is
        # spread across videos anyway.
        return self.frame(number).to_ndarray(format="rgb24", threads=1)

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
        self._container, self._frames = None, None


_local = threading.local()
#: Cursors a forked child inherited: their decoder threads do not exist there, so they are never used
#: (nor closed, which would wait on those threads); kept referenced so that no destructor runs either.
_inherited: list = []


def _forget_after_fork() -> None:
    global _local
    _inherited.append(_local)
    _local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_after_fork)


def frame_jpeg(path: str, number: int, quality: int = jpeg.DEFAULT_QUALITY) -> bytes:
    """Frame ``number`` of the video at ``path`` as a JPEG (what ``cv2.imwrite`` writes of it).

    The thread keeps one open cursor: frames asked for in order cost one decode of the file.
    """
    return jpeg.encode_rgb(frame_rgb(path, number), quality)


def frame_rgb(path: str, number: int) -> np.ndarray:
    """Frame ``number`` of the video at ``path`` as decoded, (H, W, 3) uint8 RGB: for a resize, which then encodes
    the JPEG once. Shares :func:`frame_jpeg`'s cursor."""
    cursor = getattr(_local, "cursor", None)
    if cursor is None or cursor.path != path:
        if cursor is not None:
            cursor.close()
        cursor = _local.cursor = FrameCursor(path)
    return cursor.rgb(number)
