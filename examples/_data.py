"""The examples' data: the best MNIST available without a download, and why it was chosen.

``load_digits()`` returns ``(x_train, y_train, x_test, y_test, description)`` with Keras's
layout (uint8 images of shape (N, 28, 28), uint8 labels 0-9) from the first source found:

1. full MNIST (60,000 / 10,000), if ``lepton.datasets.mnist.load_data`` finds the files
   locally (``$LEPTON_DATA_DIR/mnist``, the user cache, ``/usr/share/datasets/mnist``, ...);
2. the real 10,000-digit MNIST test split in ``<repo>/../shared/data/mnist``, split
   8,000 / 2,000 exactly as ``mnist.load_sample()`` splits it;
3. the same 10,000 digits embedded in lepton (``mnist.load_sample()``).

It prints which data it uses and why, and never downloads: to train on full MNIST, run
``python -c "import lepton.datasets as d; d.mnist.load_data()"`` once (it downloads into
the user cache) or put the files where the message says.
"""
from __future__ import annotations

import os

from lepton.datasets import DatasetError, fashion_mnist, mnist

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_MNIST = os.path.join(REPO, "..", "shared", "data", "mnist")
HOW_TO_GET_FULL = ('run `python -c "import lepton.datasets as d; d.mnist.load_data()"` '
                   'once to download it, or see lepton.datasets.mnist')


def load_digits(verbose: bool = True):
    """MNIST digits for an example: ``(x_train, y_train, x_test, y_test, description)``."""
    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data(download=False)
        where = os.path.dirname(mnist.files()["x_train"][1])
        desc = (f"full MNIST ({len(x_train):,} train / {len(x_test):,} test digits) "
                f"from {where}")
    except DatasetError as e:
        missing = sum(v is None for v in mnist.files().values())
        reason = (f"full MNIST not found locally ({missing} of 4 files missing)" if missing
                  else f"full MNIST could not be read ({str(e).splitlines()[0]})")
        reason += f"; {HOW_TO_GET_FULL}"
        shared = os.path.normpath(SHARED_MNIST)
        if os.path.isfile(os.path.join(shared, "t10k-images-idx3-ubyte.gz")):
            (x_train, y_train), (x_test, y_test) = mnist.load_sample(shared)
            desc = (f"the real MNIST test split (10,000 digits) from {shared}, split "
                    f"8,000 train / 2,000 test, because {reason}")
        else:
            (x_train, y_train), (x_test, y_test) = mnist.load_sample()
            desc = f"{mnist.SAMPLE_DESCRIPTION}, because {reason}"
    if verbose:
        print(f"data: {desc}", flush=True)
    return x_train, y_train, x_test, y_test, desc


def load_fashion(verbose: bool = True, download: bool = True):
    """Fashion-MNIST for an example: ``(x_train, y_train, x_test, y_test, description)``.

    Uses local files (Debian's ``dataset-fashion-mnist`` package, ``$LEPTON_DATA_DIR``,
    the user cache) and otherwise downloads; exits with the loader's instructions if
    neither works (there is no embedded Fashion-MNIST sample).
    """
    try:
        (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data(download=download)
    except DatasetError as e:
        raise SystemExit(f"{e}\nOn Debian or Ubuntu: sudo apt-get install "
                         f"dataset-fashion-mnist") from None
    where = os.path.dirname(fashion_mnist.files()["x_train"][1])
    desc = (f"Fashion-MNIST ({len(x_train):,} train / {len(x_test):,} test images) "
            f"from {where}")
    if verbose:
        print(f"data: {desc}", flush=True)
    return x_train, y_train, x_test, y_test, desc
