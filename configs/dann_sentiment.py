"""Renamed configs/sentiment.py: every method uses it. Kept so older commands work."""

from configs.sentiment import get_config  # noqa: F401
