"""DANN on MNIST -> USPS (the ADDA/CyCADA benchmark; USPS resized 16 -> 28).

Needs internet for USPS (tljax's `usps` TFDS builder downloads the LIBSVM
copy, 7,291 train / 2,007 test); MNIST can come from IDX files offline with
--config.data.manual_dir.

    python -m experiments.dann --config configs/mnist_usps.py
"""

from configs import mnist_mnistm


def get_config(arg=None):
  config = mnist_mnistm.get_config(arg)
  config.data.source = "mnist"
  config.data.target = "usps"
  config.data.channels = 1
  return config
