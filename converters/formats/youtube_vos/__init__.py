"""The YouTube-VOS format."""
