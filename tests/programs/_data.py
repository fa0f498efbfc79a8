"""Deterministic inputs shared by the programs and by make_references.py (NumPy only)."""
import numpy as onp


def logistic_data():
    rng = onp.random.default_rng(0)
    x = rng.normal(size=(40, 3))
    w_true = onp.array([1.5, -2.0, 0.5])
    y = (x @ w_true + 0.3 * rng.normal(size=40) > 0).astype(onp.float64)
    return x, y


def gp_data():
    rng = onp.random.default_rng(1)
    x = onp.sort(rng.uniform(-3, 3, 12))
    y = onp.sin(x) + 0.1 * rng.normal(size=12)
    xs = onp.linspace(-3.5, 3.5, 5)
    params = {"log_amp": 0.1, "log_len": -0.2, "log_noise": -1.5}
    return x, y, xs, params


def ica_data():
    rng = onp.random.default_rng(2)
    s = onp.stack([rng.laplace(size=200), onp.sign(rng.normal(size=200)) *
                   rng.uniform(0.5, 1.5, 200)], axis=1)
    mixing = onp.array([[1.0, 0.6], [0.4, 1.2]])
    return s @ mixing.T, onp.eye(2)


def hmm_data():
    rng = onp.random.default_rng(3)
    params = {"init": rng.normal(size=3), "trans": rng.normal(size=(3, 3)),
              "emit": rng.normal(size=(3, 4))}
    obs = rng.integers(0, 4, size=(4, 9)).astype(onp.int32)
    return params, obs


def vae_data():
    rng = onp.random.default_rng(4)
    d, h, z = 6, 4, 2

    def lin(i, o):
        return rng.normal(size=(i, o)) / onp.sqrt(i), 0.1 * rng.normal(size=o)
    params = {}
    for name, (i, o) in {"enc": (d, h), "mu": (h, z), "logvar": (h, z), "dec": (z, h),
                         "out": (h, d)}.items():
        params[name] = dict(zip(("w", "b"), lin(i, o)))
    x = (rng.uniform(size=(5, d)) < 0.4).astype(onp.float64)
    eps = rng.normal(size=(3, 5, z))  # one draw per training step
    return params, x, eps


def rnn_data():
    rng = onp.random.default_rng(5)
    params = {"wx": 0.5 * rng.normal(size=(2, 3)), "wh": 0.5 * rng.normal(size=(3, 3)),
              "b": 0.1 * rng.normal(size=3), "wo": rng.normal(size=(3, 1))}
    xs = rng.normal(size=(7, 2))
    target = onp.array([0.3])
    return params, xs, target


def mlp_data():
    rng = onp.random.default_rng(6)
    x = rng.normal(size=(60, 3))
    labels = (x[:, 0] * x[:, 1] + 0.5 * x[:, 2] > 0).astype(int)
    return x, onp.eye(2)[labels]
