"""lepton.optimizers against update formulas written independently in NumPy (float64)."""
import math

import numpy as np
import pytest

import lepton
import lepton.numpy as lnp
from lepton import optimizers as opt

STEPS = 5


def _np_rules():
    """name -> (make(lr, **hp) -> lepton optimizer, init(x), step(i, g, state, lr_i) -> state)."""
    def moment(x):
        return np.zeros_like(x)

    def sgd(i, g, s, lr):
        return (s[0] - lr * g,)

    def momentum(i, g, s, lr, mass=0.8):
        x, v = s
        v = mass * v + g
        return x - lr * v, v

    def nesterov(i, g, s, lr, mass=0.8):
        x, v = s
        v = mass * v + g
        return x - lr * (mass * v + g), v

    def adagrad(i, g, s, lr, mom=0.7):
        x, G, m = s
        G = G + g * g
        inv = np.where(G > 0, 1 / np.sqrt(np.where(G > 0, G, 1)), 0)
        m = (1 - mom) * g * inv + mom * m
        return x - lr * m, G, m

    def rmsprop(i, g, s, lr, gamma=0.85, eps=1e-6):
        x, a = s
        a = gamma * a + (1 - gamma) * g * g
        return x - lr * g / np.sqrt(a + eps), a

    def rmsprop_momentum(i, g, s, lr, gamma=0.85, eps=1e-6, mom=0.6):
        x, a, m = s
        a = gamma * a + (1 - gamma) * g * g
        m = mom * m + lr * g / np.sqrt(a + eps)
        return x - m, a, m

    def adam(i, g, s, lr, b1=0.8, b2=0.95, eps=1e-6, wd=0.0):
        x, m, v = s
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        mhat, vhat = m / (1 - b1 ** (i + 1)), v / (1 - b2 ** (i + 1))
        return x - lr * (mhat / (np.sqrt(vhat) + eps) + wd * x), m, v

    def adamw(i, g, s, lr):
        return adam(i, g, s, lr, wd=0.05)

    def adamax(i, g, s, lr, b1=0.8, b2=0.95, eps=1e-6):
        x, m, u = s
        m = b1 * m + (1 - b1) * g
        u = np.maximum(b2 * u, np.abs(g))
        return x - lr / (1 - b1 ** (i + 1)) * m / (u + eps), m, u

    def sm3(i, g, s, lr, mom=0.7):
        x, m, vs = s
        if g.ndim == 0:
            acc = vs[0] + g * g
            vs = [acc]
        else:
            acc = None
            for k, v in enumerate(vs):
                shape = [1] * g.ndim
                shape[k] = g.shape[k]
                b = v.reshape(shape)
                acc = b if acc is None else np.minimum(acc, b)
            acc = acc + g * g
            vs = [acc.max(axis=tuple(j for j in range(g.ndim) if j != k), initial=0) if g.ndim > 1
                  else acc for k in range(g.ndim)]
        inv = np.where(acc > 0, 1 / np.sqrt(np.where(acc > 0, acc, 1)), 0)
        m = (1 - mom) * g * inv + mom * m
        return x - lr * m, m, vs

    def sm3_init(x):
        return (x, moment(x), [np.zeros(n) for n in x.shape] if x.ndim else [np.zeros(())])

    two = lambda x: (x, moment(x))
    three = lambda x: (x, moment(x), moment(x))
    return {
        "sgd": (lambda lr: opt.sgd(lr), lambda x: (x,), sgd),
        "momentum": (lambda lr: opt.momentum(lr, 0.8), two, momentum),
        "nesterov": (lambda lr: opt.nesterov(lr, mass=0.8), two, nesterov),
        "adagrad": (lambda lr: opt.adagrad(lr, momentum=0.7), three, adagrad),
        "rmsprop": (lambda lr: opt.rmsprop(lr, gamma=0.85, eps=1e-6), two, rmsprop),
        "rmsprop_momentum": (lambda lr: opt.rmsprop_momentum(lr, 0.85, 1e-6, 0.6), three, rmsprop_momentum),
        "adam": (lambda lr: opt.adam(lr, b1=0.8, b2=0.95, eps=1e-6), three, adam),
        "adamw": (lambda lr: opt.adamw(lr, 0.8, 0.95, 1e-6, weight_decay=0.05), three, adamw),
        "adamax": (lambda lr: opt.adamax(lr, b1=0.8, b2=0.95, eps=1e-6), three, adamax),
        "sm3": (lambda lr: opt.sm3(lr, momentum=0.7), sm3_init, sm3),
    }


RULES = _np_rules()


def _params(rng):
    return {"w": rng.standard_normal((3, 4)), "b": rng.standard_normal(4),
            "scale": np.float64(1.5), "deep": [rng.standard_normal((2, 2, 3))]}


def _grads(rng, params, step):
    # step 0 leaves one entry at exactly zero: exercises the "never had a gradient" branches
    g = lepton.tree.map(lambda p: rng.standard_normal(np.shape(p)), params)
    if step == 0:
        g["b"][0] = 0.0
    return g


def _schedules():
    return {"float": 0.05, "schedule": opt.exponential_decay(0.05, 2, 0.5)}


def _run(name, step_size, jit, rng_seed=0):
    make, np_init, np_step = RULES[name]
    rng = np.random.default_rng(rng_seed)
    params = _params(rng)
    init, update, get_params = make(step_size)
    lr = opt.make_schedule(step_size)
    state = init(lepton.tree.map(lnp.asarray, params))
    ref = {k: lepton.tree.map(np_init, v) if k != "deep" else [np_init(v[0])] for k, v in params.items()}
    upd = lepton.jit(update) if jit else update
    for i in range(STEPS):
        g = _grads(rng, params, i)
        state = upd(i, lepton.tree.map(lnp.asarray, g), state)
        lr_i = float(lr(i))
        ref = {k: np_step(i, g[k], ref[k], lr_i) if k != "deep" else [np_step(i, g[k][0], ref[k][0], lr_i)]
               for k in ref}
    got = get_params(state)
    for k in params:
        want = ref[k][0][0] if k == "deep" else ref[k][0]
        have = got[k][0] if k == "deep" else got[k]
        np.testing.assert_allclose(np.asarray(have), want, rtol=1e-10, atol=1e-12, err_msg=f"{name} {k}")
        assert np.asarray(have).dtype == np.float64
    return state


@pytest.mark.parametrize("sched", ["float", "schedule"])
@pytest.mark.parametrize("name", sorted(RULES))
def test_matches_numpy_reference(name, sched):
    _run(name, _schedules()[sched], jit=False)


@pytest.mark.parametrize("name", sorted(RULES))
def test_jitted_update_with_traced_step(name):
    # the whole opt_update under jit, the step index traced: one trace serves every step
    _run(name, opt.warmup(opt.cosine_decay(0.05, 4), 2, init_value=0.01), jit=True)


def test_jit_traces_once_for_all_steps():
    init, update, get_params = opt.adam(opt.piecewise_constant([1, 3], [0.1, 0.05, 0.01]))
    traces = []

    def step(i, g, s):
        traces.append(1)
        return update(i, g, s)

    jstep = lepton.jit(step)
    s = init({"w": lnp.ones(3)})
    for i in range(4):
        s = jstep(i, {"w": lnp.ones(3)}, s)
    assert len(traces) == 1


def test_state_is_a_pytree_through_vmap():
    # a batch of 3 independent models, vmapped init and update, equals a Python loop
    rng = np.random.default_rng(1)
    batch = {"w": rng.standard_normal((3, 2, 4)), "b": rng.standard_normal((3, 4))}
    grads = [{"w": rng.standard_normal((3, 2, 4)), "b": rng.standard_normal((3, 4))} for _ in range(3)]
    init, update, get_params = opt.adam(0.1)
    state = lepton.vmap(init)(batch)
    vupdate = lepton.vmap(update, in_axes=(None, 0, 0))
    for i, g in enumerate(grads):
        state = vupdate(i, g, state)
    got = lepton.vmap(get_params)(state)
    for b in range(3):
        s = init({k: v[b] for k, v in batch.items()})
        for i, g in enumerate(grads):
            s = update(i, {k: v[b] for k, v in g.items()}, s)
        for k in batch:
            np.testing.assert_allclose(np.asarray(got[k][b]), np.asarray(get_params(s)[k]), rtol=1e-12)


def test_vmap_of_jitted_update():
    init, update, get_params = opt.sm3(0.1)
    batch = {"w": np.ones((2, 3, 4))}
    state = lepton.vmap(init)(batch)
    state = lepton.jit(lepton.vmap(update, in_axes=(None, 0, 0)))(0, {"w": np.full((2, 3, 4), 2.0)}, state)
    single = update(0, {"w": np.full((3, 4), 2.0)}, init({"w": np.ones((3, 4))}))
    np.testing.assert_allclose(np.asarray(get_params(state)["w"][1]), np.asarray(get_params(single)["w"]))


def test_state_flattens_to_its_arrays():
    init, update, get_params = opt.adam(0.1)
    state = init({"a": lnp.zeros((2,)), "b": (lnp.ones(3),)})
    leaves, treedef = lepton.tree.flatten(state)
    assert len(leaves) == 6 and all(isinstance(x, lepton.Array) for x in leaves)
    again = lepton.tree.unflatten(treedef, leaves)
    assert isinstance(again, opt.OptimizerState) and again.tree_def == state.tree_def


def test_keeps_param_dtypes():
    # float16/float32 params under a float32 (strong) schedule keep their dtypes, in every state leaf
    init, update, get_params = opt.adam(opt.exponential_decay(0.1, 2, 0.5))
    params = {"h": lnp.ones(3, dtype=np.float16), "f": lnp.ones(2, dtype=np.float32)}
    s = lepton.jit(update)(0, lepton.tree.map(lnp.ones_like, params), init(params))
    s = update(1, lepton.tree.map(lnp.ones_like, params), s)
    dts = {k: v.dtype for k, v in get_params(s).items()}
    assert dts == {"h": np.float16, "f": np.float32}
    assert {x.dtype for x in lepton.tree.leaves(s)} == {np.dtype(np.float16), np.dtype(np.float32)}


def test_integer_params_promote_as_in_jax():
    init, update, get_params = opt.sgd(0.25)
    s = update(0, {"n": lnp.asarray([1.0, 2.0])}, init({"n": lnp.asarray([4, 4], dtype=np.int32)}))
    got = get_params(s)["n"]
    assert got.dtype == np.float32
    np.testing.assert_array_equal(np.asarray(got), [3.75, 3.5])


def test_sm3_zero_d_and_empty_params():
    init, update, get_params = opt.sm3(0.5, momentum=0.0)
    p = {"s": lnp.asarray(1.0), "e": lnp.zeros((0, 3))}
    s = init(p)
    for i in range(3):
        s = update(i, {"s": lnp.asarray(2.0), "e": lnp.zeros((0, 3))}, s)
    # one 0-d accumulator: 4, 8, 12 -> steps 0.5 * 2/sqrt(acc)
    want = 1.0 - sum(0.5 * 2 / math.sqrt(4 * k) for k in (1, 2, 3))
    np.testing.assert_allclose(float(get_params(s)["s"]), want, rtol=1e-6)
    assert get_params(s)["e"].shape == (0, 3)


def test_adamw_decay_is_decoupled():
    # zero gradients: adam leaves params alone, adamw shrinks them by lr * wd per step
    init, update, get_params = opt.adamw(0.1, weight_decay=0.5)
    s = init(lnp.asarray([2.0, -4.0], dtype=np.float64))
    for i in range(3):
        s = update(i, lnp.zeros(2, dtype=np.float64), s)
    np.testing.assert_allclose(np.asarray(get_params(s)), np.array([2.0, -4.0]) * 0.95 ** 3)


@pytest.mark.parametrize("jit", [False, True])
def test_schedules_match_formulas(jit):
    scheds = {
        "constant": (opt.constant(0.3), lambda i: 0.3),
        "exponential": (opt.exponential_decay(0.3, 4, 0.5), lambda i: 0.3 * 0.5 ** (i / 4)),
        "inverse_time": (opt.inverse_time_decay(0.3, 2, 0.5), lambda i: 0.3 / (1 + 0.5 * i / 2)),
        "inverse_stair": (opt.inverse_time_decay(0.3, 2, 0.5, staircase=True),
                          lambda i: 0.3 / (1 + 0.5 * (i // 2))),
        "polynomial": (opt.polynomial_decay(0.3, 5, 0.01, power=2.0),
                       lambda i: (1 - min(i, 5) / 5) ** 2 * 0.29 + 0.01),
        "piecewise": (opt.piecewise_constant([2, 5], [1.0, 0.5, 0.1]),
                      lambda i: 1.0 if i <= 2 else 0.5 if i <= 5 else 0.1),
        "cosine": (opt.cosine_decay(0.3, 6, alpha=0.1),
                   lambda i: 0.3 * (0.9 * 0.5 * (1 + math.cos(math.pi * min(i, 6) / 6)) + 0.1)),
        "warmup_const": (opt.warmup(0.3, 4), lambda i: 0.3 * i / 4 if i < 4 else 0.3),
        "warmup_cosine": (opt.linear_warmup(opt.cosine_decay(0.3, 6), 3, init_value=0.03),
                          lambda i: 0.03 + 0.27 * i / 3 if i < 3
                          else 0.3 * 0.5 * (1 + math.cos(math.pi * min(i - 3, 6) / 6))),
    }
    for name, (sched, ref) in scheds.items():
        f = lepton.jit(sched) if jit else sched
        for i in range(12):
            np.testing.assert_allclose(float(f(i)), ref(i), rtol=2e-6, atol=1e-7, err_msg=f"{name} at {i}")


def test_schedule_argument_errors():
    with pytest.raises(ValueError, match="one shorter"):
        opt.piecewise_constant([1, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="sorted"):
        opt.piecewise_constant([3, 1], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="decay_steps must be > 0"):
        opt.cosine_decay(0.1, 0)
    with pytest.raises(ValueError, match="warmup_steps"):
        opt.warmup(0.1, -1)
    with pytest.raises(TypeError, match="step_size must be a scalar or a callable"):
        opt.adam([0.1, 0.2])
    assert opt.warmup(0.1, 0)(0) == 0.1


def test_l2_norm_and_clipping():
    rng = np.random.default_rng(2)
    tree = {"a": rng.standard_normal((3, 2)), "b": [rng.standard_normal(5), np.float64(-2.0)]}
    norm = math.sqrt(sum(float(np.sum(np.square(x))) for x in lepton.tree.leaves(tree)))
    np.testing.assert_allclose(float(opt.l2_norm(tree)), norm)
    clipped = opt.clip_grads(tree, norm / 2)
    np.testing.assert_allclose(float(opt.l2_norm(clipped)), norm / 2)
    for c, x in zip(lepton.tree.leaves(clipped), lepton.tree.leaves(tree)):
        np.testing.assert_allclose(np.asarray(c), np.asarray(x) / 2)
    same = opt.clip_by_global_norm(tree, norm * 2)
    for c, x in zip(lepton.tree.leaves(same), lepton.tree.leaves(tree)):
        np.testing.assert_array_equal(np.asarray(c), np.asarray(x))
    zero = opt.clip_grads({"z": np.zeros(3)}, 1.0)  # norm 0: no 0/0
    np.testing.assert_array_equal(np.asarray(zero["z"]), 0)
    assert float(opt.l2_norm({})) == 0.0
    jclip = lepton.jit(opt.clip_by_global_norm)(tree, np.float64(norm / 4))
    np.testing.assert_allclose(float(opt.l2_norm(jclip)), norm / 4, rtol=1e-12)


def test_pack_unpack_round_trip():
    init, update, get_params = opt.momentum(0.1, 0.9)
    state = update(0, {"a": lnp.ones(2), "b": (lnp.ones(()),)}, init({"a": lnp.zeros(2), "b": (lnp.zeros(()),)}))
    marked = opt.unpack_optimizer_state(state)
    assert isinstance(marked["a"], opt.JoinPoint) and len(marked["a"].subtree) == 2
    packed = opt.pack_optimizer_state(marked)
    assert packed.tree_def == state.tree_def and packed.subtree_defs == state.subtree_defs
    for x, y in zip(lepton.tree.leaves(packed), lepton.tree.leaves(state)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    with pytest.raises(TypeError, match="JoinPoint"):
        opt.pack_optimizer_state({"a": 1.0})


def test_mismatched_grads_and_state_errors():
    init, update, get_params = opt.sgd(0.1)
    state = init({"a": lnp.zeros(2)})
    with pytest.raises(TypeError, match="does not match the parameter tree"):
        update(0, {"b": lnp.zeros(2)}, state)
    with pytest.raises(TypeError, match=r"opt_update\(step, grads, opt_state\)"):
        update(0, state, {"a": lnp.zeros(2)})


def test_custom_optimizer_via_decorator():
    @opt.optimizer
    def signsgd(step_size):
        def init(x):
            return x

        def update(i, g, x):
            return x - step_size * lnp.sign(g)

        return init, update, lambda x: x

    init, update, get_params = signsgd(0.5)
    s = update(0, {"w": lnp.asarray([-3.0, 0.0, 2.0])}, init({"w": lnp.zeros(3)}))
    np.testing.assert_array_equal(np.asarray(get_params(s)["w"]), [0.5, 0.0, -0.5])


def test_training_loop_reduces_loss():
    # least squares with jit(value_and_grad) + adam, as users write it
    rng = np.random.default_rng(3)
    X = rng.standard_normal((32, 3)).astype(np.float32)
    y = X @ np.array([1.0, -2.0, 0.5], np.float32)
    init, update, get_params = opt.adam(0.1)

    def loss(p):
        return lnp.mean((lnp.asarray(X) @ p["w"] - y) ** 2)

    @lepton.jit
    def step(i, s):
        value, g = lepton.value_and_grad(loss)(get_params(s))
        return value, update(i, g, s)

    s = init({"w": lnp.zeros(3)})
    first = None
    for i in range(100):
        value, s = step(i, s)
        first = float(value) if first is None else first
    assert float(value) < 1e-3 * first


def test_hyperparameter_sweep_under_vmap_and_grad_through_updates():
    # the step size itself may be traced: vmap over learning rates, grad through two adam steps
    from lepton.test_util import check_grads

    def train(lr, p0):
        init, update, get_params = opt.adam(lr)
        s = init({"w": p0})
        s = update(0, {"w": p0 * p0}, s)
        s = update(1, {"w": lnp.sin(p0)}, s)
        return get_params(s)["w"]

    p0 = np.array([0.3, -1.2, 2.0])
    swept = lepton.vmap(train, in_axes=(0, None))(np.array([0.1, 0.2]), p0)
    for k, lr in enumerate([0.1, 0.2]):
        np.testing.assert_allclose(np.asarray(swept[k]), np.asarray(train(lr, p0)), rtol=1e-12)
    check_grads(lambda p: train(0.1, p), (p0,), order=2)
    check_grads(lambda lr: train(lr, p0), (np.float64(0.1),), order=1)
