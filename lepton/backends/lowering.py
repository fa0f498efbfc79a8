"""Lowering tables: how a device lowers each primitive, as data.

Each device declares one ``Table`` (the cpu's is ``cpu/lowering.py``), keyed by primitive
name, whose ``Lowering`` rows say how each primitive lowers:

* ``fused``: a scalar template (``templates.TEMPLATES``, or ``templates.REDUCERS`` for a
  reduction, which ends the loop nest) inside a fused loop-nest kernel.  The row adds the
  device's facts: whether the op is transcendental (``render.cost``), a faster float32
  spelling and the guard that says where that spelling is inexact;
* ``view``: index arithmetic on the arrays a kernel reads (``index.Leaf.view``);
* ``direct``: a hand-written device kernel, and ``library``: a library call (BLAS).
  Both are added to the driver by the row's ``emit(eqn, slot, drive)``, which may
  decline (returns False: the equation then runs as a host step);
* ``host``: the primitive's NumPy impl, called by the driver.

A primitive without a row is a host step (``HOST``): a new primitive runs everywhere
from the start, and needs one row per device to run faster.  Fused and view rows also
fall back to a host step where their template does not support the dtypes (or a view
is not index arithmetic).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from . import templates

KINDS = ("fused", "view", "direct", "library", "host")


@dataclass(frozen=True)
class Lowering:
    kind: str
    template: str | None = None        # fused: key in templates.TEMPLATES or REDUCERS
    reduction: bool = False            # fused: a reduction (templates.REDUCERS)
    transcendental: bool = False       # costs about 1000 adds (``render.cost``)
    fast_f32: str | None = None        # fused: float32 spelling used instead of the template
    guard: str | None = None           # condition where ``fast_f32`` is inexact (then redo)
    emit: Callable | None = None       # direct/library: emit(eqn, slot, drive) -> bool
    blas: bool = False                 # its host step is mostly BLAS (wider BLAS threads)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"lowering kind {self.kind!r} is not one of {KINDS}")


def fused(template: str, *, transcendental=False, fast_f32=None, guard=None) -> Lowering:
    if template not in templates.TEMPLATES:
        raise KeyError(f"no template {template!r} in lepton/backends/templates.py")
    return Lowering("fused", template, False, transcendental, fast_f32, guard)


def reduction(template: str) -> Lowering:
    if template not in templates.REDUCERS:
        raise KeyError(f"no reducer {template!r} in lepton/backends/templates.py")
    return Lowering("fused", template, reduction=True)


def direct(emit: Callable, *, blas=False) -> Lowering:
    return Lowering("direct", emit=emit, blas=blas)


def library(emit: Callable, *, blas=True) -> Lowering:
    return Lowering("library", emit=emit, blas=blas)


VIEW = Lowering("view")
HOST = Lowering("host")


class Table:
    """A device's lowering rows, with the queries the shared scheduler and renderer ask."""

    def __init__(self, rows: dict):
        self.rows = dict(rows)

    def row(self, name: str) -> Lowering:
        """The row of primitive ``name``; ``HOST`` where the device has none."""
        return self.rows.get(name, HOST)

    def kind(self, name: str) -> str:
        return self.row(name).kind

    def defaults(self, names) -> list:
        """The names among ``names`` that have no row (host steps by default)."""
        return sorted(n for n in names if n not in self.rows)

    def template(self, eqn) -> str | None:
        """The format text of fused equation ``eqn``, or None where it cannot fuse (not a
        fused row, or dtypes its template does not support)."""
        row = self.rows.get(eqn.prim.name)
        if row is None or row.kind != "fused":
            return None
        dts = [v.aval.dtype for v in eqn.invars] + [v.aval.dtype for v in eqn.outvars]
        if any(d not in templates.SCALAR_DTYPES for d in dts):
            return None
        if row.reduction:
            fmt, kinds = templates.REDUCERS[row.template]
            return fmt if dts[0].kind in kinds else None
        make = templates.TEMPLATES[row.template]
        return make(dts[:len(eqn.invars)], dts[-1], eqn.params)

    def fusable(self, eqn) -> bool:
        return len(eqn.outvars) == 1 and self.template(eqn) is not None

    def reduction_axes(self, eqn):
        """The reduced axes if ``eqn`` is a fused reduction, else None."""
        row = self.rows.get(eqn.prim.name)
        return eqn.params["axes"] if row is not None and row.reduction else None

    def is_view(self, eqn) -> bool:
        return self.kind(eqn.prim.name) == "view"
