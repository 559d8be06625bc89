"""The ``vosconv`` command: argument parsing, progress and summaries; the work happens elsewhere."""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import api, registry
from . import options as plugin_options
from .arguments import SRC_HELP, absolute, count, executor_args, open_reader, print_json, reader_args, say, seed, stdout_kept_for
from .commands import cmd_formats, cmd_info, cmd_sample, cmd_validate, cmd_verify
from .errors import OptionError, VosconvError, VosconvWarning
from .inspect import cli as inspect_cli
from .version import __version__

# Only light modules are imported before a command runs (``api`` imports its work when called):
# `vosconv --help` and `vosconv formats` read the registry's plain table, and each command
# imports what its work needs (tests/test_cli.py checks sys.modules after both).

if TYPE_CHECKING:
    from .config import Config, Pipeline


def _run_args(parser: argparse.ArgumentParser) -> None:
    executor_args(parser)
    replace = parser.add_mutually_exclusive_group()
    replace.add_argument("--overwrite", action="store_true", help="replace an existing output that vosconv wrote")
    replace.add_argument("--resume", action="store_true", help="finish an interrupted run into the same output")
    parser.add_argument(
        "--on-error", choices=("fail", "skip"), default="fail", help="stop at a bad video, or skip it (default: fail)"
    )
    parser.add_argument("--allow-skips", action="store_true", help="exit 0 even when videos were skipped")
    parser.add_argument("--json", action="store_true", help="print what was written as JSON instead of the summary line")


class _Parser(argparse.ArgumentParser):
    """argparse's parser (each command's too), whose "SRC is required" says why when a flag of several values took it.

    ``vosconv preview --video bear DAVIS`` gives DAVIS to ``--video`` as a second name, and argparse then
    reported only that SRC was missing, which the user had typed.
    """

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[override]
        self._given = list(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str):  # type: ignore[override]
        given = getattr(self, "_given", [])
        greedy = [
            action.option_strings[-1]
            for action in self._actions
            if action.nargs == "+" and any(arg.split("=", 1)[0] in action.option_strings for arg in given)
        ]
        if greedy and message.endswith(": SRC"):
            flag = greedy[0]
            message += f" ({flag} takes every name after it, up to the next flag: give SRC before {flag})"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="vosconv", description="Lossless, fast conversion of VOS datasets.")
    parser.add_argument("--version", action="version", version=f"vosconv {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    convert = commands.add_parser("convert", help="convert a dataset to another format")
    convert.add_argument("source", metavar="SRC", help=SRC_HELP)
    convert.add_argument("-o", "--output", required=True, metavar="OUT", help="output file or folder")
    writers = ", ".join(sorted(registry.writers))  # the built-in table: no plugin scan for --help
    convert.add_argument("--to", metavar="FORMAT", help=f"writer: {writers} (default: from OUT's name: {_suffix_help()})")
    reader_args(convert)
    convert.add_argument("-w", "--write-opt", action="append", metavar="KEY=VALUE", help="writer option (repeatable)")
    convert.add_argument(
        "--no-images",
        action="store_true",
        help="annotations only, -w images=false: parquet/hdf5 keep frame paths, folder layouts copy no JPEGs",
    )
    _derive_args(convert)
    _run_args(convert)
    convert.set_defaults(handler=cmd_convert)

    run = commands.add_parser("run", help="run named pipelines from pipelines.yaml")
    run.add_argument("pipelines", nargs="*", metavar="PIPELINE", help="names (default: the file's default)")
    run.add_argument("--format", metavar="FORMAT", help=f"writer to use instead of each pipeline's: {writers}")
    run.add_argument("--config", default="pipelines.yaml", metavar="FILE", help="pipelines file (default: ./pipelines.yaml)")
    run.add_argument("--workers", type=count, metavar="N", help="override each pipeline's worker count")
    _run_args(run)
    run.set_defaults(handler=cmd_run)

    info = commands.add_parser("info", help="count videos, frames, objects and masks of a dataset")
    info.add_argument("source", metavar="SRC", help=SRC_HELP)
    reader_args(info)
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(handler=cmd_info)

    validate = commands.add_parser("validate", help="check a source without converting it: errors and notes")
    validate.add_argument("source", metavar="SRC", help=SRC_HELP)
    reader_args(validate)
    validate.add_argument("--json", action="store_true", help="print JSON")
    validate.set_defaults(handler=cmd_validate)

    verify = commands.add_parser("verify", help="check a downloaded archive against the known SHA256 checksums")
    verify.add_argument("file", metavar="FILE", help="a downloaded archive (MOSE train.tar.gz or valid.tar.gz, a DAVIS 2017 zip)")
    verify.set_defaults(handler=cmd_verify)

    formats = commands.add_parser("formats", help="list registered readers and writers")
    formats.add_argument("--options", action="store_true", help="also list each one's options: type, default, help")
    formats.set_defaults(handler=cmd_formats)

    sample = commands.add_parser("sample", help="write a small synthetic dataset with the real traits")
    sample.add_argument("output", metavar="OUT", help="folder to write the dataset into")
    sample.add_argument(
        "--layout", default="mose", choices=("mose", "davis", "youtube-vos"), help="the folder layout (default: mose)"
    )
    sample.add_argument(
        "--seed", type=seed, default=0, help="0 or more: another seed, another dataset; the same, the same bytes (default: 0)"
    )
    sample.add_argument(
        "--scale",
        type=count,
        default=1,
        help="multiply both the number of videos and their length: the data grows as SCALE squared (default: 1)",
    )
    sample.set_defaults(handler=cmd_sample)
    inspect_cli.add_commands(commands)
    for command in commands.choices.values():
        command.set_defaults(command_parser=command)
    return parser


def _suffix_help() -> str:
    """``.json, .json.gz: coco; ...`` from the built-in table (no entry-point scan, no import)."""
    return "; ".join(f"{', '.join(spec.suffixes)}: {spec.name}" for spec in registry.writers.values() if spec.suffixes)


def run_options(args: argparse.Namespace, workers: int) -> dict[str, Any]:
    """Keyword arguments of ``pipeline.convert`` from the run-control flags."""
    from .run.executors import make_executor

    return {
        "executor": make_executor(workers, args.executor, args.ray_address),
        "resume": args.resume,
        "on_error": args.on_error,
        "progress": None,
    }


def writer_name(args: argparse.Namespace) -> tuple[str, bool]:
    """The writer ``--to`` names (any case), else the one the output's name implies; and whether it was inferred."""
    inferred = registry.writer_for_output(args.output)
    if args.to:
        chosen = registry.resolve("writer", args.to)
        if registry.contradicts_output(args.output, chosen):  # out.json as a Parquet folder: legal, most likely a slip
            warnings.warn(
                f"{args.output}: a {inferred} output's name; --to {chosen} writes a {chosen} output there",
                VosconvWarning,
                stacklevel=2,
            )
        return chosen, False
    if inferred is None:
        choices = ", ".join(registry.names("writer"))
        raise OptionError(
            "--to",
            f"cannot tell the output format from the name {args.output!r}: give --to ({choices}), "
            f"or end OUT with a format's suffix ({_suffix_help()})",
        )
    return inferred, True


def cmd_convert(args: argparse.Namespace) -> int:
    from .run import pipeline

    to, inferred = writer_name(args)
    values = plugin_options.parse_pairs(args.write_opt, "--write-opt")
    if args.no_images:
        if "images" not in plugin_options.fields(registry.writer_class(to).Options):
            raise OptionError(
                "--no-images", f"the {to} writer holds no images (it names each frame's file): leave --no-images out"
            )
        values["images"] = False
    writer = api.open_writer(to, values, where="--write-opt")
    derive = _derive_options(args)
    with stdout_kept_for(args.json), open_reader(args) as reader:
        run = pipeline.convert if derive is None else functools.partial(_derived_convert, derive=derive)
        replaced = os.path.lexists(args.output)
        summary = run(reader, writer, args.output, overwrite=args.overwrite, **run_options(args, args.workers))
        split = reader.info().split if args.json else None
    if args.json:
        print_json(_conversion_facts(summary, reader, split, writer.name, replaced=replaced, derive=derive))
        return _skips_exit(summary, args)
    _report(summary, reader.name, writer.name + (" (inferred from the output's name; --to chooses)" if inferred else ""))
    if derive is not None:
        print(f"derived set: {derive.describe()}")
    return _skips_exit(summary, args)


def _conversion_facts(summary, reader, split: str | None, writer: str, *, replaced: bool, derive) -> dict[str, Any]:
    """``convert --json``, a ``run --json`` pipeline's: the summary line's facts and what it only hints at
    (docs/cli.md#machine-readable-output; tests/test_json_output.py holds the keys to the page's)."""
    stats = summary.stats
    return {
        "source": absolute(reader.source),
        "format": reader.name,
        "split": split,
        "output": absolute(summary.output),
        "output_format": writer,
        "replaced": replaced,
        **stats.counts(),
        "skipped": len(stats.skipped),
        "errors_file": absolute(summary.errors_file),
        "shards": summary.shards,
        "resumed_shards": summary.resumed,
        "notes": list(summary.notes),
        "derived": None if derive is None else derive.describe(),
        "seconds": round(summary.seconds, 3),
    }


# --------------------------------------------------------------------------------------------
# derived sets at convert time (converters/run/derive.py)


def _derive_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("derived sets (recorded in the output as the attribute 'derived')")
    group.add_argument("--videos-from", metavar="FILE", help="keep only the videos FILE names, one a line")
    group.add_argument("--frame-step", type=count, default=1, metavar="K", help="keep every K-th frame, names unchanged")
    group.add_argument("--first-appearance", action="store_true", help="keep each object's mask only where it first appears")
    group.add_argument("--max-side", type=count, metavar="N", help="shrink frames and masks to at most N px a side (lossy)")
    group.add_argument("--empty-frames-list", metavar="FILE.json", help="also write {video: [empty frame stems]} (Cutie's)")


def _derive_options(args: argparse.Namespace):
    from .run.derive import Derive

    derive = Derive(args.videos_from, args.frame_step, args.first_appearance, args.max_side, args.empty_frames_list)
    return derive if derive.active else None


#: The flags a derivation's errors name, and the ``derive:`` keys of pipelines.yaml they stand for.
_DERIVE_KEYS = {"--videos-from": "videos_from", "--empty-frames-list": "empty_frames_list"}


def _derived_convert(reader, writer, output, *, derive, where: str | None = None, **run):
    """A derived set; with ``where`` (a pipeline's ``derive:`` YAML path), its errors name that path, not a flag."""
    from .run import derive as derivation

    try:
        return derivation.convert(reader, writer, output, derive, **run)
    except OptionError as error:
        if where is None or error.where not in _DERIVE_KEYS:
            raise
        raise OptionError(f"{where}.{_DERIVE_KEYS[error.where]}", error.message) from None


def cmd_run(args: argparse.Namespace) -> int:
    from . import config

    settings = config.load(args.config)
    names = args.pipelines or settings.default
    if not names:  # `default: []`: nothing would run, and the exit status would say it went well
        raise OptionError("PIPELINE", f"{args.config} has no default pipeline; name one of {', '.join(settings.pipelines)}")
    for name in names:
        if name not in settings.pipelines:
            from .suggest import did_you_mean

            hint = did_you_mean(name, settings.pipelines)
            raise OptionError(
                "PIPELINE",
                f"no pipeline named {name!r} in {args.config};{hint} defined: {', '.join(settings.pipelines)}",
            )
    names = list(dict.fromkeys(names))  # `run a a`: one conversion, not a second over the first
    targets: dict[str, tuple[Any, Path]] = {}
    for name in names:  # every missing source, bad option and shared output is found before anything is converted
        _check_source(settings.pipelines[name])
        _check_detected_reader_options(settings.pipelines[name])
        targets[name] = _writer_and_output(settings.pipelines[name], args.format)
        first = next(other for other in targets if targets[other][1] == targets[name][1])
        if first != name:  # the second would replace the first's output (or stop at it), after it converted
            raise OptionError(
                "PIPELINE", f"pipelines {first!r} and {name!r} both write {targets[name][1]}; give one another output"
            )
    status = 0
    counts = [settings.pipelines[name].workers if args.workers is None else args.workers for name in names]
    ran: list[dict[str, Any]] = []
    with stdout_kept_for(args.json), _one_ray_for_all(args, counts):
        for name in names:
            status = max(status, _run_pipeline(args, settings, name, targets[name], ran))
    if args.json:
        print_json({"pipelines": ran})
    return status


def _one_ray_for_all(args: argparse.Namespace, workers: list[int]) -> contextlib.AbstractContextManager:
    """``--executor ray``: one Ray instance for every pipeline of the run, not one started (seconds) for each."""
    if args.executor != "ray":
        return contextlib.nullcontext()
    from .run.ray_executor import ray_session

    # A local instance gets the most CPUs a pipeline asks for, and each pipeline runs only its own workers'
    # tasks at once; a pipeline of 1 worker means as many CPUs as Ray finds. A cluster has what it has.
    local = args.ray_address is None and min(workers) > 1
    return ray_session(args.ray_address, **({"num_cpus": max(workers)} if local else {}))


def _run_pipeline(
    args: argparse.Namespace, settings: Config, name: str, target: tuple[Any, Path], ran: list[dict[str, Any]]
) -> int:
    """One pipeline of ``vosconv run``, reported (with ``--json``, its facts appended to ``ran``); its exit status."""
    from .run import pipeline

    spec = settings.pipelines[name]
    source, source_note = _pipeline_source(spec, settings)
    writer, output = target
    workers = spec.workers if args.workers is None else args.workers
    with api.open_reader(source, spec.reader, spec.reader_options, where=f"{spec.where}.reader_options") as reader:
        overwrite = spec.overwrite or args.overwrite
        run = (
            pipeline.convert
            if spec.derive is None
            else functools.partial(_derived_convert, derive=spec.derive, where=f"{spec.where}.derive")
        )
        replaced = os.path.lexists(output)
        summary = run(reader, writer, output, overwrite=overwrite, **run_options(args, workers))
        split = reader.info().split if args.json else None
    if args.json:
        facts = _conversion_facts(summary, reader, split, writer.name, replaced=replaced, derive=spec.derive)
        ran.append({"pipeline": name, "sample": absolute(source) if source_note else None, **facts})
        return _skips_exit(summary, args)
    _report(summary, reader.name, writer.name, prefix=f"{name}: ", source_note=source_note)
    if spec.derive is not None:
        print(f"{name}: derived set: {spec.derive.describe()}")
    return _skips_exit(summary, args)


def _writer_and_output(spec: Pipeline, format: str | None) -> tuple[Any, Path]:
    """The writer a pipeline runs (``--format``'s, else its own) and the output it writes."""
    # --format HDF5 is hdf5: the pipeline's writer_options.hdf5 apply, and its output is the one hdf5 writes
    format_name = registry.resolve("writer", format) if format else spec.writer
    writer = api.open_writer(
        format_name, spec.writer_options.get(format_name), where=f"{spec.where}.writer_options.{format_name}"
    )
    suffix = writer.suffix
    if not suffix and format_name != spec.writer:  # a folder layout asked for instead
        suffix = f".{writer.name}"  # out/mose-train.davis: FORMAT=mose, davis and youtube-vos do not replace each other
    named = spec.output.name.lower().endswith(tuple(registry.spec("writer", writer.name).suffixes))
    return writer, spec.output if named else spec.output.with_name(spec.output.name + suffix)  # x.json stays x.json


def _check_source(spec: Pipeline) -> None:
    """VosconvError naming the path when the source is missing and the bundled sample may not stand in for it.

    The sample stands in only for the shipped default data path (``data/MOSE`` for a
    ``sample: mose`` pipeline) while it does not exist; a source of one's own, or a typo, must exist.
    """
    from .config import DEFAULT_SOURCES

    if spec.source.exists() or (spec.sample is not None and spec.default_source):
        return
    why = ""
    if spec.sample is not None:
        why = f"; the bundled {spec.sample} sample stands in only for the default source {DEFAULT_SOURCES[spec.sample]}"
    raise VosconvError(f"{spec.name}: source {spec.source} does not exist ({spec.where}.source){why}")


def _check_detected_reader_options(spec: Pipeline) -> None:
    """Without ``reader:``, the options are checked against the reader the source is detected as.

    Loading the file could not (it names no reader): a typo there would otherwise stop the run
    at that pipeline, after the ones before it had converted.
    """
    if spec.reader is not None or not spec.reader_options or not spec.source.exists():
        return
    from . import options as plugin_options

    reader = registry.load("reader", api.detect(spec.source))
    plugin_options.build(reader.Options, spec.reader_options, f"{spec.where}.reader_options")


def _pipeline_source(spec: Pipeline, settings: Config) -> tuple[Path, str]:
    """The folder a pipeline reads, and what the summary line says about it (the sample, when it stands in)."""
    from .sample import write_sample

    _check_source(spec)
    if spec.source.exists():
        return spec.source, ""
    sample = settings.sample_dir / spec.sample
    if not sample.exists():
        say(f"{spec.name}: {spec.source} not found; generating the bundled {spec.sample} sample in {sample}")
        write_sample(sample, spec.sample)
    return sample, f"converted the bundled synthetic {spec.sample} sample ({sample}), as {spec.source} does not exist"


def _skips_exit(summary, args: argparse.Namespace) -> int:
    """Exit status 3 when videos were skipped, unless --allow-skips."""
    skipped = len(summary.stats.skipped)
    if not skipped:
        return 0
    say(f"skipped {skipped} bad video{'s' if skipped != 1 else ''}; see {summary.errors_file}")
    return 0 if args.allow_skips else 3


def _report(summary, reader: str, writer: str, prefix: str = "", source_note: str = "") -> None:
    """The summary line: what was written, from what (``writer`` may carry a note), and how fast this run was."""
    frames = summary.converted_frames
    rate = frames / summary.seconds if summary.seconds else 0.0
    took = f"{summary.seconds:.2f} s, {rate:,.0f} frames/s"
    resumed = ""
    if summary.resumed:
        resumed = f"; {summary.resumed} of {summary.shards} shards kept from the interrupted run"
        took += f" over the {frames} frames converted now"
    note = f"; {source_note}" if source_note else ""
    print(f"{prefix}{reader} -> {writer}: wrote {summary.output} ({summary.stats.line()}{resumed}) in {took}{note}")
    for line in getattr(summary, "notes", ()):
        print(f"{prefix}note: {line}")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    if issubclass(category, VosconvWarning):
        print(f"warning: {message}", file=sys.stderr)
    else:
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _interrupted(exc: VosconvError) -> bool:
    """Whether ``exc`` is the pipeline's Interrupted; only a run that imported the pipeline can raise it."""
    pipeline = sys.modules.get(f"{__package__}.run.pipeline")
    return pipeline is not None and isinstance(exc, pipeline.Interrupted)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # said by the command's own parser, whose usage line is the one that helps
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    warnings.showwarning = _show_warning
    try:
        return args.handler(args)
    except VosconvError as exc:
        if _interrupted(exc):
            print(str(exc), file=sys.stderr)
            return 130
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except ChildProcessError as exc:  # a worker killed (for memory, say): what was finished, and --resume
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
