"""Whether the tutorials can run here: they train on the official MNIST and CIFAR-10 files, which
``NABLAB_DATA`` points at (CI sets it to ../shared/data)."""

import os

TUTORIAL_DATA = bool(os.environ.get("NABLAB_DATA"))
