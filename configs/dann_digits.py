"""Renamed configs/digits.py: every method uses it. Kept so older commands work."""

from configs.digits import get_config  # noqa: F401
