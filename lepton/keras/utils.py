"""Keras's ``utils``: label encoding, seeding, training-curve plots and ``PyDataset``."""
from __future__ import annotations

import numpy as np

from .data import PyDataset, Sequence  # noqa: F401
from .seeding import set_random_seed  # noqa: F401


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels ``y`` (any shape) into a trailing class axis."""
    y = np.asarray(y)
    if y.dtype.kind not in "iub":
        if y.dtype.kind == "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        else:
            raise ValueError(f"to_categorical expects integer class labels; got dtype {y.dtype}")
    if y.ndim and y.shape[-1] == 1 and y.ndim > 1:
        y = y[..., 0]
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0; found {int(y.min())}")
    n = int(y.max()) + 1 if num_classes is None and y.size else int(num_classes or 0)
    if y.size and y.max() >= n:
        raise ValueError(f"to_categorical: label {int(y.max())} is out of range for "
                         f"num_classes={n}")
    out = np.zeros(y.shape + (n,), dtype=dtype)
    np.put_along_axis(out, y[..., None].astype(np.intp), 1, axis=-1)
    return out


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Keras's ``pad_sequences``: a ``(len(sequences), maxlen)`` array of the sequences
    padded with ``value`` and cut to ``maxlen`` (both at the start with 'pre', at the end
    with 'post'); ``maxlen`` defaults to the longest sequence."""
    for arg, v in (("padding", padding), ("truncating", truncating)):
        if v not in ("pre", "post"):
            raise ValueError(f"pad_sequences: {arg} must be 'pre' or 'post', got {v!r}")
    seqs = [np.asarray(s) for s in sequences]
    if any(s.ndim == 0 for s in seqs):
        raise ValueError("pad_sequences expects a list of sequences (lists or 1-D arrays), "
                         "got a scalar among them")
    if maxlen is None:
        maxlen = max((len(s) for s in seqs), default=0)
    inner = next((s.shape[1:] for s in seqs if len(s)), ())
    out = np.full((len(seqs), int(maxlen)) + inner, value, dtype=dtype)
    for i, s in enumerate(seqs):
        if not len(s) or not maxlen:
            continue
        s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if s.shape[1:] != inner:
            raise ValueError(f"pad_sequences: sequence {i} has items of shape "
                             f"{s.shape[1:]}, the others {inner}")
        if padding == "post":
            out[i, :len(s)] = s
        else:
            out[i, -len(s):] = s
    return out


def normalize(x, axis=-1, order=2):
    """Keras's ``normalize``: ``x`` divided by its ``order``-norm along ``axis`` (zero
    norms left as zeros)."""
    x = np.asarray(x)
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


def plot_history(history, path, *, metrics=None):
    """Save a History's curves as an image: one panel per metric (loss first), training and
    validation together.  Needs matplotlib (``pip install 'lepton[plot]'``)."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError("plotting training curves needs matplotlib: "
                          "pip install 'lepton[plot]' (or pip install matplotlib)") from None
    logs = history.history if hasattr(history, "history") else dict(history)
    names = metrics or [k for k in logs if not k.startswith("val_")]
    if not names:
        raise ValueError("the history holds no metrics to plot; call fit() first")
    fig, axes = plt.subplots(1, len(names), figsize=(4.5 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names):
        epochs = np.arange(1, len(logs[name]) + 1)
        ax.plot(epochs, logs[name], marker="o", label=f"train {name}")
        if f"val_{name}" in logs:
            ax.plot(epochs, logs[f"val_{name}"], marker="o", label=f"validation {name}")
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
