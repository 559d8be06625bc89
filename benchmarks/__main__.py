"""``python -m benchmarks [--quick] [--only NAME ...] [--out benchmarks/results/latest.json]`` (what ``make bench`` runs).

Prints one Markdown table per group (ms per frame for vosconv and the naive baseline, and
their ratio), a goals table (each goal of the performance issue with the measured value and
PASS/MISS) and the machine; writes everything as JSON to ``--out`` and the tables beside it
(``.md``). Every group checks that both sides give identical results before timing them.

Groups (``--only``): ``frames`` (= ``png-decode rle-encode rle-decode png-encode frame-e2e``),
``convert``, ``memory``, ``loading``, ``stats`` (``benchmarks/bench_stats.py``), ``startup``
(``benchmarks/bench_startup.py``: fresh ``vosconv`` processes against ``python -c "import numpy"``), ``sav``
(``benchmarks/bench_sav.py``: SA-V train frames against SAM 2's extraction steps).
``loading`` is ``benchmarks/bench_loading.py`` when it
exists: ``run(workdir, quick=False) -> dict``; a ``"tables"`` list of ``{"title", "headers",
"rows"}`` is printed and a ``"goals"`` list of ``{"goal", "target", "value", "pass", "note"}``
joins the goals table.

Generated datasets are cached in ``--data`` (default ``benchmarks/results/data``), keyed by
the generator's source and the library versions; ``--fresh-data`` regenerates them.
"""

from __future__ import annotations

import argparse
import importlib
import json
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from . import bench_convert, bench_frames, bench_memory, bench_sav, bench_startup, bench_stats, data, report
from .timing import Settings, one_core

HERE = Path(__file__).resolve().parent
FRAME_GROUPS = bench_frames.GROUPS
ALL = (*FRAME_GROUPS, "convert", "memory", "loading", "stats", "startup", "sav")
ALIASES = {"frames": FRAME_GROUPS, "all": ALL}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a fast smoke run: fewer frames and samples, tiny datasets")
    parser.add_argument("--only", nargs="+", metavar="NAME", help=f"groups to run: {', '.join(ALL)} or 'frames'")
    parser.add_argument(
        "--out", type=Path, default=HERE / "results" / "latest.json", help="JSON results (tables go beside it as .md)"
    )
    parser.add_argument("--data", type=Path, default=HERE / "results" / "data", help="cache of generated datasets")
    parser.add_argument("--fresh-data", action="store_true", help="regenerate the cached datasets")
    parser.add_argument("--samples", type=int, help="samples per method (default 9, quick 3)")
    parser.add_argument("--min-time", type=float, help="CPU seconds per sample (default 0.025, quick 0.005)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin single-process timings to one CPU")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args(argv)
    groups: list[str] = []
    for name in args.only or ["all"]:
        if name in ALIASES:
            groups.extend(ALIASES[name])
        elif name in ALL:
            groups.append(name)
        else:
            parser.error(f"unknown group {name!r}; choose from {', '.join(ALL)}, frames")
    args.groups = tuple(dict.fromkeys(groups))
    return args


def say(text: str = "") -> None:
    print(text, flush=True)


def load_loading_module():
    """``benchmarks.bench_loading`` if it exists; (module, None) or (None, why not)."""
    try:
        return importlib.import_module(".bench_loading", __package__), None
    except ModuleNotFoundError as exc:
        if exc.name == f"{__package__}.bench_loading":
            return None, "benchmarks/bench_loading.py does not exist yet"
        return None, f"import failed: {exc}"
    except Exception as exc:  # a broken plug-in must not take the rest of the suite down
        return None, f"import failed: {type(exc).__name__}: {exc}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quick = args.quick
    settings = Settings(
        samples=args.samples or (3 if quick else 9),
        min_time=args.min_time if args.min_time is not None else (0.005 if quick else 0.025),
    )
    pin = not args.no_pin
    started = time.perf_counter()
    machine = report.machine()
    results: dict = {
        "machine": machine,
        "settings": {
            "quick": quick,
            "samples": settings.samples,
            "min_time_s": settings.min_time,
            "pinned": pin,
            "groups": list(args.groups),
        },
    }
    sections: list[tuple[str, str]] = []
    failures: list[str] = []
    say(report.machine_text(machine))
    say(
        f"Groups: {', '.join(args.groups)}; "
        f"{settings.samples} samples of >= {settings.min_time * 1e3:.0f} ms CPU each, interleaved"
    )
    if args.fresh_data:
        shutil.rmtree(args.data, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(prefix="vosconv-bench-"))

    def emit(new: list[tuple[str, str]]) -> None:
        for title, text in new:
            say(f"\n### {title}\n\n{text}")
        sections.extend(new)

    try:
        frame_groups = tuple(g for g in args.groups if g in FRAME_GROUPS)
        if frame_groups:
            t0 = time.perf_counter()
            objects = (3, 8) if quick else data.OBJECT_COUNTS
            cases = data.make_frames(objects=objects, adaptive="png-decode" in frame_groups)
            results["frame_stats"] = [{"name": c.name, **c.stats} for c in cases]
            checked = bench_frames.verify(cases, scratch / "frames-verify", frame_groups)
            say(f"\nframes: {len(cases)} frames generated, fast == naive on {checked} ({time.perf_counter() - t0:.1f} s)")
            with one_core(pin) as cpu:
                results["frames"] = bench_frames.run(cases, scratch / "frames", settings, frame_groups)
            results["frames_pinned_cpu"] = cpu
            emit(report.frame_tables(results["frames"], results["frame_stats"]))
            say(f"(frames: {time.perf_counter() - t0:.1f} s)")

        if "convert" in args.groups:
            t0 = time.perf_counter()
            specs = bench_convert.QUICK_SPECS if quick else bench_convert.FULL_SPECS
            rounds, naive_rounds = (2, 1) if quick else (11, 3)
            grow = 0 if quick else 10  # the 1080p dataset also ten times over: 2 vs 1 workers once fixed costs are small
            results["convert"] = bench_convert.run(specs, args.data, scratch / "convert", rounds, naive_rounds, pin, grow=grow)
            emit(report.convert_tables(results["convert"]))
            say(f"(convert: {time.perf_counter() - t0:.1f} s)")

        if "memory" in args.groups:
            t0 = time.perf_counter()
            spec = bench_convert.QUICK_SPECS[0] if quick else bench_convert.FULL_SPECS[0]
            results["memory"] = bench_memory.run(spec, 10, args.data, scratch / "memory")
            emit(report.memory_tables(results["memory"]))
            say(f"(memory: {time.perf_counter() - t0:.1f} s)")

        if "loading" in args.groups:
            module, why = load_loading_module()
            if module is None:
                results["loading"] = {"skipped": why}
                say(f"\nloading: skipped ({why})")
                if not why.startswith("benchmarks/bench_loading.py does not exist"):
                    failures.append(f"loading: {why}")
            else:
                t0 = time.perf_counter()
                folder = scratch / "loading"
                folder.mkdir()
                try:
                    results["loading"] = module.run(folder, quick=quick)
                except Exception as exc:
                    results["loading"] = {"error": f"{type(exc).__name__}: {exc}"}
                    failures.append(f"loading: {type(exc).__name__}: {exc}")
                    traceback.print_exc()
                emit(report.generic_tables("loading", results["loading"]))
                say(f"(loading: {time.perf_counter() - t0:.1f} s)")

        simple = {  # groups whose run() returns tables and goals: name -> how to run it in its scratch folder
            "stats": lambda folder: bench_stats.run(folder, args.data, quick=quick),
            "startup": lambda folder: bench_startup.run(folder, quick=quick),
            "sav": lambda folder: bench_sav.run(folder, quick=quick),
        }
        for name, run in simple.items():
            if name in args.groups:
                t0 = time.perf_counter()
                folder = scratch / name
                folder.mkdir()
                results[name] = run(folder)
                emit(report.generic_tables(name, results[name]))
                say(f"({name}: {time.perf_counter() - t0:.1f} s)")
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
        else:
            say(f"scratch kept in {scratch}")

    results["goals"] = report.goals(results)
    goals_text = report.goals_table(results["goals"])
    say("\n### Goals (ratios from this run, one core unless it says workers)\n")
    say(goals_text)
    sections.append(("Goals", goals_text))
    elapsed = time.perf_counter() - started
    results["elapsed_s"] = elapsed
    say(f"\n{report.machine_text(machine)}\nTotal {elapsed:.0f} s.")

    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1, default=str) + "\n")
    markdown = args.out.with_suffix(".md")
    markdown.write_text(
        f"{report.machine_text(machine)}\n\n" + "\n\n".join(f"### {title}\n\n{text}" for title, text in sections) + "\n"
    )
    say(f"Results: {args.out} and {markdown}")
    for failure in failures:
        say(f"ERROR {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
