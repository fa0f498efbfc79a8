"""Every Python snippet in the README runs as pasted, and the quick start is two commands."""
import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as _f:
    README = _f.read()
SNIPPETS = re.findall(r"```python\n(.*?)```", README, re.S)


def test_quick_start_is_two_commands():
    block = re.search(r"## Quick start\n\n```bash\n(.*?)```", README, re.S).group(1)
    lines = block.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].endswith("python examples/quickstart.py")
    assert lines[1].endswith("python -m pytest -q")
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        ci = f.read()
    assert "python -m pytest -q" in ci


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_snippet_runs_as_pasted(index, tmp_path):
    env = dict(os.environ, LEPTON_OFFLINE="1")
    out = subprocess.run([sys.executable, "-c", SNIPPETS[index]], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, SNIPPETS[index] + "\n" + out.stdout[-2000:] + out.stderr[-3000:]
