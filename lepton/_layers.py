"""lepton's import layering, as data: ``tests/test_layering.py`` enforces it.

A module may import its own layer and the layers below it, never a layer above, not even
inside a function. Where a lower layer needs something only a higher one can build, the
higher layer installs it late (as ``lepton.numpy`` installs the Python operators on
``core.ArrayBase``, ``transforms.vectorize`` installs ``lepton.numpy.vectorize`` and
``flatten_util`` installs ``lepton.tree.ravel_pytree``).

Each entry names a module or a package; a package covers its submodules unless one of them
is placed on its own (``lepton.transforms.jit`` sits above the rest of ``transforms``). The
root package ``lepton`` covers only its ``__init__``: every other module is placed below.
This module imports nothing, so anything may read it.
"""
from __future__ import annotations

#: Bottom to top.  (name, modules/packages, why they sit there)
LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # values, dtypes, pytrees, configuration and errors: what everything else speaks
    ("core", ("lepton.config", "lepton.errors", "lepton.dtypes", "lepton.core", "lepton.tree",
              "lepton.tree_util", "lepton.dataclasses", "lepton.device", "lepton._layers",
              "lepton._quiet")),
    # the program representation: Var/Eqn/Jaxpr, typecheck, printing
    ("ir", ("lepton.ir",)),
    # the closed set of primitives, each with all its math rules
    ("primitives", ("lepton.primitives",)),
    # compile a jaxpr; import core, ir and primitives only (jit reads their statistics)
    ("backends", ("lepton.backends",)),
    # NumPy-flavoured and low-level ops over primitives, pytree raveling, host callbacks
    ("ops", ("lepton.numpy", "lepton._lax_misc", "lepton.random", "lepton.callbacks",
             "lepton.debug", "lepton.flatten_util")),
    # the interpreters: jvp, batching/vmap, staging, partial eval, transpose, custom rules
    ("transforms", ("lepton.transforms",)),
    # jit and the control-flow primitives beside it (they compile their bodies with jit's
    # cache); ``lepton.lax`` is the public facade over lax ops *and* control flow, so it
    # sits here too, while the ops it re-exports live lower (``_lax_misc``, primitives)
    ("jit/control_flow", ("lepton.transforms.jit", "lepton.control_flow", "lepton._lax_scan",
                          "lepton._lax_solves", "lepton.lax")),
    # libraries written with the public API
    ("libraries", ("lepton.nn", "lepton.stax", "lepton.optimizers", "lepton.scipy",
                   "lepton.serialization", "lepton.datasets", "lepton.test_util",
                   "lepton.misc")),
    # the Keras-style facade (``leptonic`` is its distribution name)
    ("keras", ("lepton.keras", "leptonic")),
    # the public API: ``import lepton``
    ("api", ("lepton",)),
)

LAYER_NAMES = tuple(name for name, _ in LAYERS)


def layer_of(module: str) -> int | None:
    """Index in ``LAYERS`` of ``module`` (dotted name); None if it is not placed."""
    best, best_len = None, -1
    for i, (_, entries) in enumerate(LAYERS):
        for e in entries:
            covers = module == e or (e != "lepton" and module.startswith(e + "."))
            if covers and len(e) > best_len:
                best, best_len = i, len(e)
    return best
