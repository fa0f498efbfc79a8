"""Windowed primitives: conv_general_dilated, reduce_window_{sum,max,min}, and the pair
select_and_gather_add / select_and_scatter_add that differentiates max and min pooling.

Convolutions follow XLA: ``dimension_numbers = (lhs_spec, rhs_spec, out_spec)`` give the
axis positions of (batch, feature, spatial...) for the input and output and of
(out-feature, in-feature, spatial...) for the kernel, so NHWC/HWIO and NCHW/OIHW are the
same primitive.  The NumPy impl is im2col (one strided copy of the window views) or
col2im, + BLAS in cache-sized blocks, whichever a cost model favours (``_Im2col``).
The transposes are the standard ones (JAX's derivation): the input cotangent is a
convolution of the output cotangent with the flipped kernel, dilated by the strides; the
kernel cotangent is a convolution of the input with the output cotangent.  Feature groups
are folded into batch or feature axes by reshapes, so no extra primitive is needed.
"""
from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..core import ArrayBase, Primitive, ShapedArray, Tracer, get_aval
from . import elementwise as ew
from .base import (Zero, align_batched, defjvp, deflinear, fail_dtype, fail_shape,
                   is_undefined, move_to_front)
from .slicing import pad, pad_p, rev
from .slicing import slice as _slice
from .structural import broadcast_in_dim, full, reshape, transpose, zeros


def _dilate_shape(shape, dilation):
    return tuple(0 if n == 0 else 1 + d * (n - 1) for n, d in zip(shape, dilation))


def _windows_out(in_shape, window, strides, padding, lhs_dilation=None):
    """Number of windows per axis (zero when the padded input is shorter than the window)."""
    dil = _dilate_shape(in_shape, lhs_dilation or (1,) * len(in_shape))
    return tuple(max(0, (n + lo + hi - w) // s + 1) if n + lo + hi >= w else 0
                 for n, w, s, (lo, hi) in zip(dil, window, strides, padding))


def padtype_to_pads(in_shape, window_shape, window_strides, padding):
    """``'SAME'``/``'SAME_LOWER'``/``'VALID'`` as explicit ``(lo, hi)`` pairs (as XLA)."""
    if not isinstance(padding, str):
        return tuple((int(lo), int(hi)) for lo, hi in padding)
    kind = padding.upper()
    if kind == "VALID":
        return ((0, 0),) * len(in_shape)
    if kind not in ("SAME", "SAME_LOWER"):
        raise ValueError(f"padding must be 'SAME', 'SAME_LOWER', 'VALID' or a sequence of "
                         f"(lo, hi) pairs, got {padding!r}")
    pads = []
    for n, w, s in zip(in_shape, window_shape, window_strides):
        total = max(0, (-(-n // s) - 1) * s + w - n)
        lo = total // 2 if kind == "SAME" else (total + 1) // 2
        pads.append((lo, total - lo))
    return tuple(pads)


def _check_window_params(name, nsp, avals, **params):
    for what, v in params.items():
        if len(v) != nsp:
            fail_shape(name, f"{what} {v} needs one entry per spatial dimension ({nsp})", *avals)
    for what in ("window_strides", "lhs_dilation", "rhs_dilation", "window_dimensions"):
        if what in params and any(s < 1 for s in params[what]):
            fail_shape(name, f"{what} {params[what]} must be positive", *avals)


# ----------------------------------------------------------------------------- conv
conv_general_dilated_p = Primitive("conv_general_dilated")


#: Cost model of the NumPy impl's three formulations (ns, float32, one core; fitted to
#: the stax_train convs on the 2-core CI machine, OpenBLAS's Haswell kernels).  It only
#: ranks formulations of the same conv (``_Im2col.cost``), so only the ratios matter:
#: per inner loop of a NumPy copy, per element copied from a contiguous or strided
#: source, per multiply-add, per input element that each tap's GEMM of "scatter" packs
#: again, per element of its shifted adds, per patch element packed from memory (an
#: unblocked "positions").  "scatter" contracts over the input features alone: with
#: fewer than ``_GEMM_K`` BLAS runs far below its peak (40x slower than "taps" for one
#: feature), and with feature groups its adds run along Og alone (3x slower than "taps"
#: for 4 groups of 16): it is not considered there.  "scatter" and "taps" tie on one core for the input-gradient
#: conv of stax_train (5.6 vs 5.3-6.3 ms); with two BLAS threads "scatter" is faster
#: (3.4 vs 3.8 ms): its serial part (the adds) is the smaller.
_LOOP_NS, _ELEM_NS, _STRIDED_NS = 5.0, 0.15, 1.0
_MAC_NS, _GEMM_K, _REPACK_NS, _ADD_NS, _PACK_NS = 0.016, 16, 0.02, 0.23, 0.25
#: A GEMM with few columns (output features) is slower per multiply-add: ``_mac_ns``.
_NARROW = 8


def _mac_ns(columns):
    """Modelled time of one multiply-add in a GEMM with ``columns`` output columns (the
    input gradient's im2col GEMM, 32 columns: 1.25x the cost of a wide one)."""
    return _MAC_NS * (1 + _NARROW / max(columns, 1))

#: Patch (or product) bytes per block (``_Im2col.run``): BLAS packs a block from
#: cache (L3) rather than from memory.  Each block is a BLAS call, which with two BLAS
#: threads on a busy machine can wait for a descheduled thread: 4 and 8 MiB ran
#: stax_train's convs equally fast on one thread, 16 MiB (no blocks) 25% slower for the
#: input gradient; the old impl's one 14 MiB GEMM 20-40% slower.
_BLOCK_BYTES = 8 << 20

#: Convs with fewer patch elements run "taps" without consulting the cost model (its
#: Python overhead would dominate).
_SMALL = 1 << 14


def _c_strides(shape, itemsize):
    strides, step = [], itemsize
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


def _copy_ns(shape, dst, src, itemsize):
    """Modelled time of ``dst_view[...] = src_view`` (``dst``/``src``: their strides).
    NumPy walks the axes in the destination's (row-major) order, merges neighbours that
    are contiguous in both, and runs one inner loop along the last merged axis."""
    dims = [[n, d, s] for n, d, s in zip(shape, dst, src) if n != 1]
    size = int(np.prod(shape))
    if not dims or size == 0:
        return 0.0
    merged = [dims[0]]
    for n, d, s in dims[1:]:
        outer = merged[-1]
        if outer[1] == n * d and outer[2] == n * s:
            outer[0], outer[1], outer[2] = outer[0] * n, d, s
        else:
            merged.append([n, d, s])
    inner = merged[-1]
    per = _ELEM_NS if abs(inner[2]) == itemsize else _STRIDED_NS
    return size / inner[0] * _LOOP_NS + size * per


def _dilated_padded(x, padding, lhs_dilation):
    """``x`` (outer, spatial..., inner) with its spatial axes dilated and padded (negative
    padding crops): ``x`` itself when there is nothing to do, else one row-major copy."""
    if all(lo == hi == 0 for lo, hi in padding) and all(d == 1 for d in lhs_dilation):
        return x
    sp = x.shape[1:-1]
    grown = _grown(sp, padding, lhs_dilation)
    out = np.zeros(x.shape[:1] + grown + x.shape[-1:], x.dtype)
    out[(slice(None),) + tuple(slice(max(lo, 0), max(lo, 0) + (n - 1) * d + 1, d) if n
                               else slice(0, 0)
                               for n, (lo, _), d in zip(sp, padding, lhs_dilation))] = x
    return out[(slice(None),) + tuple(slice(-min(lo, 0), m + min(hi, 0))
                                      for (lo, hi), m in zip(padding, grown))]


def _grown(sp, padding, lhs_dilation):
    """Spatial sizes after dilation and the positive part of the padding."""
    return tuple(max(lo, 0) + max(hi, 0) + n + max(n - 1, 0) * (d - 1)
                 for n, (lo, hi), d in zip(sp, padding, lhs_dilation))


def _patch_copy(view):
    """A (strided patch) view copied into a row-major array."""
    out = np.empty(view.shape, view.dtype)
    out[...] = view
    return out


def _row_blocks(rows, row_bytes):
    """Index tuples that split the leading axes ``rows`` (e.g. batch, output rows...)
    into blocks of about ``_BLOCK_BYTES``: whole leading-axis slices, or, where one
    leading index is too big, slices of the next axis under it."""
    total = int(np.prod(rows)) * row_bytes
    if total <= _BLOCK_BYTES or len(rows) == 0:
        return [()]
    per = int(np.prod(rows[1:])) * row_bytes  # one leading index
    if per * 2 > _BLOCK_BYTES and len(rows) > 1:
        inner = _row_blocks(rows[1:], row_bytes)
        return [(slice(i, i + 1),) + b for i in range(rows[0]) for b in inner]
    step = max(1, -(-rows[0] // -(-total // _BLOCK_BYTES)))
    return [(slice(i, i + step),) for i in range(0, rows[0], step)]


def _gemm_into(mat, w, dst):
    """``dst`` (rows..., G, Og) = ``mat`` (G, rows, K) @ ``w`` (G, K, Og), written by BLAS
    straight into ``dst``'s memory as rows or (transposed) as columns where its strides
    allow, else through one copy."""
    g, m, og = mat.shape[0], mat.shape[1], w.shape[-1]
    view = _as_view(dst, (m, g, og))
    if view is not None:
        np.matmul(mat, w, out=view.transpose(1, 0, 2))
        return
    view = _as_view(np.moveaxis(dst, (-2, -1), (0, 1)), (g, og, m))
    if view is not None:
        np.matmul(w.transpose(0, 2, 1), mat.transpose(0, 2, 1), out=view)
        return
    dst[...] = np.moveaxis(np.matmul(mat, w).reshape((g,) + dst.shape[:-2] + (og,)), 0, -2)


def _as_view(a, shape):
    """``a`` reshaped without copying, or None where its strides do not allow it."""
    try:
        return np.reshape(a, shape, copy=False)
    except ValueError:
        return None


def _scatter_taps(q_n, r_n, k_n, stride, dilation, lo, lhs_dilation):
    """Along one axis, for each tap ``k`` that reaches the input: ``(k, q, r)`` slices
    with ``out[q] += y[k][r]``, where output position ``q`` reads input element ``r`` at
    ``r * lhs_dilation == q * stride + k * dilation - lo`` (other ``q`` read padding)."""
    q = np.arange(q_n)
    taps = []
    for k in range(k_n):
        at = q * stride + k * dilation - lo  # in the dilated, unpadded input
        hit = (at >= 0) & (at <= (r_n - 1) * lhs_dilation) & (at % lhs_dilation == 0)
        qs = q[hit]
        if qs.size == 0:
            continue
        step = int(qs[1] - qs[0]) if qs.size > 1 else 1
        r0, r_step = int(at[hit][0]) // lhs_dilation, step * stride // lhs_dilation or 1
        taps.append((k, slice(int(qs[0]), int(qs[-1]) + 1, step),
                     slice(r0, r0 + (qs.size - 1) * r_step + 1, r_step)))
    return taps


class _Im2col:
    """One conv for the NumPy impl, as one of three GEMM formulations (``form``):

    * ``"taps"``: im2col, rows (batch, output position), columns (kernel tap, input
      feature): one strided copy that runs along the input features (a forward conv).
    * ``"positions"``: rows (input feature, kernel tap), columns (output position,
      batch), transposed into the GEMM: its copy runs along the output positions and
      the batch, cheap for few output positions and a long kernel, as in the
      kernel-gradient conv of the transpose rule (whose "kernel" is an output cotangent).
    * ``"scatter"``: no patches: one GEMM per tap of the unpadded input with that tap's
      weights, shifted and added into the output (col2im): cheap where the input has
      more features than the output, as in the input-gradient conv.

    ``copy_first``: copy the input into row-major (outer, spatial..., inner) order before
    the patch copy even when nothing is padded.  All contract over the same (feature,
    tap) pairs, so they agree up to the order of the sums.  The GEMM writes straight into
    the output's memory where its strides allow, else one copy puts it there.
    """

    def __init__(self, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                 dimension_numbers, feature_group_count):
        self.lhs, self.rhs = lhs, rhs
        self.strides, self.padding = window_strides, padding
        self.lhs_dilation, self.rhs_dilation = lhs_dilation, rhs_dilation
        self.specs = lhs_spec, rhs_spec, out_spec = dimension_numbers
        self.g = g = feature_group_count
        self.n, self.o = lhs.shape[lhs_spec[0]], rhs.shape[rhs_spec[0]]
        self.cg, self.og = rhs.shape[rhs_spec[1]], self.o // g
        self.ksz = tuple(rhs.shape[d] for d in rhs_spec[2:])
        self.in_sp = tuple(lhs.shape[d] for d in lhs_spec[2:])
        self.out_sp = _windows_out(self.in_sp, _dilate_shape(self.ksz, rhs_dilation),
                                   window_strides, padding, lhs_dilation)
        shape = [0] * len(lhs_spec)
        shape[out_spec[0]], shape[out_spec[1]] = self.n, self.o
        for d, q in zip(out_spec[2:], self.out_sp):
            shape[d] = q
        self.shape, self.dtype = tuple(shape), np.result_type(lhs.dtype, rhs.dtype)
        self.empty = 0 in shape or self.cg == 0 or 0 in self.ksz
        self.taps = int(np.prod(self.ksz))
        self.orders = {"taps": (lhs_spec[0],) + lhs_spec[2:] + (lhs_spec[1],),
                       "positions": (lhs_spec[1],) + lhs_spec[2:] + (lhs_spec[0],)}
        self.orders["scatter"] = self.orders["taps"]

    # ------------------------------------------------------------------ choice
    def plans(self):
        """Every ``(form, copy_first)`` that ``run`` takes."""
        padded = any(lo or hi for lo, hi in self.padding) or any(
            d != 1 for d in self.lhs_dilation)
        for form in ("taps", "positions"):
            yield form, True
            if not padded:
                yield form, False
        yield "scatter", False

    def plan(self):
        """The plan of least modelled cost (``_LOOP_NS`` ...)."""
        if self.n * int(np.prod(self.out_sp)) * self.taps * self.cg * self.g < _SMALL:
            return "taps", True
        return min(self.plans(), key=lambda p: self.cost(*p))

    def cost(self, form, copy_first):
        """Modelled single-thread time (ns) of ``run(form, copy_first)``."""
        item = self.dtype.itemsize
        x = self.lhs.transpose(self.orders[form])
        c_in = self.cg * self.g
        if form == "scatter":
            if self.cg < _GEMM_K or self.g > 1:  # far slower than "taps" (see above)
                return float("inf")
            rows = x.size // max(c_in, 1)
            copy = 0.0 if _as_view(x, (rows, c_in)) is not None else _copy_ns(
                x.shape, _c_strides(x.shape, item), x.strides, item)
            macs = rows * self.taps * self.cg * self.o
            counts = [sum((q.stop - q.start + q.step - 1) // q.step for _, q, _ in axis)
                      for axis in self._scatter_slices()]
            adds = self.n * self.o * int(np.prod(counts))  # inner loops: Og long
            return (copy + macs * _mac_ns(self.taps * self.og)
                    + self.taps * x.size * _REPACK_NS + adds * _ADD_NS
                    + adds / self.og * _LOOP_NS)
        cshape = x.shape[:1] + _grown(x.shape[1:-1], self.padding, self.lhs_dilation) \
            + x.shape[-1:]
        copy = _copy_ns(x.shape, _c_strides(cshape, item), x.strides, item) \
            if copy_first else 0.0
        shape, src = self.geometry(form, cshape,
                                   _c_strides(cshape, item) if copy_first else x.strides)
        macs = self.n * int(np.prod(self.out_sp)) * self.taps * self.cg * self.o
        pack = 0.0  # "taps" blocks its patches by rows, "positions" maybe not at all
        if form == "positions" and int(np.prod(shape)) * item > 2 * _BLOCK_BYTES * self._parts():
            pack = int(np.prod(shape)) * _PACK_NS
        return (copy + _copy_ns(shape, _c_strides(shape, item), src, item) + pack
                + macs * _mac_ns(self.og))

    def _parts(self):
        """Blocks of input features that "positions" splits its patches into: about
        ``_BLOCK_BYTES`` each, unless summing the partial products would cost more than
        an eighth of the patch copy."""
        rows = self.n * int(np.prod(self.out_sp))
        size = self.g * self.cg * self.taps * rows * self.dtype.itemsize
        return max(1, min(self.cg, size // _BLOCK_BYTES, self.cg * self.taps // (8 * self.og)))

    # ------------------------------------------------------------------ patches
    def geometry(self, form, xshape, xstrides):
        """Shape and strides of the patch view of ``x`` (outer, spatial..., inner) that
        one row-major copy turns into the patch matrix of ``form``."""
        g, ksz, out_sp = self.g, self.ksz, self.out_sp
        sa, ss, sf = xstrides[0], xstrides[1:-1], xstrides[-1]
        pos = tuple(s * w for s, w in zip(ss, self.strides))
        tap = tuple(s * d for s, d in zip(ss, self.rhs_dilation))
        if form == "taps":  # (N, P..., G, K..., Cg): rows (N, P...), columns (K..., Cg)
            cg = xshape[-1] // g
            return ((xshape[0],) + out_sp + (g,) + ksz + (cg,),
                    (sa,) + pos + (cg * sf,) + tap + (sf,))
        cg = xshape[0] // g  # (G, Cg, K..., P..., N): rows (Cg, K...), columns (P..., N)
        return ((g, cg) + ksz + out_sp + (xshape[-1],), (cg * sa, sa) + tap + pos + (sf,))

    def _scatter_slices(self):
        return [_scatter_taps(q, r, k, s, d, lo, ld) for q, r, k, s, d, (lo, _), ld in zip(
            self.out_sp, self.in_sp, self.ksz, self.strides, self.rhs_dilation,
            self.padding, self.lhs_dilation)]

    # ------------------------------------------------------------------ run
    def run(self, form, copy_first):
        """The conv's result (in the output's layout) by ``form``.  The patches are
        copied and multiplied in blocks of about ``_BLOCK_BYTES`` (batch and output rows
        for "taps", input features for "positions", whose partial products are summed),
        so that BLAS packs them from cache rather than from memory."""
        if self.empty:
            return np.zeros(self.shape, self.dtype)
        if form == "scatter":
            return self._scatter()
        g, og, cg = self.g, self.og, self.cg
        _, rhs_spec, out_spec = self.specs
        x = _dilated_padded(self.lhs.transpose(self.orders[form]), self.padding,
                            self.lhs_dilation)
        if copy_first and x.base is not None:
            x = np.ascontiguousarray(x)
        vshape, vstrides = self.geometry(form, x.shape, x.strides)
        view = np.lib.stride_tricks.as_strided(x, vshape, vstrides, writeable=False)
        res = np.empty(self.shape, self.dtype)
        kdim = cg * self.taps
        if form == "taps":  # view: N, P..., G, K..., Cg
            w = self.rhs.transpose(rhs_spec[2:] + (rhs_spec[1], rhs_spec[0]))  # K, Cg, O
            w = np.moveaxis(w.reshape(w.shape[:-1] + (g, og)), -2, 0).reshape(g, kdim, og)
            target = res.transpose((out_spec[0],) + out_spec[2:] + (out_spec[1],))
            target = target.reshape(target.shape[:-1] + (g, og))  # N, P..., G, Og
            for block in _row_blocks(vshape[:1 + len(self.ksz)],
                                     kdim * g * self.dtype.itemsize):
                patches = _patch_copy(view[block])
                mat = patches.reshape(-1, g, kdim).transpose(1, 0, 2)  # G, rows, K x Cg
                _gemm_into(mat, w, target[block])
            return res
        # view: G, Cg, K..., P..., N
        w = self.rhs.transpose((rhs_spec[1],) + rhs_spec[2:] + (rhs_spec[0],))  # Cg, K, O
        w = np.moveaxis(w.reshape(w.shape[:-1] + (g, og)), -2, 0).reshape(g, cg, -1, og)
        target = res.transpose(out_spec[2:] + (out_spec[0], out_spec[1]))
        target = target.reshape(target.shape[:-1] + (g, og))  # P..., N, G, Og
        rows = target.size // (g * og)
        step = -(-cg // self._parts())
        for c0 in range(0, cg, step):
            patches = _patch_copy(view[:, c0:c0 + step])
            mat = patches.reshape(g, -1, rows).transpose(0, 2, 1)  # G, rows, Cg x K
            wb = w[:, c0:c0 + step].reshape(g, -1, og)
            if c0 == 0:
                _gemm_into(mat, wb, target)
            else:  # a partial sum over the next block of input features
                part = np.empty(target.shape, self.dtype)
                _gemm_into(mat, wb, part)
                target += part
        return res

    def _scatter(self):
        """"scatter" in blocks of the batch, each with its products (rows x taps x
        features, about ``_BLOCK_BYTES``, one GEMM per group) in cache while they are
        added up."""
        g, og, cg, n, o = self.g, self.og, self.cg, self.n, self.o
        _, rhs_spec, out_spec = self.specs
        x = self.lhs.transpose(self.orders["scatter"])  # N, R..., C
        w = self.rhs.transpose(rhs_spec[2:] + (rhs_spec[1], rhs_spec[0]))  # K..., Cg, O
        w = w.reshape(self.taps, cg, g, og).transpose(2, 1, 0, 3).reshape(g, cg, -1)
        res = np.empty(self.shape, self.dtype)
        target = res.transpose((out_spec[0],) + out_spec[2:] + (out_spec[1],))
        direct = target.strides[-1] == self.dtype.itemsize  # features contiguous
        whole = target if direct else np.empty(target.shape, self.dtype)
        acc = whole.reshape(whole.shape[:-1] + (g, og))  # N, Q..., G, Og
        axes = self._scatter_slices()
        cover = tuple(next((t for t in axis if t[1] == slice(0, q, 1)), None)
                      for axis, q in zip(axes, self.out_sp))
        first = None if None in cover else cover  # a tap that covers every position
        per = self.taps * int(np.prod(self.in_sp)) * o * self.dtype.itemsize
        step = max(1, _BLOCK_BYTES // max(per, 1))
        for n0 in range(0, n, step):
            xb = x[n0:n0 + step]
            y = np.matmul(xb.reshape(-1, g, cg).transpose(1, 0, 2), w)  # G, rows, K x Og
            y = np.moveaxis(y.reshape((g,) + xb.shape[:-1] + self.ksz + (og,)), 0, -2)
            out = acc[n0:n0 + step]  # y: N, R..., K..., G, Og
            if first is None:
                out[...] = 0
            else:  # assigned rather than added
                out[...] = y[(slice(None),) + tuple(r for _, _, r in first)
                             + tuple(k for k, _, _ in first)]
            for combo in itertools.product(*axes):
                if combo != first:
                    out[(slice(None),) + tuple(q for _, q, _ in combo)] += \
                        y[(slice(None),) + tuple(r for _, _, r in combo)
                          + tuple(k for k, _, _ in combo)]
        if not direct:
            target[...] = whole
        return res


#: Plans by operand geometry and parameters (evaluating the cost model takes 0.1-0.2 ms);
#: cleared when full.
_plans: dict = {}
_PLANS_MAX = 512


def _conv_impl(lhs, rhs, **params):
    """im2col (or col2im) + BLAS, by the formulation of least modelled cost
    (``_Im2col``)."""
    conv = _Im2col(lhs, rhs, **params)
    if conv.empty:
        return np.zeros(conv.shape, conv.dtype)
    key = (lhs.shape, lhs.strides, rhs.shape, rhs.strides, conv.dtype,
           tuple(params.values()))
    plan = _plans.get(key)
    if plan is None:
        if len(_plans) >= _PLANS_MAX:
            _plans.clear()
        plan = _plans[key] = conv.plan()
    return conv.run(*plan)


def _conv_impl_generic(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
               dimension_numbers, feature_group_count):
    """The first im2col impl (one batched matmul over groups, copies between): kept as
    the tests' second reference for ``_conv_impl``."""
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    nsp = len(lhs_spec) - 2
    x = np.transpose(lhs, (lhs_spec[0],) + lhs_spec[2:] + (lhs_spec[1],))  # N, S..., C
    w = np.transpose(rhs, rhs_spec[2:] + (rhs_spec[1], rhs_spec[0]))  # K..., I, O
    cfg = ((0, 0, 0),) + tuple((lo, hi, d - 1) for (lo, hi), d in zip(padding, lhs_dilation)) \
        + ((0, 0, 0),)
    if any(c != (0, 0, 0) for c in cfg):
        x = pad_p.impl(x, np.zeros((), x.dtype), padding_config=cfg)
    ksz = w.shape[:nsp]
    eff = _dilate_shape(ksz, rhs_dilation)
    out_sp = _windows_out(x.shape[1:-1], eff, window_strides, ((0, 0),) * nsp)
    g = feature_group_count
    n, cg, og = x.shape[0], w.shape[-2], w.shape[-1] // g
    if 0 in out_sp or 0 in ksz:
        out = np.zeros((n,) + out_sp + (g * og,), x.dtype)
    else:
        win = sliding_window_view(x, eff, axis=tuple(range(1, nsp + 1)))  # N, P..., C, E...
        win = win[(slice(None),) + tuple(np.s_[:(q - 1) * s + 1:s] for q, s in
                                          zip(out_sp, window_strides))
                  + (slice(None),) + tuple(np.s_[::d] for d in rhs_dilation)]
        win = win.reshape((n,) + out_sp + (g, cg) + ksz)
        sp, kk = tuple(range(1, nsp + 1)), tuple(range(nsp + 3, 2 * nsp + 3))
        kdim = int(np.prod(ksz)) * cg
        patches = win.transpose((nsp + 1, 0) + sp + kk + (nsp + 2,)).reshape(g, -1, kdim)
        kern = w.reshape(ksz + (cg, g, og)).transpose(
            (nsp + 1,) + tuple(range(nsp + 1)) + (nsp + 2,)).reshape(g, kdim, og)
        out = np.matmul(patches, kern)  # G, N*P, Og
        out = out.transpose(1, 0, 2).reshape((n,) + out_sp + (g * og,))
    return out.transpose(np.argsort((out_spec[0],) + out_spec[2:] + (out_spec[1],)))


def _conv_rule(lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
               dimension_numbers, feature_group_count):
    name = "conv_general_dilated"
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    nd = lhs.ndim
    if rhs.ndim != nd or nd < 2:
        fail_shape(name, "lhs and rhs need equal rank >= 2 (batch, feature, spatial...)",
                   lhs, rhs)
    for what, spec in (("lhs", lhs_spec), ("rhs", rhs_spec), ("out", out_spec)):
        if sorted(spec) != list(range(nd)):
            fail_shape(name, f"{what} spec {spec} must be a permutation of range({nd})",
                       lhs, rhs)
    _check_window_params(name, nd - 2, (lhs, rhs), window_strides=window_strides,
                         padding=padding, lhs_dilation=lhs_dilation,
                         rhs_dilation=rhs_dilation)
    if lhs.dtype != rhs.dtype:
        fail_dtype(name, "lhs and rhs must have equal dtypes", lhs, rhs,
                   fix="Convert one with .astype(...).")
    if lhs.dtype.kind not in "iufc":
        fail_dtype(name, "operands must be numeric", lhs, rhs)
    g = feature_group_count
    c, i, o = lhs.shape[lhs_spec[1]], rhs.shape[rhs_spec[1]], rhs.shape[rhs_spec[0]]
    if g < 1 or c != i * g:
        fail_shape(name, f"the lhs has {c} input features but the kernel expects {i} x "
                   f"feature_group_count {g} = {i * g}", lhs, rhs,
                   fix="Check dimension_numbers (e.g. ('NHWC', 'HWIO', 'NHWC')) and the "
                   "kernel's input-feature size.")
    if o % g:
        fail_shape(name, f"the kernel's {o} output features are not divisible by "
                   f"feature_group_count {g}", lhs, rhs)
    in_sp = [lhs.shape[d] for d in lhs_spec[2:]]
    eff = _dilate_shape([rhs.shape[d] for d in rhs_spec[2:]], rhs_dilation)
    for n, (lo, hi) in zip(_dilate_shape(in_sp, lhs_dilation), padding):
        if n + lo + hi < 0:
            fail_shape(name, f"padding {padding} crops more than the input has", lhs, rhs)
    out_sp = _windows_out(in_sp, eff, window_strides, padding, lhs_dilation)
    shape = [0] * nd
    shape[out_spec[0]], shape[out_spec[1]] = lhs.shape[lhs_spec[0]], o
    for d, s in zip(out_spec[2:], out_sp):
        shape[d] = s
    return ShapedArray(shape, lhs.dtype, lhs.weak_type and rhs.weak_type)


def _swap(spec):
    return (spec[1], spec[0]) + tuple(spec[2:])


def _reshape_axis_into(src, dst, x):
    """Merge axis ``src`` into axis ``dst`` (numbered without src), src-major."""
    shape = get_aval(x).shape
    perm = [i for i in range(len(shape)) if i != src]
    perm.insert(dst, src)
    new_shape = [shape[i] for i in range(len(shape)) if i != src]
    new_shape[dst] *= shape[src]
    return reshape(transpose(x, perm), new_shape)


def _reshape_axis_out_of(src, size1, x):
    """Split axis ``src`` into (size1, rest)."""
    shape = list(get_aval(x).shape)
    shape[src:src + 1] = [size1, shape[src] // size1]
    return reshape(x, shape)


def _vjp_lhs_padding(in_shape, window, strides, out_shape, padding, lhs_dilation,
                     rhs_dilation):
    lhs_d = _dilate_shape(in_shape, lhs_dilation)
    rhs_d = _dilate_shape(window, rhs_dilation)
    out_d = _dilate_shape(out_shape, strides)
    before = [r - lo - 1 for r, (lo, _) in zip(rhs_d, padding)]
    return tuple((b, ld + r - 1 - od - b) for b, ld, r, od in zip(before, lhs_d, rhs_d, out_d))


def _vjp_rhs_padding(in_shape, window, strides, out_shape, padding, lhs_dilation,
                     rhs_dilation):
    lhs_d = _dilate_shape(in_shape, lhs_dilation)
    rhs_d = _dilate_shape(window, rhs_dilation)
    out_d = _dilate_shape(out_shape, strides)
    return tuple((lo, od - ld + r - lo - 1)
                 for (lo, _), ld, r, od in zip(padding, lhs_d, rhs_d, out_d))


def _spatial(shape, spec):
    return [shape[d] for d in spec[2:]]


def _conv_transpose(ct, lhs, rhs, *, window_strides, padding, lhs_dilation, rhs_dilation,
                    dimension_numbers, feature_group_count):
    if type(ct) is Zero:
        return [None, None]
    lhs_spec, rhs_spec, out_spec = dimension_numbers
    g = feature_group_count
    lhs_shape, rhs_shape, ct_shape = (v.aval.shape if is_undefined(v) else get_aval(v).shape
                                      for v in (lhs, rhs, ct))
    in_sp, k_sp = _spatial(lhs_shape, lhs_spec), _spatial(rhs_shape, rhs_spec)
    out_sp = _spatial(ct_shape, out_spec)
    empty = 0 in ct_shape
    if is_undefined(lhs):
        if empty:
            return [zeros(lhs.aval), None]
        if g > 1:  # move the groups from the kernel's output features to its input features
            rhs = _reshape_axis_into(rhs_spec[0], rhs_spec[1],
                                     _reshape_axis_out_of(rhs_spec[0], g, rhs))
        pads = _vjp_lhs_padding(in_sp, k_sp, window_strides, out_sp, padding, lhs_dilation,
                                rhs_dilation)
        return [conv_general_dilated(
            ct, rev(rhs, rhs_spec[2:]), window_strides=lhs_dilation, padding=pads,
            lhs_dilation=window_strides, rhs_dilation=rhs_dilation,
            dimension_numbers=(out_spec, _swap(rhs_spec), lhs_spec),
            feature_group_count=g), None]
    if is_undefined(rhs):
        if empty:
            return [None, zeros(rhs.aval)]
        if g > 1:  # groups move from the input's features into its batch (now features)
            lhs = _reshape_axis_into(lhs_spec[1], lhs_spec[0],
                                     _reshape_axis_out_of(lhs_spec[1], g, lhs))
        pads = _vjp_rhs_padding(in_sp, k_sp, window_strides, out_sp, padding, lhs_dilation,
                                rhs_dilation)
        return [None, conv_general_dilated(
            lhs, ct, window_strides=rhs_dilation, padding=pads, lhs_dilation=lhs_dilation,
            rhs_dilation=window_strides,
            dimension_numbers=(_swap(lhs_spec), _swap(out_spec), _swap(rhs_spec)),
            feature_group_count=g)]
    raise TypeError("conv_general_dilated transpose needs one undefined (linear) operand")


def _conv_batch(axis_size, vals, dims, **params):
    (lhs, rhs), (bl, br) = vals, dims
    lhs_spec, rhs_spec, out_spec = params["dimension_numbers"]
    g = params["feature_group_count"]
    if br is None:  # the vmapped axis joins the batch
        out = conv_general_dilated_p.bind(_reshape_axis_into(bl, lhs_spec[0], lhs), rhs,
                                          **params)
        return _reshape_axis_out_of(out_spec[0], axis_size, out), out_spec[0]
    if bl is None and g == 1:  # ... or the kernel's output features
        out = conv_general_dilated_p.bind(lhs, _reshape_axis_into(br, rhs_spec[0], rhs),
                                          **params)
        return _reshape_axis_out_of(out_spec[1], axis_size, out), out_spec[1]
    # Both batched (an unbatched input is broadcast, so groups stay outermost): one feature
    # group per batch element.
    new_lhs = _reshape_axis_into(0, lhs_spec[1], move_to_front(lhs, bl, axis_size))
    new_rhs = _reshape_axis_into(br, rhs_spec[0], rhs)
    out = conv_general_dilated_p.bind(new_lhs, new_rhs,
                                      **{**params, "feature_group_count": g * axis_size})
    return _reshape_axis_out_of(out_spec[1], axis_size, out), out_spec[1]


conv_general_dilated_p.impl = _conv_impl
conv_general_dilated_p.abstract_eval = _conv_rule
conv_general_dilated_p.batch = _conv_batch
defjvp(conv_general_dilated_p,
       lambda t, lhs, rhs, *, ans, **params: conv_general_dilated_p.bind(t, rhs, **params),
       lambda t, lhs, rhs, *, ans, **params: conv_general_dilated_p.bind(lhs, t, **params))
conv_general_dilated_p.transpose = _conv_transpose


def conv_dimension_numbers(lhs_spec, rhs_spec, out_spec):
    """Axis-position specs from layout strings such as ('NHWC', 'HWIO', 'NHWC').

    Spatial axes are paired in the order the kernel spec lists them (as JAX).
    """
    def spatial(spec):
        return tuple(sorted((i for i, c in enumerate(spec) if c not in "NCIO"),
                            key=lambda i: rhs_spec.index(spec[i])))

    for spec, letters in ((lhs_spec, "NC"), (rhs_spec, "OI"), (out_spec, "NC")):
        if len(set(spec)) != len(spec) or any(c not in spec for c in letters) \
                or len(spec) != len(rhs_spec):
            raise ValueError(f"invalid convolution layout {(lhs_spec, rhs_spec, out_spec)}: "
                             "use strings like ('NHWC', 'HWIO', 'NHWC') of equal length")
    return ((lhs_spec.index("N"), lhs_spec.index("C")) + spatial(lhs_spec),
            (rhs_spec.index("O"), rhs_spec.index("I")) + spatial(rhs_spec),
            (out_spec.index("N"), out_spec.index("C")) + spatial(out_spec))


def conv_general_dilated(lhs, rhs, window_strides, padding, lhs_dilation=None,
                         rhs_dilation=None, dimension_numbers=None, feature_group_count=1):
    """N-d convolution (cross-correlation, as XLA); ``padding`` is 'SAME', 'VALID' or pairs."""
    lhs_aval, rhs_aval = get_aval(lhs), get_aval(rhs)
    nd = lhs_aval.ndim
    nsp = nd - 2
    if dimension_numbers is None:
        dimension_numbers = (tuple(range(nd)),) * 3
    elif isinstance(dimension_numbers[0], str):
        dimension_numbers = conv_dimension_numbers(*dimension_numbers)
    dn = tuple(tuple(int(d) for d in spec) for spec in dimension_numbers)
    window_strides = tuple(int(s) for s in window_strides)
    lhs_dilation = (1,) * nsp if lhs_dilation is None else tuple(int(d) for d in lhs_dilation)
    rhs_dilation = (1,) * nsp if rhs_dilation is None else tuple(int(d) for d in rhs_dilation)
    if isinstance(padding, str):
        in_sp = _dilate_shape(_spatial(lhs_aval.shape, dn[0]), lhs_dilation)
        eff = _dilate_shape(_spatial(rhs_aval.shape, dn[1]), rhs_dilation)
        padding = padtype_to_pads(in_sp, eff, window_strides, padding)
    padding = tuple((int(lo), int(hi)) for lo, hi in padding)
    return conv_general_dilated_p.bind(
        lhs, rhs, window_strides=window_strides, padding=padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=dn,
        feature_group_count=int(feature_group_count))


# ----------------------------------------------------------------------------- reduce_window
def _identity(computation, dtype):
    """0 for sums; the dtype's lowest (highest) value for max (min); None if unordered."""
    if computation == "sum":
        return np.zeros((), dtype)
    if dtype.kind == "f":
        lo, hi = -np.inf, np.inf
    elif dtype.kind == "b":
        lo, hi = False, True
    elif dtype.kind in "iu":
        lo, hi = np.iinfo(dtype).min, np.iinfo(dtype).max
    else:
        return None
    return np.asarray(lo if computation == "max" else hi, dtype)


def _padded(x, fill, padding):
    """``x`` with ``padding`` (non-negative ``(lo, hi)`` pairs) of ``fill``; ``x`` if none."""
    if any(lo or hi for lo, hi in padding):
        return pad_p.impl(x, fill, padding_config=tuple((lo, hi, 0) for lo, hi in padding))
    return x


def _windows(x, fill, window_dimensions, window_strides, padding):
    """View of the (padded) windows: shape ``out_shape + window_dimensions``."""
    win = sliding_window_view(_padded(x, fill, padding), window_dimensions)
    return win[tuple(np.s_[::s] for s in window_strides)]


# The fast impls below never materialise the window axis: they loop over the window's taps
# (offsets, row-major), each a strided view of the padded operand with the output's shape,
# and combine them with whole-array ufuncs.  Selections are made branch-free on the bits
# (``bits & -mask``), as np.where on an unpredictable mask costs ~4 ns an element.  They
# are exactly equal to the generic impls, kept as the spec and the tests' oracle
# (``_ssa_generic``, ``_sga_generic``, each reduce_window primitive's ``generic``), which
# they hand over to where a window has too many taps for its number of windows to pay for
# the Python-level loop.


def _taps(xp, window_dimensions, window_strides, out_shape):
    """Tap views of the padded ``xp``: tap k holds each window's k-th element (row-major)."""
    return [xp[tuple(slice(o, o + (n - 1) * s + 1, s)
                     for o, n, s in zip(offs, out_shape, window_strides))]
            for offs in itertools.product(*(range(w) for w in window_dimensions))]


def _use_taps(x, window_dimensions, out_shape, few=16, per_tap=1024):
    """Whether the tap loop beats the generic gather: at most ``few`` taps, or at least
    ``per_tap`` windows for each tap (each tap costs a few ufunc calls, ~10 us for a
    select's, ~3 us for a reduction's; the generic's cost grows with windows x taps)."""
    taps = int(np.prod(window_dimensions))
    return (x.ndim > 0 and x.dtype.itemsize in (1, 2, 4, 8) and x.dtype.kind in "biuf"
            and (taps <= few or int(np.prod(out_shape)) >= per_tap * taps))


def _bits(a):
    """``a`` viewed as signed integers of its width (for bitwise selection)."""
    return a.view(np.dtype(f"i{a.dtype.itemsize}"))


def _mask(sel, itemsize):
    """All-ones bits where ``sel`` is True, zero elsewhere, as ``i{itemsize}``."""
    return np.negative(sel.view(np.int8), dtype=np.dtype(f"i{itemsize}"))


def _select_masks(x, select, window_dimensions, window_strides, padding, out_shape):
    """One boolean array per tap, True where that tap is its window's first max (min).

    NaN is the max and the min, and the first NaN wins (np.argmax/np.argmin); the padding
    holds the identity, so it is selected only where the whole window ties with it."""
    taps = _taps(_padded(x, _identity(select, x.dtype), padding), window_dimensions,
                 window_strides, out_shape)
    best = taps[0].copy()
    fold = np.maximum if select == "max" else np.minimum  # both propagate NaN
    for t in taps[1:]:
        fold(best, t, out=best)
    nan = best.dtype.kind == "f" and bool(np.isnan(best).any())
    masks, taken = [], None
    for i, t in enumerate(taps):
        if taken is not None and i == len(taps) - 1:
            masks.append(~taken)  # some tap equals the best: the last takes what is left
            break
        eq = t == best
        if nan:
            eq |= np.isnan(t)
        if taken is None:
            masks.append(eq)
            taken = eq.copy()
        else:
            masks.append(eq > taken)  # equal here and not at an earlier tap
            taken |= eq
    return masks


def _window_rule(name, kinds, what):
    def rule(x, *, window_dimensions, window_strides, padding):
        _check_window_params(name, x.ndim, (x,), window_dimensions=window_dimensions,
                             window_strides=window_strides, padding=padding)
        if any(lo < 0 or hi < 0 for lo, hi in padding):
            fail_shape(name, f"padding {padding} must be non-negative", x)
        if x.dtype.kind not in kinds:
            fail_dtype(name, f"operand must be {what}", x)
        out = _windows_out(x.shape, window_dimensions, window_strides, padding)
        return ShapedArray(out, x.dtype, x.weak_type)

    return rule


def _reduce_window_prim(computation, np_reduce, kinds, what):
    p = Primitive(f"reduce_window_{computation}")

    def generic(x, *, window_dimensions, window_strides, padding):
        out_shape = _windows_out(x.shape, window_dimensions, window_strides, padding)
        init = _identity(computation, x.dtype)
        if 0 in out_shape or x.size == 0:
            return np.full(out_shape, init, x.dtype)
        win = _windows(x, init, window_dimensions, window_strides, padding)
        return np_reduce(win, axis=tuple(range(x.ndim, 2 * x.ndim))).astype(x.dtype, copy=False)

    def impl(x, *, window_dimensions, window_strides, padding):
        # A float sum is left to the generic path: np.sum's order over the window axes is
        # NumPy's choice, and a tap-order sum would round differently.
        out_shape = _windows_out(x.shape, window_dimensions, window_strides, padding)
        if (0 in out_shape or x.size == 0
                or not _use_taps(x, window_dimensions, out_shape, few=64, per_tap=64)
                or (computation == "sum" and x.dtype.kind == "f")):
            return generic(x, window_dimensions=window_dimensions,
                           window_strides=window_strides, padding=padding)
        taps = _taps(_padded(x, _identity(computation, x.dtype), padding), window_dimensions,
                     window_strides, out_shape)
        acc = taps[0].copy()
        fold = {"sum": np.add, "max": np.maximum, "min": np.minimum}[computation]
        for t in taps[1:]:
            fold(acc, t, out=acc)  # integer sums wrap as the generic's cast of its sum does
        return acc

    p.impl = impl
    p.generic = generic
    p.abstract_eval = _window_rule(p.name, kinds, what)
    p.batch = _window_batch(p)
    return p


def _window_batch(p):
    """The vmapped axis gets a window of 1 (stride 1, no padding)."""

    def batch(axis_size, vals, dims, *, window_dimensions, window_strides, padding, **rest):
        vals, bd = align_batched(axis_size, vals, dims)

        def ins(t, v):
            return t[:bd] + (v,) + t[bd:]

        return p.bind(*vals, window_dimensions=ins(window_dimensions, 1),
                      window_strides=ins(window_strides, 1), padding=ins(padding, (0, 0)),
                      **rest), bd

    return batch


reduce_window_sum_p = _reduce_window_prim("sum", np.sum, "iufc", "numeric")
reduce_window_max_p = _reduce_window_prim("max", np.max, "biuf", "real or boolean")
reduce_window_min_p = _reduce_window_prim("min", np.min, "biuf", "real or boolean")


def _reduce_window_sum_transpose(ct, x, *, window_dimensions, window_strides, padding):
    # Each input element receives the cotangents of the windows covering it: pad ct with the
    # strides as interior padding, then sum windows of the same size at stride 1.
    if type(ct) is Zero:
        return [None]
    nd = x.aval.ndim
    ones = (1,) * nd
    pads = _vjp_lhs_padding(x.aval.shape, window_dimensions, window_strides,
                            get_aval(ct).shape, padding, ones, ones)
    cfg = [(lo, hi, s - 1) for (lo, hi), s in zip(pads, window_strides)]
    return [reduce_window_sum_p.bind(pad(ct, 0, cfg), window_dimensions=window_dimensions,
                                     window_strides=ones, padding=((0, 0),) * nd)]


deflinear(reduce_window_sum_p, _reduce_window_sum_transpose)


def _chooser_jvp(p, select):
    # The tangent of a max (min) window is the tangent at its first argmax (argmin).
    def jvp(primals, tangents, **params):
        (x,), (t,) = primals, tangents
        ans = p.bind(x, **params)
        if type(t) is Zero:
            return ans, Zero.like(ans)
        return ans, select_and_gather_add_p.bind(t, x, select=select, **params)

    p.jvp = jvp


_chooser_jvp(reduce_window_max_p, "max")
_chooser_jvp(reduce_window_min_p, "min")

# ----------------------------------------------------------------------------- select-and-*
select_and_gather_add_p = Primitive("select_and_gather_add")
select_and_scatter_add_p = Primitive("select_and_scatter_add")


def _window_argselect(x, select, window_dimensions, window_strides, padding):
    """Flat in-window index of each window's first max (min)."""
    win = _windows(x, _identity(select, x.dtype), window_dimensions, window_strides, padding)
    flat = win.reshape(win.shape[:x.ndim] + (-1,))
    return (np.argmax if select == "max" else np.argmin)(flat, axis=-1)


def _sga_generic(t, x, *, select, window_dimensions, window_strides, padding):
    out_shape = _windows_out(x.shape, window_dimensions, window_strides, padding)
    if 0 in out_shape:
        return np.zeros(out_shape, t.dtype)
    idx = _window_argselect(x, select, window_dimensions, window_strides, padding)
    tw = _windows(t, np.zeros((), t.dtype), window_dimensions, window_strides, padding)
    return np.take_along_axis(tw.reshape(out_shape + (-1,)), idx[..., None], -1)[..., 0]


def _ssa_generic(s, x, *, select, window_dimensions, window_strides, padding):
    if s.size == 0 or x.size == 0:
        return np.zeros(x.shape, s.dtype)
    idx = _window_argselect(x, select, window_dimensions, window_strides, padding)
    offsets = np.unravel_index(idx, window_dimensions)
    grid = np.indices(idx.shape, sparse=True)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, padding))
    flat = np.ravel_multi_index(tuple(g * st + o for g, st, o in
                                      zip(grid, window_strides, offsets)), padded).ravel()
    size = int(np.prod(padded))
    if s.dtype.kind == "f":
        acc = np.bincount(flat, weights=s.ravel(), minlength=size).astype(s.dtype)
    else:
        acc = np.zeros(size, s.dtype)
        np.add.at(acc, flat, s.ravel())
    crop = tuple(np.s_[lo:lo + n] for n, (lo, _) in zip(x.shape, padding))
    return acc.reshape(padded)[crop]


def _sga_impl(t, x, *, select, window_dimensions, window_strides, padding):
    """``t`` at each window's first max (min) of ``x`` (0 where that is padding)."""
    out_shape = _windows_out(x.shape, window_dimensions, window_strides, padding)
    if 0 in out_shape or not _use_taps(x, window_dimensions, out_shape):
        return _sga_generic(t, x, select=select, window_dimensions=window_dimensions,
                            window_strides=window_strides, padding=padding)
    masks = _select_masks(x, select, window_dimensions, window_strides, padding, out_shape)
    taps = _taps(_padded(t, np.zeros((), t.dtype), padding), window_dimensions,
                 window_strides, out_shape)
    out = np.empty(out_shape, t.dtype)
    acc, n = _bits(out), t.dtype.itemsize
    np.bitwise_and(_bits(taps[0]), _mask(masks[0], n), out=acc)
    for tap, sel in zip(taps[1:], masks[1:]):
        acc |= _bits(tap) & _mask(sel, n)  # exactly one tap is selected per window
    return out


def _ssa_impl(s, x, *, select, window_dimensions, window_strides, padding):
    """Scatter-add each ``s`` to its window's first max (min) of ``x``; padding drops it."""
    out_shape = _windows_out(x.shape, window_dimensions, window_strides, padding)
    if s.size == 0 or x.size == 0 or not _use_taps(x, window_dimensions, out_shape):
        return _ssa_generic(s, x, select=select, window_dimensions=window_dimensions,
                            window_strides=window_strides, padding=padding)
    masks = _select_masks(x, select, window_dimensions, window_strides, padding, out_shape)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape, padding))
    crop = tuple(np.s_[lo:lo + n] for n, (lo, _) in zip(x.shape, padding))
    if all(st >= w for st, w in zip(window_strides, window_dimensions)):
        # Disjoint windows: each element receives at most one value, written in place.
        # ``+ 0`` turns -0.0 into 0.0 as the generic's sum onto zeros does.
        out = np.zeros(padded, s.dtype)
        src = _bits(s + np.zeros((), s.dtype) if s.dtype.kind == "f" else s)
        for tap, sel in zip(_taps(out, window_dimensions, window_strides, out_shape), masks):
            np.bitwise_and(src, _mask(sel, s.dtype.itemsize), out=_bits(tap))
        return out[crop]
    # Overlapping windows: accumulate as the generic does (floats in float64, added in the
    # order of the windows, i.e. of the taps reversed; integers wrap, bools or).
    acc = np.zeros(padded, np.float64 if s.dtype.kind == "f" else s.dtype)
    src = _bits(s.astype(acc.dtype))
    taps = _taps(acc, window_dimensions, window_strides, out_shape)
    with np.errstate(all="ignore"):  # inf + -inf is NaN, silently, as in np.bincount;
        for tap, sel in zip(taps[::-1], masks[::-1]):  # a sum past float16's range is inf
            tap += (src & _mask(sel, acc.dtype.itemsize)).view(acc.dtype)
        return acc.astype(s.dtype, copy=False)[crop]


def _select_rule(name, gather):
    base = _window_rule(name, "biuf", "real or boolean")

    def rule(v, x, *, select, window_dimensions, window_strides, padding):
        out = base(x, window_dimensions=window_dimensions, window_strides=window_strides,
                   padding=padding)
        want = x.shape if gather else out.shape
        if v.shape != want:
            fail_shape(name, f"the {'tangent' if gather else 'source'} must have shape {want}",
                       v, x)
        if v.dtype != x.dtype:
            fail_dtype(name, "operands must have equal dtypes", v, x)
        return ShapedArray(x.shape if not gather else out.shape, v.dtype)

    return rule


def _select_transpose(other):
    def transpose(ct, v, x, **params):
        if is_undefined(x):
            raise TypeError("select-and-gather/scatter is not linear in the operand")
        return [None if type(ct) is Zero else other.bind(ct, x, **params), None]

    return transpose


for _p, _impl, _gather, _other in (
        (select_and_gather_add_p, _sga_impl, True, select_and_scatter_add_p),
        (select_and_scatter_add_p, _ssa_impl, False, select_and_gather_add_p)):
    _p.impl = _impl
    _p.abstract_eval = _select_rule(_p.name, _gather)
    _p.batch = _window_batch(_p)
    defjvp(_p, lambda t, v, x, *, ans, _p=_p, **params: _p.bind(t, x, **params), None)
    _p.transpose = _select_transpose(_other)

_REDUCE_WINDOW = {"sum": reduce_window_sum_p, "max": reduce_window_max_p,
                  "min": reduce_window_min_p}


def _computation_name(computation):
    """'sum'/'max'/'min' for those strings and for ``lax.add``/``lax.max``/``lax.min``;
    None for any other callable (reduced by the generic slice-and-fold path)."""
    if isinstance(computation, str):
        if computation not in _REDUCE_WINDOW:
            raise ValueError(f"reduce_window: computation must be 'sum', 'max' or 'min' (or "
                             f"lax.add, lax.max, lax.min, or a binary function), got "
                             f"{computation!r}")
        return computation
    if not callable(computation):
        raise TypeError(f"reduce_window: computation must be a binary function such as "
                        f"lax.add or lax.max, got {computation!r}")
    return {ew.add: "sum", ew.max: "max", ew.min: "min"}.get(computation)


def _int_tuple(name, v, n, default):
    if v is None:
        return (default,) * n
    v = tuple(int(d) for d in v)
    if len(v) != n or any(d < 1 for d in v):
        raise ValueError(f"reduce_window: {name} {v} needs {n} positive entries, one per "
                         f"operand axis")
    return v


def _fold_windows(x, init, combine, window, strides, window_dilation, mask=None):
    """Reduce the windows of the already padded ``x`` by folding ``combine`` over one
    strided slice per window offset (used for window dilation and general computations;
    differentiable through ``combine``).  Where ``mask`` (padded like ``x``) is False the
    element is skipped: padding and dilation holes are not part of any window."""
    shape = get_aval(x).shape
    eff = _dilate_shape(window, window_dilation)
    out = tuple(max(0, (n - e) // s + 1) if n >= e else 0
                for n, e, s in zip(shape, eff, strides))
    acc = broadcast_in_dim(init, out, ())
    if 0 in out:
        return acc
    for offs in itertools.product(*(range(w) for w in window)):
        starts = [o * d for o, d in zip(offs, window_dilation)]
        limits = [st + (m - 1) * s + 1 for st, m, s in zip(starts, out, strides)]
        new = combine(acc, _slice(x, starts, limits, strides))
        acc = new if mask is None else ew.select(_slice(mask, starts, limits, strides),
                                                 new, acc)
    return acc


def reduce_window(operand, init_value, computation, window_dimensions, window_strides=None,
                  padding="VALID", base_dilation=None, window_dilation=None):
    """Reduce each window of ``operand`` (XLA's ReduceWindow, with ``jax.lax``'s signature).

    ``computation`` is ``lax.add``, ``lax.max`` or ``lax.min`` (or the strings 'sum',
    'max', 'min'), which use the dedicated primitives; any other binary function of two
    arrays (e.g. ``lax.mul``) is folded over the window offsets.  Padding and base-dilation
    holes are not part of any window (as in XLA); each window reduces its elements and
    folds ``init_value`` in once, so with the computation's identity (0, -inf, +inf) it is
    the plain windowed reduction.  String
    padding is computed from the undilated operand and the dilated window, as JAX.
    """
    name = _computation_name(computation)
    aval = get_aval(operand)
    nd = aval.ndim
    window_dimensions = tuple(int(w) for w in window_dimensions)
    if len(window_dimensions) != nd:
        fail_shape("reduce_window", f"window_dimensions {window_dimensions} needs one entry "
                   "per axis of the operand", aval)
    window_strides = _int_tuple("window_strides", window_strides, nd, 1)
    base_dilation = _int_tuple("base_dilation", base_dilation, nd, 1)
    window_dilation = _int_tuple("window_dilation", window_dilation, nd, 1)
    padding = padtype_to_pads(aval.shape, _dilate_shape(window_dimensions, window_dilation),
                              window_strides, padding)
    if len(padding) != nd:
        raise ValueError(f"reduce_window: padding {padding} needs one (lo, hi) pair per axis "
                         f"of the operand {aval.str_short()}")
    params = dict(window_dimensions=window_dimensions, window_strides=window_strides)
    cfg = [(lo, hi, d - 1) for (lo, hi), d in zip(padding, base_dilation)]
    init_is_identity = False
    identity = None if name is None else _identity(name, aval.dtype)
    if identity is not None and not isinstance(init_value, Tracer):
        init_is_identity = bool(np.asarray(init_value) == identity)
    plain = base_dilation == (1,) * nd and window_dilation == (1,) * nd
    if plain and init_is_identity:
        return _REDUCE_WINDOW[name].bind(operand, padding=padding, **params)
    init = ew.convert_element_type(init_value, aval.dtype) if isinstance(init_value, ArrayBase) \
        else full((), init_value, aval.dtype)
    if identity is None and name is not None:  # e.g. max of complex: the primitive explains
        return _REDUCE_WINDOW[name].bind(operand, padding=padding, **params)
    if identity is None:
        # Any binary function: fold over the window offsets, skipping padding and holes.
        mask = pad(full(aval.shape, True, np.dtype(bool)), full((), False, np.dtype(bool)), cfg)
        combine = _COMBINE.get(name, computation)
        return _fold_windows(pad(operand, init, cfg), init, combine, window_dimensions,
                             window_strides, window_dilation, mask)
    # Padding and dilation holes hold the identity (they are not part of any window, as in
    # XLA); the init value is folded in once per window.
    ident = full((), identity, aval.dtype)
    combine = _COMBINE[name]
    padded = pad(operand, ident, cfg)
    if window_dilation == (1,) * nd:
        out = _REDUCE_WINDOW[name].bind(padded, padding=((0, 0),) * nd, **params)
    else:
        out = _fold_windows(padded, ident, combine, window_dimensions, window_strides,
                            window_dilation)
    if init_is_identity:
        return out
    return combine(out, broadcast_in_dim(init, get_aval(out).shape, ()))


_COMBINE = {"sum": ew.add, "max": ew.max, "min": ew.min}
