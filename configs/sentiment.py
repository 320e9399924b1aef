"""DANN on sentences of one genre -> another (Hutto & Gilbert's four genres).

The DANN paper's review experiment (Ganin et al. 2016, section 5.1.1) on the
offline sentiment set: binary sentiment, unigram+bigram presence over the
5,000 n-grams most frequent in the two domains' unlabelled training text, one
hidden layer of 50 sigmoid units as the feature extractor, a linear label
predictor and a linear domain classifier on those 50 features.

    python -m experiments.dann --config configs/sentiment.py \\
      --config.data.source=sentiment/movies --config.data.target=sentiment/tweets \\
      --config.data.manual_dir=../shared/data/sentiment

Results on all twelve pairs (3 seeds, final checkpoints, where DANN helps and
where it hurts, run times) are generated from the committed runs in
docs/results.md, "Text: sentiment across genres".

Genres: sentiment/{tweets,movies,products,editorials}. Baselines on the same
network and budget: --config.method.name=source_only / target_only; every
method in tljax/methods/ runs on text unchanged.

Changed from the paper: SGD with momentum 0.9, learning rate 0.1 and the
image configs' λ and learning-rate schedules, batches of 64 + 64, for 3,000
steps (the paper chose its learning rate and λ per pair by reverse
validation, and trained plain SGD without momentum). 200 labelled source
sentences are held out for the label-free validators. `:conv` swaps the bag
for a learned encoder over token ids (embedding, 1-D convolution, max over
positions).
Arguments (after the colon, comma-separated): `conv`, `tiny`.
"""

from configs import common
from tljax.data import text


def get_config(arg=None):
  args = common.parse_arg(arg, conv=False, tiny=False)
  config = common.base_config()
  config.data.source = "sentiment/movies"
  config.data.target = "sentiment/tweets"
  config.data.text = text.defaults()
  config.data.eval_batch_size = 1000
  config.model.name = "text_bag"
  config.model.text_hidden = 50  # Features: the paper's 50 hidden units.
  config.model.head_hidden = ()  # The label predictor reads the features directly.
  common.set_discriminators(config, ())  # Logistic domain classifiers, as in the paper.
  config.optim.lr = 0.1  # Chosen on source test accuracy of movies -> tweets (not target).
  config.data.source_val_size = 200  # Labelled source held out for the label-free validators.
  config.train.num_steps = 3000
  config.train.log_every = 500
  config.train.eval_every = 1000
  config.train.ckpt_every = 1000
  if args.conv:
    config.data.text.representation = "tokens"
    config.model.name = "text_conv"
    config.model.text_hidden = 128
  if args.tiny:
    model = config.model.name
    common.shrink_for_tests(config)
    config.model.name, config.model.text_hidden = model, 8
    config.data.text.vocab_size, config.data.source_val_size = 200, 0
  # text_conv's embedding rows: every word id, padding and unknown (validate checks it).
  config.model.vocab_size = config.data.text.vocab_size + 2
  return config
