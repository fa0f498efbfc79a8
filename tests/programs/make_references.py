"""Record tests/programs/references.json from NumPy implementations of each program
(NumPy only: no lepton, JAX or autograd).  Gradients are hand-derived where short
(logistic regression, GP, ICA, clipping) and central differences of the float64 NumPy
loss elsewhere (HMM, VAE, RNN: error ~1e-9, far below the test's tolerance).

    python -m tests.programs.make_references      (from the repository root)
"""
from __future__ import annotations

import json
import math
import pathlib

import numpy as onp

from tests.programs import _data

HERE = pathlib.Path(__file__).resolve().parent


# ----------------------------------------------------------------------------- helpers
def flatten(tree, prefix=()):
    if isinstance(tree, dict):
        out = []
        for k in sorted(tree):
            out += flatten(tree[k], prefix + (k,))
        return out
    return [(prefix, tree)]


def get(tree, path):
    for k in path:
        tree = tree[k]
    return tree


def set_(tree, path, value):
    for k in path[:-1]:
        tree = tree[k]
    tree[path[-1]] = value


def copy(tree):
    return {k: copy(v) if isinstance(v, dict) else onp.array(v, onp.float64)
            for k, v in tree.items()}


def fd_grad(loss, params, eps=1e-6):
    """Central differences of ``loss(params)`` for every entry of every leaf."""
    grads = copy(params)
    for path, leaf in flatten(params):
        g = onp.zeros(onp.shape(leaf))
        for idx in onp.ndindex(onp.shape(leaf)):
            p = copy(params)
            base = get(p, path)
            v = base[idx] if onp.ndim(base) else float(base)
            for sign in (1, -1):
                arr = onp.array(base, onp.float64)
                if arr.ndim:
                    arr[idx] = v + sign * eps
                else:
                    arr = onp.array(v + sign * eps)
                set_(p, path, arr)
                g[idx] += sign * loss(p) / (2 * eps)
        set_(grads, path, g)
    return grads


def logsumexp(a, axis=None):
    m = onp.max(a, axis=axis, keepdims=True)
    out = onp.log(onp.sum(onp.exp(a - m), axis=axis, keepdims=True)) + m
    return onp.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def log_softmax(a, axis=-1):
    return a - logsumexp(a, axis=axis)[..., None] if a.ndim > 1 else a - logsumexp(a)


# ----------------------------------------------------------------------------- programs
def logistic_regression():
    x, y = _data.logistic_data()
    sig = lambda z: 0.5 * (onp.tanh(z / 2) + 1)  # noqa: E731

    def grad(w):
        return x.T @ (sig(x @ w) - y)

    def loss(w):
        p = sig(x @ w)
        return -onp.sum(onp.log(p * y + (1 - p) * (1 - y)))
    w = onp.zeros(3)
    first = grad(w)
    for _ in range(100):
        w = w - 0.01 * grad(w)
    return {"first_grad": first, "weights": w, "loss": loss(w)}


def _rbf(p, a, b):
    d2 = (a[:, None] - b[None, :]) ** 2
    return math.exp(2 * p["log_amp"]) * onp.exp(-0.5 * d2 / math.exp(2 * p["log_len"])), d2


def _gp_nll_grad(p, x, y):
    n = len(x)
    kf, d2 = _rbf(p, x, x)
    k = kf + math.exp(2 * p["log_noise"]) * onp.eye(n)
    chol = onp.linalg.cholesky(k)
    kinv = onp.linalg.inv(k)
    alpha = kinv @ y
    nll = 0.5 * y @ alpha + onp.sum(onp.log(onp.diag(chol))) + 0.5 * n * math.log(2 * math.pi)
    w = kinv - onp.outer(alpha, alpha)
    dks = {"log_amp": 2 * kf, "log_len": kf * d2 / math.exp(2 * p["log_len"]),
           "log_noise": 2 * math.exp(2 * p["log_noise"]) * onp.eye(n)}
    return nll, {k_: 0.5 * onp.sum(w * dk) for k_, dk in dks.items()}


def gp_cholesky():
    x, y, xs, p = _data.gp_data()
    nll, g = _gp_nll_grad(p, x, y)
    q = dict(p)
    for _ in range(30):
        _, d = _gp_nll_grad(q, x, y)
        q = {k: q[k] - 0.05 * d[k] for k in q}
    k = _rbf(q, x, x)[0] + math.exp(2 * q["log_noise"]) * onp.eye(len(x))
    ks = _rbf(q, x, xs)[0]
    mean = ks.T @ onp.linalg.solve(k, y)
    var = onp.diag(_rbf(q, xs, xs)[0]) - onp.sum(ks * onp.linalg.solve(k, ks), axis=0)
    return {"nll": nll, "grad_log_amp": g["log_amp"], "grad_log_len": g["log_len"],
            "grad_log_noise": g["log_noise"], "fitted_log_len": q["log_len"],
            "fitted_nll": _gp_nll_grad(q, x, y)[0], "mean": mean, "var": var}


def ica():
    X, W = _data.ica_data()
    n = X.shape[0]

    def grad(W):
        return -n * onp.linalg.inv(W).T + onp.tanh(X @ W.T).T @ X

    def nll(W):
        return -n * math.log(abs(onp.linalg.det(W))) + onp.sum(onp.log(onp.cosh(X @ W.T)))
    first = grad(W)
    for _ in range(150):
        W = W - 0.002 * grad(W)
    return {"first_grad": first, "W": W, "nll": nll(W)}


def _hmm_ll(p, obs):
    log_pi, log_a, log_b = (log_softmax(p["init"]), log_softmax(p["trans"], 1),
                            log_softmax(p["emit"], 1))
    alpha = log_pi + log_b[:, obs[0]]
    for o in obs[1:]:
        alpha = logsumexp(alpha[:, None] + log_a, axis=0) + log_b[:, o]
    return float(logsumexp(alpha))


def hmm_forward():
    params, obs = _data.hmm_data()
    per = onp.array([_hmm_ll(params, o) for o in obs])
    g = fd_grad(lambda p: sum(_hmm_ll(p, o) for o in obs), params)
    return {"per_sequence": per, "total": per.sum(), "grad_init": g["init"],
            "grad_trans": g["trans"], "grad_emit": g["emit"]}


def _log_sigmoid(z):
    return -onp.logaddexp(0, -z)


def _neg_elbo(p, x, eps):
    dense = lambda q, v: v @ q["w"] + q["b"]  # noqa: E731
    h = onp.tanh(dense(p["enc"], x))
    mu, logvar = dense(p["mu"], h), dense(p["logvar"], h)
    z = mu + onp.exp(0.5 * logvar) * eps
    logits = dense(p["out"], onp.maximum(dense(p["dec"], z), 0))
    log_px = onp.sum(x * _log_sigmoid(logits) + (1 - x) * _log_sigmoid(-logits))
    kl = 0.5 * onp.sum(onp.exp(logvar) + mu ** 2 - 1 - logvar)
    return (kl - log_px) / x.shape[0]


def vae_step():
    params, x, eps = _data.vae_data()
    losses, first = [], None
    for e in eps:
        g = fd_grad(lambda p: _neg_elbo(p, x, e), params)
        first = g if first is None else first
        losses.append(_neg_elbo(params, x, e))
        params = {k: {kk: params[k][kk] - 0.1 * g[k][kk] for kk in params[k]} for k in params}
    return {"losses": onp.array(losses), "grad_enc_w": first["enc"]["w"],
            "grad_out_b": first["out"]["b"], "final_dec_w": params["dec"]["w"],
            "n_leaves": 10}


def clip_gradient():
    t = onp.linspace(0.0, 10.0, 50)
    g = 0.75 * onp.cos(t)  # the incoming cotangent 2 is clipped to 0.75
    w, b = onp.array([0.1, -2.0, 0.7]), 1.5
    return {"t": t, "grads": g, "jitted": g, "value": 2 * math.sin(t[3]),
            "pytree_w": onp.clip(2 * w, -1, 1), "pytree_b": 2 * b}


def _rnn_loss(p, xs, target):
    h = onp.zeros(p["wh"].shape[0])
    hs = []
    for x in xs:
        h = onp.tanh(x @ p["wx"] + h @ p["wh"] + p["b"])
        hs.append(h)
    y = h @ p["wo"]
    return float(onp.sum((y - target) ** 2) + 1e-3 * onp.sum(onp.array(hs) ** 2))


def scan_rnn():
    params, xs, target = _data.rnn_data()
    loss = lambda p: _rnn_loss(p, xs, target)  # noqa: E731
    loss0, g = loss(params), fd_grad(loss, params)
    for _ in range(5):
        d = fd_grad(loss, params)
        params = {k: params[k] - 0.2 * d[k] for k in params}
    return {"loss0": loss0, "grad_wx": g["wx"], "grad_wh": g["wh"], "grad_b": g["b"],
            "grad_wo": g["wo"], "loss5": loss(params)}


def jit_static():
    x = onp.array([0.5, -1.0, 2.0])
    return {
        "power_sum_3": x + x ** 2 / 2 + x ** 3 / 3,
        "power_sum_5": sum(x ** k / k for k in range(1, 6)),
        "grad_power_sum_4": 1 + x + x ** 2 + x ** 3,
        "l2": x / onp.sqrt(onp.sum(x ** 2)), "max": x / 2.0,
        "ones_by_position": onp.full(3, 2.0), "ones_by_name": onp.full(4, 2.0),
        "partial": 2.0 * x + 1.0, "callable_object": 3.0 * x, "bound_method": 3.0 * x + 1,
    }


def autograd_tanh():
    x = onp.linspace(-3, 3, 25)
    t = onp.tanh(x)
    pts = onp.random.RandomState(0).randn(4)
    return {"x": x, "d1": 1 - t ** 2, "d2": -2 * t * (1 - t ** 2),
            "d3": (1 - t ** 2) * (6 * t ** 2 - 2), "grad_at_points": 1 - onp.tanh(pts) ** 2,
            "points": pts}


def _mlp(params, x):
    (w1, b1), (w2, b2) = params
    h1 = onp.tanh(x @ w1 + b1)
    a2 = h1 @ w2 + b2
    return h1, a2, a2 - logsumexp(a2, axis=1)[:, None]


def _mlp_objective_grad(params, x, t, l2):
    """-(log prior + log likelihood) of the tanh MLP and its gradient, by hand."""
    (w1, b1), (w2, b2) = params
    h1, a2, out = _mlp(params, x)
    loss = l2 * sum(onp.sum(w ** 2) + onp.sum(b ** 2) for w, b in params) - onp.sum(out * t)
    dout = -t
    sm = onp.exp(out)
    da2 = dout - sm * onp.sum(dout, axis=1, keepdims=True)
    da1 = (da2 @ w2.T) * (1 - h1 ** 2)
    grads = [(x.T @ da1 + 2 * l2 * w1, da1.sum(0) + 2 * l2 * b1),
             (h1.T @ da2 + 2 * l2 * w2, da2.sum(0) + 2 * l2 * b2)]
    return loss, grads


def autograd_neural_net():
    x, t = _data.mlp_data()
    rs = onp.random.RandomState(0)
    params = [(0.3 * rs.randn(m, n), 0.3 * rs.randn(n)) for m, n in [(3, 5), (5, 2)]]
    flat = lambda ps: onp.concatenate([a.ravel() for p in ps for a in p])  # noqa: E731
    shapes = [a.shape for p in params for a in p]

    def unflat(v):
        out, i = [], 0
        for s in shapes:
            n = int(onp.prod(s))
            out.append(v[i:i + n].reshape(s))
            i += n
        return [(out[0], out[1]), (out[2], out[3])]

    def batch(it):
        k = it % 3
        return x[k * 20:(k + 1) * 20], t[k * 20:(k + 1) * 20]
    v = flat(params)
    m, s = onp.zeros_like(v), onp.zeros_like(v)
    losses = []
    for i in range(40):
        xb, tb = batch(i)
        loss, g = _mlp_objective_grad(unflat(v), xb, tb, 0.01)
        if i % 10 == 0:
            losses.append(loss)
        g = flat(g)
        m = 0.9 * m + 0.1 * g
        s = 0.999 * s + 0.001 * g ** 2
        v = v - 0.05 * (m / (1 - 0.9 ** (i + 1))) / (onp.sqrt(s / (1 - 0.999 ** (i + 1))) + 1e-8)
    trained = unflat(v)
    xb, tb = batch(0)
    acc = onp.mean(onp.argmax(_mlp(trained, x)[2], 1) == onp.argmax(t, 1))
    return {"losses": onp.array(losses), "W0": trained[0][0], "b1": trained[1][1],
            "final_objective": _mlp_objective_grad(trained, xb, tb, 0.01)[0],
            "accuracy": acc}


PROGRAMS = [autograd_neural_net, autograd_tanh, logistic_regression, gp_cholesky, ica, hmm_forward, vae_step, clip_gradient,
            scan_rnn, jit_static]


def main():
    refs = {f.__name__: {k: onp.asarray(v, onp.float64).tolist() for k, v in f().items()}
            for f in PROGRAMS}
    (HERE / "references.json").write_text(json.dumps(refs, indent=1) + "\n")


if __name__ == "__main__":
    main()
