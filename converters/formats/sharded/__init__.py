"""What Parquet and HDF5 outputs share: the manifest, shard names, the sharded reader and writer bases."""
