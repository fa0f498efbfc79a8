"""SimpleRNN, LSTM, GRU and Bidirectional against NumPy step-by-step references written
with PyTorch's gate equations and weight layout (weight_ih, weight_hh, b_ih, b_hh);
lengths/mask, reverse, initial_state, gradients, jit and vmap."""
from __future__ import annotations

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import random, stax, tree
from lepton.test_util import check_grads

RNG = np.random.default_rng(1)
KEY = random.PRNGKey(0)


def sig(v):
    return 1 / (1 + np.exp(-v))


def torch_params(kind, d, h, dtype=np.float64):
    g = {"lstm": 4, "gru": 3, "rnn": 1}[kind]
    return dict(w_ih=RNG.uniform(-0.5, 0.5, (g * h, d)).astype(dtype),
                w_hh=RNG.uniform(-0.5, 0.5, (g * h, h)).astype(dtype),
                b_ih=RNG.uniform(-0.5, 0.5, g * h).astype(dtype),
                b_hh=RNG.uniform(-0.5, 0.5, g * h).astype(dtype))


def to_lepton(kind, tp):
    """PyTorch layout -> lepton's (W, U, b[, b_h])."""
    W, U = tp["w_ih"].T, tp["w_hh"].T
    if kind == "gru":
        return (W, U, tp["b_ih"], tp["b_hh"])
    return (W, U, tp["b_ih"] + tp["b_hh"])


def ref_cell(kind, tp, x, state):
    """One step of torch.nn.{LSTM, GRU, RNN} (unbatched equations, rows = batch)."""
    Wi, Wh, bi, bh = tp["w_ih"], tp["w_hh"], tp["b_ih"], tp["b_hh"]
    if kind == "rnn":
        (h,) = state
        return (np.tanh(x @ Wi.T + bi + h @ Wh.T + bh),)
    H = Wh.shape[1]
    gi, gh = x @ Wi.T + bi, state[0] @ Wh.T + bh
    blk = lambda a, k: a[:, k * H:(k + 1) * H]  # noqa: E731
    if kind == "lstm":
        h, c = state
        i = sig(blk(gi, 0) + blk(gh, 0))
        f = sig(blk(gi, 1) + blk(gh, 1))
        g = np.tanh(blk(gi, 2) + blk(gh, 2))
        o = sig(blk(gi, 3) + blk(gh, 3))
        c = f * c + i * g
        return (o * np.tanh(c), c)
    (h,) = state
    r = sig(blk(gi, 0) + blk(gh, 0))
    z = sig(blk(gi, 1) + blk(gh, 1))
    n = np.tanh(blk(gi, 2) + r * blk(gh, 2))
    return ((1 - z) * n + z * h,)


def ref_run(kind, tp, x, lengths=None, reverse=False, initial=None):
    """Loop over time per sequence; padded steps are skipped (PyTorch packed sequences):
    returns (outputs (B, T, H) with zeros at padding, final h)."""
    B, T, _ = x.shape
    H = tp["w_hh"].shape[1]
    lengths = np.full(B, T) if lengths is None else np.asarray(lengths)
    outs = np.zeros((B, T, H))
    finals = np.zeros((B, H))
    n_state = 2 if kind == "lstm" else 1
    for b in range(B):
        state = tuple(np.zeros((1, H)) for _ in range(n_state)) if initial is None else \
            tuple(np.asarray(s)[b:b + 1] for s in initial)
        steps = range(lengths[b])
        for t in (reversed(steps) if reverse else steps):
            state = ref_cell(kind, tp, x[b:b + 1, t], state)
            outs[b, t] = state[0][0]
        finals[b] = state[0][0]
    return outs, finals


LAYER = {"lstm": stax.LSTM, "gru": stax.GRU, "rnn": stax.SimpleRNN}


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("reverse", [False, True])
def test_matches_pytorch_equations(kind, reverse):
    B, T, D, H = 3, 5, 4, 6
    tp = torch_params(kind, D, H)
    x = RNG.standard_normal((B, T, D))
    want_seq, want_last = ref_run(kind, tp, x, reverse=reverse)
    for dtype, tol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        params = tree.map(lambda a: a.astype(dtype), to_lepton(kind, tp))
        xs = x.astype(dtype)
        seq = LAYER[kind](H, return_sequences=True, reverse=reverse)[1](params, xs)
        last = LAYER[kind](H, reverse=reverse)[1](params, xs)
        assert seq.dtype == dtype
        np.testing.assert_allclose(np.asarray(seq), want_seq, rtol=tol, atol=tol)
        np.testing.assert_allclose(np.asarray(last), want_last, rtol=tol, atol=tol)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("reverse", [False, True])
def test_lengths_and_mask(kind, reverse):
    B, T, D, H = 4, 6, 3, 5
    tp = torch_params(kind, D, H)
    params = to_lepton(kind, tp)
    x = RNG.standard_normal((B, T, D))
    lengths = np.array([6, 3, 1, 0])
    want_seq, want_last = ref_run(kind, tp, x, lengths, reverse)
    layer = LAYER[kind](H, return_sequences=True, reverse=reverse)
    np.testing.assert_allclose(np.asarray(layer[1](params, x, lengths=lengths)), want_seq,
                               atol=1e-12)
    mask = np.arange(T)[None, :] < lengths[:, None]
    np.testing.assert_allclose(np.asarray(layer[1](params, x, mask=mask)), want_seq, atol=1e-12)
    last = LAYER[kind](H, reverse=reverse)[1](params, x, lengths=lnp.asarray(lengths))
    np.testing.assert_allclose(np.asarray(last), want_last, atol=1e-12)
    # lengths are traced under jit: same answer
    jitted = lepton.jit(lambda p, v, n: LAYER[kind](H, reverse=reverse)[1](p, v, lengths=n))
    np.testing.assert_allclose(np.asarray(jitted(params, x, lengths)), want_last, atol=1e-10)


def test_initial_state():
    tp = torch_params("lstm", 2, 3)
    x = RNG.standard_normal((2, 4, 2))
    h0, c0 = RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))
    _, want = ref_run("lstm", tp, x, initial=(h0, c0))
    got = stax.LSTM(3)[1](to_lepton("lstm", tp), x, initial_state=(h0, c0))
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-12)
    tp = torch_params("gru", 2, 3)
    _, want = ref_run("gru", tp, x, initial=(h0,))
    got = stax.GRU(3)[1](to_lepton("gru", tp), x, initial_state=h0)
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-12)
    with pytest.raises(ValueError, match=r"initial_state entries must have shape \(2, 3\)"):
        stax.GRU(3)[1](to_lepton("gru", tp), x, initial_state=h0[:1])


@pytest.mark.parametrize("merge", ["concat", "sum", "ave", "mul"])
def test_bidirectional(merge):
    B, T, D, H = 2, 4, 3, 2
    init, apply = stax.Bidirectional(stax.GRU(H, return_sequences=True), merge)
    shape, (pf, pb) = init(KEY, (-1, T, D))
    assert shape == (-1, T, 2 * H if merge == "concat" else H)
    x = RNG.standard_normal((B, T, D))
    pf, pb = tree.map(lambda a: np.asarray(a, np.float64), (pf, pb))
    lengths = np.array([4, 2])
    fw = stax.GRU(H, return_sequences=True)[1](pf, x, lengths=lengths)
    bw = stax.GRU(H, return_sequences=True, reverse=True)[1](pb, x, lengths=lengths)
    fw, bw = np.asarray(fw), np.asarray(bw)
    want = {"concat": np.concatenate([fw, bw], -1), "sum": fw + bw, "ave": (fw + bw) / 2,
            "mul": fw * bw}[merge]
    got = apply((pf, pb), x, lengths=lengths)
    np.testing.assert_allclose(np.asarray(got), want, atol=1e-12)
    # the backward GRU reads each sequence from its last valid step
    tp_b = dict(w_ih=pb[0].T, w_hh=pb[1].T, b_ih=pb[2], b_hh=pb[3])
    np.testing.assert_allclose(bw, ref_run("gru", tp_b, x, lengths, reverse=True)[0],
                               atol=1e-12)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_gradients_float64(kind):
    tp = torch_params(kind, 3, 2)
    params = to_lepton(kind, tp)
    x = RNG.standard_normal((2, 3, 3))
    apply = LAYER[kind](2, return_sequences=True)[1]
    check_grads(lambda p, v: apply(p, v, lengths=np.array([3, 2])), (params, x), order=1)


def test_classifier_under_jit_grad_and_vmap():
    init, apply = stax.serial(stax.LSTM(8), stax.Dense(3), stax.LogSoftmax)
    _, params = init(KEY, (-1, 5, 4))
    x = RNG.standard_normal((6, 5, 4)).astype(np.float32)
    y = RNG.integers(0, 3, 6)

    def loss(p, v, t):
        return -lnp.mean(lnp.take_along_axis(apply(p, v), t[:, None], axis=1))

    np.testing.assert_allclose(np.asarray(lepton.jit(apply)(params, x)),
                               np.asarray(apply(params, x)), rtol=1e-5, atol=1e-6)
    g, gj = lepton.grad(loss)(params, x, y), lepton.jit(lepton.grad(loss))(params, x, y)
    for a, b in zip(tree.leaves(g), tree.leaves(gj)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
    per = lepton.vmap(lambda v: apply(params, v[None])[0])(x)
    np.testing.assert_allclose(np.asarray(per), np.asarray(apply(params, x)), rtol=1e-5,
                               atol=1e-6)


def test_program_size_is_flat_in_sequence_length():
    init, apply = stax.LSTM(4)
    _, params = init(KEY, (-1, 3, 2))
    sizes = []
    for T in (3, 40):
        jaxpr = lepton.make_jaxpr(lepton.grad(lambda p, v: lnp.sum(apply(p, v))))(
            params, np.zeros((2, T, 2), np.float32))
        sizes.append(len(str(jaxpr).splitlines()))
    assert sizes[0] == sizes[1]


def test_recurrent_errors():
    init, apply = stax.GRU(3)
    _, params = init(KEY, (-1, 4, 2))
    x = np.zeros((2, 4, 2), np.float32)
    with pytest.raises(ValueError, match=r"lengths must be an int array of shape \(2,\)"):
        apply(params, x, lengths=np.array([1, 2, 3]))
    with pytest.raises(ValueError, match=r"lengths must be in \[0, 4\]"):
        apply(params, x, lengths=np.array([1, 5]))
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 4\)"):
        apply(params, x, mask=np.ones((4, 2), bool))
    with pytest.raises(TypeError, match="not both"):
        apply(params, x, lengths=np.array([1, 2]), mask=np.ones((2, 4), bool))
    with pytest.raises(TypeError, match="backward_layer"):
        stax.Bidirectional(stax.Dense(3))


def test_text_model_embedding_gru_layernorm_under_jit():
    """Embedding -> GRU -> LayerNorm -> GlobalAvgPool -> Dense: jit equals eager, values
    and gradients, with traced lengths."""
    init, apply = stax.serial(stax.Embedding(20, 6), stax.GRU(4, return_sequences=True),
                              stax.LayerNorm(), stax.GlobalAvgPool, stax.Dense(2))
    shape, params = init(KEY, (-1, 7))
    assert shape == (-1, 2)
    ids = RNG.integers(0, 20, (3, 7)).astype(np.int32)
    lengths = np.array([7, 4, 1], np.int32)

    def loss(p, i, n):
        return lnp.sum(apply(p, i, lengths=n) ** 2)

    (v, g) = lepton.value_and_grad(loss)(params, ids, lengths)
    (vj, gj) = lepton.jit(lepton.value_and_grad(loss))(params, ids, lengths)  # one compile
    np.testing.assert_allclose(float(vj), float(v), rtol=1e-5)
    for a, b in zip(tree.leaves(g), tree.leaves(gj)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-5)
