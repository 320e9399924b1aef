"""Writes a TFDS image dataset as PNG class folders (`folder:OUT` reads them back).

    python -m tools.export_folder --dataset=digits_m --out=/tmp/folders/digits_m

OUT/{train,test}/<class name>/<i>.png. The embedded digits exported this way
and trained through `--config.data.source=folder:...` show that the folder
path reads the same pixels as the TFDS builders (docs/data.md).
"""

from absl import app, flags

_DATASET = flags.DEFINE_string("dataset", "digits", "A TFDS image dataset tljax can load.")
_OUT = flags.DEFINE_string("out", None, "Folder to write OUT/{train,test}/<class>/*.png into.")
_DATA_DIR = flags.DEFINE_string("data_dir", None, "TFDS data dir.")
_MANUAL_DIR = flags.DEFINE_string("manual_dir", None, "TFDS manual dir.")
flags.mark_flags_as_required(["out"])


def main(argv):
  del argv
  from tljax.data import folders, pipeline  # pylint: disable=g-import-not-at-top

  names = pipeline.class_names(_DATASET.value, _DATA_DIR.value, _MANUAL_DIR.value)
  for split in ("train", "test"):
    arrays = pipeline.load_split(
      _DATASET.value, split, data_dir=_DATA_DIR.value, manual_dir=_MANUAL_DIR.value
    )
    n = folders.write_split(arrays, _OUT.value, split, names)
    print(f"wrote {n} {split} images to {_OUT.value}/{split}")


if __name__ == "__main__":
  app.run(main)
