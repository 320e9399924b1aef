"""A source sample drawn with a selection bias on a visible property: covariate shift by design.

`biased_sample` keeps training example i with probability
sigmoid(strength * z_i), z_i its stroke mass (mean pixel value) standardised
within its class. p(y | x) is untouched and p(x) shifts toward heavy strokes:
the setting where importance weighting is meant to help (Shimodaira 2000;
Huang et al. 2007 draw their biased samples the same way). Target: the same
dataset, unbiased.
"""

import numpy as np

SEED = 0  # The same biased sample for every run seed.


def stroke_mass(images: np.ndarray) -> np.ndarray:
  """Mean pixel value per image [N] of uint8 images [N, H, W, C]."""
  return images.reshape(len(images), -1).mean(1)


def keep_probability(images: np.ndarray, labels: np.ndarray, strength: float) -> np.ndarray:
  """sigmoid(strength * within-class z-score of the stroke mass) [N]."""
  mass = stroke_mass(images)
  z = np.zeros_like(mass)
  for c in np.unique(labels):
    members = labels == c
    z[members] = (mass[members] - mass[members].mean()) / max(mass[members].std(), 1e-6)
  return 1.0 / (1.0 + np.exp(-strength * z))


def biased_sample(arrays: dict, strength: float) -> dict:
  """The examples of `arrays` kept by one seeded draw of `keep_probability`."""
  if strength == 0:
    return arrays
  p = keep_probability(np.asarray(arrays["input"]), arrays["label"], strength)
  keep = np.flatnonzero(np.random.default_rng(SEED).random(len(p)) < p)
  return {k: v[keep] for k, v in arrays.items()}
