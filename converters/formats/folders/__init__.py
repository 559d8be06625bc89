"""The folder layouts' shared reader and writer: MOSE, DAVIS, YouTube-VOS, LVOS and VOST add what differs."""
