"""On-device augmentation, driven by the step's `aug_rng`."""

import jax
import jax.numpy as jnp


def random_shift(images: jax.Array, rng: jax.Array, max_shift: int) -> jax.Array:
  """Translates each image by up to `max_shift` pixels (edge padding).

  Args:
    images: [B, H, W, C].
    rng: PRNG key; each image draws its own (dy, dx) in [-max_shift, max_shift].
    max_shift: 0 returns `images` unchanged.

  Returns:
    [B, H, W, C], same dtype.
  """
  if max_shift == 0:
    return images
  b, h, w, c = images.shape
  m = max_shift
  padded = jnp.pad(images, ((0, 0), (m, m), (m, m), (0, 0)), mode="edge")
  offsets = jax.random.randint(rng, (b, 2), 0, 2 * m + 1)
  crop = lambda image, o: jax.lax.dynamic_slice(image, (o[0], o[1], 0), (h, w, c))
  return jax.vmap(crop)(padded, offsets)
