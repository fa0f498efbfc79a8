"""Tiered execution: run the NumPy reference while the compiled program builds.

A cold compile of a training step costs seconds of Numba time (about 0.2-0.8 s per
kernel).  Rather than make the first call wait, a tiered executable starts compiling in
a background thread and serves calls with the reference interpreter until the compiled
program is ready, then switches over.  It compiles in two steps where they differ: first
the backend's ``quick`` program (on the cpu, every kernel serial and convolutions on the
host impl: a third less compile time for mlp_step; the quick-start CNN's first compiled
step 2.9 -> 2.0 s), which serves calls while the full program (``prange`` and direct
conv kernels where they pay) compiles, if it differs.  Results agree to the compiled backend's accuracy
(its float32 transcendentals are within 0.51 ulp of correctly rounded, sums accumulate
in float64), so a tiered run can differ from a fully compiled one in the last bits of
its first steps; ``LEPTON_TIERED=0`` makes every compile synchronous.  A program whose
kernels are all in the persistent cache (checked by file names, ``cache.only_cached``) is
loaded synchronously instead: loading costs less than the reference steps it would replace.

A compiled backend is an optimisation, so it never turns a working program into a
failing one: a program it cannot compile (or whose compiled code raises where the
reference does not) keeps running on the reference interpreter, and the failure is
reported once per process as a ``CompileFallbackWarning`` naming the program and
carrying the kernel source (or the program), to be filed as a lepton bug.  This holds in
both modes: see ``compile_now`` for the synchronous one.
"""
from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import sys
import threading
import time

from ..errors import CompileFallbackWarning, warn
from . import cache_root, forked, get_backend, import_lock, reference, reference_tier

_pending: list = []
_pending_lock = threading.Lock()
_reported: set = set()  # failure messages already warned about in this process

#: A compile that finishes this quickly (e.g. all kernels already cached) is simply waited for.
QUICK_SECONDS = 0.05


def enabled() -> bool:
    return os.environ.get("LEPTON_TIERED", "1") != "0"


def compile_now(jaxpr, backend: str, name=None):
    """Compile synchronously; on failure warn once and return the reference executable."""
    try:
        exe = get_backend(backend).compile(jaxpr)
    except Exception as e:  # noqa: BLE001 - any backend failure is a lepton bug, not the user's
        report(e, jaxpr, backend, name)
        return reference.compile(jaxpr)
    _mark(_marker(jaxpr, backend))
    return exe


def _marker(jaxpr, backend: str) -> str:
    """An empty file whose presence says that every kernel of ``jaxpr`` on ``backend`` was
    in the disk cache once: checking it costs a hash of the program's text and no Numba
    import, so a cold program goes to the background compile at once.  It is a hint
    only: ``cache.only_cached`` still checks each kernel before anything loads."""
    text = f"{backend}\n{sys.modules['lepton'].__version__}\n{jaxpr}"
    return os.path.join(cache_root(), "programs", hashlib.sha256(text.encode()).hexdigest()[:40])


def _mark(path: str):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "ab").close()
    except OSError:  # a read-only cache: later processes check kernel by kernel... or not
        pass


def report(error: BaseException, jaxpr, backend: str, name=None, when="compile"):
    """Warn (once per distinct failure) that ``name`` runs on the reference interpreter."""
    what = f"jit({name})" if name else "a jitted program"
    doing = "could not compile" if when == "compile" else "raised while running"
    detail = getattr(error, "kernel_source", None)
    evidence = (f"kernel source:\n{detail}" if detail is not None
                else f"program:\n{jaxpr}")
    message = (f"lepton: the {backend} backend {doing} {what} "
               f"({type(error).__name__}: {error}); it runs on the NumPy reference "
               "interpreter instead: slower, with the same results. This is a lepton bug; "
               f"please report it with this message.\n{evidence}")
    key = (backend, when, type(error).__name__, str(error), str(detail or jaxpr))
    with _pending_lock:
        if key in _reported:
            return
        _reported.add(key)
    warn(message, CompileFallbackWarning)


#: What a compile child reports: its share of the quick program is done; the full one is.
_QUICK, _FULL = 1, 2


class _Done:
    """The thread of an executable loaded synchronously: nothing to wait for."""

    @staticmethod
    def join(timeout=None):
        return None


_DONE = _Done()


class Tiered:
    """An executable that is the reference interpreter until the compiled one is ready
    (and for good if the compile fails)."""

    def __init__(self, jaxpr, backend: str, on_compiled, name=None):
        self._fallback = reference.compile(jaxpr)
        self._meanwhile = reference_tier(backend, self._fallback)  # while compiling
        self._jaxpr, self._backend, self._name = jaxpr, backend, name
        self.reference_calls = 0  # calls answered by the reference interpreter
        self._children = None  # forked compiles (``forked``), which also finish after exit
        self._serving = threading.Event()  # set once compiled code serves (or never will)
        self._handed = threading.Event()  # set once compile children run it (or none will)
        self._compiled = None
        self._error = None      # the compile's exception, reported on the next call
        self._failed = False    # set once reported: every later call uses the reference
        self._thread = threading.Thread(target=self._build, args=(jaxpr, backend, on_compiled),
                                        name=f"lepton-compile-{backend}", daemon=True)
        self._marker = _marker(jaxpr, backend)
        if os.path.exists(self._marker) and self._load_cached(jaxpr, backend, on_compiled):
            self._thread = _DONE
            self._serving.set()
            return
        with _pending_lock:
            _pending.append(self)
        _hand_over_at_exit()
        self._thread.start()
        self._thread.join(QUICK_SECONDS)

    def _load_cached(self, jaxpr, backend, on_compiled) -> bool:
        """Load the compiled program synchronously when every kernel it needs is in the
        persistent cache (checked by file names before anything compiles): a warm
        process then runs compiled code from its first call instead of starting on the
        reference tier.  Any other outcome leaves it to the background compile."""
        from . import cache  # here: it loads Numba, which ``import lepton`` does not need

        t0 = time.perf_counter()
        try:
            with cache.only_cached():
                self._compiled = get_backend(backend).compile(jaxpr)
        except Exception:  # noqa: BLE001 - NotCached, or a failure the thread reports
            return False
        on_compiled(time.perf_counter() - t0)
        return True

    def _build(self, jaxpr, backend, on_compiled):
        t0 = time.perf_counter()
        if not forked.enabled():
            self._handed.set()  # no children: the exit worker takes what is left
        try:
            device = get_backend(backend)
            done, upgradable = self._build_in_child(jaxpr, device) if forked.enabled() \
                else (0, True)
            if done < 1:
                quick = device.compile(jaxpr, quick=True)
                self._compiled = quick  # serves calls while the full program compiles
                upgradable = getattr(quick, "upgradable", False)
            self._serving.set()
            if done < 2 and upgradable:
                self._compiled = device.compile(jaxpr)
            _mark(self._marker)
        except BaseException as e:  # noqa: BLE001 - reported from the caller's thread
            self._error = e
        finally:
            self._serving.set()
            self._handed.set()
            on_compiled(time.perf_counter() - t0)
            with _pending_lock:
                if self in _pending:
                    _pending.remove(self)

    def _build_in_child(self, jaxpr, device):
        """Compile in forked children (``forked``) and load each program they finish from
        the disk cache; returns (programs loaded: 0, 1 the quick one or 2 the full one,
        whether the full program differs from the quick one).  The quick program's kernels
        are shared out between ``forked.width`` children, compiling side by side; the
        first child then compiles the kernels only the full program has.  What the
        children did not finish (one failed, or the cache is not where this process
        looks) is left to the caller, whose compile reports any error."""
        from . import cache  # here: it loads Numba, which ``import lepton`` does not need

        getattr(device, "prepare", lambda: None)()  # before forking: both sides need it
        with cache.collect() as quick_jobs:  # renders sources, compiles nothing
            upgradable = getattr(device.compile(jaxpr, quick=True), "upgradable", False)
        extra = []
        if upgradable:
            with cache.collect() as full_jobs:
                device.compile(jaxpr)
            seen = {job[:2] for job in quick_jobs}
            extra = [job for job in full_jobs if job[:2] not in seen]
        if not quick_jobs and not extra:  # all loaded in this process: nothing to fork for
            return 0, upgradable

        def work(share, then=()):
            def run(report):  # in a child, which outlives a parent that exits meanwhile
                for job in share:
                    cache.entry_point(*job)
                report(_QUICK)
                for job in then:
                    cache.entry_point(*job)
                if then:
                    report(_FULL)
                if cache.on_disk(quick_jobs + extra):  # the last child to finish marks it:
                    _mark(self._marker)  # the next process loads it all at once
            return run

        shares = forked.share_out(quick_jobs, forked.width(len(quick_jobs), _waiting[0] > 0))
        children = []
        for i, share in enumerate(shares):
            child = forked.start(work(share, extra if i == 0 else ()))
            if child is None:
                break
            children.append(child.stages())
        self._children = children or None
        self._handed.set()
        done = 0
        try:
            if len(children) == len(shares) and all(next(c, None) == _QUICK for c in children):
                with cache.only_cached():
                    self._compiled = device.compile(jaxpr, quick=True)
                done = 1
                self._serving.set()
                if upgradable and next(children[0], None) == _FULL:
                    with cache.only_cached():
                        self._compiled = device.compile(jaxpr)
                    done = 2
        except cache.NotCached:  # not where this process looks (a read-only cache)
            pass
        finally:
            for c in children:
                c.close()  # ends any child still running (forked.Child.stages)
        return done, upgradable

    def __call__(self, *args, out=None):
        exe = self._compiled
        if exe is not None:
            try:
                return exe(*args, out=out)
            except Exception as e:  # noqa: BLE001 - the reference decides whose error it is
                if getattr(e, "lepton_host_callback", False):
                    raise  # a user's callback raised: re-running would call it twice
                result = self._fallback(*args, out=out)  # raises if the call is wrong
                self._compiled, self._failed = None, True
                report(e, self._jaxpr, self._backend, self._name, when="run")
                self.reference_calls += 1
                return result
        if self._error is not None and not self._failed:
            self._failed = True
            report(self._error, self._jaxpr, self._backend, self._name)
        self.reference_calls += 1
        if self._failed:
            return self._fallback(*args, out=out)
        return self._meanwhile(*args, out=out)

    @property
    def failed(self) -> bool:
        """Whether the compile failed (once the background compile has finished)."""
        return self._error is not None or self._failed

    def wait(self):
        """The compiled executable, or the reference one if compiling failed (reported)."""
        self._thread.join()
        if self._error is not None and not self._failed:
            self._failed = True
            report(self._error, self._jaxpr, self._backend, self._name)
        return self._compiled if self._compiled is not None else self._fallback

    @property
    def source(self):
        return getattr(self.wait(), "source", None)


_exit_hook: list = []

#: At exit, how long to wait for compiles still loading Numba to fork their children
#: (which then finish on their own); what does not get there goes to the ``warm`` worker.
EXIT_WAIT_SECONDS = 0.5


def _hand_over_at_exit():
    with _pending_lock:
        if _exit_hook:
            return
        _exit_hook.append(_compile_at_exit)
    atexit.register(_compile_at_exit)


def _compile_at_exit():
    """At exit, the kernels that programs still compiling need (and the disk cache lacks)
    go to a detached worker (``warm``), so a short script warms the cache for the next
    run; collecting them renders sources only (milliseconds).  Never fails the exit."""
    from . import warm

    if not warm.enabled():
        return
    deadline = time.monotonic() + EXIT_WAIT_SECONDS
    with _pending_lock:
        pending = list(_pending)
    for t in pending:  # a compile about to fork its children: they finish after the exit
        t._handed.wait(max(0.0, deadline - time.monotonic()))
    with _pending_lock:
        pending = [t for t in _pending if t._error is None and t._children is None]
    if not pending or not import_lock.acquire(blocking=False):
        return  # nothing left, or Numba is still loading: the next run compiles it
    import_lock.release()
    try:
        from . import cache
        jobs, seen = [], set()
        for t in pending:
            with cache.collect() as wanted:
                get_backend(t._backend).compile(t._jaxpr)
            for job in wanted:
                if job[:2] not in seen:
                    seen.add(job[:2])
                    jobs.append(job)
        markers = [t._marker for t in pending]
        if jobs:
            warm.start(jobs, cache_root(), markers)
        else:  # the kernels reached the disk since: nothing to compile
            for path in markers:
                _mark(path)
    except Exception:  # noqa: BLE001 - a missed warm-up costs the next run a compile only
        pass


_waiting = [0]  # callers inside ``waiting()``


@contextlib.contextmanager
def waiting():
    """Declare that the calls in this block will wait for their compiles rather than run
    reference steps meanwhile (as Keras ``fit`` does): their compile children then take
    every core (``forked.width``)."""
    with _pending_lock:
        _waiting[0] += 1
    try:
        yield
    finally:
        with _pending_lock:
            _waiting[0] -= 1


def wait_for_compilation(upgrades: bool = True):
    """Block until every background compile has finished (e.g. before timing a step);
    with ``upgrades=False``, only until each program runs compiled code (its quick
    program), not for the faster one compiling behind it."""
    while True:
        with _pending_lock:
            pending = list(_pending)
        if not upgrades:
            for t in pending:
                t._serving.wait()
            return
        if not pending:
            return
        for t in pending:
            t._thread.join()
