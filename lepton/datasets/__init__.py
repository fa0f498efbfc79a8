"""Real datasets with Keras's ``load_data()`` API: ``mnist`` and ``fashion_mnist``.

Files are found locally (``path=``, ``$LEPTON_DATA_DIR``, the user cache, system dataset
directories) or downloaded from public mirrors with sha256 checks; see
``lepton.datasets._base`` for the lookup order and the environment variables.
``mnist.load_sample()`` returns real digits shipped inside the package, for offline use.

This package depends only on NumPy and the standard library (no lepton layer).
"""
from __future__ import annotations

from . import fashion_mnist, mnist  # noqa: F401
from ._errors import (DatasetCorruptError, DatasetError, DatasetNotFoundError,  # noqa: F401
                      DownloadError)

__all__ = ["mnist", "fashion_mnist", "DatasetError", "DatasetCorruptError",
           "DatasetNotFoundError", "DownloadError"]
