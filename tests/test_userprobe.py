"""Programs a Keras / jax.example_libraries user writes, checked against what those libraries
do (issue #11, #12).  Each test pins a discrepancy found by running the same program in both;
the Keras/JAX comparisons skip cleanly when those are not installed."""
from __future__ import annotations

import contextlib
import itertools
import math
import warnings

import numpy as np
import pytest

import lepton
import lepton.keras as lk
from tests.peers import keras3


@contextlib.contextmanager
def _keras_quiet():
    """Keras 3 itself warns under NumPy 2 (DeprecationWarning on __array__)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _act(name, x):
    layer = lk.layers.activation_layer(name, "test")
    return np.asarray(layer[1]((), lepton.numpy.asarray(x)))


X = np.linspace(-4, 4, 33).astype(np.float32)
_erf = np.vectorize(math.erf)

# Keras's definitions (keras/src/activations/activations.py), written out in NumPy
KERAS_ACTIVATIONS = {
    "gelu": lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))),          # exact, not tanh
    "leaky_relu": lambda x: np.where(x >= 0, x, 0.2 * x),            # slope 0.2, not 0.01
    "hard_sigmoid": lambda x: np.clip(x + 3, 0, 6) / 6,
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_swish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "celu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
}


@pytest.mark.parametrize("name", sorted(KERAS_ACTIVATIONS))
def test_activation_strings_follow_keras_definitions(name):
    np.testing.assert_allclose(_act(name, X), KERAS_ACTIVATIONS[name](X.astype(np.float64)),
                               rtol=1e-5, atol=1e-6)


def test_activation_strings_matchkeras3():
    k3 = keras3()
    for name in sorted(lk.layers.ACTIVATIONS):
        if name == "linear":
            continue
        want = np.asarray(k3.activations.get(name)(X))
        np.testing.assert_allclose(_act(name, X), want, rtol=2e-5, atol=2e-6, err_msg=name)


def test_unknown_activation_lists_the_new_names():
    with pytest.raises(ValueError, match="unknown activation 'swishy'.*hard_sigmoid.*mish"):
        lk.layers.Dense(3, activation="swishy").to_stax()


# ----------------------------------------------------------------------------- layers
def _model(layers, shape):
    return lk.Sequential([lk.Input(shape=shape)] + layers)


@pytest.mark.parametrize("cls, shape, want", [
    (lk.layers.GlobalAveragePooling2D, (5, 4, 3), (None, 1, 1, 3)),
    (lk.layers.GlobalMaxPooling2D, (5, 4, 3), (None, 1, 1, 3)),
    (lk.layers.GlobalAveragePooling1D, (5, 3), (None, 1, 3)),
    (lk.layers.GlobalMaxPooling1D, (5, 3), (None, 1, 3)),
])
def test_global_pooling_keepdims(cls, shape, want):
    m = _model([cls(keepdims=True)], shape)
    assert m.output_shape == want
    x = np.random.RandomState(0).randn(2, *shape).astype(np.float32)
    y = m.predict(x, verbose=0)
    axes = tuple(range(1, len(shape)))
    ref = x.mean(axes, keepdims=True) if "Average" in cls.__name__ else x.max(axes,
                                                                              keepdims=True)
    np.testing.assert_allclose(y, ref, rtol=1e-6)
    assert _model([cls()], shape).output_shape == (None, shape[-1])


@pytest.mark.parametrize("strides, dilation", [(1, 1), (1, 2), (2, 1)])
def test_conv1d_causal_padding(strides, dilation):
    rs = np.random.RandomState(1)
    m = _model([lk.layers.Conv1D(2, 3, strides=strides, dilation_rate=dilation,
                                 padding="causal")], (9, 2))
    x = rs.randn(2, 9, 2).astype(np.float32)
    W, b = m.get_weights()
    pad = 2 * dilation
    xp = np.concatenate([np.zeros((2, pad, 2), np.float32), x], axis=1)
    ref = np.stack([sum(xp[:, t + k * dilation] @ W[k] for k in range(3)) + b
                    for t in range(0, 9, strides)], axis=1)
    y = m.predict(x, verbose=0)
    assert m.output_shape == (None, ref.shape[1], 2)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
    # causal: the output at t does not see inputs after t
    x2 = x.copy()
    x2[:, 5:] += 1.0
    y2 = m.predict(x2, verbose=0)
    keep = [i for i, t in enumerate(range(0, 9, strides)) if t < 5]
    np.testing.assert_allclose(y2[:, keep], y[:, keep], rtol=1e-6)
    with pytest.raises(ValueError, match="padding must be 'valid', 'same', got 'causal'"):
        lk.layers.Conv2D(2, 3, padding="causal")


@pytest.mark.parametrize("cls", [lk.layers.MaxPooling2D, lk.layers.AveragePooling2D,
                                 lk.layers.GlobalAveragePooling2D])
def test_pooling_refuses_channels_first(cls):
    with pytest.raises(ValueError, match="only data_format='channels_last'"):
        cls(data_format="channels_first")


# ----------------------------------------------------------------------------- losses, metrics
def _probs(rs, n, k):
    z = rs.randn(n, k)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    return p.astype(np.float32)


def test_loss_functions_are_per_example_and_match_the_classes():
    rs = np.random.RandomState(0)
    p = _probs(rs, 6, 4)
    labels = rs.randint(0, 4, 6)
    onehot = np.eye(4, dtype=np.float32)[labels]
    L = lk.losses
    cce = np.asarray(L.categorical_crossentropy(onehot, p))
    np.testing.assert_allclose(cce, -np.log(p[np.arange(6), labels]), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(L.sparse_categorical_crossentropy(labels, p)), cce,
                               rtol=1e-5)
    b = (rs.rand(6, 3) > 0.5).astype(np.float32)
    q = rs.uniform(0.05, 0.95, (6, 3)).astype(np.float32)
    bce = -(b * np.log(q) + (1 - b) * np.log(1 - q)).mean(-1)
    np.testing.assert_allclose(np.asarray(L.binary_crossentropy(b, q)), bce, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(L.mean_squared_error(b, q)), ((b - q) ** 2).mean(-1),
                               rtol=1e-5)
    np.testing.assert_allclose(np.asarray(L.mean_absolute_error(b, q)),
                               np.abs(b - q).mean(-1), rtol=1e-5)
    # compile maps a function to its class: the label check still applies
    m = _model([lk.layers.Dense(4, activation="softmax")], (3,))
    m.compile("sgd", loss=L.categorical_crossentropy)
    assert isinstance(m.loss, L.CategoricalCrossentropy)
    with pytest.raises(ValueError, match="to_categorical"):
        m.fit(rs.randn(6, 3).astype(np.float32), labels, verbose=0)


def test_loss_functions_matchkeras3():
    k3 = keras3()
    rs = np.random.RandomState(1)
    p = _probs(rs, 5, 3)
    labels = rs.randint(0, 3, 5)
    onehot = np.eye(3, dtype=np.float32)[labels]
    for name, args in [("categorical_crossentropy", (onehot, p)),
                       ("sparse_categorical_crossentropy", (labels, p)),
                       ("binary_crossentropy", (onehot, p)),
                       ("mean_squared_error", (onehot, p)),
                       ("mean_absolute_error", (onehot, p))]:
        want = np.asarray(getattr(k3.losses, name)(*args))
        np.testing.assert_allclose(np.asarray(getattr(lk.losses, name)(*args)), want,
                                   rtol=1e-5, atol=1e-6, err_msg=name)


def _fit_history(metrics, loss="sparse_categorical_crossentropy"):
    rs = np.random.RandomState(0)
    x = rs.randn(40, 3).astype(np.float32)
    y = rs.randint(0, 4, 40)
    m = _model([lk.layers.Dense(4, activation="softmax")], (3,))
    m.compile("adam", loss, metrics=metrics)
    return m, x, y, m.fit(x, y, batch_size=40, epochs=1, verbose=0, shuffle=False)


def test_metric_objects_and_names_keep_keras_history_keys():
    M = lk.metrics
    m, x, y, h = _fit_history([M.SparseCategoricalAccuracy(),
                               M.SparseTopKCategoricalAccuracy(k=2, name="top2"),
                               "sparse_categorical_crossentropy"])
    assert sorted(h.history) == ["loss", "sparse_categorical_accuracy",
                                 "sparse_categorical_crossentropy", "top2"]
    # the values, from the model's own predictions before the step
    m0 = _model([lk.layers.Dense(4, activation="softmax")], (3,))
    m0.compile("adam", "sparse_categorical_crossentropy",
               metrics=[M.SparseCategoricalAccuracy(), M.SparseTopKCategoricalAccuracy(k=2),
                        "sparse_categorical_crossentropy"])
    p = m0.predict(x, verbose=0)
    loss, acc, top2, xent = m0.evaluate(x, y, verbose=0)
    rank = (p > p[np.arange(40), y][:, None]).sum(-1)
    assert acc == pytest.approx(np.mean(p.argmax(-1) == y))
    assert top2 == pytest.approx(np.mean(rank < 2))
    assert xent == pytest.approx(loss, rel=1e-5)
    assert m0.metrics_names == ["loss", "sparse_categorical_accuracy",
                                "sparse_top_k_categorical_accuracy",
                                "sparse_categorical_crossentropy"]
    with pytest.raises(TypeError, match="unexpected keyword arguments"):
        M.CategoricalAccuracy(k=3)


def test_accuracy_class_is_exact_match_and_binary_threshold():
    M = lk.metrics
    t = lepton.numpy.asarray(np.array([[1.0], [2.0], [3.0]], np.float32))
    p = lepton.numpy.asarray(np.array([[1.0], [2.5], [3.0]], np.float32))
    np.testing.assert_allclose(np.asarray(M.Accuracy().per_example(t, p)), [1, 0, 1])
    b = M.BinaryAccuracy(threshold=0.7)
    yt = lepton.numpy.asarray(np.array([[1.0], [1.0], [0.0]], np.float32))
    yp = lepton.numpy.asarray(np.array([[0.8], [0.6], [0.65]], np.float32))
    np.testing.assert_allclose(np.asarray(b.per_example(yt, yp)), [1, 0, 1])


# ----------------------------------------------------------------------------- schedules
SCHEDULES = [
    ("ExponentialDecay", (0.1, 3, 0.5), {}),
    ("ExponentialDecay", (0.1, 3, 0.5), {"staircase": True}),
    ("InverseTimeDecay", (0.1, 3, 0.5), {}),
    ("InverseTimeDecay", (0.1, 3, 0.5), {"staircase": True}),
    ("PiecewiseConstantDecay", ([2, 5], [0.1, 0.05, 0.01]), {}),
    ("PolynomialDecay", (0.1, 4), {}),
    ("PolynomialDecay", (0.1, 4, 0.01, 2.0), {}),
    ("PolynomialDecay", (0.1, 4, 0.01, 1.0, True), {}),
    ("CosineDecay", (0.1, 6, 0.1), {}),
    ("CosineDecay", (0.01, 6, 0.2), {"warmup_target": 0.1, "warmup_steps": 3}),
]


def _schedule_reference(name, args, kw, t):
    """Keras 3's formulas (keras/src/optimizers/schedules/learning_rate_schedule.py)."""
    if name == "ExponentialDecay":
        lr, steps, rate = args
        p = t / steps
        return lr * rate ** (math.floor(p) if kw.get("staircase") else p)
    if name == "InverseTimeDecay":
        lr, steps, rate = args
        p = t / steps
        return lr / (1 + rate * (math.floor(p) if kw.get("staircase") else p))
    if name == "PiecewiseConstantDecay":
        bounds, values = args
        return values[sum(t > b for b in bounds)]
    if name == "PolynomialDecay":
        lr, steps, end, power, cycle = (list(args) + [0.0001, 1.0, False][len(args) - 2:])[:5]
        if cycle:
            steps = steps * (1 if t == 0 else math.ceil(t / steps))
        else:
            t = min(t, steps)
        return (lr - end) * (1 - t / steps) ** power + end
    lr, steps, alpha = args
    target, warm = kw.get("warmup_target"), kw.get("warmup_steps", 0)
    if target is None:
        target = lr
    t = min(t, steps + warm)
    if t < warm:
        return (target - lr) * t / warm + lr
    return target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * (t - warm) / steps)) + alpha)


@pytest.mark.parametrize("name, args, kw", SCHEDULES)
def test_keras_schedules_follow_keras_formulas(name, args, kw):
    sched = getattr(lk.optimizers.schedules, name)(*args, **kw)
    got = [float(sched(t)) for t in range(12)]
    want = [_schedule_reference(name, args, kw, t) for t in range(12)]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    jitted = lepton.jit(sched)
    np.testing.assert_allclose([float(jitted(t)) for t in (0, 4, 11)],
                               [want[0], want[4], want[11]], rtol=1e-5)


def test_keras_schedules_matchkeras3():
    k3 = keras3()
    for name, args, kw in SCHEDULES:
        ks = getattr(k3.optimizers.schedules, name)(*args, **kw)
        ls = getattr(lk.optimizers.schedules, name)(*args, **kw)
        np.testing.assert_allclose([float(ls(t)) for t in range(12)],
                                   [float(ks(t)) for t in range(12)], rtol=1e-6, err_msg=name)


def test_fit_with_a_keras_schedule_uses_it_per_step():
    sched = lk.optimizers.schedules.PiecewiseConstantDecay([0], [1.0, 0.0])
    rs = np.random.RandomState(0)
    x, y = rs.randn(8, 3).astype(np.float32), rs.randn(8, 2).astype(np.float32)
    m = _model([lk.layers.Dense(2)], (3,))
    m.compile(lk.optimizers.SGD(learning_rate=sched), "mse")
    w0 = m.get_weights()
    m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)   # lr 1.0, then 0.0
    w1 = m.get_weights()
    m.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)   # lr 0.0 throughout
    assert not np.allclose(w0[0], w1[0])
    np.testing.assert_array_equal(w1[0], m.get_weights()[0])


# ----------------------------------------------------------------------------- model API
def test_train_test_predict_on_batch():
    rs = np.random.RandomState(0)
    x = rs.randn(16, 3).astype(np.float32)
    y = rs.randint(0, 3, 16)
    m = _model([lk.layers.Dense(3, activation="softmax")], (3,))
    m.compile(lk.optimizers.SGD(0.5), "sparse_categorical_crossentropy", metrics=["accuracy"])
    before = m.test_on_batch(x, y)
    p = m.predict_on_batch(x)
    assert p.shape == (16, 3)
    assert before[0] == pytest.approx(float(np.mean(-np.log(p[np.arange(16), y]))), rel=1e-5)
    assert before[1] == pytest.approx(float(np.mean(p.argmax(-1) == y)))
    loss, acc = m.train_on_batch(x, y)
    assert loss == pytest.approx(before[0], rel=1e-5)  # the loss before the step
    for _ in range(20):
        d = m.train_on_batch(x, y, return_dict=True)
    assert sorted(d) == ["accuracy", "loss"] and d["loss"] < loss
    assert m.test_on_batch(x, y, return_dict=True)["loss"] < loss
    m.compile("sgd", "sparse_categorical_crossentropy")
    assert isinstance(m.train_on_batch(x, y), float)
    with pytest.raises(Exception, match="train_on_batch needs targets"):
        m.train_on_batch(x)


def test_count_params_counts_moving_statistics_as_keras():
    m = _model([lk.layers.Dense(4), lk.layers.BatchNormalization(center=False)], (3,))
    # Dense 3*4+4, gamma 4, moving mean 4, moving variance 4 (Keras: 28 total, 20 trainable)
    assert m.count_params() == 28
    lines = []
    m.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 28" in text and "Trainable params: 20" in text and \
        "Non-trainable params: 8" in text


# ----------------------------------------------------------------------------- callbacks
class _FakeModel:
    """What EarlyStopping touches: weights (the epoch number) and stop_training."""

    def __init__(self):
        self.epoch, self.stop_training = -1, False

    def get_weights(self):
        return [np.array(self.epoch)]

    def set_weights(self, w):
        self.epoch = int(w[0])


def _drive_early_stopping(cls, values, **kwargs):
    es = cls(monitor="val_loss", **kwargs)
    model = _FakeModel()
    es.set_model(model)
    es.on_train_begin()
    ran = 0
    for epoch, v in enumerate(values):
        model.epoch = epoch
        es.on_epoch_end(epoch, {"val_loss": v})
        ran += 1
        if model.stop_training:
            break
    es.on_train_end()
    return ran, es.stopped_epoch, model.epoch


EARLY_STOPPING_CASES = [
    ([5, 4, 3, 2, 1, 1, 1, 1, 1, 1], dict(patience=1, baseline=2.0), (6, 5, 5)),
    ([5, 6, 7, 8, 9], dict(patience=2, baseline=1.0, restore_best_weights=True), (2, 1, 0)),
    ([5, 4, 3, 3.5, 3.2, 3.1, 1], dict(patience=2, restore_best_weights=True), (5, 4, 2)),
    ([5, 4, 3.7, 3.6, 3.55, 3.1, 1], dict(patience=2, min_delta=0.5), (4, 3, 3)),
    ([5, 6, 7, 8, 9, 10], dict(patience=1, start_from_epoch=3), (5, 4, 4)),
    ([3, 3, 3], dict(patience=5, restore_best_weights=True), (3, 0, 0)),
]


@pytest.mark.parametrize("values, kwargs, want", EARLY_STOPPING_CASES)
def test_early_stopping_follows_keras3(values, kwargs, want):
    assert _drive_early_stopping(lk.callbacks.EarlyStopping, values, **kwargs) == want


def test_early_stopping_cases_matchkeras3():
    k3 = keras3()
    for values, kwargs, want in EARLY_STOPPING_CASES:
        assert _drive_early_stopping(k3.callbacks.EarlyStopping, values, **kwargs) == want, \
            (values, kwargs)


def test_get_layer_by_name_and_index():
    m = _model([lk.layers.Dense(2, name="first"), lk.layers.Dense(1, name="last")], (3,))
    assert m.get_layer("last") is m.layers[1]
    assert m.get_layer(index=0).name == "first" and m.get_layer(index=-1).name == "last"
    with pytest.raises(ValueError, match=r"no layer named 'nope'; the layers are \['first', "
                                         r"'last'\]"):
        m.get_layer("nope")
    with pytest.raises(ValueError, match="exactly one of name= or index="):
        m.get_layer()
    with pytest.raises(ValueError, match="index 2 is out of range"):
        m.get_layer(index=2)


def test_normalization_invert_undoes_adapted_statistics(tmp_path):
    rs = np.random.RandomState(0)
    d = (rs.randn(50, 3) * [1, 2, 3] + [1, 2, 3]).astype(np.float32)
    norm = lk.layers.Normalization()
    norm.adapt(d)
    inv = lk.layers.Normalization(mean=norm.mean, variance=norm.variance, invert=True)
    z = _model([norm], (3,)).predict(d, verbose=0)
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-5)
    m = _model([inv], (3,))
    np.testing.assert_allclose(m.predict(z, verbose=0), d, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(m.predict(np.zeros((1, 3), np.float32), verbose=0)[0],
                               d.mean(0), rtol=1e-5)
    m.compile("sgd", "mse")
    m.save(tmp_path / "inv.keras")
    back = lk.models.load_model(tmp_path / "inv.keras")
    np.testing.assert_allclose(back.predict(z, verbose=0), d, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- save / load_model
def _saved_and_loaded(tmp_path, m, **kwargs):
    path = tmp_path / "m.keras"
    m.save(path)
    return lk.models.load_model(path, **kwargs)


def _clf(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=("accuracy",)):
    m = _model([lk.layers.Dense(6, activation="relu"),
                lk.layers.Dense(3, activation="softmax")], (4,))
    m.compile(optimizer, loss, metrics=list(metrics))
    return m


def _xy(n=24):
    rs = np.random.RandomState(0)
    return rs.randn(n, 4).astype(np.float32), rs.randint(0, 3, n)


def test_load_model_keeps_a_keras_schedule_and_continues_identically(tmp_path):
    x, y = _xy()
    sched = lk.optimizers.schedules.ExponentialDecay(0.05, decay_steps=2, decay_rate=0.5)
    m = _clf(optimizer=lk.optimizers.Adam(learning_rate=sched))
    m.fit(x, y, batch_size=8, epochs=2, verbose=0)
    back = _saved_and_loaded(tmp_path, m)
    lr = back.optimizer.learning_rate
    assert isinstance(lr, lk.optimizers.schedules.ExponentialDecay)
    assert lr.get_config() == sched.get_config()
    for model in (m, back):
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(back.predict(x, verbose=0), m.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_load_model_keeps_loss_arguments_and_metric_objects(tmp_path):
    x, y = _xy()
    onehot = lk.utils.to_categorical(y, 3)
    m = _clf(loss=lk.losses.CategoricalCrossentropy(label_smoothing=0.2),
             metrics=[lk.metrics.TopKCategoricalAccuracy(k=1, name="top1"), "accuracy"])
    m.fit(x, onehot, epochs=1, verbose=0)
    back = _saved_and_loaded(tmp_path, m)
    assert back.loss.label_smoothing == 0.2
    assert back.metrics_names == ["loss", "top1", "accuracy"]
    np.testing.assert_allclose(back.evaluate(x, onehot, verbose=0),
                               m.evaluate(x, onehot, verbose=0), rtol=1e-6)
    # top-1 accuracy is accuracy
    assert back.evaluate(x, onehot, verbose=0)[1] == back.evaluate(x, onehot, verbose=0)[2]


def my_loss(y_true, y_pred):
    return lepton.numpy.mean((y_true - y_pred) ** 2, axis=-1)


def my_metric(y_true, y_pred):
    return lepton.numpy.abs(y_true - y_pred)


def test_load_model_custom_objects_for_user_functions(tmp_path):
    x, _ = _xy()
    t = np.random.RandomState(1).rand(24, 3).astype(np.float32)
    m = _clf(loss=my_loss, metrics=[my_metric])
    m.fit(x, t, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"custom_objects=\{'my_loss': my_loss\}"):
        _saved_and_loaded(tmp_path, m)
    back = _saved_and_loaded(tmp_path, m,
                             custom_objects={"my_loss": my_loss, "my_metric": my_metric})
    np.testing.assert_allclose(back.evaluate(x, t, verbose=0), m.evaluate(x, t, verbose=0),
                               rtol=1e-6)
    bare = _saved_and_loaded(tmp_path, m, compile=False)
    np.testing.assert_allclose(bare.predict(x, verbose=0), m.predict(x, verbose=0))
    with pytest.raises(RuntimeError, match="compile the model first"):
        bare.fit(x, t, verbose=0)


def test_load_model_warns_for_a_learning_rate_function(tmp_path):
    x, y = _xy()
    m = _clf(optimizer=lk.optimizers.SGD(learning_rate=lepton.optimizers.exponential_decay(
        0.1, 10, 0.5)))
    m.fit(x, y, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="learning-rate function .* which a file cannot "
                                         "hold; it is compiled with SGD's default"):
        back = _saved_and_loaded(tmp_path, m)
    assert isinstance(back.optimizer, lk.optimizers.SGD) and \
        back.optimizer.learning_rate == 0.01
    back.fit(x, y, epochs=1, verbose=0)  # the saved optimizer state still fits


# ----------------------------------------------------------------------------- initializers
INIT_CASES = [  # (object, expected std for a (400, 300) kernel, bound or None)
    (lambda: lk.initializers.GlorotUniform(seed=1), math.sqrt(2 / 700), math.sqrt(6 / 700)),
    (lambda: lk.initializers.GlorotNormal(seed=1), math.sqrt(2 / 700), None),
    (lambda: lk.initializers.HeNormal(seed=1), math.sqrt(2 / 400), None),
    (lambda: lk.initializers.HeUniform(seed=1), math.sqrt(2 / 400), math.sqrt(6 / 400)),
    (lambda: lk.initializers.LecunNormal(seed=1), math.sqrt(1 / 400), None),
    (lambda: lk.initializers.RandomUniform(seed=1), 0.1 / math.sqrt(12), 0.05),
    (lambda: lk.initializers.RandomNormal(stddev=0.2, seed=1), 0.2, None),
    (lambda: lk.initializers.VarianceScaling(3.0, "fan_out", "untruncated_normal", seed=1),
     math.sqrt(3 / 300), None),
]


@pytest.mark.parametrize("make, std, bound", INIT_CASES)
def test_keras_initializer_objects(make, std, bound):
    init = make()
    w = np.asarray(init((400, 300)))                               # Keras's call
    np.testing.assert_array_equal(w, np.asarray(init(lepton.random.PRNGKey(9), (400, 300),
                                                     "float32")))  # seeded: same values
    assert w.dtype == np.float32 and abs(w.std() / std - 1) < 0.03
    if bound is not None:
        assert -bound <= w.min() < -0.95 * bound and 0.95 * bound < w.max() <= bound
    m = _model([lk.layers.Dense(300, kernel_initializer=init)], (400,))
    np.testing.assert_array_equal(m.get_weights()[0], w)


def test_random_uniform_name_is_symmetric_as_keras():
    m = _model([lk.layers.Dense(200, kernel_initializer="random_uniform",
                                bias_initializer=lk.initializers.Constant(0.5))], (300,))
    w, b = m.get_weights()
    assert -0.05 <= w.min() < -0.049 and 0.049 < w.max() <= 0.05
    np.testing.assert_array_equal(b, 0.5)
    with pytest.raises(ValueError, match="unknown initializer 'he'. Valid names: .*he_normal"):
        lk.layers.Dense(2, kernel_initializer="he").to_stax()
    eye = lk.initializers.Identity(gain=2.0)((3, 3))
    np.testing.assert_array_equal(np.asarray(eye), 2 * np.eye(3))


def test_keras_initializer_stats_matchkeras3():
    k3 = keras3()
    for name in ["GlorotUniform", "GlorotNormal", "HeNormal", "HeUniform", "LecunNormal",
                 "LecunUniform", "RandomUniform", "RandomNormal", "TruncatedNormal"]:
        a = np.asarray(getattr(k3.initializers, name)(seed=0)((300, 200)))
        b = np.asarray(getattr(lk.initializers, name)(seed=0)((300, 200)))
        assert abs(b.std() / a.std() - 1) < 0.03, name
        assert abs(b.max() / a.max() - 1) < 0.1, name


# ----------------------------------------------------------------------------- activations module
def test_keras_activations_module_functions():
    A = lk.activations
    for name, ref in KERAS_ACTIVATIONS.items():
        if name in ("hard_swish",):
            continue
        np.testing.assert_allclose(np.asarray(A.get(name)(X)), ref(X.astype(np.float64)),
                                   rtol=1e-5, atol=1e-6, err_msg=name)
    np.testing.assert_allclose(np.asarray(A.relu(X, max_value=2.0, negative_slope=0.1)),
                               np.minimum(np.where(X >= 0, X, 0.1 * X), 2.0), rtol=1e-6)
    # a softmax function as the output activation is the name: the loss gets the logits
    m = _model([lk.layers.Dense(3, activation=A.softmax)], (4,))
    m.compile("sgd", "sparse_categorical_crossentropy")
    assert m._absorbed_activation
    assert m.get_config()["layers"][0]["config"]["activation"] == "softmax"
    with pytest.raises(ValueError, match="unknown activation 'relux'"):
        A.get("relux")


def test_keras_activations_module_matcheskeras3():
    k3 = keras3()
    for name in ["relu", "gelu", "leaky_relu", "elu", "selu", "softsign", "hard_sigmoid",
                 "mish", "silu", "softplus"]:
        np.testing.assert_allclose(np.asarray(getattr(lk.activations, name)(X)),
                                   np.asarray(getattr(k3.activations, name)(X)),
                                   rtol=2e-5, atol=2e-6, err_msg=name)


# ----------------------------------------------------------------------------- trainable
def _frozen_model():
    m = _model([lk.layers.Dense(8, activation="relu"), lk.layers.BatchNormalization(),
                lk.layers.Dense(3, activation="softmax")], (4,))
    m.layers[0].trainable = False
    m.layers[1].trainable = False
    return m


@pytest.mark.parametrize("optimizer", [lambda: lk.optimizers.AdamW(0.01, weight_decay=0.1),
                                       lambda: lk.optimizers.SGD(0.1, momentum=0.9)])
def test_trainable_false_freezes_weights_and_batchnorm(optimizer, tmp_path):
    x, y = _xy(32)
    m = _frozen_model()
    m.compile(optimizer(), "sparse_categorical_crossentropy")
    w0 = m.get_weights()
    # a frozen BatchNormalization runs in inference mode: the training loss (before the
    # step) is the evaluation loss
    before = m.evaluate(x, y, verbose=0)
    assert m.train_on_batch(x, y) == pytest.approx(before, rel=1e-5)
    m.fit(x, y, batch_size=8, epochs=2, verbose=0)
    w1 = m.get_weights()
    for a, b in zip(w0[:6], w1[:6]):  # Dense kernel, bias; BN gamma, beta, moving stats
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(w0[6], w1[6])  # the last Dense trains
    lines = []
    m.summary(print_fn=lines.append)
    assert "Trainable params: 27" in "\n".join(lines)
    m.layers[0].trainable = True  # read again at the next fit, as Keras 3
    m.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert not np.allclose(w1[0], m.get_weights()[0])
    np.testing.assert_array_equal(w1[2], m.get_weights()[2])
    back = _saved_and_loaded(tmp_path, m)
    assert [layer.trainable for layer in back.layers] == [True, False, True]


def test_trainable_false_at_construction():
    x, y = _xy(16)
    m = _model([lk.layers.Dense(5, trainable=False), lk.layers.Dense(3)], (4,))
    m.compile("adam", "sparse_categorical_crossentropy")
    w0 = m.get_weights()
    m.fit(x, y, epochs=1, verbose=0)
    np.testing.assert_array_equal(w0[0], m.get_weights()[0])
    assert not np.allclose(w0[2], m.get_weights()[2])


@pytest.mark.parametrize("kwargs", [dict(center=False), dict(scale=False, epsilon=1e-5)])
def test_layer_normalization_without_center_or_scale_saves_and_loads(kwargs, tmp_path):
    m = _model([lk.layers.LayerNormalization(**kwargs)], (3, 4))
    m.compile("adam", "mse")
    x = np.random.RandomState(0).randn(2, 3, 4).astype(np.float32)
    back = _saved_and_loaded(tmp_path, m)
    assert back.get_config() == m.get_config()
    np.testing.assert_allclose(back.predict(x, verbose=0), m.predict(x, verbose=0))


# ----------------------------------------------------------------------------- regularizers
def _regularized(K):
    R = K.regularizers
    return [K.Input((5, 3)),
            K.layers.LSTM(4, kernel_regularizer=R.L2(0.01), recurrent_regularizer="l1",
                          bias_regularizer=R.L1L2(0.01, 0.02)),
            K.layers.BatchNormalization(gamma_regularizer=R.L2(0.1), beta_regularizer="l1"),
            K.layers.Dense(3, activation="softmax", kernel_regularizer=R.L2(0.05),
                           bias_regularizer=R.L1(0.01))]


def _penalty_reference(w):
    """Keras's formulas on get_weights()'s order: LSTM kernel, recurrent, bias; BN gamma,
    beta, moving mean, moving variance; Dense kernel, bias."""
    return (0.01 * (w[0] ** 2).sum() + 0.01 * np.abs(w[1]).sum() +
            0.01 * np.abs(w[2]).sum() + 0.02 * (w[2] ** 2).sum() +
            0.1 * (w[3] ** 2).sum() + 0.01 * np.abs(w[4]).sum() +
            0.05 * (w[7] ** 2).sum() + 0.01 * np.abs(w[8]).sum())


def test_regularizers_add_keras_penalties_to_the_loss():
    rs = np.random.RandomState(0)
    x, y = rs.randn(16, 5, 3).astype(np.float32), rs.randint(0, 3, 16)
    m = lk.Sequential(_regularized(lk))
    m.compile(lk.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    w = m.get_weights()
    w[2] = rs.randn(*w[2].shape).astype(np.float32)  # non-zero biases
    w[8] = rs.randn(*w[8].shape).astype(np.float32)
    m.set_weights(w)
    p = m.predict(x, verbose=0)
    xent = float(np.mean(-np.log(p[np.arange(16), y])))
    want = xent + _penalty_reference([np.asarray(a, np.float64) for a in w])
    assert m.evaluate(x, y, verbose=0) == pytest.approx(want, rel=1e-5)
    # L1 on zero weights moves them, as JAX's |x| (derivative +1 at 0) does under Keras
    z = _model([lk.layers.Dense(2, kernel_initializer="zeros",
                                kernel_regularizer=lk.regularizers.L1(0.5))], (3,))
    z.compile(lk.optimizers.SGD(1.0), "mse")
    z.train_on_batch(np.zeros((4, 3), np.float32), np.zeros((4, 2), np.float32))
    np.testing.assert_allclose(z.get_weights()[0], -0.5)
    # frozen layers are not regularised (Keras counts trainable weights only)
    for layer in m.layers:
        layer.trainable = False
    assert m.evaluate(x, y, verbose=0) == pytest.approx(xent, rel=1e-5)


def test_regularized_training_matcheskeras3():
    k3 = keras3()
    rs = np.random.RandomState(0)
    x, y = rs.randn(32, 5, 3).astype(np.float32), rs.randint(0, 3, 32)
    with _keras_quiet():
        km = k3.Sequential(_regularized(k3))
        km.compile(k3.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
        kw = [np.asarray(v.value) for v in km.weights]
        k_eval = km.evaluate(x, y, verbose=0)
        hk = km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
        k_after = [np.asarray(v.value) for v in km.weights]
    lm = lk.Sequential(_regularized(lk))
    lm.set_weights(kw)
    lm.compile(lk.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    assert lm.evaluate(x, y, verbose=0) == pytest.approx(k_eval, rel=1e-5)
    hl = lm.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(hl, hk, rtol=1e-5)
    for a, b in zip(lm.get_weights(), k_after):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_regularizers_save_load_and_errors(tmp_path):
    m = _model([lk.layers.Dense(3, kernel_regularizer=lk.regularizers.L2(0.3),
                                bias_regularizer="l1"),
                lk.layers.Dense(2)], (4,))
    m.compile("sgd", "mse")
    back = _saved_and_loaded(tmp_path, m)
    reg = back.layers[0].kernel_regularizer
    assert isinstance(reg, lk.regularizers.L2) and reg.l2 == pytest.approx(0.3)
    assert isinstance(back.layers[0].bias_regularizer, lk.regularizers.L1)
    x = np.ones((2, 4), np.float32)
    assert back.evaluate(x, np.zeros((2, 2), np.float32), verbose=0) == pytest.approx(
        m.evaluate(x, np.zeros((2, 2), np.float32), verbose=0), rel=1e-6)
    with pytest.raises(ValueError, match="unknown regularizer 'l3'"):
        lk.layers.Dense(2, kernel_regularizer="l3")
    with pytest.raises(NotImplementedError, match="activity_regularizer=.* is not supported"):
        lk.layers.Dense(2, activity_regularizer="l2")
    with pytest.raises(NotImplementedError, match="groups=2 is not supported"):
        lk.layers.Conv2D(4, 3, groups=2)


def test_keras_default_arguments_are_accepted():
    L = lk.layers
    _model([L.Dense(2, kernel_constraint=None, lora_rank=None), L.Flatten(data_format=None)],
           (3,))
    m = _model([L.BatchNormalization(beta_initializer="ones", gamma_initializer=lk.initializers.
                                     Constant(2.0), synchronized=True)], (3,))
    gamma, beta, mean, var = m.get_weights()
    np.testing.assert_array_equal(gamma, 2.0)
    np.testing.assert_array_equal(beta, 1.0)
    m = _model([L.Embedding(4, 2, weights=[np.arange(8.0).reshape(4, 2)])], (3,))
    np.testing.assert_array_equal(m.get_weights()[0], np.arange(8.0).reshape(4, 2))
    _model([L.LSTM(2, seed=3, use_cudnn=False), L.Dense(1)], (4, 3))
    with pytest.raises(ValueError, match="only data_format='channels_last'"):
        L.RandomFlip(data_format="channels_first")


# ----------------------------------------------------------------------------- stax vs JAX
@pytest.mark.parametrize("dn, kernel, strides, padding, shape", [
    (("NHWC", "HWIO", "NHWC"), (3, 3), (2, 1), ((1, 1), (0, 2)), (2, 5, 6, 2)),
    (("NHWC", "HWIO", "NHWC"), (3, 2), (3, 2), ((2, 0), (1, 3)), (1, 4, 3, 2)),
    (("NCHW", "OIHW", "NCHW"), (2, 3), (2, 2), ((0, 0), (2, 1)), (2, 3, 4, 5)),
    (("NHC", "HIO", "NHC"), (4,), (3,), ((3, 1),), (2, 5, 2)),
])
def test_conv_transpose_explicit_padding_matches_jax(dn, kernel, strides, padding, shape):
    jax = pytest.importorskip("jax")
    from jax.example_libraries import stax as jstax
    jinit, japply = jstax.GeneralConvTranspose(dn, 3, kernel, strides, padding)
    linit, lapply = lepton.stax.GeneralConvTranspose(dn, 3, kernel, strides, padding)
    jshape, jparams = jinit(jax.random.PRNGKey(0), shape)
    lshape, lparams = linit(lepton.random.PRNGKey(0), shape)
    assert tuple(lshape) == tuple(jshape)
    params = tuple(np.asarray(p) for p in jparams)
    x = np.random.RandomState(0).randn(*shape).astype(np.float32)
    want = np.asarray(japply(params, x))
    got = np.asarray(lapply(tuple(lepton.numpy.asarray(p) for p in params), x))
    assert got.shape == want.shape == tuple(lshape)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


# ----------------------------------------------------------------------------- RNN use_bias
RNN_NO_BIAS = [("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False}), ("SimpleRNN", {}),
               ("LSTM", {"return_sequences": True, "go_backwards": True})]


@pytest.mark.parametrize("cls, kw", RNN_NO_BIAS)
def test_recurrent_use_bias_false_is_the_zero_bias_layer(cls, kw, tmp_path):
    x = np.random.RandomState(0).randn(2, 5, 3).astype(np.float32)
    plain = _model([getattr(lk.layers, cls)(4, use_bias=False, **kw)], (5, 3))
    w = plain.get_weights()
    assert len(w) == 2  # kernel, recurrent kernel
    biased = _model([getattr(lk.layers, cls)(4, **kw)], (5, 3))
    wb = biased.get_weights()
    biased.set_weights(w + [np.zeros_like(a) for a in wb[2:]])
    np.testing.assert_allclose(plain.predict(x, verbose=0), biased.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
    both = _model([lk.layers.Bidirectional(getattr(lk.layers, cls)(4, use_bias=False, **kw))],
                  (5, 3))
    assert len(both.get_weights()) == 4
    plain.compile("sgd", "mse")
    back = _saved_and_loaded(tmp_path, plain)
    np.testing.assert_allclose(back.predict(x, verbose=0), plain.predict(x, verbose=0))


def test_recurrent_use_bias_false_matcheskeras3():
    k3 = keras3()
    x = np.random.RandomState(0).randn(3, 6, 3).astype(np.float32)
    for cls, kw in RNN_NO_BIAS:
        with _keras_quiet():
            km = k3.Sequential([k3.Input((6, 3)), getattr(k3.layers, cls)(4, use_bias=False,
                                                                           **kw)])
            kw_ = [np.asarray(v.value) for v in km.weights]
            want = np.asarray(km.predict(x, verbose=0))
        lm = _model([getattr(lk.layers, cls)(4, use_bias=False, **kw)], (6, 3))
        lm.set_weights(kw_)
        np.testing.assert_allclose(lm.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5,
                                   err_msg=f"{cls} {kw}")


# ----------------------------------------------------------------------------- utils
def test_pad_sequences_and_normalize_as_keras():
    U = lk.utils
    np.testing.assert_array_equal(U.pad_sequences([[1, 2, 3], [4, 5], [6, 7, 8, 9, 10]],
                                                  maxlen=4),
                                  [[0, 1, 2, 3], [0, 0, 4, 5], [7, 8, 9, 10]])
    got = U.pad_sequences([[1, 2, 3], [4, 5], []], padding="post", truncating="post",
                          value=-1)
    np.testing.assert_array_equal(got, [[1, 2, 3], [4, 5, -1], [-1, -1, -1]])
    assert got.dtype == np.int32
    f = U.pad_sequences([[1.5, 2], [3]], dtype="float32")
    np.testing.assert_array_equal(f, [[1.5, 2], [0, 3]])
    assert U.pad_sequences([], maxlen=3).shape == (0, 3)
    with pytest.raises(ValueError, match="padding must be 'pre' or 'post'"):
        U.pad_sequences([[1]], padding="left")
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    np.testing.assert_allclose(U.normalize(x), [[0.6, 0.8], [0, 0]])
    np.testing.assert_allclose(U.normalize(np.array([[3.0, 4.0], [1, 0]]), axis=0, order=1),
                               [[0.75, 1.0], [0.25, 0.0]])


def test_pad_sequences_matcheskeras3():
    k3 = keras3()
    seqs = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10], []]
    for kw in [dict(), dict(maxlen=3), dict(maxlen=4, padding="post", truncating="post"),
               dict(maxlen=2, truncating="post", value=9)]:
        np.testing.assert_array_equal(lk.utils.pad_sequences(seqs, **kw),
                                      k3.utils.pad_sequences(seqs, **kw), err_msg=str(kw))


# ----------------------------------------------------------------------------- more layers
def _np_relu(x, max_value=None, negative_slope=0.0, threshold=0.0):
    y = np.where(x >= threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else np.minimum(y, max_value)


EXTRA_LAYERS = [  # (name, kwargs, input shape, NumPy reference)
    ("ReLU", {}, (5,), _np_relu),
    ("ReLU", dict(max_value=0.5, negative_slope=0.1, threshold=0.2), (5,),
     lambda x: _np_relu(x, 0.5, 0.1, 0.2)),
    ("LeakyReLU", {}, (5,), lambda x: np.where(x >= 0, x, 0.3 * x)),
    ("ELU", dict(alpha=0.5), (5,), lambda x: np.where(x > 0, x, 0.5 * np.expm1(x))),
    ("Softmax", dict(axis=1), (3, 4),
     lambda x: np.exp(x) / np.exp(x).sum(1, keepdims=True)),
    ("ZeroPadding2D", dict(padding=((1, 2), (0, 3))), (4, 5, 2),
     lambda x: np.pad(x, ((0, 0), (1, 2), (0, 3), (0, 0)))),
    ("ZeroPadding1D", dict(padding=(1, 3)), (4, 2),
     lambda x: np.pad(x, ((0, 0), (1, 3), (0, 0)))),
    ("UpSampling2D", dict(size=(1, 3)), (3, 4, 2), lambda x: x.repeat(3, axis=2)),
    ("UpSampling1D", dict(size=3), (3, 2), lambda x: x.repeat(3, axis=1)),
]


@pytest.mark.parametrize("name, kw, shape, ref", EXTRA_LAYERS)
def test_extra_keras_layers(name, kw, shape, ref, tmp_path):
    x = np.random.RandomState(0).randn(2, *shape).astype(np.float32)
    m = _model([getattr(lk.layers, name)(**kw)], shape)
    want = ref(x)
    assert m.output_shape == (None,) + want.shape[1:]
    np.testing.assert_allclose(m.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    m.compile("sgd", "mse")
    back = _saved_and_loaded(tmp_path, m)
    np.testing.assert_allclose(back.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_extra_keras_layers_matchkeras3():
    k3 = keras3()
    for name, kw, shape, _ in EXTRA_LAYERS:
        x = np.random.RandomState(1).randn(2, *shape).astype(np.float32)
        with _keras_quiet():
            want = np.asarray(k3.Sequential([k3.Input(shape), getattr(k3.layers, name)(**kw)])
                              .predict(x, verbose=0))
        got = _model([getattr(lk.layers, name)(**kw)], shape).predict(x, verbose=0)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6, err_msg=name)


def test_softmax_layer_hands_the_loss_its_logits():
    m = _model([lk.layers.Dense(3), lk.layers.Softmax()], (4,))
    m.compile("sgd", "sparse_categorical_crossentropy")
    assert m._absorbed_activation
    with pytest.raises(ValueError, match="padding must be an int"):
        lk.layers.ZeroPadding2D(padding=(1, 2, 3))
    with pytest.raises(NotImplementedError, match="only interpolation='nearest'"):
        lk.layers.UpSampling2D(interpolation="bilinear")


# ----------------------------------------------------------------------------- Conv*Transpose
def _scatter_transpose_valid(x, W, s, d):
    """Keras's VALID transposed conv as the scatter it is (the gradient of a strided conv):
    input pixel i adds W[a] x[i] at i * s + a * d; W is (kh, kw, out, in)."""
    N, H, Wd, _ = x.shape
    kh, kw, O, _ = W.shape
    oh = (H - 1) * s[0] + max((kh - 1) * d[0] + 1, s[0])
    ow = (Wd - 1) * s[1] + max((kw - 1) * d[1] + 1, s[1])
    out = np.zeros((N, oh, ow, O))
    for i, j, a, b in itertools.product(range(H), range(Wd), range(kh), range(kw)):
        out[:, i * s[0] + a * d[0], j * s[1] + b * d[1]] += x[:, i, j] @ W[a, b].T
    return out


@pytest.mark.parametrize("kernel, strides, dilation", [((3, 3), (1, 1), (1, 1)),
                                                        ((3, 2), (2, 2), (1, 1)),
                                                        ((2, 2), (3, 2), (1, 1)),
                                                        ((2, 3), (1, 1), (2, 1))])
def test_conv2d_transpose_is_the_scatter(kernel, strides, dilation):
    rs = np.random.RandomState(0)
    x = rs.randn(2, 4, 3, 2).astype(np.float32)
    m = _model([lk.layers.Conv2DTranspose(3, kernel, strides=strides, dilation_rate=dilation,
                                          use_bias=False)], (4, 3, 2))
    (W,) = m.get_weights()
    assert W.shape == kernel + (3, 2)
    want = _scatter_transpose_valid(x.astype(np.float64), W.astype(np.float64), strides,
                                    dilation)
    assert m.output_shape == (None,) + want.shape[1:]
    np.testing.assert_allclose(m.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)


CONV_T_CASES = [("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"),
                 (4, 5, 2)),
                ("Conv2DTranspose", dict(filters=3, kernel_size=(3, 2), strides=2), (4, 5, 2)),
                ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same",
                                         output_padding=1), (4, 5, 2)),
                ("Conv2DTranspose", dict(filters=3, kernel_size=4, strides=3,
                                         output_padding=(1, 2)), (4, 5, 2)),
                ("Conv2DTranspose", dict(filters=3, kernel_size=3, dilation_rate=2,
                                         padding="same"), (4, 5, 2)),
                ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same"),
                 (6, 2))]


def test_conv_transpose_layers_matchkeras3():
    k3 = keras3()
    rs = np.random.RandomState(0)
    for name, kw, shape in CONV_T_CASES:
        x = rs.randn(2, *shape).astype(np.float32)
        with _keras_quiet():
            km = k3.Sequential([k3.Input(shape), getattr(k3.layers, name)(**kw)])
            weights = [np.asarray(v.value) for v in km.weights]
            want = np.asarray(km.predict(x, verbose=0))
        lm = _model([getattr(lk.layers, name)(**kw)], shape)
        lm.set_weights(weights)
        assert lm.output_shape == km.output_shape, (name, kw)
        np.testing.assert_allclose(lm.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5,
                                   err_msg=f"{name} {kw}")


def test_conv_transpose_autoencoder_trains_and_saves(tmp_path):
    rs = np.random.RandomState(0)
    x = rs.rand(16, 8, 8, 1).astype(np.float32)
    m = _model([lk.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
                lk.layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu",
                                          kernel_regularizer="l2"),
                lk.layers.Conv2D(1, 3, padding="same", activation="sigmoid")], (8, 8, 1))
    m.compile(lk.optimizers.Adam(0.01), "binary_crossentropy")
    h = m.fit(x, x, batch_size=8, epochs=5, verbose=0).history["loss"]
    assert h[-1] < h[0]
    back = _saved_and_loaded(tmp_path, m)
    np.testing.assert_allclose(back.predict(x, verbose=0), m.predict(x, verbose=0))


def my_activation(x):
    return lepton.numpy.tanh(x) * 2


def my_regularizer(w):
    return 0.5 * lepton.numpy.sum(w * w)


def test_load_model_custom_activation_and_regularizer(tmp_path):
    x, _ = _xy()
    t = np.random.RandomState(2).rand(24, 3).astype(np.float32)
    m = _model([lk.layers.Dense(5, activation=my_activation,
                                kernel_regularizer=my_regularizer), lk.layers.Dense(3)], (4,))
    m.compile("sgd", "mse")
    with pytest.raises(ValueError, match=r"saved with the function 'my_activation' as its "
                                         r"activation.*custom_objects=\{'my_activation'"):
        _saved_and_loaded(tmp_path, m)
    back = _saved_and_loaded(tmp_path, m, custom_objects={"my_activation": my_activation,
                                                          "my_regularizer": my_regularizer})
    np.testing.assert_allclose(back.predict(x, verbose=0), m.predict(x, verbose=0))
    assert back.evaluate(x, t, verbose=0) == pytest.approx(m.evaluate(x, t, verbose=0),
                                                           rel=1e-6)


# ----------------------------------------------------------------------------- optimizers
def _nadam_reference(grads, x0, lr=0.01, b1=0.9, b2=0.999, eps=1e-7):
    """Keras 3's Nadam.update_step in NumPy float64, step by step."""
    x, m, v, u_product = x0.astype(np.float64), 0.0, 0.0, 1.0
    for t, g in enumerate(grads, start=1):
        u_t, u_next = b1 * (1 - 0.5 * 0.96 ** t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product *= u_t
        m = m + (g - m) * (1 - b1)
        v = v + (g * g - v) * (1 - b2)
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        x = x - lr * m_hat / (np.sqrt(v / (1 - b2 ** t)) + eps)
    return x


def test_nadam_follows_keras_update_formula():
    rs = np.random.RandomState(0)
    x0 = rs.randn(3, 2)
    grads = [rs.randn(3, 2) for _ in range(6)]
    init, update, get_params = lk.optimizers.Nadam(learning_rate=0.01).triple()
    state = init([lepton.numpy.asarray(x0)])
    for i, g in enumerate(grads):
        state = update(i, [lepton.numpy.asarray(g)], state)
    np.testing.assert_allclose(np.asarray(get_params(state)[0]), _nadam_reference(grads, x0),
                               rtol=1e-10)
    m = _clf(optimizer="nadam")
    assert isinstance(m.optimizer, lk.optimizers.Nadam)


def test_nadam_training_matcheskeras3():
    k3 = keras3()
    rs = np.random.RandomState(0)
    x, y = rs.randn(32, 4).astype(np.float32), rs.randint(0, 3, 32)
    with _keras_quiet():
        km = k3.Sequential([k3.Input((4,)), k3.layers.Dense(5, activation="relu"),
                            k3.layers.Dense(3, activation="softmax")])
        km.compile(k3.optimizers.Nadam(0.01), "sparse_categorical_crossentropy")
        weights = [np.asarray(v.value) for v in km.weights]
        hk = km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
        after = [np.asarray(v.value) for v in km.weights]
    lm = _model([lk.layers.Dense(5, activation="relu"),
                 lk.layers.Dense(3, activation="softmax")], (4,))
    lm.set_weights(weights)
    lm.compile(lk.optimizers.Nadam(0.01), "sparse_categorical_crossentropy")
    hl = lm.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0).history["loss"]
    np.testing.assert_allclose(hl, hk, rtol=1e-5)
    for a, b in zip(lm.get_weights(), after):
        np.testing.assert_allclose(a, b, atol=1e-5)


def test_spatial_dropout_drops_whole_channels():
    x = np.ones((4, 6, 5, 8), np.float32)
    m = _model([lk.layers.SpatialDropout2D(0.5, seed=1)], (6, 5, 8))
    y = np.asarray(m(x, training=True))
    per_map = y.reshape(4, 30, 8)
    assert np.all(per_map.min(1) == per_map.max(1))  # each map all kept or all dropped
    assert set(np.unique(per_map)) <= {0.0, 2.0} and 0 < (per_map == 0).mean() < 1
    np.testing.assert_array_equal(m.predict(x, verbose=0), x)
    y1 = np.asarray(_model([lk.layers.SpatialDropout1D(0.5)], (6, 8))(x[:, :, 0], training=True))
    assert np.all(y1.min(1) == y1.max(1))


def test_gaussian_noise_only_in_training():
    x = np.zeros((2000, 5), np.float32)
    m = _model([lk.layers.GaussianNoise(0.5)], (5,))
    np.testing.assert_array_equal(m.predict(x, verbose=0), x)
    y = np.asarray(m(x, training=True))
    assert abs(y.std() - 0.5) < 0.02 and abs(y.mean()) < 0.02


def halve(x, scale=0.5):
    return x[:, ::2] * scale


def test_lambda_layer_shape_training_and_save(tmp_path):
    rs = np.random.RandomState(0)
    x, t = rs.randn(16, 6).astype(np.float32), rs.randn(16, 2).astype(np.float32)
    m = _model([lk.layers.Lambda(halve, arguments={"scale": 2.0}), lk.layers.Dense(2)], (6,))
    assert m.output_shape == (None, 2)
    assert m.layers[0].to_stax()[0](lepton.random.PRNGKey(0), (-1, 6))[0] == (-1, 3)
    m.compile("sgd", "mse")
    h = m.fit(x, t, epochs=3, verbose=0).history["loss"]
    assert h[-1] < h[0]
    W, b = m.get_weights()
    np.testing.assert_allclose(m.predict(x, verbose=0), (x[:, ::2] * 2) @ W + b, rtol=1e-5,
                               atol=1e-5)
    with pytest.raises(ValueError, match=r"custom_objects=\{'halve': halve\}"):
        _saved_and_loaded(tmp_path, m)
    back = _saved_and_loaded(tmp_path, m, custom_objects={"halve": halve})
    np.testing.assert_allclose(back.predict(x, verbose=0), m.predict(x, verbose=0))
    given = _model([lk.layers.Lambda(lambda v: v.reshape(v.shape[0], 2, 3),
                                     output_shape=(2, 3))], (6,))
    assert given.output_shape == (None, 2, 3)
