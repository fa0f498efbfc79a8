"""A character-level LSTM language model, written with lepton.keras, trained on a text every
Debian system has (the GPL-3 licence).  It prints the loss falling and text sampled from
the model as it learns.
Run: python examples/char_lstm.py [--epochs 8] [--text /usr/share/common-licenses/GPL-3]
"""
import argparse
import os
import time

import numpy as np

import lepton.keras as keras
from lepton.keras import layers

DEFAULT_TEXT = "/usr/share/common-licenses/GPL-3"


def sample(model, seed_ids, length, chars, rng, temperature=0.6):
    """Extend ``seed_ids`` by ``length`` characters, drawing each from the model's
    next-character distribution over a sliding window (one compiled shape)."""
    window = list(seed_ids)
    out = []
    for _ in range(length):
        logits = model.predict(np.array([window]), verbose=0)[0, -1]
        p = np.exp((logits - logits.max()) / temperature)
        nxt = int(rng.choice(len(p), p=p / p.sum()))
        out.append(chars[nxt])
        window = window[1:] + [nxt]
    return "".join(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--text", default=DEFAULT_TEXT)
    args = ap.parse_args()
    if not os.path.exists(args.text):
        raise SystemExit(f"{args.text} is missing: pass --text with any plain-text file")
    text = open(args.text, encoding="utf-8", errors="replace").read()
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    ids = np.array([index[c] for c in text], np.int32)
    starts = np.arange(0, len(ids) - args.seq - 1, args.seq // 2)
    x = np.stack([ids[s:s + args.seq] for s in starts])
    y = np.stack([ids[s + 1:s + args.seq + 1] for s in starts])   # the next character
    print(f"text: {args.text} ({len(text):,} characters, {len(chars)} distinct), "
          f"{len(x)} sequences of {args.seq}")

    model = keras.Sequential([
        keras.Input((args.seq,), dtype="int32"),
        layers.Embedding(len(chars), 32),
        layers.LSTM(192, return_sequences=True),
        layers.Dense(len(chars)),
    ])
    model.compile(optimizer=keras.optimizers.Adam(3e-3, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    seed = x[0]
    for epoch in range(args.epochs):
        start = time.perf_counter()
        h = model.fit(x, y, batch_size=64, epochs=1, verbose=0, seed=epoch)
        loss = h.history["loss"][0]
        print(f"epoch {epoch + 1}: loss {loss:.3f} ({time.perf_counter() - start:.1f} s)",
              flush=True)
        if epoch % 2 == 1 or epoch == args.epochs - 1:
            print("  sample: " + repr("".join(chars[i] for i in seed[-20:]) + " -> "
                                       + sample(model, seed, 120, chars, rng)), flush=True)


if __name__ == "__main__":
    main()
