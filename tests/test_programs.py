"""JAX- and autograd-style programs (tests/programs/*.py, written against those libraries'
public API) run with only their import lines rewritten to lepton, and match reference
values recorded once from NumPy implementations with hand-derived or finite-difference
gradients (tests/programs/make_references.py -> references.json).  Neither JAX nor
autograd is imported."""
from __future__ import annotations

import json
import pathlib
import re
import types

import numpy as np
import pytest

import lepton

HERE = pathlib.Path(__file__).resolve().parent / "programs"
REFERENCES = json.loads((HERE / "references.json").read_text())
PROGRAMS = sorted(p.stem for p in HERE.glob("*.py")
                  if not p.stem.startswith("_") and p.stem != "make_references")
#: relative tolerance per program (programs whose arithmetic is float32 get a looser one)
RTOL = {"autograd_tanh": 1e-4}  # float32 arithmetic (lepton.numpy.linspace)
IMPORT = re.compile(r"^(\s*)(import|from)\s+(jax|autograd)\b(.*)$")


def rewrite_imports(source: str) -> str:
    """Only the import lines change: ``import jax`` -> ``import lepton as jax``,
    ``import jax.numpy as jnp`` -> ``import lepton.numpy as jnp``, ``from autograd import
    grad`` -> ``from lepton import grad``, ``import autograd.numpy as np`` -> ``import
    lepton.numpy as np``."""
    out = []
    for line in source.splitlines():
        m = IMPORT.match(line)
        if m:
            indent, kw, lib, rest = m.groups()
            if kw == "import" and not rest.startswith("."):
                line = f"{indent}import lepton as {lib}{rest}" if rest.strip() == "" else \
                    f"{indent}import lepton{rest}"
            else:
                line = f"{indent}{kw} lepton{rest}"
        out.append(line)
    return "\n".join(out) + "\n"


def run_program(name):
    source = rewrite_imports((HERE / f"{name}.py").read_text())
    assert not re.search(r"^\s*(import|from)\s+(jax|autograd)\b", source, re.M)
    mod = types.ModuleType(f"tests.programs.{name}")
    mod.__file__ = str(HERE / f"{name}.py")
    x64 = lepton.config.jax_enable_x64
    try:
        exec(compile(source, mod.__file__, "exec"), mod.__dict__)
        return mod.main()
    finally:
        lepton.config.update("jax_enable_x64", x64)  # programs may switch 64-bit mode on


def test_rewrite_only_touches_import_lines():
    src = ("import jax\nimport jax.numpy as jnp\nfrom jax import lax\n"
           "from jax.scipy.special import logsumexp\nimport autograd.numpy as np\n"
           "from autograd import grad\nx = jax.jit(f)  # import jax\n")
    assert rewrite_imports(src) == (
        "import lepton as jax\nimport lepton.numpy as jnp\nfrom lepton import lax\n"
        "from lepton.scipy.special import logsumexp\nimport lepton.numpy as np\n"
        "from lepton import grad\nx = jax.jit(f)  # import jax\n")


def test_every_program_has_references():
    assert set(PROGRAMS) == set(REFERENCES), "run tests/programs/make_references.py"
    assert len(PROGRAMS) >= 8


@pytest.mark.parametrize("name", PROGRAMS)
def test_program_matches_reference(name):
    got = run_program(name)
    want = REFERENCES[name]
    assert set(got) == set(want), f"{name}: outputs {sorted(got)} vs references {sorted(want)}"
    for key, ref in want.items():
        val = np.asarray(got[key])
        ref = np.asarray(ref, dtype=np.float64)
        assert val.shape == ref.shape, f"{name}.{key}: shape {val.shape} != {ref.shape}"
        tol = RTOL.get(name, 1e-6)
        np.testing.assert_allclose(val.astype(np.float64), ref, rtol=tol, atol=tol * 1e-2,
                                   err_msg=f"{name}.{key}")
