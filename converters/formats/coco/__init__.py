"""The coco format."""
