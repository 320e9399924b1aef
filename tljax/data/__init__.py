"""Input data: TFDS builders and numpy batch streams (the only TF users)."""
