"""``jit``: trace once per input signature, compile with a backend, reuse.

A jitted call binds the higher-order primitive ``jit`` whose parameter is the traced
jaxpr.  Under other transforms the primitive's own rules apply: ``jvp`` and ``batch``
trace a transformed jaxpr and bind ``jit`` again (so the transformed program is
compiled too), ``partial_eval`` splits it into a compiled known part and a staged
unknown part, and ``transpose`` compiles the backward pass.
"""
from __future__ import annotations

import contextlib
import functools
import inspect
import operator
import threading
import time
import warnings

import numpy as np

from .. import config, tree
from ..backends import default_backend, get_backend, kernel_compiles, running, tiered
from ..core import (Array, ArrayBase, Primitive, ShapedArray, Tracer, concrete, set_trace,
                    trace_context as _ctx, wrap_value)
from ..errors import user_stacklevel
from ..ir import ClosedJaxpr, Jaxpr, eval_jaxpr
from ..primitives.base import Zero, instantiate, is_undefined, tangent_aval
from .api import ShapeDtypeStruct, _abstractify, fun_name, trace_to_jaxpr
from .custom import inline_custom_calls
from .memo import LRU, memo
from .memo import clear as clear_memo
from .partial_eval import partial_eval_jaxpr

jit_p = Primitive("jit", multiple_results=True)


# ----------------------------------------------------------------------------- statistics
class CacheInfo:
    """Counters of the jit caches: traces, compiles, hits and the time spent."""

    def __init__(self):
        self.hits = self.misses = self.compiles = 0
        self.trace_seconds = self.compile_seconds = 0.0
        self.explanations: list[str] = []
        self._kernel_base = kernel_compiles()

    @property
    def numba_compiles(self) -> int:
        """Kernels the compiled backends compiled since these counters were (re)set."""
        return kernel_compiles() - self._kernel_base

    def __repr__(self):
        return (f"CacheInfo(hits={self.hits}, misses={self.misses}, compiles={self.compiles}, "
                f"trace_seconds={self.trace_seconds:.3f}, "
                f"compile_seconds={self.compile_seconds:.3f})")


_info = CacheInfo()
_state = threading.local()
_executables = LRU(4096)


def cache_info() -> CacheInfo:
    return _info


def clear_cache():
    _executables.clear()
    clear_memo()
    global _info
    _info = CacheInfo()


@contextlib.contextmanager
def disable_jit(disable: bool = True):
    """Run jitted functions eagerly (op by op) inside this block, e.g. to debug with prints."""
    prev = getattr(_state, "disabled", False)
    _state.disabled = disable
    try:
        yield
    finally:
        _state.disabled = prev


def executable(jaxpr: Jaxpr, backend: str, name=None):
    """``jaxpr`` compiled for ``backend``, cached per jaxpr object and counted in ``cache_info``
    (jit programs and the control-flow bodies compiled once per loop both come here)."""
    key = (id(jaxpr), backend)
    hit = _executables.get(key)
    if hit is not None and hit[0] is jaxpr:
        return hit[1]
    _info.compiles += 1
    lowered = _lowerable(jaxpr)
    if backend != "reference" and tiered.enabled():
        exe = tiered.Tiered(lowered, backend, _count_compile_seconds, name)
    else:
        t0 = time.perf_counter()
        # a compiled backend that fails runs the program on the reference, with a warning
        exe = get_backend(backend).compile(lowered) if backend == "reference" else \
            tiered.compile_now(lowered, backend, name)
        _count_compile_seconds(time.perf_counter() - t0)
    _executables[key] = (jaxpr, exe)
    return exe


def _lowerable(jaxpr: Jaxpr) -> Jaxpr:
    """What backends compile: custom-derivative calls inlined (their rules are for transforms)."""
    return inline_custom_calls(jaxpr)


def _count_compile_seconds(seconds):
    _info.compile_seconds += seconds


def wait_for_compilation(upgrades: bool = True):
    """Block until background compiles finish, so later calls run fully compiled code.
    ``upgrades=False`` returns as soon as every program runs compiled code: its quick
    (serial-kernel) program, while the parallel one may still compile behind it."""
    tiered.wait_for_compilation(upgrades)


#: ``with waiting():`` calls in the block wait for their compiles instead of running
#: reference steps meanwhile, so the compile may take every core (``tiered.waiting``).
waiting = tiered.waiting


# ----------------------------------------------------------------------------- the primitive
def _jit_impl(*args, jaxpr, backend, name):
    exe = executable(jaxpr, backend, name)
    if backend == "reference":
        return exe(*args)
    with running(backend):  # loops inside compile their bodies with this backend too
        return exe(*args)


def _jit_abstract_eval(*avals, jaxpr, backend, name):
    for i, (a, v) in enumerate(zip(avals, jaxpr.invars)):
        if a.shape != v.aval.shape or a.dtype != v.aval.dtype:
            raise TypeError(f"jit({name}): argument {i} has type {a.str_short()} but the "
                            f"compiled program expects {v.aval.str_short()}")
    return [v.aval for v in jaxpr.outvars]


def bind_closed(closed: ClosedJaxpr, args, backend, name):
    """Bind ``jit`` for a closed jaxpr: its consts travel as leading arguments."""
    return jit_p.bind(*closed.consts, *args, jaxpr=_flat_jaxpr(closed), backend=backend,
                      name=name)


def _flat_jaxpr(closed: ClosedJaxpr) -> Jaxpr:
    """The jaxpr with its constvars turned into leading invars (memoised per closed jaxpr)."""
    j = closed.jaxpr
    return memo("flatten", closed, (),
                lambda: Jaxpr([], j.constvars + j.invars, j.outvars, j.eqns))


def _avals(xs):
    return [x.aval for x in xs]


def _jit_jvp(primals, tangents, *, jaxpr, backend, name):
    nonzero = [type(t) is not Zero for t in tangents]
    n = len(primals)

    def jvp_fun(*args):
        from .autodiff import jvp_flat
        ps, ts = args[:n], iter(args[n:])
        tin = [next(ts) if nz else Zero(tangent_aval(p.aval)) for p, nz in zip(ps, nonzero)]
        outs, out_ts = jvp_flat(lambda *x: eval_jaxpr(jaxpr, [], *x), list(ps), tin)
        return outs + [instantiate(t) for t in out_ts]

    nz_tangents = [t for t in tangents if type(t) is not Zero]
    avals = _avals(primals) + _avals(nz_tangents)
    closed = memo("jvp", jaxpr, (tuple(nonzero), tuple(avals)),
                   lambda: trace_to_jaxpr(jvp_fun, avals, name="jit.jvp"))
    outs = bind_closed(closed, list(primals) + nz_tangents, backend, f"jvp({name})")
    k = len(jaxpr.outvars)
    return outs[:k], outs[k:]


def _jit_batch(axis_size, vals, dims, *, jaxpr, backend, name):
    from .vmap import vmap

    def batched(*args):
        return vmap(lambda *x: eval_jaxpr(jaxpr, [], *x), in_axes=tuple(dims),
                    axis_size=axis_size)(*args)

    avals = _avals(vals)
    closed = memo("batch", jaxpr, (tuple(dims), axis_size, tuple(avals)),
                   lambda: trace_to_jaxpr(batched, avals, name="jit.batch"))
    outs = bind_closed(closed, list(vals), backend, f"vmap({name})")
    return outs, [0] * len(outs)


def _jit_partial_eval(trace, args, params):
    jaxpr, backend, name = params["jaxpr"], params["backend"], params["name"]
    unknowns = [trace.owns(a) for a in args]
    known, unknown, out_unknowns, n_res = memo(
        "partial_eval", jaxpr, (tuple(unknowns), tuple(a.aval for a in args)),
        lambda: partial_eval_jaxpr(jaxpr, [], unknowns))
    known_args = [a for a, u in zip(args, unknowns) if not u]
    with set_trace(trace.parent):
        known_res = bind_closed(known, known_args, backend, f"known({name})")
    n_known_out = len(known_res) - n_res
    known_outs, residuals = known_res[:n_known_out], known_res[n_known_out:]
    unknown_args = [a for a, u in zip(args, unknowns) if u]
    unknown_outs = trace.stage(jit_p, residuals + unknown_args,
                               dict(jaxpr=unknown.jaxpr, backend=backend,
                                    name=f"unknown({name})"))
    known_it, unknown_it = iter(known_outs), iter(unknown_outs)
    return [next(unknown_it) if u else next(known_it) for u in out_unknowns]


def _jit_transpose(cts, *args, jaxpr, backend, name):
    from .transpose import backward_pass
    linear = [is_undefined(a) for a in args]
    known = [a for a, lin in zip(args, linear) if not lin]
    invars = jaxpr.invars
    body = Jaxpr([v for v, lin in zip(invars, linear) if not lin],
                 [v for v, lin in zip(invars, linear) if lin], jaxpr.outvars, jaxpr.eqns)
    cts = [instantiate(c) for c in cts]
    nk = len(known)

    def backward(*xs):
        return [instantiate(c) for c in backward_pass(body, xs[:nk], list(xs[nk:]))]

    avals = _avals(known) + _avals(cts)
    closed = memo("transpose", jaxpr, (tuple(linear), tuple(avals)),
                   lambda: trace_to_jaxpr(backward, avals, name="jit.transpose"))
    outs = iter(bind_closed(closed, known + cts, backend, f"transpose({name})"))
    return [next(outs) if lin else None for lin in linear]


jit_p.impl = _jit_impl
jit_p.abstract_eval = _jit_abstract_eval
jit_p.jvp = _jit_jvp
jit_p.batch = _jit_batch
jit_p.partial_eval = _jit_partial_eval
jit_p.transpose = _jit_transpose


# ----------------------------------------------------------------------------- user API
def _describe_change(old_key, new_key, arg_names):
    (o_tree, o_avals, o_static), (n_tree, n_avals, n_static) = old_key[1:4], new_key[1:4]
    if o_tree != n_tree:
        return f"the argument structure changed: {o_tree} -> {n_tree}"
    if o_static != n_static:
        return f"a static argument changed: {o_static!r} -> {n_static!r}"
    for i, (a, b) in enumerate(zip(o_avals, n_avals)):
        if a != b:
            what = " and ".join(w for w, changed in (("shape", a.shape != b.shape),
                                                    ("dtype", a.dtype != b.dtype),
                                                    ("weak type", a.weak_type != b.weak_type))
                                if changed)
            return f"{arg_names[i]} changed {what}: " \
                   f"{a.str_short()}{' weak' * a.weak_type} -> {b.str_short()}" \
                   f"{' weak' * b.weak_type}"
    if old_key[5] != new_key[5]:
        return f"64-bit mode changed: jax_enable_x64 {old_key[5]} -> {new_key[5]}"
    return "the backend changed"


def _run_ready(entry, vals):
    exe, backend, consts, out_avals, out_tree = entry
    if backend == "reference":
        outs = exe(*consts, *vals)
    else:
        with running(backend):
            outs = exe(*consts, *vals)
    return tree.unflatten(out_tree, [wrap_value(o, a) for o, a in zip(outs, out_avals)])


def _arg_name(path):
    """'argument 0['w']' or 'keyword scale' for a leaf path into (positional, keywords)."""
    head, rest = path[1], tree.keystr(path[2:])
    if path[0].idx == 0:
        return f"argument {head.idx}{rest}"
    return f"keyword argument {head.key!r}{rest}"


def _index_tuple(x, name):
    try:
        return (operator.index(x),) if not isinstance(x, (tuple, list)) else \
            tuple(operator.index(i) for i in x)
    except TypeError:
        raise TypeError(f"jit: {name} must be an int or a sequence of ints, got {x!r}") from None


def _name_tuple(x, name):
    names = (x,) if isinstance(x, str) else tuple(x)
    if not all(isinstance(k, str) for k in names):
        raise TypeError(f"jit: {name} must be a str or a sequence of str, got {x!r}")
    return names


_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


def _resolve_static(fun, argnums, argnames):
    """Check static argnums/argnames against ``fun``'s signature and complete each from the
    other (as JAX), so a static parameter stays static whether passed by position or name.

    Out-of-range argnums raise; unknown argnames warn, naming the parameters."""
    try:
        sig = inspect.signature(fun)
    except (TypeError, ValueError):  # some builtins have no signature: nothing to check
        return argnums, argnames
    params = list(sig.parameters.values())
    name = fun_name(fun)
    kinds = {p.kind for p in params}
    positional = [p.name for p in params if p.kind in _POSITIONAL]
    if argnums and inspect.Parameter.VAR_POSITIONAL not in kinds:
        n = len(positional)
        bad = [i for i in argnums if not -n <= i < n]
        if bad:
            raise ValueError(
                f"jit({name}): static_argnums={argnums} is out of range: {name} accepts "
                f"{n} positional argument(s) ({', '.join(positional) or 'none'}), so "
                f"static_argnums must be in [{-n}, {n - 1}].")
    keywordable = [p.name for p in params if p.kind in (
        inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    pos_only = [k for k in argnames if k in positional and k not in keywordable]
    if pos_only:
        raise ValueError(f"jit({name}): static_argnames {pos_only} are positional-only "
                         f"parameters of {name}; name them in static_argnums instead.")
    if inspect.Parameter.VAR_KEYWORD not in kinds:
        unknown = [k for k in argnames if k not in keywordable]
        if unknown:
            warnings.warn(
                f"jit({name}): static_argnames {unknown} do not name a parameter of {name}, "
                f"whose parameters are ({', '.join(p.name for p in params)}); they are "
                "ignored. Check the spelling.", UserWarning, stacklevel=user_stacklevel())
    pos_or_kw = [p.name for p in params if p.kind == inspect.Parameter.POSITIONAL_OR_KEYWORD]
    n = len(positional)
    nums = set(argnums) | {positional.index(k) for k in argnames if k in pos_or_kw}
    names = set(argnames) | {positional[i] for i in argnums
                             if -n <= i < n and positional[i] in pos_or_kw}
    return tuple(sorted(nums)), tuple(sorted(names))


class Jitted:
    """A jitted function: call it, inspect its IR (``make_jaxpr``) or its generated source."""

    def __init__(self, fun, static_argnums=(), static_argnames=(), donate_argnums=(),
                 backend=None):
        functools.update_wrapper(self, fun)
        self.fun = fun
        self._name = fun_name(fun)
        self.static_argnums, self.static_argnames = _resolve_static(
            fun, _index_tuple(static_argnums, "static_argnums"),
            _name_tuple(static_argnames, "static_argnames"))
        self.donate_argnums = _index_tuple(donate_argnums, "donate_argnums")
        self.backend = backend
        self._cache = LRU(256)
        self._fast: dict = {}  # eager calls: signature -> ready-to-run executable
        self._last_key = None

    def _split(self, args, kwargs):
        # As JAX: negative argnums count from the end of this call's positional arguments,
        # and static argnums beyond them (left to defaults or *args) are ignored.
        n = len(args)
        static_pos = {i + n if i < 0 else i for i in self.static_argnums}
        static_pos = {i for i in static_pos if 0 <= i < n}
        statics = [(i, args[i]) for i in sorted(static_pos)]
        static_kw = tuple(sorted((k, v) for k, v in kwargs.items() if k in self.static_argnames))
        dyn_kw = {k: v for k, v in kwargs.items() if k not in self.static_argnames}
        dyn = [a for i, a in enumerate(args) if i not in static_pos]
        try:
            static_key = (tuple(statics), static_kw)
            hash(static_key)
        except TypeError:
            raise TypeError(f"jit({self._name}): static arguments must be hashable, got "
                            f"{[v for _, v in statics] + [v for _, v in static_kw]}. "
                            "Pass arrays as regular (traced) arguments instead.") from None
        return dyn, dyn_kw, static_pos, static_key

    def _trace(self, args, kwargs):
        dyn, dyn_kw, static_pos, static_key = self._split(args, kwargs)
        leaves, in_tree = tree.flatten((dyn, dyn_kw))
        leaves = [x if isinstance(x, ArrayBase) else concrete(x) for x in leaves]
        avals = [_abstractify(x) for x in leaves]
        backend = self.backend or default_backend()
        key = (id(self.fun), in_tree, tuple(avals), static_key, backend, config.x64)
        entry = self._cache.get(key)
        if entry is not None:
            _info.hits += 1
            return entry, leaves, backend
        _info.misses += 1
        if self._last_key is not None and self._last_key[0] == id(self.fun):
            names = [_arg_name(p) for p, _ in tree.leaves_with_path((dyn, dyn_kw))]
            msg = (f"jit({self._name}) is retracing because "
                   f"{_describe_change(self._last_key, key, names)}")
            _info.explanations.append(msg)
            if _explain.enabled:
                warnings.warn(msg, stacklevel=4)
        store = {}
        fixed = dict(static_key[0])

        def flat_fun(*xs):
            dyn_args, dyn_kwargs = tree.unflatten(in_tree, list(xs))
            it = iter(dyn_args)
            full = [fixed[i] if i in fixed else next(it) for i in range(len(args))]
            out = self.fun(*full, **dyn_kwargs, **dict(static_key[1]))
            out_leaves, store["tree"] = tree.flatten(out)
            return out_leaves

        t0 = time.perf_counter()
        closed = trace_to_jaxpr(flat_fun, avals, name=f"jit({self._name})")
        _info.trace_seconds += time.perf_counter() - t0
        entry = (closed, store["tree"])
        if not any(isinstance(c, Tracer) for c in closed.consts):
            self._cache[key] = entry  # closures over outer tracers are traced per call
        self._last_key = key
        return entry, leaves, backend

    def __get__(self, obj, objtype=None):
        # As JAX: a jitted function defined in a class body binds like a method, so
        # ``self`` becomes argument 0 (mark it static with ``static_argnums=0``).
        if obj is None:
            return self
        return functools.partial(self, obj)

    def __call__(self, *args, **kwargs):
        if getattr(_state, "disabled", False):
            return self.fun(*args, **kwargs)
        fast_key = self._fast_key(args, kwargs)
        if fast_key is not None:
            hit = self._fast.get(fast_key[0])
            if hit is not None:
                _info.hits += 1
                return _run_ready(hit, fast_key[1])
        (closed, out_tree), leaves, backend = self._trace(args, kwargs)
        outs = bind_closed(closed, leaves, backend, self._name)
        if fast_key is not None and all(type(c) is Array for c in closed.consts):
            if len(self._fast) >= 256:
                self._fast.clear()
            flat = _flat_jaxpr(closed)
            self._fast[fast_key[0]] = (executable(flat, backend, self._name), backend,
                                       [c._value for c in closed.consts],
                                       [v.aval for v in flat.outvars], out_tree)
        return tree.unflatten(out_tree, outs)

    def _fast_key(self, args, kwargs):
        """(signature, leaf values) for an eager call on concrete arrays, else None.

        Such a call needs no tracing machinery at all once its executable exists."""
        if kwargs or self.static_argnums or _ctx.trace.parent is not None:
            return None
        leaves, treedef = tree.flatten(args)
        sig, vals = [treedef, self.backend or default_backend(), config.x64], []
        for x in leaves:
            t = type(x)
            if t is Array:
                v = x._value
                sig.append((v.shape, v.dtype, x._weak))
            elif t is np.ndarray:
                v = x
                sig.append((v.shape, v.dtype, False))
            else:
                return None
            vals.append(v)
        return tuple(sig), vals

    def make_jaxpr(self, *args, **kwargs) -> ClosedJaxpr:
        return self._trace(args, kwargs)[0][0]

    def lower(self, *args, **kwargs) -> "Lowered":
        """JAX's ahead-of-time API: ``jit(f).lower(*args).compile()(*args)``.

        Arguments may be arrays or ``ShapeDtypeStruct``s (only their shapes/dtypes count)."""
        return Lowered(self, *_placeholders(args, kwargs))

    def source(self, *args, **kwargs) -> str:
        """The generated kernel source for these arguments (backends that generate code)."""
        (closed, _), _, backend = self._trace(args, kwargs)
        exe = executable(_flat_jaxpr(closed), backend, self._name)
        return getattr(exe, "source", None) or f"# backend {backend!r} interprets:\n{closed}"


def _placeholders(args, kwargs):
    """(args, kwargs) with each ShapeDtypeStruct leaf replaced by zeros of its type."""
    def fill(x):
        if isinstance(x, ShapeDtypeStruct):
            return Array(np.zeros(x.shape, x.dtype), ShapedArray(x.shape, np.dtype(x.dtype),
                                                                  x.weak_type))
        return x
    leaves, treedef = tree.flatten((args, kwargs))
    return tree.unflatten(treedef, [fill(x) for x in leaves])


class Lowered:
    """A jitted function traced for one argument signature (``jit(f).lower(...)``)."""

    def __init__(self, jitted, args, kwargs):
        self._jitted, self._args, self._kwargs = jitted, args, kwargs
        self._closed = jitted._trace(args, kwargs)[0][0]

    def as_text(self) -> str:
        return str(self._closed)

    def compile(self) -> "Compiled":
        (closed, _), _, backend = self._jitted._trace(self._args, self._kwargs)
        executable(_flat_jaxpr(closed), backend, self._jitted._name)
        return Compiled(self._jitted, self.as_text())


class Compiled:
    """A compiled jitted function (``jit(f).lower(...).compile()``): call it like ``f``."""

    def __init__(self, jitted, text):
        self._jitted, self._text = jitted, text

    def __call__(self, *args, **kwargs):
        return self._jitted(*args, **kwargs)

    def as_text(self) -> str:
        return self._text


class _Explain:
    enabled = False


_explain = _Explain()


def explain_cache_misses(enabled: bool = True):
    """Warn with the reason whenever a jitted function retraces (recompiles)."""
    _explain.enabled = enabled


def jit(fun=None, *, static_argnums=(), static_argnames=(), donate_argnums=(), backend=None):
    """Compile ``fun``; retrace only when argument shapes/dtypes/structure or statics change.

    ``donate_argnums`` is accepted for JAX compatibility; lepton arrays are immutable, so
    donation is currently a no-op.
    """
    if fun is None:
        return lambda f: jit(f, static_argnums=static_argnums, static_argnames=static_argnames,
                             donate_argnums=donate_argnums, backend=backend)
    return Jitted(fun, static_argnums, static_argnames, donate_argnums, backend)


__all__ = ["jit", "disable_jit", "cache_info", "clear_cache", "explain_cache_misses",
           "ShapedArray"]
