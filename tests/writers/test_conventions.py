"""Folder layouts written for their consumers: DAVIS 2016's 0/255 and DAVIS's void in layouts that have neither.

MOSE and YouTube-VOS masks are palette PNGs whose every non-zero value is an object to their
loaders. The DAVIS 2017 evaluation kit is replayed from davisvideochallenge/davis2017-evaluation
``davis2017/davis.py`` (``DAVIS._get_all_elements`` sets 255 to 0, ``get_all_masks`` with
``separate_objects_masks`` counts ``max(first mask)`` objects); SAM 2's own loader is run in
``tests/integrations/test_layout_conventions.py``.
"""

from __future__ import annotations

import json
import os
from glob import glob

import numpy as np
import pytest
from PIL import Image

from converters import api, cli
from converters.errors import VosconvError
from converters.sample import label_maps

NO_VOID_LAYOUTS = ("mose", "youtube-vos")
BINARY = "pelican"  # the sample's DAVIS 2016 (0/255) sequence, in train
VOIDED = "paper-boat"  # void bands around objects 1 and 2, in train


def davis_kit_masks(folder) -> np.ndarray:
    """davis2017-evaluation's ``DAVIS.get_all_masks(sequence, separate_objects_masks=True)`` on one sequence folder."""
    paths = np.sort(glob(os.path.join(folder, "*.png"))).tolist()
    first = np.array(Image.open(paths[0]))
    all_objs = np.zeros((len(paths), *first.shape))
    for i, path in enumerate(paths):
        all_objs[i, ...] = np.array(Image.open(path))
        all_objs[i, all_objs[i, ...] == 255] = 0
    num_objects = int(np.max(all_objs[0, ...]))
    tmp = np.ones((num_objects, *all_objs.shape))
    tmp = tmp * np.arange(1, num_objects + 1)[:, None, None, None]
    return tmp == all_objs[None, ...]


def source_labels(sample_root, video: str) -> dict[str, np.ndarray]:
    return label_maps(sample_root["davis"] / "DAVIS" / "Annotations" / "480p" / video)


def written(out, layout: str, video: str) -> dict[str, np.ndarray]:
    return label_maps(out / "Annotations" / ("480p" if layout == "davis" else "") / video)


def to_layout(sample_root, out, layout: str, **writer_options):
    return api.convert(
        sample_root["davis"], out, to=layout, from_="davis", reader_options={"split": "train"}, writer_options=writer_options
    )


@pytest.mark.parametrize("layout", NO_VOID_LAYOUTS)
def test_a_binary_davis_2016_video_is_palette_id_1_where_there_is_no_0_255(sample_root, tmp_path, layout):
    summary = to_layout(sample_root, tmp_path / "out", layout)
    source, got = source_labels(sample_root, BINARY), written(tmp_path / "out", layout, BINARY)
    assert sorted(got) == sorted(source)
    for name, label in source.items():
        assert set(np.unique(label).tolist()) <= {0, 255}
        np.testing.assert_array_equal(got[name], (label == 255).astype(np.uint8), err_msg=name)
        with Image.open(tmp_path / "out" / "Annotations" / BINARY / name) as image:
            assert image.mode == "P"
    kit = davis_kit_masks(tmp_path / "out" / "Annotations" / BINARY)  # the kit now sees the object
    assert kit.shape[0] == 1
    for position, name in enumerate(sorted(source)):
        np.testing.assert_array_equal(kit[0, position], source[name] == 255)
    assert any("binary" in note and "palette id 1" in note for note in summary.notes)
    marker = json.loads((tmp_path / "out" / ".vosconv.json").read_text())
    assert marker["conventions"]["binary_as_palette"] == [BINARY]


def test_the_davis_layout_keeps_0_255(sample_root, tmp_path):
    summary = to_layout(sample_root, tmp_path / "out", "davis")
    for name, label in source_labels(sample_root, BINARY).items():
        path = tmp_path / "out" / "Annotations" / "480p" / BINARY / name
        with Image.open(path) as image:
            assert image.mode == "L"
            np.testing.assert_array_equal(np.asarray(image), label)
    assert summary.notes == ()


@pytest.mark.parametrize("layout", NO_VOID_LAYOUTS)
def test_void_becomes_background_by_default(sample_root, tmp_path, layout):
    summary = to_layout(sample_root, tmp_path / "out", layout)
    source, got = source_labels(sample_root, VOIDED), written(tmp_path / "out", layout, VOIDED)
    assert any((label == 255).any() for label in source.values())  # the sample has void to drop
    for name, label in source.items():
        np.testing.assert_array_equal(got[name], np.where(label == 255, 0, label), err_msg=name)
    objects = set(np.unique(np.concatenate([label.ravel() for label in source.values()])).tolist()) - {0, 255}
    assert davis_kit_masks(tmp_path / "out" / "Annotations" / VOIDED).shape[0] == len(objects)
    (note,) = [n for n in summary.notes if "void" in n]
    assert "background 0" in note and "void=keep" in note
    marker = json.loads((tmp_path / "out" / ".vosconv.json").read_text())
    conventions = marker["conventions"]
    assert conventions["void"] == "drop" and conventions["void_videos"] == [VOIDED]
    assert conventions["void_frames"] == sum(bool((label == 255).any()) for label in source.values())
    (video,) = [v for v in api.read_videos(tmp_path / "out", layout) if v.name == VOIDED]
    assert not video.has_void  # read back: no void, no object 255


@pytest.mark.parametrize("layout", NO_VOID_LAYOUTS)
def test_void_keep_writes_255_and_says_so(sample_root, tmp_path, layout):
    summary = to_layout(sample_root, tmp_path / "out", layout, void="keep")
    source, got = source_labels(sample_root, VOIDED), written(tmp_path / "out", layout, VOIDED)
    for name, label in source.items():
        np.testing.assert_array_equal(got[name], label, err_msg=name)
    (note,) = [n for n in summary.notes if "void" in n]
    assert "kept as pixel value 255" in note
    assert json.loads((tmp_path / "out" / ".vosconv.json").read_text())["conventions"]["void"] == "keep"


def test_the_davis_layout_keeps_void(sample_root, tmp_path):
    to_layout(sample_root, tmp_path / "out", "davis")
    source, got = source_labels(sample_root, VOIDED), written(tmp_path / "out", "davis", VOIDED)
    for name, label in source.items():
        np.testing.assert_array_equal(got[name], label, err_msg=name)


def test_void_through_coco_is_dropped_in_mose_too(sample_root, tmp_path):
    """The convention is the writer's, whatever the source format: DAVIS -> COCO -> MOSE."""
    coco = tmp_path / "x.json"
    api.convert(sample_root["davis"], coco, to="coco", from_="davis", reader_options={"split": "train"})
    api.convert(coco, tmp_path / "out", to="mose", from_="coco")
    for name, label in written(tmp_path / "out", "mose", VOIDED).items():
        assert 255 not in label, name
    assert set(np.unique(np.stack(list(written(tmp_path / "out", "mose", BINARY).values()))).tolist()) == {0, 1}


def test_the_summary_prints_what_was_changed(sample_root, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["convert", str(sample_root["davis"]), "-o", str(out), "--to", "youtube-vos", "-r", "split=train"]
    assert cli.main(argv) == 0
    printed = capsys.readouterr().out
    assert "note: 1 DAVIS 2016 binary (0/255) video: object 1 written as palette id 1" in printed
    assert "note: void (255) in" in printed and "-w void=keep keeps it" in printed


def test_void_option_takes_drop_or_keep(sample_root, tmp_path):
    with pytest.raises(VosconvError, match="void"):
        to_layout(sample_root, tmp_path / "out", "mose", void="maybe")
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ the void region in COCO JSON
#
# Replayed from the sources, neither being installable here: the YouTube-VIS API
# (youtubevos/cocoapi ``PythonAPI/pycocotools/ytvos.py``, vendored by Mask2Former as
# ``ytvis_api/ytvos.py``) and Mask2Former's ``mask2former_video/data_video/datasets/ytvis.py::
# load_ytvis_json`` (detectron2's BoxMode and MetadataCatalog left out: a dict stands for the metadata).


class YTVOS:
    """The YouTube-VIS API's ``YTVOS``: ``createIndex``, ``getCatIds``, ``loadCats``, ``getAnnIds``, ``loadAnns``,
    ``loadVids``, ``annToRLE`` and ``annToMask`` as the API has them."""

    def __init__(self, annotation_file):
        with open(annotation_file) as file:
            self.dataset = json.load(file)
        assert type(self.dataset) is dict, f"annotation file format {type(self.dataset)} not supported"
        self.createIndex()

    def createIndex(self):  # the API's names
        anns, cats, vids = {}, {}, {}
        vidToAnns, catToVids = {}, {}
        if "annotations" in self.dataset and self.dataset["annotations"] is not None:
            for ann in self.dataset["annotations"]:
                vidToAnns.setdefault(ann["video_id"], []).append(ann)
                anns[ann["id"]] = ann
        if "videos" in self.dataset:
            for vid in self.dataset["videos"]:
                vids[vid["id"]] = vid
        if "categories" in self.dataset:
            for cat in self.dataset["categories"]:
                cats[cat["id"]] = cat
        if "annotations" in self.dataset and "categories" in self.dataset and self.dataset["annotations"] is not None:
            for ann in self.dataset["annotations"]:
                catToVids.setdefault(ann["category_id"], []).append(ann["video_id"])
        self.anns, self.vidToAnns, self.catToVids, self.vids, self.cats = anns, vidToAnns, catToVids, vids, cats

    def getCatIds(self):
        return [cat["id"] for cat in self.dataset["categories"]]

    def loadCats(self, ids):
        return [self.cats[i] for i in ids]

    def getAnnIds(self, vidIds):
        lists = [self.vidToAnns[v] for v in vidIds if v in self.vidToAnns]
        return [ann["id"] for anns in lists for ann in anns]

    def loadAnns(self, ids):
        return [self.anns[i] for i in ids]

    def loadVids(self, ids):
        return [self.vids[i] for i in ids]

    def annToRLE(self, ann, frameId):
        from pycocotools import mask as mask_utils

        t = self.vids[ann["video_id"]]
        h, w = t["height"], t["width"]
        segm = ann["segmentations"][frameId]
        if type(segm) is list:
            return mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
        if type(segm["counts"]) is list:
            return mask_utils.frPyObjects(segm, h, w)
        return segm

    def annToMask(self, ann, frameId):
        from pycocotools import mask as mask_utils

        return mask_utils.decode(self.annToRLE(ann, frameId))


def load_ytvis_json(json_file, image_root, dataset_name=None):
    """Mask2Former's ``load_ytvis_json``: (the dataset dicts, the metadata it registers)."""
    ytvis_api = YTVOS(json_file)
    meta, id_map = {}, None
    if dataset_name is not None:
        cat_ids = sorted(ytvis_api.getCatIds())
        cats = ytvis_api.loadCats(cat_ids)
        meta["thing_classes"] = [c["name"] for c in sorted(cats, key=lambda x: x["id"])]
        id_map = {v: i for i, v in enumerate(cat_ids)}
        meta["thing_dataset_id_to_contiguous_id"] = id_map
    vid_ids = sorted(ytvis_api.vids.keys())
    vids = ytvis_api.loadVids(vid_ids)
    anns = [ytvis_api.vidToAnns.get(vid_id, []) for vid_id in vid_ids]
    dataset_dicts = []
    ann_keys = ["iscrowd", "category_id", "id"]
    for vid_dict, anno_dict_list in zip(vids, anns):
        record = {
            "file_names": [os.path.join(image_root, vid_dict["file_names"][i]) for i in range(vid_dict["length"])],
            "height": vid_dict["height"],
            "width": vid_dict["width"],
            "length": vid_dict["length"],
            "video_id": vid_dict["id"],
        }
        video_objs = []
        for frame_idx in range(record["length"]):
            frame_objs = []
            for anno in anno_dict_list:
                assert anno["video_id"] == record["video_id"]
                obj = {key: anno[key] for key in ann_keys if key in anno}
                _bboxes, _segm = anno.get("bboxes", None), anno.get("segmentations", None)
                if not (_bboxes and _segm and _bboxes[frame_idx] and _segm[frame_idx]):
                    continue
                obj["bbox"] = _bboxes[frame_idx]
                obj["segmentation"] = _segm[frame_idx]
                if id_map:
                    obj["category_id"] = id_map[obj["category_id"]]
                frame_objs.append(obj)
            video_objs.append(frame_objs)
        record["annotations"] = video_objs
        dataset_dicts.append(record)
    return dataset_dicts, meta


SEMANTICS = {"paper-boat": {"1": "boat", "2": "person", "3": "boat"}, "pelican": {"1": "bird"}}
CATEGORIES = {"person": {"id": 1, "super_category": "person"}, "boat": {"id": 4, "super_category": "vehicle"}}


@pytest.fixture
def davis_with_semantics(sample_copy):
    """The DAVIS sample with the semantics download's two files (categories for the train sequences)."""
    root = sample_copy("davis") / "DAVIS"
    categories = {**CATEGORIES, "bird": {"id": 2, "super_category": "animal"}}
    (root / "categories.json").write_text(json.dumps(categories))
    (root / "davis_semantics.json").write_text(json.dumps(SEMANTICS))
    return root, categories


def test_void_is_no_class_for_mask2former_nor_the_ytvis_api(davis_with_semantics, tmp_path):
    root, categories = davis_with_semantics
    out = tmp_path / "train.json"
    api.convert(root, out, to="coco", from_="davis", reader_options={"split": "train"})
    dicts, meta = load_ytvis_json(out, "JPEGImages", dataset_name="davis_train")  # no KeyError
    by_id = sorted(categories.values(), key=lambda c: c["id"])
    assert meta["thing_classes"] == [name for name, _ in sorted(categories.items(), key=lambda kv: kv[1]["id"])]
    assert len(meta["thing_classes"]) == len(by_id) == 3
    ytvis = YTVOS(out)
    assert sorted(ytvis.getCatIds()) == [c["id"] for c in by_id]
    for video in ytvis.loadVids(sorted(ytvis.vids)):
        source = label_maps(root / "Annotations" / "480p" / video["name"])
        for ann in ytvis.loadAnns(ytvis.getAnnIds(vidIds=[video["id"]])):
            assert ann["category_id"] in ytvis.cats and ann["iscrowd"] == 0
            for index, file_name in enumerate(video["file_names"]):
                label = source[file_name.split("/")[-1].replace(".jpg", ".png")]
                value = 255 if video["name"] == BINARY else ann["object_id"]
                if ann["segmentations"][index] is not None:
                    np.testing.assert_array_equal(ytvis.annToMask(ann, index), label == value)
    objects = sum(len(objs) for record in dicts for objs in record["annotations"])
    assert objects == sum(len(v["frames"]) for v in _objects_by_frame(root))


def _objects_by_frame(root) -> list[dict]:
    """Per train sequence, per frame, the object ids its PNG holds (void and background left out)."""
    found = []
    for video in ("paper-boat", "pelican"):
        frames = []
        for label in label_maps(root / "Annotations" / "480p" / video).values():
            values = set(np.unique(label).tolist()) - {0}
            frames.extend(sorted(values if video == BINARY else values - {255}))
        found.append({"name": video, "frames": frames})
    return found


def test_void_lives_in_the_video_record_and_comes_back(sample_root, tmp_path):
    from pycocotools import mask as mask_utils

    out = tmp_path / "train.json"
    api.convert(sample_root["davis"], out, to="coco", from_="davis", reader_options={"split": "train"})
    data = json.loads(out.read_text())
    assert all(a["object_id"] != 255 and a["iscrowd"] == 0 for a in data["annotations"])
    assert [c["name"] for c in data["categories"]] == ["object"]
    (video,) = [v for v in data["videos"] if v["name"] == VOIDED]
    source = source_labels(sample_root, VOIDED)
    void = video["vosconv"]["void"]
    assert len(void) == video["length"]
    for index, file_name in enumerate(video["file_names"]):
        label = source[file_name.split("/")[-1].replace(".jpg", ".png")]
        if not (label == 255).any():
            assert void[index] is None
            continue
        expected = mask_utils.encode(np.asfortranarray((label == 255).astype(np.uint8)))
        assert void[index] == {"size": [video["height"], video["width"]], "counts": expected["counts"].decode()}
    back = tmp_path / "back"
    api.convert(out, back, to="davis", from_="coco")
    for name, label in source.items():
        np.testing.assert_array_equal(label_maps(back / "Annotations" / "480p" / VOIDED)[name], label)


def _as_format_1(data: dict) -> dict:
    """A vosconv COCO file as format 1 wrote it: the void region as an iscrowd annotation of a "void" category."""
    void_category = max(c["id"] for c in data["categories"]) + 1
    annotations = list(data["annotations"])
    for video in data["videos"]:
        void = video["vosconv"].pop("void", None)
        if void is None:
            continue
        annotations.append(
            {
                "id": len(annotations) + 1,
                "video_id": video["id"],
                "category_id": void_category,
                "object_id": 255,
                "iscrowd": 1,
                "height": video["height"],
                "width": video["width"],
                "segmentations": void,
                "areas": [None if m is None else 1 for m in void],
                "bboxes": [None if m is None else [0, 0, 1, 1] for m in void],
            }
        )
    annotations.sort(key=lambda a: (a["video_id"], a["id"]))
    for number, annotation in enumerate(annotations, 1):
        annotation["id"] = number
    info = data["info"]
    info["vosconv"]["format_version"] = 1
    info["vosconv"]["placeholder_categories"] = [*info["vosconv"]["placeholder_categories"], void_category]
    categories = [*data["categories"], {"id": void_category, "name": "void", "supercategory": "void"}]
    return {"info": info, "videos": data["videos"], "annotations": annotations, "categories": categories}


def _line_form(data: dict) -> str:
    """The one-record-per-line form vosconv writes (what its reader indexes)."""

    def dumps(value):
        return json.dumps(value, separators=(",", ":"))

    return (
        '{"info":' + dumps(data["info"]) + ',\n"videos":[\n' + ",\n".join(dumps(v) for v in data["videos"])
        + '\n],\n"annotations":[\n' + ",\n".join(dumps(a) for a in data["annotations"])
        + '\n],\n"categories":' + dumps(data["categories"]) + "}\n"
    )  # fmt: skip


def test_format_1_files_with_a_void_category_still_read(sample_root, tmp_path):
    new = tmp_path / "new.json"
    api.convert(sample_root["davis"], new, to="coco", from_="davis", reader_options={"split": "train"})
    old = tmp_path / "old.json"
    old.write_text(_line_form(_as_format_1(json.loads(new.read_text()))))
    assert '"name":"void"' in old.read_text()
    with api.open_reader(old, "coco") as reader:
        assert [c.name for c in reader.info().categories] == []  # the placeholders left out, as before
    read_new, read_old = list(api.read_videos(new, "coco")), list(api.read_videos(old, "coco"))
    assert [v.name for v in read_old] == [v.name for v in read_new]
    for a, b in zip(read_new, read_old):
        assert [f.masks for f in a.frames] == [f.masks for f in b.frames]
    assert any(v.has_void for v in read_old)


@pytest.mark.parametrize(
    ("void", "cause"),
    [
        ([None], "entries for"),
        ("x", "expected a list"),
        (["x"], "expected an RLE object or null"),
        ([{"size": [1, 1], "counts": "1"}], "size"),
    ],
)
def test_a_malformed_void_record_is_a_source_error(sample_root, tmp_path, void, cause):
    from converters.errors import SourceError

    out = tmp_path / "x.json"
    api.convert(sample_root["davis"], out, to="coco", from_="davis", reader_options={"split": "train"})
    data = json.loads(out.read_text())
    (video,) = [v for v in data["videos"] if v["name"] == VOIDED]
    if isinstance(void, list) and len(void) == 1 and void[0] is not None:
        void = void + [None] * (video["length"] - 1)
    video["vosconv"]["void"] = void
    out.write_text(_line_form(data))
    with pytest.raises(SourceError, match=cause):
        list(api.read_videos(out, "coco"))


# ------------------------------------------------------------------ DAVIS split lists through every format


def davis_kit_sequences(root, subset: str, resolution: str = "480p") -> dict[str, dict[str, list]]:
    """davis2017-evaluation's ``DAVIS(root, task="semi-supervised", subset=subset).sequences``, with its checks."""
    img_path = os.path.join(root, "JPEGImages", resolution)
    mask_path = os.path.join(root, "Annotations", resolution)
    imagesets_path = os.path.join(root, "ImageSets", "2017")
    if not os.path.exists(os.path.join(imagesets_path, f"{subset}.txt")):
        raise FileNotFoundError(f"Subset sequences list for {subset} not found")
    if subset in ["train", "val"] and not os.path.exists(mask_path):
        raise FileNotFoundError("Annotations folder for the semi-supervised task not found")
    with open(os.path.join(imagesets_path, f"{subset}.txt")) as f:
        tmp = f.readlines()
    sequences = {}
    for seq in [x.strip() for x in tmp]:
        images = np.sort(glob(os.path.join(img_path, seq, "*.jpg"))).tolist()
        if len(images) == 0:
            raise FileNotFoundError(f"Images for sequence {seq} not found.")
        masks = np.sort(glob(os.path.join(mask_path, seq, "*.png"))).tolist()
        masks.extend([-1] * (len(images) - len(masks)))
        sequences[seq] = {"images": images, "masks": masks}
    return sequences


def image_sets(root) -> dict[str, str]:
    sets = root / "ImageSets"
    return {p.relative_to(sets).as_posix(): p.read_text() for p in sorted(sets.rglob("*.txt"))}


@pytest.mark.parametrize("fmt", ["coco", "parquet", "hdf5", "sav"])
def test_every_davis_split_list_survives_every_format(sample_root, tmp_path, fmt):
    source = sample_root["davis"] / "DAVIS"
    middle = tmp_path / ("x.json" if fmt == "coco" else "x")
    api.convert(sample_root["davis"], middle, to=fmt, from_="davis")  # the whole root, no split
    back = tmp_path / "back"
    api.convert(middle, back, to="davis", from_=fmt)
    assert image_sets(back) == image_sets(source)
    assert sorted(image_sets(source)) == ["2016/train.txt", "2016/val.txt", "2017/train.txt", "2017/val.txt"]
    for subset in ("train", "val"):
        want, got = davis_kit_sequences(source, subset), davis_kit_sequences(back, subset)
        assert list(got) == list(want)
        for seq in want:
            assert [os.path.basename(p) for p in got[seq]["images"]] == [os.path.basename(p) for p in want[seq]["images"]]
            assert [os.path.basename(p) for p in got[seq]["masks"]] == [os.path.basename(p) for p in want[seq]["masks"]]


def test_a_split_read_keeps_the_lists_of_its_sequences(sample_root, tmp_path):
    """Read with split=val, the output lists the val sequences in every list that names them, and no empty list."""
    source = sample_root["davis"] / "DAVIS"
    api.convert(sample_root["davis"], tmp_path / "x.json", to="coco", from_="davis", reader_options={"split": "val"})
    api.convert(tmp_path / "x.json", tmp_path / "back", to="davis", from_="coco")
    want = image_sets(source)
    assert image_sets(tmp_path / "back") == {"2016/val.txt": want["2016/val.txt"], "2017/val.txt": want["2017/val.txt"]}
    assert list(davis_kit_sequences(tmp_path / "back", "val")) == list(davis_kit_sequences(source, "val"))


def test_a_split_option_adds_its_list_of_every_sequence(sample_root, tmp_path):
    api.convert(sample_root["davis"], tmp_path / "x.json", to="coco", from_="davis")
    api.convert(tmp_path / "x.json", tmp_path / "back", to="davis", from_="coco", writer_options={"split": "trainval"})
    sets = image_sets(tmp_path / "back")
    assert sets["2017/trainval.txt"].split() == ["lamp-swing", "paper-boat", "pelican", "tram-stop"]
    assert sets["2017/train.txt"] == image_sets(sample_root["davis"] / "DAVIS")["2017/train.txt"]


def test_an_unreadable_list_is_left_out_with_a_warning(sample_copy, tmp_path):
    from converters.errors import VosconvWarning

    root = sample_copy("davis")
    (root / "DAVIS" / "ImageSets" / "2017" / "test-dev.txt").write_bytes(b"\xff\xfe not utf-8\n")
    with pytest.warns(VosconvWarning, match=r"test-dev\.txt: cannot read list"):
        api.convert(root, tmp_path / "x.json", to="coco", from_="davis", reader_options={"split": "val"})
    api.convert(tmp_path / "x.json", tmp_path / "back", to="davis", from_="coco")
    assert sorted(image_sets(tmp_path / "back")) == ["2016/val.txt", "2017/val.txt"]


@pytest.mark.parametrize(
    ("lists", "cause"),
    [
        ('{"../up/train": ["lamp-swing"]}', "year"),
        ('{"2017": ["lamp-swing"]}', "split"),
        ('{"2017/val": "lamp-swing"}', "list of sequence names"),
        ("[1]", "expected"),
        ("{", "not JSON"),
    ],
)
def test_split_lists_that_are_not_folder_names_are_refused(sample_root, tmp_path, lists, cause):
    """The attribute may come from an edited file: a list must never write outside the output."""
    from converters.errors import SourceError

    out = tmp_path / "x.json"
    api.convert(sample_root["davis"], out, to="coco", from_="davis", reader_options={"split": "val"})
    data = json.loads(out.read_text())
    data["info"]["vosconv"]["source"]["attributes"]["split_lists"] = lists
    out.write_text(_line_form(data))
    with pytest.raises(SourceError, match=cause):
        api.convert(out, tmp_path / "back", to="davis", from_="coco")
    assert not (tmp_path / "back").exists() and not (tmp_path / "up").exists()


def test_the_void_note_counts_one_frame_in_the_singular(tmp_path):
    """It said ``void (255) in 1 frames of 1 video``."""
    from ..folderdata import save_palette_png

    label = np.zeros((4, 6), np.uint8)
    label[0, :3], label[3, 3:] = 1, 255
    save_palette_png(tmp_path / "src" / "Annotations" / "v" / "00000.png", label)
    summary = api.convert(tmp_path / "src", tmp_path / "out", to="mose", writer_options={"images": False})
    assert "void (255) in 1 frame of 1 video written as background 0 (mose has no void); -w void=keep keeps it" in summary.notes
