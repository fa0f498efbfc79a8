"""The README's quick-start example runs and converges, in the default (tiered) mode that users
run: the suite's conftest makes compiles synchronous, so the subprocess turns tiering back on."""
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.parametrize("tiered", ["1", "0"], ids=["tiered", "synchronous"])
def test_quickstart_example_converges(tiered):
    env = dict(os.environ, LEPTON_TIERED=tiered)
    out = subprocess.run([sys.executable, "-W", "error",
                          os.path.join(ROOT, "examples", "quickstart.py")],
                         capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")
