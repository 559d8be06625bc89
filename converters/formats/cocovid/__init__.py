"""The cocovid format (mmdet 3.x / mmtracking video COCO)."""
