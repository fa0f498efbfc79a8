"""``lax.custom_linear_solve`` and ``lax.custom_root``: solvers differentiated implicitly.

As in JAX (jax/_src/lax/control_flow/solves.py) the solver itself is never differentiated:
for ``x = A^-1 b`` the derivative is another solve, ``dx = A^-1 (db - dA x)``, and for a
root ``f(x, theta) = 0`` it is ``dx = -(d_x f)^-1 d_theta f``.  So ``solve`` may be any
iteration (``while_loop``, Newton, CG).  ``matvec``, ``f`` and the solvers may close over
traced values: they are closure-converted (their captured arrays become explicit
operands), so gradients reach parameters that ``matvec`` or ``f`` capture.

Reverse mode through ``custom_linear_solve`` calls ``transpose_solve`` (``solve`` when
``symmetric``); forward mode calls ``solve``.  When ``transpose_solve`` is given, lepton's
forward mode is the transpose of the reverse rule, so it needs ``transpose_solve`` itself to
be differentiable (a direct solve is; a ``while_loop`` CG is not) - a deviation from JAX.
Without ``transpose_solve`` reverse mode differentiates through ``solve`` (JAX refuses).
"""
from __future__ import annotations

from . import dtypes, tree
from .control_flow.common import as_values, avals_of, split as _split, trace_fun
from .core import get_aval
from .errors import ShapeError
from .ir import eval_jaxpr
from .primitives import elementwise as ew
from .primitives.base import Zero, tangent_aval
from .transforms.autodiff import jvp_flat, vjp
from .transforms.custom import custom_jvp, custom_vjp, stop_gradient

__all__ = ["custom_linear_solve", "custom_root"]


def _convert(fun, in_tree, avals, name):
    """Closure-convert ``fun`` (a function of one pytree): ``(call(consts, leaves) -> out
    leaves, consts, out_tree)``."""
    jaxpr, consts, out_tree = trace_fun(fun, in_tree, avals, name)
    return (lambda cs, leaves: eval_jaxpr(jaxpr, [], *cs, *leaves)), list(consts), out_tree


def _check_like(name, what, out_tree, out_avals, in_tree, in_avals):
    if out_tree != in_tree or [(a.shape, a.dtype) for a in out_avals] != \
            [(a.shape, a.dtype) for a in in_avals]:
        raise ShapeError(f"lax.{name}: {what} must return a value with the structure, shapes "
                         f"and dtypes of its input {in_tree} "
                         f"{[a.str_short() for a in in_avals]}, got {out_tree} "
                         f"{[a.str_short() for a in out_avals]}")


def _tangents_or_zero(primals, tangents):
    """Symbolic zeros for integer (float0) tangents, so jvp_flat skips them."""
    return [Zero(tangent_aval(get_aval(p))) if not dtypes.is_inexact(get_aval(p).dtype)
            else t for p, t in zip(primals, tangents)]


def _solver(name, solver, mv_call, has_aux, b_tree, avals):
    """Closure-convert ``solver(matvec, b)``; returns (call(consts, mv_consts, b) ->
    (x leaves, aux), consts)."""
    store = {}

    def traced(b_leaves_and_mv_consts):
        b_leaves, mv_consts = b_leaves_and_mv_consts
        out = solver(lambda v: tree.unflatten(b_tree, mv_call(mv_consts, tree.leaves(v))),
                     tree.unflatten(b_tree, b_leaves))
        x, aux = out if has_aux else (out, None)
        x_leaves, x_tree = tree.flatten(x)
        x_leaves = as_values(x_leaves)
        _check_like(name, "solve", x_tree, avals_of(x_leaves), b_tree, avals)
        aux_leaves, store["aux_tree"] = tree.flatten(aux)
        store["n_x"] = len(x_leaves)
        return x_leaves + as_values(aux_leaves)

    return traced, store


def custom_linear_solve(matvec, b, solve, transpose_solve=None, symmetric=False,
                        has_aux=False):
    """``x = solve(matvec, b)`` for the linear map ``matvec``, differentiated implicitly.

    ``solve(matvec, b)`` and ``transpose_solve(vecmat, b)`` return ``x`` (with
    ``has_aux``: ``(x, aux)``, and then this returns ``(x, aux)``; aux is not
    differentiated).  ``symmetric=True`` uses ``solve`` for the transpose.
    """
    if symmetric and transpose_solve is None:
        transpose_solve = solve
    b_leaves, b_tree = tree.flatten(b)
    b_leaves = as_values(b_leaves)
    avals = avals_of(b_leaves)
    mv_call, mv_consts, mv_tree = _convert(matvec, b_tree, avals, "custom_linear_solve matvec")
    _check_like("custom_linear_solve", "matvec", mv_tree,
                [v.aval for v in _abstract_call(mv_call, mv_consts, avals)], b_tree, avals)

    def solver_fn(which, fn):
        traced, store = _solver("custom_linear_solve", fn, mv_call, has_aux, b_tree, avals)
        leaves = [*avals, *avals_of(as_values(mv_consts))]
        n_b = len(avals)
        call, consts, _ = _convert(lambda flat: traced((flat[:n_b], flat[n_b:])),
                                   tree.structure(list(range(len(leaves)))), leaves,
                                   f"custom_linear_solve {which}")
        return call, consts, store

    s_call, s_consts, s_store = solver_fn("solve", solve)
    n_mv, n_s, n_b = len(mv_consts), len(s_consts), len(b_leaves)

    def run(call, consts, mvc, rhs):
        return call(consts, [*rhs, *mvc])

    def primal(*args):
        mvc, sc, bl = _split(args, n_mv, n_s)
        return run(s_call, sc, mvc, bl)

    if transpose_solve is None:
        fun = custom_jvp(primal)

        @fun.defjvp
        def _jvp(primals, tangents):
            mvc, sc, bl = _split(primals, n_mv, n_s)
            mvc_t, _, bl_t = _split(tangents, n_mv, n_s)
            out = fun(*primals)
            x = out[:s_store["n_x"]]
            _, dmv = jvp_flat(lambda *c: mv_call(c, x), mvc, _tangents_or_zero(mvc, mvc_t))
            rhs = [bt if type(d) is Zero else ew.sub(bt, d) for bt, d in zip(bl_t, dmv)]
            x_t = run(s_call, sc, mvc, rhs)[:s_store["n_x"]]
            aux_t = [ew.mul(a, ew.convert_element_type(0, a.dtype)) if
                     dtypes.is_inexact(a.dtype) else _float0_zeros(a)
                     for a in out[s_store["n_x"]:]]
            return out, list(x_t) + aux_t
    else:
        def vecmat_of(mvc):
            zeros = [_zeros(a) for a in avals]

            def vecmat(y):
                _, pull = vjp(lambda v: tree.unflatten(b_tree, mv_call(mvc, tree.leaves(v))),
                              tree.unflatten(b_tree, zeros))
                return pull(y)[0]
            return vecmat

        def t_traced(flat):
            rhs, mvc = flat[:n_b], flat[n_b:]
            out = transpose_solve(vecmat_of(mvc), tree.unflatten(b_tree, rhs))
            x, _ = out if has_aux else (out, None)
            x_leaves, x_tree = tree.flatten(x)
            x_leaves = as_values(x_leaves)
            _check_like("custom_linear_solve", "transpose_solve", x_tree, avals_of(x_leaves),
                        b_tree, avals)
            return x_leaves

        t_leaves = [*avals, *avals_of(as_values(mv_consts))]
        t_call, t_consts, _ = _convert(t_traced, tree.structure(list(range(len(t_leaves)))),
                                       t_leaves, "custom_linear_solve transpose_solve")
        n_t = len(t_consts)

        def primal_t(*args):
            return primal(*args[:n_mv + n_s], *args[n_mv + n_s + n_t:])

        fun = custom_vjp(primal_t)

        def fwd(*args):
            out = fun(*args)
            return out, (args, out[:s_store["n_x"]])

        def bwd(res, ct):
            args, x = res
            mvc, _, tc, _ = _split(args, n_mv, n_s, n_t)
            ct_x = [c if c is not None else _zeros(xi.aval)
                    for c, xi in zip(list(ct)[:s_store["n_x"]], x)]
            b_bar = t_call(tc, [*ct_x, *mvc])
            diff = [i for i, c in enumerate(mvc) if dtypes.is_inexact(get_aval(c).dtype)]
            mv_bar = [None] * n_mv
            if diff:
                def at(*cd):
                    cs = list(mvc)
                    for i, c in zip(diff, cd):
                        cs[i] = c
                    return mv_call(cs, x)
                _, pull = vjp(at, *[mvc[i] for i in diff])
                for i, g in zip(diff, pull([ew.neg(v) for v in b_bar])):
                    mv_bar[i] = g
            cts = mv_bar + [None] * (n_s + n_t) + list(b_bar)
            return tuple(_float0_zeros(a) if c is None else c for a, c in zip(args, cts))

        fun.defvjp(fwd, bwd)

    extra = [] if transpose_solve is None else t_consts
    out = fun(*mv_consts, *s_consts, *extra, *b_leaves)
    x = tree.unflatten(b_tree, list(out[:s_store["n_x"]]))
    if has_aux:
        return x, tree.unflatten(s_store["aux_tree"],
                                 [stop_gradient(a) for a in out[s_store["n_x"]:]])
    return x


def _zeros(aval):
    from .primitives.structural import zeros
    return zeros(aval)


def _float0_zeros(a):
    from .primitives.structural import zeros
    return zeros(tangent_aval(get_aval(a)))


def _abstract_call(call, consts, avals):
    from .control_flow.common import trace_jaxpr
    jaxpr, _ = trace_jaxpr(lambda *xs: call(consts, list(xs)), avals, "shape check")
    return jaxpr.outvars


def custom_root(f, initial_guess, solve, tangent_solve, has_aux=False):
    """A root of ``f`` found by ``solve(f, initial_guess)``, differentiated implicitly.

    ``tangent_solve(g, y)`` solves the linear system ``g(x) = y`` for ``g`` the
    linearisation of ``f`` at the root (e.g. ``lambda g, y: y / g(1.0)`` for scalars).
    With ``has_aux``, ``solve`` returns ``(root, aux)`` and so does this (aux is not
    differentiated).
    """
    g_leaves, g_tree = tree.flatten(initial_guess)
    g_leaves = as_values(g_leaves)
    avals = avals_of(g_leaves)
    f_call, f_consts, f_tree = _convert(f, g_tree, avals, "custom_root f")
    _check_like("custom_root", "f", f_tree, [v.aval for v in _abstract_call(
        f_call, f_consts, avals)], g_tree, avals)
    traced, store = _solver("custom_root", solve, f_call, has_aux, g_tree, avals)
    n_g = len(avals)
    leaves = [*avals, *avals_of(as_values(f_consts))]
    s_call, s_consts, _ = _convert(lambda flat: traced((flat[:n_g], flat[n_g:])),
                                   tree.structure(list(range(len(leaves)))), leaves,
                                   "custom_root solve")
    n_f, n_s = len(f_consts), len(s_consts)

    def primal(*args):
        fc, sc, guess = _split(args, n_f, n_s)
        return s_call(sc, [*guess, *fc])

    fun = custom_jvp(primal)

    @fun.defjvp
    def _jvp(primals, tangents):
        fc, _, _ = _split(primals, n_f, n_s)
        fc_t, _, _ = _split(tangents, n_f, n_s)
        out = fun(*primals)
        n_x = store["n_x"]
        x = out[:n_x]
        _, rhs = jvp_flat(lambda *c: f_call(c, x), fc, _tangents_or_zero(fc, fc_t))
        rhs = [_float0_like_zero(xi) if type(r) is Zero else r for r, xi in zip(rhs, x)]

        def g(v):
            _, t = jvp_flat(lambda *xs: f_call(fc, list(xs)), list(x), tree.leaves(v))
            return tree.unflatten(g_tree, [_float0_like_zero(xi) if type(ti) is Zero else ti
                                           for ti, xi in zip(t, x)])

        sol = tree.leaves(tangent_solve(g, tree.unflatten(g_tree, rhs)))
        x_t = [ew.neg(s) for s in sol]
        aux_t = [ew.mul(a, ew.convert_element_type(0, a.dtype)) if
                 dtypes.is_inexact(a.dtype) else _float0_zeros(a) for a in out[n_x:]]
        return out, x_t + aux_t

    out = fun(*f_consts, *s_consts, *g_leaves)
    x = tree.unflatten(g_tree, list(out[:store["n_x"]]))
    if has_aux:
        return x, tree.unflatten(store["aux_tree"], [stop_gradient(a) for a in out[store["n_x"]:]])
    return x


def _float0_like_zero(x):
    return ew.mul(x, ew.convert_element_type(0, x.dtype))
