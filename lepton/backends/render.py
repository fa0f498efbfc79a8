"""Render a fused group as the source of a kernel, in a device's dialect.

Each fused primitive has a scalar expression template (``templates``) over its operands'
expressions; a group becomes one loop nest whose body evaluates its equations in order
at each index, reads leaves by index arithmetic and writes its outputs.  Sizes are read
from the ``n`` argument at run time, never baked in, so one source (and one compiled
kernel) serves every shape of the same rank, dtypes and broadcasting pattern.

Constants follow one rule: a value is written into the source only where it shapes the
code.  Float and complex scalar literals (``x * 0.1``, the ``1/n`` of a mean, a learning
rate, a pad's fill value) are scalar arguments ``c0, c1, ...`` of their own dtype (a
float32 literal is a float32 argument: no rounding, no float64 arithmetic), one per
literal read in program order, so the source never depends on their values and one
compiled kernel serves every batch size and every such constant.  Written in the source
(``templates.const``) are: integer and boolean literals (shift counts, masks, counters
and offsets; LLVM turns a constant integer divisor into a multiply), the operands that
``templates.BAKED_OPERANDS`` names (a ``pow`` exponent: LLVM turns ``x ** 2.0`` into
``x * x``, 40x faster than a call), float zeros (relu's and ``where``'s 0.0, never a
batch size or a learning rate: LLVM folds a known non-NaN threshold, and ``x - 0.0`` and
``x + -0.0``; relu's kernel in cnn_step measured 5% slower with 0.0 as an argument), and
the templates' own constants (reduction identities, typed ones and zeros).  Slice and pad
offsets are run-time ints (``q``).

What differs between devices comes from a ``Dialect``: the lowering table (templates,
fast spellings and their guards), the loop headers and the compile decorator.
"""
from __future__ import annotations

import numpy as np

from ..ir import Literal
from .templates import BAKED_OPERANDS, acc_dtype, const, init, ty


class Dialect:
    """How one device spells a kernel (subclassed per device, e.g. ``cpu/dialect.py``).

    ``lowerings``: the device's ``lowering.Table``.  ``loop(var, bounds, parallel)``: a
    loop header over ``range(bounds)``.  ``decorator(parallel, reassociate)``: the line
    before ``def kernel`` (``reassociate``: the kernel accumulates, and may reorder its
    sums).
    ``max_parallel_tuple``: most offsets a parallel kernel takes as a tuple (more come as
    an array); ``max_kernel_eqns``: most equations in one kernel (None: no cap)."""

    lowerings = None
    max_parallel_tuple = None
    max_kernel_eqns = None

    def loop(self, var: str, bounds: str, parallel: bool) -> str:
        raise NotImplementedError

    def accumulate(self, eqn, acc: str, value: str) -> str:
        """The source of reduction ``eqn``'s accumulator updated with ``value``."""
        return self.lowerings.template(eqn).format(a=acc, v=value)

    def decorator(self, parallel: bool, reassociate: bool) -> str:
        raise NotImplementedError


class Kernel:
    """Generated source plus how the driver calls it: ``inputs`` and ``outputs`` are
    (var, kernel shape) pairs in argument order; ``sizes`` is the loop-size tuple and
    ``params`` the offsets ``q`` of slice/pad reads (passed only when non-empty): a tuple,
    or an int64 array where ``params_array`` (a parallel kernel with more offsets than the
    dialect's ``max_parallel_tuple``; the source is the same).  ``consts``: the values of
    the scalar arguments ``c0, c1, ...`` (NumPy scalars of their dtypes), passed after
    ``q``."""

    def __init__(self, source, inputs, outputs, sizes, parallel, params=(), params_array=False,
                 consts=()):
        self.source, self.inputs, self.outputs = source, inputs, outputs
        self.sizes, self.parallel, self.params = sizes, parallel, tuple(params)
        self.params_array, self.consts = params_array, tuple(consts)


#: Cost in adds of a transcendental op: a libm call (float64 tanh: ~19 ns an element on
#: the 2-core CI machine, where an add kernel costs ~0.06 ns per add) and a float32 op
#: with a vectorised ``fast_f32`` spelling (tanh ~1.0 ns, logistic 0.5, exp 0.35).
TRANSCENDENTAL, FAST_TRANSCENDENTAL = 1000, 20


def cost(group, table) -> int:
    """Work per domain element, in adds: a transcendental counts as 1000 so that a
    transcendental-heavy kernel goes parallel around 1k elements, a cheap one near 1M.
    A float32 transcendental with a vectorised spelling counts 20: an LSTM cell's gates
    (five of them over 64x128) run in 29 us serially, and a prange launch of them cost
    10 us more on an idle machine and ~200 us on a busy one, at every step of a loop."""
    def one(e):
        row = table.row(e.prim.name)
        if not row.transcendental:
            return 1
        fast = row.fast_f32 and e.outvars[0].aval.dtype == np.float32
        return FAST_TRANSCENDENTAL if fast else TRANSCENDENTAL
    return 1 + sum(one(e) for e in group.eqns)


def render(group, nest, parallel: bool, dialect: Dialect) -> Kernel:
    return _Renderer(group, nest, dialect).render(parallel)


class _Renderer:
    """Writes one kernel: arguments, per-mode loop bodies, and the loop structure."""

    def __init__(self, group, nest, dialect):
        self.g, self.nest, self.dialect = group, nest, dialect
        self.table = dialect.lowerings
        self.args: dict = {}        # (var, loop axes) -> argument name
        self.inputs: list = []      # (var, kernel shape) per argument
        self.params: list = []      # run-time ints of offset reads, the kernel's ``q``
        self.offset_reads: dict = {}  # offset leaf contents -> (index, guard) source
        self.consts: list = []      # values of the scalar arguments c0, c1, ...
        self.const_args: dict = {}  # (what, id of its leaf) -> argument name
        self.segments: dict = {}    # innermost-axis bound check -> its per-segment flag
        self.parallel = False       # the kernel's first loop may be a parallel one

    def idx(self, axes):
        """An index tuple.  Indices are cast to unsigned: Numba then skips its negative-index
        wraparound, which LLVM cannot prove dead for loops that start past 0 (chunks of a
        parallel reduction, slice offsets) and which stops them vectorising (2x measured)."""
        return ", ".join(f"np.uint64(i{a})" for a in axes) or "0"

    def arg(self, leaf):
        axes = self.nest.index(leaf.amap)
        key = (leaf.base, axes)
        if key not in self.args:
            self.args[key] = f"a{len(self.args)}"
            self.inputs.append((leaf.base, self.nest.shape(leaf.amap)))
        return self.args[key], axes

    def offset_load(self, leaf):
        """(index, guard) source of an offset read: slice starts and pad bounds come from
        the run-time tuple ``q``; the stride is part of the source."""
        content = (leaf.base, leaf.amap, leaf.start, leaf.step, leaf.bounds)
        if content not in self.offset_reads:
            self.offset_reads[content] = self._offset_read(leaf)
        index, terms = self.offset_reads[content]
        return index, " and ".join(self.guard_term(t) for t in terms)

    def _offset_read(self, leaf):
        """The read's index source and its bound checks, ``(ax, step, start, lo, hi)``
        with ``q`` positions: ``q[lo] <= q[start] + step * i{ax} < q[hi]``."""
        key = (leaf.base, "base shape")
        if key not in self.args:
            self.args[key] = f"a{len(self.args)}"
            self.inputs.append((leaf.base, leaf.base.aval.shape))
        index, terms = [], []
        for a, d in enumerate(leaf.amap):
            ax = self.nest.axis(d)
            start = self.param(leaf.start[a])
            index.append(f"np.uint64({_position(start, leaf.step[a], ax)})")  # see ``idx``
            if leaf.bounds[a] is not None:
                lo, hi = leaf.bounds[a]
                terms.append((ax, leaf.step[a], start, self.param(lo), self.param(hi)))
        return f"{self.args[key]}[{', '.join(index)}]", terms

    def guard_term(self, term) -> str:
        """A bound check's source.  One on the innermost loop axis (of a nest with outer
        axes) is a per-segment flag ``jm<k>``: ``segment`` splits that loop where the
        check can change, so the loop body reads each pad's array with a loop-invariant
        test, which LLVM unswitches and vectorises (a masked read per element measured
        3.3x slower: an LSTM's backward pad-sum of four gate gradients, 64x512)."""
        ax, step, start, lo, hi = term
        if ax is None or ax != len(self.nest.sizes) - 1 or (ax == 0 and self.parallel):
            return f"q[{lo}] <= {_position(start, step, ax)} < q[{hi}]"
        return self.segments.setdefault(term, f"jm{len(self.segments)}")

    def param(self, value) -> int:
        self.params.append(int(value))
        return len(self.params) - 1

    def constant(self, key, value, dtype, baked=False) -> str:
        """A constant's source: a scalar argument for a nonzero float or complex value
        (``key`` names the read, so both loop bodies of a guarded kernel share it), else
        its text (see the module docstring)."""
        dtype = np.dtype(dtype)
        if baked or dtype.kind not in "fc" or value == 0:
            return const(value, dtype)
        name = self.const_args.get(key)
        if name is None:
            name = self.const_args[key] = f"c{len(self.consts)}"
            self.consts.append(dtype.type(value))
        return name

    def body(self, fast: bool):
        """The innermost-loop statements; returns (lines, accumulators, guarded)."""
        lines, names, loads, accs, guards = [], {}, {}, [], []

        def leaf(x, baked):
            base = x.base
            if type(base) is Literal:
                return self.constant(("literal", id(x)), base.value._value, base.aval.dtype,
                                     baked)
            if type(base) is tuple:  # iota
                _, dtype, _, dim = base
                ax = self.nest.axis(x.amap[dim])
                return f"{ty(dtype)}({'0' if ax is None else f'i{ax}'})"
            if x.offset:
                read, guard = self.offset_load(x)
                if guard:
                    fill = self.constant(("fill", id(x)), x.fill, x.base.aval.dtype)
                    read = f"({read} if {guard} else {fill})"
            else:
                name, axes = self.arg(x)
                read = f"{name}[{self.idx(axes)}]"
            if read not in loads:
                loads[read] = t = f"x{len(loads)}"
                lines.append(f"{t} = {read}")
            return loads[read]

        for e in self.g.eqns:
            baked = BAKED_OPERANDS.get(e.prim.name, ())
            ops = [names[x] if kind == "val" else leaf(x, k in baked)
                   for k, (kind, x) in enumerate(self.g.operands[e])]
            out, name = e.outvars[0], e.prim.name
            dt = out.aval.dtype
            row = self.table.row(name)
            if row.reduction:
                acc = names[out] = f"acc{len(accs)}"
                accs.append((acc, e))
                comb = self.dialect.accumulate(e, acc, ops[0])
                lines.append(f"{acc} = {ty(acc_dtype(e))}({comb})")
                continue
            fmt = self.table.template(e)
            if dt == np.float32 and row.fast_f32 and (fast or not row.guard):
                fmt = row.fast_f32
                if row.guard and row.guard.format(*ops) not in guards:
                    guards.append(row.guard.format(*ops))
            t = names[out] = f"v{len(names)}"
            lines.append(f"{t} = {ty(dt)}({fmt.format(*ops)})")
        full = self.idx(range(len(self.nest.sizes)))
        lines += [f"o{k}[{full}] = {names[v]}" for k, v in enumerate(self.g.outputs)
                  if v in self.g.values]
        if guards:  # one update per iteration: a prange reduction variable allows no more
            lines.append(f"nbig += np.int64({' | '.join(f'({c})' for c in guards)})")
        return lines, accs, bool(guards)

    def render(self, parallel):
        g, nest = self.g, self.nest
        self.parallel = parallel
        kept = tuple(d for d in range(len(g.domain)) if d not in (g.red_axes or ()))
        outputs = [(v, nest.sizes if v in g.values else nest.shape(kept)) for v in g.outputs]
        self.kept = nest.index(kept)
        finals = {v: (f"o{k}", self.idx(self.kept)) for k, v in enumerate(g.outputs)
                  if v in g.reduced}
        body, accs, guarded = self.body(fast=True)
        lines, parallel = self.structure(body, accs, finals, parallel)
        if guarded:  # some argument was outside a fast function's exact domain
            exact, accs, _ = self.body(fast=False)
            lines = (["nbig = 0"] + lines + ["if nbig > 0:"]
                     + ["    " + ln for ln in self.structure(exact, accs, finals, False)[0]])
        args = (["n"] + (["q"] if self.params else [])
                + [f"c{k}" for k in range(len(self.consts))] + list(self.args.values())
                + [f"o{i}" for i in range(len(outputs))])
        src = "\n".join([self.dialect.decorator(parallel, bool(accs)),
                         f"def kernel({', '.join(args)}):"]
                        + ["    " + ln for ln in lines]) + "\n"
        limit = self.dialect.max_parallel_tuple
        as_array = parallel and limit is not None and len(self.params) > limit
        return Kernel(src, self.inputs, outputs, nest.sizes, parallel, self.params, as_array,
                      self.consts)

    def structure(self, body, accs, finals, parallel):
        """The loop nest around ``body``; returns (lines, whether it is parallel)."""
        lines, parallel = self._structure(body, accs, finals, parallel)
        return self.segment(lines) if self.segments else lines, parallel

    def segment(self, lines):
        """Split the innermost loop (``i<L>``, never a parallel one) into the
        runs where every ``segments`` check is constant: between the points where some
        ``q[start] + step * i`` enters or leaves its ``[q[lo], q[hi])``."""
        last = len(self.nest.sizes) - 1
        header = self.dialect.loop(f"i{last}", f"n[{last}]", False)
        flags = tuple(self.segments.values())
        for at, line in enumerate(lines):  # the loop around the body, not an init loop
            pad = line[:len(line) - len(line.lstrip())]
            end = next((k for k in range(at + 1, len(lines))
                        if not lines[k].startswith(pad + "    ")), len(lines))
            if line.strip() == header and any(f in ln for ln in lines[at + 1:end]
                                               for f in flags):
                break
        else:
            raise AssertionError("no innermost loop reads the segment flags")
        run = [f"jb = 0", f"while jb < n[{last}]:", f"    je = n[{last}]"]
        for (ax, step, start, lo, hi), flag in self.segments.items():
            for bound in (lo, hi):
                cut = (f"q[{bound}] - q[{start}]" if step == 1
                       else f"-((q[{start}] - q[{bound}]) // {step})")  # ceil division
                run += [f"    jt = {cut}", "    if jb < jt < je:", "        je = jt"]
            run.append(f"    {flag} = q[{lo}] <= {_position(start, step, 'jb')} < q[{hi}]")
        run.append("    " + self.dialect.loop(f"i{last}", "jb, je", False))
        return (lines[:at] + [pad + ln for ln in run]
                + ["    " + ln for ln in lines[at + 1:end]]
                + [pad + "    jb = je"] + lines[end:])

    def _structure(self, body, accs, finals, parallel):
        r, red = len(self.nest.sizes), self.nest.red
        stores = [(finals[e.outvars[0]], acc, e) for acc, e in accs]
        if red and red != tuple(range(r - len(red), r)):
            return self.scatter_reduce(r, body, stores, parallel and 0 not in red)
        if accs and parallel and red and red[0] == 0:
            return self.chunked_reduce(r, body, stores), True
        first_red = red[0] if red else r
        lines = self.loops(range(first_red), parallel, 0)
        lines += ["    " * first_red + f"{acc} = {init(e)}" for _, acc, e in stores]
        lines += self.loops(range(first_red, r), False, first_red)
        lines += ["    " * r + ln for ln in body]
        lines += ["    " * first_red + f"{o}[{i}] = {acc}" for (o, i), acc, _ in stores]
        return lines, parallel and first_red > 0

    def loops(self, axes, parallel_first, depth):
        loop = self.dialect.loop
        return ["    " * (depth + k) + loop(f"i{a}", f"n[{a}]", parallel_first and k == 0)
                for k, a in enumerate(axes)]

    def chunked_reduce(self, r, body, stores):
        """A full reduction split into chunks of the outer axis, combined serially."""
        lines = ["nc = min(n[0], 64)"]
        lines += [f"p{k} = np.empty(max(nc, 1), {ty(acc_dtype(e))})"
                  for k, (_, _, e) in enumerate(stores)]
        chunks = self.dialect.loop("c", "nc", True)
        lines.append(chunks)
        lines += [f"    {acc} = {init(e)}" for _, acc, e in stores]
        chunk = "c * n[0] // nc, (c + 1) * n[0] // nc"
        lines.append("    " + self.dialect.loop("i0", chunk, False))
        lines += self.loops(range(1, r), False, 2)
        lines += ["    " * (r + 1) + ln for ln in body]
        lines += [f"    p{k}[c] = {acc}" for k, (_, acc, _) in enumerate(stores)]
        if any(ln.startswith("nbig += ") for ln in body):  # count per chunk, add once
            lines = [ln.replace("nbig += ", "nb += ") for ln in lines]
            at = lines.index(chunks) + 1
            lines[at:at] = ["    nb = 0"]
            lines.append("    nbig += nb")
        for k, ((o, i), acc, e) in enumerate(stores):
            comb = self.dialect.accumulate(e, acc, f"p{k}[c]")
            lines += [f"{acc} = {init(e)}", self.dialect.loop("c", "nc", False),
                      f"    {acc} = {ty(acc_dtype(e))}({comb})", f"{o}[{i}] = {acc}"]
        return lines

    def scatter_reduce(self, r, body, stores, parallel):
        """Reductions over leading or interleaved axes accumulate into their outputs (or
        into a double-precision copy, see ``acc_dtype``).  Initialisation and copy-out are
        explicit loops over the output's axes: slice assignment (``buf[:] = 0``) costs Numba
        1.3-2 s of typing and lowering on its first use in a process."""
        lines, copies = [], []
        depth = len(self.kept)
        over_out = self.loops(self.kept, False, 0)
        for (o, i), acc, e in stores:
            buf = o
            if acc_dtype(e) != e.outvars[0].aval.dtype:
                buf = f"s{o[1:]}"
                lines.append(f"{buf} = np.empty({o}.shape, {ty(acc_dtype(e))})")
                copies += over_out + ["    " * depth + f"{o}[{i}] = {buf}[{i}]"]
            lines += over_out + ["    " * depth + f"{buf}[{i}] = {init(e)}"]
            body = [ln.replace(acc, f"{buf}[{i}]") if ln.startswith(acc + " = ") else ln
                    for ln in body]
        lines += self.loops(range(r), parallel, 0)
        lines += ["    " * r + ln for ln in body]
        return lines + copies, parallel


def _position(start: int, step: int, ax) -> str:
    """The source of base position ``q[start] + step * i<ax>`` (``ax`` a loop axis, a
    variable name, or None for a fixed index)."""
    if ax is None:
        return f"q[{start}]"
    i = ax if isinstance(ax, str) else f"i{ax}"
    return f"q[{start}] + {i}" if step == 1 else f"q[{start}] + {step} * {i}"
