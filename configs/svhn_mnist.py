"""DANN on SVHN -> MNIST (Ganin et al. 2016, Table 2: .5490 / .7385 / .9942).

Needs internet (TFDS downloads `svhn_cropped` and `mnist`; offline, MNIST can
come from IDX files with --config.data.manual_dir). MNIST is resized to 32x32
and repeated to 3 channels to match SVHN. Uses tljax's digits network, not
the paper's larger SVHN network.

    python -m experiments.dann --config configs/svhn_mnist.py
"""

from configs import mnist_mnistm


def get_config(arg=None):
  config = mnist_mnistm.get_config(arg)
  config.data.source = "svhn_cropped"
  config.data.target = "mnist"
  config.data.image_size = 32
  config.data.channels = 3
  return config
