"""The ytvis format: YouTube-VIS 2019/2021/2022, OVIS and LV-VIS JSON, read with the dataset's frames."""
