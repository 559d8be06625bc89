"""The hdf5 format."""
