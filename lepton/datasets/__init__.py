"""Real datasets with Keras's ``load_data()`` API: ``mnist`` and ``fashion_mnist``.

Files are found locally (``path=``, ``$LEPTON_DATA_DIR``, the user cache, system dataset
directories) or downloaded from public mirrors with sha256 checks; see
``lepton.datasets._base`` for the lookup order and the environment variables.
``mnist.load_sample()`` returns real digits shipped inside the package, for offline use.

Environment variables (read at each call):

- ``LEPTON_DATA_DIR``: data roots (``os.pathsep``-separated) holding ``mnist/`` and
  ``fashion-mnist/`` directories; searched before the cache.
- ``XDG_CACHE_HOME``: downloads go to ``$XDG_CACHE_HOME/lepton/datasets/<name>/``
  (default ``~/.cache/lepton/datasets/<name>/``).
- ``LEPTON_OFFLINE=1``: never download (the test suite sets it).
- ``LEPTON_DATASETS_MIRRORS``: base URLs replacing the built-in mirror lists (comma or
  space separated; ``{name}`` becomes ``mnist`` or ``fashion-mnist``).
- ``LEPTON_DATASETS_TIMEOUT`` (seconds per socket operation, default 30),
  ``LEPTON_DATASETS_RETRIES`` (attempts per mirror, default 3),
  ``LEPTON_DATASETS_BACKOFF`` (first retry delay in seconds, default 1, then doubling).

This package depends only on NumPy and the standard library (no lepton layer).
"""
from __future__ import annotations

from . import fashion_mnist, mnist  # noqa: F401
from ._errors import (DatasetCorruptError, DatasetError, DatasetNotFoundError,  # noqa: F401
                      DownloadError)

__all__ = ["mnist", "fashion_mnist", "DatasetError", "DatasetCorruptError",
           "DatasetNotFoundError", "DownloadError"]
