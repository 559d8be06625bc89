"""The mistakes a new user makes on the command line, and what vosconv says: the file, the cause, the fix, and in
time (before a long read, never after the output is published)."""

from __future__ import annotations

import sys

import pytest

from converters import api, registry
from converters.cli import main
from converters.errors import DetectionError, MissingDependency, OptionError

IN_THE_WAY = "is a file, not a folder; choose another output"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def mose_train(sample_root) -> str:
    return str(sample_root["mose"] / "train")


# ------------------------------------------------------------------ outputs where a folder is a file


def test_an_empty_frames_list_under_a_file_is_refused_before_converting(capsys, sample_root, tmp_path):
    """It was a traceback (NotADirectoryError) raised after the output had been published."""
    (tmp_path / "notes").write_text("a file")
    out = tmp_path / "out.json"
    argv = ["convert", mose_train(sample_root), "-o", str(out), "--empty-frames-list", str(tmp_path / "notes" / "e.json")]
    code, stdout, stderr = run(capsys, *argv)
    assert code == 1 and not stdout
    blocked = f"{tmp_path / 'notes' / 'e.json'}: {tmp_path / 'notes'} is a file, not a folder"
    assert stderr == f"error: --empty-frames-list: {blocked}; choose another path\n"
    assert not out.exists() and not list(tmp_path.glob(".out.json*"))


def test_an_empty_frames_list_in_a_new_folder_is_written_there(capsys, sample_root, tmp_path):
    """As the output's own folders are made: the list used to fail once the output was in place."""
    listing = tmp_path / "lists" / "cutie" / "empty.json"
    argv = ["convert", mose_train(sample_root), "-o", str(tmp_path / "out.json"), "--empty-frames-list", str(listing)]
    code, _, stderr = run(capsys, *argv)
    assert code == 0, stderr
    assert listing.read_text().startswith("{")


def test_stats_outputs_under_a_file_or_misnamed_are_refused_before_reading(capsys, sample_root, tmp_path, monkeypatch):
    """These were found only after the whole dataset was read, and said as `File exists`."""
    from converters.inspect import stats

    def no_reading(*args, **kwargs):
        raise AssertionError("the dataset was read before the outputs were checked")

    monkeypatch.setattr(stats, "summarise", no_reading)
    blocker = tmp_path / "afile"
    blocker.write_text("a file")
    code, _, stderr = run(capsys, "stats", mose_train(sample_root), "--per-video", str(blocker / "v.csv"))
    assert code == 1 and stderr == f"error: cannot write {blocker / 'v.csv'}: {blocker} {IN_THE_WAY}\n"
    code, _, stderr = run(capsys, "stats", mose_train(sample_root), "--per-video", str(tmp_path / "v.txt"))
    assert code == 1 and "give a .csv or .parquet file name" in stderr
    pytest.importorskip("matplotlib")
    code, _, stderr = run(capsys, "stats", mose_train(sample_root), "--plots", str(blocker))
    assert code == 1 and stderr == f"error: cannot write {blocker}: {blocker} {IN_THE_WAY}\n"


def test_a_preview_under_a_file_names_the_file_in_the_way(capsys, sample_root, tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("a file")
    code, _, stderr = run(capsys, "preview", mose_train(sample_root), "-o", str(blocker / "p.png"))
    assert code == 1 and stderr == f"error: cannot write {blocker / 'p.png'}: {blocker} {IN_THE_WAY}\n"


def test_an_mp4_preview_without_pyav_is_refused_before_reading(capsys, sample_root, tmp_path, monkeypatch):
    from converters.inspect import preview

    monkeypatch.setitem(sys.modules, "av", None)  # import av raises ImportError
    monkeypatch.setattr(preview, "video_tiles", lambda *a, **k: pytest.fail("frames were drawn before PyAV was checked"))
    code, _, stderr = run(capsys, "preview", mose_train(sample_root), "-o", str(tmp_path / "p.mp4"))
    assert code == 1 and "an MP4 preview needs PyAV" in stderr


# ------------------------------------------------------------------ options that contradict each other


def test_a_read_option_contradicting_its_flag_is_refused(capsys, sample_root, tmp_path):
    """`-r split=train --split valid` read the train split without a word."""
    out = tmp_path / "out.json"
    code, _, stderr = run(capsys, "convert", str(sample_root["mose"]), "-o", str(out), "-r", "split=train", "--split", "valid")
    assert code == 1 and stderr == "error: --read-opt: split=train contradicts --split valid; give one of them\n"
    assert not out.exists()
    assert run(capsys, "convert", str(sample_root["mose"]), "-o", str(out), "-r", "split=valid", "--split", "valid")[0] == 0


# ------------------------------------------------------------------ the wrong kind of path


def test_verify_of_a_folder_says_it_is_a_folder(capsys, tmp_path):
    code, _, stderr = run(capsys, "verify", str(tmp_path))
    assert code == 1 and stderr.startswith(f"error: {tmp_path}: is a folder; verify checks a downloaded archive file")


#: Folders inside a sample dataset: (its layout, the folder, the dataset root detection names). Those of masks alone
#: (``Annotations/``) are shaped like a results folder too (tests/readers/test_results_folder.py).
INSIDE_A_DATASET = [
    ("mose", "train/JPEGImages", "train"),
    ("mose", "train/Annotations", "train"),
    ("mose", "train/Annotations/82d9d721", "train"),
    ("davis", "DAVIS/JPEGImages/480p", "DAVIS"),
    ("davis", "DAVIS/Annotations/480p", "DAVIS"),
    ("youtube-vos", "valid/Annotations", "valid"),
]


@pytest.mark.parametrize(("layout", "inner", "root"), INSIDE_A_DATASET)
def test_a_folder_inside_a_dataset_names_the_dataset_folder(sample_root, layout, inner, root):
    """`cannot tell the format; name it with --from` sent the user to --from, which fails there too."""
    source = sample_root[layout] / inner
    if not source.exists():  # the sample's video names are its own
        source = next(p for p in source.parent.iterdir() if p.is_dir() and not p.name.startswith("."))
    with pytest.raises(DetectionError) as caught:
        api.detect(source)
    dataset = sample_root[layout] / root
    said = f"{source} lies inside {dataset}, which reads as {layout}: pass {dataset} as the source"
    assert str(caught.value).splitlines()[0] == said  # then, where other readers were asked, why each declined


def test_a_folder_of_nothing_known_still_lists_what_was_looked_for(tmp_path):
    (tmp_path / "JPEGImages").mkdir()  # a frames folder, but nothing above it reads
    with pytest.raises(DetectionError, match=r"cannot tell the format of .*; name it with --from"):
        api.detect(tmp_path / "JPEGImages")


# ------------------------------------------------------------------ missing optional dependencies


def test_missing_dependency_hints_work_in_a_checkout(monkeypatch):
    """vosconv installs from a clone (README): `pip install 'vosconv[ray]'` alone finds nothing to install."""
    from converters.run.executors import RayExecutor

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(MissingDependency, match=r"pip install 'vosconv\[ray\]' \(in a checkout: pip install '\.\[ray\]'\)"):
        RayExecutor()
    from converters.codecs import video

    monkeypatch.setitem(sys.modules, "av", None)
    with pytest.raises(MissingDependency, match=r"in a checkout: pip install '\.\[sav\]'"):
        video._av()


def test_a_built_in_format_missing_a_core_dependency_says_reinstall(monkeypatch):
    """It said `install the package providing converters.formats.hdf5.writer`: vosconv itself."""
    spec = registry.PluginSpec("lost", "vosconv_test_no_such_module.writer:W", None)
    assert spec.origin == "vosconv"
    monkeypatch.setitem(registry._known["writer"], "lost", spec)
    with pytest.raises(MissingDependency) as caught:
        registry.load("writer", "lost")
    message = str(caught.value)
    assert "reinstall vosconv with its dependencies" in message and "in a checkout: pip install .)" in message
    assert "install the package providing" not in message


# ------------------------------------------------------------------ the same mistakes from Python


def test_several_splits_names_the_python_option_too(sample_root):
    """`converters.read_videos(root)` was told to use `--split`, a flag Python does not have."""
    import converters
    from converters.errors import SourceError

    with pytest.raises(SourceError, match=r"choose one with --split \(reader option split\)"):
        list(converters.read_videos(sample_root["mose"]))


def test_options_given_as_text_in_python_are_an_option_error(sample_root, tmp_path):
    """`writer_options="masks=dense"` was a bare ValueError about a dictionary update sequence."""
    from converters.errors import OptionError

    with pytest.raises(OptionError, match="writer options: expected a mapping of option names to values, got 'masks=dense'"):
        api.convert(mose_train(sample_root), tmp_path / "out.h5", to="hdf5", writer_options="masks=dense")
    assert not (tmp_path / "out.h5").exists()


# ------------------------------------------------------------------ --from naming a reader of files for a folder, or back


@pytest.mark.parametrize("reader", ["coco", "cocovid"])
def test_a_json_reader_given_a_folder_says_it_reads_a_file(capsys, sample_root, reader):
    """It said `cannot read: [Errno 21] Is a directory: '...'`."""
    code, _, stderr = run(capsys, "info", mose_train(sample_root), "--from", reader)
    assert code == 1 and stderr.startswith(f"error: {mose_train(sample_root)}: a folder; ")
    assert "reads one .json or .json.gz file" in stderr and "Errno" not in stderr


@pytest.mark.parametrize("reader", ["parquet", "hdf5"])
def test_a_shard_reader_given_a_file_says_it_reads_a_folder(capsys, sample_root, tmp_path, reader):
    """It said `x.json/manifest.json: cannot read: Not a directory`."""
    coco = tmp_path / "mose.json"
    assert run(capsys, "convert", mose_train(sample_root), "-o", str(coco))[0] == 0
    code, _, stderr = run(capsys, "info", str(coco), "--from", reader)
    assert code == 1 and stderr == f"error: {coco}: a file; the {reader} reader reads an output folder holding manifest.json\n"


def test_images_given_the_dataset_root_names_its_frames_folder(capsys, sample_root, tmp_path):
    """Annotations alone, with --images naming the split folder rather than its JPEGImages/."""
    import shutil

    train = sample_root["mose"] / "train"
    shutil.copytree(train / "Annotations", tmp_path / "predictions" / "Annotations")
    argv = ["convert", str(tmp_path / "predictions"), "-o", str(tmp_path / "out.parquet"), "--images", str(train)]
    code, _, stderr = run(capsys, *argv)
    frames = train.resolve() / "JPEGImages"
    assert code == 1 and stderr.rstrip().endswith(f"in the images folder; {frames} holds it: pass --images {frames}")
    code, _, stderr = run(capsys, *argv[:-1], str(frames))
    assert code == 0, stderr


def test_a_json_file_as_the_video_list_is_refused_in_a_line(capsys, sample_root, tmp_path):
    """Cutie's empty-masks lists are JSON in .txt files; given to --videos-from, the whole file was one unknown
    name, printed whole (160 kB for MOSE's)."""
    listing = tmp_path / "mose_empty_masks.txt"
    listing.write_text('{"82d9d721": [], "a30febcf": ["00003"]}')
    code, _, stderr = run(
        capsys, "convert", mose_train(sample_root), "-o", str(tmp_path / "o.json"), "--videos-from", str(listing)
    )
    assert (
        code == 1
        and stderr == f"error: --videos-from: {listing}: is JSON (Cutie's empty-masks map?), not video names one a line\n"
    )
    listing.write_text("x" * 5000 + "\n")
    code, _, stderr = run(
        capsys, "convert", mose_train(sample_root), "-o", str(tmp_path / "o.json"), "--videos-from", str(listing)
    )
    assert code == 1 and stderr.endswith(f"does not have: {'x' * 80}...\n")


def test_a_folder_as_the_video_list_is_said_to_be_one(capsys, sample_root, tmp_path):
    """It said ``cannot read the video list: Is a directory``."""
    code, _, stderr = run(
        capsys, "convert", mose_train(sample_root), "-o", str(tmp_path / "o.json"), "--videos-from", str(tmp_path)
    )
    assert code == 1
    assert stderr == f"error: --videos-from: {tmp_path}: is a folder; name a text file of video names, one a line\n"


@pytest.mark.parametrize("output", [".", ""])
def test_the_current_folder_as_the_output_is_refused_saying_why(capsys, sample_root, tmp_path, monkeypatch, output):
    """`-o .` in an empty folder put the lock file inside it, then refused the folder for holding `..vosconv-lock`."""
    monkeypatch.chdir(tmp_path)
    code, _, stderr = run(capsys, "convert", mose_train(sample_root), "-o", output, "--to", "mose", "--overwrite")
    assert code == 1 and stderr == "error: '.' ends in '.' or '..', so names no output of its own; name it (-o out/x)\n"
    assert list(tmp_path.iterdir()) == []


def test_a_sample_into_the_current_folder_is_refused_before_writing(capsys, tmp_path, monkeypatch):
    """It generated the whole sample, then said `cannot move the finished sample into place: Invalid argument`."""
    monkeypatch.chdir(tmp_path)
    code, _, stderr = run(capsys, "sample", ".")
    assert code == 1 and stderr == "error: '.' ends in '.' or '..'; name a new folder (vosconv sample data/MOSE)\n"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("pipelines: {}\n", "pipelines.yaml: pipelines: defines no pipeline"),
        ("default: []\npipelines:\n  a: {source: data}\n", "PIPELINE: {config} has no default pipeline; name one of a"),
    ],
)
def test_a_pipelines_file_that_runs_nothing_is_an_error(capsys, tmp_path, text, said):
    """Both ran nothing and exited 0, without a word."""
    config = tmp_path / "pipelines.yaml"
    config.write_text(text)
    code, stdout, stderr = run(capsys, "run", "--config", str(config))
    assert code == 1 and not stdout and stderr == f"error: {said.format(config=config)}\n"


def test_training_clips_without_torch_says_so_when_made(sample_root, tmp_path, monkeypatch):
    """The default output='torch' failed at the first item, in a DataLoader worker, as `No module named 'torch'`."""
    from converters.loading import TrainingClips

    out = api.convert(mose_train(sample_root), tmp_path / "m.parquet", to="parquet").output
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependency, match=r"needs torch: pip install 'vosconv\[torch\]' .*, or output='numpy'"):
        TrainingClips(out, num_frames=2)
    assert TrainingClips(out, num_frames=2, output="numpy")[0]["frames"].shape[0] == 2


@pytest.mark.parametrize(
    ("missing", "installs"),
    [
        ("training", r"pip install --no-deps [^;]* sam2==1\.1\.0"),
        *((module, rf"pip install [^)]*\b{module}\b") for module in ("iopath", "omegaconf", "pandas")),
    ],
)
def test_the_sam2_drop_in_without_sam2_names_what_to_install(monkeypatch, missing, installs):
    """Hydra's instantiate said only `No module named 'training'`; the install line named iopath alone, where SAM 2's
    training package (installed with --no-deps) also imports omegaconf and pandas."""
    monkeypatch.delitem(sys.modules, "converters.integrations.sam2", raising=False)
    for name in [n for n in sys.modules if n.startswith((f"{missing}.", "training."))]:  # imported by other tests: absent now
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, missing, None)
    with pytest.raises(MissingDependency, match=f"the SAM 2 drop-in needs {missing}: .*{installs}"):
        import converters.integrations.sam2  # noqa: F401


def test_a_davis_split_under_another_year_names_the_year(capsys, sample_root):
    """`-r year=2018 --split val` was answered `did you mean 'val'?`, the very name typed."""
    code, _, stderr = run(capsys, "info", str(sample_root["davis"]), "--split", "val", "-r", "year=2018")
    assert code == 1 and stderr.rstrip().endswith("'val' is listed for 2016 and 2017: -r year=2017, or leave year out")
    assert "did you mean" not in stderr


@pytest.mark.parametrize(("fps", "suffix"), [("0", "gif"), ("-3", "gif"), ("nan", "gif"), ("1e4", "mp4"), ("1e-4", "mp4")])
def test_an_animation_at_no_negative_or_absurd_fps_is_refused(capsys, sample_root, tmp_path, fps, suffix):
    """0 was a ZeroDivisionError traceback, nan a ValueError one, -3 wrote a 50 fps GIF, and 1e4 an MP4 of no frame."""
    if suffix == "mp4":
        pytest.importorskip("av")
    out = tmp_path / f"p.{suffix}"
    code, _, stderr = run(capsys, "preview", mose_train(sample_root), "-o", str(out), "--fps", fps)
    assert code == 1 and stderr == f"error: --fps: expected frames per second from 0.001 to 1000, got {float(fps)}\n"
    assert not out.exists()


# ------------------------------------------------------------------ a results folder: masks alone, no Annotations/


def test_a_results_folder_reads_as_it_is(capsys, tmp_path):
    """A results or submission folder (``<video>/00000.png``, as DAVIS's evaluation reads it) was "cannot tell the
    format; name it with --from", and --from mose then said only that there was no Annotations/ (later: to make a
    folder holding a link named Annotations to it). It reads now, detected or named."""
    import numpy as np

    from tests.folderdata import save_palette_png

    results = tmp_path / "osvos"
    for video in ("bike-packing", "bmx-trees"):
        label = np.zeros((6, 8), np.uint8)
        label[1:4, 2:5] = 1
        for frame in ("00000", "00001"):
            save_palette_png(results / video / f"{frame}.png", label)
    for argv in (["info", str(results), "--json"], ["info", str(results), "--from", "mose", "--json"]):
        code, stdout, _ = run(capsys, *argv)
        assert code == 0 and '"videos": 2' in stdout
    # a folder of anything else is no results folder: the plain report stands
    (results / "bmx-trees" / "00000.jpg").write_bytes(b"")
    code, _, stderr = run(capsys, "info", str(results))
    assert code == 1 and "cannot tell the format" in stderr and "results folder" not in stderr


# ------------------------------------------------------------------ an option of another format


def test_an_option_of_another_format_names_the_formats_that_take_it(capsys, sample_root, tmp_path):
    """``-w masks=dense`` (the README's HDF5 example) for a COCO output said only ``unknown option (allowed:
    compresslevel)``: the user could not tell a typo from an option of another writer."""
    out = str(tmp_path / "out.json")
    code, _, stderr = run(capsys, "convert", mose_train(sample_root), "-o", out, "-w", "masks=dense")
    assert code == 1 and stderr == (
        "error: --write-opt.masks: unknown option (allowed: compresslevel); masks is an option of the hdf5 writer, not of coco\n"
    )
    code, _, stderr = run(capsys, "info", mose_train(sample_root), "-r", "verify=true")
    assert code == 1 and "verify is an option of the hdf5 and parquet readers, not of mose" in stderr
    code, _, stderr = run(capsys, "convert", mose_train(sample_root), "-o", out, "-w", "nosuch=1")
    assert code == 1 and stderr == "error: --write-opt.nosuch: unknown option (allowed: compresslevel)\n"
    with pytest.raises(OptionError, match="masks is an option of the hdf5 writer, not of coco"):
        api.open_writer("coco", {"masks": "dense"})


def test_no_images_for_a_writer_without_images_says_to_leave_it_out(capsys, sample_root, tmp_path):
    """It said ``the coco writer does not embed images``, which left the user to guess whether that was a refusal."""
    code, _, stderr = run(capsys, "convert", mose_train(sample_root), "-o", str(tmp_path / "out.json"), "--no-images")
    assert code == 1
    assert stderr == "error: --no-images: the coco writer holds no images (it names each frame's file): leave --no-images out\n"
    assert not (tmp_path / "out.json").exists()


def test_an_output_under_a_file_is_refused_naming_the_file(capsys, sample_root, tmp_path):
    """It said ``cannot write out/afile/x.json: Not a directory (out/afile/.x.json.vosconv-lock)``: the lock file's
    path, which the user never named, and not which file was in the way."""
    (tmp_path / "afile").write_text("notes")
    out = tmp_path / "afile" / "x.json"
    code, _, stderr = run(capsys, "convert", mose_train(sample_root), "-o", str(out))
    assert code == 1
    assert stderr == f"error: cannot write {out}: {tmp_path / 'afile'} {IN_THE_WAY}\n"


def test_a_sample_under_a_file_is_refused_naming_the_file(capsys, tmp_path):
    """It said ``out/afile/s: cannot write here: File exists``."""
    (tmp_path / "afile").write_text("notes")
    code, _, stderr = run(capsys, "sample", str(tmp_path / "afile" / "s"))
    assert code == 1
    blocked = f"{tmp_path / 'afile'} is a file, not a folder; choose another path"
    assert stderr == f"error: cannot write {tmp_path / 'afile' / 's'}: {blocked}\n"


def test_images_naming_a_file_says_it_is_a_file(capsys, sample_root, tmp_path):
    """``--images`` given a file (the COCO file itself, say) said ``images folder does not exist``: it does exist."""
    coco = tmp_path / "in.json"
    assert run(capsys, "convert", mose_train(sample_root), "-o", str(coco))[0] == 0
    code, _, stderr = run(capsys, "convert", str(coco), "-o", str(tmp_path / "out"), "--to", "mose", "--images", str(coco))
    assert code == 1
    assert stderr == f"error: {coco}: a file, not a folder: the images option (--images DIR) names a folder of frames\n"
    code, _, stderr = run(capsys, "info", str(coco), "--images", str(tmp_path / "nowhere"))
    assert code == 1 and "images folder does not exist" in stderr
