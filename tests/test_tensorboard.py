"""A run's workdir holds TensorBoard events: training curves, evaluations and confusion images."""

import glob
import os
import shutil

import numpy as np

from tljax import metrics
from tljax.run import loop


def _events(workdir) -> dict[str, list[int]]:
  """{tag: sorted steps} over every event file in `workdir` (read back with TF's iterator)."""
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  tags = {}
  for path in sorted(glob.glob(os.path.join(workdir, "events.out.tfevents.*"))):
    for event in tf.compat.v1.train.summary_iterator(path):
      for value in event.summary.value:
        tags.setdefault(value.tag, set()).add(event.step)
  return {tag: sorted(steps) for tag, steps in tags.items()}


def test_curves_evaluations_and_images_continue_across_a_resume(tiny_config, tmp_path):
  tiny_config.data.source_val_size = 100  # Validator scores too.
  workdir = tmp_path / "run"
  loop.train_and_evaluate(tiny_config, str(workdir))
  shutil.rmtree(workdir / "checkpoints" / "6")
  loop.train_and_evaluate(tiny_config, str(workdir))  # Resumes at step 3.
  tags = _events(workdir)
  assert len(glob.glob(str(workdir / "events.out.tfevents.*"))) == 2  # One per segment.
  assert tags["train/loss"] == [2, 3, 4, 6]  # Log steps of both segments, on one curve.
  for tag in ("train/accuracy", "train/lr", "train/grl_coeff", "train/domain_acc_target"):
    assert tags[tag] == [2, 3, 4, 6], tag
  assert tags["eval/target_test/accuracy"] == [3, 6]
  assert tags["validators/info_max"] == [3, 6]
  assert tags["eval/target_test/confusion"] == [3, 6]  # An image per evaluation.


def test_confusion_image_shades_each_row_by_its_share():
  image = metrics.confusion_image(np.array([[3, 1], [0, 0]]), cell=2)
  assert image.shape == (4, 4, 3) and image.dtype == np.uint8
  assert (image[2:, :] == 255).all()  # An empty row stays white.
  assert image[0, 0, 0] < image[0, 2, 0] < 255  # 3/4 of the row darker than 1/4.
