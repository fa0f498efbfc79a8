"""Issue #11: a stax recurrent layer costs what the same cell written by hand with
lepton.numpy and one ``lax.scan`` costs.  Pinned structurally (not by timing): the jaxpr of
a training gradient has the same loops, each loop body has no more products and no more
equations than the hand-written one's, and outside the loops no more passes over the
``(time, batch, gates * units)`` projection (a bias added to the whole projected sequence
before the loop was one extra pass, ~2% of an LSTM step at T=28, and at long sequences a
kernel big enough to go parallel)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import lax, nn, random, stax
from lepton.control_flow import hoist

T, B, D, H = 7, 5, 3, 4
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
LAYER = {"lstm": stax.LSTM, "gru": stax.GRU, "rnn": stax.SimpleRNN}


def hand_final_h(kind, params, x):
    """The cell written by hand (PyTorch's equations, lepton's param layout): time-major,
    one scan, the input product inside the step as a user writes it."""
    W, U, b = params[:3]
    xs = lnp.swapaxes(x, 0, 1)

    def lstm(carry, xt):
        h, c = carry
        z = xt @ W + h @ U + b
        i, f, g, o = (z[:, k * H:(k + 1) * H] for k in range(4))
        c = nn.sigmoid(f) * c + nn.sigmoid(i) * lnp.tanh(g)
        return (nn.sigmoid(o) * lnp.tanh(c), c), None

    def gru(carry, xt):
        (h,) = carry
        zx, zh = xt @ W + b, h @ U + params[3]
        r = nn.sigmoid(zx[:, :H] + zh[:, :H])
        z = nn.sigmoid(zx[:, H:2 * H] + zh[:, H:2 * H])
        n = lnp.tanh(zx[:, 2 * H:] + r * zh[:, 2 * H:])
        return ((1 - z) * n + z * h,), None

    def rnn(carry, xt):
        (h,) = carry
        return (lnp.tanh(xt @ W + h @ U + b),), None

    h0 = lnp.zeros((B, H), x.dtype)
    cell, state = {"lstm": (lstm, (h0, h0)), "gru": (gru, (h0,)), "rnn": (rnn, (h0,))}[kind]
    final, _ = lax.scan(cell, state, xs)
    return final[0]


def fingerprint(jaxpr, big):
    """(outside: eqns producing a value of >= ``big`` elements, excluding loops;
    [(products, eqns) of each loop body, in order])."""
    outside, loops = 0, []
    for e in jaxpr.eqns:
        if e.prim.name == "scan":
            body = getattr(e.params["jaxpr"], "jaxpr", e.params["jaxpr"])
            loops.append((sum(q.prim.name == "dot_general" for q in body.eqns),
                          len(body.eqns)))
        elif any(math.prod(v.aval.shape) >= big for v in e.outvars):
            outside += 1
    return outside, loops


@pytest.mark.parametrize("hoisted", [True, False])
@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_stax_recurrent_step_costs_no_more_than_the_hand_written_cell(kind, hoisted,
                                                                     monkeypatch):
    """``hoisted=False``: a sequence whose stacked input projection is over scan's hoisting
    limit keeps ``x_t W`` in the loop, for the layer as for the hand-written cell."""
    if not hoisted:
        monkeypatch.setattr(hoist, "MAX_STACKED_BYTES", 0)
    init, apply = LAYER[kind](H)
    _, params = init(random.PRNGKey(0), (-1, T, D))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((B, T, D)).astype(np.float32)
    # the same math: equal outputs
    np.testing.assert_allclose(np.asarray(apply(params, x)),
                               np.asarray(hand_final_h(kind, params, x)), rtol=1e-5,
                               atol=1e-6)

    def step(f):
        return lepton.make_jaxpr(lepton.grad(lambda p, v: lnp.sum(f(p, v) ** 2)))(
            params, x).jaxpr

    big = T * B * GATES[kind] * H
    s_out, s_loops = fingerprint(step(apply), big)
    h_out, h_loops = fingerprint(step(lambda p, v: hand_final_h(kind, p, v)), big)
    assert len(s_loops) == len(h_loops) == 2, (s_loops, h_loops)  # forward, backward
    assert h_loops[0][0] == (1 if hoisted else 2), h_loops  # the limit did what it should
    for (sp, se), (hp, he) in zip(s_loops, h_loops):
        assert sp <= hp and se <= he, (kind, s_loops, h_loops)
    assert s_out <= h_out, (kind, s_out, h_out)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_masked_reversed_sequences_keep_one_product_per_step(kind):
    """lengths= and reverse=True change what the loop selects, not its products: the input
    projection still leaves the loop as one product, the bias still fuses into it."""
    init, apply = LAYER[kind](H, reverse=True, return_sequences=True)
    _, params = init(random.PRNGKey(0), (-1, T, D))
    x = np.zeros((B, T, D), np.float32)
    lengths = np.array([T, 3, 1, 0, 5], np.int32)
    jaxpr = lepton.make_jaxpr(lepton.grad(
        lambda p, v: lnp.sum(apply(p, v, lengths=lengths) ** 2)))(params, x).jaxpr
    outside, loops = fingerprint(jaxpr, T * B * GATES[kind] * H)
    assert [p for p, _ in loops] == [1, 1] and outside == 1, (outside, loops)
