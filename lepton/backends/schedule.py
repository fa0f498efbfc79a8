"""Group a jaxpr's equations into fused loop-nest kernels and host operations.

A *kernel* (``Group``) evaluates a set of equations that share one index space, the
*domain*: elementwise primitives at the domain shape, plus reductions whose operand has
the domain shape (they fuse as the end of the loop nest).  Structural primitives that only
move data (``broadcast_in_dim``, ``transpose``, size-1 ``reshape``) and ``iota`` are not
computed at all: they become index arithmetic when a kernel reads them (a ``Leaf``).
Everything else is a *host op* that the driver runs: a direct kernel, a library call or
the primitive's NumPy ``impl`` (NumPy's sort, LAPACK, ...).  Which primitive is which is
the device's lowering table (``lowering.Table``), passed in: this module knows no device.

Grouping is greedy in program order: an equation joins the group of its in-group operands
(merging those groups when they share the domain) unless that would create a cycle, i.e.
unless one of its other operands depends on the group through a materialised value.
Values read outside their group become the group's outputs.

Effects (``ir.has_effects``: debug callbacks, or loops and jits containing them) are
barriers: a group only holds equations between the same two effects (its *epoch*), so
steps run in an order that keeps every effect where the program put it.
"""
from __future__ import annotations

from ..core import ShapedArray
from ..ir import Eqn, Jaxpr, Literal, Var, has_effects, live_eqns
from ..primitives.elementwise import mul_p
from ..primitives.structural import broadcast_in_dim_p, transpose_p
from .index import Leaf


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

    def accepts(self, red) -> bool:
        """Can an equation reducing over ``red`` (None: elementwise) join?"""
        return red is None or self.red_axes is None or self.red_axes == red

    def absorb(self, other: "Group"):
        self.eqns = sorted(self.eqns + other.eqns, key=lambda e: self.order[id(e)])
        self.operands.update(other.operands)
        self.values |= other.values
        self.reduced |= other.reduced
        if self.red_axes is None:
            self.red_axes = other.red_axes

    def add(self, eqn, operands, red):
        self.eqns.append(eqn)
        self.operands[eqn] = operands
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
    """``transpose(dot_general(a, b))`` swapping the two free blocks (batch dimensions
    staying in front) is ``dot_general(b, a)``.

    Gradients of ``x @ w`` come out as the transpose of a product; computing the product
    in the layout its reader wants (BLAS takes either orientation for free) turns a
    strided read in the consuming kernel into a contiguous one (4x faster measured on a
    1024x1024 SGD update).  Per-example gradients (``vmap(grad)``) are the batched case:
    their weight gradients are transposed batched outer products, returned as they are, so
    folding them also makes the program's outputs contiguous.
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
        nb = len(lb)
        nl = d.invars[0].aval.ndim - len(lc) - nb
        nr = d.invars[1].aval.ndim - len(rc) - nb
        swapped = (tuple(range(nb)) + tuple(range(nb + nl, nb + nl + nr))
                   + tuple(range(nb, nb + nl)))
        if e.params["permutation"] != swapped:
            continue
        folded[id(e)] = Eqn(d.prim, d.invars[::-1], e.outvars,
                            dict(d.params, dimension_numbers=((rc, lc), (rb, lb))))
        dropped.add(id(d))
    return [folded.get(id(e), e) for e in eqns if id(e) not in dropped]


def contract_summed_products(eqns, outvars):
    """``reduce_sum`` over batch dimensions of an outer product (``dot_general`` without
    contracting dimensions, read by nothing else) is one ``dot_general`` contracting them.

    The mean of per-example gradients (``vmap(grad)`` then ``mean(axis=0)``) is the
    typical source: the batched outer products become the plain matrix products that
    ``grad`` of the batch loss computes, one BLAS call instead of a loop of
    multiply-adds over the batch.  The sum's rounding is BLAS's (as in JAX, where XLA
    makes the same rewrite).
    """
    uses: dict = {}
    for v in [v for e in eqns for v in e.invars] + list(outvars):
        uses[v] = uses.get(v, 0) + 1
    products = {e.outvars[0]: e for e in eqns if e.prim.name == "dot_general"
                and not e.params["dimension_numbers"][0][0]
                and e.params["preferred_element_type"] is None}
    folded, dropped = {}, set()
    for e in eqns:
        d = products.get(e.invars[0]) if e.prim.name == "reduce_sum" else None
        if d is None or uses[e.invars[0]] != 1:
            continue
        _, (xb, yb) = d.params["dimension_numbers"]
        axes = e.params["axes"]
        if not axes or any(a >= len(xb) for a in axes):
            continue
        kept = [k for k in range(len(xb)) if k not in axes]
        dn = ((tuple(xb[a] for a in axes), tuple(yb[a] for a in axes)),
              (tuple(xb[k] for k in kept), tuple(yb[k] for k in kept)))
        folded[id(e)] = Eqn(d.prim, d.invars, e.outvars, dict(d.params, dimension_numbers=dn))
        dropped.add(id(d))
    return [folded.get(id(e), e) for e in eqns if id(e) not in dropped]


def _free_axes(ndim, *used):
    taken = {a for axes in used for a in axes}
    return tuple(a for a in range(ndim) if a not in taken)


def _operand_view(v, axes, out_aval, out_axes):
    """Equations presenting operand ``v``'s ``axes`` (in that order) at ``out_axes`` of
    ``out_aval``: a transpose where they are out of order, then a broadcast."""
    eqns, aval = [], v.aval
    if axes != tuple(range(aval.ndim)):
        t = Var(ShapedArray(tuple(aval.shape[a] for a in axes), aval.dtype, aval.weak_type))
        eqns.append(Eqn(transpose_p, [v], [t], {"permutation": axes}))
        v = t
    if v.aval.shape != out_aval.shape:
        b = Var(ShapedArray(out_aval.shape, aval.dtype, aval.weak_type))
        eqns.append(Eqn(broadcast_in_dim_p, [v], [b],
                        {"shape": out_aval.shape, "broadcast_dimensions": out_axes}))
        v = b
    return eqns, v


def expand_outer_products(eqns, table):
    """A ``dot_general`` without contracting dimensions (a possibly batched outer product)
    is ``mul`` of its operands broadcast to the output: a fused loop that reads each
    operand through index arithmetic, writes each output element once and runs in
    parallel, instead of NumPy's batched ``matmul`` with an inner size of 1 (20 ms for the
    52 MB of per-example weight gradients of a 784-128-10 MLP at batch 128, a few ms as a
    kernel), and one that fuses with its readers (an SGD update on it never materialises
    it).  Only where the device fuses that ``mul`` and the operands are variables (a
    ``preferred_element_type`` product keeps its host step)."""
    out = []
    for e in eqns:
        if e.prim.name != "dot_general" or e.params["preferred_element_type"] is not None:
            out.append(e)
            continue
        (xc, yc), (xb, yb) = e.params["dimension_numbers"]
        x, y = e.invars
        o = e.outvars[0]
        if xc or type(x) is not Var or type(y) is not Var:
            out.append(e)
            continue
        nb, xf, yf = len(xb), _free_axes(x.aval.ndim, xb), _free_axes(y.aval.ndim, yb)
        x_eqns, bx = _operand_view(x, tuple(xb) + xf, o.aval, tuple(range(nb + len(xf))))
        y_eqns, by = _operand_view(y, tuple(yb) + yf, o.aval, tuple(range(nb)) + tuple(
            range(nb + len(xf), o.aval.ndim)))
        product = Eqn(mul_p, [bx, by], [o], {})
        views = x_eqns + y_eqns
        if not table.fusable(product) or not all(table.is_view(v) for v in views):
            out.append(e)
            continue
        out += views + [product]
    return out


def slice_operands_first(eqns, outvars, table):
    """An elementwise value read only through disjoint unit-stride ``slice``s is computed
    slice by slice, from slices of its operands.

    An LSTM cell computes its gate pre-activations ``z = x W + h U + b`` at full width and
    reads them as four slices ``z[:, k H:(k + 1) H]``: a kernel of its own that writes
    ``z`` for the gate kernel to read back.  Sliced first, each gate's sum is part of the
    gate kernel (operands are read through index arithmetic, as the slices were), and
    ``z`` never exists.  Chains (``(a + b) + c``) sink whole: one pass from the last
    equation to the first reaches the fixed point, since splitting an equation changes
    only the readers of its operands, which come earlier (the split's own per-slice
    equations are tried at once).  Linear in the program (a restart per split made a
    Python-unrolled program of 400 sliced sums take 18 s).
    """
    eqns = list(eqns)
    keep = {v for v in outvars if type(v) is Var}
    readers: dict = {}
    for e in eqns:
        for v in e.invars:
            if type(v) is Var:
                readers.setdefault(v, []).append(e)
    absorbed: set = set()  # ids of the slices that split equations now compute

    def expand(e):
        """``e``, or its split (each part expanded in turn), in program order."""
        slices = _sliced_reads(e, readers, keep, table)
        if slices is None:
            return [e]
        split, parts, out = _split(e, slices), {}, []
        for x in split:
            if x.prim.name == "slice":
                parts.setdefault(x.invars[0], []).append(x)
            else:  # reads the parts, which are new
                for v in x.invars:
                    if type(v) is Var:
                        readers.setdefault(v, []).append(x)
        for v, new in parts.items():  # e's place among its operands' readers, in order
            old = readers[v]
            at = next(i for i, r in enumerate(old) if r is e)
            readers[v] = old[:at] + new + [r for r in old[at:] if r is not e]
        absorbed.update(id(s) for s in slices)
        for x in split:
            out += [x] if x.prim.name == "slice" else expand(x)
        return out

    done = []
    for e in reversed(eqns):
        if id(e) not in absorbed:
            done.append(expand(e))
    return [x for part in reversed(done) for x in part if id(x) not in absorbed]


def _split(e, slices):
    """Per slice: the slices of ``e``'s operands, then ``e`` of them writing the slice."""
    split = []
    for s in slices:
        ins = []
        for v in e.invars:
            if type(v) is Literal:
                ins.append(v)
                continue
            part = Var(ShapedArray(s.outvars[0].aval.shape, v.aval.dtype, v.aval.weak_type))
            split.append(Eqn(s.prim, [v], [part], s.params))
            ins.append(part)
        split.append(Eqn(e.prim, ins, s.outvars, e.params))
    return split


def _sliced_reads(e, readers, keep, table):
    """The slices that read ``e``'s value, if it qualifies for ``slice_operands_first``."""
    if len(e.outvars) != 1 or not table.fusable(e) or table.reduction_axes(e) is not None \
            or has_effects(e):
        return None
    v = e.outvars[0]
    shape = v.aval.shape
    if v in keep or not all(type(x) is Literal or x.aval.shape == shape for x in e.invars):
        return None
    slices = readers.get(v, [])
    if not slices or any(r.prim.name != "slice" or any(st not in (None, 1) for st in
                                                        (r.params["strides"] or ()))
                         for r in slices):
        return None
    # Only where every slice feeds kernels: a slice read by a host op (a product, say)
    # would become a kernel of its own, where the whole value took one.
    if any(s.outvars[0] in keep or not all(table.fusable(r) for r in readers.get(s.outvars[0], ()))
           for s in slices):
        return None
    boxes = [tuple(zip(r.params["start_indices"], r.params["limit_indices"])) for r in slices]
    for i, a in enumerate(boxes):  # disjoint: nothing is computed twice
        for b in boxes[:i]:
            if all(lo1 < hi2 and lo2 < hi1 for (lo1, hi1), (lo2, hi2) in zip(a, b)):
                return None
    return slices


class _Scheduler:
    def __init__(self, jaxpr: Jaxpr, table, max_eqns=None):
        self.jaxpr, self.table = jaxpr, table
        self.max_eqns = float("inf") if max_eqns is None else max_eqns
        eqns = fold_transposed_products(live_eqns(jaxpr), jaxpr.outvars)
        eqns = contract_summed_products(eqns, jaxpr.outvars)
        eqns = slice_operands_first(eqns, jaxpr.outvars, table)
        self.eqns = expand_outer_products(eqns, table)
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

    def same_value(self, v):
        """The fused value that ``v`` equals index for index (``v`` an identity view of it,
        as ``stop_gradient`` is), so that a kernel keeps computing through it; else ``v``."""
        leaf = self.leaf_of.get(v) if type(v) is Var else None
        if (leaf is None or type(leaf.base) is not Var or leaf.base not in self.group_of
                or leaf.offset or leaf.shape != leaf.base.aval.shape):
            return v
        return leaf.base if leaf.amap == Leaf.of(leaf.base).amap else v

    def fuse(self, eqn, pos):
        red = self.table.reduction_axes(eqn)
        domain = eqn.invars[0].aval.shape if red is not None else eqn.outvars[0].aval.shape
        invars = [self.same_value(v) for v in eqn.invars]
        target = None
        for v in invars:
            g = self.in_group_value(v, domain)
            if g is None or g is target or not g.accepts(red) or len(g.eqns) >= self.max_eqns:
                continue  # (a full group's values are read as materialised arrays)
            if target is None:
                target = g
            elif ((g.red_axes is None or target.red_axes in (None, g.red_axes))
                  and len(target.eqns) + len(g.eqns) < self.max_eqns
                  and not self.group_depends(g, target) and not self.group_depends(target, g)):
                self.merge(target, g)
        ops = [("val", v) if target is not None and v in target.values else ("leaf", self.leaf(v))
               for v in invars]
        if target is not None:
            seen: set = set()
            if any(kind == "leaf" and self.depends(x.base, target, seen) for kind, x in ops):
                target = None
                ops = [("leaf", self.leaf(v)) for v in invars]
        if target is None:
            target = Group(domain, self.order, pos)
            target.epoch = self.epoch
            self.groups.append(target)
        target.add(eqn, ops, red)
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
            if self.table.is_view(e):
                leaf = self.structural(e)
                if leaf is not None:
                    self.leaf_of[e.outvars[0]] = leaf
                    continue
            elif self.table.fusable(e):
                self.fuse(e, pos)
                continue
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
                if (other.red_axes == g.red_axes
                        and len(other.eqns) + len(g.eqns) <= self.max_eqns
                        and not self.group_depends(g, other) and not self.group_depends(other, g)):
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


def schedule(jaxpr: Jaxpr, table, max_eqns=None):
    """The ordered steps (``Group`` kernels and ``HostOp`` calls) computing ``jaxpr`` on a
    device whose lowering table is ``table`` (``lowering.Table``).  ``max_eqns`` caps the
    equations of one kernel (a device whose compiler slows down on huge kernels sets it);
    a value read past the cap is materialised and read by the next kernel."""
    return _Scheduler(jaxpr, table, max_eqns).run()
