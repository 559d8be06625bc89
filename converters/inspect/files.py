"""A preview's files, written whole or not at all: a PNG sheet, a looping GIF (Pillow) or an MP4 (H.264 through PyAV).

Each goes to a hidden temporary file beside its name, renamed into place once complete; any failure or Ctrl-C
removes the temporary file, so no half-written GIF or MP4 is ever left under the name asked for.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from ..errors import MissingDependency, OutputError
from ..model import NAME_MAX

#: The longest a GIF shows a frame: its delay is 16 bits of hundredths of a second (655.35 s, --fps 0.0016).
GIF_LONGEST_MS = 65535 * 10


#: What the temporary file adds to a name: ``.<name>.vosconv-tmp``.
_TMP_BYTES = len("..vosconv-tmp")


def named_after(video: str, prefix: str = "", suffix: str = "") -> str:
    """``<prefix><video><suffix>``, a file named after a video: a video's name may be 255 bytes, too long for that
    and its temporary name, so a name that would not fit is cut (on a character) and ends with a digest of the
    whole name, which keeps two cut names apart."""
    whole = f"{prefix}{video}{suffix}"
    if len(whole.encode("utf-8")) + _TMP_BYTES <= NAME_MAX:
        return whole
    digest = "-" + hashlib.sha256(video.encode("utf-8")).hexdigest()[:16]
    room = NAME_MAX - _TMP_BYTES - len(f"{prefix}{digest}{suffix}".encode())
    cut = video.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f"{prefix}{cut}{digest}{suffix}"


def _atomic(path: Path, write) -> Path:
    tmp = path.with_name(f".{path.name}.vosconv-tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        os.replace(tmp, path)
    except OSError as exc:
        _discard(tmp)
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        _discard(tmp)
        raise
    return path


def save_sheet(sheet: Image.Image, path: Path) -> Path:
    return _atomic(path, lambda tmp: sheet.save(tmp, format="PNG", optimize=True))


def save_animation(frames: Sequence[Image.Image], path: Path, fps: float) -> Path:
    """A looping GIF (Pillow), or an MP4 (H.264 through PyAV, which must be installed)."""
    if path.suffix.lower() == ".mp4":
        return _atomic(path, lambda tmp: _write_mp4(frames, tmp, fps))
    duration = min(GIF_LONGEST_MS, max(20, round(1000 / fps)))  # 0.001 fps overflowed a GIF's 16-bit delay
    return _atomic(
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


def _discard(tmp: Path) -> None:
    """Remove a temporary file if it is there (its folder may be what failed)."""
    with contextlib.suppress(OSError):
        tmp.unlink()
