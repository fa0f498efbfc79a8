"""Several processes compiling the same programs into one empty kernel cache at once.

Each writes the same kernel files (atomically: temporary file + rename) and reads what
the others wrote; tiered processes also fork compile children that write there.  Every
process must get the reference's answers with no cache warning, no temporary file may be
left, and a later process must load every kernel without compiling one.
"""
import json
import os
import subprocess
import sys
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

_PROGRAM = textwrap.dedent("""
    import json, sys, warnings
    import numpy as np, lepton, lepton.numpy as lnp
    from lepton.backends import cache
    warnings.simplefilter("error")  # a cache fault warns: make it fail the process

    def loss(w, x):
        h = lnp.tanh(x @ w)
        return lnp.mean(lnp.sum(h * h, axis=1)) + lnp.max(lnp.exp(-x))

    step = lepton.jit(lambda w, x: (loss(w, x), lepton.grad(loss)(w, x)), backend="cpu")
    big = lepton.jit(lambda x: lnp.sin(x) * lnp.exp(-x * x) + 1.5, backend="cpu")
    rng = np.random.default_rng(0)
    w = rng.standard_normal((16, 8)).astype(np.float32)
    x = rng.standard_normal((32, 16)).astype(np.float32)
    xs = np.linspace(-4, 4, 1 << 20).astype(np.float32)  # large: a prange kernel
    outs = []
    for _ in range(3):
        (l, g), b = step(w, x), big(xs)
        outs.append((float(l), np.asarray(g).tolist()[0], float(np.asarray(b).sum())))
    lepton.wait_for_compilation()
    (l, g), b = step(w, x), big(xs)
    outs.append((float(l), np.asarray(g).tolist()[0], float(np.asarray(b).sum())))
    ref_l, ref_g = lepton.jit(step.fun, backend="reference")(w, x)
    ref_b = lepton.jit(big.fun, backend="reference")(xs)
    for l, g, b in outs:
        assert abs(l - float(ref_l)) <= 1e-5 * abs(float(ref_l)), (l, float(ref_l))
        assert np.allclose(g, np.asarray(ref_g)[0], rtol=1e-4, atol=1e-6)
        assert abs(b - float(np.asarray(ref_b).sum())) <= 1e-3 * abs(b)
    print(json.dumps([lepton.cache_info().numba_compiles, cache.stats.cache_faults]))
""")


def _start(tmp_path, tiered: str):
    env = dict(os.environ, LEPTON_CACHE_DIR=str(tmp_path), LEPTON_TIERED=tiered,
               LEPTON_COMPILE_AT_EXIT="0")
    return subprocess.Popen([sys.executable, "-c", _PROGRAM], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _finish(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    compiles, faults = json.loads(out.strip().splitlines()[-1])
    assert faults == 0
    return compiles


@pytest.mark.parametrize("tiered", ["0", "1"])
def test_processes_compiling_into_one_cache_at_once(tmp_path, tiered):
    procs = [_start(tmp_path, tiered) for _ in range(3)]
    for proc in procs:
        _finish(proc)
    leftovers = [name for _, _, names in os.walk(tmp_path) for name in names
                 if name.endswith(".tmp")]
    assert not leftovers, leftovers
    # Synchronous now: every kernel the programs need must load from the shared cache.
    assert _finish(_start(tmp_path, "0")) == 0
