"""Compile kernels in a forked child process while the program keeps running.

A background compile thread shares the GIL with the program it is compiling for: Numba's
typing and lowering are Python, and so is the reference tier's interpreter loop, so each
slows the other (cold cnn_step on 2 cores: 150 reference steps went by before its kernels
were ready, against ~2-4 s to compile them alone).  A child forked from this process has
Numba and lepton already loaded, so it starts compiling at once, on its own core and GIL,
and writes the kernels to the persistent cache (``cache``: atomic, checksummed files);
the parent loads them from there, which costs milliseconds per kernel.

The child compiles in stages (tiered's quick program, then its full program) and reports
each finished stage by writing a number to a pipe; on any failure it stops and closes the
pipe, and the parent compiles the rest itself (so errors are reported the usual way).
The child never returns into the parent's code: it leaves with ``os._exit``, after its
work or a failure.  A lock held across ``fork`` by a thread the child does not have stays
held in the child forever, so: the parent forks only once the backend, Numba and its CPU
target are loaded (an import half-done by another thread at that instant, say NumPy
loading a submodule, would hang a child that imported it too); it holds the backend
import lock, the cache's lock, Numba's compiler lock (under which Numba's own lazy
imports run) and llvmlite's lock while forking; and it watches the child's CPU time, killing a child that
stops making progress (``STALL_SECONDS``) and compiling in its own thread instead.  The
child keeps running if the parent exits, so a short script's kernels still reach the
cache.  Off with ``LEPTON_COMPILE_PROCESS=0``; not used where ``os.fork`` is missing or
unsafe (Windows, macOS): tiered then compiles in its thread.  A child's failure is silent
(the parent's own compile reports it); ``LEPTON_DEBUG_CHILD=PREFIX`` writes the child's
traceback to ``PREFIX-<pid>.txt``.
"""
from __future__ import annotations

import atexit
import contextlib
import functools
import os
import select
import signal
import sys
import warnings


def enabled() -> bool:
    return (os.environ.get("LEPTON_COMPILE_PROCESS", "1") != "0" and hasattr(os, "fork")
            and sys.platform.startswith("linux"))


#: A child whose CPU time stands still this long is taken as hung, and killed.
STALL_SECONDS = 5.0


class Child:
    """A forked compile: ``stages()`` yields each number the child reports and stops
    when the child has finished, failed, died or stalled."""

    def __init__(self, pid: int, fd: int):
        self.pid, self._fd = pid, fd

    def stages(self):
        """The child's reports in order.  A caller that stops reading early (it found
        the cache unusable) or a child that stalls ends the child: the caller compiles
        the rest itself."""
        finished = False
        try:
            while self._readable():
                done = os.read(self._fd, 1)
                if not done:
                    finished = True
                    return
                yield done[0]
        finally:
            os.close(self._fd)
            try:
                if not finished:
                    os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ChildProcessError, ProcessLookupError):
                pass
            _live.discard(self.pid)

    def _readable(self) -> bool:
        """Wait (without the GIL) until the pipe has data or EOF; False if the child's CPU
        time stood still for ``STALL_SECONDS`` meanwhile."""
        last, still = self._cpu_time(), 0.0
        while not select.select([self._fd], [], [], 1.0)[0]:
            now = self._cpu_time()
            still = still + 1.0 if now is not None and now == last else 0.0
            last = now
            if still >= STALL_SECONDS:
                return False
        return True

    def _cpu_time(self):
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            return int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
        except (OSError, IndexError, ValueError):
            return None


def width(jobs: int, caller_waits: bool = False) -> int:
    """How many children share ``jobs`` kernels: one per core this process may run on but
    one, which the running program keeps for its reference steps (at most 8, at least 1);
    every core when the caller only waits for the compile (``caller_waits``);
    ``LEPTON_COMPILE_PROCESSES`` overrides both.  Measured on 2 cores, cold: a second
    child shared the core of a running loop and slowed its steps 1.5-2x (mlp_step 38 ->
    72 ms, cnn_step 13 -> 20 ms, the stax_train CNN 78 -> 146 ms) for little sooner
    compiled code (mlp 2.44 vs 2.50 s, cnn 5.0 vs 4.6 s); but Keras ``fit``, which waits,
    got its compiled step at 3.1-3.3 s with two children against 4.5-4.6 s with one."""
    try:
        wanted = int(os.environ.get("LEPTON_COMPILE_PROCESSES", "0"))
    except ValueError:
        wanted = 0
    if wanted < 1:
        try:
            cores = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):
            cores = os.cpu_count() or 1
        wanted = min(cores if caller_waits else cores - 1, 8)
    return max(1, min(wanted, jobs))


def share_out(jobs, n: int) -> list:
    """``jobs`` ((source, ...) tuples) in ``n`` lists of about equal compile time, taken
    as proportional to the source's length: the longest first, each to the lightest list."""
    shares, loads = [[] for _ in range(n)], [0] * n
    for job in sorted(jobs, key=lambda j: -len(j[0])):
        i = loads.index(min(loads))
        shares[i].append(job)
        loads[i] += len(job[0])
    return shares


def start(work) -> Child | None:
    """Fork a child that runs ``work(report)`` and leaves; ``report(i)`` (0 <= i < 256)
    sends ``i`` to the parent's ``Child.stages()``.  None if no child could be forked."""
    r, w = os.pipe()
    parent = os.getpid()
    try:
        with contextlib.ExitStack() as held:
            for lock in _locks():
                held.enter_context(lock)
            # Python 3.12+ and JAX's at-fork hook warn that a multi-threaded process
            # forks: right for a child that would use those threads, and this one
            # never does (nor JAX)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pid = os.fork()
    except Exception:  # noqa: BLE001 - no child (or a hook raised): compile in a thread
        if os.getpid() != parent:  # never run the parent's code in a child
            os._exit(1)
        os.close(r)
        os.close(w)
        return None
    if pid == 0:  # the child: work, report, leave
        code = 1
        try:
            _detach(w)
            warnings.simplefilter("ignore")  # the parent reports what matters
            work(functools.partial(_report, w))
            code = 0
        except BaseException:  # noqa: BLE001 - the parent compiles what is missing
            if os.environ.get("LEPTON_DEBUG_CHILD"):
                import traceback
                with open(f"{os.environ['LEPTON_DEBUG_CHILD']}-{os.getpid()}.txt", "w") as f:
                    traceback.print_exc(file=f)
        finally:
            os._exit(code)
    os.close(w)
    _live.add(pid)
    _end_with_process()
    return Child(pid, r)


def _detach(keep: int):
    """In a child: standard streams to /dev/null and every other inherited file closed
    but ``keep`` (its pipe), so that the child, which may outlive the parent, holds no
    pipe a caller waits on (``subprocess.run(capture_output=True)``, ``| tee``) nor any
    socket or file of the parent's open."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, keep)
    os.closerange(keep + 1, 1 << 16)


def _report(fd: int, i: int):
    """Tell the parent; one that has exited (or stopped listening) does not stop the
    work, which still fills the cache for the next process."""
    try:
        os.write(fd, bytes([i]))
    except OSError:
        pass


_live: set = set()  # pids of children not reaped yet


def alive() -> int:
    """How many compile children of this process are still running (not reaped)."""
    return len(_live)


def _end_with_process():
    """At exit, children keep compiling into the cache for the next run, unless
    ``LEPTON_COMPILE_AT_EXIT=0`` (checked then), which ends them with the process."""
    if not getattr(_end_with_process, "registered", False):
        _end_with_process.registered = True
        atexit.register(_at_exit)


#: Niceness of children left compiling after the process exits (as the ``warm`` worker):
#: they fill the cache without slowing what the user runs next.
EXIT_NICENESS = 10


def _at_exit():
    ending = os.environ.get("LEPTON_COMPILE_AT_EXIT", "1") == "0"
    for pid in list(_live):
        try:
            if ending:
                os.kill(pid, signal.SIGKILL)
            else:
                os.setpriority(os.PRIO_PROCESS, pid, EXIT_NICENESS)
        except OSError:
            pass


def _locks() -> list:
    """The locks no other thread may hold across the fork, in the order every thread takes
    them (else two threads could each hold one and wait for the other): importing a
    backend (the child may import), the kernel cache's (``entry_point`` holds it around a
    Numba compile), Numba's compiler lock (under which Numba's own lazy imports run), and
    llvmlite's, which every LLVM call takes, compiling or not (rendering asks LLVM for the
    host CPU's name)."""
    from . import import_lock

    locks = [import_lock]
    cache = sys.modules.get(__package__ + ".cache")
    if cache is not None:
        locks.append(cache.lock())
    numba_lock = sys.modules.get("numba.core.compiler_lock")
    if numba_lock is not None:
        locks.append(numba_lock.global_compiler_lock)
    ffi = sys.modules.get("llvmlite.binding.ffi")
    if ffi is not None:
        locks.append(ffi.lib._lock)
    return locks
