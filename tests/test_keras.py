"""lepton.keras: the fit / evaluate / predict contract, layers against their stax
counterparts, callbacks, saving, progress output and the error messages."""
from __future__ import annotations

import csv
import io
import json
import os
import re

import numpy as np
import pytest

import lepton
import lepton.keras as keras
from lepton import random, stax
from lepton.keras import layers as L


@pytest.fixture(autouse=True)
def _seeded():
    """Every test starts from the same seed: unseeded, initial weights and shuffles are
    fresh draws per process, as in Keras."""
    keras.utils.set_random_seed(0)


@pytest.fixture(scope="module")
def digits():
    (x, y), (xt, yt) = lepton.datasets.mnist.load_sample()
    x = x[:512, ..., None].astype(np.float32) / 255
    xt = xt[:256, ..., None].astype(np.float32) / 255
    return x, y[:512].astype(np.int64), xt, yt[:256].astype(np.int64)


def small_cnn():
    return keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(4, 5, activation="relu"),
                             L.MaxPooling2D(2), L.Flatten(), L.Dense(10, activation="softmax")])


# ----------------------------------------------------------------------------- fit contract
def test_fit_evaluate_predict_contract(digits, capsys):
    x, y, xt, yt = digits
    model = small_cnn()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(x, keras.utils.to_categorical(y, 10), batch_size=64, epochs=3,
                     validation_split=0.25, verbose=2)
    assert isinstance(hist, keras.callbacks.History)
    assert hist.epoch == [0, 1, 2]
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in hist.history.values())
    assert hist.history["loss"][-1] < hist.history["loss"][0]
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith(" 6/6") or ln.startswith("6/6")]
    assert len(lines) == 3, out  # 384 training samples / 64 = 6 steps, one line per epoch
    for ln in lines:
        for field in ("loss: ", "accuracy: ", "val_loss: ", "val_accuracy: ", "samples/s",
                      "/step"):
            assert field in ln, ln
    assert out.count("compiling the train step") == 1

    loss, acc = model.evaluate(xt, keras.utils.to_categorical(yt, 10), verbose=0)
    probs = model.predict(xt, verbose=0)
    assert probs.shape == (256, 10)
    np.testing.assert_allclose(probs.sum(1), 1, rtol=1e-5)
    assert acc == pytest.approx(np.mean(probs.argmax(1) == yt))
    manual = -np.mean(np.log(probs[np.arange(256), yt]))
    assert loss == pytest.approx(manual, rel=1e-4)
    assert model.evaluate(xt, keras.utils.to_categorical(yt, 10), verbose=0,
                          return_dict=True) == {"loss": loss, "accuracy": acc}


def test_sparse_labels_partial_batch_and_no_recompile(digits):
    x, y, _, _ = digits
    model = small_cnn()
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x[:100], y[:100], batch_size=32, epochs=1, verbose=0)  # 32, 32, 32, 4
    before = lepton.cache_info().numba_compiles
    model.fit(x[:70], y[:70], batch_size=32, epochs=1, verbose=0)  # new last-batch size 6
    assert lepton.cache_info().numba_compiles == before


def test_shuffle_false_is_deterministic_and_validation_data(digits):
    x, y, xt, yt = digits
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        model = small_cnn()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        h = model.fit(x[:128], y[:128], batch_size=64, epochs=2, shuffle=False,
                      validation_data=(xt[:64], yt[:64]), verbose=0)
        runs.append(h.history)
    assert runs[0] == runs[1]
    assert "val_accuracy" in runs[0]


def test_set_random_seed_fixes_init_and_shuffles_and_unseeded_draws_differ(digits):
    x, y, _, _ = digits

    def run():
        model = small_cnn()
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        w0 = model.get_weights()
        return w0, model.fit(x[:128], y[:128], batch_size=32, epochs=2, verbose=0).history

    keras.utils.set_random_seed(42)
    (w_a, h_a), (w_b, h_b) = run(), run()   # one seeded stream: two different models
    assert not np.array_equal(w_a[0], w_b[0])
    keras.utils.set_random_seed(42)
    w_c, h_c = run()
    assert h_c == h_a and all(np.array_equal(p, q) for p, q in zip(w_a, w_c))
    # Keras's glorot_uniform on a 5x5x1 -> 4 kernel: uniform on +-sqrt(6 / (25 + 100))
    limit = np.sqrt(6 / 125)
    assert np.abs(w_a[0]).max() <= limit and np.abs(w_a[0]).max() > 0.9 * limit
    assert not np.any(w_a[1])  # zero biases
    with pytest.raises(TypeError, match="integer seed"):
        keras.utils.set_random_seed(1.5)
    with pytest.raises(ValueError, match=r"\[0, 2\*\*32\)"):
        keras.utils.set_random_seed(-1)


def test_validation_split_takes_the_last_samples(digits):
    x, y, _, _ = digits
    model = small_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    h = model.fit(x[:100], y[:100], batch_size=50, epochs=1, validation_split=0.2, verbose=0)
    want = model.evaluate(x[80:100], y[80:100], verbose=0)
    assert h.history["val_loss"][0] == pytest.approx(want, rel=1e-5)


# ----------------------------------------------------------------------------- layers vs stax
def _stax_out(layer, params, state, x):
    return stax.stateful(layer)[1](params, state, x, train=False, rng=None)[0]


LAYER_CASES = [
    (lambda: L.Dense(7, activation="tanh"), (5, 3),
     lambda: stax.serial(stax.Dense(7), stax.Tanh)),
    (lambda: L.Conv2D(3, (3, 2), strides=(2, 1), padding="same", activation="relu"),
     (2, 9, 8, 2), lambda: stax.serial(stax.Conv(3, (3, 2), (2, 1), "SAME"), stax.Relu)),
    (lambda: L.Conv1D(4, 3, dilation_rate=2), (2, 11, 3),
     lambda: stax.GeneralConv(("NHC", "HIO", "NHC"), 4, (3,), dilation=(2,))),
    (lambda: L.MaxPooling2D(2), (2, 7, 6, 3),
     lambda: stax.MaxPool((2, 2), strides=(2, 2))),
    (lambda: L.AveragePooling2D(3, strides=1, padding="same"), (2, 5, 5, 2),
     lambda: stax.AvgPool((3, 3), strides=(1, 1), padding="SAME")),
    (lambda: L.GlobalAveragePooling2D(), (2, 4, 5, 3), lambda: stax.GlobalAvgPool),
    (lambda: L.Flatten(), (2, 3, 4), lambda: stax.Flatten),
    (lambda: L.Reshape((6, 2)), (2, 3, 4), lambda: stax.Reshape((6, 2))),
    (lambda: L.Activation("softmax"), (3, 5), lambda: stax.serial(stax.Identity,
                                                                  stax.Softmax)),
    (lambda: L.LSTM(6, return_sequences=True), (2, 5, 3),
     lambda: stax.LSTM(6, return_sequences=True)),
    (lambda: L.GRU(4), (2, 5, 3), lambda: stax.GRU(4)),
    (lambda: L.SimpleRNN(4, go_backwards=True), (2, 5, 3),
     lambda: stax.SimpleRNN(4, reverse=True)),
    (lambda: L.LayerNormalization(), (3, 6), lambda: stax.LayerNorm(epsilon=1e-3)),
]


@pytest.mark.parametrize("make,shape,make_stax", LAYER_CASES,
                         ids=[c[0]().__class__.__name__ + str(i)
                              for i, c in enumerate(LAYER_CASES)])
def test_layer_equals_its_stax_counterpart(make, shape, make_stax):
    layer = make()
    model = keras.Sequential([keras.Input(shape[1:]), layer])
    model.build()
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    got = np.asarray(model(x))
    want = np.asarray(_stax_out(make_stax(), model.params[0], model.state[0], x))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert got.shape[1:] == model.output_shape[1:]


def test_batchnorm_and_dropout_train_vs_inference():
    model = keras.Sequential([keras.Input((4,)), L.Dense(8), L.BatchNormalization(),
                              L.Dropout(0.5), L.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(1).standard_normal((64, 4)).astype(np.float32) * 3 + 2
    y = np.zeros((64, 3), np.float32)
    mean0 = np.array(model.state[1]["mean"] if isinstance(model.state[1], dict)
                     else lepton.tree.leaves(model.state[1])[0])
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    mean1 = np.array(lepton.tree.leaves(model.state[1])[0])
    assert not np.allclose(mean0, mean1)  # running statistics moved
    a, b = model.predict(x, verbose=0), model.predict(x, verbose=0)
    np.testing.assert_array_equal(a, b)  # no dropout at inference
    # Keras counts the moving statistics too
    assert sum(np.size(w) for w in model.get_weights()) == model.count_params()


def test_embedding_lstm_text_model():
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 20, (96, 7))
    y = (ids[:, -1] > 9).astype(np.float32)[:, None]
    model = keras.Sequential([keras.Input((7,), dtype="int32"), L.Embedding(20, 8),
                              L.LSTM(16), L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(ids, y, batch_size=32, epochs=8, verbose=0)
    assert h.history["accuracy"][-1] > 0.8
    assert model.predict(ids[:5], verbose=0).shape == (5, 1)


# ----------------------------------------------------------------------------- callbacks
def test_early_stopping_restores_best_weights(digits):
    x, y, xt, yt = digits

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snaps.append(self.model.get_weights())

    snaps = []
    model = small_cnn()
    model.compile(optimizer=keras.optimizers.SGD(3.0), loss="sparse_categorical_crossentropy")
    es = keras.callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    h = model.fit(x[:128], y[:128], batch_size=64, epochs=20, callbacks=[es, Spy()],
                  verbose=0)
    losses = h.history["loss"]
    assert len(losses) < 20 and es.stopped_epoch == len(losses) - 1
    best = int(np.argmin(losses))
    for got, want in zip(model.get_weights(), snaps[best]):
        np.testing.assert_array_equal(got, want)


def test_model_checkpoint_and_csv_logger(tmp_path, digits):
    x, y, _, _ = digits
    model = small_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    ckpt = str(tmp_path / "ckpt-{epoch:02d}.lepton")
    log = tmp_path / "log.csv"
    model.fit(x[:128], y[:128], batch_size=64, epochs=2, verbose=0,
              callbacks=[keras.callbacks.ModelCheckpoint(ckpt, monitor="loss"),
                         keras.callbacks.CSVLogger(log)])
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01.lepton", "ckpt-02.lepton", "log.csv"]
    reloaded = keras.load_model(tmp_path / "ckpt-02.lepton")
    np.testing.assert_allclose(reloaded.predict(x[:16], verbose=0),
                               model.predict(x[:16], verbose=0), rtol=1e-6)
    with open(log) as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "accuracy", "loss"] and len(rows) == 3


def test_save_load_model_resumes_training(tmp_path, digits):
    x, y, _, _ = digits
    model = small_cnn()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x[:128], y[:128], batch_size=64, epochs=1, verbose=0, shuffle=False)
    model.save(tmp_path / "m.lepton")
    twin = keras.load_model(tmp_path / "m.lepton")
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.fit(x[:128], y[:128], batch_size=64, epochs=1, verbose=0, shuffle=False, seed=1)
    twin.fit(x[:128], y[:128], batch_size=64, epochs=1, verbose=0, shuffle=False, seed=1)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    model.save_weights(tmp_path / "w.lepton")
    fresh = small_cnn()
    fresh.load_weights(tmp_path / "w.lepton")
    np.testing.assert_array_equal(fresh.get_weights()[0], model.get_weights()[0])


def test_summary_counts_parameters(capsys):
    model = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(6, (5, 5), activation="relu"),
                              L.MaxPooling2D((2, 2)), L.Flatten(),
                              L.Dense(10, activation="softmax")])
    model.summary()
    out = capsys.readouterr().out
    assert re.search(r"conv2d\S* \(Conv2D\)\s+\(None, 24, 24, 6\)\s+156", out)
    assert re.search(r"\(Flatten\)\s+\(None, 864\)\s+0", out)
    assert "Total params: 8,806" in out and "Non-trainable params: 0" in out


def test_history_plot(tmp_path):
    h = keras.callbacks.History()
    h.history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]}
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"lepton\[plot\]"):
            h.plot(tmp_path / "h.png")
        return
    h.plot(tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:4] == b"\x89PNG"


# ----------------------------------------------------------------------------- errors
def test_seed_program_without_flatten_says_add_flatten(digits):
    x, y, _, _ = digits
    model = keras.Sequential()
    model.add(L.Conv2D(6, (5, 5), activation="relu", input_shape=(28, 28, 1)))
    model.add(L.MaxPooling2D((2, 2)))
    model.add(L.Dense(10, activation="softmax"))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    with pytest.raises(keras.KerasLayerError) as e:
        model.fit(x, keras.utils.to_categorical(y, 10), epochs=1, batch_size=64)
    msg = str(e.value)
    assert "Flatten()" in msg and "(None, 12, 12, 6)" in msg and "Dense" in msg


@pytest.mark.parametrize("case,pattern", [
    ("int_labels_cce", r"to_categorical.*sparse_categorical_crossentropy"),
    ("length", r"different numbers of samples.*512.*100"),
    ("input_shape", r"expects inputs of shape \(None, 28, 28, 1\).*x\[\.\.\., None\]"),
    ("optimizer", r"unknown optimizer 'adamm'.*adam, adamax"),
    ("loss", r"unknown loss 'crossentropy'.*categorical_crossentropy"),
    ("metric", r"unknown metric 'f1'.*accuracy"),
    ("activation", r"unknown activation 'relux'.*relu"),
    ("not_compiled", r"compile the model first"),
])
def test_mistakes_get_clear_errors(digits, case, pattern):
    x, y, _, _ = digits
    model = small_cnn()
    compile_args = dict(optimizer="adam", loss="categorical_crossentropy",
                        metrics=["accuracy"])
    with pytest.raises((ValueError, TypeError, RuntimeError), match=re.compile(pattern, re.S)):
        if case == "int_labels_cce":
            model.compile(**compile_args)
            model.fit(x, y, epochs=1)
        elif case == "length":
            model.compile(**compile_args)
            model.fit(x, keras.utils.to_categorical(y[:100], 10), epochs=1)
        elif case == "input_shape":
            model.compile(**compile_args)
            model.fit(x[..., 0], keras.utils.to_categorical(y, 10), epochs=1)
        elif case == "optimizer":
            model.compile(**{**compile_args, "optimizer": "adamm"})
        elif case == "loss":
            model.compile(**{**compile_args, "loss": "crossentropy"})
        elif case == "metric":
            model.compile(**{**compile_args, "metrics": ["accuracy", "f1"]})
        elif case == "activation":
            L.Dense(3, activation="relux").to_stax()
        elif case == "not_compiled":
            model.fit(x, y)


def test_to_categorical():
    np.testing.assert_array_equal(keras.utils.to_categorical([0, 2, 1], 3),
                                  np.eye(3, dtype=np.float32)[[0, 2, 1]])
    assert keras.utils.to_categorical(np.array([[1], [0]])).shape == (2, 2)
    with pytest.raises(ValueError, match="out of range"):
        keras.utils.to_categorical([3], 3)


def test_leptonic_is_lepton_keras():
    import leptonic
    assert leptonic is keras and leptonic.Sequential is keras.Sequential


# ----------------------------------------------------------------------------- augmentation
def _img(n=3, h=6, w=6, c=2, seed=0):
    return np.random.default_rng(seed).uniform(0, 1, (n, h, w, c)).astype(np.float32)


def _apply(layer, x, key=0, train=True):
    init, apply = layer
    init(random.PRNGKey(0), x.shape)
    return np.asarray(apply((), x, rng=random.PRNGKey(key), train=train))


def test_random_layers_are_identity_in_inference_and_random_in_training():
    x = _img()
    for layer in (stax.RandomFlip(), stax.RandomRotation(0.2), stax.RandomTranslation(0.2, 0.2),
                  stax.RandomZoom(0.3), stax.RandomContrast(0.5, value_range=(0, 1))):
        np.testing.assert_array_equal(_apply(layer, x, train=False), x)
        assert not np.allclose(_apply(layer, x, key=1), x)
        assert not np.allclose(_apply(layer, x, key=1), _apply(layer, x, key=2))
    with pytest.raises(ValueError, match="rng=key"):
        stax.RandomFlip()[1]((), x)


def test_geometric_transforms_against_numpy():
    x = _img(n=1, h=5, w=5, c=1)
    # zero-size ranges are exact identities
    for layer in (stax.RandomRotation(0.0), stax.RandomZoom(0.0),
                  stax.RandomTranslation(0.0, 0.0)):
        np.testing.assert_allclose(_apply(layer, x), x, atol=1e-6)
    # a quarter turn is np.rot90 (either direction: draw from a one-point range)
    quarter = _apply(stax.RandomRotation((0.25, 0.25)), x)[0, :, :, 0]
    assert (np.allclose(quarter, np.rot90(x[0, :, :, 0], 1), atol=1e-5)
            or np.allclose(quarter, np.rot90(x[0, :, :, 0], -1), atol=1e-5))
    # a whole-pixel shift with constant fill is a zero-padded roll
    shifted = _apply(stax.RandomTranslation((0.2, 0.2), (0.0, 0.0), fill_mode="constant"),
                     x)[0, :, :, 0]
    want = np.zeros((5, 5), np.float32)
    want[1:] = x[0, :4, :, 0]
    np.testing.assert_allclose(shifted, want, atol=1e-6)
    # reflect mode mirrors the edge: d c b a | a b c d
    refl = _apply(stax.RandomTranslation((0.4, 0.4), (0.0, 0.0)), x)[0, :, :, 0]
    np.testing.assert_allclose(refl[:2], x[0, 1::-1, :, 0], atol=1e-6)
    np.testing.assert_allclose(refl[2:], x[0, :3, :, 0], atol=1e-6)


def test_random_flip_flips_whole_images():
    x = _img(n=16)
    out = _apply(stax.RandomFlip("horizontal"), x, key=3)
    flipped = [np.array_equal(o, i[:, ::-1]) for o, i in zip(out, x)]
    kept = [np.array_equal(o, i) for o, i in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_rescaling_normalization_and_augmented_fit(digits):
    x, y, xt, yt = digits
    norm = L.Normalization(axis=None)
    norm.adapt(x * 255)
    assert norm.mean == pytest.approx((x * 255).mean(), rel=1e-5)
    model = keras.Sequential([keras.Input((28, 28, 1)), L.Rescaling(1.0), norm,
                              L.RandomRotation(0.05), L.RandomTranslation(0.1, 0.1),
                              L.Conv2D(4, 5, activation="relu"), L.MaxPooling2D(2),
                              L.Flatten(), L.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x * 255, y, batch_size=64, epochs=4, verbose=0)
    _, acc = model.evaluate(xt * 255, yt, verbose=0)
    assert acc > 0.4  # 32 steps on 512 augmented digits (chance: 0.1)
    a, b = model.predict(xt[:8] * 255, verbose=0), model.predict(xt[:8] * 255, verbose=0)
    np.testing.assert_array_equal(a, b)


# ----------------------------------------------------------------------------- optimizers
def _keras_reference(name, cfg, x, grads):
    """Keras 3's update_step formulas in float64 NumPy, run over ``grads`` (one per step)."""
    lr = cfg.get("learning_rate", 0.01 if name == "SGD" else 0.001)
    b1, b2 = cfg.get("beta_1", 0.9), cfg.get("beta_2", 0.999)
    eps = cfg.get("epsilon", 1e-7)
    wd = cfg.get("weight_decay", 0.004 if name == "AdamW" else None)
    x = x.copy()
    m, v, vmax, avg = (np.zeros_like(x) for _ in range(4))
    acc = np.full_like(x, cfg.get("initial_accumulator_value", 0.1))
    for t, g in enumerate(grads, start=1):
        if "clipnorm" in cfg:
            g = g * cfg["clipnorm"] / max(np.sqrt(np.sum(g * g)), cfg["clipnorm"])
        if "clipvalue" in cfg:
            g = np.clip(g, -cfg["clipvalue"], cfg["clipvalue"])
        if wd is not None:
            x = x - x * wd * lr
        if name in ("Adam", "AdamW"):
            alpha = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
            m += (g - m) * (1 - b1)
            v += (g * g - v) * (1 - b2)
            vmax = np.maximum(vmax, v)
            x -= m * alpha / (np.sqrt(vmax if cfg.get("amsgrad") else v) + eps)
        elif name == "Adamax":
            m += (g - m) * (1 - b1)
            v = np.maximum(b2 * v, np.abs(g))
            x -= lr * m / ((1 - b1 ** t) * (v + eps))
        elif name == "Adagrad":
            acc += g * g
            x -= lr * g / np.sqrt(acc + eps)
        elif name == "RMSprop":
            rho, mu = cfg.get("rho", 0.9), cfg.get("momentum", 0.0)
            v = rho * v + (1 - rho) * g * g
            avg = rho * avg + (1 - rho) * g
            denominator = v - avg * avg + eps if cfg.get("centered") else v + eps
            increment = lr * g / np.sqrt(denominator)
            m = mu * m + increment
            x -= m if mu else increment
        elif name == "SGD":
            mu = cfg.get("momentum", 0.0)
            if not mu:
                x -= lr * g
            else:
                m = m * mu - g * lr
                x += m * mu - g * lr if cfg.get("nesterov") else m
    return x


OPTIMIZER_CASES = [
    ("Adam", {}), ("Adam", {"amsgrad": True, "learning_rate": 0.01}),
    ("Adam", {"clipnorm": 0.5}), ("Adam", {"clipvalue": 0.01}),
    ("AdamW", {}), ("Adamax", {"beta_1": 0.8}), ("Adagrad", {}),
    ("Adagrad", {"initial_accumulator_value": 0.0, "epsilon": 1e-3}),
    ("RMSprop", {}), ("RMSprop", {"momentum": 0.9, "centered": True}),
    ("SGD", {}), ("SGD", {"momentum": 0.9}), ("SGD", {"momentum": 0.9, "nesterov": True}),
    ("SGD", {"weight_decay": 0.1}),
]


@pytest.mark.parametrize("name,cfg", OPTIMIZER_CASES,
                         ids=[f"{n}-{'-'.join(c) or 'defaults'}" for n, c in OPTIMIZER_CASES])
def test_optimizer_steps_match_keras_formulas(name, cfg):
    """Each optimizer follows Keras 3's update_step, not JAX's example_libraries form: the
    gradients span 1e-7..1, where Adam's epsilon placement (on sqrt(v), scaled by the bias
    correction) changes the step by up to ~97% at t=1 for the smallest entries."""
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((3, 4))
    scales = np.logspace(-7, 0, 12).reshape(3, 4)
    grads = [rng.standard_normal((3, 4)) * scales for _ in range(6)]
    opt = getattr(keras.optimizers, name)(**cfg)
    init, update, get_params = opt.triple()
    state = init({"w": x0, "b": x0[0]})
    for i, g in enumerate(grads):
        state = update(i, {"w": g, "b": g[0]}, state)
    got = get_params(state)
    np.testing.assert_allclose(np.asarray(got["w"]), _keras_reference(name, cfg, x0, grads),
                               rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(np.asarray(got["b"]),
                               _keras_reference(name, cfg, x0[0], [g[0] for g in grads]),
                               rtol=1e-9, atol=1e-12)


def test_global_clipnorm_clips_all_gradients_together():
    g = {"a": np.array([3.0, 0.0]), "b": np.array([0.0, 4.0])}   # global norm 5
    x = {"a": np.zeros(2), "b": np.zeros(2)}
    for kw, want in [({"global_clipnorm": 1.0}, [-0.6, 0.0, 0.0, -0.8]),
                     ({"clipnorm": 1.0}, [-1.0, 0.0, 0.0, -1.0])]:
        init, update, get_params = keras.optimizers.SGD(1.0, **kw).triple()
        out = get_params(update(0, g, init(x)))
        np.testing.assert_allclose(np.concatenate([out["a"], out["b"]]), want, rtol=1e-12)
    with pytest.raises(ValueError, match="at most one of clipnorm"):
        keras.optimizers.Adam(clipnorm=1.0, global_clipnorm=1.0)


def test_get_weights_has_keras_order_and_shapes():
    """Keras 3's get_weights for this model: [(3, 3, 2, 3), (3,), gamma, beta,
    moving_mean, moving_variance (3,) each, (108, 2), (2,)] -- layer by layer, conv bias
    (filters,), BatchNorm's statistics right after its gamma and beta."""
    model = keras.Sequential([keras.Input((8, 8, 2)), L.Conv2D(3, 3, activation="relu"),
                              L.BatchNormalization(), L.Flatten(), L.Dense(2)])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(3, 3, 2, 3), (3,), (3,), (3,), (3,), (3,),
                                          (108, 2), (2,)]
    rng = np.random.default_rng(1)
    new = [rng.uniform(0.5, 1.5, w.shape).astype(np.float32) for w in weights]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_array_equal(got, want)
    # The statistics went to the BatchNorm state: inference normalises with them.
    x = rng.standard_normal((4, 8, 8, 2)).astype(np.float32)
    conv = np.maximum(np.asarray(_stax_out(stax.Conv(3, (3, 3)), (new[0], new[1]), (), x)), 0)
    gamma, beta, mean, var = new[2:6]
    bn = (conv - mean) / np.sqrt(var + 1e-3) * gamma + beta
    want = bn.reshape(4, -1) @ new[6] + new[7]
    np.testing.assert_allclose(np.asarray(model(x)), want, rtol=1e-4, atol=1e-5)
    # The model's own shapes are accepted too; anything else is refused by name.
    own = [np.asarray(a) for a in lepton.tree.leaves(model.params[0])]
    model.set_weights([own[0], own[1].reshape(1, 1, 1, 3)] + new[2:])
    with pytest.raises(ValueError, match=r"array 1 \(layer .*conv2d.*\) has shape \(4,\), "
                                         r"the model needs \(3,\)"):
        model.set_weights([new[0], np.zeros(4)] + new[2:])
    ln = keras.Sequential([keras.Input((6,)), L.LayerNormalization()])
    gamma, beta = ln.get_weights()   # Keras's order; initially ones and zeros
    assert np.all(gamma == 1) and np.all(beta == 0)


# ----------------------------------------------------------------------------- Keras's RNN layout
def _sig(v):
    return 1 / (1 + np.exp(-v))


def keras_rnn_reference(kind, weights, x, reset_after=True, go_backwards=False,
                        return_sequences=False):
    """Keras 3's recurrent cells in NumPy (float64), on Keras's weight layout: LSTM gates
    (i, f, c, o), GRU gates (z, r, h) with a (2, 3u) bias when reset_after, else (3u,)."""
    kernel, recurrent, bias = (np.asarray(w, np.float64) for w in weights)
    u = recurrent.shape[0]
    h = np.zeros((x.shape[0], u))
    c = np.zeros_like(h)
    steps = range(x.shape[1])
    outs = []
    for t in (reversed(steps) if go_backwards else steps):
        xt = x[:, t].astype(np.float64)
        if kind == "SimpleRNN":
            h = np.tanh(xt @ kernel + h @ recurrent + bias)
        elif kind == "LSTM":
            zz = xt @ kernel + h @ recurrent + bias
            i, f, g, o = (zz[:, k * u:(k + 1) * u] for k in range(4))
            c = _sig(f) * c + _sig(i) * np.tanh(g)
            h = _sig(o) * np.tanh(c)
        elif reset_after:
            xz = xt @ kernel + bias[0]
            hz = h @ recurrent + bias[1]
            z = _sig(xz[:, :u] + hz[:, :u])
            r = _sig(xz[:, u:2 * u] + hz[:, u:2 * u])
            hh = np.tanh(xz[:, 2 * u:] + r * hz[:, 2 * u:])
            h = z * h + (1 - z) * hh
        else:
            xz = xt @ kernel + bias
            z = _sig(xz[:, :u] + h @ recurrent[:, :u])
            r = _sig(xz[:, u:2 * u] + h @ recurrent[:, u:2 * u])
            hh = np.tanh(xz[:, 2 * u:] + (r * h) @ recurrent[:, 2 * u:])
            h = z * h + (1 - z) * hh
        outs.append(h)
    return np.stack(outs, 1) if return_sequences else h


RNN_CASES = [
    ("GRU", {}, [(4, 15), (5, 15), (2, 15)]),
    ("GRU", {"reset_after": False}, [(4, 15), (5, 15), (15,)]),
    ("GRU", {"go_backwards": True, "return_sequences": True}, [(4, 15), (5, 15), (2, 15)]),
    ("LSTM", {"return_sequences": True}, [(4, 20), (5, 20), (20,)]),
    ("LSTM", {"go_backwards": True}, [(4, 20), (5, 20), (20,)]),
    ("SimpleRNN", {"go_backwards": True, "return_sequences": True}, [(4, 5), (5, 5), (5,)]),
]


@pytest.mark.parametrize("kind,kw,shapes", RNN_CASES,
                         ids=[f"{c[0]}-{'-'.join(c[1]) or 'default'}" for c in RNN_CASES])
def test_recurrent_layers_take_keras_weights_and_give_keras_outputs(kind, kw, shapes):
    """Keras's weights (its layout and gate order) set on the lepton layer give Keras's
    outputs; go_backwards with return_sequences returns them in reading order, as Keras."""
    model = keras.Sequential([keras.Input((6, 4)), getattr(L, kind)(5, **kw)])
    assert [w.shape for w in model.get_weights()] == shapes
    rng = np.random.default_rng(3)
    ws = [rng.uniform(-0.6, 0.6, s).astype(np.float32) for s in shapes]
    model.set_weights(ws)
    for got, want in zip(model.get_weights(), ws):
        np.testing.assert_array_equal(got, want)
    x = rng.standard_normal((3, 6, 4)).astype(np.float32)
    want = keras_rnn_reference(kind, ws, x, **kw)
    np.testing.assert_allclose(np.asarray(model(x)), want, rtol=1e-5, atol=1e-5)


def test_bidirectional_gru_weights_are_forward_then_backward_in_keras_layout(tmp_path):
    model = keras.Sequential([keras.Input((5, 2)), L.Bidirectional(L.GRU(3))])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(2, 9), (3, 9), (2, 9)] * 2
    rng = np.random.default_rng(4)
    ws = [rng.uniform(-0.6, 0.6, w.shape).astype(np.float32) for w in weights]
    model.set_weights(ws)
    x = rng.standard_normal((2, 5, 2)).astype(np.float32)
    want = np.concatenate([keras_rnn_reference("GRU", ws[:3], x),
                           keras_rnn_reference("GRU", ws[3:], x, go_backwards=True)], -1)
    np.testing.assert_allclose(np.asarray(model(x)), want, rtol=1e-5, atol=1e-5)
    # save / load round-trips through the translation
    path = str(tmp_path / "bigru.lepton")
    model.save_weights(path)
    twin = keras.Sequential([keras.Input((5, 2)), L.Bidirectional(L.GRU(3))])
    twin.load_weights(path)
    for a, b in zip(twin.get_weights(), ws):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match=r"array 2 \(layer .*gru.*\) has shape \(9,\), the "
                                         r"model needs \(2, 9\)"):
        model.set_weights(ws[:2] + [np.zeros(9)] + ws[3:])


def test_recurrent_layers_refuse_unsupported_keras_options_by_name():
    with pytest.raises(NotImplementedError, match="stateful=True is not supported"):
        L.LSTM(4, stateful=True)
    with pytest.raises(NotImplementedError,
                       match="only recurrent_activation='sigmoid'.*got 'hard_sigmoid'"):
        L.GRU(4, recurrent_activation="hard_sigmoid")
    # Keras's initializer arguments are honoured
    model = keras.Sequential([keras.Input((3, 2)), L.LSTM(2, kernel_initializer="zeros",
                                                         unit_forget_bias=False)])
    kernel, _, bias = model.get_weights()
    assert np.all(kernel == 0) and np.all(bias == 0)
    model = keras.Sequential([keras.Input((3, 2)), L.LSTM(2)])
    assert np.all(model.get_weights()[2][2:4] == 1)  # unit_forget_bias


# ----------------------------------------------------------------------------- layer seeds
def _dropout_then_dense(seed, aug=None):
    layers = [keras.Input((6, 6, 1))]
    layers += [aug] if aug is not None else []
    layers += [L.Flatten(), L.Dropout(0.5, seed=seed), L.Dense(1, use_bias=False)]
    model = keras.Sequential(layers)
    model.build(seed=0)  # identical initial weights in every model
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    return model


def _trained_weights(seed, fit_seed, aug=None):
    """After two SGD steps, the Dense weights record which inputs dropout kept."""
    model = _dropout_then_dense(seed, aug() if aug else None)
    x = np.random.default_rng(0).uniform(1, 2, (8, 6, 6, 1)).astype(np.float32)
    model.fit(x, np.zeros((8, 1), np.float32), batch_size=4, epochs=1, verbose=0,
              shuffle=False, seed=fit_seed)
    return model.get_weights()[0]


def test_dropout_seed_fixes_its_masks_whatever_the_model_and_fit_seed():
    a = _trained_weights(7, fit_seed=1)
    np.testing.assert_array_equal(a, _trained_weights(7, fit_seed=2))
    assert not np.array_equal(a, _trained_weights(8, fit_seed=1))
    # unseeded layers follow fit's stream (seeded globally by set_random_seed)
    assert not np.array_equal(_trained_weights(None, fit_seed=1),
                              _trained_weights(None, fit_seed=2))
    np.testing.assert_array_equal(_trained_weights(None, fit_seed=1),
                                  _trained_weights(None, fit_seed=1))


@pytest.mark.parametrize("make", [
    lambda s: L.RandomFlip("horizontal", seed=s),
    lambda s: L.RandomRotation(0.2, seed=s),
    lambda s: L.RandomTranslation(0.2, 0.2, seed=s),
    lambda s: L.RandomZoom(0.2, seed=s),
    lambda s: L.RandomContrast(0.5, value_range=(0, 2), seed=s),
], ids=["flip", "rotation", "translation", "zoom", "contrast"])
def test_augmentation_seed_fixes_its_draws(make):
    """The augmentation's own seed fixes its draws (dropout seeded too, so only the
    augmentation could differ)."""
    a = _trained_weights(3, fit_seed=1, aug=lambda: make(11))
    np.testing.assert_array_equal(a, _trained_weights(3, fit_seed=2, aug=lambda: make(11)))
    assert not np.array_equal(a, _trained_weights(3, fit_seed=1, aug=lambda: make(12)))


def test_call_with_training_true_applies_seeded_dropout():
    x = np.ones((4, 6, 6, 1), np.float32)
    m1, m2 = _dropout_then_dense(5), _dropout_then_dense(5)
    first = np.asarray(m1(x, training=True))
    np.testing.assert_array_equal(first, np.asarray(m2(x, training=True)))
    assert not np.array_equal(first, np.asarray(m1(x, training=True)))  # stream advances
    np.testing.assert_array_equal(np.asarray(m1(x)), np.asarray(m1(x)))


def test_dropout_noise_shape_shares_the_mask_and_seed_is_checked():
    model = keras.Sequential([keras.Input((5, 3)), L.Dropout(0.5, noise_shape=(None, 1, 3),
                                                               seed=1)])
    out = np.asarray(model(np.ones((4, 5, 3), np.float32), training=True))
    assert set(np.unique(out)) <= {0.0, 2.0}
    assert np.all(out == out[:, :1, :])  # one mask for all 5 rows of an example
    with pytest.raises(TypeError, match="seed must be None or an int"):
        L.Dropout(0.5, seed=1.5)
    with pytest.raises(TypeError, match="seed must be None or an int"):
        L.RandomFlip(seed="a")


def test_use_bias_false_has_no_bias_weight():
    model = keras.Sequential([keras.Input((5, 5, 1)), L.Conv2D(2, 3, use_bias=False),
                              L.Flatten(), L.Dense(3, use_bias=False, activation="relu")])
    kernel, dense = model.get_weights()
    assert kernel.shape == (3, 3, 1, 2) and dense.shape == (18, 3)
    assert model.count_params() == 18 + 54
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 1)).astype(np.float32)
    conv = np.asarray(_stax_out(stax.Conv(2, (3, 3)), (kernel, np.zeros(2, np.float32)), (),
                                x))
    want = np.maximum(conv.reshape(2, -1) @ dense, 0)
    np.testing.assert_allclose(np.asarray(model(x)), want, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------ sample weights, lr callbacks
def _linear_model(lr=0.1):
    model = keras.Sequential([keras.Input((3,)), L.Dense(2, activation="softmax")])
    model.build(seed=0)
    model.compile(optimizer=keras.optimizers.SGD(lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _linear_data(n=12):
    rng = np.random.default_rng(5)
    return rng.standard_normal((n, 3)).astype(np.float32), rng.integers(0, 2, n)


def test_sample_weight_scales_each_examples_loss_as_keras():
    """Keras's batch loss is sum(w * loss) / batch: weights 0 on the last 4 of 12 examples
    train like the first 8 alone at 8/12 of the learning rate."""
    x, y = _linear_data()
    w = np.r_[np.ones(8), np.zeros(4)]
    a = _linear_model(0.3)
    h = a.fit(x, y, batch_size=12, epochs=3, sample_weight=w, verbose=0)
    b = _linear_model(0.3 * 8 / 12)
    b.fit(x[:8], y[:8], batch_size=8, epochs=3, verbose=0)
    for p, q in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)
    # the logged loss and evaluate(sample_weight=) are weighted the same way
    c = _linear_model()
    per_example = -np.log(c.predict(x, verbose=0)[np.arange(12), y])
    assert c.evaluate(x, y, sample_weight=2 * w, verbose=0)[0] == \
        pytest.approx(np.mean(2 * w * per_example), rel=1e-5)
    acc = c.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)["accuracy"]
    assert acc == pytest.approx(np.mean(c.predict(x, verbose=0).argmax(1) == y))  # unweighted
    assert h.history["loss"][0] == pytest.approx(np.mean(w * per_example), rel=1e-5)


def test_class_weight_equals_the_matching_sample_weight():
    x, y = _linear_data()
    table = np.array([2.0, 0.5])
    runs = []
    for kw, yy in [({"class_weight": {0: 2.0, 1: 0.5}}, y),
                   ({"class_weight": {0: 2.0, 1: 0.5}}, None),
                   ({"sample_weight": table[y]}, y)]:
        model = _linear_model()
        if yy is None:  # one-hot targets: the class is the argmax
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy")
            yy = keras.utils.to_categorical(y, 2)
        model.fit(x, yy, batch_size=4, epochs=2, shuffle=False, verbose=0, **kw)
        runs.append(model.get_weights())
    for other in runs[1:]:
        for p, q in zip(runs[0], other):
            np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)
    model = _linear_model()
    with pytest.raises(ValueError, match="sample_weight or class_weight, not both"):
        model.fit(x, y, class_weight={0: 1.0}, sample_weight=np.ones(12), verbose=0)
    with pytest.raises(keras.KerasInputError, match=r"one weight per example, shape \(12,\)"):
        model.fit(x, y, sample_weight=np.ones(11), verbose=0)


def test_validation_split_holds_out_as_many_samples_as_keras():
    """Keras keeps floor(n * (1 - split)) for training: 10 samples at 0.15 -> 8 + 2."""
    x, y = _linear_data(10)
    model = _linear_model()
    h = model.fit(x, y, batch_size=10, epochs=1, validation_split=0.15, verbose=0)
    # the validation loss is that of the last 2 samples under the trained weights
    assert h.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[8:], y[8:], verbose=0)[0], rel=1e-5)
    assert h.history["val_loss"][0] != pytest.approx(
        model.evaluate(x[9:], y[9:], verbose=0)[0], rel=1e-5)


def test_learning_rate_scheduler_changes_the_rate_without_recompiling():
    x, y = _linear_data()
    model = _linear_model(0.1)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    before = lepton.cache_info().numba_compiles
    snaps = []

    class Snap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snaps.append(self.model.get_weights()[0])

    sched = keras.callbacks.LearningRateScheduler(lambda e, lr: lr / 2 if e < 2 else 0.0)
    h = model.fit(x, y, batch_size=4, epochs=4, verbose=0, callbacks=[sched, Snap()])
    assert h.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0, 0.0])
    assert not np.array_equal(snaps[0], snaps[1])
    np.testing.assert_array_equal(snaps[2], snaps[1])  # lr 0: nothing moves
    assert lepton.cache_info().numba_compiles == before
    one_arg = keras.callbacks.LearningRateScheduler(lambda e: 0.01 * (e + 1))
    h = model.fit(x, y, epochs=2, verbose=0, callbacks=[one_arg])
    assert h.history["learning_rate"] == pytest.approx([0.01, 0.02])
    bad = keras.callbacks.LearningRateScheduler(lambda e, lr: "fast")
    with pytest.raises(ValueError, match="must return a number"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[bad])


def test_reduce_lr_on_plateau_follows_keras_rule():
    x, y = _linear_data()
    model = _linear_model(0.1)
    # min_delta so large that only the first epoch counts as an improvement
    cb = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                           min_delta=1e9, min_lr=0.02)
    h = model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[cb])
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.025, 0.02])
    model = _linear_model(0.1)
    cb = keras.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                           min_delta=1e9, cooldown=2)
    h = model.fit(x, y, batch_size=4, epochs=5, verbose=0, callbacks=[cb])
    # Keras counts the cooldown down before testing it: cooldown=2 skips one epoch
    assert h.history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    sched = keras.Sequential([keras.Input((3,)), L.Dense(2)])
    sched.compile(optimizer=keras.optimizers.SGD(lambda i: 0.1), loss="mse")
    with pytest.raises(TypeError, match="learning rate, but it is a schedule"):
        sched.fit(x, np.zeros((12, 2)), epochs=1, verbose=0,
                  callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="loss")])


def test_terminate_on_nan_stops_at_the_batch(capsys):
    x, y = _linear_data()
    x[5] = np.nan
    model = _linear_model()
    seen = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(batch)

    h = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0,
                  callbacks=[keras.callbacks.TerminateOnNaN(), Count()])
    assert seen == [0, 1] and len(h.history["loss"]) == 1
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_save_load_keeps_seeds_and_recurrent_options(tmp_path):
    model = keras.Sequential([keras.Input((4, 3)), L.RandomContrast(0.2, value_range=(0, 1),
                                                                     seed=4),
                              L.GRU(5, reset_after=False, return_sequences=True,
                                    go_backwards=True),
                              L.Dropout(0.3, noise_shape=(None, 1, 5), seed=9),
                              L.LSTM(2, unit_forget_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer="adam", loss="mse")
    path = str(tmp_path / "m.lepton")
    model.save(path)
    twin = keras.models.load_model(path)
    assert [l.get_config() for l in twin.layers] == \
        json.loads(json.dumps([l.get_config() for l in model.layers]))
    assert twin.layers[0].seed == 4 and twin.layers[2].seed == 9
    x = np.random.default_rng(0).uniform(0, 1, (2, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(twin(x)), np.asarray(model(x)))


def test_validation_freq_and_batch_size():
    x, y = _linear_data()
    model = _linear_model()
    h = model.fit(x, y, epochs=4, verbose=0, validation_data=(x[:5], y[:5]),
                  validation_freq=2, validation_batch_size=2)
    assert len(h.history["loss"]) == 4 and len(h.history["val_loss"]) == 2
    assert h.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x[:5], y[:5], verbose=0)[0], rel=1e-5)
    h = model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, validation_freq=[1, 3])
    assert len(h.history["val_loss"]) == 2
    with pytest.raises(ValueError, match="validation_freq must be >= 1"):
        model.fit(x, y, verbose=0, validation_split=0.25, validation_freq=0)


def test_layer_get_and_set_weights_go_through_the_model():
    model = keras.Sequential([keras.Input((4, 2)), L.GRU(3), L.Dense(2)])
    gru, dense = model.layers
    assert [w.shape for w in gru.get_weights()] == [(2, 9), (3, 9), (2, 9)]
    kernel, bias = dense.get_weights()
    dense.set_weights([np.ones_like(kernel), np.full(2, 0.5, np.float32)])
    np.testing.assert_array_equal(model.get_weights()[3], np.ones((3, 2)))
    np.testing.assert_array_equal(model.get_weights()[4], [0.5, 0.5])
    new = [np.full(w.shape, 0.1, np.float32) for w in gru.get_weights()]
    gru.set_weights(new)
    for got, want in zip(model.get_weights()[:3], new):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="layer 'dense.*' has 2 weight arrays, got 1"):
        dense.set_weights([kernel])
    with pytest.raises(ValueError, match="has no weights yet; put it in a Sequential"):
        L.Dense(3).get_weights()


def test_set_weights_keeps_the_optimizer_moments():
    """Keras's set_weights leaves Adam's moments alone (only the weights change)."""
    x, y = _linear_data()
    model = _linear_model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    w0 = model.get_weights()
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    before = [[np.array(a) for a in per_param[1:]]
              for per_param in model._opt_state.packed_state]
    assert any(np.any(m != 0) for slots in before for m in slots)
    model.set_weights(w0)
    after = model._opt_state.packed_state
    for slots, per_param in zip(before, after):
        for m, n in zip(slots, per_param[1:]):
            np.testing.assert_array_equal(m, np.asarray(n))
    np.testing.assert_array_equal(np.asarray(after[0][0]), w0[0])
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)  # and training goes on from there


def test_weights_set_by_a_callback_are_trained_on():
    x, y = _linear_data()
    model = _linear_model()
    zeros = [np.zeros_like(w) for w in model.get_weights()]

    class Reset(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                self.model.set_weights(zeros)

    twin = _linear_model()
    twin.set_weights(zeros)
    model.fit(x, y, batch_size=12, epochs=2, verbose=0, callbacks=[Reset()])
    twin.fit(x, y, batch_size=12, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), twin.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_pop_and_add_keep_the_other_layers_weights():
    """Keras's head swap: pop() the last layer, add() a new one; the rest keep their
    (trained) weights."""
    x, y = _linear_data()
    model = keras.Sequential([keras.Input((3,)), L.Dense(4, activation="relu"), L.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.zeros((12, 2)), epochs=1, verbose=0)
    body = model.layers[0].get_weights()
    popped = model.pop()
    assert isinstance(popped, L.Dense) and len(model.layers) == 1
    model.add(L.Dense(3, activation="softmax"))
    assert model.output_shape == (None, 3) and model.metrics_names == ["loss"]
    for a, b in zip(model.layers[0].get_weights(), body):
        np.testing.assert_array_equal(a, b)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    assert model.metrics_names == ["loss", "accuracy"]
    model.fit(x, np.minimum(y, 2), epochs=1, verbose=0)
    with pytest.raises(keras.KerasLayerError, match="layer 2 of the model"):
        model.add(L.Conv2D(2, 3))
    assert len(model.layers) == 2
    model.pop(), model.pop()
    with pytest.raises(TypeError, match="no layers"):
        model.pop()


def test_lambda_callback():
    x, y = _linear_data()
    ends = []
    cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: ends.append(
        (e, round(logs["loss"], 6))))
    h = _linear_model().fit(x, y, epochs=2, verbose=0, callbacks=[cb])
    assert ends == [(0, round(h.history["loss"][0], 6)), (1, round(h.history["loss"][1], 6))]
    with pytest.raises(TypeError, match="unknown hooks"):
        keras.callbacks.LambdaCallback(on_batch_ends=print)


def test_weighted_metrics_use_the_sample_weights(tmp_path):
    x, y = _linear_data()
    w = np.r_[np.full(6, 3.0), np.full(6, 0.5)]
    model = _linear_model(0.0)  # lr 0: the logged metrics are those of the fixed weights
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"],
                  weighted_metrics=["accuracy", "sparse_categorical_accuracy"])
    assert model.metrics_names == ["loss", "accuracy", "weighted_accuracy",
                                   "sparse_categorical_accuracy"]
    hit = model.predict(x, verbose=0).argmax(1) == y
    h = model.fit(x, y, batch_size=5, epochs=1, sample_weight=w, verbose=0,
                  validation_data=(x, y, w))
    assert h.history["accuracy"][0] == pytest.approx(hit.mean())
    assert h.history["weighted_accuracy"][0] == pytest.approx(np.sum(w * hit) / w.sum())
    assert h.history["val_weighted_accuracy"][0] == pytest.approx(np.sum(w * hit) / w.sum())
    logs = model.evaluate(x, y, verbose=0, return_dict=True)  # no weights: plain means
    assert logs["weighted_accuracy"] == pytest.approx(hit.mean())
    path = str(tmp_path / "m.lepton")
    model.save(path)
    assert keras.models.load_model(path).metrics_names == model.metrics_names
