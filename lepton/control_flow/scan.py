"""``scan``: a loop with a carry that stacks per-iteration outputs.

``scan_p``'s body jaxpr maps ``(consts, carry, x) -> (carry, y)``; its operands are
the consts, the initial carry and the xs stacked along axis 0.  Whatever the trip
count, a scan is one equation, and its body is traced and compiled once.  It is the
loop every reverse-mode derivative of a loop goes through: ``partial_eval`` splits
the body into a known scan that stacks residuals as extra ys (loop-invariant ones
are computed once, outside) and an unknown scan that reads them as xs; ``transpose``
runs the transposed body as a reverse scan that accumulates the consts' cotangents.
"""
from __future__ import annotations

import numpy as np

from .. import tree
from ..core import Primitive, ShapedArray, set_trace
from ..errors import ShapeError
from ..ir import Jaxpr, eval_jaxpr
from ..numpy import asarray
from ..primitives.base import (Zero, add_tangents, instantiate, is_undefined, move_to_front,
                               tangent_aval)
from ..primitives.slicing import slice_in_dim
from ..primitives.structural import concatenate, moveaxis, reshape, zeros
from ..transforms.transpose import backward_pass
from .common import (as_values, batch_call, batched_aval, check_carry, check_operands, executable,
                      jvp_call, memo, open_jaxpr, partial_eval_inst, promote_weak_carry,
                      sink_fills, split, trace_jaxpr, zero_tangents)
from .remat import drop_cheap_residuals
from .hoist import hoist_products, hoist_sums, stacked_product, total

scan_p = Primitive("scan", multiple_results=True)


#: Steps whose argument and destination rows ``_scan_impl`` makes at once: NumPy's own
#: iteration makes a block's row views in C, where indexing each stack at each step cost
#: about 3 us of Python per step (a 12-residual LSTM body); the block bounds the views
#: held for a long loop.
ROW_BLOCK = 256


def _rows(arrays, lo, hi, reverse, writable=False):
    """Per step of ``lo..hi`` (in loop order), the tuple of ``arrays``' rows at that step
    (None for a None array).  ``writable`` rows are views even for 1-D arrays (iterating
    one yields scalars)."""
    cols = []
    for a in arrays:
        if a is None:
            cols.append((None,) * (hi - lo))
        elif writable and a.ndim == 1:
            cols.append([a[i, ...] for i in range(lo, hi)])
        else:
            cols.append(list(a[lo:hi]))
    steps = list(zip(*cols)) if cols else [()] * (hi - lo)
    return steps[::-1] if reverse else steps


def _scan_impl(*args, jaxpr, num_consts, num_carry, length, reverse, unroll):
    run = executable(jaxpr)
    consts, carry, xs = split(args, num_consts, num_carry)
    # A y the body returns twice (a transposed body's cotangent that feeds two sums) is
    # stacked once and returned twice: no second buffer, no per-step copy into it.
    first: dict = {}
    youts = jaxpr.outvars[num_carry:]
    owner = [first.setdefault(v, j) for j, v in enumerate(youts)]
    stacks = [np.empty((length,) + v.aval.shape, v.aval.dtype) if owner[j] == j else None
              for j, v in enumerate(youts)]
    threads = _threads(jaxpr.invars[num_consts:num_consts + num_carry], youts)
    steps = _steps(stacks, xs, length, reverse)
    if not any(threads):
        no_dest = (None,) * num_carry
        for x, ys in steps:
            carry = run(*consts, *carry, *x, out=no_dest + ys)[:num_carry]
        return list(carry) + [stacks[o] for o in owner]
    # A y that is the body's carry input k (an LSTM's h and c, kept for the backward
    # pass) is the row its previous step wrote carry k into: the body writes carry k
    # straight into the next step's row of that stack, which the next step reads as its
    # carry and finds already in place as its y, instead of copying it there.
    now = next(steps, None)
    carry = list(carry)
    for k, j in enumerate(threads):
        if j is not None and now is not None:
            now[1][j][...] = carry[k]
            carry[k] = now[1][j]
    while now is not None:
        (x, ys), now = now, next(steps, None)
        dests = tuple(None if j is None or now is None else now[1][j] for j in threads)
        carry = run(*consts, *carry, *x, out=dests + ys)[:num_carry]
    return list(carry) + [stacks[o] for o in owner]


def _threads(carry_in, youts):
    """Per carry, the stack of the first y that is that carry's input (its owner, as the
    first y of a value), or None."""
    return [next((j for j, v in enumerate(youts) if v is c), None) for c in carry_in]


def _steps(stacks, xs, length, reverse):
    """Per step in loop order: (its rows of ``xs``, its rows of the stacks)."""
    blocks = range(0, length, ROW_BLOCK)
    for lo in reversed(blocks) if reverse else blocks:
        hi = min(lo + ROW_BLOCK, length)
        yield from zip(_rows(xs, lo, hi, reverse), _rows(stacks, lo, hi, reverse, writable=True))


def _scan_abstract_eval(*avals, jaxpr, num_consts, num_carry, length, reverse, unroll):
    n_fixed = num_consts + num_carry
    check_operands("scan", avals, [v.aval if i < n_fixed else batched_aval(v.aval, length)
                                   for i, v in enumerate(jaxpr.invars)])
    return ([v.aval for v in jaxpr.invars[num_consts:n_fixed]] +
            [batched_aval(v.aval, length) for v in jaxpr.outvars[num_carry:]])


def _bind(consts, carry, xs, jaxpr, length, reverse, unroll):
    jaxpr, plans, kept = memo("scan.hoist_products", jaxpr, (len(consts), len(carry), length),
                              lambda: hoist_products(jaxpr, len(consts), len(carry), length))
    if plans:
        xs = list(xs) + [stacked_product(plan, consts, xs) for plan in plans]
        consts = [c for c, k in zip(consts, kept) if k]
    return scan_p.bind(*consts, *carry, *xs, jaxpr=jaxpr, num_consts=len(consts),
                       num_carry=len(carry), length=length, reverse=reverse, unroll=unroll)


def _grow(flags, out_flags):
    """One fixed-point step: a carry becomes nonzero/batched/unknown if its output is."""
    return [a or b for a, b in zip(flags, out_flags)]


# ----------------------------------------------------------------------------- jvp
def jvp_body(jaxpr, nc, ncar, const_nz, carry_nz, xs_nz):
    """Trace (consts, their tangents, carry, tangents, x, tangents) -> (carry, tangents, y,
    tangents) for a loop body; returns (jaxpr, consts, which outputs had nonzero tangents)."""
    c_av, car_av, x_av = split([v.aval for v in jaxpr.invars], nc, ncar)

    def t_avals(avals, nz):
        return [tangent_aval(a) for a, n in zip(avals, nz) if n]

    layout = [c_av, t_avals(c_av, const_nz), car_av, t_avals(car_av, carry_nz), x_av,
              t_avals(x_av, xs_nz)]
    store = {}

    def body(*args):
        c, ct, car, cart, x, xt = split(args, *[len(part) for part in layout[:-1]])
        tangents = (zero_tangents(c_av, const_nz, ct) + zero_tangents(car_av, carry_nz, cart) +
                    zero_tangents(x_av, xs_nz, xt))
        outs, out_t = jvp_call(jaxpr, c + car + x, tangents)
        store["nz"] = [type(t) is not Zero for t in out_t]
        car_t = [instantiate(t) for t, n in zip(out_t[:ncar], carry_nz) if n]
        y_t = [t for t in out_t[ncar:] if type(t) is not Zero]
        return outs[:ncar] + car_t + outs[ncar:] + y_t

    j, consts = trace_jaxpr(body, [a for part in layout for a in part], "scan.jvp")
    return j, consts, store["nz"]


def _scan_jvp(primals, tangents, *, jaxpr, num_consts, num_carry, length, reverse, unroll):
    nc, ncar = num_consts, num_carry
    const_nz, carry_nz, xs_nz = split([type(t) is not Zero for t in tangents], nc, ncar)
    while True:
        body, consts, out_nz = memo(
            "scan.jvp", jaxpr, (tuple(const_nz), tuple(carry_nz), tuple(xs_nz)),
            lambda: jvp_body(jaxpr, nc, ncar, const_nz, carry_nz, xs_nz))
        grown = _grow(carry_nz, out_nz[:ncar])
        if grown == carry_nz:
            break
        carry_nz = grown
    c, init, xs = split(primals, nc, ncar)
    ct, init_t, xs_t = split(tangents, nc, ncar)
    nonzero = [t for t in ct + xs_t if type(t) is not Zero]
    init_t = [instantiate(t) for t, n in zip(init_t, carry_nz) if n]
    outs = _bind(consts + c + nonzero[:sum(const_nz)], init + init_t, xs + nonzero[sum(const_nz):],
                 body, length, reverse, unroll)
    carry, carry_t, rest = split(outs, ncar, len(init_t))
    ys, ys_t = split(rest, len(jaxpr.outvars) - ncar)
    out_t = (zero_tangents([o.aval for o in carry], carry_nz, carry_t) +
             zero_tangents([o.aval for o in ys], out_nz[ncar:], ys_t))
    return carry + ys, out_t


# ----------------------------------------------------------------------------- batching
def batch_body(jaxpr, axis_size, in_batched, carry_b):
    """Trace the body with batched inputs (batch axis 0); carries in ``carry_b`` come out
    batched.  Returns (jaxpr, consts, which outputs the body itself batches)."""
    avals = [batched_aval(v.aval, axis_size) if b else v.aval
             for v, b in zip(jaxpr.invars, in_batched)]
    force = carry_b + [False] * (len(jaxpr.outvars) - len(carry_b))
    store = {}

    def body(*args):
        outs, store["b"] = batch_call(jaxpr, axis_size, args, in_batched)
        return [move_to_front(o, None, axis_size) if f and not b else o
                for o, b, f in zip(outs, store["b"], force)]

    j, consts = trace_jaxpr(body, avals, "scan.batch")
    return j, consts, store["b"]


def _scan_batch(axis_size, vals, dims, *, jaxpr, num_consts, num_carry, length, reverse, unroll):
    nc, ncar = num_consts, num_carry
    const_b, carry_b, xs_b = split([d is not None for d in dims], nc, ncar)
    while True:
        body, consts, out_b = memo(
            "scan.batch", jaxpr, (axis_size, tuple(const_b), tuple(carry_b), tuple(xs_b)),
            lambda: batch_body(jaxpr, axis_size, const_b + carry_b + xs_b, carry_b))
        grown = _grow(carry_b, out_b[:ncar])
        if grown == carry_b:
            break
        carry_b = grown
    c, init, xs = split(vals, nc, ncar)
    cd, initd, xsd = split(dims, nc, ncar)
    c = [v if d is None else moveaxis(v, d, 0) for v, d in zip(c, cd)]
    init = [move_to_front(v, d, axis_size) if b else v for v, d, b in zip(init, initd, carry_b)]
    xs = [v if d is None else moveaxis(v, d, 1) for v, d in zip(xs, xsd)]  # scan axis stays 0
    outs = _bind(consts + c, init, xs, body, length, reverse, unroll)
    return outs, [0 if b else None for b in carry_b] + [1 if b else None for b in out_b[ncar:]]


# ----------------------------------------------------------------------------- partial eval
class _Split:
    """How a scan splits for given unknown inputs (built once per body and pattern)."""

    def __init__(self, jaxpr, nc, ncar, const_uk, carry_uk, xs_uk):
        ny = len(jaxpr.outvars) - ncar
        while True:
            known, unknown, out_uk, n_res = partial_eval_inst(
                jaxpr, const_uk + carry_uk + xs_uk, carry_uk + [False] * ny)
            grown = _grow(carry_uk, out_uk[:ncar])
            if grown == carry_uk:
                break
            carry_uk = grown
        known, unknown, n_res = drop_cheap_residuals(known, unknown, n_res)
        self.carry_uk, self.y_uk = carry_uk, out_uk[ncar:]
        # Hoist residuals that depend on consts only: computed once, not stacked per step.
        k_open, self.k_consts = open_jaxpr(known)
        n_inv_in = len(self.k_consts) + const_uk.count(False)
        n_vary_in = len(k_open.invars) - n_inv_in
        n_kout = len(k_open.outvars) - n_res
        self.hoist, self.known_body, uk2, self.n_res1 = partial_eval_inst(
            k_open, [False] * n_inv_in + [True] * n_vary_in, [True] * n_kout + [False] * n_res,
            effects_unknown=True)  # a print in the body runs at every step
        self.n_known_carry = carry_uk.count(False)
        # The unknown scan: consts = (invariant residuals, unknown consts),
        # carry = unknown carries, xs = (stacked residuals, unknown xs).
        varying = uk2[n_kout:]
        res, uc, ucar, ux = split(unknown.invars, n_res, const_uk.count(True),
                                  carry_uk.count(True))
        inv = [v for v, s in zip(res, varying) if not s]
        per_step = [v for v, s in zip(res, varying) if s]
        self.n_uc = len(uc)
        unknown_body = Jaxpr([], inv + uc + ucar + per_step + ux, unknown.outvars, unknown.eqns)
        self.hoist, self.n_inv, self.unknown_body, self.known_body = sink_fills(
            self.hoist, len(inv), unknown_body, self.known_body)


def _pick(vals, flags, want):
    return [v for v, f in zip(vals, flags) if f == want]


def _scan_partial_eval(trace, args, params):
    jaxpr, nc, ncar = params["jaxpr"], params["num_consts"], params["num_carry"]
    length, reverse, unroll = params["length"], params["reverse"], params["unroll"]
    uk = [trace.owns(a) for a in args]
    const_uk, carry_uk, xs_uk = split(uk, nc, ncar)
    s = memo("scan.partial_eval", jaxpr, tuple(uk),
             lambda: _Split(jaxpr, nc, ncar, const_uk, carry_uk, xs_uk))
    c, init, xs = split(args, nc, ncar)
    with set_trace(trace.parent):
        hoisted = eval_jaxpr(s.hoist.jaxpr, s.hoist.consts, *s.k_consts, *_pick(c, const_uk, False))
        inv_res, res1 = hoisted[:s.n_inv], hoisted[s.n_inv:]
        known = _bind(res1, _pick(init, s.carry_uk, False), _pick(xs, xs_uk, False),
                      s.known_body, length, reverse, unroll)
    k_carry, k_ys, stacked = split(known, s.n_known_carry, s.y_uk.count(False))
    unknown = []
    if any(s.carry_uk) or any(s.y_uk):
        ops = (inv_res + _pick(c, const_uk, True) + _pick(init, s.carry_uk, True) + stacked +
               _pick(xs, xs_uk, True))
        unknown = trace.stage(scan_p, ops, dict(
            jaxpr=s.unknown_body, num_consts=s.n_inv + s.n_uc, num_carry=s.carry_uk.count(True),
            length=length, reverse=reverse, unroll=unroll))
    known_it, unknown_it = iter(k_carry + k_ys), iter(unknown)
    return [next(unknown_it) if u else next(known_it) for u in s.carry_uk + s.y_uk]


# ----------------------------------------------------------------------------- transpose
def _transpose_body(jaxpr, nc, ncar, c_lin, x_lin, y_nz):
    """Trace (residual consts, const-cotangent sums, carry cotangents, residual x,
    y cotangents) -> (updated sums, carry cotangents, x cotangents)."""
    cv, carv, xv = split(jaxpr.invars, nc, ncar)
    res_c = [v for v, lin in zip(cv, c_lin) if not lin]
    lin_c = [v for v, lin in zip(cv, c_lin) if lin]
    res_x = [v for v, lin in zip(xv, x_lin) if not lin]
    lin_x = [v for v, lin in zip(xv, x_lin) if lin]
    linear = Jaxpr(res_c + res_x, lin_c + carv + lin_x, jaxpr.outvars, jaxpr.eqns)
    y_avals = [v.aval for v in jaxpr.outvars[ncar:]]
    layout = [[v.aval for v in vs] for vs in (res_c, lin_c, carv, res_x)]
    layout.append([tangent_aval(a) for a, n in zip(y_avals, y_nz) if n])

    def body(*args):
        rc, acc, ct_carry, rx, ct_y = split(args, *[len(part) for part in layout[:-1]])
        cts = backward_pass(linear, rc + rx, ct_carry + zero_tangents(y_avals, y_nz, ct_y))
        ct_c, ct_carry, ct_x = split(cts, len(lin_c), ncar)
        return ([instantiate(add_tangents(a, t)) for a, t in zip(acc, ct_c)] +
                [instantiate(t) for t in ct_carry + ct_x])

    return trace_jaxpr(body, [a for part in layout for a in part], "scan.transpose")


def _hoisted_transpose_body(jaxpr, nc, ncar, c_lin, x_lin, y_nz):
    """The transposed body with its const-cotangent sums of products hoisted (``hoist``)."""
    body, bconsts = _transpose_body(jaxpr, nc, ncar, c_lin, x_lin, y_nz)
    first_carry = len(bconsts) + c_lin.count(False)
    n_acc = c_lin.count(True)
    body, plans = hoist_sums(body, first_carry, n_acc, first_carry + n_acc + ncar)
    return body, bconsts, plans


def _scan_transpose(cts, *args, jaxpr, num_consts, num_carry, length, reverse, unroll):
    consts, init, xs = split(args, num_consts, num_carry)
    c_lin = [is_undefined(a) for a in consts]
    x_lin = [is_undefined(a) for a in xs]
    ct_carry, ct_ys = split(cts, num_carry)
    y_nz = [type(t) is not Zero for t in ct_ys]
    body, bconsts, plans = memo(
        "scan.transpose", jaxpr, (tuple(c_lin), tuple(x_lin), tuple(y_nz)),
        lambda: _hoisted_transpose_body(jaxpr, num_consts, num_carry, c_lin, x_lin, y_nz))
    lin_consts = [a for a in consts if is_undefined(a)]
    acc = [zeros(a.aval) for a, plan in zip(lin_consts, plans) if plan is None]
    xs_ops = [x for x in xs if not is_undefined(x)] + [t for t in ct_ys if type(t) is not Zero]
    outs = _bind(bconsts + [a for a in consts if not is_undefined(a)],
                 acc + [instantiate(t) for t in ct_carry], xs_ops, body, length, not reverse,
                 unroll)
    ct_kept, ct_init, ct_x, stacked = split(outs, len(acc), num_carry, x_lin.count(True))
    ct_kept = iter(ct_kept)
    ct_c = iter([next(ct_kept) if plan is None else total(plan, xs_ops, stacked)
                 for plan in plans])
    ct_x = iter(ct_x)
    return ([next(ct_c) if lin else None for lin in c_lin] +
            [t if is_undefined(a) else None for a, t in zip(init, ct_init)] +
            [next(ct_x) if lin else None for lin in x_lin])


scan_p.impl = _scan_impl
scan_p.abstract_eval = _scan_abstract_eval
scan_p.jvp = _scan_jvp
scan_p.batch = _scan_batch
scan_p.partial_eval = _scan_partial_eval
scan_p.transpose = _scan_transpose


# ----------------------------------------------------------------------------- user API
def _scan_length(x_leaves, xs, length):
    paths = [f"xs{tree.keystr(p)}" for p, _ in tree.leaves_with_path(xs)]
    for p, x in zip(paths, x_leaves):
        if x.ndim == 0:
            raise ShapeError(f"scan: every leaf of xs needs a leading axis to scan over, but "
                             f"{p} is a scalar")
    lengths = {x.shape[0] for x in x_leaves}
    if len(lengths) > 1:
        detail = ", ".join(f"{p}: {x.aval.str_short()}" for p, x in zip(paths, x_leaves))
        raise ShapeError(f"scan: all leaves of xs must have the same leading length, got "
                         f"{detail}")
    if length is not None:
        length = int(length)
        if lengths and lengths != {length}:
            raise ShapeError(f"scan: length={length} but xs has leading length "
                             f"{lengths.pop()}")
        return length
    if not lengths:
        raise ValueError("scan: pass length= when xs is None (there is nothing to scan over)")
    return lengths.pop()


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Loop ``carry, y = f(carry, x)`` over the leading axis of ``xs``; returns
    ``(final carry, stacked ys)``.  ``init``, ``xs`` and the outputs may be pytrees.

    Without ``xs``, pass ``length``.  ``unroll`` is recorded for compiled backends (steps
    per loop iteration); the reference interpreter runs one step at a time.
    """
    init_leaves, init_tree = tree.flatten(init)
    init_leaves = [asarray(x) for x in init_leaves]
    x_leaves, x_tree = tree.flatten(xs)
    x_leaves = [asarray(x) for x in x_leaves]
    length = _scan_length(x_leaves, xs, length)
    x_avals = [ShapedArray(x.shape[1:], x.dtype, x.weak_type) for x in x_leaves]
    n = len(init_leaves)
    store = {}

    def body(*leaves):
        out = f(tree.unflatten(init_tree, leaves[:n]), tree.unflatten(x_tree, leaves[n:]))
        if not (isinstance(out, (tuple, list)) and len(out) == 2):
            raise TypeError("scan: f must return a pair (new_carry, y), got "
                            f"{type(out).__name__}")
        c_leaves, store["carry"] = tree.flatten(out[0])
        y_leaves, store["y"] = tree.flatten(out[1])
        store["n"] = len(c_leaves)
        return as_values(c_leaves) + as_values(y_leaves)

    while True:
        carry_avals = [x.aval.strip_weak() for x in init_leaves]
        jaxpr, consts = trace_jaxpr(body, carry_avals + x_avals, "scan")
        out_avals = [v.aval for v in jaxpr.outvars[:store["n"]]]
        promoted = promote_weak_carry(init_leaves, out_avals) \
            if store["carry"] == init_tree else None
        if promoted is None:
            break
        init_leaves = promoted
    check_carry("scan: f", init_tree, carry_avals, store["carry"], out_avals,
                "Return the new carry with the same structure, shapes and dtypes as init "
                "(cast with .astype(...), or give init the dtype the loop produces).")
    unroll = max(length, 1) if unroll is True else max(int(unroll), 1)
    outs = _bind(consts, init_leaves, x_leaves, jaxpr, length, bool(reverse), unroll)
    return tree.unflatten(init_tree, outs[:n]), tree.unflatten(store["y"], outs[n:])


def map(f, xs, batch_size=None):
    """``f`` applied to each slice of ``xs`` along axis 0, stacked (a scan without carry).

    With ``batch_size``, ``f`` is vmapped over chunks of that many slices inside the scan
    (and over the remainder), trading memory for speed.
    """
    if batch_size is None:
        return scan(lambda _, x: ((), f(x)), (), xs)[1]
    from ..transforms.vmap import vmap
    x_leaves, x_tree = tree.flatten(xs)
    x_leaves = [asarray(x) for x in x_leaves]
    n = _scan_length(x_leaves, xs, None)
    steps, rest = divmod(n, int(batch_size))
    parts = []
    if steps:
        chunks = [reshape(slice_in_dim(x, 0, steps * batch_size), (steps, batch_size) + x.shape[1:])
                  for x in x_leaves]
        ys = scan(lambda _, x: ((), vmap(f)(x)), (), tree.unflatten(x_tree, chunks))[1]
        parts.append(tree.map(lambda y: reshape(y, (steps * batch_size,) + y.shape[2:]), ys))
    if rest:
        tail = [slice_in_dim(x, steps * batch_size, n) for x in x_leaves]
        parts.append(vmap(f)(tree.unflatten(x_tree, tail)))
    if len(parts) == 1:
        return parts[0]
    return tree.map(lambda a, b: concatenate([a, b], 0), *parts)
