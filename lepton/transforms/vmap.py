"""``vmap``: vectorise a function over a batch axis of its inputs."""
from __future__ import annotations

import functools

from .. import tree
from ..core import ArrayBase, concrete, current_trace, get_aval, set_trace
from ..errors import ShapeError
from ..primitives.base import move_to_front
from ..primitives.structural import moveaxis
from .batching import BatchTrace, BatchTracer


def broadcast_prefix(prefix, full, name):
    """One entry of ``prefix`` per leaf of ``full`` (a prefix tree, as in_axes / out_axes)."""
    out = []

    def rec(p, x, path):
        if p is None or isinstance(p, int):
            out.extend([p] * len(tree.leaves(x)))
            return
        if isinstance(p, (tuple, list)) and isinstance(x, (tuple, list)):
            if len(p) != len(x):
                raise ValueError(f"{name}{tree.keystr(path)} has {len(p)} entries but the "
                                 f"value there has {len(x)}")
            for i, (pi, xi) in enumerate(zip(p, x)):
                rec(pi, xi, path + (tree.SequenceKey(i),))
            return
        if isinstance(p, dict) and isinstance(x, dict):
            if set(p) != set(x):
                raise ValueError(f"{name}{tree.keystr(path)} has keys {sorted(p, key=str)} but "
                                 f"the value there has keys {sorted(x, key=str)}")
            for k in sorted(x, key=str):
                rec(p[k], x[k], path + (tree.DictKey(k),))
            return
        p_leaves, p_tree = tree.flatten(p, is_leaf=lambda v: v is None)
        x_children = tree.structure(x)
        if p_tree.num_leaves and tree.structure(x) == p_tree:
            out.extend(p_leaves)
            return
        raise ValueError(f"{name}{tree.keystr(path)} must be an int, None, or a tree prefix of "
                         f"the arguments; got {p!r} for a value with structure {x_children}")

    rec(prefix, full, ())
    return out


_AXES_FORMS = {
    "in_axes": "an int, None, or a tuple with one entry per positional argument, each an int, "
               "None or a (nested) tuple/list/dict of those matching that argument "
               "(e.g. in_axes=0, in_axes=(0, None), in_axes=({'w': 0, 'b': None}, 0))",
    "out_axes": "an int, None, or a (nested) tuple/list/dict of ints and Nones matching the "
                "function's output (e.g. out_axes=0, out_axes=(0, None), "
                "out_axes={'loss': None, 'grads': 0})",
}


def _check_axes_spec(name, spec, top_level=True):
    """JAX's rule: every leaf of an axis spec is an int or None (bools are not axes), and
    ``in_axes`` itself is an int, None or a tuple."""
    if top_level and not (spec is None or type(spec) in (int, tuple)):
        bad = spec
    else:
        bad = next((leaf for leaf in tree.leaves(spec) if type(leaf) is not int), None)
    if bad is not None:
        entry = f" (the entry {bad!r} is not an int or None)" if bad is not spec else ""
        raise TypeError(f"vmap {name} must be {_AXES_FORMS[name]}; got {spec!r}{entry}")


def _place_out_axis(val, oax, index, out_tree_paths):
    """Move the batch axis (at the front) of output leaf ``index`` to ``oax``, checked."""
    nd = get_aval(val).ndim
    if not -nd <= oax < nd:
        where = f"output{out_tree_paths[index]}" if out_tree_paths[index] else "the output"
        raise ShapeError(
            f"vmap: out_axes={oax} is out of range for {where}, which has rank {nd - 1} "
            f"per example ({nd} with the mapped axis, shape {get_aval(val).shape}); "
            f"out_axes must be in [{-nd}, {nd - 1}]")
    return moveaxis(val, 0, oax % nd)


def vmap(fun, in_axes=0, out_axes=0, axis_size=None, axis_name=None, chunk_size=None):
    """Map ``fun`` over axis ``in_axes`` of its arguments, stacking outputs at ``out_axes``.

    ``chunk_size`` evaluates the batch in chunks of that many elements (bounding memory)
    and concatenates the results.  As in JAX, ``in_axes`` is an int, None or a tuple (a
    list is read as a tuple) with one entry per positional argument, and every leaf of
    ``in_axes`` / ``out_axes`` is an int or None.
    """
    if isinstance(in_axes, list):
        in_axes = tuple(in_axes)
    _check_axes_spec("in_axes", in_axes)
    _check_axes_spec("out_axes", out_axes, top_level=False)

    @functools.wraps(fun)
    def vmapped(*args, **kwargs):
        if isinstance(in_axes, tuple) and len(in_axes) != len(args):
            raise ValueError(f"vmap: in_axes has {len(in_axes)} entries but the function was "
                             f"called with {len(args)} positional arguments")
        # As JAX: keyword arguments are always mapped over their axis 0.
        flat_args, in_tree = tree.flatten((args, kwargs))
        prefix = in_axes if isinstance(in_axes, tuple) else (in_axes,) * len(args)
        axes = broadcast_prefix(prefix, args, "vmap in_axes")
        n_pos = len(axes)
        axes += [0] * len(tree.leaves(kwargs))
        flat_args = [a if ax is None else (a if isinstance(a, ArrayBase) else concrete(a))
                     for a, ax in zip(flat_args, axes)]
        norm_axes, sizes = [], []
        for i, (a, ax) in enumerate(zip(flat_args, axes)):
            if ax is None:
                norm_axes.append(None)
                continue
            nd = get_aval(a).ndim
            if i >= n_pos and not -nd <= ax < nd:
                raise ShapeError(f"vmap maps keyword arguments over their axis 0 (as JAX), but "
                                 f"keyword argument leaf {i - n_pos} has shape "
                                 f"{get_aval(a).shape}; pass it positionally with in_axes None "
                                 "for it, or bind it with functools.partial")
            if not -nd <= ax < nd:
                raise ShapeError(f"vmap: in_axes={ax} for argument leaf {i} of shape "
                                 f"{get_aval(a).shape}, which has no axis {ax}")
            norm_axes.append(ax % nd)
            sizes.append((i, get_aval(a).shape[ax % nd]))
        size = _batch_size(sizes, axis_size)
        if chunk_size is not None and size > chunk_size:
            return _chunked(flat_args, in_tree, norm_axes, size)
        return _vmap_flat(fun, flat_args, in_tree, norm_axes, size)

    def _vmap_flat(f, flat_args, in_tree, norm_axes, size):
        trace = BatchTrace(current_trace(), size, axis_name)
        ins = [a if ax is None else BatchTracer(trace, a, ax) for a, ax in zip(flat_args, norm_axes)]
        try:
            with set_trace(trace):
                args, kwargs = tree.unflatten(in_tree, ins)
                out = f(*args, **kwargs)
        finally:
            trace.alive = False
        flat_out, out_tree = tree.flatten(out)
        oaxes = broadcast_prefix(out_axes, out, "vmap out_axes")
        paths = [tree.keystr(p) for p, _ in tree.leaves_with_path(out)]
        results = []
        for i, (o, oax) in enumerate(zip(flat_out, oaxes)):
            o = o if isinstance(o, ArrayBase) else concrete(o)
            val, bd = trace.unpack(o)
            if oax is None:
                if bd is not None:
                    raise ValueError("vmap: out_axes=None but the output depends on the "
                                     "mapped axis; only unbatched outputs can use None")
                results.append(val)
                continue
            results.append(_place_out_axis(move_to_front(val, bd, size), oax, i, paths))
        return tree.unflatten(out_tree, results)

    def _chunked(flat_args, in_tree, norm_axes, size):
        import lepton.numpy as lnp
        pieces = []
        for start in range(0, size, chunk_size):
            stop = min(start + chunk_size, size)
            chunk = [a if ax is None else lnp.take(a, lnp.arange(start, stop), axis=ax)
                     for a, ax in zip(flat_args, norm_axes)]
            pieces.append(_vmap_flat(fun, chunk, in_tree, norm_axes, stop - start))
        flat0, out_tree = tree.flatten(pieces[0])
        oaxes = broadcast_prefix(out_axes, pieces[0], "vmap out_axes")
        cols = [tree.leaves(p) for p in pieces]
        merged = [lnp.concatenate([c[k] for c in cols], axis=oaxes[k]) if oaxes[k] is not None
                  else cols[0][k] for k in range(len(flat0))]
        return tree.unflatten(out_tree, merged)

    return vmapped


def _batch_size(sizes, axis_size):
    distinct = {s for _, s in sizes}
    if axis_size is not None:
        distinct.add(axis_size)
    if not distinct:
        raise ValueError("vmap needs at least one mapped argument (in_axes not all None) or "
                         "an explicit axis_size")
    if len(distinct) > 1:
        detail = ", ".join(f"leaf {i}: {s}" for i, s in sizes)
        raise ShapeError(f"vmap got inconsistent sizes for the mapped axis ({detail}"
                         f"{'; axis_size=' + str(axis_size) if axis_size is not None else ''}). "
                         "All mapped arguments must have the same size along their in_axes.")
    return distinct.pop()
