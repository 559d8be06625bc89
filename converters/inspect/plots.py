"""PNG figures of a :class:`~converters.inspect.stats.DatasetStats`, drawn by matplotlib (the ``plots`` extra).

Histograms of objects per video, video length, mask area (log scale), disappearances per
object and mean BOR per video, and a timeline of which objects are visible in which frames
for the videos with the most disappearances. Matplotlib's non-interactive Agg backend draws
them (no display needed); each file is written whole or not at all, and the same statistics
give the same bytes with the same matplotlib.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import MissingDependency, OutputError, install_hint
from .atomic import WrittenFiles, write_atomically
from .files import named_after
from .stats import DatasetStats, VideoStats

#: The files :func:`write_plots` writes, besides one ``timeline-<video>.png`` per timeline video.
FIGURES = ("objects_per_video.png", "video_length.png", "mask_area.png", "disappearances.png", "occlusion.png")
_SIZE = (6.4, 4.0)
_DPI = 80


def check_matplotlib() -> None:
    """Raise :class:`MissingDependency`, naming the extra to install, when matplotlib is absent."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise MissingDependency(f"plots need matplotlib: {install_hint('plots')}") from exc


def _pyplot():
    check_matplotlib()
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def write_plots(stats: DatasetStats, folder: str | os.PathLike, *, timelines: int = 3) -> list[Path]:
    """Write the histograms and ``timelines`` visibility timelines into ``folder``; returns the files, in order."""
    plt = _pyplot()
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot write plots into {folder}: {exc.strerror or exc}") from None
    videos = stats.videos
    title = f"{Path(stats.source).name} ({stats.format}{', ' + stats.split if stats.split else ''}, {len(videos)} videos)"
    areas = [a for v in videos for a in v.mask_areas]
    gone = [t.disappearances for v in videos for t in v.tracks]
    written = [
        _histogram(plt, folder / FIGURES[0], [v.objects for v in videos], "objects per video", "videos", title, whole=True),
        _histogram(plt, folder / FIGURES[1], [v.frames for v in videos], "frames per video", "videos", title, whole=True),
        _area_histogram(plt, folder / FIGURES[2], areas, title),
        _histogram(plt, folder / FIGURES[3], gone, "disappearances per object", "objects", title, whole=True),
        _histogram(plt, folder / FIGURES[4], [v.mean_bor for v in videos if v.bor_frames], "mean BOR per video", "videos", title),
    ]
    ranked = sorted(videos, key=lambda v: (-v.disappearances, v.name))[:timelines]
    absences = stats.first_appearances_only is not True  # else a missing object is not annotated there, not gone
    made = WrittenFiles("write the plots into a case-sensitive volume")
    for video in (v for v in ranked if v.tracks):
        path = folder / named_after(video.name, "timeline-", ".png")
        made.check(path)  # the timeline of another video, under a name the file system folds
        written.append(made.add(_timeline(plt, path, video, absences)))
    return written


def _save(plt, figure, path: Path) -> Path:
    try:
        return write_atomically(path, lambda tmp: figure.savefig(tmp, format="png", dpi=_DPI, metadata={"Software": None}))
    finally:
        plt.close(figure)


def _histogram(plt, path: Path, values: list, xlabel: str, ylabel: str, title: str, *, whole: bool = False) -> Path:
    figure, axes = plt.subplots(figsize=_SIZE)
    if values and whole:
        low, high = min(values), max(values)
        axes.hist(values, bins=[b - 0.5 for b in range(low, high + 2)], color="#4c72b0", edgecolor="white")
    elif values:
        axes.hist(values, bins=20, color="#4c72b0", edgecolor="white")
    else:
        axes.text(0.5, 0.5, "no data", ha="center", va="center", transform=axes.transAxes)
    axes.set(xlabel=xlabel, ylabel=ylabel, title=title)
    figure.tight_layout()
    return _save(plt, figure, path)


def _area_histogram(plt, path: Path, areas: list[int], title: str) -> Path:
    """Mask areas on a log axis, with COCO's small / medium / large limits marked."""
    import numpy as np

    from .stats import MEDIUM_AREA, SMALL_AREA

    figure, axes = plt.subplots(figsize=_SIZE)
    positive = [a for a in areas if a > 0]
    if positive:
        bins = np.logspace(np.log10(min(positive)) - 0.05, np.log10(max(positive)) + 0.05, 30)
        axes.hist(positive, bins=bins, color="#55a868", edgecolor="white")
        axes.set_xscale("log")
        for limit, name in ((SMALL_AREA, "32²"), (MEDIUM_AREA, "96²")):
            axes.axvline(limit, color="#c44e52", linestyle="--", linewidth=1)
            axes.text(limit, axes.get_ylim()[1] * 0.95, f" {name}", color="#c44e52", va="top")
    else:
        axes.text(0.5, 0.5, "no masks", ha="center", va="center", transform=axes.transAxes)
    axes.set(xlabel="mask area (pixels, log scale)", ylabel="masks", title=title)
    figure.tight_layout()
    return _save(plt, figure, path)


def _timeline(plt, path: Path, video: VideoStats, absences: bool = True) -> Path:
    """One row per object: a bar where it is visible, a grey tick at each annotated frame it is absent from
    (``absences``: unless absence is not known, where only first appearances are annotated)."""
    figure, axes = plt.subplots(figsize=(_SIZE[0], 1.2 + 0.35 * len(video.tracks)))
    annotated = set(video.annotated)
    for row, track in enumerate(video.tracks):
        visible = set(track.visible)
        runs = _runs(sorted(visible))
        axes.broken_barh([(start - 0.5, stop - start) for start, stop in runs], (row - 0.35, 0.7), color="#4c72b0")
        absent = sorted(annotated - visible) if absences else []
        if absent:
            axes.plot(absent, [row] * len(absent), "|", color="#999999", markersize=8)
    axes.set_yticks(range(len(video.tracks)), [f"object {t.object_id}" for t in video.tracks])
    axes.set_ylim(len(video.tracks) - 0.5, -0.5)
    axes.set_xlim(-0.5, max(video.frames, 1) - 0.5)
    axes.set(xlabel="frame", title=f"{video.name}: {video.disappearances} disappearances, {video.reappearances} reappearances")
    figure.tight_layout()
    return _save(plt, figure, path)


def _runs(indices: list[int]) -> list[tuple[int, int]]:
    """Consecutive frame indices as ``[start, stop)`` runs."""
    runs: list[tuple[int, int]] = []
    for index in indices:
        if runs and runs[-1][1] == index:
            runs[-1] = (runs[-1][0], index + 1)
        else:
            runs.append((index, index + 1))
    return runs
