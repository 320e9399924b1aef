"""Renamed configs/visda2017.py: every method uses it. Kept so older commands work."""

from configs.visda2017 import get_config  # noqa: F401
