"""The vosconv command: each subcommand end to end, exit codes and messages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from converters.cli import main

REPO = Path(__file__).resolve().parents[1]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_convert_prints_a_summary(capsys, sample_root, tmp_path):
    out = tmp_path / "out.json"
    code, stdout, _ = run(capsys, "convert", str(sample_root["mose"]), "-o", str(out), "--to", "coco", "--split", "train")
    assert code == 0
    assert f"mose -> coco: wrote {out}" in stdout and "videos" in stdout and "masks" in stdout
    assert json.loads(out.read_text())["videos"]


def test_convert_refuses_an_existing_output(capsys, sample_root, tmp_path):
    out = tmp_path / "out.json"
    out.write_text("precious")
    argv = ["convert", str(sample_root["mose"]), "-o", str(out), "--to", "coco", "--split", "valid"]
    code, _, stderr = run(capsys, *argv)
    assert code == 1 and "already exists" in stderr and "--overwrite" in stderr
    assert out.read_text() == "precious"
    code, _, stderr = run(capsys, *argv, "--overwrite")  # not vosconv's: --overwrite does not delete it either
    assert code == 1 and f"{out} is not a file vosconv wrote" in stderr and "choose another output" in stderr
    assert out.read_text() == "precious"
    out.unlink()
    assert run(capsys, *argv)[0] == 0
    written = out.read_bytes()
    code, _, _ = run(capsys, *argv, "--split", "train", "--overwrite")  # vosconv's own output: replaced
    assert code == 0 and out.read_bytes() != written


def test_overwrite_keeps_a_folder_vosconv_did_not_write(capsys, sample_root, tmp_path):
    """The reported case: --overwrite once deleted a folder holding a thesis, without a word."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "thesis.tex").write_text("\\documentclass{book}")
    argv = ["convert", str(sample_root["mose"]), "-o", str(out), "--to", "parquet", "--split", "valid", "--overwrite"]
    code, stdout, stderr = run(capsys, *argv)
    assert code == 1 and not stdout
    assert f"error: {out} holds files vosconv did not write (thesis.tex); remove them or choose another output" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"] and [p.name for p in out.iterdir()] == ["thesis.tex"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--resolution", "480p"], "--resolution: the mose reader has no such option (SRC was detected as mose; --from"),
        (
            ["--resolution", "480p", "--from", "mose"],
            "--resolution: the mose reader has no such option; its options: split, images",
        ),
        (["--from", "nope"], "no reader named 'nope'"),
        (["--to", "nope"], "no writer named 'nope'"),
        (["-w", "compresslevel=x"], "--write-opt.compresslevel: expected int"),
        (["-w", "bogus"], "expected KEY=VALUE"),
    ],
)
def test_bad_options_fail_with_a_clear_message(capsys, sample_root, tmp_path, extra, message):
    argv = ["convert", str(sample_root["mose"]), "-o", str(tmp_path / "x.json"), "--to", "coco", "--split", "train", *extra]
    message = message.replace("SRC", str(sample_root["mose"]))
    if "--to" in extra:
        argv.remove("coco")
        argv.remove("--to")
    code, _, stderr = run(capsys, *argv)
    assert code == 1
    assert message in stderr
    assert not (tmp_path / "x.json").exists()


def test_convert_with_workers_and_back_to_a_layout(capsys, sample_root, tmp_path):
    coco = tmp_path / "y.json.gz"
    assert (
        run(
            capsys,
            "convert",
            str(sample_root["youtube-vos"]),
            "-o",
            str(coco),
            "--to",
            "coco",
            "--split",
            "valid",
            "--workers",
            "2",
        )[0]
        == 0
    )
    back = tmp_path / "back"
    code, stdout, _ = run(capsys, "convert", str(coco), "-o", str(back), "--to", "youtube-vos")
    assert code == 0 and "coco -> youtube-vos" in stdout
    assert (back / "meta.json").is_file()


def test_info(capsys, sample_root):
    code, stdout, _ = run(capsys, "info", str(sample_root["davis"]), "--split", "val", "--json")
    facts = json.loads(stdout)
    assert code == 0
    assert facts["format"] == "davis" and facts["split"] == "val"
    assert facts["videos"] == len((sample_root["davis"] / "DAVIS/ImageSets/2017/val.txt").read_text().split())
    assert facts["masks"] > 0 and facts["frames"] >= facts["annotated_frames"] > 0
    code, stdout, _ = run(capsys, "info", str(sample_root["youtube-vos"]), "--split", "train")
    assert code == 0 and "annotated frames" in stdout and "categories" in stdout


def test_info_text_says_no_python_word(capsys, sample_root):
    """info printed ``split  None`` for a DAVIS root read whole, where stats printed ``(none)``: one table for both."""
    code, stdout, _ = run(capsys, "info", str(sample_root["davis"]))
    assert code == 0
    (split,) = [line for line in stdout.splitlines() if line.startswith("split ")]
    assert split.split() == ["split", "(none)"]
    assert not any(line.split()[-1] in ("None", "True", "False") for line in stdout.splitlines())


def test_formats_lists_readers_and_writers(capsys):
    code, stdout, _ = run(capsys, "formats")
    assert code == 0
    readers, writers = stdout.split("writers:")
    for name in ("mose", "davis", "youtube-vos", "coco"):
        assert name in readers and name in writers


def test_sample_command(capsys, tmp_path):
    code, _, stderr = run(capsys, "sample", str(tmp_path / "s"), "--layout", "davis")
    assert code == 0 and "wrote a davis sample" in stderr
    assert (tmp_path / "s" / "DAVIS" / "ImageSets").is_dir()


SMALL_PIPELINE = (
    "default: small\n"
    "pipelines:\n"
    "  small:\n"
    "    source: {source}\n"
    "    sample: mose\n"
    "    reader: mose\n"
    "    reader_options: {{split: valid}}\n"
    "    writer: coco\n"
    "    writer_options: {{coco: {{compresslevel: 1}}}}\n"
)


def test_run_uses_the_sample_when_the_default_source_is_missing(capsys, tmp_path):
    config = tmp_path / "pipelines.yaml"
    config.write_text(SMALL_PIPELINE.format(source="data/MOSE"))
    code, stdout, stderr = run(capsys, "run", "--config", str(config))
    assert code == 0
    assert "generating the bundled mose sample" in stderr
    assert (tmp_path / "out" / "small.json").is_file()
    assert "small: mose -> coco" in stdout
    sample = tmp_path / "data" / "sample" / "mose"
    assert f"converted the bundled synthetic mose sample ({sample}), as {tmp_path / 'data' / 'MOSE'} does not exist" in stdout
    code, _, stderr = run(capsys, "run", "--config", str(config))
    assert code == 1 and "already exists" in stderr and "--overwrite" in stderr  # overwrite is off by default
    code, _, stderr = run(capsys, "run", "--config", str(config), "--overwrite")  # what the message suggests
    assert code == 0
    code, _, stderr = run(capsys, "run", "nope", "--config", str(config))
    assert code == 1 and "no pipeline named 'nope'" in stderr and "did you mean" not in stderr
    code, _, stderr = run(capsys, "run", "smal", "--config", str(config))  # a typo: the name meant
    assert code == 1 and f"no pipeline named 'smal' in {config}; did you mean 'small'? defined: small" in stderr
    for layout in ("mose", "davis", "youtube-vos"):  # folder layouts asked for instead do not replace each other
        assert run(capsys, "run", "--config", str(config), "--format", layout)[0] == 0
    outputs = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert outputs == ["small.davis", "small.json", "small.mose", "small.youtube-vos"]
    assert (tmp_path / "out" / "small.davis" / "ImageSets").is_dir()
    (tmp_path / "data" / "MOSE").mkdir()
    code, stdout, _ = run(capsys, "run", "--config", str(config), "--overwrite")
    assert code == 1  # once the default path exists it is the source: no sample, whatever it holds


def test_a_missing_source_other_than_the_default_is_an_error_not_the_sample(capsys, tmp_path):
    """The reported case: a typo in source: converted the bundled sample and exited 0."""
    config = tmp_path / "pipelines.yaml"
    config.write_text(SMALL_PIPELINE.format(source="data/MOES"))
    code, stdout, stderr = run(capsys, "run", "--config", str(config))
    assert code == 1 and not stdout
    assert f"small: source {tmp_path / 'data' / 'MOES'} does not exist (pipelines.yaml: pipelines.small.source)" in stderr
    assert "stands in only for the default source data/MOSE" in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipelines.yaml"]  # no sample made, nothing written


def test_run_checks_every_source_before_converting_any(capsys, tmp_path, sample_root):
    config = tmp_path / "pipelines.yaml"
    config.write_text(
        f"default: [good, typo]\npipelines:\n  good: {{source: {sample_root['mose']}, reader_options: {{split: valid}}}}\n"
        "  typo: {source: data/DAVSI, sample: davis}\n"
    )
    code, stdout, stderr = run(capsys, "run", "--config", str(config))
    assert code == 1 and "typo: source" in stderr and "DAVSI does not exist" in stderr
    assert not stdout and not (tmp_path / "out").exists()


def test_the_shipped_pipelines_convert_the_sample_on_a_fresh_clone(capsys, tmp_path):
    """What `make convert FORMAT=coco` runs (`vosconv run --format coco`), with the shipped file, no data/ yet."""
    config = tmp_path / "pipelines.yaml"
    config.write_bytes((REPO / "pipelines.yaml").read_bytes())
    code, stdout, _ = run(capsys, "run", "--config", str(config), "--format", "coco")
    assert code == 0
    assert "converted the bundled synthetic mose sample" in stdout
    assert (tmp_path / "out" / "mose-train.json").is_file()


@pytest.mark.parametrize(("output", "written"), [("x.json", "x.json"), ("x.json.gz", "x.json.gz"), ("x", "x.json")])
def test_a_pipeline_output_named_with_the_writer_s_suffix_keeps_its_name(capsys, tmp_path, sample_root, output, written):
    config = tmp_path / "pipelines.yaml"
    config.write_text(
        f"pipelines:\n  p: {{source: {sample_root['mose']}, reader_options: {{split: valid}}, writer: coco, output: {output}}}\n"
    )
    code, _, stderr = run(capsys, "run", "--config", str(config))
    assert code == 0, stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "pipelines.yaml") == [written]


def test_run_reports_yaml_paths(capsys, tmp_path):
    config = tmp_path / "pipelines.yaml"
    config.write_text("pipelines:\n  p:\n    source: x\n    writer: coco\n    writer_options: {coco: {compresslevel: high}}\n")
    code, _, stderr = run(capsys, "run", "--config", str(config))
    assert code == 1
    assert "pipelines.yaml: pipelines.p.writer_options.coco.compresslevel: expected int" in stderr


def test_python_dash_m_and_version():
    result = subprocess.run([sys.executable, "-m", "converters", "--version"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("vosconv ")
    result = subprocess.run([sys.executable, "-m", "converters", "info", "/nonexistent"], capture_output=True, text=True)
    assert result.returncode == 1 and "error: /nonexistent: no such file or folder" in result.stderr


def test_validate_command(capsys, sample_copy):
    root = sample_copy("mose")
    code, stdout, _ = run(capsys, "validate", str(root), "--split", "train")
    assert code == 0 and "0 errors" in stdout and "note" in stdout  # the sample has an empty frame
    assert ", 1 note\n" in stdout and "1 annotated frame has no object (" in stdout  # not '1 notes', '1 ... frames have'
    assert stdout.startswith(f"{root} (mose, split train): 3 videos, 0 errors, 1 note\n")
    victim = sorted((root / "train" / "Annotations").rglob("00002.png"))[0]
    victim.write_bytes(b"garbage")
    code, stdout, _ = run(capsys, "validate", str(root), "--split", "train", "--json")
    report = json.loads(stdout)
    assert code == 1 and not report["ok"]
    assert report["split"] == "train"  # as info --json and stats --json say it
    assert report["errors"][0]["file"] == str(victim) and "not a PNG" in report["errors"][0]["message"]


def test_validate_counts_a_frame_of_void_alone_as_empty_as_stats_and_the_summary_do():
    from converters.codecs import rle
    from converters.inspect.stats import video_stats
    from converters.model import Frame, FrameMasks, Mask, ObjectInfo, Video
    from converters.run.stats import Stats
    from converters.run.validate import notes_for

    label = np.zeros((4, 6), np.uint8)
    label[1:3, 1:3] = 255
    (void,) = rle.encode(label)
    label[:] = 0
    label[0, 0] = 1
    (obj,) = rle.encode(label)
    frames = (
        Frame(0, "00000.jpg", None, FrameMasks((Mask(1, obj.counts, obj.area, obj.bbox),))),
        Frame(1, "00001.jpg", None, FrameMasks((), Mask(255, void.counts, void.area, void.bbox))),
    )
    video = Video("v", 6, 4, frames, (ObjectInfo(1),))
    (note,) = notes_for(video)
    assert note["note"] == "empty-frames" and note["frames"] == ["00001"]
    stats = Stats()
    stats.add(video)
    assert stats.empty_frames == 1 == video_stats(video).empty_frames


def test_convert_skip_policy_exit_codes(capsys, sample_copy, tmp_path):
    root = sample_copy("mose")
    victim = sorted((root / "train" / "Annotations").rglob("00002.png"))[0]
    victim.write_bytes(b"garbage")
    base = ["convert", str(root), "--to", "coco", "--split", "train"]
    code, _, stderr = run(capsys, *base, "-o", str(tmp_path / "a.json"))
    assert code == 1 and str(victim) in stderr
    code, stdout, stderr = run(capsys, *base, "-o", str(tmp_path / "b.json"), "--on-error", "skip")
    assert code == 3 and "1 video skipped" in stdout and f"skipped 1 bad video; see {tmp_path / 'b.json.errors.jsonl'}" in stderr
    code, _, _ = run(capsys, *base, "-o", str(tmp_path / "c"), "--to", "mose", "--on-error", "skip")
    assert code == 3 and (tmp_path / "c" / "errors.jsonl").is_file()  # inside a folder output
    code, _, _ = run(capsys, *base, "-o", str(tmp_path / "d.json"), "--on-error", "skip", "--allow-skips")
    assert code == 0
    record = json.loads((tmp_path / "d.json.errors.jsonl").read_text())
    assert record["file"] == str(victim) and record["error"] == "source"


def test_verify_command(capsys, tmp_path, monkeypatch):
    from converters.sources import checksums

    archive = tmp_path / "valid.tar.gz"
    archive.write_bytes(b"pretend archive")
    code, stdout, _ = run(capsys, "verify", str(archive))
    assert code == 1 and stdout.startswith("MISMATCH") and "valid.tar.gz" in stdout
    other = tmp_path / "something.zip"
    other.write_bytes(b"x")
    code, stdout, _ = run(capsys, "verify", str(other))
    assert code == 1 and stdout.startswith("UNKNOWN")
    digest = checksums.sha256(archive)
    monkeypatch.setitem(checksums.KNOWN, digest, checksums.Release("MOSE", "valid.tar.gz", "MOSE valid"))
    code, stdout, _ = run(capsys, "verify", str(archive))
    assert code == 0 and stdout.startswith("OK") and "MOSE valid" in stdout
    assert run(capsys, "verify", str(tmp_path / "missing.zip"))[0] == 1


def test_known_checksums_are_well_formed():
    from converters.sources import checksums

    assert len(checksums.KNOWN) == 5
    assert all(len(k) == 64 and int(k, 16) >= 0 for k in checksums.KNOWN)
    assert {r.file_name for r in checksums.KNOWN.values()} >= {"train.tar.gz", "valid.tar.gz", "DAVIS-2017-trainval-480p.zip"}
    assert len(checksums.releases_named("train.tar.gz")) == 2  # both MOSE training releases


@pytest.mark.parametrize("workers", ["0", "-3", "two"])
@pytest.mark.parametrize("command", ["convert", "run", "info", "validate"])
def test_a_worker_count_below_one_is_refused(capsys, sample_root, tmp_path, command, workers):
    out = tmp_path / "out.json"
    argv = {
        "convert": ["convert", str(sample_root["mose"]), "-o", str(out), "--to", "coco", "--split", "train"],
        "run": ["run", "--config", str(tmp_path / "pipelines.yaml")],
        "info": ["info", str(sample_root["mose"]), "--split", "train"],
        "validate": ["validate", str(sample_root["mose"]), "--split", "train"],
    }[command]
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--workers", workers])
    assert stopped.value.code == 2
    assert "--workers" in capsys.readouterr().err
    assert not out.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize(("flag", "value"), [("--scale", "0"), ("--scale", "2.5"), ("--seed", "-1")])
def test_sample_refuses_bad_numbers_as_usage_errors(capsys, tmp_path, flag, value):
    with pytest.raises(SystemExit) as stopped:
        main(["sample", str(tmp_path / "s"), flag, value])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and f"argument {flag}" in err and "Traceback" not in err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize("command", [["convert", "SRC", "-o", "x.json", "--to", "coco"], ["info", "SRC"], ["formats"]])
def test_an_unknown_flag_shows_the_commands_usage(capsys, command):
    with pytest.raises(SystemExit) as stopped:
        main([*command, "--bogus"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert f"usage: vosconv {command[0]} " in err and f"vosconv {command[0]}: error: unrecognized arguments: --bogus" in err


def test_overwrite_and_resume_exclude_each_other(capsys, sample_root, tmp_path):
    argv = ["convert", str(sample_root["mose"]), "-o", str(tmp_path / "x.json"), "--to", "coco", "--split", "train"]
    with pytest.raises(SystemExit) as stopped:
        main([*argv, "--overwrite", "--resume"])
    assert stopped.value.code == 2 and "not allowed with" in capsys.readouterr().err


def test_a_coco_source_whose_images_moved_needs_images_or_no_images(capsys, sample_root, tmp_path):
    """The reported case: the image folder had moved and Parquet was written without images, exit 0."""
    written = tmp_path / "c.json"
    assert run(capsys, "convert", str(sample_root["mose"]), "-o", str(written), "--to", "coco", "--split", "train")[0] == 0
    root = json.loads(written.read_text())["info"]["vosconv"]["image_root"]
    source, gone = tmp_path / "moved.json", tmp_path / "gone"
    source.write_text(written.read_text().replace(json.dumps(root), json.dumps(str(gone))))
    for command in ("info", "validate"):  # they write nothing: nothing to warn of
        code, _, stderr = run(capsys, command, str(source))
        assert code == 0 and stderr == ""
    out = tmp_path / "out.parquet"
    code, stdout, stderr = run(capsys, "convert", str(source), "-o", str(out), "--to", "parquet")
    assert code == 1 and not stdout and not out.exists()
    assert f"error: {source}: its images folder {gone} (recorded in the file) does not exist" in stderr
    assert "pass --images DIR" in stderr and "--no-images" in stderr and "warning" not in stderr
    code, _, _ = run(capsys, "convert", str(source), "-o", str(out), "--to", "parquet", "--images", root)
    assert code == 0
    for writer in ("parquet", "mose"):
        code, stdout, stderr = run(capsys, "convert", str(source), "-o", str(tmp_path / writer), "--to", writer, "--no-images")
        assert code == 0 and f"coco -> {writer}" in stdout and stderr == ""
    assert not list((tmp_path / "mose").rglob("*.jpg")) and list((tmp_path / "mose").rglob("*.png"))  # annotations only


# ------------------------------------------------------------------ start-up: what each command imports

REPO = Path(__file__).resolve().parents[1]
#: Never needed to list formats or print help; each costs tens of milliseconds or more to import.
HEAVY = ("numpy", "numba", "pyarrow", "h5py", "hdf5plugin", "PIL", "pycocotools", "tqdm", "yaml", "importlib.metadata")


def modules_after(*argv: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``vosconv ARGV`` (stdout discarded)."""
    code = (
        "import contextlib, io, sys\n"
        "from converters.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        f"        status = main({list(argv)!r})\n"
        "    except SystemExit as exc:\n"
        "        status = exc.code\n"
        "assert status == 0, status\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.split())


def plugins(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith("converters.formats.")}


def heavy(modules: set[str]) -> set[str]:
    return {m for m in modules if m.split(".")[0] in HEAVY or m in HEAVY}


@pytest.mark.parametrize("argv", [["--help"], ["formats"], ["formats", "--options"], ["convert", "--help"]])
def test_help_and_formats_import_no_plugin_and_nothing_heavy(argv):
    modules = modules_after(*argv)
    assert plugins(modules) == set()
    assert heavy(modules) == set()


def test_a_conversion_to_coco_imports_no_parquet_or_hdf5(sample_root, tmp_path):
    out = tmp_path / "out.json"
    modules = modules_after("convert", str(sample_root["mose"]), "-o", str(out), "--split", "valid")
    assert out.is_file()
    assert {"converters.formats.mose.reader", "converters.formats.coco.writer"} <= modules
    assert not {"pyarrow", "h5py", "hdf5plugin", "converters.formats.parquet.writer", "converters.formats.hdf5.writer"} & modules
    assert not {"converters.config", "PIL", "pycocotools", "concurrent.futures"} & modules  # one worker: no pool
    assert "yaml" not in modules  # only pipelines.yaml needs it
    assert not {"tqdm", "multiprocessing", "numba"} & modules  # a hidden bar imports no tqdm; kernels are C


# ------------------------------------------------------------------ formats


def test_formats_describes_each_plugin_from_the_table(capsys):
    code, stdout, _ = run(capsys, "formats")
    assert code == 0
    readers, writers = stdout.split("writers:")
    assert "davis         Reads a DAVIS 2016 or 2017 folder" in readers
    assert "coco          One .json (or .json.gz) file for the whole dataset. (OUT ending .json, .json.gz)" in writers
    assert "formats --options" in stdout


def test_formats_options_lists_every_option_with_type_default_and_help(capsys):
    from converters import registry

    code, stdout, _ = run(capsys, "formats", "--options")
    assert code == 0
    readers, writers = stdout.split("writers:")
    for kind, text in (("reader", readers), ("writer", writers)):
        for spec in registry.specs(kind):
            section = re.split(r"\n  (?=\S)", text.split(f"  {spec.name} ", 1)[1])[0]  # its line and its options' lines
            for option in spec.options:
                assert re.search(rf"\n +{option.name} +{re.escape(option.type)} +default \S+ +{re.escape(option.help)}", section)
    assert re.search(r"compresslevel +int or none +default none +gzip level", writers)
    assert re.search(r"masks +rle\|dense +default rle", writers)
    assert re.search(r"resolution +str +default 480p", readers)


# ------------------------------------------------------------------ format names as people type them


def test_format_names_are_case_insensitive(capsys, sample_root, tmp_path):
    out = tmp_path / "out.json"
    code, stdout, stderr = run(
        capsys, "convert", str(sample_root["mose"]), "-o", str(out), "--to", "COCO", "--from", "MOSE", "--split", "valid"
    )
    assert code == 0, stderr
    assert f"mose -> coco: wrote {out}" in stdout


def run_pipelines(capsys, tmp_path, pipelines: str, *names: str) -> tuple[int, str, str]:
    """``vosconv run NAMES`` over a ``pipelines.yaml`` in ``tmp_path`` whose ``pipelines:`` section is ``pipelines``."""
    config = tmp_path / "pipelines.yaml"
    config.write_text("pipelines:\n" + pipelines)
    return run(capsys, "run", *names, "--config", str(config))


@pytest.mark.parametrize(
    ("a", "b", "refusal"),
    [
        # no reader: named, so loading could not check the options: a typo in b stops the run before a converts
        ("{split: valid}", "{splt: valid}", "pipelines.b.reader_options.splt: unknown option; did you mean 'split'?"),
        # b would replace a's output (or stop at it, exit 1, once a had converted)
        (
            "{split: train}\n    output: out/same",
            "{split: valid}\n    output: out/same.json",
            "pipelines 'a' and 'b' both write {out}",
        ),
    ],
    ids=["detected-reader-options", "one-output"],
)
def test_run_refuses_a_pipeline_that_cannot_run_before_any_converts(capsys, sample_root, tmp_path, a, b, refusal):
    source = sample_root["mose"]
    pipelines = f"  a:\n    source: {source}\n    reader_options: {a}\n  b:\n    source: {source}\n    reader_options: {b}\n"
    code, _, stderr = run_pipelines(capsys, tmp_path, pipelines, "a", "b")
    assert code == 1 and refusal.format(out=tmp_path / "out" / "same.json") in stderr, stderr
    assert not (tmp_path / "out").exists()


def test_run_runs_a_pipeline_named_twice_once(capsys, sample_root, tmp_path):
    pipelines = f"  a:\n    source: {sample_root['mose']}\n    reader_options: {{split: train}}\n"
    code, stdout, stderr = run_pipelines(capsys, tmp_path, pipelines, "a", "a")
    assert code == 0 and stdout.count("a: mose -> coco") == 1, stderr


def test_run_names_the_yaml_path_of_a_derive_list_it_cannot_use(capsys, sample_root, tmp_path):
    """The video list is read when the pipeline runs: its errors name derive.videos_from, not a flag never typed."""
    pipelines = f"  d:\n    source: {sample_root['mose']}\n    reader_options: {{split: valid}}\n"
    code, _, stderr = run_pipelines(capsys, tmp_path, pipelines + "    derive: {videos_from: lists/nope.txt}\n")
    assert code == 1, stderr
    assert f"pipelines.yaml: pipelines.d.derive.videos_from: {tmp_path / 'lists' / 'nope.txt'}: cannot read" in stderr
    assert "--videos-from" not in stderr


def test_run_format_in_another_case_is_that_writer_with_the_pipelines_options(capsys, sample_root, tmp_path):
    """--format HDF5 is hdf5: writer_options.hdf5 apply, and MOSE for a mose pipeline writes no other output."""
    import json

    config = tmp_path / "pipelines.yaml"
    config.write_text(
        f"pipelines:\n  m:\n    source: {sample_root['mose']}\n    reader_options: {{split: valid}}\n"
        "    writer: mose\n    writer_options: {hdf5: {masks: dense}}\n"
    )
    for typed in ("hdf5", "HDF5"):
        out = tmp_path / "out" / "m.h5"
        assert run(capsys, "run", "--config", str(config), "--format", typed, "--overwrite")[0] == 0
        assert json.loads((out / "manifest.json").read_text())["writer"]["options"]["masks"] == "dense", typed
    assert run(capsys, "run", "--config", str(config), "--format", "MOSE")[0] == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["m", "m.h5"]


@pytest.mark.parametrize(
    ("flag", "typed", "message"),
    [
        ("--to", "cocoo", "no writer named 'cocoo'; did you mean 'coco' or 'cocovid'?"),
        ("--from", "daviss", "no reader named 'daviss'; did you mean 'davis'?"),
    ],
)
def test_an_unknown_format_gets_did_you_mean(capsys, sample_root, tmp_path, flag, typed, message):
    code, _, stderr = run(capsys, "convert", str(sample_root["mose"]), "-o", str(tmp_path / "x.json"), flag, typed)
    assert code == 1 and message in stderr


@pytest.mark.parametrize(
    ("name", "writer"),
    [("out.json", "coco"), ("out.json.gz", "coco"), ("out.parquet", "parquet"), ("out.h5", "hdf5"), ("out.hdf5", "hdf5")],
)
def test_to_is_inferred_from_the_outputs_name_and_said(capsys, sample_root, tmp_path, name, writer):
    out = tmp_path / name
    code, stdout, stderr = run(capsys, "convert", str(sample_root["mose"]), "-o", str(out), "--split", "valid")
    assert code == 0, stderr
    assert f"mose -> {writer} (inferred from the output's name; --to chooses): wrote {out}" in stdout
    assert out.exists()


@pytest.mark.parametrize("name", ["out", "out.txt"])
def test_an_output_name_that_implies_no_format_needs_to(capsys, sample_root, tmp_path, name):
    code, _, stderr = run(capsys, "convert", str(sample_root["mose"]), "-o", str(tmp_path / name), "--split", "valid")
    assert code == 1
    assert f"--to: cannot tell the output format from the name {str(tmp_path / name)!r}" in stderr
    assert "coco, cocovid, davis, hdf5, mose, parquet, sav, youtube-vos" in stderr
    assert ".json, .json.gz: coco" in stderr
    assert not (tmp_path / name).exists()


def test_every_command_reading_a_source_describes_its_reader_flags_alike():
    """``preview`` had its own --images help ("for a coco source"), though every reader's images option applies."""
    from converters.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices
    helps = {}
    for name in ("convert", "info", "validate", "stats", "preview"):
        flags = {o: a.help for a in commands[name]._actions for o in a.option_strings}
        helps[name] = {flag: flags[flag] for flag in ("--from", "--split", "--resolution", "--images", "--read-opt")}
    assert all(h == helps["convert"] for h in helps.values()), helps


def test_a_to_that_contradicts_the_outputs_name_is_warned_of(capsys, sample_root, tmp_path):
    """``-o out.json --to parquet`` writes a Parquet folder called out.json: allowed, and said, as it is most likely a slip.
    A JSON writer's file named ``.json`` is no slip: BURST's own files are ``all_classes.json``, a cocovid file is JSON."""
    argv = ["convert", str(sample_root["mose"]), "--split", "train"]
    code, _, stderr = run(capsys, *argv, "-o", str(tmp_path / "a.json"), "--to", "parquet")
    assert code == 0 and (tmp_path / "a.json" / "manifest.json").is_file()
    assert f"warning: {tmp_path / 'a.json'}: a coco output's name; --to parquet writes a parquet output there" in stderr
    for out, to in (("b.json", "COCO"), ("c", "mose"), ("val.json", "cocovid"), ("all_classes.json", "burst")):
        code, _, stderr = run(capsys, *argv, "-o", str(tmp_path / out), "--to", to)
        assert code == 0 and "warning" not in stderr


def test_help_names_the_formats_from_and_to_take(capsys):
    """``--from``/``--to``/``--format`` said "source format" and "writer format" without naming one: the user had to
    find ``vosconv formats`` first."""
    from converters import registry

    for argv, kind in ((["convert", "--help"], "writer"), (["info", "--help"], "reader"), (["run", "--help"], "writer")):
        with pytest.raises(SystemExit):
            main(argv)
        text = "".join(capsys.readouterr().out.split())  # argparse wraps the lines, at a hyphen too
        assert ",".join(sorted(spec.name for spec in registry.specs(kind))) in text, argv


def test_info_validate_and_stats_json_name_the_source_alike(capsys, sample_root):
    """info --json gave the path as typed (``./x/``), validate and stats the path itself (``x``); now each gives it
    absolute, as errors.jsonl does (docs/cli.md#machine-readable-output)."""
    typed = f"./{os.path.relpath(sample_root['davis'])}/"
    sources = set()
    for command in ("info", "validate", "stats"):
        code, stdout, _ = run(capsys, command, typed, "--json")
        assert code == 0
        sources.add(json.loads(stdout)["source"])
    assert sources == {os.path.abspath(sample_root["davis"])}
