"""Renamed configs/office31.py: every method uses it. Kept so older commands work."""

from configs.office31 import get_config  # noqa: F401
