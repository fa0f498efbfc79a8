"""lepton.save / lepton.load: round trips of every state kind, atomic writes, damaged files."""
import collections
import json
import math
import os
import signal
import struct
import subprocess
import sys
import textwrap
import time
import types
import warnings
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lepton
import lepton.numpy as lnp
from lepton import dtypes, optimizers as opt, serialization
from lepton.serialization import SaveFormatError

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ----------------------------------------------------------------------------- test types
@lepton.dataclass
class Dense:
    w: Any
    b: Any
    activation: str = lepton.field(static=True, default="relu")
    dtype: Any = lepton.field(static=True, default=np.dtype(np.float32))


Batch = collections.namedtuple("Batch", ["x", "y"])


class Pair:
    """A node registered by hand, children unnamed, aux data a tuple."""

    def __init__(self, a, b, tag):
        self.a, self.b, self.tag = a, b, tag


lepton.tree.register_pytree_node(Pair, lambda p: ((p.a, p.b), p.tag), lambda tag, ch: Pair(ch[0], ch[1], tag))


# ----------------------------------------------------------------------------- helpers
def _bits(x):
    a = np.asarray(x)
    return a.dtype, a.shape, a.tobytes()


def assert_same(a, b):
    """Same structure (aux data included), same leaf types, bit-identical values and weak types."""
    la, ta = lepton.tree.flatten(a)
    lb, tb = lepton.tree.flatten(b)
    assert ta == tb, f"{ta} != {tb}"
    for x, y in zip(la, lb):
        assert type(x) is type(y), (type(x), type(y))
        if isinstance(x, (lepton.Array, np.ndarray, np.generic)):
            assert _bits(x) == _bits(y)
            if isinstance(x, lepton.Array):
                assert x.weak_type == y.weak_type
        elif isinstance(x, float):
            assert x.hex() == y.hex()
        elif isinstance(x, complex):
            assert (x.real.hex(), x.imag.hex()) == (y.real.hex(), y.imag.hex())
        else:
            assert x == y


def roundtrip(tmp_path, tree, name="state.lepton", **kw):
    path = tmp_path / name
    lepton.save(path, tree)
    return lepton.load(path, **kw)


def _all_dtype_arrays():
    rng = np.random.default_rng(0)
    out = {}
    for dt in dtypes.SUPPORTED:
        if dt.kind == "b":
            a = rng.random((3, 2)) > 0.5
        elif dt.kind in "iu":
            info = np.iinfo(dt)
            a = np.array([[info.min, info.max], [0, 1], [7, info.max - 1]], dtype=dt)
        elif dt.kind == "f":
            a = np.array([[np.nan, -np.inf], [np.inf, -0.0], [np.finfo(dt).tiny, np.finfo(dt).max]], dtype=dt)
        else:
            a = rng.standard_normal((3, 2)).astype(dt)
            a.imag = np.array([[np.nan, 1], [np.inf, -0.0], [2, 3]])
        out[dt.name] = a
    return out


# ----------------------------------------------------------------------------- round trips
def test_arrays_keep_dtype_shape_and_bits(tmp_path):
    arrays = _all_dtype_arrays()
    tree = {
        "numpy": arrays,
        "lepton": {k: lnp.asarray(v) for k, v in arrays.items()},
        "zero_d": [lnp.asarray(np.float64(2.5)), np.array(3, np.int8), lnp.asarray(True)],
        "empty": [lnp.zeros((0,)), np.zeros((3, 0, 2), np.int16), lnp.zeros((0, 4), dtype=np.complex64)],
        "weak": lnp.asarray(1.5),  # a weakly typed Python-scalar array stays weak
        "views": [np.arange(24.0).reshape(4, 6)[::2, 1::3], np.asfortranarray(np.ones((3, 4))),
                  np.arange(5, dtype=">i4"), np.arange(3, dtype=">f8")],
        "float0": np.zeros((2, 3), dtypes.float0),
    }
    back = roundtrip(tmp_path, tree)
    want = dict(tree)
    # big-endian and strided NumPy arrays come back as equal native little-endian, C-ordered arrays
    want["views"] = [np.ascontiguousarray(v, dtype=v.dtype.newbyteorder("<")) for v in tree["views"]]
    assert_same(back, want)
    assert back["weak"].weak_type and not back["lepton"]["float32"].weak_type
    assert back["numpy"]["float64"].flags.writeable  # NumPy arrays come back usable as NumPy arrays
    assert back["float0"].dtype == dtypes.float0 and back["float0"].shape == (2, 3)


@settings(max_examples=40, deadline=None)
@given(dtype=st.sampled_from(dtypes.SUPPORTED),
       shape=st.lists(st.integers(0, 4), min_size=0, max_size=4),
       seed=st.integers(0, 2**16), as_lepton=st.booleans())
def test_random_arrays_round_trip(tmp_path_factory, dtype, shape, seed, as_lepton):
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, size=int(np.prod(shape)) * dtype.itemsize, dtype=np.uint8)
    a = raw.view(dtype).reshape(shape) if dtype.kind != "b" else (raw > 127).reshape(shape)
    x = lnp.asarray(a) if as_lepton else a
    back = roundtrip(tmp_path_factory.mktemp("h"), {"x": x, "s": [x, (x,)]})
    assert_same(back, {"x": x, "s": [x, (x,)]})


def test_python_scalars_and_containers(tmp_path):
    tree = {
        "step": 1200, "big": 2**100, "neg": -7, "lr": 1e-3, "nan": math.nan, "inf": -math.inf,
        "negzero": -0.0, "c": complex(1.5, -2), "flag": False, "none": None, "name": "run-7 ✓",
        "blob": b"\x00\xff", "np_scalars": [np.float16(1.5), np.int64(-3), np.bool_(True), np.uint8(200)],
        "int_keys": {3: "c", -1: "a", 0: {"nested": [1, (2, [3.5])]}},
        "tuple_keys": {(1, "a"): 1, (0, "b"): 2},
        "float_keys": {0.5: 1, 2.0: 2},
        "odict": collections.OrderedDict([("z", 1), ("a", lnp.ones(2))]),
        "ddict": collections.defaultdict(list, {"k": [1, 2]}),
        "ddict_none": collections.defaultdict(None, {1: 1}),
        "empties": [(), [], {}, [None, ()]],
        "dtype": np.dtype(np.int16), "structure": lepton.tree.structure({"a": [1, 2], "b": Batch(3, None)}),
    }
    back = roundtrip(tmp_path, tree)
    assert_same(back, tree)
    assert type(back["odict"]) is collections.OrderedDict and list(back["odict"]) == ["z", "a"]
    assert back["ddict"].default_factory is list
    assert isinstance(back["np_scalars"][0], np.float16)


def test_scalar_and_none_roots(tmp_path):
    for i, tree in enumerate([None, 3, "x", lnp.ones(()), [], ()]):
        assert_same(roundtrip(tmp_path, tree, f"r{i}"), tree)


def test_dataclasses_namedtuples_and_registered_nodes(tmp_path):
    tree = {
        "layer": Dense(lnp.ones((2, 3)), lnp.zeros(3), activation="tanh", dtype=np.dtype(np.float64)),
        "batch": Batch(np.arange(4), [1, 2]),
        "pair": Pair(lnp.ones(2), Batch(1, 2), tag=("pair", 3, None)),
        "list_of_layers": [Dense(np.zeros(1), None), Dense(np.ones(1), 2.0, activation="gelu")],
    }
    back = roundtrip(tmp_path, tree)
    assert_same(back, tree)
    assert isinstance(back["layer"], Dense) and back["layer"].activation == "tanh"
    assert back["layer"].dtype == np.float64
    assert type(back["batch"]) is Batch and type(back["pair"]) is Pair and back["pair"].tag == ("pair", 3, None)


def test_prng_keys(tmp_path):
    key = lepton.random.PRNGKey(42)
    keys = lepton.random.split(key, 5)
    back = roundtrip(tmp_path, {"key": key, "keys": keys})
    assert_same(back, {"key": key, "keys": keys})
    np.testing.assert_array_equal(np.asarray(lepton.random.normal(back["key"], (3,))),
                                  np.asarray(lepton.random.normal(key, (3,))))


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "rmsprop_momentum",
                                  "adam", "adamax", "adamw", "sm3"])
def test_optimizer_states_round_trip_and_resume(tmp_path, name):
    args = {"momentum": (0.1, 0.9), "nesterov": (0.1, 0.9)}.get(name, (0.1,))
    init, update, get_params = getattr(opt, name)(*args)
    params = {"conv": [lnp.ones((2, 3)), lnp.zeros(3)], "scale": lnp.asarray(np.float64(2.0)),
              "empty": lnp.zeros((0, 2))}
    grads = lepton.tree.map(lambda p: lnp.full_like(p, 0.5), params)
    state = update(1, grads, update(0, grads, init(params)))
    back = roundtrip(tmp_path, {"opt": state, "step": 2})
    assert_same(back, {"opt": state, "step": 2})
    assert isinstance(back["opt"], opt.OptimizerState)
    # training resumes from the loaded state exactly as from the in-memory one
    resumed = update(2, grads, back["opt"])
    assert_same(get_params(resumed), get_params(update(2, grads, state)))


def test_optimizer_state_from_jit_and_vmap(tmp_path):
    init, update, get_params = opt.adam(opt.exponential_decay(0.1, 3, 0.5))
    batch = {"w": np.ones((4, 2, 3), np.float32)}
    state = lepton.vmap(init)(batch)
    state = lepton.jit(lepton.vmap(update, in_axes=(None, 0, 0)))(0, batch, state)
    back = roundtrip(tmp_path, state)
    assert_same(back, state)
    assert_same(lepton.jit(update)(1, batch, back), lepton.jit(update)(1, batch, state))


def test_overwrite_and_pathlike(tmp_path):
    path = tmp_path / "ckpt"
    lepton.save(path, {"v": 1})
    lepton.save(str(path), {"v": 2, "w": lnp.ones(3)})
    assert lepton.load(str(path))["v"] == 2
    assert os.listdir(tmp_path) == ["ckpt"]  # no temporary files left behind


# ----------------------------------------------------------------------------- unknown types
def _temporary_module(name):
    mod = types.ModuleType(name)
    exec(textwrap.dedent("""
        import collections, lepton
        Point = collections.namedtuple("Point", ["x", "y"])

        @lepton.dataclass
        class Layer:
            w: object
            act: str = lepton.field(static=True, default="relu")
    """), mod.__dict__)
    sys.modules[name] = mod
    return mod


def test_unknown_types_come_back_as_dicts(tmp_path):
    mod = _temporary_module("lepton_test_models_tmp")
    try:
        tree = {"p": mod.Point(1, lnp.ones(2)), "l": mod.Layer(np.zeros(2), act="tanh")}
        path = tmp_path / "m"
        lepton.save(path, tree)
        # while the module is imported, the objects come back
        back = lepton.load(path)
        assert type(back["p"]) is mod.Point and type(back["l"]) is mod.Layer and back["l"].act == "tanh"
    finally:
        del sys.modules["lepton_test_models_tmp"]
    with pytest.warns(UserWarning, match=r"dicts of their fields: lepton_test_models_tmp:Layer .*"
                                         r"lepton_test_models_tmp:Point \(module 'lepton_test_models_tmp' "
                                         r"is not imported\)"):
        back = lepton.load(path)
    assert back["p"]["x"] == 1 and isinstance(back["p"]["y"], lepton.Array)
    assert isinstance(back["l"], dict) and list(back["l"]) == ["w"] and isinstance(back["l"]["w"], np.ndarray)
    assert back["l"].static == {"act": "tanh"} and back["l"].type_name == "lepton_test_models_tmp:Layer"
    # the fallback is itself a pytree, and saves and loads again
    assert len(lepton.tree.leaves(back)) == 3  # w, x, y: as many leaves as the original objects had
    again = roundtrip(tmp_path, back, "again")
    assert_same(again, back)
    assert again["l"].static == {"act": "tanh"}
    with pytest.raises(TypeError, match="could not be rebuilt"):
        lepton.load(path, on_unknown_type="error")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert lepton.load(path, on_unknown_type="ignore")["p"]["x"] == 1
    with pytest.raises(ValueError, match="on_unknown_type"):
        lepton.load(path, on_unknown_type="import")


def test_local_and_changed_types_fall_back(tmp_path):
    Local = collections.namedtuple("Local", ["a"])
    with pytest.warns(UserWarning, match="test_save:Local \\('test_save' has no 'Local'\\)"):
        back = roundtrip(tmp_path, Local(a=3))
    assert back == {"a": 3}
    # a saved namedtuple whose class now has other fields is not forced into it
    path = tmp_path / "b"
    lepton.save(path, Batch(1, 2))
    raw = path.read_bytes().replace(b'"names":["x","y"]', b'"names":["x","z"]')
    _rewrite_with_valid_checksum(path, raw)
    with pytest.warns(UserWarning, match="named differently"):
        assert lepton.load(path) == {"x": 1, "z": 2}


def test_fresh_process_loads_without_model_code(tmp_path):
    # a training state written here is read by a process that never imports this test module
    init, update, get_params = opt.adam(0.01)
    params = {"layer": Dense(lnp.ones((2, 2)), lnp.zeros(2)), "head": Batch(lnp.ones(2), lnp.asarray(0.5))}
    grads = lepton.tree.map(lambda p: lnp.full_like(p, 0.1), params)
    state = update(0, grads, init(params))
    path = tmp_path / "train.lepton"
    lepton.save(path, {"opt": state, "step": 1, "key": lepton.random.PRNGKey(3)})
    script = textwrap.dedent(f"""
        import json, warnings, lepton
        from lepton import optimizers
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            s = lepton.load({str(path)!r})
        p = optimizers.adam(0.01).params_fn(s["opt"])
        print(json.dumps({{"state": type(s["opt"]).__name__, "step": s["step"], "key": s["key"].tolist(),
                          "layer": list(p["layer"]), "act": p["layer"].static["activation"],
                          "w": p["layer"]["w"].tolist(), "warned": [str(x.message) for x in w]}}))
    """)
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["state"] == "OptimizerState" and got["step"] == 1 and got["key"] == [0, 3]
    assert got["layer"] == ["w", "b"] and got["act"] == "relu"
    np.testing.assert_allclose(got["w"], np.asarray(get_params(state)["layer"].w))
    assert len(got["warned"]) == 1 and "test_save:Dense" in got["warned"][0]


# ----------------------------------------------------------------------------- what cannot be saved
def test_unsupported_values_raise_before_writing(tmp_path):
    path = tmp_path / "keep"
    lepton.save(path, {"old": 1})
    bad = [
        ({"f": lambda x: x}, "cannot store a leaf of type builtins.function at \\['f'\\]"),
        ({"o": np.array([object()])}, "dtype object"),
        ({"s": np.array(["a"])}, "not a lepton dtype"),
        ({"d": collections.defaultdict(lambda: 0)}, "default_factory"),
        ({"l": Dense(1, 2, activation=len)}, "cannot store builtins.builtin_function_or_method value.*"
                                              "keep a function's name"),
    ]
    for tree, msg in bad:
        with pytest.raises(TypeError, match=msg):
            lepton.save(path, tree)
    with pytest.raises(TypeError, match="traced value"):
        lepton.jit(lambda x: lepton.save(path, x))(lnp.ones(2))
    assert lepton.load(path) == {"old": 1} and os.listdir(tmp_path) == ["keep"]


# ----------------------------------------------------------------------------- damaged files
def _rewrite_with_valid_checksum(path, raw, version=None):
    """Write `raw` back with its prefix checksum recomputed (to test checks behind the checksum)."""
    magic, ver, flags, hlen, plen, _ = struct.unpack_from("<8sIIQQ32s", raw)
    hlen = len(raw) - 64 - plen if version is None else hlen
    ver = ver if version is None else version
    fields = struct.pack("<IIQQ", ver, flags, hlen, plen)
    import hashlib
    digest = hashlib.sha256(fields + raw[64:]).digest()
    path.write_bytes(magic + fields + digest + raw[64:])


@pytest.fixture
def saved(tmp_path):
    init, update, get_params = opt.adam(0.1)
    tree = {"opt": init({"w": lnp.ones((3, 5)), "b": lnp.zeros(5)}), "step": 7, "name": "x",
            "k": lepton.random.PRNGKey(1)}
    path = tmp_path / "ckpt.lepton"
    lepton.save(path, tree)
    return path, path.read_bytes()


def _reason(path):
    with pytest.raises(SaveFormatError) as info:
        lepton.load(path)
    assert isinstance(info.value, ValueError) and str(path) in str(info.value)
    return info.value.reason


def test_truncated_files(saved, tmp_path):
    path, raw = saved
    for n in sorted({0, 4, 8, 12, 40, 63, 64, 100, len(raw) // 2, len(raw) - 64, len(raw) - 1}):
        path.write_bytes(raw[:n])
        assert _reason(path) == ("foreign" if n < 8 else "truncated"), n
    path.write_bytes(raw + b"\0")
    assert _reason(path) == "truncated"


def test_every_single_bit_flip_is_detected(saved):
    path, raw = saved
    assert_same(serialization.from_bytes(raw), lepton.load(path))
    for pos in range(len(raw)):
        for bit in range(8):
            damaged = bytearray(raw)
            damaged[pos] ^= 1 << bit
            with pytest.raises(SaveFormatError) as info:
                serialization.from_bytes(damaged)
            assert info.value.reason in ("foreign", "truncated", "corrupted", "version"), (pos, bit)
            if pos >= 64:  # past the prefix, only the checksum can notice
                assert info.value.reason == "corrupted" and "checksum" in str(info.value)
    for pos in (3, 20, 40, 100, len(raw) - 1):  # and through a file on disk
        damaged = bytearray(raw)
        damaged[pos] ^= 0x10
        path.write_bytes(damaged)
        assert _reason(path) in ("foreign", "truncated", "corrupted", "version")


def test_foreign_files(tmp_path):
    samples = {
        "empty": b"", "text": b"hello, world\n", "png": b"\x89PNG\r\n\x1a\n" + bytes(100),
        "json": json.dumps({"lepton": 1}).encode(), "pickle": b"\x80\x04\x95\x10\x00\x00\x00",
    }
    np.save(tmp_path / "arr.npy", np.ones(3))
    samples["npy"] = (tmp_path / "arr.npy").read_bytes()
    for name, data in samples.items():
        p = tmp_path / name
        p.write_bytes(data)
        with pytest.raises(SaveFormatError, match="not a lepton save file") as info:
            lepton.load(p)
        assert info.value.reason == "foreign"


def test_newer_and_bad_versions(saved):
    path, raw = saved
    _rewrite_with_valid_checksum(path, raw, version=serialization.FORMAT_VERSION + 1)
    with pytest.raises(SaveFormatError, match="newer than the versions this lepton reads") as info:
        lepton.load(path)
    assert info.value.reason == "version"
    _rewrite_with_valid_checksum(path, raw, version=0)
    assert _reason(path) == "corrupted"


def test_checksum_valid_but_malformed_contents(saved):
    # a file with a correct checksum but inconsistent contents (a buggy or hostile writer)
    path, raw = saved
    cases = [
        raw.replace(b'"k":"dict"', b'"k":"exec"', 1),
        raw.replace(b'"dtype":"<f4"', b'"dtype":"|O8"', 1),
        raw.replace(b'"nbytes":60', b'"nbytes":6000', 1),
        raw.replace(b'"lepton":1', b'"lepton":7', 1),
        raw[:64] + b"{not json" + raw[73:],
        raw[:64] + b"\xff\xfe" + raw[66:],
        raw[:64] + b"[" * 100_000,  # nesting too deep for the JSON parser
    ]
    for damaged in cases:
        assert damaged != raw
        _rewrite_with_valid_checksum(path, damaged)
        assert _reason(path) == "corrupted"


# ----------------------------------------------------------------------------- atomic writes
_CHILD = textwrap.dedent("""
    import os, sys, time
    import numpy as np
    import lepton
    from lepton import serialization

    path, where = sys.argv[1], sys.argv[2]

    def pause():
        print("PAUSED", flush=True)
        time.sleep(120)

    if where == "mid-payload":
        real = serialization._write_chunks
        def partial(f, chunks):
            real(f, chunks[: len(chunks) // 2])
            f.flush(); os.fsync(f.fileno())
            pause()
            real(f, chunks[len(chunks) // 2:])
        serialization._write_chunks = partial
    else:  # after the temporary file is complete and synced, before the rename
        real_replace = os.replace
        def replace(src, dst):
            pause()
            real_replace(src, dst)
        os.replace = replace

    big = {"w": np.arange(4_000_000, dtype=np.float32).reshape(2000, 2000), "step": 999,
           "parts": [np.full(1000, float(k)) for k in range(8)]}
    lepton.save(path, big)
""")


@pytest.mark.parametrize("where", ["mid-payload", "before-rename"])
def test_write_killed_midway_leaves_previous_file(tmp_path, where):
    path = tmp_path / "ckpt.lepton"
    old = {"w": lnp.ones((2, 2)), "step": 1}
    lepton.save(path, old)
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(path), where], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.strip() == "PAUSED", proc.stderr.read()
        tmps = [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]
        assert len(tmps) == 1 and tmps[0].startswith(".ckpt.lepton.")
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert_same(lepton.load(path), old)  # the previous checkpoint is untouched
    tmp = tmp_path / tmps[0]
    if where == "mid-payload":
        assert 0 < tmp.stat().st_size < 16_000_000
        with pytest.raises(SaveFormatError) as info:  # the stale partial file is recognisably incomplete
            lepton.load(tmp)
        assert info.value.reason == "truncated"
    else:
        assert lepton.load(tmp)["step"] == 999  # complete, just never renamed


_LOOPING_CHILD = textwrap.dedent("""
    import sys
    import numpy as np
    import lepton

    path = sys.argv[1]
    version = 0
    print("READY", flush=True)
    while True:
        version += 1
        lepton.save(path, {"version": version, "w": np.full((1000, 1000), float(version))})
""")


def test_write_killed_at_random_times_leaves_a_complete_file(tmp_path):
    # no hooks: a process saving in a loop is killed at random moments
    rng = np.random.default_rng()
    path = tmp_path / "loop.lepton"
    lepton.save(path, {"version": 0, "w": np.zeros((1000, 1000))})
    for _ in range(2):
        with subprocess.Popen([sys.executable, "-c", _LOOPING_CHILD, str(path)], cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as proc:
            try:
                assert proc.stdout.readline().strip() == "READY", proc.stderr.read()
                time.sleep(rng.uniform(0.05, 0.6))
            finally:
                proc.kill()
                proc.wait()
        state = lepton.load(path)
        assert state["w"].shape == (1000, 1000) and np.all(state["w"] == state["version"])


def test_failed_write_removes_its_temporary_file(tmp_path, monkeypatch):
    path = tmp_path / "ckpt"
    lepton.save(path, {"v": 1})

    def broken(f, chunks):
        f.write(chunks[0])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(serialization, "_write_chunks", broken)
    with pytest.raises(OSError, match="No space left"):
        lepton.save(path, {"v": 2, "w": np.ones(100)})
    assert os.listdir(tmp_path) == ["ckpt"] and lepton.load(path) == {"v": 1}


def test_tree_node_lookup_api():
    # the two helpers lepton.tree gained for load: rebuild a node by type, with no instance at hand
    assert lepton.tree.is_node_type(dict) and lepton.tree.is_node_type(Batch) and lepton.tree.is_node_type(Dense)
    assert not lepton.tree.is_node_type(lepton.Array) and not lepton.tree.is_node_type(int)
    assert lepton.tree.unflatten_node(Batch, None, [1, 2]) == Batch(1, 2)
    assert lepton.tree.unflatten_node(dict, ("a", "b"), [1, 2]) == {"a": 1, "b": 2}
    layer = lepton.tree.unflatten_node(Dense, ("gelu", np.dtype(np.float16)), [1, 2])
    assert (layer.w, layer.b, layer.activation, layer.dtype) == (1, 2, "gelu", np.float16)
    with pytest.raises(TypeError, match="not a pytree node type"):
        lepton.tree.unflatten_node(float, None, [])
