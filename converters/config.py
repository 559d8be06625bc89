"""``pipelines.yaml``: named conversions (source, reader and options, writer and options, output).

Everything is validated when the file loads, against each plugin's own options class,
and every error names the YAML path of the bad value, e.g.
``pipelines.yaml: pipelines.mose-train.writer_options.coco.compresslevel: expected int``.

.. code-block:: yaml

    default: mose-train          # what `vosconv run` runs without names
    output_dir: out              # outputs: <output_dir>/<pipeline><writer suffix>
    pipelines:
      mose-train:
        source: data/MOSE        # relative paths are relative to this file
        sample: mose             # while source is the shipped default (data/MOSE) and missing: the bundled sample
        reader: mose             # omit to auto-detect
        reader_options: {}
        writer: coco             # `vosconv run --format parquet` picks another writer
        writer_options:          # per writer format
          coco: {compresslevel: 6}
        workers: 1
        overwrite: true
        derive: {first_appearance: true, videos_from: lists/val.txt}   # a derived set (converters/run/derive.py)
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import options as plugin_options
from . import registry
from .errors import OptionError, VosconvError
from .suggest import did_you_mean

#: The data path the shipped pipelines.yaml names for each sample layout. The bundled sample stands
#: in for a pipeline's source only while that source is exactly this default and does not exist:
#: an edited source (a typo, a path of one's own) that is missing is an error, never the sample.
DEFAULT_SOURCES = {"mose": "data/MOSE", "davis": "data/DAVIS", "youtube-vos": "data/YouTube-VOS"}

_PIPELINE_KEYS = {
    "source", "sample", "reader", "reader_options", "writer", "writer_options", "output", "workers", "overwrite", "derive",
}  # fmt: skip


@dataclass(frozen=True)
class Pipeline:
    name: str
    source: Path
    sample: str | None  # as written; it stands in only for a ``default_source``
    reader: str | None
    reader_options: dict[str, Any]
    writer: str
    writer_options: dict[str, dict[str, Any]]
    output: Path  # the writer's suffix is added unless it ends with one
    workers: int = 1
    overwrite: bool = False
    where: str = ""  # the YAML path of this pipeline, for messages
    #: The source is the shipped default of its sample layout (``DEFAULT_SOURCES``): only then,
    #: and while it does not exist, is the bundled sample converted instead.
    default_source: bool = False
    #: A derived set to make (:class:`converters.run.derive.Derive`), or None; its files are relative to the YAML file.
    derive: Any = None


@dataclass(frozen=True)
class Config:
    path: Path
    default: list[str]
    pipelines: dict[str, Pipeline] = field(default_factory=dict)

    @property
    def sample_dir(self) -> Path:
        """Where bundled samples are generated on first use."""
        return self.path.parent / "data" / "sample"


def load(path: str | os.PathLike) -> Config:
    """Read and validate a pipelines file; OptionError names the YAML path of any problem."""
    path = Path(path).absolute()  # sources and outputs stay valid if the working folder changes
    label = path.name
    try:
        data = yaml.safe_load(path.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise VosconvError(
            f"{path}: no such pipelines file; name one with --config FILE, or run in the folder holding it "
            "(vosconv's own pipelines.yaml is in the repository's root)"
        ) from None
    except OSError as exc:  # a folder, no permission, an I/O error
        raise VosconvError(f"{path}: cannot read the pipelines file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise OptionError(label, f"not UTF-8 text (byte {exc.start} is {exc.object[exc.start]:#04x})") from None
    except yaml.YAMLError as exc:
        raise OptionError(label, f"not valid YAML: {exc}") from None
    except RecursionError:
        raise OptionError(label, "nested too deeply to be a pipelines file") from None
    if not isinstance(data, dict):
        raise OptionError(label, "expected a mapping with a 'pipelines' key")
    unknown = sorted(set(data) - {"default", "output_dir", "pipelines"})
    if unknown:
        raise OptionError(f"{label}: {unknown[0]}", "unknown key (allowed: default, output_dir, pipelines)")
    output_dir = path.parent / _typed(data.get("output_dir", "out"), str, f"{label}: output_dir")
    entries = _typed(data.get("pipelines"), dict, f"{label}: pipelines")
    if not entries:  # `vosconv run` would do nothing and exit 0: an indentation slip, most likely
        raise OptionError(f"{label}: pipelines", "defines no pipeline")
    for name in entries:
        if not isinstance(name, str) or not name:
            raise OptionError(f"{label}: pipelines", f"pipeline names must be non-empty strings, got {name!r} (quote it)")
        entry = entries[name]
        if not (isinstance(entry, dict) and "output" in entry) and (name in (".", "..") or any(c in name for c in "/\\\0")):
            raise OptionError(f"{label}: pipelines.{name}", "without an 'output', the name is the output's file name")
    pipelines = {
        name: _pipeline(
            str(name), _typed(entry, dict, f"{label}: pipelines.{name}"), path.parent, output_dir, f"{label}: pipelines.{name}"
        )
        for name, entry in entries.items()
    }
    default = data.get("default", list(pipelines)[:1])
    default = [default] if isinstance(default, str) else _typed(default, list, f"{label}: default")
    for name in default:
        if not isinstance(name, str) or name not in pipelines:
            hint = did_you_mean(name, pipelines) if isinstance(name, str) else ""
            raise OptionError(f"{label}: default", f"no pipeline named {name!r};{hint} defined: {', '.join(pipelines)}")
    return Config(path, default, pipelines)


#: How an error names what YAML should have held.
_KINDS = {str: "text", int: "an integer", bool: "true or false", list: "a list", dict: "a mapping (key: value)"}


def _typed(value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):  # YAML true is not a count
        raise OptionError(where, f"expected {_KINDS.get(kind, kind.__name__)}, got {value!r}")
    return value


def _output(value: Any, where: str) -> str:
    """An output path that names a file or folder of its own (the writer's suffix is added to that name)."""
    text = _typed(value, str, where).rstrip("/" + os.sep) or value  # "out/b/" names b, as a shell would
    if Path(text).name in ("", ".", ".."):
        raise OptionError(where, f"expected a path ending in a file or folder name, got {value!r}")
    return text


def _plugin(kind: str, name: Any, where: str) -> type:
    if not isinstance(name, str) or name not in registry.names(kind):
        hint = did_you_mean(name, registry.names(kind)) if isinstance(name, str) else ""
        raise OptionError(where, f"unknown {kind} {name!r};{hint} registered: {', '.join(registry.names(kind))}")
    return registry.load(kind, name)


def _pipeline(name: str, entry: dict, base: Path, output_dir: Path, where: str) -> Pipeline:
    unknown = sorted(set(entry) - _PIPELINE_KEYS)
    if unknown:
        raise OptionError(f"{where}.{unknown[0]}", f"unknown key (allowed: {', '.join(sorted(_PIPELINE_KEYS))})")
    if "source" not in entry:
        raise OptionError(where, "missing 'source'")
    source_text = _typed(entry["source"], str, f"{where}.source")
    source = base / source_text
    sample = entry.get("sample")
    if sample is not None:
        from .sample import LAYOUTS

        if sample not in LAYOUTS:
            raise OptionError(f"{where}.sample", f"expected one of {', '.join(LAYOUTS)}, got {sample!r}")
    reader = entry.get("reader")
    reader_options = _typed(entry.get("reader_options") or {}, dict, f"{where}.reader_options")
    if reader is not None:
        plugin_options.build(_plugin("reader", reader, f"{where}.reader").Options, reader_options, f"{where}.reader_options")
    writer = entry.get("writer", "coco")
    _plugin("writer", writer, f"{where}.writer")
    writer_options = _typed(entry.get("writer_options") or {}, dict, f"{where}.writer_options")
    for format_name, values in writer_options.items():
        cls = _plugin("writer", format_name, f"{where}.writer_options.{format_name}")
        plugin_options.build(
            cls.Options,
            _typed(values or {}, dict, f"{where}.writer_options.{format_name}"),
            f"{where}.writer_options.{format_name}",
        )
    workers = _typed(entry.get("workers", 1), int, f"{where}.workers")
    if workers < 1:
        raise OptionError(f"{where}.workers", "must be at least 1")
    output = base / _output(entry["output"], f"{where}.output") if "output" in entry else output_dir / name
    return Pipeline(
        name=name,
        source=source,
        sample=sample,
        reader=reader,
        reader_options=reader_options,
        writer=writer,
        writer_options={k: dict(v or {}) for k, v in writer_options.items()},
        output=output,
        workers=workers,
        overwrite=_typed(entry.get("overwrite", False), bool, f"{where}.overwrite"),
        where=where,
        default_source=sample is not None and _same_path(source_text, DEFAULT_SOURCES[sample]),
        derive=_derive(entry.get("derive"), base, f"{where}.derive"),
    )


def _derive(value: Any, base: Path, where: str) -> Any:
    """The pipeline's ``derive:`` mapping as a checked Derive (None when absent), its file paths made absolute."""
    if value is None:
        return None
    from .run.derive import build

    values = dict(_typed(value, dict, where))
    for key in ("videos_from", "empty_frames_list"):
        if isinstance(values.get(key), str) and values[key].strip():  # a blank one is refused as such, not as the folder
            values[key] = str(base / values[key])
    return build(values, where)


def _same_path(text: str, default: str) -> bool:
    """``data/MOSE/`` and ``./data/MOSE`` are the default ``data/MOSE``; ``data/mose`` is not."""
    return os.path.normpath(text) == os.path.normpath(default)
