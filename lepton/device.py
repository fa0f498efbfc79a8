"""Devices and placement, with JAX's names: ``devices()``, ``device_put``, ``block_until_ready``.

lepton computes on the host CPU, synchronously: there is one device, ``CpuDevice(id=0)``,
every array lives on it, and every result is ready when its call returns.  So
``device_put`` only converts NumPy arrays and Python scalars to lepton arrays, and
``block_until_ready`` returns its argument.  The functions keep JAX's signatures and
checks so that programs written for JAX run unchanged, and so that a CUDA backend can add
its devices here (``Device(platform='gpu', ...)``) without changing callers.
"""
from __future__ import annotations

from . import tree
from .core import CPU_DEVICE, ArrayBase, Device, concrete

__all__ = ["Device", "block_until_ready", "default_backend", "device_count", "device_put",
           "devices", "local_device_count", "local_devices", "process_count", "process_index"]

_PLATFORMS = {"cpu": [CPU_DEVICE]}
_KNOWN_ELSEWHERE = ("gpu", "cuda", "rocm", "tpu", "metal")


def default_backend() -> str:
    """The platform computations run on by default: ``'cpu'``."""
    return "cpu"


def devices(backend: str | None = None) -> list[Device]:
    """All devices of ``backend`` (default: the default platform), as ``jax.devices``."""
    name = default_backend() if backend is None else str(backend).lower()
    if name not in _PLATFORMS:
        why = ("lepton runs on the CPU only today" if name in _KNOWN_ELSEWHERE
               else "unknown platform")
        raise RuntimeError(f"Backend {backend!r} is not available ({why}); available: "
                           f"{sorted(_PLATFORMS)}. Use devices() or devices('cpu').")
    return list(_PLATFORMS[name])


def local_devices(process_index: int | None = None, backend: str | None = None) -> list[Device]:
    """Devices attached to this process (all of them: lepton is single-process)."""
    if process_index not in (None, 0):
        raise ValueError(f"process_index={process_index}: lepton runs in one process (0)")
    return devices(backend)


def device_count(backend: str | None = None) -> int:
    return len(devices(backend))


def local_device_count(backend: str | None = None) -> int:
    return len(local_devices(backend=backend))


def process_index() -> int:
    return 0


def process_count() -> int:
    return 1


def _check_device(device):
    if device is None:
        return
    if not isinstance(device, Device):
        raise TypeError(f"device_put: device must be a lepton Device (from lepton.devices()) "
                        f"or None, got {type(device).__name__}: {device!r:.100}")
    if device not in _PLATFORMS.get(device.platform, ()):
        raise ValueError(f"device_put: {device!r} is not one of the available devices "
                         f"{[d for ds in _PLATFORMS.values() for d in ds]}")


def device_put(x, device=None, *, src=None, donate=False, may_alias=None):
    """Place every leaf of the pytree ``x`` on ``device`` (default: the default device),
    returning lepton arrays: NumPy arrays and Python scalars are converted (copied) with the
    dtypes ``lepton.numpy.asarray`` gives them (Python scalars stay weakly typed); lepton
    arrays are returned as they are (they are immutable, so no copy is needed), and traced
    values pass through.  ``device`` may also be a pytree prefix of ``x``
    whose leaves are devices.  ``src``, ``donate`` and ``may_alias`` are accepted for JAX
    compatibility and have no effect on the CPU."""
    if device is None or isinstance(device, Device):
        _check_device(device)
        return tree.map(_put_leaf, x)
    dev_leaves, dev_tree = tree.flatten(device, is_leaf=lambda d: isinstance(d, Device))
    for d in dev_leaves:
        _check_device(d)
    if dev_tree.is_leaf():  # a single non-Device leaf: let _check_device name it
        _check_device(device)
    subtrees = dev_tree.flatten_up_to(x)
    return dev_tree.unflatten([tree.map(_put_leaf, s) for s in subtrees])


def _put_leaf(v):
    if isinstance(v, ArrayBase):
        return v
    try:
        return concrete(v)
    except TypeError:
        raise TypeError(f"device_put: {type(v).__name__} is not an array type; leaves must be "
                        f"arrays or scalars, got {v!r:.100}") from None


def block_until_ready(x):
    """Wait for every array in the pytree ``x`` to be computed and return ``x`` (lepton
    computes synchronously, so this returns at once; leaves that are not arrays pass)."""
    for leaf in tree.leaves(x):
        wait = getattr(leaf, "block_until_ready", None)
        if callable(wait):
            wait()
    return x
