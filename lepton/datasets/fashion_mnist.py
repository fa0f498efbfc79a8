"""Fashion-MNIST (Zalando's 28x28 clothing images, 10 classes): Keras's ``load_data()``.

``load_data(path=None)`` returns ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of
shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,). On Debian and Ubuntu,
``apt-get install dataset-fashion-mnist`` puts the files in
``/usr/share/datasets/fashion-mnist/``, which is searched; the full lookup order and the
download rules are described in ``lepton.datasets._base``.

Labels: 0 T-shirt/top, 1 Trouser, 2 Pullover, 3 Dress, 4 Coat, 5 Sandal, 6 Shirt,
7 Sneaker, 8 Bag, 9 Ankle boot (``CLASS_NAMES``). Fashion-MNIST is by Han Xiao, Kashif
Rasul and Roland Vollgraf (Zalando Research), MIT licence.
"""
from __future__ import annotations

from . import _base
from ._base import DatasetSpec, FileSpec

CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot")

#: Download base URLs, tried in order (``LEPTON_DATASETS_MIRRORS`` overrides the list).
MIRRORS = [
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",  # Keras's copy
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",    # Zalando's S3 site
]

SPEC = DatasetSpec(
    name="fashion-mnist", title="Fashion-MNIST", subdirs=("fashion-mnist", "fashion_mnist"),
    mirrors=MIRRORS, keras_cache_subdir="fashion-mnist",
    files=(
        FileSpec("x_train", "train-images-idx3-ubyte.gz",
                 "08dc20ab1689590a0bcd66e874647b6ee8464e2d501b5a3f1f78831db19a3fdc",
                 "8d4fb7e6c68d591d4c3dfef9ec88bf0d", 26421880, 60000),
        FileSpec("y_train", "train-labels-idx1-ubyte.gz",
                 "b0197879cbda89f3dc7b894f9fd52b858e68ea4182b6947c9d8c2b67e5f18dcc",
                 "25c81989df183df01b3e8a0aad5dffbe", 29515, 60000),
        FileSpec("x_test", "t10k-images-idx3-ubyte.gz",
                 "78dcbbfb5a27efaf1b6c1d616caca68560be8766c5bffcb2791df9273a534229",
                 "bef4ecab320f06d8554ea6380940ec79", 4422102, 10000),
        FileSpec("y_test", "t10k-labels-idx1-ubyte.gz",
                 "42bd18137a62d5998cdeae52bf3a0676ac6b706f5cf8439b47bb5b151ae3dccf",
                 "bb300cfdad3c16e7a12a480ee83cd310", 5148, 10000),
    ))


def load_data(path=None, *, download: bool = True, verbose: bool = True):
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)`` uint8 arrays.

    ``path`` is a directory holding the four IDX files (or a ``fashion-mnist/``
    subdirectory holding them); it is searched first, then the usual places. Missing files
    are downloaded into the user cache unless ``download=False`` or ``LEPTON_OFFLINE=1``.
    """
    return _base.load(SPEC, path, download=download, verbose=verbose)


def files(path=None) -> dict:
    """Where each file would be read from: ``{part: ("idx"|"npz", file) or None}``."""
    return _base.locate(SPEC, path)
