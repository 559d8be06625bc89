"""The folder layouts' shared reader and writer: MOSE, DAVIS, YouTube-VOS (and later LVOS, VOST, SA-V val) add what differs."""
