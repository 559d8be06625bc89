"""The parquet format."""
