"""A preview's files, written whole or not at all: a PNG sheet, a looping GIF (Pillow) or an MP4 (H.264 through PyAV).

Each goes to a hidden temporary file beside its name, renamed into place once complete; any failure or Ctrl-C
removes the temporary file, so no half-written GIF or MP4 is ever left under the name asked for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from ..errors import MissingDependency
from ..model import NAME_MAX
from .atomic import TMP_BYTES, write_atomically

#: The longest a GIF shows a frame: its delay is 16 bits of hundredths of a second (655.35 s, --fps 0.0016).
GIF_LONGEST_MS = 65535 * 10


def named_after(video: str, prefix: str = "", suffix: str = "") -> str:
    """``<prefix><video><suffix>``, a file named after a video: a video's name may be 255 bytes, too long for that
    and its temporary name, so a name that would not fit is cut (on a character) and ends with a digest of the
    whole name, which keeps two cut names apart."""
    whole = f"{prefix}{video}{suffix}"
    if len(whole.encode("utf-8")) + TMP_BYTES <= NAME_MAX:
        return whole
    digest = "-" + hashlib.sha256(video.encode("utf-8")).hexdigest()[:16]
    room = NAME_MAX - TMP_BYTES - len(f"{prefix}{digest}{suffix}".encode())
    cut = video.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f"{prefix}{cut}{digest}{suffix}"


def save_sheet(sheet: Image.Image, path: Path) -> Path:
    return write_atomically(path, lambda tmp: sheet.save(tmp, format="PNG", optimize=True))


def save_animation(frames: Sequence[Image.Image], path: Path, fps: float) -> Path:
    """A looping GIF (Pillow), or an MP4 (H.264 through PyAV, which must be installed)."""
    if path.suffix.lower() == ".mp4":
        return write_atomically(path, lambda tmp: _write_mp4(frames, tmp, fps))
    duration = min(GIF_LONGEST_MS, max(20, round(1000 / fps)))  # 0.001 fps overflowed a GIF's 16-bit delay
    return write_atomically(
        path,
        lambda tmp: frames[0].save(tmp, format="GIF", save_all=True, append_images=list(frames[1:]), duration=duration, loop=0),
    )


def pyav():
    try:
        import av
    except ImportError as exc:
        raise MissingDependency("an MP4 preview needs PyAV: pip install av (or write a .gif)") from exc
    return av


def _write_mp4(frames: Sequence[Image.Image], path: Path, fps: float) -> None:
    from fractions import Fraction

    av = pyav()

    width, height = (max(2, side + side % 2) for side in frames[0].size)  # yuv420p: even sides, black added
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for image in frames:
            frame = av.VideoFrame.from_image(image.crop((0, 0, width, height)))
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
