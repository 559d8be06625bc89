"""The ``README.md`` dataset card beside a Parquet output, as the Hugging Face Hub reads one.

Its YAML front matter names the split's files (``configs``/``data_files``) and the columns
(``dataset_info.features``, from the Arrow schema itself), so ``datasets.load_dataset(folder)``
and an upload of the folder to the Hub find the shards and ignore ``manifest.json``. The text
after it says what a row is, which split of which source dataset it came from, and that
dataset's licence and citation when vosconv knows the source (else: unknown).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import yaml

from ...model import DatasetInfo
from ...version import __version__
from ..davis.spec import SPLIT_LISTS, load_split_lists

CARD = "README.md"


@dataclass(frozen=True)
class Source:
    """What the card says of a source dataset: its name, licence (a Hub licence id, and in words) and citation."""

    name: str
    url: str
    license_id: str  # the Hub's identifier; "other" when the terms are the dataset's own
    license_text: str
    citation: str


SOURCES = {
    "mose": Source(
        "MOSE",
        "https://henghuiding.github.io/MOSE/",
        "cc-by-nc-sa-4.0",
        "CC BY-NC-SA 4.0 (MOSE and MOSEv2 alike)",
        """@inproceedings{ding2023mose,
  title = {{MOSE}: A New Dataset for Video Object Segmentation in Complex Scenes},
  author = {Ding, Henghui and Liu, Chang and He, Shuting and Jiang, Xudong and Torr, Philip H. S. and Bai, Song},
  booktitle = {ICCV},
  year = {2023}
}""",
    ),
    "davis": Source(
        "DAVIS",
        "https://davischallenge.org/",
        "other",
        "the DAVIS terms of use, see https://davischallenge.org/ (the DAVIS toolkit code is BSD-licensed)",
        """@inproceedings{perazzi2016benchmark,
  title = {A Benchmark Dataset and Evaluation Methodology for Video Object Segmentation},
  author = {Perazzi, Federico and Pont-Tuset, Jordi and McWilliams, Brian and Van Gool, Luc
            and Gross, Markus and Sorkine-Hornung, Alexander},
  booktitle = {CVPR},
  year = {2016}
}

@article{pont-tuset2017davis,
  title = {The 2017 {DAVIS} Challenge on Video Object Segmentation},
  author = {Pont-Tuset, Jordi and Perazzi, Federico and Caelles, Sergi and Arbel{\\'a}ez, Pablo
            and Sorkine-Hornung, Alexander and Van Gool, Luc},
  journal = {arXiv:1704.00675},
  year = {2017}
}""",
    ),
    "youtube-vos": Source(
        "YouTube-VOS",
        "https://youtube-vos.org/",
        "cc-by-4.0",
        "CC BY 4.0 for the annotations; the videos are YouTube's and keep their own terms",
        """@article{xu2018youtubevos,
  title = {{YouTube-VOS}: A Large-Scale Video Object Segmentation Benchmark},
  author = {Xu, Ning and Yang, Linjie and Fan, Yuchen and Yue, Dingcheng and Liang, Yuchen and Yang, Jianchao and Huang, Thomas},
  journal = {arXiv:1809.03327},
  year = {2018}
}""",
    ),
}

#: What each column of a row holds (the card's text; the types come from the schema).
COLUMNS = {
    "video": "the video's name",
    "frame_index": "the frame's position in the video, from 0",
    "file_name": "the frame's file name in the source",
    "width": "frame width in pixels",
    "height": "frame height in pixels",
    "annotated": "whether the frame has an annotation (unannotated frames have no objects)",
    "image": "the frame image, a Hugging Face Image: its bytes (none when written with `images=false`) and its path "
    "`<video>/<file_name>` relative to the source's image folder",
    "objects": "each object present as COCO RLE (`counts`, `area`, `bbox`), "
    "then the void region (`object_id` 255, `iscrowd` 1) where there is one",
}


def split_name(info: DatasetInfo) -> str:
    """The source's split as a Hub split name (word characters and dots); ``train`` when the source has none."""
    name = re.sub(r"\W+", "_", info.split or "").strip("_")
    return name or "train"


def features(schema: pa.Schema) -> list[dict]:
    """``dataset_info.features`` for ``schema``, in the form ``datasets`` writes (an ``image`` struct is an Image)."""
    return [{"name": f.name, **_feature(f.type, f.name)} for f in schema]


def _feature(kind: pa.DataType, name: str) -> dict:
    if name == "image" and pa.types.is_struct(kind):
        return {"dtype": "image"}
    if pa.types.is_list(kind):
        inner = kind.value_type
        if pa.types.is_struct(inner):
            return {"list": [{"name": f.name, **_feature(f.type, f.name)} for f in inner]}
        return {"list": _dtype(inner)}
    return {"dtype": _dtype(kind)}


def _dtype(kind: pa.DataType) -> str:
    return "string" if pa.types.is_string(kind) else str(kind)


def _attribute_text(key: str, value: str) -> str:
    """A source attribute as the card says it; DAVIS's split lists by name and size (``manifest.json`` has them whole)."""
    if key == SPLIT_LISTS:
        try:
            lists = load_split_lists(value)
        except ValueError:
            return f"{key} (unreadable)"
        return "split lists " + ", ".join(f"`{name}` ({len(names)})" for name, (_, _, names) in sorted(lists.items()))
    return f"{key} {value}"


def render(schema: pa.Schema, info: DatasetInfo, split: str, shard_glob: str, frames: int, videos: int) -> str:
    """The whole card: YAML front matter, then a few paragraphs a person reads."""
    source = SOURCES.get(info.source_format)
    title = " ".join(filter(None, [source.name if source else info.source_format, info.split]))
    front = {
        "pretty_name": f"{title} (vosconv Parquet)",
        "license": source.license_id if source else "unknown",
        **_other_license(source),
        "tags": ["video-object-segmentation", "vosconv"],
        "configs": [{"config_name": "default", "data_files": [{"split": split, "path": shard_glob}]}],
        "dataset_info": {"features": features(schema)},
    }
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1000)
    columns = "\n".join(f"- `{f.name}` ({_type_text(f)}): {COLUMNS.get(f.name, '')}" for f in schema)
    layout = "".join(f", {_attribute_text(k, v)}" for k, v in info.attributes)
    if source:
        origin = f"[{source.name}]({source.url}), split `{info.split or 'unknown'}`{layout}"
        terms = f"Licence of the source dataset: {source.license_text}. Use of this copy is bound by it."
        cite = f"Cite the source dataset:\n\n```bibtex\n{source.citation}\n```"
    else:
        origin = f"unknown (read as `{info.source_format}`, split `{info.split or 'unknown'}`{layout})"
        terms = "Licence: unknown. Check the terms of the dataset this was converted from before using or sharing it."
        cite = "Citation: unknown."
    return f"""---
{header}---

# {front["pretty_name"]}

{videos} videos, {frames} frames, converted losslessly to Parquet by vosconv {__version__}.
One row per frame, sorted by video and frame; split `{split}` in `{shard_glob}`.

Source: {origin}.

## Features

{columns}

Masks are lossless: each RLE string is byte for byte what `pycocotools.mask.encode` gives for the
source's mask of that object. `manifest.json` (vosconv's index of videos and shards) is not part of the data.

## Licence

{terms}

## Citation

{cite}
"""


def _other_license(source: Source | None) -> dict:
    """The Hub asks a licence of its own (``other``) for a name and a link."""
    if source is None or source.license_id != "other":
        return {}
    return {"license_name": f"{source.name.lower()}-terms", "license_link": source.url}


def _type_text(field: pa.Field) -> str:
    """A column's type in a word or two: the full types are in the front matter."""
    if field.name == "image":
        return "Image"
    if pa.types.is_list(field.type):
        return "list of " + ("structs" if pa.types.is_struct(field.type.value_type) else _dtype(field.type.value_type))
    return _dtype(field.type)
