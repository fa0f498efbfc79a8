"""Test-session settings.

Compiles are synchronous in the test suite (``LEPTON_TIERED=0``): a test comparing the
compiled backend against the reference must run compiled code from the first call.  The
tiered (default) mode is covered explicitly: tests/test_tiered.py, a third of the op table
(tests/test_op_table_cpu.py::test_op_table_in_tiered_mode) and the examples
(tests/test_examples.py) turn it back on.
Dataset downloads are off (``LEPTON_OFFLINE=1``): no test may reach the network.
"""
import os

import pytest

os.environ.setdefault("LEPTON_TIERED", "0")
# No compile worker outlives a test (lepton.backends.warm); its test turns it on.
os.environ.setdefault("LEPTON_COMPILE_AT_EXIT", "0")
# No test downloads a dataset (lepton.datasets honours this); the downloader's own tests
# turn it off explicitly and serve files from 127.0.0.1.
os.environ.setdefault("LEPTON_OFFLINE", "1")


@pytest.fixture(scope="module")
def fresh_kernel_cache(tmp_path_factory):
    """A fresh persistent kernel cache for a test module, so its tests compile (and count
    compilations) for real."""
    path = str(tmp_path_factory.mktemp("lepton-cache"))
    old = os.environ.get("LEPTON_CACHE_DIR")
    os.environ["LEPTON_CACHE_DIR"] = path
    yield path
    if old is None:
        del os.environ["LEPTON_CACHE_DIR"]
    else:
        os.environ["LEPTON_CACHE_DIR"] = old
