"""One folder per format: its reader, its writer, its on-disk names and, where it has one, its loader backend.

The registry (:mod:`converters.registry`) names each plugin as ``"converters.formats.<name>.<module>:<Class>"``
and imports it only when used.
"""
