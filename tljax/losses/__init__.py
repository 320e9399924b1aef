"""Maths several methods share: gradient reversal, adversarial domain terms, kernels, entropy,
instance weights."""
