"""The sav format: SA-V, SAM 2's dataset (train mp4 + JSON; val/test JPEG and per-object PNG folders)."""
