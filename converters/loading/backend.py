"""Which backend reads a converted dataset: the loader's only link to the shard formats.

The backends live with their formats (``converters/formats/<name>/loader.py``) over the contract
in :mod:`converters.formats.sharded.loader`; this module picks one by the output's format name.
"""

from __future__ import annotations

from ..formats.sharded.loader import MALFORMED, VOID_PAIR, Backend, Frames, RlePairs, check_against_manifest, external

__all__ = ["MALFORMED", "VOID_PAIR", "Backend", "Frames", "RlePairs", "backend_class", "check_against_manifest", "external"]


def backend_class(format_name: str) -> type[Backend]:
    """The backend of a writer's output format (imported on first use: h5py and pyarrow are optional)."""
    if format_name == "parquet":
        from ..formats.parquet.loader import ParquetBackend

        return ParquetBackend
    if format_name == "hdf5":
        from ..formats.hdf5.loader import Hdf5Backend

        return Hdf5Backend
    raise ValueError(f"the training loader reads parquet and hdf5 outputs, not {format_name!r}")
