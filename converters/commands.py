"""The commands that read or describe without converting: ``info``, ``validate``, ``verify``, ``formats``, ``sample``.

Each takes the parsed arguments of :mod:`converters.cli` and returns the exit status; like the
command itself, each imports the work it does when it runs (``formats`` reads the registry's
plain table and imports no format).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from . import options as plugin_options
from . import registry
from .arguments import absolute, open_reader, print_facts, print_json, say, stdout_kept_for
from .errors import VosconvError


def cmd_info(args: argparse.Namespace) -> int:
    from .run import pipeline

    with stdout_kept_for(args.json), open_reader(args) as reader:
        started = time.perf_counter()
        info, stats = pipeline.scan(reader, workers=args.workers, progress=None)
    categories = [c.name for c in info.categories]
    facts = {
        "source": absolute(reader.source) if args.json else str(reader.source),  # JSON: absolute, as every --json
        "format": reader.name,
        "split": info.split,
        **stats.counts(),
        "categories": categories,
        "seconds": round(time.perf_counter() - started, 3),
    }
    if args.json:
        print_json(facts)
        return 0
    print_facts(facts)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from .run.validate import format_report, validate

    with stdout_kept_for(args.json), open_reader(args) as reader:
        started = time.perf_counter()
        report = validate(reader, workers=args.workers, progress=None)
    if args.json:
        print_json({**report.to_dict(), "source": absolute(report.source), "seconds": round(time.perf_counter() - started, 3)})
    else:
        print(format_report(report))
    return 0 if report.ok else 1


def cmd_verify(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from .sources import checksums

    path = Path(args.file)
    if path.is_dir():
        raise VosconvError(f"{path}: is a folder; verify checks a downloaded archive file (train.tar.gz, a DAVIS zip)")
    if not path.is_file():
        raise VosconvError(f"{path}: no such file")
    with tqdm(total=path.stat().st_size, unit="B", unit_scale=True, disable=None, leave=False) as bar:
        digest = checksums.sha256(path, bar.update)
    release = checksums.identify(digest)
    if release is not None:
        print(f"OK {path}: {release.description} ({release.dataset} {release.file_name})")
        return 0
    named = checksums.releases_named(path.name)
    if named:
        print(f"MISMATCH {path}: sha256 {digest} is not the published checksum of {path.name}; damaged or incomplete download")
    else:
        known = ", ".join(sorted({r.file_name for r in checksums.KNOWN.values()}))
        print(f"UNKNOWN {path}: sha256 {digest} matches no known release ({known})")
    return 1


def cmd_formats(args: argparse.Namespace) -> int:
    """Every reader and writer from the registry's table; built-ins are described without importing them."""
    for kind in ("reader", "writer"):
        print(f"{kind}s:")
        for spec in registry.specs(kind):
            if args.options and spec.options is None:  # an installed plugin: only its class knows its options
                try:
                    spec = registry.describe(spec.name, registry.load(kind, spec.name), origin=spec.origin)
                except VosconvError as exc:
                    print(f"  {spec.name:<13} unavailable: {exc}")
                    continue
            print(f"  {spec.name:<13} {_plain(spec.description) or spec.target}{_origin(spec)}{_suffixes(spec)}")
            if args.options:
                _print_options(spec.options or ())
    if not args.options:
        print("(`vosconv formats --options` lists each one's options; set them with -r/-w KEY=VALUE)")
    return 0


def _plain(text: str) -> str:
    return text.replace("``", "")


def _origin(spec: registry.PluginSpec) -> str:
    return "" if spec.origin == "vosconv" else f" [{spec.origin}]"


def _suffixes(spec: registry.PluginSpec) -> str:
    return f" (OUT ending {', '.join(spec.suffixes)})" if spec.suffixes else ""


def _print_options(options: tuple[plugin_options.OptionSpec, ...]) -> None:
    if not options:
        print("      (no options)")
        return
    rows = [(o.name, o.type, f"default {plugin_options.show_value(o.default)}", o.help) for o in options]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        print("      " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + f"  {row[3]}".rstrip())


def cmd_sample(args: argparse.Namespace) -> int:
    from .sample import write_sample

    started = time.perf_counter()
    path = write_sample(args.output, args.layout, seed=args.seed, scale=args.scale)
    say(f"wrote a {args.layout} sample to {path} in {time.perf_counter() - started:.1f} s")
    return 0
