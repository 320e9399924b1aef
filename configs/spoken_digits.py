"""DANN on spoken digits: American male voices -> other English accents (speech, offline).

    apt-get install espeak-ng        # once; brew install espeak-ng on macOS
    python -m experiments.dann --config configs/spoken_digits.py

The words are synthesised by espeak-ng into TFDS datasets the first time
(`tljax/data/builders/spoken.py`: 2,400 train and 600 test one-second clips
per domain). Pairs: `us_clean -> accents_clean` (speaker and accent shift,
the default) and `--config.data.target=spoken_digits/accents_noisy` (accent
and recording-condition shift: noise, telephone band, room). The ten command
words instead of digits: `spoken_commands/<domain>` for both domains.

The network reads waveforms: a log-mel front end in JAX (25 ms windows, 10 ms
hop, 40 mel bands, per-utterance mean and variance normalisation), three 3x3
conv blocks with BatchNorm and pooling, the mean over time and frequency,
then the usual label head; the domain classifier reads the pooled features.
Views: SpecAugment-style time and frequency masks and time shifts on the
waveform (`tljax.data.augment.Audio`). Every method in tljax/methods/ runs
on audio unchanged.

Runtime: the default command took 205 s end to end on 2 idle CPU cores with
the domains prepared (docs/results/speech/default_run_time.json); the first
build of the three domains took 83 s (build.json beside it). Result: that
run's target test accuracy, and source only, DANN, CDAN, MCD, self-training
and the oracle over 3 seeds on both pairs, are generated from the committed
runs in docs/results.md, "Speech".
Arguments (after the colon, comma-separated): `tiny`.
"""

from configs import common
from tljax import models
from tljax.data import audio


def get_config(arg=None):
  args = common.parse_arg(arg, tiny=False)
  config = common.base_config()
  config.data.source = "spoken_digits/us_clean"
  config.data.target = "spoken_digits/accents_clean"
  config.data.audio = audio.defaults()
  config.model.name = "audio_conv"
  config.model.audio = models.audio_defaults()
  config.model.audio.sample_rate = config.data.audio.get_ref("sample_rate")
  config.model.norm = "batch"
  config.model.head_hidden = (64,)
  common.set_discriminators(config, (64,))
  config.data.batch_size = 32
  config.data.source_val_size = 300  # Labelled source clips held out for the label-free validators.
  config.data.target_val_size = 300  # Target clips whose labels only score the oracle_val pick.
  config.optim.lr = 0.01
  config.train.num_steps = 1500
  config.train.log_every = 150
  config.train.eval_every = 500
  config.train.ckpt_every = 500
  if args.tiny:
    common.shrink_for_tests(config)
    config.model.name = "audio_conv"
    config.model.audio.widths = (4, 8)
    config.model.audio.n_mels = 16
  return config
