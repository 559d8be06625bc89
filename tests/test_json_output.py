"""Every ``--json`` output and ``errors.jsonl`` hold exactly the keys docs/cli.md's "Machine-readable output" lists."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from converters.cli import main
from converters.errors import SourceError
from converters.run.stats import ERROR_KINDS, Stats

CLI_MD = Path(__file__).resolve().parent.parent / "docs" / "cli.md"


def section(title: str) -> str:
    """The text under the heading ``title`` (any level), up to the next heading of that level or above."""
    text = CLI_MD.read_text(encoding="utf-8")
    heading = re.search(rf"^(#+) {re.escape(title)}$", text, re.M)
    assert heading, f"cli.md has no heading {title!r}"
    body = text[heading.end() :]
    end = re.search(rf"^#{{1,{len(heading.group(1))}}} ", body, re.M)
    return body[: end.start()] if end else body


def table_keys(text: str) -> list[str]:
    """The backticked keys of the first column of every table row in ``text``, in order."""
    keys = []
    for row in re.findall(r"^\| *(`[^|]*`) *\|", text, re.M):
        keys += re.findall(r"`([^`]+)`", row)
    return keys


def documented(command: str) -> set[str]:
    keys = set(table_keys(section(f"`{command} --json`")))
    if command == "run":
        keys |= documented("convert")
    if command == "stats":
        keys |= set(table_keys(section("`stats`")))
    return keys


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, json.loads(out)  # the whole of stdout is one JSON document


def test_the_page_parser_finds_each_table():
    assert {"source", "output", "replaced", "notes", "seconds"} <= documented("convert")
    assert {"pipeline", "sample", "output"} <= documented("run")
    assert {"mean_bor", "void_fraction", "seconds", "source"} <= documented("stats")
    assert set(table_keys(section("`errors.jsonl`"))) == {"video", "file", "error", "message"}


def test_convert_json_has_the_documented_keys(capsys, sample_root, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    relative = os.path.relpath(sample_root["mose"])
    code, facts = run(capsys, "convert", relative, "--split", "train", "-o", "out.json", "--json")
    assert code == 0 and set(facts) == documented("convert")
    assert facts["source"] == str(sample_root["mose"]) and facts["output"] == str(tmp_path / "out.json")  # absolute
    assert (facts["format"], facts["split"], facts["output_format"]) == ("mose", "train", "coco")
    assert facts["replaced"] is False and facts["skipped"] == 0 and facts["errors_file"] is None
    assert facts["videos"] == 3 and facts["frames"] >= facts["annotated_frames"] > 0 and isinstance(facts["seconds"], float)
    argv = ["convert", relative, "--split", "train", "-o", "out.json", "--json", "--overwrite", "--frame-step", "2"]
    code, again = run(capsys, *argv)
    assert code == 0 and again["replaced"] is True and again["derived"] == "one frame in 2"


def test_convert_json_lists_the_writers_notes(capsys, sample_root, tmp_path):
    """The notes the summary prints as ``note:`` lines (DAVIS's layout drops void, say) are in the document."""
    base = ["convert", str(sample_root["mose"]), "--split", "train", "--to", "davis"]
    assert main([*base, "-o", str(tmp_path / "text")]) == 0
    printed = [line.split("note: ", 1)[1] for line in capsys.readouterr().out.splitlines() if line.startswith("note: ")]
    code, facts = run(capsys, *base, "-o", str(tmp_path / "json"), "--json")
    assert code == 0 and printed and facts["notes"] == printed


def test_run_json_has_the_documented_keys(capsys, sample_root, tmp_path):
    config = tmp_path / "pipelines.yaml"
    config.write_text(
        f"default: [a, b]\noutput_dir: out\npipelines:\n"
        f"  a: {{source: {sample_root['mose']}, reader: mose, reader_options: {{split: train}}, writer: coco}}\n"
        f"  b: {{source: {sample_root['davis']}, writer: parquet}}\n"
    )
    code, document = run(capsys, "run", "--config", str(config), "--json")
    assert code == 0 and list(document) == ["pipelines"]
    assert [p["pipeline"] for p in document["pipelines"]] == ["a", "b"]
    for facts in document["pipelines"]:
        assert set(facts) == documented("run") and facts["sample"] is None
    assert document["pipelines"][1]["output"] == str(tmp_path / "out" / "b.parquet")


@pytest.mark.parametrize("command", ["info", "validate", "stats"])
def test_reading_commands_json_have_the_documented_keys(capsys, sample_root, tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    code, facts = run(capsys, command, os.path.relpath(sample_root["mose"]), "--split", "train", "--json")
    assert code == 0 and set(facts) == documented(command)
    assert facts["source"] == str(sample_root["mose"]) and isinstance(facts["seconds"], float)


def test_stats_json_keeps_the_tables_order(capsys, sample_root):
    code, facts = run(capsys, "stats", str(sample_root["mose"]), "--split", "train", "--json")
    assert code == 0 and list(facts) == [*dict.fromkeys(table_keys(section("`stats`"))), "seconds"]


def test_errors_jsonl_and_validate_errors_have_the_documented_keys(capsys, sample_copy, tmp_path):
    root = sample_copy("mose")
    victim = sorted((root / "train" / "Annotations").rglob("00002.png"))[0]
    victim.write_bytes(b"garbage")
    argv = ["convert", str(root), "--split", "train", "-o", str(tmp_path / "o.json"), "--on-error", "skip", "--json"]
    code, facts = run(capsys, *argv)
    assert code == 3 and facts["skipped"] == 1 and facts["errors_file"] == str(tmp_path / "o.json.errors.jsonl")
    (line,) = Path(facts["errors_file"]).read_text().splitlines()
    record = json.loads(line)
    keys = set(table_keys(section("`errors.jsonl`")))
    assert set(record) == keys and record["error"] == "source" and record["file"] == str(victim)
    code, report = run(capsys, "validate", str(root), "--split", "train", "--json")
    assert code == 1 and [error for error in report["errors"]] == [record]  # the same object


def test_error_words_are_the_documented_ones():
    """``error`` was the exception's class name (``SourceError``, ``JsonFault``); now a word of a documented pair."""
    words = re.findall(r"^\* `([a-z]+)`:", section("`errors.jsonl`"), re.M)
    assert tuple(words) == ERROR_KINDS
    stats = Stats()
    stats.skip("v", SourceError("a.png", "bad"))
    stats.skip("w", SourceError("w", "refused"), source_file=False)
    assert [r["error"] for r in stats.skipped] == ["source", "writer"]
    assert stats.skipped[1]["file"] == "w"  # a writer's refusal names the video as it is


def test_paths_are_made_absolute_without_folding_a_members_dot_dot(tmp_path, monkeypatch):
    """``os.path.abspath`` folded ``renamed.zip/../00003.png`` (a zip member named out of the archive) into
    ``00003.png`` beside the archive, a file that is not the one at fault; only the leading part is made absolute."""
    from converters.errors import absolute_path

    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    assert absolute_path("renamed.zip/../00003.png") == str(tmp_path / "work" / "renamed.zip" / ".." / "00003.png")
    assert absolute_path("../data/a.png") == str(tmp_path / "data" / "a.png")
    assert absolute_path("./a/b.png") == str(tmp_path / "work" / "a" / "b.png")
    assert absolute_path("/x/../y") == "/x/../y" and absolute_path("") == ""
