"""Compile kernels into the persistent cache in a process of their own.

A short script exits while its tiered programs are still compiling in a background
thread, which exit would drop.  Instead, ``tiered`` hands their missing kernels (source,
signature, target) to a detached worker at exit, so the next run of the script finds a
warm cache while this one still exits at once.  Workers write through ``cache`` (files
named by content, written atomically), so several may run at once with the same kernels.
``LEPTON_COMPILE_AT_EXIT=0`` turns the hand-over off.

    python -m lepton.backends.warm JOBFILE

JOBFILE is a pickle of the kernels and of the programs' marker files (created once all
compiled: see ``tiered._marker``), deleted when the worker is done (so its
presence says a worker is busy).  The worker runs at low priority and ignores failures:
a kernel it cannot compile is compiled, and reported, by the next process that needs it.
"""
from __future__ import annotations

import os
import pickle
import sys
import tempfile


def enabled() -> bool:
    return os.environ.get("LEPTON_COMPILE_AT_EXIT", "1") != "0"


def start(jobs, folder: str, markers=()):
    """Start a detached worker compiling ``jobs`` (its job file goes under ``folder``),
    then creating the empty files ``markers`` (``tiered._marker``) if all compiled;
    returns its pid, or None when there is nothing to do or no way to detach one.  The
    worker is spawned in a session of its own with no standard streams, and never waited
    for (no ``Popen`` object whose finaliser would warn at exit)."""
    if not jobs or not hasattr(os, "posix_spawn"):
        return None
    os.makedirs(folder, exist_ok=True)
    fd, path = tempfile.mkstemp(dir=folder, prefix=".warm-", suffix=".pkl")
    with os.fdopen(fd, "wb") as f:
        pickle.dump({"jobs": list(jobs), "markers": list(markers)}, f)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)  # the same lepton (and so the same cache keys) as this process
    env["PYTHONPATH"] = os.pathsep.join([root] + [p for p in [env.get("PYTHONPATH")] if p])
    streams = [(os.POSIX_SPAWN_OPEN, fd, os.devnull, os.O_RDWR, 0) for fd in (0, 1, 2)]
    try:
        return os.posix_spawn(sys.executable,
                              [sys.executable, "-m", "lepton.backends.warm", path], env,
                              file_actions=streams, setsid=True)
    except OSError:
        os.unlink(path)
        raise


def main(path: str):
    try:
        os.nice(10)  # leave the cores to whatever the user runs next
    except (AttributeError, OSError):
        pass
    try:
        with open(path, "rb") as f:
            work = pickle.load(f)
        from . import cache, tiered
        done = True
        for source, signature, target in work["jobs"]:
            try:
                cache.entry_point(source, signature, target)
            except Exception:  # noqa: BLE001 - the next process compiles and reports it
                done = False
        for marker in work["markers"] if done else ():
            tiered._mark(marker)
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass


if __name__ == "__main__":
    main(sys.argv[1])
