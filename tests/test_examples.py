"""The README's examples run as a user runs them: in a fresh process, from the command line,
in the default (tiered) mode that users run (the suite's conftest makes compiles
synchronous, so the subprocess turns tiering back on), with warnings as errors."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(script, *args, tiered="1", timeout=600):
    env = dict(os.environ, LEPTON_OFFLINE="1", PYTHONUNBUFFERED="1", LEPTON_TIERED=tiered)
    out = subprocess.run([sys.executable, "-W", "error",
                          os.path.join(ROOT, "examples", script), *args],
                         capture_output=True, text=True, timeout=timeout, env=env,
                         cwd=ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def test_regression_example_converges():
    assert _run("regression_grad_jit.py").strip().endswith("ok")


@pytest.mark.parametrize("tiered", ["1", "0"], ids=["tiered", "synchronous"])
def test_quickstart_trains_the_cnn_on_real_digits(tiered):
    """The quick start's code path (two epochs here; the 10-epoch run is a benchmark): it
    names its data, prints the model table, one line per epoch (output is a pipe), and a
    test accuracy well above chance."""
    out = _run("quickstart.py", "--epochs", "2", tiered=tiered)
    assert "data: " in out and "digits" in out
    assert "Total params: 8,806" in out
    epoch_lines = [ln for ln in out.splitlines() if re.match(r"\s*125/125 ", ln)]
    assert len(epoch_lines) == 2, out
    assert all("loss: " in ln and "accuracy: " in ln and "samples/s" in ln
               for ln in epoch_lines)
    assert "\r" not in out  # no redraws in a log
    acc = float(re.search(r"test accuracy: ([0-9.]+)", out).group(1))
    assert acc > 0.85, out  # 2 epochs over 100 draws: 0.909 +- 0.008, min 0.888
