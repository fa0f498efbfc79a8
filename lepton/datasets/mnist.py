"""MNIST handwritten digits: Keras's ``load_data()`` plus an embedded offline sample.

``load_data(path=None)`` returns ``(x_train, y_train), (x_test, y_test)``: uint8 arrays of
shapes (60000, 28, 28), (60000,), (10000, 28, 28), (10000,). Where it looks for the files
(``path=``, ``$LEPTON_DATA_DIR``, the user cache, ``/usr/share/datasets/mnist``, Keras's
``~/.keras/datasets/mnist.npz``) and how it downloads them is described in
``lepton.datasets._base``. It never falls back to the sample: without the files and without
network access it raises :class:`DatasetNotFoundError` listing what to put where.

``load_sample()`` needs no files and no network: it splits the official 10,000-digit MNIST
test set, shipped inside the package, into 8,000 training and 2,000 test digits.

MNIST is by Yann LeCun, Corinna Cortes and Christopher J.C. Burges, licensed CC BY-SA 3.0.
"""
from __future__ import annotations

import os

import numpy as np

from . import _base
from ._base import DatasetSpec, FileSpec
from ._errors import DatasetCorruptError
from ._idx import read_idx

#: Download base URLs, tried in order (``LEPTON_DATASETS_MIRRORS`` overrides the list).
MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",     # PyTorch's mirror
    "https://storage.googleapis.com/cvdf-datasets/mnist/",  # CVDF mirror (used by TF, TFDS)
]

SPEC = DatasetSpec(
    name="mnist", title="MNIST", subdirs=("mnist",), mirrors=MIRRORS, npz_name="mnist.npz",
    files=(
        FileSpec("x_train", "train-images-idx3-ubyte.gz",
                 "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                 "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422, 60000),
        FileSpec("y_train", "train-labels-idx1-ubyte.gz",
                 "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                 "d53e105ee54ea40749a09fcbcd1e9432", 28881, 60000),
        FileSpec("x_test", "t10k-images-idx3-ubyte.gz",
                 "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                 "9fb629c4189551a2d022fa330f9573f3", 1648877, 10000),
        FileSpec("y_test", "t10k-labels-idx1-ubyte.gz",
                 "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
                 "ec29112dd5afa0611ce80d1b7f02629c", 4542, 10000),
    ))

SAMPLE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_sample")
SAMPLE_DESCRIPTION = ("the MNIST test set (10,000 real digits) embedded in lepton, split "
                      "8,000 train / 2,000 test")


def load_data(path=None, *, download: bool = True, verbose: bool = True):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)`` uint8 arrays (Keras's API).

    ``path`` is a directory holding the four IDX files (or a ``mnist/`` subdirectory
    holding them), or a Keras ``mnist.npz``. Unlike Keras's ``path`` (a file name inside
    ``~/.keras/datasets``) it is searched first, then the usual places; missing files are
    downloaded into the user cache unless ``download=False`` or ``LEPTON_OFFLINE=1``.
    ``verbose=False`` hides the download progress line.
    """
    return _base.load(SPEC, path, download=download, verbose=verbose)


def files(path=None) -> dict:
    """Where each file would be read from: ``{part: ("idx"|"npz", file) or None}``."""
    return _base.locate(SPEC, path)


def load_sample(path=None):
    """The embedded MNIST sample: ``(x_train, y_train), (x_test, y_test)``, 8,000 / 2,000.

    The 10,000 digits are the official MNIST test set. Its first 5,000 digits were written
    by Census Bureau employees and its last 5,000 by students, who are harder to read, so
    a first-8,000 / last-2,000 cut would test only on the hard half. Instead every fifth
    digit (indices 4, 9, 14, ...) is a test digit and the rest train: a deterministic split
    (no RNG, same on every NumPy) whose both halves mix both writer groups and hold every
    class in about MNIST's proportions. Needs no files and no network.

    ``path`` reads the two ``t10k-*`` files from another directory instead of the copy
    shipped in the package (same split).
    """
    d = SAMPLE_DIR if path is None else os.path.expanduser(os.fspath(path))
    x = read_idx(os.path.join(d, "t10k-images-idx3-ubyte.gz"), dtype=0x08, ndim=3)
    y = read_idx(os.path.join(d, "t10k-labels-idx1-ubyte.gz"), dtype=0x08, ndim=1)
    if x.shape != (10000, 28, 28) or y.shape != (10000,) or int(y.max()) > 9:
        raise DatasetCorruptError(f"the MNIST test split in {d} is damaged (shapes "
                                  f"{x.shape}, {y.shape}; expected (10000, 28, 28), "
                                  f"(10000,))" + ("; reinstall lepton" if path is None
                                                  else ""))
    test = np.arange(10000) % 5 == 4
    return (x[~test], y[~test]), (x[test], y[test])
