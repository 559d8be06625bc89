"""``vosconv stats`` and ``vosconv preview``: their flags and what they print.

Added to the ``vosconv`` parser by :mod:`converters.cli`; the work is imported when a command runs.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from .. import api
from ..arguments import (
    SRC_HELP,
    absolute,
    count,
    executor_args,
    open_reader,
    print_facts,
    print_json,
    reader_args,
    say,
    stdout_kept_for,
)
from ..errors import OutputError


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def add_commands(commands) -> None:
    """The ``stats`` and ``preview`` subcommands, added to ``vosconv``'s."""
    stats = commands.add_parser("stats", help="dataset statistics from the masks (no image decoded), with plots")
    stats.add_argument("source", metavar="SRC", help=SRC_HELP)
    reader_args(stats)
    executor_args(stats)
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.add_argument("--plots", metavar="DIR", help="write PNG histograms and visibility timelines here (needs matplotlib)")
    stats.add_argument(
        "--timelines", type=count, default=3, metavar="N", help="timelines of N videos (most disappearances; default 3)"
    )
    stats.add_argument("--per-video", metavar="FILE", help="write one row per video to FILE.csv or FILE.parquet")
    stats.add_argument("--overwrite", action="store_true", help="replace an existing --per-video file or --plots figures")
    stats.set_defaults(handler=cmd_stats)

    preview = commands.add_parser("preview", help="mask overlays on the frames: a contact sheet, a GIF or an MP4")
    preview.add_argument("source", metavar="SRC", help=SRC_HELP)
    reader_args(preview, workers=False)  # the same reader flags as every other command's, so the same help
    preview.add_argument("--video", nargs="+", action="extend", metavar="NAME", help="videos to show (default: the first 4)")
    preview.add_argument("-o", "--output", metavar="OUT", help="OUT.png (sheet), .gif, .mp4 or a folder (default: preview.png)")
    preview.add_argument(
        "--frames",
        metavar="SPEC",
        help="frame positions: 0,5,10 or 10:20 or ::5 or all (default: 8 in a sheet, up to 300 in an animation)",
    )
    preview.add_argument("--scale", type=_float, metavar="X", help="resize frames by X (default: fit a screen)")
    preview.add_argument("--compare", metavar="OTHER", help="show the same videos of OTHER (e.g. a conversion's output) beside")
    preview.add_argument("--columns", type=count, default=4, metavar="N", help="frames per row of a sheet (default 4)")
    preview.add_argument("--fps", type=_float, default=6.0, help="frames per second of an animation (default 6)")
    preview.add_argument("--format", choices=("png", "gif", "mp4"), help="file type when OUT is a folder (default png)")
    preview.add_argument("--no-ids", action="store_true", help="do not draw object ids")
    preview.add_argument("--overwrite", action="store_true", help="replace existing preview files")
    preview.set_defaults(handler=cmd_preview)


def cmd_stats(args: argparse.Namespace) -> int:
    from ..run.executors import make_executor
    from .preview import check_folders
    from .stats import check_table_name, summarise

    if args.per_video:  # every output checked before the reading, which may take long
        check_table_name(Path(args.per_video))
        check_folders(Path(args.per_video))
    if args.per_video and Path(args.per_video).exists() and not args.overwrite:
        raise OutputError(f"{args.per_video} already exists; pass --overwrite to replace it")
    if args.plots:
        from .plots import check_matplotlib

        check_matplotlib()  # before the reading, not after
        check_folders(Path(args.plots), folder=True)
        if Path(args.plots).is_dir() and any(Path(args.plots).iterdir()) and not args.overwrite:
            raise OutputError(f"{args.plots} is not empty; pass --overwrite to write the figures into it")
    with stdout_kept_for(args.json), open_reader(args) as reader:
        from .preview import refuse_source

        for path in filter(None, (args.per_video, args.plots)):  # before any reading
            refuse_source(Path(path), reader.roots())
        started = time.perf_counter()
        result = summarise(reader, executor=make_executor(args.workers, args.executor, args.ray_address), progress=None)
        seconds = round(time.perf_counter() - started, 3)
    if args.per_video:
        say(f"wrote {result.write_table(args.per_video, overwrite=args.overwrite)}")
    if args.plots:
        from .plots import write_plots

        say(f"wrote {len(write_plots(result, args.plots, timelines=args.timelines))} figures to {args.plots}")
    summary = result.summary()
    if args.json:
        print_json({**summary, "source": absolute(summary["source"]), "seconds": seconds})
        return 0
    print_facts(summary, unknown=("first_appearances_only",))
    return 0


def cmd_preview(args: argparse.Namespace) -> int:
    from .preview import write_preview

    options = {
        "videos": args.video,
        "frames": args.frames,
        "scale": args.scale,
        "columns": args.columns,
        "fps": args.fps,
        "format": args.format,
        "ids": not args.no_ids,
        "overwrite": args.overwrite,
    }
    output = args.output or "preview.png"
    with open_reader(args) as reader:
        if args.compare is None:
            written = write_preview(reader, output, **options)
        else:
            with api.open_reader(args.compare) as other:
                written = write_preview(reader, output, other=other, **options)
    for path in written:
        print(f"wrote {path}")
    return 0
