"""lepton.save / lepton.load: a whole training state in one file, with no pickle.

    lepton.save("ckpt.lepton", {"params": params, "opt": opt_state, "key": key, "step": 1200})
    state = lepton.load("ckpt.lepton")

What a file holds: any pytree of lepton arrays, NumPy arrays and scalars, Python
``int``/``float``/``complex``/``bool``/``str``/``bytes``/``None``, dtypes and PyTreeDefs,
nested in dicts (keys: str, int, float, bool, None or tuples of these), lists, tuples, OrderedDicts, defaultdicts
(builtin factories), namedtuples, lepton dataclasses and other registered pytree nodes whose
aux data is made of such plain values, dtypes and PyTreeDefs (so an optimizer state saves as
is). PRNG keys are plain ``uint32[2]`` arrays and need nothing special. Arrays keep dtype,
shape (0-d and 0-size included) and weak type; lepton arrays come back as lepton arrays,
NumPy arrays as (writable) NumPy arrays.

Safety: loading executes nothing from the file. The structure is JSON and the arrays are raw
bytes; a class (namedtuple, dataclass, registered node) is named by ``module:qualname`` and is
rebuilt only if that module is ALREADY imported in this process, the name resolves there to a
pytree node type and its children still have the saved names. Nothing is ever imported. A
type that does not resolve comes back as an ``UnknownNode``: a ``dict`` of its children that
also keeps the type name, the aux data and a dataclass's static fields (``.static``), and
``load`` warns, naming the types (``on_unknown_type="ignore"`` keeps quiet, ``"error"``
raises); import the defining module first to get the objects back.
``lepton.optimizers.OptimizerState`` is always known (``import lepton`` registers it).

File layout, version 1 (all integers little-endian)::

    0   magic  b"\\x89LPT\\r\\n\\x1a\\n"   (8 bytes; a non-lepton file fails here)
    8   format version  u32            12  flags u32 (0)
    16  header length   u64            24  payload length u64
    32  sha256 of bytes 8..32 + header + payload  (32 bytes)
    64  header: UTF-8 JSON (tree structure, array table), space-padded to a multiple of 64
        payload: raw array bytes, C order, each array at a 64-byte aligned offset

Writes are atomic: a temporary file in the same directory, fsync, ``os.replace``, fsync of
the directory; a crash at any point leaves the previous file intact (and possibly a stale
``.<name>.*.tmp`` file next to it). A truncated, corrupted, foreign or newer-version file
raises ``SaveFormatError`` (a ``ValueError``) whose ``reason`` is one of ``"foreign"``,
``"truncated"``, ``"corrupted"`` or ``"version"``; nothing half-read is ever returned.
"""
from __future__ import annotations

import base64
import collections
import dataclasses
import hashlib
import json
import math
import os
import struct
import sys
import warnings

import numpy as np

from . import dtypes, tree
from .core import Array, Tracer, new_array

__all__ = ["save", "load", "to_bytes", "from_bytes", "SaveFormatError", "UnknownNode", "FORMAT_VERSION", "MAGIC"]

MAGIC = b"\x89LPT\r\n\x1a\n"
FORMAT_VERSION = 1
_PREFIX = struct.Struct("<8sIIQQ32s")  # magic, version, flags, header len, payload len, sha256
_ALIGN = 64
_MAX_HEADER = 1 << 31

_DTYPES = {np.dtype(d).newbyteorder("<").str: np.dtype(d).newbyteorder("<") for d in dtypes.SUPPORTED}
_DTYPES.update({np.dtype(d).str: np.dtype(d) for d in dtypes.SUPPORTED})
_FACTORIES = {f.__name__: f for f in (list, dict, set, int, float, str, tuple, bytes, bool, complex)}


class SaveFormatError(ValueError):
    """A file that ``lepton.load`` cannot trust: ``reason`` says why.

    ``"foreign"``: not a lepton save file (wrong magic); ``"truncated"``: shorter (or longer)
    than its header says; ``"corrupted"``: checksum or structure mismatch (bit flips, partial
    overwrites); ``"version"``: written by a newer format version than this lepton reads.
    """

    def __init__(self, path, reason: str, detail: str):
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"lepton.load({self.path!r}): {detail}")


class UnknownNode(dict):
    """A saved node whose type could not be rebuilt at load time: a dict of its children by
    name, in their saved order, that remembers what it was.

    ``type_name`` is the saved ``"module:qualname"``, ``aux_data`` the node's saved aux data and
    ``static`` a dict of a dataclass's static fields. It is a pytree node with those three as
    static structure, so a parameter tree and the optimizer state built on it fall back to
    matching structures (same leaves, in the same order).
    """

    __slots__ = ("type_name", "aux_data", "_static")

    def __init__(self, items, type_name: str, aux_data=None, static: tuple = ()):
        super().__init__(items)
        self.type_name = type_name
        self.aux_data = aux_data
        self._static = tuple(static)

    @property
    def static(self) -> dict:
        return dict(self._static)

    def __repr__(self):
        return f"UnknownNode({self.type_name!r}, {dict.__repr__(self)})"


def _unknown_flatten(n):
    return list(n.values()), (tuple(n.keys()), n.type_name, n.aux_data, n._static)


tree.register_pytree_node(
    UnknownNode,
    _unknown_flatten,
    lambda aux, children: UnknownNode(zip(aux[0], children), *aux[1:]),
    lambda n: ([(tree.DictKey(k), v) for k, v in n.items()], _unknown_flatten(n)[1]),
)


# ============================================================================== save

class _Hole:
    """Placeholder leaf used to turn a PyTreeDef into an object tree and back."""

    __slots__ = ()


_HOLE = _Hole()


def _children(obj):
    """(PyTreeDef of obj's top node, [(key, child)]) listing only the immediate children."""
    keyed, treedef = tree.flatten_with_path(obj, is_leaf=lambda c: c is not obj)
    if treedef.is_leaf():
        return treedef, []
    return treedef, [(path[0], child) for path, child in keyed]


def _key_name(key):
    for attr in ("name", "key", "idx"):
        if hasattr(key, attr):
            return getattr(key, attr)
    return str(key)


class _Writer:
    def __init__(self):
        self.arrays: list[np.ndarray] = []

    # -- plain values (aux data, dict keys, Python leaves) -----------------------------
    def value(self, v, where):
        if v is None or isinstance(v, (bool, str)):
            return v
        if isinstance(v, np.generic) or isinstance(v, np.dtype):
            if isinstance(v, np.dtype):
                return {"dtype": self.dtype_str(v, where)}
            return {"npv": [self.dtype_str(v.dtype, where), self.value(v.item(), where)]}
        if isinstance(v, int):
            return v if type(v) is int else {"int": int(v)}
        if isinstance(v, float):
            return {"f": float(v).hex()}
        if isinstance(v, complex):
            return {"c": [v.real.hex(), v.imag.hex()]}
        if isinstance(v, bytes):
            return {"b": base64.b64encode(v).decode("ascii")}
        if type(v) is tuple:
            return {"t": [self.value(x, where) for x in v]}
        if type(v) is list:
            return {"l": [self.value(x, where) for x in v]}
        if type(v) is frozenset:
            items = [self.value(x, where) for x in v]
            return {"fs": sorted(items, key=lambda e: json.dumps(e, sort_keys=True))}
        if isinstance(v, tree.PyTreeDef):
            return {"treedef": self.node(v.unflatten([_HOLE] * v.num_leaves), where)}
        hint = (" A file never refers to code: keep a function's name (a str) in the static field "
                "and look it up when you use it." if callable(v) else "")
        raise TypeError(f"lepton.save: cannot store {type(v).__module__}.{type(v).__qualname__} "
                        f"value {v!r:.80} at {where or 'the root'}; static data (aux data, dict keys) "
                        "must be None, bool, int, float, complex, str, bytes, dtypes, PyTreeDefs or "
                        f"tuples/frozensets of these.{hint}")

    def dtype_str(self, dt, where):
        dt = np.dtype(dt)
        if dt == dtypes.float0:
            return "float0"
        s = dt.newbyteorder("<").str
        if s not in _DTYPES:
            raise TypeError(f"lepton.save: dtype {dt} at {where or 'the root'} is not a lepton dtype "
                            f"(bool, int8..64, uint8..64, float16/32/64, complex64/128)")
        return s

    # -- tree ---------------------------------------------------------------------------
    def array(self, a: np.ndarray, where) -> int:
        dt = self.dtype_str(a.dtype, where)
        if dt != "float0":
            a = np.asarray(a, dtype=_DTYPES[dt], order="C")  # (ascontiguousarray makes 0-d arrays 1-d)
        self.arrays.append(a)
        return len(self.arrays) - 1

    def node(self, obj, where: str):
        if obj is _HOLE:
            return {"k": "hole"}
        if isinstance(obj, Array):
            return {"k": "array", "i": self.array(np.asarray(obj), where), "weak": bool(obj.weak_type)}
        if isinstance(obj, np.ndarray):
            return {"k": "ndarray", "i": self.array(obj, where)}
        if isinstance(obj, np.generic):
            return {"k": "npscalar", "i": self.array(np.asarray(obj), where)}
        if isinstance(obj, Tracer):
            raise TypeError(f"lepton.save: the leaf at {where or 'the root'} is a traced value "
                            f"({obj.aval.str_short()}); save concrete values, outside jit/grad/vmap.")
        treedef, kids = _children(obj)
        if treedef.is_leaf():
            if isinstance(obj, (bool, int, float, complex, str, bytes, np.dtype, tree.PyTreeDef)):
                return {"k": "value", "v": self.value(obj, where)}
            raise TypeError(f"lepton.save: cannot store a leaf of type {type(obj).__module__}."
                            f"{type(obj).__qualname__} at {where or 'the root'}; leaves must be arrays, "
                            "Python/NumPy scalars, str, bytes, dtypes or PyTreeDefs. Register its type as a "
                            "pytree node (lepton.dataclass or lepton.tree.register_pytree_node).")
        cls, aux = treedef.node_data
        c = [self.node(child, where + str(key)) for key, child in kids]
        if cls is tuple or cls is list:
            return {"k": cls.__name__, "c": c}
        if cls is type(None):
            return {"k": "none"}
        if cls is dict or cls is collections.OrderedDict:
            return {"k": "dict" if cls is dict else "odict", "keys": [self.value(k, where) for k in aux],
                    "c": c}
        if cls is collections.defaultdict:
            factory, keys = aux
            name = None if factory is None else getattr(factory, "__name__", None)
            if factory is not None and _FACTORIES.get(name) is not factory:
                raise TypeError(f"lepton.save: the defaultdict at {where or 'the root'} has default_factory "
                                f"{factory!r}; only None and builtin types ({', '.join(_FACTORIES)}) can be "
                                "stored (a file never names code to run).")
            return {"k": "ddict", "factory": name, "keys": [self.value(k, where) for k in keys], "c": c}
        return self.custom(obj, cls, aux, kids, c, where)

    def custom(self, obj, cls, aux, kids, c, where):
        entry = {"k": "node", "type": f"{cls.__module__}:{cls.__qualname__}",
                 "aux": self.value(aux, f"{where} (aux data of {cls.__qualname__})"),
                 "names": [self.value(_key_name(k), where) for k, _ in kids], "c": c}
        if dataclasses.is_dataclass(cls):
            names = {n for n in entry["names"] if isinstance(n, str)}
            static = {f.name: getattr(obj, f.name) for f in dataclasses.fields(cls)
                      if f.name not in names and hasattr(obj, f.name)}
            try:
                entry["static"] = {k: self.value(v, where) for k, v in static.items()}
            except TypeError:
                pass  # only used for the dict fallback; the aux data above is what rebuilds it
        return entry


def _layout(arrays):
    """(table for the header, payload size): each array at a 64-byte aligned offset."""
    table, offset = [], 0
    for a in arrays:
        dt = "float0" if a.dtype == dtypes.float0 else a.dtype.str
        nbytes = 0 if dt == "float0" else a.nbytes
        table.append({"dtype": dt, "shape": list(a.shape), "offset": offset, "nbytes": nbytes})
        offset += -(-nbytes // _ALIGN) * _ALIGN
    return table, offset


def _payload_chunks(arrays, table, payload_len) -> list:
    """The payload as byte buffers (array data and zero padding), without copying the data."""
    chunks, pos = [], 0
    for a, entry in zip(arrays, table):
        if entry["nbytes"] == 0:
            continue
        if entry["offset"] > pos:
            chunks.append(bytes(entry["offset"] - pos))
        chunks.append(memoryview(a.reshape(-1).view(np.uint8)))
        pos = entry["offset"] + entry["nbytes"]
    if payload_len > pos:
        chunks.append(bytes(payload_len - pos))
    return chunks


def encode(obj) -> list:
    """The file contents for `obj` as a list of byte buffers (prefix, header, payload pieces)."""
    w = _Writer()
    root = w.node(obj, "")
    table, payload_len = _layout(w.arrays)
    header = json.dumps({"lepton": FORMAT_VERSION, "tree": root, "arrays": table},
                        separators=(",", ":"), allow_nan=False).encode("utf-8")
    header += b" " * ((-(_PREFIX.size + len(header))) % _ALIGN)
    chunks = _payload_chunks(w.arrays, table, payload_len)
    fields = struct.pack("<IIQQ", FORMAT_VERSION, 0, len(header), payload_len)
    digest = hashlib.sha256(fields)
    digest.update(header)
    for ch in chunks:
        digest.update(ch)
    prefix = _PREFIX.pack(MAGIC, FORMAT_VERSION, 0, len(header), payload_len, digest.digest())
    return [prefix, header] + chunks


def _write_chunks(f, chunks) -> None:
    for ch in chunks:
        f.write(ch)


def save(path, obj) -> None:
    """Write the pytree `obj` to `path` atomically (see the module docstring for what it holds).

    The file appears complete or not at all: data goes to a temporary file next to `path`,
    which is fsynced and renamed over `path`, and the directory is fsynced.
    """
    path = os.fspath(path)
    chunks = encode(obj)  # fails before touching the disk if obj cannot be stored
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            _write_chunks(f, chunks)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


def _fsync_dir(directory):
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


# ============================================================================== load

class _Malformed(Exception):
    pass


def _expect(cond, what):
    if not cond:
        raise _Malformed(what)


def _read_file(path) -> bytearray:
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        buf = bytearray(size)
        n = f.readinto(buf)
    if n != size:
        raise SaveFormatError(path, "truncated", f"read {n} of {size} bytes")
    return buf


def _verify(path, buf) -> tuple[dict, memoryview]:
    """Check magic, version, length and checksum of a whole file's bytes; parse its header."""
    mv = memoryview(buf)
    size = len(mv)
    if size < len(MAGIC) or bytes(mv[:len(MAGIC)]) != MAGIC:
        raise SaveFormatError(path, "foreign", "not a lepton save file (it does not start with "
                              "lepton's magic bytes); load it with the tool that wrote it")
    if size < _PREFIX.size:
        raise SaveFormatError(path, "truncated", f"file is truncated: {size} bytes, shorter than "
                              f"lepton's {_PREFIX.size}-byte prefix")
    _, version, flags, header_len, payload_len, digest = _PREFIX.unpack_from(mv)
    if version > FORMAT_VERSION:
        raise SaveFormatError(path, "version", f"written with save format version {version}, newer than "
                              f"the versions this lepton reads (1..{FORMAT_VERSION}); upgrade lepton "
                              "(or, if no newer lepton wrote it, the file is corrupted)")
    if version < 1 or flags != 0:
        raise SaveFormatError(path, "corrupted", f"corrupted prefix (format version {version}, flags {flags})")
    expected = _PREFIX.size + header_len + payload_len
    if size != expected:
        kind = "truncated" if size < expected else "has trailing data"
        raise SaveFormatError(path, "truncated", f"file {kind}: {size} bytes, but its prefix promises "
                              f"{expected}; it was cut short or overwritten (checkpoint unusable)")
    h = hashlib.sha256(mv[8:32])
    h.update(mv[_PREFIX.size:])
    if h.digest() != digest:
        raise SaveFormatError(path, "corrupted", "checksum mismatch (sha256): the file is corrupted "
                              "(changed after it was written)")
    if header_len > _MAX_HEADER:
        raise SaveFormatError(path, "corrupted", f"implausible header length {header_len}")
    try:
        header = json.loads(bytes(mv[_PREFIX.size:_PREFIX.size + header_len]).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise SaveFormatError(path, "corrupted", f"header is not valid JSON: {e}") from None
    return header, mv[_PREFIX.size + header_len:]


class _Reader:
    def __init__(self, table, payload, on_unknown_type):
        self.payload = payload
        self.table = table
        self.on_unknown = on_unknown_type
        self.unknown: dict[str, str] = {}

    def value(self, e):
        if e is None or isinstance(e, (bool, str)):
            return e
        if isinstance(e, int):
            return e
        _expect(isinstance(e, dict) and len(e) == 1, f"bad value entry {e!r:.60}")
        (tag, v), = e.items()
        if tag == "f":
            return float.fromhex(v)
        if tag == "int":
            return int(v)
        if tag == "c":
            return complex(float.fromhex(v[0]), float.fromhex(v[1]))
        if tag == "b":
            return base64.b64decode(v.encode("ascii"), validate=True)
        if tag == "t":
            return tuple(self.value(x) for x in v)
        if tag == "l":
            return [self.value(x) for x in v]
        if tag == "fs":
            return frozenset(self.value(x) for x in v)
        if tag == "dtype":
            return self.dtype(v)
        if tag == "npv":
            return self.dtype(v[0]).type(self.value(v[1]))
        if tag == "treedef":
            return tree.structure(self.node(v))
        raise _Malformed(f"unknown value tag {tag!r}")

    def dtype(self, s):
        if s == "float0":
            return dtypes.float0
        _expect(isinstance(s, str) and s in _DTYPES, f"unknown dtype {s!r:.40}")
        return _DTYPES[s]

    def array(self, i) -> np.ndarray:
        _expect(isinstance(i, int) and 0 <= i < len(self.table), f"bad array index {i!r}")
        e = self.table[i]
        dt = self.dtype(e["dtype"])
        shape = e["shape"]
        _expect(isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape),
                f"bad shape {shape!r:.60}")
        shape = tuple(shape)
        count = math.prod(shape)
        if dt == dtypes.float0:
            return np.zeros(shape, dt)
        off, nbytes = e["offset"], e["nbytes"]
        _expect(isinstance(off, int) and isinstance(nbytes, int) and nbytes == count * dt.itemsize
                and 0 <= off and off + nbytes <= len(self.payload), f"bad extent for array {i}")
        if count == 0:
            return np.zeros(shape, dt)
        return np.frombuffer(self.payload, dt, count, off).reshape(shape)

    def node(self, e):
        _expect(isinstance(e, dict) and "k" in e, f"bad tree entry {e!r:.60}")
        k = e["k"]
        if k == "hole":
            return _HOLE
        if k == "array":
            return new_array(self.array(e["i"]), bool(e.get("weak", False)))
        if k == "ndarray":
            return self.array(e["i"])
        if k == "npscalar":
            a = self.array(e["i"])
            _expect(a.ndim == 0, "NumPy scalar entry with a shape")
            return a[()]
        if k == "value":
            return self.value(e["v"])
        if k == "none":
            return None
        children = [self.node(c) for c in e["c"]]
        if k == "tuple":
            return tuple(children)
        if k == "list":
            return children
        if k in ("dict", "odict", "ddict"):
            keys = [self.value(x) for x in e["keys"]]
            _expect(len(keys) == len(children), "dict keys and values differ in number")
            if k == "dict":
                return dict(zip(keys, children))
            if k == "odict":
                return collections.OrderedDict(zip(keys, children))
            name = e["factory"]
            _expect(name is None or name in _FACTORIES, f"unknown defaultdict factory {name!r:.40}")
            return collections.defaultdict(None if name is None else _FACTORIES[name], zip(keys, children))
        if k == "node":
            return self.custom(e, children)
        raise _Malformed(f"unknown tree entry kind {k!r:.40}")

    def custom(self, e, children):
        type_name = e["type"]
        names = [self.value(n) for n in e["names"]]
        _expect(isinstance(type_name, str) and len(names) == len(children), "bad node entry")
        cls, why = _resolve(type_name)
        if cls is not None:
            try:
                obj = tree.unflatten_node(cls, self.value(e["aux"]), children)
                treedef, kids = _children(obj)
                if [_key_name(key) for key, _ in kids] == names and treedef.node_data[0] is cls:
                    return obj
                why = "its children are now named differently from the saved ones"
            except Exception as exc:  # the class changed since the save: fall back to a dict
                why = f"rebuilding it failed ({type(exc).__name__}: {exc})"
        self.unknown.setdefault(type_name, why)
        static = tuple((name, self.value(v)) for name, v in (e.get("static") or {}).items())
        return UnknownNode(zip(names, children), type_name, self.value(e["aux"]), static)


def _resolve(type_name: str):
    """The class named ``module:qualname`` if its module is already imported and it is a pytree
    node type; never imports anything. Returns (class or None, reason)."""
    module, _, qualname = type_name.partition(":")
    mod = sys.modules.get(module)
    if mod is None:
        return None, f"module {module!r} is not imported"
    obj = mod
    for part in qualname.split("."):
        if part.startswith("<"):
            return None, "it is defined inside a function"
        obj = getattr(obj, part, None)
        if obj is None:
            return None, f"{module!r} has no {qualname!r}"
    if not isinstance(obj, type) or not tree.is_node_type(obj):
        return None, f"{qualname!r} in {module!r} is not a pytree node type"
    return obj, ""


def load(path, *, on_unknown_type: str = "warn"):
    """Read a pytree written by ``lepton.save``.

    Raises ``SaveFormatError`` (a ValueError) for a truncated, corrupted, foreign or newer-version
    file. Types that cannot be resolved in this process come back as ``UnknownNode`` dicts:
    ``on_unknown_type`` is ``"warn"`` (default: a UserWarning naming them), ``"ignore"`` or
    ``"error"`` (TypeError).
    """
    _check_mode(on_unknown_type)
    return _decode(path, _read_file(path), on_unknown_type)


def to_bytes(obj) -> bytes:
    """The bytes ``lepton.save`` would write for `obj` (same format, same checks)."""
    return b"".join(encode(obj))


def from_bytes(data, *, on_unknown_type: str = "warn"):
    """Inverse of ``to_bytes``; `data` is any bytes-like object. Errors as in ``load``."""
    _check_mode(on_unknown_type)
    return _decode("<bytes>", bytearray(data), on_unknown_type)


def _check_mode(on_unknown_type):
    if on_unknown_type not in ("warn", "ignore", "error"):
        raise ValueError(f"on_unknown_type must be 'warn', 'ignore' or 'error', got {on_unknown_type!r}")


def _decode(path, buf, on_unknown_type):
    header, payload = _verify(path, buf)
    try:
        _expect(isinstance(header, dict) and header.get("lepton") == FORMAT_VERSION,
                "header does not match the prefix's format version")
        table = header["arrays"]
        _expect(isinstance(table, list) and all(isinstance(t, dict) for t in table), "bad array table")
        reader = _Reader(table, payload, on_unknown_type)
        result = reader.node(header["tree"])
    except (_Malformed, KeyError, TypeError, ValueError, IndexError, AttributeError, RecursionError) as e:
        raise SaveFormatError(path, "corrupted", f"malformed contents ({type(e).__name__}: {e})") from None
    if reader.unknown:
        listing = "; ".join(f"{name} ({why})" for name, why in reader.unknown.items())
        msg = (f"lepton.load({os.fspath(path)!r}): these types could not be rebuilt and came back as "
               f"dicts of their fields: {listing}. Import the modules that define them before loading "
               "to get the objects back.")
        if on_unknown_type == "error":
            raise TypeError(msg)
        if on_unknown_type == "warn":
            warnings.warn(msg, UserWarning, stacklevel=3)
    return result
