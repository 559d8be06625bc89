"""The ``parquet`` writer: schema, rows, row groups, manifest, shards, and what other tools read from it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from converters import api
from converters.errors import OptionError
from converters.formats.parquet.spec import METADATA_KEY
from converters.formats.sharded import manifest as shards
from converters.model import VOID_ID
from converters.sources.checksums import sha256

SOURCES = {
    "mose": ("mose", {"split": "train"}),
    "davis": ("davis", {"split": "val"}),  # void, an empty frame, grayscale masks
    "youtube-vos": ("youtube-vos", {"split": "valid"}),
}


def convert(sample_root, out, source="davis", workers=1, **options):
    layout, reader_options = SOURCES[source]
    api.convert(
        sample_root[layout],
        out,
        to="parquet",
        from_=layout,
        reader_options=reader_options,
        writer_options=options,
        workers=workers,
    )
    return out


def shard_paths(out: Path) -> list[Path]:
    """The output's shard files, in shard order, as its manifest names them."""
    return [out / shard.file for shard in shards.load_manifest(out).shards]


def source_videos(sample_root, source="davis"):
    layout, options = SOURCES[source]
    with api.open_reader(sample_root[layout], layout, options) as reader:
        return reader.info(), [reader.read_video(ref) for ref in reader.list_videos()]


@pytest.fixture(scope="module")
def davis_out(sample_root, tmp_path_factory):
    return convert(sample_root, tmp_path_factory.mktemp("pq") / "out", row_group_frames=3)


def test_schema_is_exactly_as_documented(davis_out):
    schema = pq.read_schema(shard_paths(davis_out)[0])
    image = schema.field("image").type
    assert image == pa.struct([("bytes", pa.binary()), ("path", pa.string())])  # bytes first, binary not large_binary
    objects = schema.field("objects").type
    assert pa.types.is_list(objects)
    assert [(f.name, f.type) for f in objects.value_type] == [
        ("object_id", pa.int32()),
        ("category_id", pa.int32()),
        ("iscrowd", pa.int8()),
        ("counts", pa.string()),
        ("area", pa.int64()),
        ("bbox", pa.list_(pa.int32())),
    ]
    assert schema.names == ["video", "frame_index", "file_name", "width", "height", "annotated", "image", "objects"]
    hf = json.loads(schema.metadata[b"huggingface"])
    assert hf["info"]["features"]["image"] == {"_type": "Image"}
    assert pq.ParquetFile(shard_paths(davis_out)[0]).metadata.row_group(0).column(0).compression == "ZSTD"


@pytest.mark.parametrize("source", ["davis", "youtube-vos"])
def test_rows_hold_every_frame(sample_root, tmp_path, source):
    _, videos = source_videos(sample_root, source)
    out = convert(sample_root, tmp_path / "out", source)
    table = pq.read_table(shard_paths(out)[0])
    rows = table.to_pylist()
    expected = [(v.name, f.index) for v in videos for f in v.frames]
    assert [(r["video"], r["frame_index"]) for r in rows] == expected
    by_key = {(r["video"], r["frame_index"]): r for r in rows}
    saw_void = saw_empty = saw_unannotated = False
    for video in videos:
        categories = {o.object_id: o.category_id for o in video.objects}
        for frame in video.frames:
            row = by_key[video.name, frame.index]
            assert (row["file_name"], row["width"], row["height"]) == (frame.file_name, video.width, video.height)
            assert row["image"]["bytes"] == Path(frame.image.path).read_bytes()
            assert row["image"]["path"] == f"{video.name}/{frame.file_name}"
            assert row["annotated"] is frame.annotated
            if frame.masks is None:
                assert row["objects"] is None
                saw_unannotated = True
                continue
            want = [
                {"object_id": m.object_id, "category_id": categories.get(m.object_id), "iscrowd": 0, "counts": m.counts}
                | {"area": m.area, "bbox": list(m.bbox)}
                for m in frame.masks.objects
            ]
            if frame.masks.void is not None:
                saw_void = True
                void = frame.masks.void
                want.append(
                    {"object_id": VOID_ID, "category_id": None, "iscrowd": 1, "counts": void.counts, "area": void.area}
                    | {"bbox": list(void.bbox)}
                )
            saw_empty |= want == []
            assert row["objects"] == want
    traits = {"davis": (True, True, False), "youtube-vos": (False, False, True)}[source]
    assert (saw_void, saw_empty, saw_unannotated) == traits


def test_row_groups_never_span_videos(sample_root, tmp_path):
    for frames_per_group in (1, 3, 8, 100):
        out = convert(sample_root, tmp_path / f"g{frames_per_group}", source="mose", row_group_frames=frames_per_group)
        file = pq.ParquetFile(shard_paths(out)[0])
        record = json.loads(file.metadata.metadata[METADATA_KEY])
        seen = 0
        for video in record["videos"]:
            first, stop = video["row_groups"]
            assert first == seen
            seen = stop
            names = set()
            for group in range(first, stop):
                table = file.read_row_group(group, columns=["video", "frame_index"])
                assert 1 <= table.num_rows <= frames_per_group
                names |= set(table.column("video").to_pylist())
            assert names == {video["name"]}
            assert video["rows"][1] - video["rows"][0] == video["frames"]
        assert seen == file.metadata.num_row_groups


def test_manifest(sample_root, davis_out):
    info, videos = source_videos(sample_root)
    value = json.loads((davis_out / "manifest.json").read_text())
    assert value["format"] == "vosconv-parquet" and value["format_version"] == 2  # 2: shards in data/, named as the Hub does
    assert value["writer"]["name"] == "parquet"
    assert value["writer"]["options"] == {"images": True, "shard_bytes": 1 << 30, "row_group_frames": 3, "compression_level": 3}
    assert value["source"] == {
        "format": "davis",
        "split": "val",
        "image_root": str(sample_root["davis"].resolve() / "DAVIS" / "JPEGImages" / "480p"),
        "attributes": dict(info.attributes),
    }
    assert [c["name"] for c in value["categories"]] == [c.name for c in info.categories]
    (shard,) = value["shards"]
    path = davis_out / shard["file"]
    assert shard["bytes"] == path.stat().st_size
    assert shard["sha256"] == sha256(path)
    assert shard["videos"] == [v.name for v in videos]
    assert shard["frames"] == sum(len(v.frames) for v in videos)
    assert [v["name"] for v in value["videos"]] == [v.name for v in videos]
    assert shard["file"] == "data/val-00000-of-00001.parquet"
    assert sorted(p.relative_to(davis_out).as_posix() for p in davis_out.rglob("*")) == [
        "README.md",
        "data",
        "data/val-00000-of-00001.parquet",
        "manifest.json",
    ]


def test_small_shards_and_workers(sample_root, tmp_path):
    one = convert(sample_root, tmp_path / "one", source="mose", shard_bytes=1)
    two = convert(sample_root, tmp_path / "two", source="mose", shard_bytes=1, workers=2)
    manifest = shards.load_manifest(one)
    assert len(manifest.shards) == 3  # one video per shard: none is ever split
    assert [s.videos for s in manifest.shards] == [(v.name,) for v in manifest.videos]
    files = sorted(p.relative_to(one).as_posix() for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two).as_posix() for p in two.rglob("*") if p.is_file())
    assert [s.file for s in manifest.shards] == [f"data/train-{i:05d}-of-00003.parquet" for i in range(3)]
    for name in files:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name
    for shard in manifest.shards:
        assert pq.read_table(one / shard.file, columns=["video"]).column("video").unique().to_pylist() == list(shard.videos)


def test_without_images(sample_root, tmp_path):
    out = convert(sample_root, tmp_path / "out", images=False)
    (path,) = shard_paths(out)
    table = pq.read_table(path, columns=["video", "file_name", "image"])
    for row in table.to_pylist():
        assert row["image"] == {"bytes": None, "path": f"{row['video']}/{row['file_name']}"}
    assert path.stat().st_size < 50_000


@pytest.mark.parametrize("options", [{"row_group_frames": 0}, {"shard_bytes": 0}, {"compression_level": 30}, {"codec": "lz4"}])
def test_bad_options(options):
    with pytest.raises(OptionError):
        api.open_writer("parquet", options)


def test_duckdb_reads_objects_per_video(sample_root, davis_out):
    duckdb = pytest.importorskip("duckdb")
    _, videos = source_videos(sample_root)
    query = f"""
        SELECT video, count(DISTINCT o.object_id) AS objects
        FROM (SELECT video, unnest(objects) AS o FROM read_parquet('{davis_out}/data/*.parquet'))
        WHERE o.iscrowd = 0
        GROUP BY video ORDER BY video
    """
    got = duckdb.sql(query).fetchall()
    want = [(v.name, len({m.object_id for f in v.frames if f.masks for m in f.masks.objects})) for v in videos]
    assert got == want
    annotated = duckdb.sql(f"SELECT count(*) FROM read_parquet('{davis_out}/data/*.parquet') WHERE annotated").fetchall()[0][0]
    assert annotated == sum(len(v.annotated_indices) for v in videos)


def test_hugging_face_datasets_decodes_the_images(sample_root, davis_out, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    datasets = pytest.importorskip("datasets")
    _, videos = source_videos(sample_root)
    loaded = datasets.load_dataset(
        "parquet", data_files=str(davis_out / "data" / "*.parquet"), split="train", cache_dir=str(tmp_path / "cache")
    )
    assert type(loaded.features["image"]).__name__ == "Image"
    frames = [f for v in videos for f in v.frames]
    assert len(loaded) == len(frames)
    for position in (0, len(frames) // 2, len(frames) - 1):
        image = loaded[position]["image"]
        with Image.open(frames[position].image.path) as want:
            assert np.array_equal(np.asarray(image), np.asarray(want))
        assert loaded[position]["file_name"] == frames[position].file_name
    raw = loaded.cast_column("image", datasets.Image(decode=False))[0]["image"]["bytes"]
    assert Image.open(io.BytesIO(raw)).format == "JPEG"


# ------------------------------------------------------------------ the Hugging Face Hub's layout


def front_matter(out: Path) -> tuple[dict, str]:
    """The dataset card's YAML front matter, and the text after it."""
    import yaml

    text = (out / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    head, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(head), body


@pytest.fixture
def offline_hf(tmp_path, monkeypatch):
    """``datasets`` without the network, with its caches under ``tmp_path``."""
    for name in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE"):
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    return pytest.importorskip("datasets")


@pytest.mark.parametrize(("source", "split"), [("davis", "val"), ("youtube-vos", "valid")])
def test_datasets_loads_the_folder_itself_and_as_a_parquet_data_dir(sample_root, tmp_path, offline_hf, source, split):
    """``load_dataset(OUT)`` reads the card; ``load_dataset("parquet", data_dir=OUT)`` finds the shards by their names."""
    out = convert(sample_root, tmp_path / "out", source=source, shard_bytes=1)
    _, videos = source_videos(sample_root, source)
    frames = [(v.name, f.index) for v in videos for f in v.frames]
    for loaded in (
        offline_hf.load_dataset(str(out), cache_dir=str(tmp_path / "c1")),
        offline_hf.load_dataset("parquet", data_dir=str(out), cache_dir=str(tmp_path / "c2")),
    ):
        assert list(loaded) == [split]
        rows = loaded[split]
        assert list(zip(rows["video"], rows["frame_index"])) == frames  # every frame once, in order, no manifest row
        assert type(rows.features["image"]).__name__ == "Image"
        assert rows.features == offline_hf.Features.from_arrow_schema(pq.read_schema(shard_paths(out)[0]))


def test_the_card_declares_the_schemas_features_and_the_split(sample_root, davis_out, offline_hf):
    from converters.formats.parquet.writer import SCHEMA

    front, body = front_matter(davis_out)
    assert front["configs"] == [{"config_name": "default", "data_files": [{"split": "val", "path": "data/val-*.parquet"}]}]
    assert offline_hf.Features._from_yaml_list(front["dataset_info"]["features"]) == offline_hf.Features.from_arrow_schema(SCHEMA)
    for column in SCHEMA.names:
        assert f"`{column}`" in body
    assert "split `val`" in body and "DAVIS" in body


@pytest.mark.parametrize(
    ("source", "license_id", "says"),
    [
        ("mose", "cc-by-nc-sa-4.0", ["CC BY-NC-SA 4.0", "Ding, Henghui", "ICCV"]),
        ("davis", "other", ["davischallenge.org", "Perazzi, Federico", "Pont-Tuset, Jordi"]),
        ("youtube-vos", "cc-by-4.0", ["CC BY 4.0", "Xu, Ning", "1809.03327"]),
    ],
)
def test_the_card_names_the_source_its_licence_and_citation(sample_root, tmp_path, source, license_id, says):
    out = convert(sample_root, tmp_path / "out", source=source)
    front, body = front_matter(out)
    assert front["license"] == license_id
    for text in says:
        assert text in body


def test_a_source_vosconv_cannot_name_gets_a_card_that_says_unknown(sample_root, davis_out, tmp_path):
    again = tmp_path / "again"
    api.convert(davis_out, again, to="parquet")  # the source is a Parquet output: its origin is not recorded
    front, body = front_matter(again)
    assert front["license"] == "unknown"
    assert "Licence: unknown" in body and "Citation: unknown" in body and "Source: unknown" in body


def test_split_names_are_what_the_hub_accepts():
    from converters.formats.parquet.card import split_name
    from converters.model import DatasetInfo

    assert split_name(DatasetInfo("coco")) == "train"
    assert split_name(DatasetInfo("davis", split="test-dev")) == "test_dev"
    assert split_name(DatasetInfo("mose", split="valid")) == "valid"


def test_a_source_without_a_split_is_said_to_be_named_train(sample_root, tmp_path):
    """DAVIS read without --split (every sequence) became ``data/train-*`` and a card's ``train`` split silently."""
    said = "the source has no split: its shards are named train-*, the Hugging Face Hub's default split"
    whole = api.convert(sample_root["davis"], tmp_path / "whole", to="parquet")
    assert said in whole.notes and list((tmp_path / "whole" / "data").glob("train-*.parquet"))
    val = api.convert(sample_root["davis"], tmp_path / "val", to="parquet", reader_options={"split": "val"})
    assert said not in val.notes and list((tmp_path / "val" / "data").glob("val-*.parquet"))


@pytest.mark.filterwarnings("ignore:.*shards the interrupted run finished are done again")  # redone on purpose
def test_resume_after_the_shards_were_renamed_gives_the_same_output(sample_root, tmp_path, monkeypatch):
    """Interrupted after ``finalize`` gave the shards their published names: a resumed run still ends with the same files."""
    from converters.run import pipeline

    reference = convert(sample_root, tmp_path / "reference", source="mose", shard_bytes=1)
    publish = pipeline.publish

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "publish", interrupted)
    with pytest.raises(pipeline.Interrupted):
        convert(sample_root, tmp_path / "out", source="mose", shard_bytes=1)
    monkeypatch.setattr(pipeline, "publish", publish)
    layout, reader_options = SOURCES["mose"]
    out = tmp_path / "out"
    api.convert(
        sample_root[layout], out, to="parquet", reader_options=reader_options, writer_options={"shard_bytes": 1}, resume=True
    )
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(reference).as_posix() for p in reference.rglob("*") if p.is_file())
    for name in files:
        if name != "manifest.json":  # it records the image root, the same here, and nothing of the run
            assert (out / name).read_bytes() == (reference / name).read_bytes(), name


class RecordingBar:
    """Stands in for the tqdm bar: what it was moved by."""

    def __init__(self, total: int, enabled) -> None:
        self.total, self.steps = total, []

    def update(self, step: int) -> None:
        if step:
            self.steps.append(step)

    def close(self) -> None:
        pass


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("writer", ["parquet", "hdf5"])
def test_the_progress_bar_moves_per_video_not_per_shard(sample_root, tmp_path, monkeypatch, writer, workers):
    """Shards of several videos (1 GiB files by default): the bar moves as each video is written, also from a forked worker."""
    from converters.run import pipeline
    from converters.sample import write_sample

    source = write_sample(tmp_path / "mose", "mose", scale=2)
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    bars = []
    monkeypatch.setattr(pipeline, "_progress", lambda total, enabled: bars.append(RecordingBar(total, enabled)) or bars[-1])
    summary = api.convert(
        source,
        tmp_path / "out",
        to=writer,
        reader_options={"split": "train"},
        writer_options={"shard_bytes": size // 2},
        workers=workers,
    )
    assert 2 <= summary.shards < summary.stats.videos  # shards of several videos each
    (bar,) = bars
    assert bar.steps == [1] * summary.stats.videos
