"""``vosconv stats`` and ``vosconv preview``: outputs, messages and exit codes."""

from __future__ import annotations

import csv
import json
import sys

import pytest

import converters
from converters.cli import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_stats_json_is_the_api_summary(capsys, sample_root):
    code, out, _ = run(capsys, "stats", str(sample_root["mose"]), "--split", "train", "--json", "--workers", "2")
    assert code == 0
    printed = json.loads(out)
    assert isinstance(printed.pop("seconds"), float)  # the command's timing: the one key summary() has not
    assert printed == json.loads(json.dumps(converters.stats(sample_root["mose"], reader_options={"split": "train"}).summary()))


def test_stats_text_names_each_figure(capsys, sample_root):
    code, out, _ = run(capsys, "stats", str(sample_root["davis"]))
    assert code == 0
    for line in ("videos", "mean objects per video", "disappearance rate", "mean bor", "small masks", "void pixels"):
        assert f"\n{line} " in f"\n{out}"
    (split,) = [line for line in out.splitlines() if line.startswith("split ")]
    assert split.split() == ["split", "(none)"]  # the DAVIS root has no split: said in words, not Python's None
    (flag,) = [line for line in out.splitlines() if line.startswith("first appearances only ")]
    assert flag.split()[-1] == "no"  # nor Python's False


def test_stats_writes_the_table_and_plots(capsys, sample_root, tmp_path):
    pytest.importorskip("matplotlib")
    table, plots = tmp_path / "videos.csv", tmp_path / "plots"
    argv = ["stats", str(sample_root["mose"]), "--split", "train", "--per-video", str(table), "--plots", str(plots)]
    code, _, err = run(capsys, *argv, "--timelines", "1")
    assert code == 0 and f"wrote {table}" in err
    with open(table, newline="") as file:
        assert len(list(csv.DictReader(file))) == 3
    assert len(list(plots.glob("timeline-*.png"))) == 1 and len(list(plots.glob("*.png"))) == 6
    code, _, err = run(capsys, *argv)
    assert code == 1 and "already exists" in err and "--overwrite" in err
    assert run(capsys, *argv, "--overwrite")[0] == 0


def test_stats_plots_without_matplotlib_fail_before_reading(capsys, sample_root, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, _, err = run(capsys, "stats", str(sample_root["mose"]), "--split", "train", "--plots", str(tmp_path / "p"))
    assert code == 1 and "pip install '.[plots]'" in err and "vosconv[plots]" in err
    assert not (tmp_path / "p").exists()


def test_preview_says_what_it_wrote(capsys, sample_root, tmp_path):
    out = tmp_path / "p.gif"
    code, stdout, _ = run(capsys, "preview", str(sample_root["youtube-vos"]), "--split", "valid", "-o", str(out))
    assert code == 0 and stdout == f"wrote {out}\n" and out.exists()
    code, _, err = run(capsys, "preview", str(sample_root["youtube-vos"]), "--split", "valid", "-o", str(out))
    assert code == 1 and "--overwrite" in err


def test_preview_of_a_misspelt_video_names_the_one_meant(capsys, sample_root, tmp_path):
    root = sample_root["youtube-vos"]
    video = sorted(p.name for p in (root / "valid" / "Annotations").iterdir() if not p.name.startswith("."))[0]
    argv = ["preview", str(root), "--split", "valid", "--video", video[:-1] + "x", "-o", str(tmp_path / "p.gif")]
    code, _, err = run(capsys, *argv)
    assert code == 1 and f"did you mean {video!r}?" in err and not (tmp_path / "p.gif").exists()


def test_preview_of_frames_past_the_end_says_how_long_the_videos_are(capsys, sample_root, tmp_path):
    root = sample_root["youtube-vos"]
    code, _, err = run(capsys, "preview", str(root), "--split", "valid", "--frames", "999", "-o", str(tmp_path / "p.png"))
    assert code == 1 and "999 selects no frame of the videos shown (frames: " in err and not (tmp_path / "p.png").exists()


def test_stats_overwrite_never_replaces_a_file_of_the_source(capsys, sample_root, tmp_path):
    """--per-video FILE --overwrite replaced a Parquet source's own shard with the table (the dataset was then unreadable)."""
    source = converters.convert(sample_root["mose"], tmp_path / "src.parquet", to="parquet", reader_options={"split": "train"})
    shard = next((source.output / "data").glob("*.parquet"))
    before = shard.read_bytes()
    code, _, err = run(capsys, "stats", str(source.output), "--per-video", str(shard), "--overwrite")
    assert code == 1 and "source data" in err
    assert shard.read_bytes() == before


def test_every_json_key_is_documented_in_order(sample_root):
    """cli.md's table of stats figures names each --json key, in the order printed."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
    table = text[text.index("| key | meaning |") :].split("\n\n")[0]
    documented = [key for line in table.splitlines()[2:] for key in re.findall(r"`(\w+)`", line.split(" | ")[0])]
    keys = list(converters.stats(sample_root["mose"], reader_options={"split": "valid"}).summary())
    assert documented == keys


def test_preview_compare_of_a_root_with_several_splits_says_it_is_the_compared_one(capsys, sample_root, tmp_path):
    """With --split train given for SRC, 'mose: holds several splits; choose one with --split' did not say that the
    compared source was meant, nor that --split does not reach it."""
    root = str(sample_root["mose"])
    code, _, err = run(capsys, "preview", root, "--split", "train", "--compare", root, "-o", str(tmp_path / "p.png"))
    assert code == 1 and err.startswith("error: --compare: ") and "holds several splits" in err
    assert "(--split, --from and -r apply to SRC only)" in err and not (tmp_path / "p.png").exists()


def test_preview_says_when_video_took_the_source(capsys, sample_root):
    """``--video NAME ...`` takes every word up to the next flag, the source too: argparse said only that SRC was
    missing, which the user had typed."""
    with pytest.raises(SystemExit) as exit_:
        main(["preview", "--video", "82d9d721", str(sample_root["mose"])])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "required: SRC (--video takes every name after it, up to the next flag: give SRC before --video)" in err
    with pytest.raises(SystemExit):
        main(["preview"])  # no --video: nothing to explain
    assert capsys.readouterr().err.rstrip().endswith("required: SRC")
