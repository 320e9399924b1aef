"""Renamed configs/office_home.py: every method uses it. Kept so older commands work."""

from configs.office_home import get_config  # noqa: F401
