"""Frozen dataclasses that are pytrees: fields are children unless marked static.

    @lepton.dataclass
    class Linear:
        w: Array
        b: Array
        activation: str = lepton.field(static=True, default="relu")

Static fields go into the PyTreeDef's aux data, so changing one changes the
structure (and retriggers jit tracing) instead of being traced as a leaf.
"""

from __future__ import annotations

import dataclasses as _dc

from lepton.tree import GetAttrKey, register_pytree_node

__all__ = ["dataclass", "field"]


def field(*, static: bool = False, **kwargs):
    """`dataclasses.field` plus `static`: a static field is structure, not a leaf."""
    metadata = {**(kwargs.pop("metadata", None) or {}), "static": static}
    return _dc.field(metadata=metadata, **kwargs)


def dataclass(cls=None, /, *, frozen: bool = True, **kwargs):
    """Make `cls` a (frozen by default) dataclass registered as a pytree node.

    Usable bare (`@dataclass`) or with arguments (`@dataclass(eq=False)`); extra
    keyword arguments go to `dataclasses.dataclass`. Adds `.replace(**changes)`.
    """
    if cls is None:
        return lambda c: dataclass(c, frozen=frozen, **kwargs)
    cls = _dc.dataclass(cls, frozen=frozen, **kwargs)
    if "replace" not in cls.__dict__:
        cls.replace = _dc.replace
    _register(cls)
    return cls


def _register(cls) -> None:
    fields = _dc.fields(cls)
    data = tuple(f.name for f in fields if not f.metadata.get("static", False))
    static = tuple(f.name for f in fields if f.metadata.get("static", False))

    def flatten(obj):
        return [getattr(obj, name) for name in data], _static_values(obj)

    def flatten_with_keys(obj):
        return [(GetAttrKey(name), getattr(obj, name)) for name in data], _static_values(obj)

    def _static_values(obj):
        values = tuple(getattr(obj, name) for name in static)
        try:
            hash(values)
        except TypeError:
            name, value = next((n, v) for n, v in zip(static, values) if not _hashable(v))
            raise TypeError(
                f"static field {cls.__name__}.{name} must be hashable (it becomes part of the "
                f"pytree structure), got unhashable {type(value).__name__}: {value!r}"
            ) from None
        return values

    def unflatten(aux, children):
        # Bypass __init__/__post_init__: transforms rebuild objects with placeholder leaves.
        obj = object.__new__(cls)
        for name, value in zip(static, aux):
            object.__setattr__(obj, name, value)
        for name, value in zip(data, children):
            object.__setattr__(obj, name, value)
        return obj

    register_pytree_node(cls, flatten, unflatten, flatten_with_keys)


def _hashable(value) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True
