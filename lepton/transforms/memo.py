"""Bounded memo tables for traced-and-transformed programs.

Transform rules of higher-order primitives (jit, scan, while, cond) trace a new jaxpr
for each (program, transform, signature); memoising by the program's identity lets
repeated calls reuse both the traced jaxpr and its compiled executable.  Entries keep
a reference to their program, so an id is never confused with a recycled one.
"""
from __future__ import annotations

from collections import OrderedDict

from .. import config


class LRU(OrderedDict):
    """A dict that forgets its least recently used entries beyond ``capacity``."""

    def __init__(self, capacity):
        super().__init__()
        self.capacity = capacity

    def get(self, key, default=None):
        if key in self:
            self.move_to_end(key)
            return self[key]
        return default

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        self.move_to_end(key)
        if len(self) > self.capacity:
            self.popitem(last=False)


_table = LRU(4096)


def memo(kind, obj, key, build):
    """``build()``, reused while ``obj`` (a jaxpr, or a tuple of them), ``key`` and the x64
    mode (which sets the dtypes of the constants a rule creates) repeat."""
    k = (kind, id(obj), key, config.x64)
    hit = _table.get(k)
    if hit is not None and hit[0] is obj:
        return hit[1]
    value = build()
    _table[k] = (obj, value)
    return value


def clear():
    _table.clear()
