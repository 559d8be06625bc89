"""Plugin options: each plugin declares a frozen dataclass; this module builds it from YAML or CLI text.

Validation happens when the options are built, so a bad ``pipelines.yaml`` fails at load
time with the YAML path of the bad value, not halfway through a conversion.
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal

from .errors import OptionError
from .suggest import did_you_mean

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


@dataclasses.dataclass(frozen=True)
class OptionSpec:
    """One option as the registry lists it and ``vosconv formats --options`` shows it; ``type`` as :func:`type_text` writes it."""

    name: str
    type: str
    default: Any
    help: str


@dataclasses.dataclass(frozen=True)
class NoOptions:
    """For plugins that take no options."""


def fields(cls: type) -> dict[str, Any]:
    """Option name -> its resolved type annotation."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def type_text(annotation: Any) -> str:
    """How ``vosconv formats --options`` writes an option's type: ``int``, ``str or none``, ``rle|dense``."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        named = [type_text(arg) for arg in args if arg is not type(None)]
        return " or ".join(named + (["none"] if type(None) in args else []))
    if origin is Literal:
        return "|".join(str(arg) for arg in args)
    return getattr(annotation, "__name__", str(annotation))


def describe(cls: type) -> tuple[OptionSpec, ...]:
    """The options of the dataclass ``cls`` as registry entries; help comes from a field's ``metadata["help"]``."""
    declared = fields(cls)
    return tuple(
        OptionSpec(f.name, type_text(declared[f.name]), _default(f), f.metadata.get("help", "")) for f in dataclasses.fields(cls)
    )


def _default(field: dataclasses.Field) -> Any:
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return None


def show_value(value: Any) -> str:
    """A default as it would be typed on the command line or in YAML: ``none``, ``true``, ``480p``."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def build(cls: type, values: Mapping[str, Any] | None, where: str) -> Any:
    """An instance of the options dataclass ``cls`` from ``values``, checked key by key.

    Strings are converted to the declared type (CLI ``key=value`` pairs arrive as text);
    anything else must already have the right type. ``where`` prefixes every error.
    """
    if values is not None and not isinstance(values, Mapping):  # "masks=dense" passed as Python's options
        raise OptionError(where, f"expected a mapping of option names to values, got {values!r}")
    values = dict(values or {})
    declared = fields(cls)
    unknown = sorted(set(values) - set(declared))
    if unknown:
        allowed = ", ".join(sorted(declared)) or "none"
        hint = did_you_mean(unknown[0], declared)
        raise OptionError(f"{where}.{unknown[0]}", f"unknown option{';' + hint if hint else ''} (allowed: {allowed})")
    checked = {key: _coerce(value, declared[key], f"{where}.{key}") for key, value in values.items()}
    try:
        return cls(**checked)
    except (TypeError, ValueError) as exc:
        raise OptionError(where, str(exc)) from None


def parse_pairs(pairs: list[str] | None, where: str) -> dict[str, str]:
    """``["key=value", ...]`` from the command line to a dict."""
    result = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise OptionError(where, f"expected KEY=VALUE, got {pair!r}")
        result[key.strip().replace("-", "_")] = value
    return result


def is_flag(value: object) -> bool:
    """True or False, numpy's too (a bool scalar or 0-d array); an array of flags is no one flag."""
    return isinstance(value, bool) or (getattr(getattr(value, "dtype", None), "kind", None) == "b" and value.shape == ())


def _coerce(value: Any, annotation: Any, where: str) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        if isinstance(value, str) and value.lower() in ("none", "null") and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, where)
            except OptionError as exc:
                errors.append(exc.message)
        raise OptionError(where, "; ".join(errors))
    if origin is Literal:
        for arg in args:
            if type(value) is type(arg) and value == arg:
                return arg
            if isinstance(value, str) and not isinstance(arg, str):
                try:
                    if _coerce(value, type(arg), where) == arg:
                        return arg
                except OptionError:
                    pass
        raise OptionError(where, f"expected one of {', '.join(map(repr, args))}, got {value!r}")
    if annotation is bool:
        if is_flag(value):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise OptionError(where, f"expected true or false, got {value!r}")
    if annotation in (int, float):
        if isinstance(value, bool):
            raise OptionError(where, f"expected {annotation.__name__}, got {value!r}")
        if isinstance(value, numbers.Integral) or (annotation is float and isinstance(value, numbers.Real)):
            return annotation(value)  # numpy's integers and floats too, as a notebook computes them
        if isinstance(value, str):
            try:
                return annotation(value.replace("_", ""))
            except ValueError:
                pass
        raise OptionError(where, f"expected {annotation.__name__}, got {value!r}")
    if annotation is str:
        if isinstance(value, str):
            return value
        if isinstance(value, os.PathLike) and isinstance(os.fspath(value), str):  # images=Path(...) from Python
            return os.fspath(value)
        raise OptionError(where, f"expected a string, got {value!r}")
    raise OptionError(where, f"unsupported option type {annotation}")
