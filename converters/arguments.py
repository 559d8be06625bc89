"""What several ``vosconv`` commands share: the source flags, their checks, and opening the reader they name.

Below :mod:`converters.cli` and :mod:`converters.inspect.cli`, which both build on it; imports only light modules.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Iterator
from typing import Any

from . import api, registry
from . import options as plugin_options
from .errors import OptionError, absolute_path

#: CLI flags that are shorthands for reader options of the same name.
READER_FLAGS = ("split", "resolution", "images")
SRC_HELP = "dataset folder or file, or a .zip, .tar or .tar.gz of a dataset (read in place, not extracted)"


def whole(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}, got {value}")
    return value


def count(text: str) -> int:
    """A worker count or a scale: a whole number of at least 1."""
    return whole(text, 1)


def seed(text: str) -> int:
    """A random seed: numpy takes whole numbers from 0."""
    return whole(text, 0)


def executor_args(parser: argparse.ArgumentParser) -> None:
    """``--executor`` and ``--ray-address``, as ``convert``, ``run`` and ``stats`` take them."""
    parser.add_argument(
        "--executor", choices=("local", "ray"), default="local", help="where videos run (default: local processes)"
    )
    parser.add_argument(
        "--ray-address", metavar="ADDR", help="Ray cluster to join (default: the one Ray finds here, else a local one)"
    )


def reader_args(parser: argparse.ArgumentParser, *, workers: bool = True) -> None:
    readers = ", ".join(sorted(registry.readers))  # the built-in table: no plugin scan for --help
    parser.add_argument("--from", dest="source_format", metavar="FORMAT", help=f"reader: {readers} (default: detect it)")
    parser.add_argument("--split", help="split to read (MOSE/YouTube-VOS split folder, DAVIS ImageSets list)")
    parser.add_argument("--resolution", help="DAVIS resolution folder: 480p (default), Full-Resolution, 1080p")
    parser.add_argument(
        "--images",
        metavar="DIR",
        help="where the source's frames are: the folder a JSON's file_names are relative to (coco, ytvis, cocovid), "
        "BURST's frames folder, a folder of <video>/ frame folders for annotations-only folder layouts, or where "
        "a parquet/hdf5 source's frames that were not embedded are now",
    )
    parser.add_argument("-r", "--read-opt", action="append", metavar="KEY=VALUE", help="any other reader option (repeatable)")
    if workers:
        parser.add_argument("--workers", type=count, default=1, metavar="N", help="videos in parallel processes (default 1)")


def reader_options(args: argparse.Namespace) -> dict[str, Any]:
    values = {flag: getattr(args, flag) for flag in READER_FLAGS if getattr(args, flag) is not None}
    for key, value in plugin_options.parse_pairs(args.read_opt, "--read-opt").items():
        if key in values and value != values[key]:  # neither silently wins: the user meant one of them
            raise OptionError("--read-opt", f"{key}={value} contradicts --{key} {values[key]}; give one of them")
        values[key] = value
    return values


def open_reader(args: argparse.Namespace):
    name = registry.resolve("reader", args.source_format) if args.source_format else api.detect(args.source)
    options = reader_options(args)
    declared = plugin_options.fields(registry.reader_class(name).Options)
    for flag in READER_FLAGS:
        if flag in options and flag not in declared:  # say what was detected and what it does take: the user thought otherwise
            how = "" if args.source_format else f" ({args.source} was detected as {name}; --from names another)"
            raise OptionError(
                f"--{flag}", f"the {name} reader has no such option{how}; its options: {', '.join(declared) or 'none'}"
            )
    return api.open_reader(args.source, name, options, where="--read-opt")


@contextlib.contextmanager
def stdout_kept_for(enabled: bool) -> Iterator[None]:
    """While reading, file descriptor 1 is standard error, so what C libraries print there (hdf5plugin's
    LZ4 filter on a damaged chunk) cannot break the JSON printed after; the real stdout comes back at the end."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    os.dup2(2, 1)
    try:
        yield
    finally:
        sys.stdout.flush()
        _flush_c_stdio()  # what the C library still buffers belongs to the reading, not to the JSON
        os.dup2(saved, 1)
        os.close(saved)


def _flush_c_stdio() -> None:
    with contextlib.suppress(Exception):  # no C library to reach (some platforms): nothing buffered there to lose
        import ctypes

        ctypes.CDLL(None).fflush(None)


def absolute(path: str | os.PathLike | None) -> str | None:
    """A path as every ``--json`` output and ``errors.jsonl`` give it: absolute, links kept (as named, from where the
    command ran), so a script reads the same whatever folder the command started in; None stays None."""
    return None if path is None else absolute_path(path)


def print_json(document: dict[str, Any]) -> None:
    """A ``--json`` output: one JSON document on stdout, nothing else there."""
    print(json.dumps(document, indent=2))


def say(message: str) -> None:
    print(message, file=sys.stderr)


def print_facts(facts: dict[str, Any], unknown: tuple[str, ...] = ()) -> None:
    """``facts`` as a two-column table for people (``info``, ``stats``): no Python word (None, True) in it.

    None reads ``unknown`` for the keys in ``unknown`` (a flag the data cannot settle), else ``(none)``
    (a dataset without a split); a list is counted, with its first dozen items.
    """
    width = max(len(key) for key in facts)
    for key, value in facts.items():
        if isinstance(value, list):
            value = f"{len(value)} ({', '.join(map(str, value[:12]))}{', ...' if len(value) > 12 else ''})" if value else "0"
        elif isinstance(value, bool):
            value = "yes" if value else "no"
        elif isinstance(value, float):
            value = f"{value:.4g}"
        elif value is None:
            value = "unknown" if key in unknown else "(none)"
        print(f"{key.replace('_', ' '):<{width}}  {value}")
