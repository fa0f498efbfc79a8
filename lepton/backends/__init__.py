"""Backends compile a Jaxpr into a callable on NumPy arrays.

``reference`` interprets the jaxpr with each primitive's NumPy ``impl``: it is the
executable spec every compiled backend is tested against.  Compiled backends are
imported lazily, so importing lepton never imports Numba.
"""
from __future__ import annotations

import importlib

_BACKENDS = {"reference": "lepton.backends.reference", "cpu": "lepton.backends.numba_cpu"}


def get_backend(name: str):
    try:
        module = _BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; choose one of {sorted(_BACKENDS)}") from None
    return importlib.import_module(module)


def default_backend() -> str:
    import os
    return os.environ.get("LEPTON_BACKEND", "reference")
