"""``import leptonic as l``: lepton.keras under the distribution name ``leptonic``.

The package installs both names, so a program written as ``import leptonic as l`` (after
``pip install leptonic``, or an install of this repository) runs unchanged.
"""
import sys

import lepton.keras as _keras

sys.modules[__name__] = _keras
