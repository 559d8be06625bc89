"""Where source bytes come from: folders, archives read in place (and their index), image files, open handles.

Readers reach files only through :class:`converters.sources.files.FileSystem`, so one reader reads a folder and
an archive alike.
"""
