"""Transforms as interpreters: jvp, staging/partial evaluation, transpose, batching, jit."""
