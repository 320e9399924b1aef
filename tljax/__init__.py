"""tljax: transfer learning in JAX (fine-tuning, feature extraction, DANN)."""
