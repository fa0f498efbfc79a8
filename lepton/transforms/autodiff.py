"""User-facing differentiation: jvp, linearize, vjp, grad, value_and_grad, jacfwd, jacrev, hessian.

Reverse mode = JVP + partial evaluation + transpose: ``linearize`` runs the JVP
with tangents that are tracers of a partial-evaluation ``StagingTrace``, so the
primal computation happens now and the tangent computation is recorded as a
linear jaxpr; ``vjp`` transposes that jaxpr.  Eagerly (no transform active, concrete
inputs) ``vjp`` records a tape instead (``tape.py``): same rules, staged once per
primitive signature rather than on every call.
"""
from __future__ import annotations

import functools
import operator

import numpy as np

from .. import dtypes, tree
from ..core import Array, ArrayBase, concrete, current_trace, get_aval, new_array, set_trace
from ..errors import DTypeError, ShapeError
from ..primitives.base import Zero, instantiate, tangent_aval
from ..primitives.structural import full, zeros
from . import tape
from .jvp import JVPTrace, JVPTracer
from .staging import StagingTrace
from .transpose import backward_pass


def _as_values(xs, what):
    out = []
    for x in xs:
        if isinstance(x, ArrayBase):
            out.append(x)
        else:
            try:
                out.append(concrete(x))
            except TypeError:
                raise TypeError(f"{what} must be arrays or scalars, got {type(x).__name__}: "
                                f"{x!r}") from None
    return out


def _unwrap_aux(store, trace):
    """Auxiliary outputs are not differentiated: hand back their primal values."""
    if "aux" in store:
        store["aux"] = tree.map(lambda x: trace.unpack(x)[0] if isinstance(x, ArrayBase) else x,
                                store["aux"])


def _flat_fun(f, in_tree, out_store, has_aux=False):
    """Wrap a pytree function as a function of flat leaves returning flat leaves."""

    def flat(*leaves):
        out = f(*tree.unflatten(in_tree, leaves))
        if has_aux:
            if not (isinstance(out, (tuple, list)) and len(out) == 2):
                raise TypeError("has_aux=True requires the function to return a pair "
                                "(output, auxiliary data)")
            out, aux = out
            out_store["aux"] = aux
        out_leaves, out_tree = tree.flatten(out)
        out_store["tree"] = out_tree
        return _as_values(out_leaves, "function outputs")

    return flat


# ----------------------------------------------------------------------------- forward mode
def jvp_flat(fun, primals, tangents, store=None):
    trace = JVPTrace(current_trace())
    ins = [p if type(t) is Zero else JVPTracer(trace, p, t) for p, t in zip(primals, tangents)]
    try:
        with set_trace(trace):
            outs = fun(*ins)
    finally:
        trace.alive = False
    if store is not None:
        _unwrap_aux(store, trace)
    pairs = [trace.unpack(o) for o in outs]
    return [p for p, _ in pairs], [t for _, t in pairs]


def jvp(fun, primals, tangents, has_aux=False):
    """``(fun(*primals), d fun(primals)[tangents])`` in one forward pass."""
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError("jvp: primals and tangents must be tuples (one entry per argument), "
                        f"got {type(primals).__name__} and {type(tangents).__name__}")
    flat_p, in_tree = tree.flatten(tuple(primals))
    flat_t, t_tree = tree.flatten(tuple(tangents))
    if in_tree != t_tree:
        raise ShapeError(f"jvp: primals and tangents have different structures: {in_tree} "
                         f"vs {t_tree}")
    flat_p = _as_values(flat_p, "jvp primals")
    ts = []
    for i, (p, t) in enumerate(zip(flat_p, flat_t)):
        ta = tangent_aval(p.aval)
        if ta.dtype == dtypes.float0:
            ts.append(Zero(ta))
            continue
        t = concrete(t) if not isinstance(t, ArrayBase) else t
        if t.aval.shape != p.aval.shape or t.aval.dtype != p.aval.dtype:
            raise ShapeError(f"jvp: tangent {i} has type {t.aval.str_short()} but its primal "
                             f"has {p.aval.str_short()}; tangents must match primals' shapes "
                             "and dtypes")
        ts.append(t)
    store = {}
    outs, out_ts = jvp_flat(_flat_fun(fun, in_tree, store, has_aux), flat_p, ts, store)
    out_ts = [instantiate(t) for t in out_ts]
    out_tree = store["tree"]
    res = (tree.unflatten(out_tree, outs), tree.unflatten(out_tree, out_ts))
    return res + (store["aux"],) if has_aux else res


# ----------------------------------------------------------------------------- reverse mode
def linearize_flat(fun, primals, store=None):
    """Run ``fun`` forward; return (outputs, linear ClosedJaxpr, zero-output mask, tangent mask)."""
    staging = StagingTrace(current_trace(), stage_all=False, name="linearize")
    trace = JVPTrace(staging)
    ins, diff_mask = [], []
    for p in primals:
        ta = tangent_aval(p.aval)
        diff = ta.dtype != dtypes.float0
        diff_mask.append(diff)
        ins.append(JVPTracer(trace, p, staging.new_arg(ta)) if diff else p)
    try:
        with set_trace(trace):
            outs = fun(*ins)
    finally:
        trace.alive = False
    if store is not None:
        _unwrap_aux(store, trace)
    pairs = [trace.unpack(o) for o in outs]
    out_primals = [p for p, _ in pairs]
    nonzero = [type(t) is not Zero for _, t in pairs]
    lin = staging.to_jaxpr([t for _, t in pairs if type(t) is not Zero])
    staging.alive = False
    return out_primals, lin, nonzero, diff_mask


def vjp_flat(fun, primals, store=None):
    if tape.usable(primals):  # eager: record a tape instead of linearizing
        return tape.vjp_flat(fun, primals, store)
    out_primals, lin, nonzero, diff_mask = linearize_flat(fun, primals, store)
    in_avals = [tangent_aval(p.aval) for p in primals]

    def pullback(cts):
        cts = [c for c, nz in zip(cts, nonzero) if nz]
        cts_in = backward_pass(lin.jaxpr, lin.consts, cts) if cts else \
            [Zero(v.aval) for v in lin.jaxpr.invars]
        it = iter(cts_in)
        return [next(it) if d else Zero(a) for d, a in zip(diff_mask, in_avals)]

    return out_primals, pullback


def vjp(fun, *primals, has_aux=False):
    """``(fun(*primals), vjp_fn)``; ``vjp_fn(ct)`` returns one cotangent per primal."""
    flat_p, in_tree = tree.flatten(primals)
    flat_p = _as_values(flat_p, "vjp primals")
    store = {}
    outs, pullback = vjp_flat(_flat_fun(fun, in_tree, store, has_aux), flat_p, store)
    out_tree = store["tree"]
    out_avals = [o.aval for o in outs]

    def vjp_fn(ct):
        flat_ct, ct_tree = tree.flatten(ct)
        if ct_tree != out_tree:
            raise ShapeError(f"vjp: cotangent structure {ct_tree} does not match the "
                             f"output structure {out_tree}")
        flat_ct = _as_values(flat_ct, "cotangents")
        for i, (c, a) in enumerate(zip(flat_ct, out_avals)):
            if c.aval.shape != a.shape:
                raise ShapeError(f"vjp: cotangent {i} has shape {c.aval.shape} but the output "
                                 f"has shape {a.shape}")
        cts = [instantiate(c) for c in pullback(flat_ct)]
        return tree.unflatten(in_tree, cts)

    out = tree.unflatten(out_tree, outs)
    return (out, vjp_fn, store["aux"]) if has_aux else (out, vjp_fn)


def linearize(fun, *primals):
    """``(fun(*primals), f_jvp)`` where ``f_jvp(*tangents)`` evaluates the stored linear map."""
    from ..ir import eval_jaxpr
    flat_p, in_tree = tree.flatten(primals)
    flat_p = _as_values(flat_p, "linearize primals")
    store = {}
    outs, lin, nonzero, diff_mask = linearize_flat(_flat_fun(fun, in_tree, store), flat_p)
    out_tree = store["tree"]

    def f_jvp(*tangents):
        flat_t, t_tree = tree.flatten(tangents)
        if t_tree != in_tree:
            raise ShapeError(f"linearize: tangent structure {t_tree} does not match the "
                             f"primal structure {in_tree}")
        ts = [concrete(t) if not isinstance(t, ArrayBase) else t
              for t, d in zip(flat_t, diff_mask) if d]
        res = iter(eval_jaxpr(lin.jaxpr, lin.consts, *ts))
        out_ts = [next(res) if nz else zeros(tangent_aval(o.aval)) for o, nz in zip(outs, nonzero)]
        return tree.unflatten(out_tree, out_ts)

    return tree.unflatten(out_tree, outs), f_jvp


def _argnums_tuple(argnums, nargs, fname):
    """Non-negative argnums, checked: ints in range and no argument named twice (JAX gives
    a meaningless result for ``argnums=(0, 0)``; we raise instead)."""
    try:
        nums = (operator.index(argnums),) if not isinstance(argnums, (tuple, list)) else \
            tuple(operator.index(n) for n in argnums)
    except TypeError:
        raise TypeError(f"{fname}: argnums must be an int or a tuple of ints, got "
                        f"{argnums!r}") from None
    for n in nums:
        if not -nargs <= n < nargs:
            raise TypeError(f"{fname}: argnums={argnums} but the function was called with "
                            f"{nargs} positional argument(s)")
    out = tuple(n % nargs for n in nums)
    if len(set(out)) != len(out):
        dup = sorted({n for n in out if out.count(n) > 1})
        raise ValueError(
            f"{fname}: argnums={argnums} names positional argument(s) {dup} more than once "
            f"(with {nargs} argument(s), negative argnums count from the end). Each argument "
            "is differentiated once: list it once and reuse that result.")
    return out


def _split_args(args, argnums):
    dyn = tuple(args[i] for i in argnums)

    def rebuild(dyn_vals):
        a = list(args)
        for i, v in zip(argnums, dyn_vals):
            a[i] = v
        return a

    return dyn, rebuild


def _dyn_fun(fname, fun, argnums, args, kwargs, allow_int=False):
    """``fun`` as a function of the differentiated arguments only, and those arguments."""
    nums = _argnums_tuple(argnums, len(args), fname)
    dyn, rebuild = _split_args(args, nums)
    if not allow_int:
        _check_differentiable(fname, dyn, nums)

    def f_dyn(*dyn_vals):
        return fun(*rebuild(dyn_vals), **kwargs)

    return f_dyn, dyn


def _check_differentiable(fname, dyn, argnums):
    for i, arg in zip(argnums, dyn):
        if all(type(x) is Array and x._value.dtype.kind in "fc" for x in tree.leaves(arg)):
            continue  # the common case, without building paths
        for path, leaf in tree.leaves_with_path(arg):
            dt = leaf.dtype if hasattr(leaf, "dtype") else dtypes.python_scalar_dtype(leaf) \
                if isinstance(leaf, (bool, int, float, complex)) else None
            if dt is not None and not dtypes.is_inexact(dt):
                where = f"argument {i}{tree.keystr(path)}"
                raise DTypeError(
                    f"{fname} requires floating-point inputs, but {where} has dtype {dt}. "
                    f"Pass floats (e.g. x.astype(float) or 1.0 instead of 1), or leave this "
                    "argument out of argnums (or pass allow_int=True).")


def value_and_grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """Function returning ``(fun(*args), grad of fun w.r.t. args[argnums])``.

    ``allow_int=True`` (as JAX) accepts integer/bool arguments: their gradients are
    ``float0`` zeros."""

    @functools.wraps(fun)
    def value_and_grad_f(*args, **kwargs):
        f_dyn, dyn = _dyn_fun("grad", fun, argnums, args, kwargs, allow_int)
        flat_p, in_tree = tree.flatten(dyn)
        flat_p = _as_values(flat_p, "vjp primals")
        has_int = allow_int and any(not dtypes.is_inexact(get_aval(x).dtype) for x in flat_p)
        if not has_int and tape.usable(flat_p):  # eager: the tape directly, without vjp's general wrapper
            store = {}
            outs, pull = tape.vjp_flat(_flat_fun(f_dyn, in_tree, store, has_aux), flat_p, store)
            ans = tree.unflatten(store["tree"], outs)

            def pullback(ct):
                return tree.unflatten(in_tree, [instantiate(c) for c in pull([ct])])

            if type(ans) is Array and ans.aval.shape == () and ans.dtype.kind == "f":
                g = pullback(new_array(np.ones((), ans.dtype)))
                g = g[0] if isinstance(argnums, int) else tuple(g)
                return ((ans, store["aux"]), g) if has_aux else (ans, g)
            res = (ans, pullback, store.get("aux"))  # checked (and maybe refused) below
        else:
            res = vjp(f_dyn, *dyn, has_aux=has_aux)
        ans, pullback = res[0], res[1]
        if not isinstance(ans, ArrayBase):
            try:
                ans = concrete(ans)
            except TypeError:
                raise TypeError("grad requires the function to return a scalar array, got "
                                f"{type(ans).__name__}") from None
        if ans.aval.shape != () or not dtypes.is_inexact(ans.aval.dtype):
            raise ShapeError(
                f"grad requires a real scalar output, but the function returned "
                f"{ans.aval.str_short()}. Reduce it (e.g. .sum() or .mean()), or use "
                "lepton.jacrev / lepton.vjp for non-scalar outputs.")
        if dtypes.is_complex(ans.aval.dtype) and not holomorphic:
            raise DTypeError("grad of a complex-valued output requires holomorphic=True; "
                             "for a real loss take lnp.abs(...)**2 or .real")
        g = pullback(new_array(np.ones((), ans.dtype)) if type(ans) is Array else
                     full((), 1, ans.aval.dtype))
        g = g[0] if isinstance(argnums, int) else tuple(g)
        return ((ans, res[2]), g) if has_aux else (ans, g)

    return value_and_grad_f


def grad(fun, argnums=0, has_aux=False, holomorphic=False, allow_int=False):
    """Gradient of a scalar function w.r.t. ``args[argnums]`` (int or tuple), pytrees allowed.
    ``allow_int=True`` gives integer arguments ``float0`` zero gradients (as JAX)."""
    vg = value_and_grad(fun, argnums, has_aux, holomorphic, allow_int)

    @functools.wraps(fun)
    def grad_f(*args, **kwargs):
        (ans, g) = vg(*args, **kwargs)
        return (g, ans[1]) if has_aux else g

    return grad_f


# ----------------------------------------------------------------------------- Jacobians
def _std_basis(flat_avals):
    """Identity matrix rows split per input leaf: shapes (N,) + leaf.shape."""
    import lepton.numpy as lnp
    sizes = [a.size for a in flat_avals]
    n = int(sum(sizes))
    dt = dtypes.promote(*((a.dtype, False) for a in flat_avals))[0] if flat_avals else \
        dtypes.float32
    eye = lnp.eye(n, dtype=dt)
    out, start = [], 0
    for a, s in zip(flat_avals, sizes):
        blk = eye[:, start:start + s].astype(a.dtype)
        out.append(blk.reshape((n,) + a.shape))
        start += s
    return out, n


def _chunked_vmap(f, basis, n, chunk_size, out_axis, fname):
    """``vmap(f, out_axes=out_axis)(*basis)`` over the ``n`` basis vectors, ``chunk_size`` of
    them at a time (bounds peak memory; the result is the same)."""
    from .vmap import vmap
    if chunk_size is None or n == 0:
        return vmap(f, out_axes=out_axis)(*basis)
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
        raise ValueError(f"{fname}: chunk_size must be a positive int or None, got "
                         f"{chunk_size!r}")
    from ..primitives.slicing import slice_in_dim
    from ..primitives.structural import concatenate
    parts = [vmap(f, out_axes=out_axis)(*(slice_in_dim(b, i, min(i + chunk_size, n), 1, 0)
                                          for b in basis))
             for i in range(0, n, chunk_size)]
    if len(parts) == 1:
        return parts[0]
    return tree.map(lambda *xs: concatenate(xs, out_axis % xs[0].ndim), *parts)


def jacfwd(fun, argnums=0, has_aux=False, *, chunk_size=None):
    """Jacobian by forward mode (vmap of jvp over the input basis); ``chunk_size`` pushes
    that many basis vectors at a time (less memory, same result)."""

    def jac_f(*args, **kwargs):
        f_dyn, dyn = _dyn_fun("jacfwd", fun, argnums, args, kwargs)
        flat_dyn, dyn_tree = tree.flatten(dyn)
        flat_dyn = _as_values(flat_dyn, "jacfwd inputs")
        basis, n = _std_basis([x.aval for x in flat_dyn])

        def f_flat(*leaves):
            return f_dyn(*tree.unflatten(dyn_tree, leaves))

        def push(*ts):
            res = jvp(f_flat, tuple(flat_dyn), ts, has_aux=has_aux)
            return (res[1], res[2]) if has_aux else res[1]

        res = _chunked_vmap(push, basis, n, chunk_size, -1, "jacfwd")
        jac, aux = res if has_aux else (res, None)
        # Split the trailing N axis back into the input leaves' shapes.
        in_avals = [x.aval for x in flat_dyn]

        def split(j):
            parts, start = [], 0
            for a in in_avals:
                blk = j[..., start:start + a.size]
                parts.append(blk.reshape(j.shape[:-1] + a.shape))
                start += a.size
            per_leaf = tree.unflatten(dyn_tree, parts)
            return per_leaf[0] if isinstance(argnums, int) else tuple(per_leaf)

        jac = tree.map(split, jac)
        return (jac, aux) if has_aux else jac

    return jac_f


def jacrev(fun, argnums=0, has_aux=False, *, chunk_size=None):
    """Jacobian by reverse mode (vmap of vjp over the output basis); ``chunk_size`` pulls
    back that many basis vectors at a time (less memory, same result)."""

    def jac_f(*args, **kwargs):
        f_dyn, dyn = _dyn_fun("jacrev", fun, argnums, args, kwargs)
        res = vjp(f_dyn, *dyn, has_aux=has_aux)
        out, pullback = res[0], res[1]
        flat_out, out_tree = tree.flatten(out)
        flat_out = _as_values(flat_out, "outputs")
        basis, n = _std_basis([o.aval for o in flat_out])

        def pull(*cts):
            g = pullback(tree.unflatten(out_tree, list(cts)))
            return g[0] if isinstance(argnums, int) else tuple(g)

        jac_in_major = _chunked_vmap(pull, basis, n, chunk_size, 0, "jacrev")  # axis 0: outputs

        def split(j):
            parts, start = [], 0
            for o in flat_out:
                blk = j[start:start + o.aval.size]
                parts.append(blk.reshape(o.aval.shape + j.shape[1:]))
                start += o.aval.size
            return parts

        # jac[out_leaf][in_leaf]: tree of outputs over tree of inputs
        in_parts = tree.map(split, jac_in_major)
        in_leaves, in_tree = tree.flatten(in_parts, is_leaf=lambda x: isinstance(x, list))
        per_out = [tree.unflatten(in_tree, [lst[k] for lst in in_leaves])
                   for k in range(len(flat_out))]
        jac = tree.unflatten(out_tree, per_out)
        return (jac, res[2]) if has_aux else jac

    return jac_f


def hessian(fun, argnums=0, has_aux=False):
    """Second derivative as forward-over-reverse (jacfwd of jacrev)."""
    return jacfwd(jacrev(fun, argnums, has_aux=has_aux), argnums, has_aux=has_aux)


def hvp(fun, primals, tangents):
    """Hessian-vector product by forward-over-reverse: ``(grad(fun)(x), H @ v)``."""
    return jvp(grad(fun), primals, tangents)


__all__ = ["jvp", "linearize", "vjp", "grad", "value_and_grad", "jacfwd", "jacrev", "hessian",
           "hvp"]
