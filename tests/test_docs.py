"""The documentation stays what a newcomer can follow: a short README, links that resolve in a clone, a quickstart that parses."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
README_LIMIT = 12_000
QUICKSTART_LINES = 15

_FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_LINK = re.compile(r"!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.M)


def markdown_files() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md")), *[p for p in [ROOT / "CHANGELOG.md"] if p.exists()]]


def prose(text: str) -> str:
    """The text without code blocks, code spans and HTML comments, where a [x](y) is no link."""
    return _CODE_SPAN.sub("", _FENCE.sub("", _COMMENT.sub("", text)))


def links(path: Path) -> list[str]:
    return _LINK.findall(prose(path.read_text(encoding="utf-8")))


def is_external(target: str) -> bool:
    return re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) is not None  # https:, mailto:, ...


def anchor(heading: str) -> str:
    """GitHub's id for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {anchor(h) for h in _HEADING.findall(text)}


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


def test_readme_is_short():
    size = len(README.read_text(encoding="utf-8"))
    assert size <= README_LIMIT, f"README.md is {size} characters; move reference material into docs/"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve_inside_the_repository(path):
    for target in links(path):
        if is_external(target):
            continue
        assert not target.startswith("../shared"), f"{path.name}: {target} points at a folder a clone does not have"
        file_part, _, fragment = target.partition("#")
        resolved = (path.parent / file_part).resolve() if file_part else path
        assert resolved == ROOT or ROOT in resolved.parents, f"{path.name}: {target} leads out of the repository"
        assert resolved.exists(), f"{path.name}: {target} does not exist"
        if fragment and resolved.suffix == ".md":
            assert fragment in anchors(resolved), f"{path.name}: {target}: no heading with that anchor"


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reference_to_the_shared_folder(path):
    assert "../shared" not in path.read_text(encoding="utf-8")


def quickstart() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = python_blocks(section)
    assert blocks, "the README's Quickstart section has no python block"
    return blocks[0]


def test_readme_quickstart_parses_and_is_short():
    code = quickstart()
    compile(code, "README.md quickstart", "exec")
    assert len(code.rstrip("\n").splitlines()) <= QUICKSTART_LINES


def test_readme_python_imports_exist():
    """Every ``from converters... import name`` in the README names something that is there."""
    for code in python_blocks(README.read_text(encoding="utf-8")):
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "converters":
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"README: {node.module} has no {alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "converters":
                        importlib.import_module(alias.name)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("See [x](docs/a.md) and `[y](not/a/link)`", ["docs/a.md"]),
        ("```sh\n[z](in/code)\n```\n[w](b.md#part)", ["b.md#part"]),
        ("<!-- [c](in/comment) --> [e](https://example.org)", ["https://example.org"]),
    ],
)
def test_link_finder(tmp_path, text, expected):
    page = tmp_path / "page.md"
    page.write_text(text)
    assert links(page) == expected


def test_anchor_matches_github():
    assert anchor("Parquet shards (`part-NNNNN.parquet`)") == "parquet-shards-part-nnnnnparquet"
    assert anchor("One run per output: locking") == "one-run-per-output-locking"
    assert anchor("manifest.json") == "manifestjson"


def flat(path: Path) -> str:
    """The page with every run of white space one blank, so a sentence wrapped over lines reads whole."""
    return " ".join(path.read_text(encoding="utf-8").split())


def test_documented_errors_are_the_ones_printed(capsys, sample_root, tmp_path):
    """The messages cli.md quotes, word for word as a user would see them."""
    from converters import api, options, registry
    from converters.cli import main
    from converters.errors import VosconvError

    cli = flat(ROOT / "docs" / "cli.md")
    with pytest.raises(VosconvError) as unknown_writer:
        registry.resolve("writer", "Parket")
    assert f"`error: {unknown_writer.value}`" in cli
    reader = registry.reader_class("mose")
    with pytest.raises(VosconvError) as typo:
        options.build(reader.Options, {"splt": "train"}, "--read-opt")
    assert f"`error: {typo.value}`" in cli
    with pytest.raises(VosconvError) as elsewhere:
        api.open_writer("coco", {"masks": "dense"}, where="--write-opt")
    assert f"`error: {elsewhere.value}`" in cli
    assert main(["info", str(sample_root["mose"]), "--split", "trian"]) == 1
    printed = capsys.readouterr().err
    quoted = re.search(r"`(no split 'trian'[^`]*)`", cli).group(1)
    assert printed == f"error: {sample_root['mose'] / 'trian'}: {quoted}\n"


def test_documented_summary_line_is_the_one_printed(capsys, sample_root, tmp_path, monkeypatch):
    """cli.md's summary of converting the sample's MOSE train split to COCO, timings aside."""
    from converters.cli import main

    documented = re.search(r"^ {4}(mose -> coco: wrote out/mose-train\.json .*)$", (ROOT / "docs" / "cli.md").read_text(), re.M)
    monkeypatch.chdir(tmp_path)
    assert main(["convert", str(sample_root["mose"]), "--split", "train", "-o", "out/mose-train.json", "--to", "coco"]) == 0
    printed = capsys.readouterr().out.strip()
    timing = re.compile(r" in [0-9.]+ s, [0-9,]+ frames/s$")
    assert timing.search(printed) and timing.search(documented.group(1))
    assert timing.sub("", printed) == timing.sub("", documented.group(1))


@pytest.mark.parametrize(
    ("page", "marker"),
    [
        ("README.md", "`--to` is inferred from"),
        ("docs/cli.md", "| `--to FORMAT` |"),
        ("docs/loader.md", "writer_for_output(path)"),
    ],
)
def test_every_output_suffix_is_documented_where_to_is_inferred(page, marker):
    from converters import registry

    text = flat(ROOT / page)
    start = text.index(marker)
    passage = text[start : start + 400]
    missing = [s for spec in registry.specs("writer") for s in spec.suffixes if f"`{s}`" not in passage]
    assert not missing, f"{page}: the passage at {marker!r} does not name {missing}"


def test_documented_derived_set_line_is_the_one_printed(capsys, sample_root, tmp_path, monkeypatch):
    """cli.md's ``derived set:`` line, from the flags it names, in the order it names them."""
    from converters.cli import main

    documented = re.search(r"^ {4}(derived set: .*)$", (ROOT / "docs" / "cli.md").read_text(), re.M).group(1)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "val.txt").write_text(
        "\n".join(
            sorted(p.name for p in (sample_root["mose"] / "train" / "JPEGImages").iterdir() if not p.name.startswith("."))[:2]
        )
    )
    argv = ["convert", str(sample_root["mose"]), "--split", "train", "-o", "out/val.json", "--videos-from", "lists/val.txt"]
    argv += ["--frame-step", "2", "--first-appearance"]
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines()[-1] == documented


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_example_parses_and_imports_what_is_there(path):
    """Every ```python block of every page compiles, and each ``from converters... import name`` names something real."""
    for number, code in enumerate(python_blocks(path.read_text(encoding="utf-8")), 1):
        for node in ast.walk(ast.parse(code, f"{path.name} python block {number}")):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "converters":
                module = importlib.import_module(node.module)
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{path.name}: {node.module} has no {alias.name}"


def test_loader_other_tools_blocks_run_as_written(sample_root, tmp_path):
    """loader.md's DuckDB / datasets and h5py blocks, copied verbatim, beside the outputs `make convert` writes
    (they named a folder `out` that no command writes)."""
    for module in ("duckdb", "datasets", "h5py", "hdf5plugin"):
        pytest.importorskip(module)
    import os
    import subprocess
    import sys

    from converters import api

    for suffix, to in ((".parquet", "parquet"), (".h5", "hdf5")):
        api.convert(sample_root["mose"], tmp_path / "out" / f"mose-train{suffix}", to=to, reader_options={"split": "train"})
    section = (ROOT / "docs" / "loader.md").read_text(encoding="utf-8").split("## Other tools", 1)[1]
    blocks = python_blocks(section)
    assert len(blocks) == 2
    offline = {"HF_HOME": str(tmp_path / "hf"), "HF_DATASETS_OFFLINE": "1", "HF_HUB_OFFLINE": "1"}
    env = {**os.environ, "PYTHONPATH": str(ROOT), **offline}
    for code in blocks:
        done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]


# --- the flags, options and modules the pages name are the ones there are ----------------------------------------

#: Flags the pages give to other tools' commands, with the tool.
OTHER_TOOLS_FLAGS = {
    "--strict": "twine check",
    "--check": "ruff format",
    "--head": "ray start",
    "--address": "ray start",
    "--no-deps": "pip install",
    "--no-build-isolation": "pip install",
}
_FLAG = re.compile(r"(?<![\w-])(--[a-z][a-z0-9-]*[a-z0-9])(?![\w-])")
_VOSCONV = re.compile(r"(?<![\w<.-])vosconv(?:\s+(?P<command>[a-z][a-z-]*))?(?P<rest>[^`#\n]*)")


def doc_pages() -> list[Path]:
    return [README, *sorted((ROOT / "docs").glob("*.md"))]


def cli_flags() -> dict[str | None, set[str]]:
    """Each command's flags (None: the bare ``vosconv``'s), read from the parser the command line builds."""
    import argparse

    from converters.cli import build_parser

    def own(parser: argparse.ArgumentParser) -> set[str]:
        return {flag for action in parser._actions for flag in action.option_strings}

    parser = build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    return {None: own(parser), **{name: own(sub) for name, sub in commands.items()}}


def benchmark_flags() -> set[str]:
    """The flags of ``python -m benchmarks`` and of the benchmarks run on their own (``python -m benchmarks.bench_scale``)."""
    sources = "".join(path.read_text() for path in sorted((ROOT / "benchmarks").glob("*.py")))
    return set(re.findall(r"add_argument\(\s*\"(--[\w-]+)\"", sources))


def vosconv_commands(text: str) -> list[tuple[str | None, str]]:
    """Each ``vosconv COMMAND ...`` the page shows, with its arguments: in code spans, and in code blocks, where an
    indented line goes on the command of the line above."""
    found = []
    for span in _CODE_SPAN.findall(_FENCE.sub("", text)):
        found += [(m["command"], m["rest"]) for m in _VOSCONV.finditer(span.strip("`"))]
    for block in _FENCE.finditer(text):
        current = None
        for line in block.group(0).splitlines()[1:-1]:
            line = line.split("#", 1)[0]  # a shell comment's words are no command
            match = _VOSCONV.search(line)
            if match:
                current = (match["command"], match["rest"])
                found.append(current)
            elif current and line[:1].isspace() and line.strip():
                found.append((current[0], line))
            else:
                current = None
    return found


@pytest.mark.parametrize("path", doc_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_flag_a_page_names_is_one_there_is(path):
    """A flag renamed or dropped from the command line, or mistyped in a page, fails here."""
    flags = cli_flags()
    known = set().union(*flags.values()) | benchmark_flags() | set(OTHER_TOOLS_FLAGS)
    text = path.read_text(encoding="utf-8")
    unknown = sorted(set(_FLAG.findall(_COMMENT.sub("", text))) - known)
    assert not unknown, f"{path.name} names flags no command has: {unknown}"
    wrong = []
    for command, rest in vosconv_commands(text):
        if command is not None and command not in flags:
            wrong.append(f"vosconv {command}: no such command")
            continue
        wrong += [f"vosconv {command or ''} {flag}" for flag in _FLAG.findall(rest) if flag not in flags[command]]
    assert not wrong, f"{path.name} gives commands flags they do not take: {wrong}"


def test_the_flag_finder_reads_commands_and_their_continuation_lines():
    text = "Run `vosconv info SRC --json`.\n\n```sh\nvosconv convert SRC -o OUT \\\n        --workers 2  # two\nls --all\n```\n"
    expected = [("info", " SRC --json"), ("convert", " SRC -o OUT \\"), ("convert", "        --workers 2  ")]
    assert vosconv_commands(text) == expected
    assert _FLAG.findall("SRC --detect--> Reader, `--to`, --on-error.") == ["--to", "--on-error"]


def table_rows(text: str, header: str) -> list[list[str]]:
    """The cells of the rows of the first table whose header row starts with ``header``."""
    lines = text[text.index(header) :].splitlines()
    rows = []
    for line in lines[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))])
    return rows


def option_names(cell: str) -> set[str]:
    """The options a cell of formats.md's table names: its code spans outside parentheses (which hold values)."""
    return set(re.findall(r"`([a-z_]+)`", re.sub(r"\([^)]*\)", "", cell)))


def builtin_specs(kind: str) -> dict:
    from converters import registry

    return {s.name: s for s in registry.specs(kind) if s.target.startswith("converters.")}


def test_formats_table_of_options_is_the_registrys():
    rows = table_rows((ROOT / "docs" / "formats.md").read_text(encoding="utf-8"), "| name | reader options | writer options |")
    readers, writers = builtin_specs("reader"), builtin_specs("writer")
    documented = {cell.strip("`"): (option_names(r), option_names(w)) for cell, r, w in rows}
    assert sorted(documented) == sorted(set(readers) | set(writers))
    for name, (reader_options, writer_options) in documented.items():
        assert reader_options == {o.name for o in readers[name].options or ()} if name in readers else set(), name
        assert writer_options == ({o.name for o in writers[name].options or ()} if name in writers else set()), name


def test_readme_formats_table_names_every_format():
    rows = table_rows(README.read_text(encoding="utf-8"), "| name | read | write | what |")
    table = {cell.strip("`"): (read == "✓", write == "✓") for cell, read, write, _ in rows}
    readers, writers = builtin_specs("reader"), builtin_specs("writer")
    assert table == {name: (name in readers, name in writers) for name in set(readers) | set(writers)}


#: Modules every format may have, which design.md describes once for all (``formats/<name>/ reader.py writer.py ...``).
_FORMAT_MODULES = {"reader", "writer", "spec", "loader"}


def test_design_map_names_every_module():
    """design.md's layers name each module of the package, so a new one is placed on the map when it is added."""
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    layers = text.split("## The layers", 1)[1].split("\n## ", 1)[0]
    diagram = _FENCE.search(layers).group(0)
    package = ROOT / "converters"
    missing = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        generic = relative.parts[0] == "formats" and len(relative.parts) == 3 and path.stem in _FORMAT_MODULES
        if path.stem == "__init__" or generic:
            continue
        named = re.search(rf"(?<![\w.]){re.escape(path.stem)}\.py\b", layers)  # `video.py`, anywhere in the section
        listed = re.search(rf"(?<![\w.]){re.escape(path.stem)}(?![\w])", diagram)  # (rle, png, video, ...) in the diagram
        if not (named or listed):
            missing.append(str(relative))
    folders = sorted(p.name for p in (package / "formats").iterdir() if (p / "__init__.py").exists())
    missing += [f"formats/{name}/" for name in folders if f"`{name}`" not in layers and f"formats/{name}/" not in layers]
    assert not missing, f"design.md's layers do not name {missing}"


def test_performance_lists_every_benchmark_group():
    """performance.md's ``--only`` line names the groups ``python -m benchmarks`` has (``frames`` for its frame groups)."""
    source = (ROOT / "benchmarks" / "__main__.py").read_text(encoding="utf-8")
    groups = set(re.findall(r'"([\w-]+)"', re.search(r"^ALL = \(\*FRAME_GROUPS, (.*)\)$", source, re.M).group(1)))
    listed = re.search(r"--only frames +# groups: (.*)$", (ROOT / "docs" / "performance.md").read_text(), re.M).group(1)
    assert set(listed.split(", ")) == groups | {"frames"}


def test_readme_starts_with_the_two_commands_of_a_fresh_clone():
    """The way in comes first: ``make convert FORMAT=coco`` and ``make test``, both targets of the Makefile."""
    text = README.read_text(encoding="utf-8")
    first = re.search(r"^## (.+)$", text, re.M)
    assert first.group(1) == "Two commands"
    section = text[first.end() :].split("\n## ", 1)[0]
    commands = [line.split("#", 1)[0].strip() for line in shell_lines(section)]
    assert commands == ["make convert FORMAT=coco", "make test"]
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^convert:", makefile, re.M) and re.search(r"^test:", makefile, re.M)
    assert re.search(r"^FORMAT\s*\?=\s*coco$", makefile, re.M)


def shell_lines(text: str) -> list[str]:
    """The lines of every ```sh block of ``text``."""
    return [line for block in re.findall(r"^```sh\n(.*?)^```", text, re.M | re.S) for line in block.splitlines()]


def test_loader_names_every_field_of_the_summary():
    import dataclasses

    from converters.run.pipeline import Summary

    text = flat(ROOT / "docs" / "loader.md")
    passage = text[text.index("It returns a `Summary`") :][:400]
    missing = [f.name for f in dataclasses.fields(Summary) if f"`{f.name}`" not in passage]
    assert not missing, f"loader.md does not name the Summary's {missing}"


def test_cli_pipelines_example_and_the_shipped_file_load(tmp_path):
    """cli.md's ``pipelines.yaml`` example, with its commented fields switched on, and the shipped file both validate."""
    from converters import config

    block = re.search(r"^`pipelines.yaml`:\n\n```yaml\n(.*?)^```", (ROOT / "docs" / "cli.md").read_text(), re.M | re.S).group(1)
    block = re.sub(r"^    # (output: \S+).*$", r"    \1", block, flags=re.M)
    block = re.sub(r"^    # (derive: \{.*?\}).*$", r"    \1", block, flags=re.M)
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists" / "val.txt").write_text("a\n")
    (tmp_path / "pipelines.yaml").write_text(block)
    example = config.load(tmp_path / "pipelines.yaml")
    assert "derive" in block and "output: out/other-name" in block and example
    assert config.load(ROOT / "pipelines.yaml")


# --- the signatures loader.md spells out are the ones there are ----------------------------------------------------

#: Parameters a signature has that loader.md leaves out on purpose: ``where`` names the caller's flag in errors, and
#: ``img_folder``/``gt_folder`` are taken only to refuse a SAM 2 config that kept them (the text says so).
UNDOCUMENTED_PARAMETERS = {"where", "img_folder", "gt_folder"}
#: Parameters whose default None only lets the call refuse their absence with an error of its own: required in effect.
REQUIRED_IN_EFFECT = {("ShardRawDataset", "path")}


def documented_signatures() -> dict[str, object]:
    """What loader.md writes as ``name(parameters)`` in a code span, with the object it describes."""
    from converters import api, held
    from converters.loading import dataset, training

    signatures = {
        "converters.convert": api.convert,
        "converters.read_videos": api.read_videos,
        "converters.write_videos": held.write_videos,
        "converters.api.open_reader": api.open_reader,
        "converters.api.open_writer": api.open_writer,
        "open_dataset": dataset.open_dataset,
        "ClipDataset": dataset.ClipDataset,
        "read_clip": dataset.VideoHandle.read_clip,
        "TrainingClips": training.TrainingClips,
        "clips.clip": training.TrainingClips.clip,
    }
    try:
        from converters.integrations import sam2
    except ImportError:  # SAM 2's training package is not installed: its page's signature is checked where it is
        return signatures
    return {**signatures, "ShardRawDataset": sam2.ShardRawDataset}


def signature_text(page: str, name: str) -> str:
    spans = re.findall(rf"`{re.escape(name)}\(([^`]*)\)(?: -> [\w.]+)?`", page)
    assert spans, f"loader.md writes no `{name}(...)`"
    return max(spans, key=len)  # the full signature, where the page also shows a short call


def parameters_of(text: str) -> list[tuple[str, str, object]]:
    """(name, kind, default) of each parameter a signature's text lists; ``inspect.Parameter.empty`` for none."""
    import inspect

    arguments = ast.parse(f"def f({text}): pass").body[0].args
    positional = arguments.posonlyargs + arguments.args
    defaults = [inspect.Parameter.empty] * (len(positional) - len(arguments.defaults)) + arguments.defaults
    found = [(a.arg, "positional", d) for a, d in zip(positional, defaults)]
    if arguments.vararg:
        found.append((arguments.vararg.arg, "*args", inspect.Parameter.empty))
    found += [(a.arg, "keyword", d or inspect.Parameter.empty) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults)]
    if arguments.kwarg:
        found.append((arguments.kwarg.arg, "**kwargs", inspect.Parameter.empty))
    return [(n, k, d if d is inspect.Parameter.empty else ast.literal_eval(d)) for n, k, d in found]


def actual_parameters(target) -> list[tuple[str, str, object]]:
    import inspect

    kinds = {
        inspect.Parameter.POSITIONAL_ONLY: "positional",
        inspect.Parameter.POSITIONAL_OR_KEYWORD: "positional",
        inspect.Parameter.VAR_POSITIONAL: "*args",
        inspect.Parameter.KEYWORD_ONLY: "keyword",
        inspect.Parameter.VAR_KEYWORD: "**kwargs",
    }
    parameters = inspect.signature(target).parameters.values()
    return [(p.name, kinds[p.kind], p.default) for p in parameters if p.name != "self" and p.name not in UNDOCUMENTED_PARAMETERS]


def test_loader_signatures_match_the_code():
    """Each signature loader.md spells out names the parameters there are, in their order, kind and defaults."""
    import inspect

    page = flat(ROOT / "docs" / "loader.md")
    wrong = []
    for name, target in documented_signatures().items():
        documented, actual = parameters_of(signature_text(page, name)), actual_parameters(target)
        actual = [(p, k, inspect.Parameter.empty if (name, p) in REQUIRED_IN_EFFECT else d) for p, k, d in actual]
        if documented != actual:
            wrong.append(f"{name}: loader.md says {documented}, the code has {actual}")
    assert not wrong, "\n".join(wrong)


def test_the_signature_reader_sees_kinds_and_defaults():
    import inspect

    empty = inspect.Parameter.empty
    expected = [("a", "positional", empty), ("b", "positional", 2), ("c", "keyword", "x"), ("rest", "**kwargs", empty)]
    assert parameters_of('a, b=2, *, c="x", **rest') == expected
    assert signature_text("see `f(a)` and `f(a, b=1)`", "f") == "a, b=1"


#: The diagram's folders whose parentheses list their modules, first word of each item (``_native: the C kernels``).
_LISTED_FOLDERS = ("run", "sources", "codecs", "inspect")


def test_every_module_design_md_names_is_there():
    """The other way round from the map test: a module renamed or removed leaves no name behind in the layers."""
    text = (ROOT / "docs" / "design.md").read_text(encoding="utf-8")
    layers = text.split("## The layers", 1)[1].split("\n## ", 1)[0]
    diagram = _FENCE.search(layers).group(0)
    package = ROOT / "converters"
    files = {path.relative_to(package).as_posix() for path in package.rglob("*") if path.suffix in (".py", ".c")}
    missing = []
    for named in sorted(set(re.findall(r"(?<![\w.])((?:\w+/)*\w+\.(?:py|c))\b", layers))):
        if not (ROOT / named).is_file() and not any(f == named or f.endswith(f"/{named}") for f in files):
            missing.append(named)
    for folder in _LISTED_FOLDERS:
        listed = re.search(rf"(?<![\w/]){folder}/ \(([^)]*)\)", diagram)
        assert listed, f"design.md's diagram lists no modules of {folder}/"
        for item in listed.group(1).split(","):
            module = re.match(r"\s*(\w+)", item).group(1)
            if f"{folder}/{module}.py" not in files:
                missing.append(f"{folder}/{module}")
    assert not missing, f"design.md's layers name modules that are not there: {missing}"


def test_cli_md_usage_names_every_flag_of_every_command():
    """The usage block at the top of cli.md lists each command's every flag (one spelling of each), so a flag added
    to the parser is added to the page; ``[same flags as info]`` and ``[same reader flags]`` stand for info's."""
    import argparse

    from converters.cli import build_parser

    usage = _FENCE.search((ROOT / "docs" / "cli.md").read_text(encoding="utf-8")).group(0)
    documented: dict[str | None, set[str]] = {}
    for command, rest in vosconv_commands(usage):
        documented.setdefault(command, set()).update(re.findall(r"(?<![\w-])(-[a-z]|--[a-z][a-z0-9-]*)", rest))
    reader_flags = {"--from", "--split", "--resolution", "--images", "-r"}
    for command, rest in vosconv_commands(usage):
        if "[same flags as info]" in rest:
            documented[command] |= documented["info"]
        if "[same reader flags]" in rest:
            documented[command] |= documented["info"] & reader_flags
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    missing = []
    for command, sub in [(None, parser), *subparsers.items()]:
        for action in sub._actions:
            spellings = set(action.option_strings)
            if spellings and not isinstance(action, argparse._HelpAction) and not spellings & documented.get(command, set()):
                missing.append(f"vosconv {command or ''} {'/'.join(action.option_strings)}")
    assert not missing, f"cli.md's usage block leaves out {missing}"


def make_targets_named(text: str) -> set[str]:
    """The targets of every ``make TARGET`` in the page's code spans and code blocks."""
    code = [*_CODE_SPAN.findall(_FENCE.sub("", text)), *(m.group(0) for m in _FENCE.finditer(text))]
    return {target for piece in code for target in re.findall(r"(?<![\w.-])make ([a-z][a-z-]*)", piece)}


@pytest.mark.parametrize("path", doc_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_make_target_a_page_names_is_in_the_makefile(path):
    targets = set(re.findall(r"^([a-z][a-z-]*):", (ROOT / "Makefile").read_text(encoding="utf-8"), re.M))
    unknown = sorted(make_targets_named(path.read_text(encoding="utf-8")) - targets)
    assert not unknown, f"{path.name} names make targets the Makefile does not have: {unknown}"


def test_the_make_target_finder():
    text = "Run `make convert FORMAT=mose` or `cmake ..`; make the tree.\n\n```sh\nmake test  # all\n```\n"
    assert make_targets_named(text) == {"convert", "test"}


_OPTION_EXAMPLE = re.compile(r"(?<![\w-])(-r|-w|--read-opt|--write-opt) +([a-z_]+)=([^\s`,;)]*)")


def value_fits(value: str, option_type: str) -> bool:
    """Whether ``-r/-w KEY=value`` text is one an option of the registry's ``type`` takes (a placeholder always is)."""
    kind = option_type.removesuffix(" or none")
    if value in ("", "...", kind) or value.isupper():
        return True  # `-w split=` (any), `-w resolution=...`, `-r images=DIR`, `-r masklets=manual|auto|both`
    if kind == "bool":
        return value in ("true", "false", "yes", "no", "on", "off", "1", "0")
    if kind == "int":
        return value.lstrip("-").isdigit()
    return value in kind.split("|") if "|" in kind else True


@pytest.mark.parametrize("path", doc_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_option_example_a_page_gives_is_taken(path):
    """``-r KEY=VALUE`` / ``-w KEY=VALUE`` examples name an option some reader / writer has, with a value it takes:
    an option renamed, or a choice dropped, fails here wherever a page shows it."""
    from converters import registry

    types: dict[tuple[str, str], set[str]] = {}
    for kind in ("reader", "writer"):
        for spec in registry.specs(kind):
            for option in spec.options or ():
                types.setdefault((kind, option.name), set()).add(option.type)
    wrong = []
    for flag, key, value in _OPTION_EXAMPLE.findall(path.read_text(encoding="utf-8")):
        kind = "reader" if flag in ("-r", "--read-opt") else "writer"
        if (kind, key) not in types:
            wrong.append(f"{flag} {key}=: no {kind} has the option {key}")
        elif not any(value_fits(value, option_type) for option_type in types[kind, key]):
            wrong.append(f"{flag} {key}={value}: not a value of {' or '.join(sorted(types[kind, key]))}")
    assert not wrong, f"{path.name}: {wrong}"


def test_the_option_example_checker():
    assert _OPTION_EXAMPLE.findall("`-w masks=dense`, `-r split=train --split valid`") == [
        ("-w", "masks", "dense"),
        ("-r", "split", "train"),
    ]
    assert value_fits("keep", "drop|keep") and not value_fits("kept", "drop|keep")
    assert value_fits("true", "bool") and not value_fits("maybe", "bool")
    assert value_fits("9", "int or none") and not value_fits("nine", "int")
    assert value_fits("DIR", "str or none") and value_fits("manual|auto|both", "manual|auto|both")
