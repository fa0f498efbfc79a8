"""Higher-order control-flow primitives: one module per primitive with all its rules.

The public API is ``lepton.lax`` (scan, map, fori_loop, while_loop, cond, switch).
"""
