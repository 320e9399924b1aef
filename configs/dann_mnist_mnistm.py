"""Renamed configs/mnist_mnistm.py: every method uses it. Kept so older commands work."""

from configs.mnist_mnistm import get_config  # noqa: F401
