"""Test stand-in for torchvision, put on sys.path only when no torchvision is installed (tests/integrations/conftest.py).

A torchvision matching the pinned CPU torch cannot be installed here, and SAM 2's dataset code
needs from it only ``torchvision.datasets.vision.VisionDataset``, a plain base class. Nothing of
SAM 2's own code is replaced.
"""
