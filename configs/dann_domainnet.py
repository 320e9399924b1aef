"""Renamed configs/domainnet.py: every method uses it. Kept so older commands work."""

from configs.domainnet import get_config  # noqa: F401
