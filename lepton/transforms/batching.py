"""vmap's interpreter: each tracer holds a value with one extra (batch) axis.

A primitive's ``batch(axis_size, vals, dims, **params)`` rule returns the output and
the position of its batch axis; ``None`` in ``dims`` marks an unbatched operand.
"""
from __future__ import annotations

from ..core import ShapedArray, Trace, Tracer, set_trace


class BatchTracer(Tracer):
    __slots__ = ("val", "bdim", "_aval")

    def __init__(self, trace, val, bdim: int):
        self._trace = trace
        self.val = val
        self.bdim = bdim
        self._aval = None

    @property
    def aval(self):
        if self._aval is None:
            a = self.val.aval
            shape = a.shape[:self.bdim] + a.shape[self.bdim + 1:]
            self._aval = ShapedArray(shape, a.dtype, a.weak_type)
        return self._aval


class BatchTrace(Trace):
    __slots__ = ("axis_size", "axis_name")

    def __init__(self, parent, axis_size: int, axis_name=None):
        super().__init__(parent)
        self.axis_size = axis_size
        self.axis_name = axis_name

    def __repr__(self):
        return f"BatchTrace(axis_size={self.axis_size})"

    def process(self, prim, args, params):
        vals, dims, own = [], [], False
        for a in args:
            if type(a) is BatchTracer and a._trace is self:
                vals.append(a.val)
                dims.append(a.bdim)
                own = True
            else:
                vals.append(a)
                dims.append(None)
        if not own:
            return self.delegate(prim, args, params)
        if prim.batch is None:
            raise NotImplementedError(f"batching rule for '{prim.name}' not implemented")
        with set_trace(self.parent):
            out, out_dim = prim.batch(self.axis_size, vals, dims, **params)
        if prim.multiple_results:
            return [o if d is None else BatchTracer(self, o, d) for o, d in zip(out, out_dim)]
        return out if out_dim is None else BatchTracer(self, out, out_dim)

    def unpack(self, x):
        """(value, batch dim or None) of an output."""
        if type(x) is BatchTracer and x._trace is self:
            return x.val, x.bdim
        return x, None
