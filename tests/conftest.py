"""Test-session settings.

Compiles are synchronous in the test suite (``LEPTON_TIERED=0``): a test comparing the
compiled backend against the reference must run compiled code from the first call.
tests/test_tiered.py covers the tiered (default) mode explicitly.
"""
import os

os.environ.setdefault("LEPTON_TIERED", "0")
