"""Renamed configs/mnist_usps.py: every method uses it. Kept so older commands work."""

from configs.mnist_usps import get_config  # noqa: F401
