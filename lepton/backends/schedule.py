"""Group a jaxpr's equations into fused loop-nest kernels and host operations.

A *kernel* (``Group``) evaluates a set of equations that share one index space, the
*domain*: elementwise primitives at the domain shape, plus reductions whose operand has
the domain shape (they fuse as the end of the loop nest).  Structural primitives that only
move data (``broadcast_in_dim``, ``transpose``, size-1 ``reshape``) and ``iota`` are not
computed at all: they become index arithmetic when a kernel reads them (a ``Leaf``).
Everything else is a *host op* that calls the primitive's NumPy ``impl`` from the driver
(BLAS through NumPy for ``dot_general``, NumPy's sort, LAPACK, ...).

Grouping is greedy in program order: an equation joins the group of its in-group operands
(merging those groups when they share the domain) unless that would create a cycle, i.e.
unless one of its other operands depends on the group through a materialised value.
Values read outside their group become the group's outputs.

Effects (``ir.has_effects``: debug callbacks, or loops and jits containing them) are
barriers: a group only holds equations between the same two effects (its *epoch*), so
steps run in an order that keeps every effect where the program put it.
"""
from __future__ import annotations

import numpy as np

from ..ir import Eqn, Jaxpr, Literal, Var, has_effects, live_eqns
from . import codegen, conv_cpu, kernels_cpu

#: Primitives lowered to index arithmetic on the arrays a kernel reads (``slice`` as an
#: offset and stride, ``pad`` as a bounds check that reads the padding value outside).
VIEW_OPS = frozenset({"broadcast_in_dim", "transpose", "reshape", "iota", "slice", "pad"})

#: Primitives that always run as host ops (the primitive's NumPy impl, called by the driver).
HOST_OPS = frozenset({
    "dot_general",                                         # BLAS via NumPy
    "gather", "scatter", "scatter_add", "scatter_mul", "scatter_min", "scatter_max",
    "dynamic_slice", "dynamic_update_slice", "rev", "concatenate",
    "sort", "argmax", "argmin", "cumsum", "cumprod", "cummax", "cummin",
    "cholesky", "eig", "eigh", "lu", "qr", "svd", "triangular_solve",
    "threefry2x32", "bitcast_convert_type",
    "erf_inv", "digamma", "polygamma",                     # lepton.primitives.special
    "igamma", "igammac", "igamma_grad_a",                  # lepton.primitives.igamma
    "jit", "custom_lin", "stop_gradient",
    "cond", "scan", "while",  # their impls run the bodies (compiled once per loop)
    "debug_callback", "pure_callback",  # Python on the host, between kernels, in order
})


def lowering(name: str) -> str | None:
    """How the cpu backend lowers primitive ``name``: 'fused', 'view', 'direct' (a
    hand-written kernel called from the driver), 'host' or None."""
    if name in codegen.TEMPLATES or name in codegen.REDUCERS:
        return "fused"
    if name in VIEW_OPS:
        return "view"
    if name in kernels_cpu.WINDOW_OPS or name in conv_cpu.DIRECT_OPS:
        return "direct"
    return "host" if name in HOST_OPS else None


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
        arithmetic (a reshape that merges or splits axes, interior padding, ...)."""
        name, p = eqn.prim.name, eqn.params
        out = eqn.outvars[0].aval.shape
        shape = self.shape
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


# ----------------------------------------------------------------------------- groups
class Group:
    """Equations fused into one loop nest over ``domain``.

    ``red_axes`` are the domain axes its reductions sum over (all its reductions share
    them).  ``operands[eqn]`` lists, per invar, ("val", var) for a value computed in this
    group at the same index or ("leaf", Leaf) for a value read from outside.
    """

    def __init__(self, domain, order, pos):
        self.domain = domain
        self.order = order         # eqn -> program position
        self.red_axes = None
        self.eqns: list = []
        self.operands: dict = {}
        self.values: set = set()   # elementwise results, at the domain index
        self.reduced: set = set()  # reduction results, at the kept index
        self.outputs: list = []    # values materialised for readers outside the group
        self.pos = pos             # program position of the last member, for ordering
        self.epoch = 0             # effects before it in the program

    def leaves(self):
        return [x for e in self.eqns for kind, x in self.operands[e] if kind == "leaf"]

    def inputs(self):
        """Materialised vars this kernel reads."""
        return [l.base for l in self.leaves() if type(l.base) is Var]

    def accepts(self, eqn) -> bool:
        red = codegen.reduction_axes(eqn)
        return red is None or self.red_axes is None or self.red_axes == red

    def absorb(self, other: "Group"):
        self.eqns = sorted(self.eqns + other.eqns, key=lambda e: self.order[id(e)])
        self.operands.update(other.operands)
        self.values |= other.values
        self.reduced |= other.reduced
        if self.red_axes is None:
            self.red_axes = other.red_axes

    def add(self, eqn, operands):
        self.eqns.append(eqn)
        self.operands[eqn] = operands
        red = codegen.reduction_axes(eqn)
        if red is None:
            self.values.add(eqn.outvars[0])
        else:
            self.red_axes = red
            self.reduced.add(eqn.outvars[0])


class HostOp:
    __slots__ = ("eqn", "pos")

    def __init__(self, eqn, pos):
        self.eqn, self.pos = eqn, pos

    def inputs(self):
        return [v for v in self.eqn.invars if type(v) is Var]


# ----------------------------------------------------------------------------- scheduling
def fold_transposed_products(eqns, outvars):
    """``transpose(dot_general(a, b))`` swapping the two free blocks is ``dot_general(b, a)``.

    Gradients of ``x @ w`` come out as the transpose of a product; computing the product
    in the layout its reader wants (BLAS takes either orientation for free) turns a
    strided read in the consuming kernel into a contiguous one (4x faster measured on a
    1024x1024 SGD update).
    """
    uses: dict = {}
    for v in [v for e in eqns for v in e.invars] + list(outvars):
        uses[v] = uses.get(v, 0) + 1
    products = {e.outvars[0]: e for e in eqns if e.prim.name == "dot_general"}
    folded, dropped = {}, set()
    for e in eqns:
        d = products.get(e.invars[0]) if e.prim.name == "transpose" else None
        if d is None or uses[e.invars[0]] != 1:
            continue
        (lc, rc), (lb, rb) = d.params["dimension_numbers"]
        nl = d.invars[0].aval.ndim - len(lc)
        nr = d.invars[1].aval.ndim - len(rc)
        if lb or e.params["permutation"] != tuple(range(nl, nl + nr)) + tuple(range(nl)):
            continue
        folded[id(e)] = Eqn(d.prim, d.invars[::-1], e.outvars,
                            dict(d.params, dimension_numbers=((rc, lc), (rb, lb))))
        dropped.add(id(d))
    return [folded.get(id(e), e) for e in eqns if id(e) not in dropped]


class _Scheduler:
    def __init__(self, jaxpr: Jaxpr):
        self.jaxpr = jaxpr
        self.eqns = fold_transposed_products(live_eqns(jaxpr), jaxpr.outvars)
        self.order = {id(e): i for i, e in enumerate(self.eqns)}
        self.group_of: dict = {}    # var -> Group computing it
        self.host_of: dict = {}     # var -> HostOp computing it
        self.leaf_of: dict = {}     # var -> Leaf (structural results, computed lazily)
        self.defn: dict = {}        # var -> defining equation
        self.groups: list = []
        self.epoch = 0              # effects seen so far: groups never span one

    # -- dependencies ---------------------------------------------------------------
    def depends(self, v, target: Group, seen=None) -> bool:
        """Does the materialised value ``v`` depend on group ``target``?"""
        seen = set() if seen is None else seen
        if type(v) is not Var or v in seen:
            return False
        seen.add(v)
        if v in self.leaf_of:
            return self.depends(self.leaf_of[v].base, target, seen)
        g = self.group_of.get(v)
        if g is not None:
            return g is target or any(self.depends(b, target, seen) for b in g.inputs())
        h = self.host_of.get(v)
        return h is not None and any(self.depends(b, target, seen) for b in h.inputs())

    def group_depends(self, g: Group, target: Group) -> bool:
        seen: set = set()
        return any(self.depends(b, target, seen) for b in g.inputs())

    # -- building -------------------------------------------------------------------
    def leaf(self, v) -> Leaf:
        if type(v) is Literal:
            return Leaf(v, (), ())
        return self.leaf_of.get(v) or Leaf.of(v)

    def in_group_value(self, v, domain):
        g = self.group_of.get(v) if type(v) is Var else None
        return g if (g is not None and v in g.values and g.domain == domain
                     and g.epoch == self.epoch) else None

    def fuse(self, eqn, pos):
        domain = eqn.invars[0].aval.shape if codegen.reduction_axes(eqn) is not None \
            else eqn.outvars[0].aval.shape
        target = None
        for v in eqn.invars:
            g = self.in_group_value(v, domain)
            if g is None or g is target or not g.accepts(eqn):
                continue
            if target is None:
                target = g
            elif ((g.red_axes is None or target.red_axes in (None, g.red_axes))
                  and not self.group_depends(g, target) and not self.group_depends(target, g)):
                self.merge(target, g)
        ops = [("val", v) if target is not None and v in target.values else ("leaf", self.leaf(v))
               for v in eqn.invars]
        if target is not None:
            seen: set = set()
            if any(kind == "leaf" and self.depends(x.base, target, seen) for kind, x in ops):
                target = None
                ops = [("leaf", self.leaf(v)) for v in eqn.invars]
        if target is None:
            target = Group(domain, self.order, pos)
            target.epoch = self.epoch
            self.groups.append(target)
        target.add(eqn, ops)
        target.pos = pos
        self.group_of[eqn.outvars[0]] = target

    def merge(self, into: Group, other: Group):
        into.absorb(other)
        for v in other.values | other.reduced:
            self.group_of[v] = into
        self.groups.remove(other)

    def run(self):
        hosts = []
        for pos, e in enumerate(self.eqns):
            for v in e.outvars:
                self.defn[v] = e
            name = e.prim.name
            if name in VIEW_OPS:
                leaf = self.structural(e)
                if leaf is not None:
                    self.leaf_of[e.outvars[0]] = leaf
                    continue
            elif codegen.fusable(e):
                self.fuse(e, pos)
                continue
            elif lowering(name) is None:
                raise NotImplementedError(
                    f"the cpu backend has no lowering for primitive {name!r}: give it a "
                    "template in lepton/backends/codegen.py or list it in "
                    "lepton/backends/schedule.py HOST_OPS")
            h = HostOp(e, pos)
            hosts.append(h)
            if has_effects(e):
                self.epoch += 1
            for v in e.outvars:
                self.host_of[v] = h
        self.merge_siblings()
        return self.finish(hosts)

    def merge_siblings(self):
        """Independent groups over the same domain become one kernel: one launch instead of
        several (an LSTM cell's gate gradients are typical)."""
        by_domain: dict = {}
        for g in list(self.groups):
            for other in by_domain.get((g.domain, g.epoch), []):
                if (other.red_axes == g.red_axes and not self.group_depends(g, other)
                        and not self.group_depends(other, g)):
                    self.merge(other, g)
                    other.pos = max(other.pos, g.pos)
                    break
            else:
                by_domain.setdefault((g.domain, g.epoch), []).append(g)

    def structural(self, e):
        if e.prim.name == "iota":
            p = e.params
            shape = p["shape"]
            return Leaf(("iota", p["dtype"], shape, p["dimension"]),
                        tuple(None if s == 1 else k for k, s in enumerate(shape)), shape)
        return self.leaf(e.invars[0]).view(e)

    def finish(self, hosts):
        """Decide what is materialised, then order the steps topologically."""
        needed = {v for v in self.jaxpr.outvars if type(v) is Var}
        for h in hosts:
            needed.update(h.inputs())
        for g in self.groups:
            needed.update(g.inputs())
        # Structural values read by host ops or returned run on the host (their impls
        # return NumPy views), which in turn needs their operands.
        stack = [v for v in needed if v in self.leaf_of]
        while stack:
            v = stack.pop()
            e = self.defn[v]
            h = HostOp(e, self.order[id(e)])
            hosts.append(h)
            self.host_of[v] = h
            del self.leaf_of[v]
            for u in h.inputs():
                if u not in needed:
                    needed.add(u)
                    if u in self.leaf_of:
                        stack.append(u)
        for g in self.groups:
            g.outputs = [v for e in g.eqns for v in e.outvars if v in needed]
        return _toposort(self.groups + hosts, self.group_of, self.host_of)


def _toposort(steps, group_of, host_of):
    """Producers before consumers, otherwise in program order."""
    done, out, active = set(), [], set()

    def visit(s):
        if id(s) in done:
            return
        if id(s) in active:
            raise AssertionError("cyclic kernel schedule")
        active.add(id(s))
        for v in s.inputs():
            p = group_of.get(v) or host_of.get(v)
            if p is not None and p is not s:
                visit(p)
        active.discard(id(s))
        done.add(id(s))
        out.append(s)

    for s in sorted(steps, key=lambda s: s.pos):
        visit(s)
    return out


def schedule(jaxpr: Jaxpr):
    """The ordered steps (``Group`` kernels and ``HostOp`` calls) computing ``jaxpr``."""
    return _Scheduler(jaxpr).run()


# ----------------------------------------------------------------------------- collapsing
class Nest:
    """A group's loop nest after dropping size-1 axes and merging axes that every access
    traverses together: ``sizes`` per loop axis, ``red`` the reduced loop axes, and
    ``index(amap)`` the loop axes (in array-axis order) that index an access."""

    def __init__(self, group: Group):
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
