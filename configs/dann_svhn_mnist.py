"""Renamed configs/svhn_mnist.py: every method uses it. Kept so older commands work."""

from configs.svhn_mnist import get_config  # noqa: F401
