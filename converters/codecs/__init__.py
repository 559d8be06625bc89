"""Codecs: exact COCO RLE, annotation PNGs, deflate, label maps and the compiled kernels behind them.

Pure functions over bytes and arrays: no files, no formats. Everything above imports these.
"""
