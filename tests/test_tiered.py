"""Tiered execution (the default outside the test suite): reference now, compiled later."""
import os
import time

import numpy as np

import lepton
import lepton.numpy as lnp
from lepton.backends import forked, tiered
from lepton.transforms import jit as jit_module


def test_first_calls_use_the_reference_then_switch_to_compiled(monkeypatch, tmp_path):
    monkeypatch.setenv("LEPTON_TIERED", "1")
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(tiered, "QUICK_SECONDS", 0.0)  # never wait for the compile here
    # a fresh kernel source, so a real compile: a pow exponent is written into the source
    scale = float(np.random.default_rng().uniform(1, 2))
    f = lepton.jit(lambda x: lnp.sum(lnp.exp(x) ** scale), backend="cpu")
    ref = lepton.jit(lambda x: lnp.sum(lnp.exp(x) ** scale), backend="reference")
    x = np.linspace(-1, 1, 101).astype(np.float32)

    first = f(x)
    tiers = [e for _, e in jit_module._executables.values() if isinstance(e, tiered.Tiered)]
    assert tiers, "the cpu backend was not tiered"
    tier = tiers[-1]
    # A cold Numba compile takes >= 0.1 s and nothing waited for it: the reference answered.
    assert tier.reference_calls == 1
    np.testing.assert_array_equal(np.asarray(first), np.asarray(ref(x)))
    lepton.wait_for_compilation()
    np.testing.assert_allclose(np.asarray(f(x)), np.asarray(ref(x)), rtol=1e-6)
    assert tier.reference_calls == 1  # the second call ran compiled code
    assert "kernel" in tier.source


def test_synchronous_when_disabled(monkeypatch):
    monkeypatch.setenv("LEPTON_TIERED", "0")
    f = lepton.jit(lambda x: x * 2.5 + 1.0, backend="cpu")
    x = np.ones(3, np.float32)
    exe = jit_module.executable(jit_module._flat_jaxpr(f.make_jaxpr(x)), "cpu")
    assert not isinstance(exe, tiered.Tiered) and hasattr(exe, "source")


# ----------------------------------------------------------------------------- failures
import warnings  # noqa: E402

import pytest  # noqa: E402

from lepton import lax  # noqa: E402
from lepton.backends import cache  # noqa: E402
from lepton.backends.cpu import backend as numba_cpu  # noqa: E402
from lepton.errors import CompileFallbackWarning  # noqa: E402


def _inject_kernel_failure(monkeypatch):
    """Numba fails on every kernel: a stand-in for a codegen bug (e.g. issue 10, defect 1)."""
    def failing(source, signature, target):
        raise cache.KernelCompileError(source, signature, "k_injected.py",
                                       ValueError("injected Numba failure"))
    monkeypatch.setattr(cache, "entry_point", failing)


def _calls_with_warnings(f, args, n=4):
    """Results and recorded warnings of ``n`` calls, waiting for compiles in between."""
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        outs = []
        for _ in range(n):
            outs.append(np.asarray(f(*args)))
            lepton.wait_for_compilation()  # never raises the background failure
    return outs, [w for w in rec if issubclass(w.category, CompileFallbackWarning)]


@pytest.mark.parametrize("tiered_on", ["1", "0"])
def test_a_failed_kernel_compile_runs_on_the_reference_with_one_warning(monkeypatch,
                                                                        tiered_on):
    monkeypatch.setenv("LEPTON_TIERED", tiered_on)
    monkeypatch.setattr(tiered, "QUICK_SECONDS", 0.0)
    _inject_kernel_failure(monkeypatch)
    monkeypatch.setattr(tiered, "_reported", set())  # float constants are kernel arguments:
    scale = float(np.random.default_rng().uniform(1, 2))  # the kernel may have failed before

    def scaled_tanh_sum(x):
        return lnp.sum(lnp.tanh(x) * scale, axis=0)

    x = np.linspace(-1, 1, 24).reshape(6, 4)
    want = np.asarray(lepton.jit(scaled_tanh_sum, backend="reference")(x))
    outs, warned = _calls_with_warnings(lepton.jit(scaled_tanh_sum, backend="cpu"), (x,))
    for out in outs:
        np.testing.assert_array_equal(out, want)
    assert len(warned) == 1, [str(w.message) for w in warned]
    msg = str(warned[0].message)
    assert "jit(scaled_tanh_sum)" in msg and "injected Numba failure" in msg
    assert "k_injected.py" in msg and "def kernel(" in msg and "tanh" in msg  # its source
    assert warned[0].filename == __file__  # attributed to the caller's line


@pytest.mark.parametrize("tiered_on", ["1", "0"])
def test_a_failing_backend_reports_the_program(monkeypatch, tiered_on):
    monkeypatch.setenv("LEPTON_TIERED", tiered_on)

    def broken(jaxpr, quick=False):
        raise NotImplementedError("injected backend failure")
    monkeypatch.setattr(numba_cpu, "compile", broken)
    offset = float(np.random.default_rng().uniform(1, 2))
    f = lepton.jit(lambda x: lnp.cos(x) - offset, backend="cpu")
    x = np.arange(5.0, dtype=np.float32)
    outs, warned = _calls_with_warnings(f, (x,), n=3)
    for out in outs:
        np.testing.assert_allclose(out, np.cos(x) - np.float32(offset), rtol=1e-6)
    assert len(warned) == 1
    msg = str(warned[0].message)
    assert "injected backend failure" in msg and "cos" in msg  # the program's equations


def test_compiled_code_that_raises_falls_back_in_tiered_mode(monkeypatch):
    monkeypatch.setenv("LEPTON_TIERED", "1")
    real = numba_cpu.compile

    def raising_at_run(jaxpr, quick=False):
        exe = real(jaxpr, quick)

        def run(*args, out=None):
            raise FloatingPointError("injected run-time failure")
        run.source = exe.source
        return run
    monkeypatch.setattr(numba_cpu, "compile", raising_at_run)
    bias = float(np.random.default_rng().uniform(1, 2))
    f = lepton.jit(lambda x: lnp.exp(x) + bias, backend="cpu")
    x = np.linspace(0, 1, 7, dtype=np.float32)
    outs, warned = _calls_with_warnings(f, (x,), n=3)
    for out in outs:
        np.testing.assert_allclose(out, np.exp(x) + np.float32(bias), rtol=1e-6)
    assert len(warned) == 1 and "injected run-time failure" in str(warned[0].message)


# ----------------------------------------------------------------------------- agreement
def _mlp(w, x):
    return lnp.sum(lnp.tanh(x @ w) ** 2)


def _cumulative(xs):
    def step(c, x):
        c = c * 0.5 + x
        return c, lnp.sin(c)
    return lax.scan(step, lnp.zeros_like(xs[0]), xs)


PROGRAMS = {
    "elementwise": (lambda x: lnp.tanh(x) * 2.0 + lnp.exp(-lnp.abs(x)), lambda r, dt: (
        r.standard_normal((33, 17)).astype(dt),)),
    "reductions": (lambda x: (lnp.sum(x, axis=0), lnp.max(x, axis=1), lnp.argmax(x, axis=1),
                              lnp.mean(x)), lambda r, dt: (r.standard_normal((9, 40)).astype(dt),)),
    "matmul": (lambda a, b: a @ b + 1.0, lambda r, dt: (
        r.standard_normal((8, 5)).astype(dt), r.standard_normal((5, 6)).astype(dt))),
    "scan": (_cumulative, lambda r, dt: (r.standard_normal((12, 4)).astype(dt),)),
    "grad": (lepton.grad(_mlp), lambda r, dt: (
        r.standard_normal((5, 3)).astype(dt), r.standard_normal((7, 5)).astype(dt))),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", sorted(PROGRAMS))
def test_tiered_results_equal_compiled_and_reference(monkeypatch, name, dtype):
    fun, make = PROGRAMS[name]
    args = make(np.random.default_rng(7), dtype)
    tol = dict(rtol=2e-5, atol=2e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-13)
    reference = lepton.jit(fun, backend="reference")(*args)
    monkeypatch.setenv("LEPTON_TIERED", "0")
    compiled = lepton.jit(fun, backend="cpu")(*args)
    monkeypatch.setenv("LEPTON_TIERED", "1")
    monkeypatch.setattr(tiered, "QUICK_SECONDS", 0.0)
    lepton.clear_cache()  # the tiered run builds its own executables
    f = lepton.jit(fun, backend="cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("error", CompileFallbackWarning)
        first = f(*args)          # the reference tier, unless the compile was quicker
        lepton.wait_for_compilation()
        second = f(*args)         # compiled
    for got in (first, second, compiled):
        for g, w in zip(lepton.tree.leaves(got), lepton.tree.leaves(reference)):
            assert np.asarray(g).dtype == np.asarray(w).dtype
            np.testing.assert_allclose(np.asarray(g), np.asarray(w), **tol)


# ----------------------------------------------------------------------------- warm cache
_WARM_SCRIPT = """
import json, sys, numpy as np
import lepton, lepton.numpy as lnp
from lepton.backends import cache, tiered
from lepton.transforms import jit as jit_module
tiered.QUICK_SECONDS = 0.0  # never wait for a background compile
scale = float(sys.argv[1])
f = lepton.jit(lambda x, y: (lnp.sum(lnp.tanh(x) * scale, axis=0), x @ y + 1.0), backend="cpu")
x = np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32)
f(x, x.T)
tiers = [e for _, e in jit_module._executables.values() if isinstance(e, tiered.Tiered)]
print(json.dumps({"reference_calls": sum(t.reference_calls for t in tiers), "compiles": cache.stats.numba_compiles,
                  "loads": cache.stats.disk_loads}))
"""


def _warm_run(tmp_path, scale, tiered_on):
    import json
    import os
    import subprocess
    import sys
    env = dict(os.environ, LEPTON_CACHE_DIR=str(tmp_path), LEPTON_TIERED=tiered_on,
               LEPTON_COMPILE_AT_EXIT="0")
    out = subprocess.run([sys.executable, "-W", "error", "-c", _WARM_SCRIPT, str(scale)],
                         env=env, capture_output=True, text=True, timeout=300,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_a_warm_cache_runs_compiled_code_from_the_first_call(tmp_path):
    scale = float(np.random.default_rng().uniform(1, 2))  # fresh kernel sources
    cold = _warm_run(tmp_path, scale, "1")
    assert cold["reference_calls"] == 1  # empty cache: the reference tier answered
    filled = _warm_run(tmp_path, scale, "0")  # synchronous: the kernels reach the cache
    assert filled["compiles"] > 0
    warm = _warm_run(tmp_path, scale, "1")
    assert warm == {"reference_calls": 0, "compiles": 0, "loads": warm["loads"]}
    assert warm["loads"] > 0


_SHORT_SCRIPT = """
import json, sys, time, numpy as np
import lepton, lepton.numpy as lnp
from lepton.backends import cache, tiered
scale = float(sys.argv[1])
f = lepton.jit(lambda x, y: (lnp.sum(lnp.tanh(x) * scale, axis=0), x @ y + 1.0,
                             lnp.max(lnp.exp(x) - scale)), backend="cpu")
x = np.linspace(-1, 1, 12).reshape(3, 4).astype(np.float32)
f(x, x.T)
f(x, x.T)
print(json.dumps({"compiles": cache.stats.numba_compiles, "loads": cache.stats.disk_loads,
                  "pending": len(tiered._pending), "end": time.time()}))
"""


def _short_run(tmp_path, scale, at_exit):
    import json
    import os
    import subprocess
    import sys
    import time
    env = dict(os.environ, LEPTON_CACHE_DIR=str(tmp_path), LEPTON_TIERED="1",
               LEPTON_COMPILE_AT_EXIT=at_exit)
    out = subprocess.run([sys.executable, "-W", "error", "-c", _SHORT_SCRIPT, str(scale)],
                         env=env, capture_output=True, text=True, timeout=300,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    exited = time.time()
    assert out.returncode == 0 and not out.stderr, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["exit_seconds"] = exited - result.pop("end")
    return result


def _workers_done(folder, timeout=240.0):
    """The exit worker's job file is gone and the program's marker is there (written by
    the worker, or by the last compile child to finish)."""
    import time
    deadline = time.monotonic() + timeout
    while any(p.name.startswith(".warm-") for p in folder.iterdir()) or \
            not any((folder / "programs").glob("*")):
        assert time.monotonic() < deadline, "the compile worker did not finish"
        time.sleep(0.2)


@pytest.mark.parametrize("at_exit", ["1", "0"])
def test_a_short_script_warms_the_cache_for_the_next_run(tmp_path, at_exit):
    scale = float(np.random.default_rng().uniform(1, 2))  # fresh kernel sources
    first = _short_run(tmp_path, scale, at_exit)
    assert first["exit_seconds"] < 1.5  # the worker is detached: exit does not wait for it
    if at_exit == "1":
        _workers_done(tmp_path)
    second = _short_run(tmp_path, scale, at_exit)
    if at_exit == "1":  # the worker compiled every kernel: the second run loads them all
        assert second["pending"] == 0 and second["compiles"] == 0 and second["loads"] >= 3
    elif first["pending"]:  # turned off: what was still compiling at exit was dropped
        assert second["pending"] == 1 and second["loads"] == 0


def test_the_reference_tier_runs_blas_single_threaded_while_compiling(monkeypatch):
    """The compile thread holds a core: a multi-threaded BLAS product on the reference
    tier then waits for a descheduled thread (mlp_step: 300 ms against 90-100 ms)."""
    from lepton.backends import reference_tier
    from lepton.backends.cpu import blas_threads
    monkeypatch.delenv("LEPTON_BLAS_THREADS", raising=False)
    controls = blas_threads.blas_controls()
    if controls is None:
        pytest.skip("no OpenBLAS found in this process")
    set_threads, get_threads, most = controls
    if most < 2:
        pytest.skip("BLAS has a single thread here")

    def run(*args, out=None):
        return get_threads()

    prev = get_threads()
    set_threads(2)
    try:
        assert reference_tier("cpu", run)() == 1
        assert get_threads() == 2  # the user's setting is back after the call
        assert reference_tier("reference", run)() == 2
    finally:
        set_threads(prev)


@pytest.mark.parametrize("in_child", ["1", "0"])
def test_the_serial_program_serves_calls_while_the_parallel_one_compiles(monkeypatch, tmp_path,
                                                                        in_child):
    """Tiered compiles every kernel serial first (cheaper for Numba), then the prange
    program where its kernels want one, in a forked child or in its thread; all of them
    give the reference's results."""
    monkeypatch.setenv("LEPTON_TIERED", "1")
    monkeypatch.setenv("LEPTON_COMPILE_PROCESS", in_child)
    real, built = numba_cpu.compile, []

    def recording(jaxpr, quick=False):
        exe = real(jaxpr, quick)
        built.append((quick, "prange(" in exe.source, getattr(exe, "upgradable", None)))
        return exe
    monkeypatch.setattr(numba_cpu, "compile", recording)
    x = np.linspace(-3, 3, 1001).astype(np.float32)
    want = np.sin(x) * np.float32(2) + np.float32(1)
    for work, programs in [(0, {(True, False, True), (False, True, None)}),  # all prange
                           (1 << 60, {(True, False, False)})]:  # nothing to upgrade
        monkeypatch.setattr(numba_cpu, "PARALLEL_WORK", work)
        monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path / str(work)))
        built.clear()
        f = lepton.jit(lambda x: lnp.sin(x) * 2 + 1, backend="cpu")
        outs = [np.asarray(f(x))]
        lepton.wait_for_compilation()
        outs.append(np.asarray(f(x)))
        assert set(built) == programs
        tier = [e for _, e in jit_module._executables.values() if isinstance(e, tiered.Tiered)][-1]
        assert ("prange(" in tier.source) == (work == 0)  # the full program serves at the end
        for out in outs:
            np.testing.assert_allclose(out, want, rtol=2e-6, atol=1e-6)


@pytest.mark.skipif(not forked.enabled(), reason="compile children are forked on Linux only")
def test_a_compile_child_reports_its_stages_and_a_stalled_one_is_killed(monkeypatch):
    child = forked.start(lambda report: [report(i) for i in (3, 1, 2)])
    assert list(child.stages()) == [3, 1, 2]
    failed = forked.start(lambda report: (report(7), 1 / 0, report(8)))
    assert list(failed.stages()) == [7]  # a child that raises just stops reporting
    monkeypatch.setattr(forked, "STALL_SECONDS", 1.0)
    t0 = time.perf_counter()
    stalled = forked.start(lambda report: time.sleep(60))  # no CPU time: taken as hung
    assert list(stalled.stages()) == []
    assert time.perf_counter() - t0 < 10
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(stalled.pid, 0)
    busy = forked.start(lambda report: (report(1), sum(range(10 ** 9)), report(2)))
    t0 = time.perf_counter()
    for stage in busy.stages():
        break  # the caller gives up on it (e.g. the cache is not where it looks)
    assert stage == 1 and time.perf_counter() - t0 < 5
    with pytest.raises(ProcessLookupError):
        os.kill(busy.pid, 0)


@pytest.mark.parametrize("in_child", ["1", "0"])
def test_waiting_without_upgrades_returns_once_compiled_code_serves(monkeypatch, tmp_path,
                                                                     in_child):
    monkeypatch.setenv("LEPTON_TIERED", "1")
    monkeypatch.setenv("LEPTON_COMPILE_PROCESS", in_child)
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(numba_cpu, "PARALLEL_WORK", 0)  # a full program to upgrade to
    f = lepton.jit(lambda x: lnp.cos(x) * 3 - 1, backend="cpu")
    x = np.linspace(-3, 3, 513).astype(np.float32)
    f(x)
    tier = [e for _, e in jit_module._executables.values() if isinstance(e, tiered.Tiered)][-1]
    lepton.wait_for_compilation(upgrades=False)
    calls = tier.reference_calls
    np.testing.assert_allclose(np.asarray(f(x)), np.cos(x) * 3 - 1, rtol=2e-6, atol=1e-6)
    assert tier.reference_calls == calls  # compiled code answered
    lepton.wait_for_compilation()
    assert "prange(" in tier.source
    np.testing.assert_allclose(np.asarray(f(x)), np.cos(x) * 3 - 1, rtol=2e-6, atol=1e-6)


@pytest.mark.skipif(not forked.enabled(), reason="compile children are forked on Linux only")
def test_fork_warnings_from_at_fork_hooks_do_not_stop_the_compile(monkeypatch, tmp_path):
    """JAX (and Python 3.12+) warn at every fork of a multi-threaded process; under
    ``-W error`` that warning must neither fail the compile nor reach the user."""
    def warn_at_fork():
        import warnings
        warnings.warn("os.fork() was called ... this will likely lead to a deadlock",
                      RuntimeWarning)
    os.register_at_fork(before=lambda: _FORK_HOOK[0]())
    _FORK_HOOK[0] = warn_at_fork
    try:
        monkeypatch.setenv("LEPTON_TIERED", "1")
        monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path))
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            child = forked.start(lambda report: report(5))
            assert child is not None and list(child.stages()) == [5]
            f = lepton.jit(lambda x: lnp.sqrt(x) * 5 - 2, backend="cpu")
            x = np.linspace(0, 4, 9).astype(np.float32)
            f(x)
            lepton.wait_for_compilation()
            np.testing.assert_allclose(np.asarray(f(x)), np.sqrt(x) * 5 - 2, rtol=1e-6)
    finally:
        _FORK_HOOK[0] = lambda: None


_FORK_HOOK = [lambda: None]  # os.register_at_fork cannot unregister: a switchable hook


@pytest.mark.skipif(not forked.enabled(), reason="compile children are forked on Linux only")
def test_forking_takes_its_locks_in_the_order_kernel_compiles_do():
    """``cache.entry_point`` holds the cache's lock, then Numba's compiler lock; a fork
    taking them the other way round deadlocked with it (a program compiling in its thread
    while another forked its children)."""
    import threading

    from numba.core.compiler_lock import global_compiler_lock
    holding, go_on = threading.Event(), threading.Event()

    def kernel_compile():  # as cache.entry_point
        with cache.lock():
            holding.set()
            go_on.wait(5)
            with global_compiler_lock:
                pass

    started = []
    compiling = threading.Thread(target=kernel_compile, daemon=True)
    compiling.start()
    holding.wait(5)
    forking = threading.Thread(target=lambda: started.append(forked.start(lambda r: r(1))),
                               daemon=True)
    forking.start()
    time.sleep(0.2)  # the fork now waits for a lock: which one decides
    go_on.set()
    compiling.join(10)
    forking.join(10)
    assert not compiling.is_alive() and not forking.is_alive(), "deadlock"
    assert list(started[0].stages()) == [1]


def test_compile_children_leave_a_running_program_a_core(monkeypatch):
    """One child per core but one, which the program keeps for its reference steps; every
    core for a caller that only waits (``waiting``); at least one; the variable decides."""
    monkeypatch.delenv("LEPTON_COMPILE_PROCESSES", raising=False)
    for cores, running, waits in ((4, 3, 4), (2, 1, 2), (1, 1, 1), (16, 8, 8)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda pid, n=cores: set(range(n)))
        assert forked.width(100) == running and forked.width(100, True) == waits
        assert forked.width(1) == forked.width(1, True) == 1  # never more than the jobs
    monkeypatch.setenv("LEPTON_COMPILE_PROCESSES", "3")
    assert forked.width(100) == forked.width(100, True) == 3


@pytest.mark.skipif(not forked.enabled(), reason="compile children are forked on Linux only")
def test_a_caller_that_waits_compiles_on_every_core(monkeypatch, tmp_path):
    """Keras ``fit`` waits for its first step's compile: inside ``waiting()`` the children
    are as many as the cores; outside it, a core is left to the running program."""
    monkeypatch.setenv("LEPTON_TIERED", "1")
    monkeypatch.setenv("LEPTON_CACHE_DIR", str(tmp_path))
    asked = []
    real = forked.width
    monkeypatch.setattr(forked, "width", lambda jobs, waits=False: asked.append(waits)
                        or real(jobs, waits))
    from lepton.backends import cache
    monkeypatch.setattr(cache, "_entries", {})  # kernels this process has not seen:
    monkeypatch.setattr(cache, "_dispatchers", {})  # each program forks children
    x = np.linspace(-3, 3, 64).astype(np.float32)
    with tiered.waiting():
        lepton.jit(lambda v: lnp.sin(v) * 2 + 1, backend="cpu")(x)
        lepton.wait_for_compilation()
    lepton.jit(lambda v: lnp.cos(v) * 2 - 1, backend="cpu")(x)
    lepton.wait_for_compilation()
    assert asked == [True, False]
