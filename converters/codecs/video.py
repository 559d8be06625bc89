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

import os
import threading
from dataclasses import dataclass

import numpy as np

from ..errors import MissingDependency, SourceError
from . import jpeg


def _av():
    try:
        import av
    except ImportError as exc:
        raise MissingDependency("reading video files needs PyAV: pip install 'vosconv[sav]'") from exc
    return av


@dataclass(frozen=True)
class VideoFacts:
    """What the container says of its first video stream, before decoding."""

    width: int
    height: int
    frames: int  # counted from the packets when the header does not say
    colorspace: str


def probe(path: str) -> VideoFacts:
    """Size and frame count of ``path``'s video stream; SourceError when it cannot be read as a video."""
    av = _av()
    try:
        with av.open(path) as container:
            if not container.streams.video:
                raise SourceError(path, "no video stream in the file")
            stream = container.streams.video[0]
            frames = stream.frames
            if frames <= 0:  # not in the header: count the packets that carry a frame (no decoding)
                frames = sum(1 for packet in container.demux(stream) if packet.size)
            space = stream.codec_context.colorspace
            return VideoFacts(stream.codec_context.width, stream.codec_context.height, frames, str(space))
    except av.FFmpegError as exc:
        raise SourceError(path, f"unreadable video: {exc}") from None


class FrameCursor:
    """Decodes one video file forward: ``rgb(n)`` returns frame ``n`` (from 0) as (H, W, 3) uint8 RGB."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._container = None
        self._frames = None
        self.position = 0  # the number of the next frame the iterator gives

    def _open(self) -> None:
        av = _av()
        self.close()
        try:
            self._container = av.open(self.path)
            stream = self._container.streams.video[0]
            stream.thread_type = "AUTO"  # FFmpeg's own decoding threads; the frames are the same
            self._frames = self._container.decode(stream)
        except (av.FFmpegError, IndexError) as exc:
            self.close()
            raise SourceError(self.path, f"unreadable video: {exc}") from None
        self.position = 0

    def frame(self, number: int):
        """The ``av.VideoFrame`` numbered ``number``; SourceError when the video ends first."""
        av = _av()
        if self._frames is None or number < self.position:
            self._open()
        try:
            while True:
                found = next(self._frames, None)
                if found is None:
                    raise SourceError(self.path, f"the video ends after {self.position} frames; frame {number} was asked for")
                self.position += 1
                if self.position - 1 == number:
                    return found
        except av.FFmpegError as exc:
            self.close()
            raise SourceError(self.path, f"cannot decode frame {self.position}: {exc}") from None

    def rgb(self, number: int) -> np.ndarray:
        return self.frame(number).to_ndarray(format="rgb24")

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
    cursor = getattr(_local, "cursor", None)
    if cursor is None or cursor.path != path:
        if cursor is not None:
            cursor.close()
        cursor = _local.cursor = FrameCursor(path)
    return jpeg.encode_rgb(cursor.rgb(number), quality)
