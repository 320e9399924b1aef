"""Text feature extractors: features [B, D] from bags of n-grams or token ids."""

import flax.linen as nn
import jax.numpy as jnp


class BagOfWordsNet(nn.Module):
  """The DANN paper's text network (Ganin et al. 2016, 5.1.1): one hidden layer.

  Input: [B, V] n-gram presence (or tf-idf); features: sigmoid(W x + b), [B, hidden].
  """

  hidden: int = 50

  @nn.compact
  def __call__(self, bags: jnp.ndarray, train: bool) -> jnp.ndarray:
    del train
    return nn.sigmoid(nn.Dense(self.hidden)(bags.astype(jnp.float32)))


class TokenConvNet(nn.Module):
  """A learned encoder: embedding, a 1-D convolution, max over positions.

  Input: [B, L] token ids (0 pads, ignored by the max); features: [B, width].
  Trained from scratch, so the methods adapt a representation of word order,
  not only a fixed bag.
  """

  vocab_size: int  # Ids 0..vocab_size-1 (with PAD and UNKNOWN).
  embed_dim: int = 64
  width: int = 128
  kernel: int = 3

  @nn.compact
  def __call__(self, ids: jnp.ndarray, train: bool) -> jnp.ndarray:
    del train
    ids = ids.astype(jnp.int32)
    x = nn.Embed(self.vocab_size, self.embed_dim)(ids)
    x = nn.relu(nn.Conv(self.width, (self.kernel,))(x))
    present = (ids > 0)[..., None]
    pooled = jnp.where(present, x, -jnp.inf).max(axis=1)
    return jnp.where(present.any(axis=1), pooled, 0.0)  # An empty sentence: zeros.
