"""Mask overlays on the frames: contact sheets (PNG), animations (GIF, or MP4 with PyAV), side by side with another source.

Each tile is one frame drawn by :mod:`.render` (objects in their palette colours over the image,
void hatched, unannotated frames dimmed). A frame without an image (a COCO file without its
JPEGs) gets its masks at full colour on black. Beside a compared source, a frame whose masks
differ is outlined in red. What a preview holds is bounded (:data:`MAX_PIXELS`) before anything
is decoded.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..errors import OptionError, OutputError, SourceError
from ..model import Frame, FrameMasks, Video
from ..sources.files import file_in_the_way
from ..suggest import did_you_mean
from .atomic import WrittenFiles
from .files import named_after, pyav, save_animation, save_sheet
from .render import colours, draw_text, render_frame

SHEET_SUFFIXES = (".png",)
ANIMATION_SUFFIXES = (".gif", ".mp4")
BACKGROUND = (32, 32, 32)
#: The outline of a compared frame whose masks differ from the shown one's.
DIFFERS = (255, 0, 0)
_GAP = 4
_CAPTION = 14  # height of the strip under each tile that names the frame
_SHEET_TILE_WIDTH = 320  # a tile's width in a contact sheet when no scale is given (four fit a laptop screen)
_ANIMATION_WIDTH = 640
_SHEET_FRAMES = 8  # frames per video in a sheet when none are named
_ANIMATION_FRAMES = 300  # at most, spread over the video, when none are named (``--frames all`` for every one)
#: Videos shown when none are named (the first, by name): one in an animation file.
DEFAULT_VIDEOS = 4
#: The most frames per second of an animation (and 1 / it the least): libx264 wrote MP4s of no frame at 10000.
MAX_FPS = 1000
#: The most pixels of frames one preview file holds while it is made (about 800 MB of RGB).
MAX_PIXELS = 1 << 28


# --------------------------------------------------------------------------------------------
# Choosing videos and frames


def parse_frames(spec: str | Sequence[int] | None, count: int, default: int | None) -> list[int]:
    """Frame positions from ``"0,5,10"``, ``"10:20"``, ``"::5"`` or ``"all"`` (Python slices; negatives count from the end).

    None picks ``default`` positions spread evenly over the video (all of them when ``default`` is None).
    """
    if spec is None:
        if default is None or count <= default:
            return list(range(count))
        return sorted({round(i * (count - 1) / (default - 1)) for i in range(default)})
    if not isinstance(spec, str):  # as the text's positions: negatives from the end, repeats once
        return list(dict.fromkeys(i % count for i in spec if -count <= i < count))
    if spec.strip() == "all":
        return list(range(count))
    chosen: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        try:
            if ":" in part:
                pieces = [int(p) if p.strip() else None for p in part.split(":")]
                if len(pieces) > 3 or (len(pieces) == 3 and pieces[2] == 0):
                    raise ValueError
                chosen.extend(range(count)[slice(*pieces)])
            else:
                index = int(part)
                if -count <= index < count:
                    chosen.append(index % count)
        except ValueError:
            raise OptionError("--frames", f"expected positions like 0,5,10 or 10:20 or ::5 or all, got {spec!r}") from None
    return list(dict.fromkeys(chosen))


@dataclass(frozen=True)
class Tile:
    """One cell of a sheet or one animation frame: the rendered frame(s) and their caption."""

    image: Image.Image
    caption: str


def _missing(width: int, height: int, text: str) -> Image.Image:
    tile = Image.new("RGB", (width, height), (0, 0, 0))
    draw_text(ImageDraw.Draw(tile), (width // 2, height // 2), text)
    return tile


def _side_by_side(left: Image.Image, right: Image.Image) -> Image.Image:
    if right.size != left.size:
        right = right.resize(left.size, Image.Resampling.NEAREST)
    both = Image.new("RGB", (left.width * 2 + _GAP, left.height), BACKGROUND)
    both.paste(left, (0, 0))
    both.paste(right, (left.width + _GAP, 0))
    return both


def video_tiles(
    video: Video,
    positions: Iterable[int],
    *,
    other: Video | None = None,
    compare: bool = False,
    ids: bool = True,
    scale: float | None = None,
    fit_width: int = _SHEET_TILE_WIDTH,
) -> list[Tile]:
    """The chosen frames rendered and resized (by ``scale``, else to at most ``fit_width`` a frame) one at a time,
    so only the small tiles are held; with ``compare``, each beside the frame of the same name in ``other``."""
    theirs = {f.stem: f for f in other.frames} if other is not None else {}
    tiles = []
    for position in positions:
        frame = video.frames[position]
        image = render_frame(video, frame, ids=ids)
        if compare:
            match = theirs.get(frame.stem)
            if other is None:
                right = _missing(video.width, video.height, "video missing")
            elif match is None:
                right = _missing(video.width, video.height, "frame missing")
            else:
                right = render_frame(other, match, ids=ids, table=colours(video))  # one id, one colour on both sides
            image = _side_by_side(image, right)
        fit = fit_width * 2 + _GAP if compare else fit_width
        image, caption = _scaled(image, scale, fit), f"{video.name} #{frame.index} {frame.file_name}"
        if compare and masks_differ(video, frame, other, theirs.get(frame.stem)):
            ImageDraw.Draw(image).rectangle((0, 0, image.width - 1, image.height - 1), outline=DIFFERS, width=2)
            caption += " differs"
        tiles.append(Tile(image, caption))
    return tiles


def masks_differ(video: Video, frame: Frame, other: Video | None, match: Frame | None) -> bool:
    """Whether ``other``'s frame of the same name is annotated differently: missing, of another size, annotated or
    not, or another RLE of a visible object or of void (RLE is canonical: equal masks have equal counts)."""
    if other is None or match is None or (video.width, video.height) != (other.width, other.height):
        return True
    if frame.masks is None or match.masks is None:
        return (frame.masks is None) != (match.masks is None)

    def drawn(masks: FrameMasks) -> tuple[set[tuple[int, str]], str | None]:
        void = masks.void.counts if masks.void is not None and masks.void.area else None
        return {(m.object_id, m.counts) for m in masks.objects if m.area}, void

    return drawn(frame.masks) != drawn(match.masks)


# --------------------------------------------------------------------------------------------
# Sheets and animations


def _scaled_size(width: int, height: int, scale: float | None, fit_width: int) -> tuple[float, tuple[int, int]]:
    """The factor a ``width`` x ``height`` image is resized by (``scale``, else to fit ``fit_width``) and its new size."""
    factor = scale if scale is not None else min(1.0, fit_width / width)
    return factor, (max(1, round(width * factor)), max(1, round(height * factor)))


def _scaled(image: Image.Image, scale: float | None, fit_width: int) -> Image.Image:
    factor, size = _scaled_size(image.width, image.height, scale, fit_width)
    if factor == 1:
        return image
    return image.resize(size, Image.Resampling.NEAREST if factor > 1 else Image.Resampling.BILINEAR)


def check_size(
    target: Path,
    shown: Sequence[tuple[Video, Sequence[int]]],
    scale: float | None,
    fit: int,
    compare: bool,
    columns: int | None = None,
) -> None:
    """OptionError, before any frame is drawn, when one file would pass :data:`MAX_PIXELS` as it is composed
    (``--frames all --scale 8`` of 300 frames at 1080p would have held some 120 GB): an animation's canvases are each
    as wide and tall as the largest tile of any video, a sheet (``columns`` given) as wide as its widest video's block,
    so a wide video beside a tall one holds far more than their tiles."""
    tiles = []  # (frames, width, height) of each video's tiles
    for video, positions in shown:
        width = video.width * 2 + _GAP if compare else video.width
        _, (w, h) = _scaled_size(width, video.height, scale, fit * 2 + _GAP if compare else fit)
        tiles.append((len(positions), w, h + _CAPTION))
    tiles = [t for t in tiles if t[0]]
    if columns is None:  # an animation: every frame on a canvas of the largest width and height
        pixels = sum(n for n, _, _ in tiles) * max((w for _, w, _ in tiles), default=0) * max((h for *_, h in tiles), default=0)
    else:  # a sheet: each video a block of ``columns`` tiles a row, the sheet as wide as the widest block
        blocks = [(min(columns, n) * (w + _GAP), -(-n // min(columns, n)) * (h + _GAP)) for n, w, h in tiles]
        pixels = max((w for w, _ in blocks), default=0) * sum(h + _GAP for _, h in blocks)
    if pixels > MAX_PIXELS:
        raise OptionError(
            "--frames",
            f"{target}: the frames shown would take {pixels / 1e6:.0f} million pixels, over {MAX_PIXELS / 1e6:.0f} million; "
            "choose fewer frames or a smaller --scale",
        )


def _captioned(tile: Tile, width: int, height: int) -> Image.Image:
    cell = Image.new("RGB", (width, height + _CAPTION), BACKGROUND)
    cell.paste(tile.image, (0, 0))
    ImageDraw.Draw(cell).text((2, height + 2), tile.caption, fill=(220, 220, 220), font=ImageFont.load_default())
    return cell


def contact_sheet(groups: Sequence[list[Tile]], *, columns: int = 4) -> Image.Image:
    """A grid: each group (a video) starts a new row, ``columns`` tiles a row, each tile with its caption."""
    blocks = []
    for scaled in groups:
        if not scaled:
            continue
        width = max(t.image.width for t in scaled)
        height = max(t.image.height for t in scaled)
        across = min(columns, len(scaled))
        rows = -(-len(scaled) // across)
        block = Image.new("RGB", (across * (width + _GAP) - _GAP, rows * (height + _CAPTION + _GAP) - _GAP), BACKGROUND)
        for i, tile in enumerate(scaled):
            corner = ((i % across) * (width + _GAP), (i // across) * (height + _CAPTION + _GAP))
            block.paste(_captioned(tile, width, height), corner)
        blocks.append(block)
    if not blocks:
        raise OptionError("--frames", "no frame to show")
    height = sum(b.height for b in blocks) + _GAP * 2 * (len(blocks) - 1)
    sheet = Image.new("RGB", (max(b.width for b in blocks), height), BACKGROUND)
    y = 0
    for block in blocks:
        sheet.paste(block, (0, y))
        y += block.height + _GAP * 2
    return sheet


def animation_frames(groups: Sequence[list[Tile]]) -> list[Image.Image]:
    """Every tile of every group in order, captioned, on canvases of one size (videos play one after another)."""
    scaled = [t for tiles in groups for t in tiles]
    if not scaled:
        raise OptionError("--frames", "no frame to show")
    width = max(t.image.width for t in scaled)
    height = max(t.image.height for t in scaled)
    return [_captioned(t, width, height) for t in scaled]


# --------------------------------------------------------------------------------------------
# The command


def output_kind(output: Path, format: str | None) -> str:
    """``sheet``, ``animation`` or ``folder`` (one file per video, in ``format``), from the name."""
    suffix = output.suffix.lower()
    if suffix in SHEET_SUFFIXES + ANIMATION_SUFFIXES:
        if format is not None and format != suffix[1:]:  # it was left unsaid that a .png was written for --format gif
            raise OptionError("--format", f"{output} names a {suffix} file; --format {format} is for a folder (-o DIR)")
        return "sheet" if suffix in SHEET_SUFFIXES else "animation"
    if suffix and not output.is_dir():
        raise OptionError("-o", f"{output}: give a .png, .gif or .mp4 file, or a folder")
    if format not in (None, "png", "gif", "mp4"):
        raise OptionError("--format", f"expected png, gif or mp4, got {format!r}")
    return "folder"


def refuse_source(path: Path, roots: Iterable[Path]) -> None:
    """OutputError when ``path`` is what a reader reads (:meth:`Reader.roots`), holds it, lies inside a folder it lists,
    or already exists inside the source: an inspection's output never replaces source data, with ``--overwrite`` or
    without (a Parquet source's shards lie in its folder without being roots of their own)."""
    target = path.resolve()
    exists = path.exists() or path.is_symlink()
    for position, root in enumerate(roots):
        data = Path(root).resolve()
        listed = position > 0 and data.is_dir()  # the first root is the source itself: a new file may go inside it
        if target == data or target in data.parents or (data in target.parents and listed):
            where = "is" if target == data else "holds" if target in data.parents else "lies inside"
            raise OutputError(f"{path} {where} {root}, source data this command reads; choose another output")
        if data in target.parents and exists:  # perhaps an earlier preview, perhaps a Parquet source's shard: not known
            raise OutputError(
                f"{path} already exists inside {root}, the source, and may be source data, which this command never "
                "replaces; delete it by hand or choose another output"
            )


def _check_new(path: Path, overwrite: bool, roots: Iterable[Path] = ()) -> None:
    refuse_source(path, roots)
    check_folders(path)
    if (path.exists() or path.is_symlink()) and not overwrite:
        raise OutputError(f"{path} already exists; pass --overwrite (overwrite=True in Python) to replace it")


def check_folders(path: Path, *, folder: bool = False) -> None:
    """OutputError, before any reading, when a file stands where ``path`` (``folder``: itself one) needs a folder."""
    blocker = path if folder and path.exists() and not path.is_dir() else file_in_the_way(path)
    if blocker is not None:
        raise OutputError(f"cannot write {path}: {blocker} is a file, not a folder; choose another output")


def _select(refs: list, names: Sequence[str] | None, default: int, source: Path) -> list:
    if not names:
        return refs[:default]
    by_name = {ref.name: ref for ref in refs}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(r.name for r in refs[:8]) + (", ..." if len(refs) > 8 else "")
        hint = did_you_mean(unknown[0], by_name)
        raise OptionError("--video", f"{source} has no video named {', '.join(unknown)};{hint} it has {known or 'none'}")
    return [by_name[n] for n in dict.fromkeys(names)]


def write_preview(
    reader,
    output: str | os.PathLike,
    *,
    videos: Sequence[str] | None = None,
    frames: str | Sequence[int] | None = None,
    scale: float | None = None,
    other=None,
    columns: int = 4,
    fps: float = 6.0,
    format: str | None = None,
    ids: bool = True,
    overwrite: bool = False,
) -> list[Path]:
    """Write the preview of ``reader``'s videos (``other``: a second reader shown beside it); returns the files."""
    output = Path(output)
    kind = output_kind(output, format)
    if not isinstance(columns, numbers.Integral) or isinstance(columns, bool) or columns < 1:  # 0 divided by zero
        raise OptionError("--columns", f"expected a positive integer, got {columns!r}")
    if scale is not None and not 0 < scale <= 8:
        raise OptionError("--scale", f"expected a factor above 0 and at most 8, got {scale}")
    if not 1 / MAX_FPS <= fps <= MAX_FPS:  # 0 divided by zero, a negative one wrote a 50 fps GIF, 1e4 an empty MP4
        raise OptionError("--fps", f"expected frames per second from {1 / MAX_FPS} to {MAX_FPS}, got {fps}")
    animated = kind == "animation" or (kind == "folder" and (format or "png") != "png")
    refs = _select(reader.list_videos(), videos, 1 if kind == "animation" else DEFAULT_VIDEOS, reader.source)
    targets = [output] if kind != "folder" else [output / named_after(ref.name, suffix=f".{format or 'png'}") for ref in refs]
    if any(target.suffix.lower() == ".mp4" for target in targets):
        pyav()  # said before the reading, not after
    theirs, their_roots = {}, []
    if other is not None:  # its trouble said as the compared source's: the reader flags given are SRC's alone
        try:
            their_roots, theirs = other.roots(), {ref.name: ref for ref in other.list_videos()}
        except SourceError as exc:
            raise OptionError("--compare", f"{exc} (--split, --from and -r apply to SRC only)") from None
    for target in targets:  # before any reading
        _check_new(target, overwrite, reader.roots())
        _check_new(target, overwrite, their_roots)
    fit = _ANIMATION_WIDTH if animated else _SHEET_TILE_WIDTH
    chosen, twins, lengths = [], [], []  # the videos' masks as RLE: no image is decoded before the checks
    for ref in refs:
        video = reader.read_video(ref)
        twins.append(other.read_video(theirs[ref.name]) if ref.name in theirs else None)
        chosen.append((video, parse_frames(frames, len(video.frames), _ANIMATION_FRAMES if animated else _SHEET_FRAMES)))
        lengths.append(f"{ref.name}: {len(video.frames)}")
    if frames is not None and not any(positions for _, positions in chosen):  # positions past every video's end
        raise OptionError("--frames", f"{frames} selects no frame of the videos shown (frames: {', '.join(lengths)})")
    has_frames = [bool(positions) for _, positions in chosen]  # a folder (a file a video) is checked before any is written
    if (kind == "folder" and not all(has_frames)) or (frames is None and not any(has_frames)):  # a video of no frames: --video's
        short = ", ".join(length for length, (_, positions) in zip(lengths, chosen) if not positions)
        if frames is None:  # no --frames to blame: the video has none
            raise OptionError("--video", f"{short} frames, nothing to show; leave it out with --video NAME ...")
        raise OptionError("--frames", f"{frames} selects no frame of {short} frames; leave it out with --video NAME ...")
    per_file = [range(len(chosen))] if kind != "folder" else [[i] for i in range(len(chosen))]  # each file's videos
    for target, shown in zip(targets, per_file):
        check_size(target, [chosen[i] for i in shown], scale, fit, other is not None, None if animated else columns)
    written = []
    made = WrittenFiles("preview such videos one at a time (--video NAME -o FILE), or into a case-sensitive volume")
    for target, indices in zip(targets, per_file):
        made.check(target)  # a file of the folder written for another video, under a name the file system folds
        shown = [
            video_tiles(*chosen[i], other=twins[i], compare=other is not None, ids=ids, scale=scale, fit_width=fit)
            for i in indices
        ]
        if animated:
            written.append(made.add(save_animation(animation_frames(shown), target, fps)))
        else:
            written.append(made.add(save_sheet(contact_sheet(shown, columns=columns), target)))
    return written
