"""TFDS builders for datasets missing from the catalog.

Importing this package registers them with TFDS (`tfds.builder("digits_m")`).
"""

from tljax.data.builders.digits import Digits, DigitsM

__all__ = ["Digits", "DigitsM"]
