"""Find, download and load the four IDX files of an MNIST-format dataset.

Each file is looked for, in order, in:

1. ``path=`` (a directory: ``<path>/<subdir>/`` then ``<path>`` itself; or a Keras
   ``.npz`` file) and ``$LEPTON_DATA_DIR`` (one or more directories joined by ``os.pathsep``;
   only ``<dir>/<subdir>/`` is searched there, since the variable is shared by every dataset
   and MNIST and Fashion-MNIST use the same file names);
2. the user cache ``$XDG_CACHE_HOME/lepton/datasets/<name>/`` (default ``~/.cache/...``);
3. system dataset directories (``/usr/share/datasets/<subdir>/``, where Debian's
   ``dataset-fashion-mnist`` installs), then Keras's own cache (``~/.keras/datasets``);
4. a download into the user cache from the dataset's mirrors (``LEPTON_DATASETS_MIRRORS``
   overrides them; ``LEPTON_OFFLINE=1`` or ``download=False`` turns downloading off).

A directory provides a file as the published ``.gz``, uncompressed (name without ``.gz``,
or Kaggle's ``train-images.idx3-ubyte`` spelling), or
(MNIST only) inside Keras's ``mnist.npz``. Local files are trusted by content: their IDX
headers, sizes and labels are validated, not their hashes (Debian recompresses the ``.gz``
files, so their hashes differ from the published ones). Downloads are checked by sha256.
"""
from __future__ import annotations

import dataclasses
import os

import numpy as np

from . import _download
from ._errors import DatasetCorruptError, DatasetNotFoundError, DownloadError
from ._idx import read_idx

PARTS = ("x_train", "y_train", "x_test", "y_test")


@dataclasses.dataclass(frozen=True)
class FileSpec:
    part: str       # which of PARTS the file holds
    name: str       # published file name (.gz)
    sha256: str     # of the published .gz
    md5: str        # the md5 the dataset's authors publish (documentation, error messages)
    size: int       # bytes of the published .gz
    count: int      # number of examples


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
    name: str                   # cache directory name, e.g. "fashion-mnist"
    title: str                  # for messages
    subdirs: tuple              # directory names a data root may hold it under
    files: tuple                # FileSpec per part, in PARTS order
    mirrors: list               # base URLs (module-level list: mutable on purpose)
    npz_name: str | None = None  # Keras's single-file format, if it has one
    keras_cache_subdir: str | None = None  # where Keras caches the IDX files


SYSTEM_DIRS = ["/usr/share/datasets", "/usr/local/share/datasets"]


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() not in ("", "0", "false", "no", "off")


def offline() -> bool:
    """True when ``LEPTON_OFFLINE`` forbids downloads."""
    return _truthy(os.environ.get("LEPTON_OFFLINE"))


def cache_dir(spec: DatasetSpec) -> str:
    """The user cache directory for ``spec`` (where downloads go)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "lepton", "datasets", spec.name)


def mirrors(spec: DatasetSpec) -> list:
    """Base URLs to download from: ``LEPTON_DATASETS_MIRRORS`` (comma or space separated,
    ``{name}`` replaced by the dataset name) if set, else ``spec.mirrors``."""
    raw = os.environ.get("LEPTON_DATASETS_MIRRORS")
    bases = raw.replace(",", " ").split() if raw is not None else list(spec.mirrors)
    return [b.replace("{name}", spec.name).rstrip("/") + "/" for b in bases]


def search_dirs(spec: DatasetSpec, path=None) -> list:
    """``(directory, origin)`` pairs in lookup order (directories need not exist)."""
    out = []
    if path is not None:
        path = os.path.expanduser(os.fspath(path))
        out += [(os.path.join(path, s), "path=") for s in spec.subdirs] + [(path, "path=")]
    for root in filter(None, os.environ.get("LEPTON_DATA_DIR", "").split(os.pathsep)):
        root = os.path.expanduser(root)
        out += [(os.path.join(root, s), "LEPTON_DATA_DIR") for s in spec.subdirs]
    out.append((cache_dir(spec), "user cache"))
    for root in SYSTEM_DIRS:
        out += [(os.path.join(root, s), "system") for s in spec.subdirs]
    keras = os.path.join(os.environ.get("KERAS_HOME") or os.path.expanduser("~/.keras"),
                         "datasets")
    if spec.keras_cache_subdir:
        out.append((os.path.join(keras, spec.keras_cache_subdir), "Keras cache"))
    if spec.npz_name:
        out.append((keras, f"Keras cache, {spec.npz_name} only"))
    seen, unique = set(), []
    for d, origin in out:
        key = os.path.abspath(d)
        if key not in seen:
            seen.add(key)
            unique.append((d, origin))
    return unique


def _find(spec: DatasetSpec, f: FileSpec, dirs) -> tuple | None:
    """First ``("idx", file)`` or ``("npz", file)`` providing ``f`` in ``dirs``."""
    for d, origin in dirs:
        raw = f.name[:-3]  # also the Kaggle spelling, train-images.idx3-ubyte
        names = (f.name, raw, raw.replace("-idx", ".idx"))
        for candidate in () if origin.endswith(" only") else names:
            p = os.path.join(d, candidate)
            if os.path.isfile(p):
                return ("idx", p)
        if spec.npz_name and os.path.isfile(os.path.join(d, spec.npz_name)):
            return ("npz", os.path.join(d, spec.npz_name))
    return None


def _load_npz(path: str, spec: DatasetSpec) -> dict:
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in PARTS if k not in z.files]
            if missing:
                raise DatasetCorruptError(
                    f"{path} lacks the arrays {missing} (a Keras {spec.npz_name} holds "
                    f"{list(PARTS)}); delete or replace it")
            return {k: np.asarray(z[k]) for k in PARTS}
    except DatasetCorruptError:
        raise
    except Exception as e:  # noqa: BLE001 - BadZipFile, ValueError, OSError, pickle errors
        raise DatasetCorruptError(f"{path} is not a readable .npz file "
                                  f"({type(e).__name__}: {e}); delete or replace it") from None


def _read_part(f: FileSpec, path: str) -> np.ndarray:
    is_images = f.part.startswith("x")
    arr = read_idx(path, dtype=0x08, ndim=3 if is_images else 1)
    if is_images and arr.shape[1:] != (28, 28):
        raise DatasetCorruptError(f"{path} holds images of shape {arr.shape[1:]}, expected "
                                  f"(28, 28) for {f.name}")
    return arr


def _check_download(f: FileSpec):
    def validate(path):
        arr = _read_part(f, path)
        if arr.shape[0] != f.count:
            raise DatasetCorruptError(f"{path} holds {arr.shape[0]} examples, expected "
                                      f"{f.count}")
    return validate


def _check(spec: DatasetSpec, data: dict, sources: dict) -> None:
    """Cross-check the loaded arrays; errors name the files."""
    for split in ("train", "test"):
        x, y = data[f"x_{split}"], data[f"y_{split}"]
        sx, sy = sources[f"x_{split}"], sources[f"y_{split}"]
        if x.dtype != np.uint8 or y.dtype != np.uint8:
            raise DatasetCorruptError(f"{spec.title} {split} arrays must be uint8, got "
                                      f"{x.dtype} ({sx}) and {y.dtype} ({sy})")
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1:
            raise DatasetCorruptError(f"{spec.title} {split} arrays have shapes {x.shape} "
                                      f"({sx}) and {y.shape} ({sy}); expected (N, 28, 28) "
                                      f"and (N,)")
        if x.shape[0] != y.shape[0]:
            raise DatasetCorruptError(f"{spec.title} {split} images and labels disagree: "
                                      f"{x.shape[0]} images in {sx} but {y.shape[0]} labels "
                                      f"in {sy}")
        if y.size and int(y.max()) > 9:
            raise DatasetCorruptError(f"{sy} holds label {int(y.max())}; {spec.title} "
                                      f"labels are 0-9")


def _not_found(spec: DatasetSpec, missing, dirs, why: str, failures) -> DatasetNotFoundError:
    names = [f.name for f in missing]
    lines = [f"{spec.title}: {len(names)} of {len(spec.files)} files not found, and {why}.",
             "Missing: " + ", ".join(names),
             "Put them (the published .gz files, or uncompressed without .gz"
             + (f", or a Keras {spec.npz_name}" if spec.npz_name else "")
             + ") in one of these directories, searched in this order:"]
    if not any(origin == "LEPTON_DATA_DIR" for _, origin in dirs):
        lines.append(f"  $LEPTON_DATA_DIR/{spec.subdirs[0]}   [LEPTON_DATA_DIR is not set]")
    for d, origin in dirs:
        lines.append(f"  {d}   [{origin}]")
    lines.append("or pass load_data(path=DIR). Download them from any of these URLs "
                 "(sha256 of the .gz file given):")
    for f in missing:
        lines.append(f"  {f.name}  sha256 {f.sha256}")
        lines += [f"      {b}{f.name}" for b in mirrors(spec)] or ["      (no mirrors set)"]
    if failures:
        lines.append("Download attempts:")
        lines += [f"  {u}: {w}" for u, w in failures]
    return DatasetNotFoundError("\n".join(lines))


def locate(spec: DatasetSpec, path=None) -> dict:
    """Map each part to its local ``("idx"|"npz", file)`` source, or None if not found."""
    if path is not None and os.path.isfile(os.path.expanduser(os.fspath(path))):
        p = os.path.expanduser(os.fspath(path))
        if not p.endswith(".npz") or not spec.npz_name:
            raise ValueError(f"path={p!r} is a file; pass the directory holding the "
                             f"{spec.title} files" + (f" or a Keras {spec.npz_name}"
                                                      if spec.npz_name else ""))
        return {f.part: ("npz", p) for f in spec.files}
    dirs = search_dirs(spec, path)
    return {f.part: _find(spec, f, dirs) for f in spec.files}


def load(spec: DatasetSpec, path=None, *, download: bool = True, verbose: bool = True):
    """Keras's ``load_data`` contract: ``(x_train, y_train), (x_test, y_test)``, uint8."""
    found = locate(spec, path)
    missing = [f for f in spec.files if found[f.part] is None]
    if missing:
        dirs = search_dirs(spec, path)
        if not download or offline():
            why = ("downloading is off (download=False)" if not download else
                   "downloading is off (LEPTON_OFFLINE is set)")
            raise _not_found(spec, missing, dirs, why, [])
        bases = mirrors(spec)
        if not bases:
            raise _not_found(spec, missing, dirs, "no download mirrors are configured", [])
        failures, unreachable = [], False
        for f in missing:
            dest = os.path.join(cache_dir(spec), f.name)
            try:
                _download.download([b + f.name for b in bases], dest, sha256=f.sha256,
                                   size=f.size, validate=_check_download(f), verbose=verbose)
            except DownloadError as e:
                failures += e.failures
                if e.unreachable:  # no network: do not try every mirror for every file
                    unreachable = True
                    break
                continue
            found[f.part] = ("idx", dest)
        still = [f for f in spec.files if found[f.part] is None]
        if still:
            why = ("no download mirror could be reached (offline?)" if unreachable
                   else "downloading failed")
            raise _not_found(spec, still, dirs, why, failures)
    data, sources, npz_cache = {}, {}, {}
    for f in spec.files:
        kind, p = found[f.part]
        if kind == "npz":
            if p not in npz_cache:
                npz_cache[p] = _load_npz(p, spec)
            data[f.part], sources[f.part] = npz_cache[p][f.part], p
        else:
            data[f.part], sources[f.part] = _read_part(f, p), p
    _check(spec, data, sources)
    return (data["x_train"], data["y_train"]), (data["x_test"], data["y_test"])
