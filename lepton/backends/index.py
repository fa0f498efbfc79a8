"""The index algebra of fused kernels: how a kernel reads a value, and its loop nest.

A ``Leaf`` is a value read at each index of a kernel's domain: an array, a constant or an
iota, seen through structural equations (broadcast, transpose, size-1 reshape, slice,
pad) that become index arithmetic instead of computed arrays.  A ``Nest`` is a fused
group's loop nest after dropping size-1 axes and merging axes that every access traverses
together.  Neither knows any device.
"""
from __future__ import annotations

import numpy as np

from ..ir import Literal, Var


# ----------------------------------------------------------------------------- leaves
class Leaf:
    """A value read by a kernel at each domain index: an array, a constant or an iota.

    ``amap`` maps each axis of the base to the axis of the reading value that indexes it,
    or None where that index is constant (size-1 axes).  ``base`` is a Var (a materialised
    array), a Literal, or an ``("iota", dtype, shape, dimension)`` tuple.

    Slices and pads of an array make an *offset* leaf: base axis ``a`` is read at
    ``start[a] + step[a] * i`` (``i`` the reading index, 0 where ``amap[a]`` is None), and
    where ``bounds[a] = (lo, hi)`` is set, a read outside ``lo <= . < hi`` yields ``fill``.
    Starts and bounds are passed to the kernel at run time, so they never change its source.
    """

    __slots__ = ("base", "amap", "shape", "start", "step", "bounds", "fill")

    def __init__(self, base, amap, shape, start=None, step=None, bounds=None, fill=None):
        self.base, self.amap, self.shape = base, amap, shape
        self.start, self.step, self.bounds, self.fill = start, step, bounds, fill

    @classmethod
    def of(cls, v):
        shape = v.aval.shape
        return cls(v, tuple(None if s == 1 else k for k, s in enumerate(shape)), shape)

    @property
    def offset(self) -> bool:
        return self.start is not None

    def _with(self, amap, shape, start=None, step=None, bounds=None, fill=None):
        if start is None and self.start is None:
            return Leaf(self.base, amap, shape)
        return Leaf(self.base, amap, shape, start or self.start, step or self.step,
                    bounds or self.bounds, self.fill if fill is None else fill)

    def view(self, eqn) -> "Leaf | None":
        """This leaf seen through a structural equation, or None if that is not index
        arithmetic (a reshape that merges or splits axes, interior padding, ...).
        ``stop_gradient`` is one too: the identity, so it never splits a fused kernel."""
        name, p = eqn.prim.name, eqn.params
        out = eqn.outvars[0].aval.shape
        shape = self.shape
        if name == "stop_gradient":  # the identity in any program a backend runs
            return self
        if name == "slice":
            return self._slice(p["start_indices"], p["strides"] or (1,) * len(shape), out)
        if name == "pad":
            return self._pad(p["padding_config"], eqn.invars[1], out)
        if name == "broadcast_in_dim":
            bd = p["broadcast_dimensions"]
            amap = tuple(None if a is None or shape[a] == 1 else bd[a] for a in self.amap)
        elif name == "transpose":
            inv = {src: dst for dst, src in enumerate(p["permutation"])}
            amap = tuple(None if a is None else inv[a] for a in self.amap)
        else:  # reshape: only inserting or removing size-1 axes is index arithmetic
            src = [k for k, s in enumerate(shape) if s != 1]
            dst = [k for k, s in enumerate(out) if s != 1]
            if [shape[k] for k in src] != [out[k] for k in dst]:
                return None
            to = dict(zip(src, dst))
            amap = tuple(None if a is None or shape[a] == 1 else to[a] for a in self.amap)
        return self._with(amap, out)

    def _offsets(self):
        n = len(self.amap)
        return (list(self.start or (0,) * n), list(self.step or (1,) * n),
                list(self.bounds or (None,) * n))

    def _slice(self, starts, strides, out):
        if type(self.base) is not Var:
            return Leaf(self.base, self.amap, out) if type(self.base) is Literal else None
        if tuple(out) == tuple(self.shape):  # the whole array
            return self._with(self.amap, out)
        start, step, bounds = self._offsets()
        for a, k in enumerate(self.amap):
            if k is not None:
                start[a] += step[a] * starts[k]
                step[a] *= strides[k]
        return self._with(self.amap, out, tuple(start), tuple(step), tuple(bounds))

    def _pad(self, config, padval, out):
        if type(self.base) is not Var or type(padval) is not Literal:
            return None
        fill = padval.value._value
        if self.fill is not None and not np.array_equal(self.fill, fill):
            return None
        start, step, bounds = self._offsets()
        for k, (lo, hi, interior) in enumerate(config):
            if interior:
                return None
            if lo == hi == 0:
                continue
            axes = [a for a, m in enumerate(self.amap) if m == k]
            if len(axes) != 1:  # a broadcast axis has no base index to check
                return None
            a, = axes
            valid = (start[a], start[a] + step[a] * self.shape[k])
            if bounds[a] is not None:
                valid = (max(valid[0], bounds[a][0]), min(valid[1], bounds[a][1]))
            bounds[a] = valid
            start[a] -= step[a] * lo
        return self._with(self.amap, out, tuple(start), tuple(step), tuple(bounds), fill)



# ----------------------------------------------------------------------------- collapsing
class Nest:
    """A group's loop nest after dropping size-1 axes and merging axes that every access
    traverses together: ``sizes`` per loop axis, ``red`` the reduced loop axes, and
    ``index(amap)`` the loop axes (in array-axis order) that index an access."""

    def __init__(self, group):
        """``group``: a ``schedule.Group`` (its domain, reduced axes and leaves)."""
        domain, red = group.domain, group.red_axes or ()
        keep = [d for d in range(len(domain)) if domain[d] != 1]
        leaves = group.leaves()
        accesses = [l.amap for l in leaves if type(l.base) is Var and not l.offset]
        accesses.append(tuple(keep))                                               # outputs
        accesses.append(tuple(d for d in keep if d not in red))                    # reduced
        pinned = {l.amap[l.base[3]] for l in leaves if type(l.base) is tuple}
        pinned.update(d for l in leaves if l.offset for d in l.amap)  # read at base shape
        runs: list[list[int]] = []
        for d in keep:
            if runs and self._mergeable(runs[-1][-1], d, red, pinned, accesses):
                runs[-1].append(d)
            else:
                runs.append([d])
        self.axis_of = {d: i for i, run in enumerate(runs) for d in run}
        self.sizes = tuple(int(np.prod([domain[d] for d in run], dtype=np.int64))
                           for run in runs) or (1,)
        self.red = tuple(i for i, run in enumerate(runs) if run[0] in red)

    @staticmethod
    def _mergeable(a, b, red, pinned, accesses):
        if (a in red) != (b in red) or a in pinned or b in pinned:
            return False
        for amap in accesses:
            live = [x for x in amap if x is not None]
            if a in live or b in live:
                i = live.index(a) if a in live else -1
                if i < 0 or i + 1 >= len(live) or live[i + 1] != b:
                    return False
        return True

    def index(self, amap):
        """Loop axes indexing an access with ``amap`` (merged axes appear once)."""
        out = []
        for d in amap:
            i = self.axis_of.get(d)
            if i is not None and (not out or out[-1] != i):
                out.append(i)
        return tuple(out)

    def shape(self, amap):
        """The shape an array accessed by ``amap`` is reshaped to for the kernel."""
        return tuple(self.sizes[i] for i in self.index(amap)) or (1,)

    def axis(self, d):
        """Loop axis of domain axis ``d`` (None for a dropped size-1 axis)."""
        return None if d is None else self.axis_of.get(d)
