"""vosconv's Parquet shards: the names the writer, the reader and the loader share."""

from __future__ import annotations

#: The footer's key-value metadata key holding vosconv's JSON (what no row holds, and where each video's rows are).
#: Bytes, as pyarrow returns the footer's keys; the writer gives the same bytes.
METADATA_KEY = b"vosconv"
#: The CRC-32 of that JSON, in decimal: a Parquet footer has no checksum of its own (pages do), and a damaged byte of
#: base64 text (a palette) still parses. Shards written without it read unchecked.
METADATA_CRC_KEY = b"vosconv.crc32"
#: The key ``datasets`` reads its features from.
HF_METADATA_KEY = b"huggingface"
