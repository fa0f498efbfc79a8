"""lepton.keras's functional API (keras.Input / layer calls / keras.Model), the merge
layers, masking through the recurrent layers, return_state and recurrent dropout:
against Keras 3 with the same weights where it is installed, and Keras-free checks of
shapes, training, saving and the error messages."""
from __future__ import annotations

import io
import random as pyrandom
import re

import numpy as np
import pytest

import lepton.keras as keras
from lepton import numpy as lnp
from lepton.keras import layers as L
from lepton.keras import seeding
from tests.peers import keras3


@pytest.fixture(autouse=True)
def _seeded():
    """Seed 0 for each test, and the global random state given back afterwards: tests
    elsewhere that draw unseeded weights see what they would without this file."""
    saved = (seeding._generator, np.random.get_state(), pyrandom.getstate())
    keras.utils.set_random_seed(0)
    yield
    seeding._generator = saved[0]
    np.random.set_state(saved[1])
    pyrandom.setstate(saved[2])


def rand(*shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def copy_weights(ours, theirs):
    """Keras's weights into our model, layer by layer (by name)."""
    for layer in theirs.layers:
        w = layer.get_weights()
        if w:
            ours.get_layer(layer.name).set_weights(w)


def two_in_two_out(lib, merge="concatenate"):
    a = lib.Input(shape=(3,), name="a")
    b = lib.Input(shape=(3,), name="b")
    x = getattr(lib.layers, merge)([a, b], name="merge")
    h = lib.layers.Dense(4, activation="tanh", name="hidden")(x)
    reg = lib.layers.Dense(1, name="reg")(h)
    cls = lib.layers.Dense(3, activation="softmax", name="cls")(h)
    return lib.Model(inputs=[a, b], outputs=[reg, cls], name="two")


# ---------------------------------------------------------------------- structure
def test_graph_structure_layers_inputs_outputs_and_get_layer():
    m = two_in_two_out(keras)
    assert [layer.name for layer in m.layers] == ["a", "b", "merge", "hidden", "reg", "cls"]
    assert [t.shape for t in m.inputs] == [(None, 3), (None, 3)]
    assert [t.shape for t in m.outputs] == [(None, 1), (None, 3)]
    assert m.output_names == ["reg", "cls"]
    assert m.get_layer("hidden") is m.layers[3]
    assert m.count_params() == 6 * 4 + 4 + 5 + 15
    assert keras.Model is keras.models.Model is keras.Functional
    seq = keras.Sequential([keras.Input((3,)), L.Dense(1)])
    assert isinstance(m, keras.Model) and isinstance(seq, keras.Model)  # as Keras
    assert not isinstance(m, keras.Sequential)
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        m.get_layer("nope")


def test_positional_single_input_output_and_name():
    x = keras.Input((4,))
    y = L.Dense(2)(L.Dense(3, activation="relu")(x))
    m = keras.Model(x, y, name="net")
    assert m.name == "net" and m.input_shape == (None, 4) and m.output_shape == (None, 2)
    out = m.predict(rand(5, 4), verbose=0)
    assert out.shape == (5, 2)
    np.testing.assert_allclose(np.asarray(m(rand(5, 4))), out, rtol=1e-6)


def test_summary_lists_connected_to():
    m = two_in_two_out(keras)
    buf = io.StringIO()
    m.summary(print_fn=lambda s: buf.write(s))
    text = buf.getvalue()
    assert re.search(r"merge \(Concatenate\)\s+\(None, 6\)\s+0\s+a\[0\]\[0\], "
                     r"b\[0\]\[0\]", text)
    assert re.search(r"cls \(Dense\)\s+\(None, 3\)\s+15\s+hidden\[0\]\[0\]", text)
    assert "Total params: 48" in text


def test_shared_layer_has_one_set_of_weights():
    a, b = keras.Input((3,)), keras.Input((3,))
    shared = L.Dense(2, name="shared")
    m = keras.Model([a, b], L.subtract([shared(a), shared(b)]))
    assert m.count_params() == 8
    x = rand(4, 3)
    np.testing.assert_allclose(m.predict([x, x], verbose=0), 0, atol=1e-7)
    w, bias = m.get_layer("shared").get_weights()
    x2 = rand(4, 3, seed=1)
    np.testing.assert_allclose(m.predict([x, x2], verbose=0), (x - x2) @ w, rtol=1e-5,
                               atol=1e-6)
    # a shared layer trains as one: its gradient sums over both calls
    m.compile(keras.optimizers.SGD(0.1), "mse")
    m.fit([x, x2], rand(4, 2, seed=2), verbose=0, epochs=2)
    assert len(m.get_weights()) == 2


def test_models_sharing_layers_share_weights_as_in_the_keras_autoencoder_tutorial():
    x = keras.Input((3,))
    code = L.Dense(2, activation="relu", name="enc")(x)
    auto = keras.Model(x, L.Dense(3, name="dec")(code))
    encoder = keras.Model(x, code)  # made before training, as in the Keras tutorial
    before = encoder.get_weights()[0].copy()
    auto.compile("adam", "mse")
    auto.fit(rand(8, 3), rand(8, 3), verbose=0, epochs=2)
    w, b = auto.get_weights()[:2]
    assert not np.allclose(w, before)
    np.testing.assert_array_equal(encoder.get_weights()[0], w)  # training moved both
    np.testing.assert_allclose(encoder.predict(rand(2, 3), verbose=0),
                               np.maximum(rand(2, 3) @ w + b, 0), rtol=1e-5, atol=1e-6)
    # training the encoder alone moves the autoencoder's encoder, and the autoencoder's
    # next fit goes on from there (its optimizer slots kept)
    encoder.compile("sgd", "mse")
    encoder.fit(rand(8, 3), rand(8, 2), verbose=0)
    np.testing.assert_array_equal(auto.get_weights()[0], encoder.get_weights()[0])
    moved = encoder.get_weights()[0].copy()
    auto.train_on_batch(rand(4, 3), rand(4, 3))
    assert np.abs(auto.get_weights()[0] - moved).max() < 0.01  # one small Adam step away
    # a model over layers already built with another input size is refused
    other = keras.Input((5,))
    with pytest.raises(keras.KerasLayerError, match="is shared"):
        auto.get_layer("enc")(other)


# ---------------------------------------------------------------------- training
def test_multi_input_multi_output_fit_evaluate_predict_and_logs():
    m = two_in_two_out(keras)
    m.compile("adam", loss={"reg": "mse", "cls": "sparse_categorical_crossentropy"},
              metrics={"cls": "accuracy"}, loss_weights={"reg": 1.0, "cls": 0.5})
    xa, xb = rand(8, 3), rand(8, 3, seed=1)
    y = [rand(8, 1, seed=2), np.arange(8) % 3]
    hist = m.fit({"a": xa, "b": xb}, y, batch_size=4, epochs=2, verbose=0)
    assert set(hist.history) == {"loss", "reg_loss", "cls_loss", "cls_accuracy"}
    loss, reg, cls, acc = m.evaluate([xa, xb], y, verbose=0)
    np.testing.assert_allclose(loss, reg + 0.5 * cls, rtol=1e-5)
    assert m.metrics_names == ["loss", "reg_loss", "cls_loss", "cls_accuracy"]
    p = m.predict((xa, xb), batch_size=3, verbose=0)
    assert isinstance(p, list) and [q.shape for q in p] == [(8, 1), (8, 3)]
    np.testing.assert_allclose(p[1].sum(-1), 1, rtol=1e-5)
    # the evaluated regression loss is the mse of the predictions
    np.testing.assert_allclose(reg, np.mean((p[0] - y[0]) ** 2), rtol=1e-4)
    # a generator of (x-list, y-dict) batches trains too
    gen = (([xa[i:i + 4], xb[i:i + 4]], {"reg": y[0][i:i + 4], "cls": y[1][i:i + 4]})
           for i in (0, 4))
    with pytest.warns(UserWarning, match="ran out of data"):  # Keras warns as well
        m.fit(gen, epochs=2, verbose=0)


def test_one_loss_for_every_output_and_list_losses():
    m = two_in_two_out(keras)
    m.compile("sgd", loss="mse")
    y = [rand(6, 1), rand(6, 3)]
    logs = m.evaluate([rand(6, 3), rand(6, 3)], y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], logs["reg_loss"] + logs["cls_loss"], rtol=1e-5)


def test_save_load_round_trip_keeps_graph_weights_and_optimizer(tmp_path):
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = L.Dense(3, activation="relu", name="shared")
    s = L.add([shared(a), shared(b)])
    out = L.Dense(2, activation="softmax", name="out")(L.Dropout(0.2)(s))
    m = keras.Model({"a": a, "b": b}, out)
    m.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    x = {"a": rand(8, 3), "b": rand(8, 3, seed=1)}
    y = keras.utils.to_categorical(np.arange(8) % 2, 2)
    m.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "m.lepton"
    m.save(path)
    m2 = keras.load_model(path)
    assert isinstance(m2, keras.Model)
    assert [layer.name for layer in m2.layers] == [layer.name for layer in m.layers]
    np.testing.assert_allclose(m2.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)
    h1 = m.fit(x, y, epochs=1, verbose=0, shuffle=False, seed=3).history
    h2 = m2.fit(x, y, epochs=1, verbose=0, shuffle=False, seed=3).history
    np.testing.assert_allclose(h2["loss"], h1["loss"], rtol=1e-5)
    m.save_weights(tmp_path / "w.lepton")
    m3 = keras.models.load_model(path)
    m3.load_weights(tmp_path / "w.lepton")
    np.testing.assert_allclose(m3.predict(x, verbose=0), m.predict(x, verbose=0), rtol=1e-6)


def test_multi_output_save_load_keeps_losses_and_metrics(tmp_path):
    m = two_in_two_out(keras)
    m.compile("adam", loss=["mse", "sparse_categorical_crossentropy"],
              metrics=[[], ["accuracy"]], loss_weights=[2.0, 1.0])
    m.save(tmp_path / "m.lepton")
    m2 = keras.load_model(tmp_path / "m.lepton")
    x, y = [rand(4, 3), rand(4, 3)], [rand(4, 1), np.arange(4) % 3]
    np.testing.assert_allclose(m2.evaluate(x, y, verbose=0), m.evaluate(x, y, verbose=0),
                               rtol=1e-6)


@pytest.mark.parametrize("merge", ["Add", "Subtract", "Multiply", "Average", "Maximum",
                                   "Minimum", "Concatenate"])
def test_merge_layers_compute_their_operation(merge):
    a, b = keras.Input((2, 3)), keras.Input((2, 3))
    m = keras.Model([a, b], getattr(L, merge)()([a, b]))
    x, z = rand(4, 2, 3), rand(4, 2, 3, seed=1)
    want = {"Add": x + z, "Subtract": x - z, "Multiply": x * z, "Average": (x + z) / 2,
            "Maximum": np.maximum(x, z), "Minimum": np.minimum(x, z),
            "Concatenate": np.concatenate([x, z], -1)}[merge]
    np.testing.assert_allclose(m.predict([x, z], verbose=0), want, rtol=1e-6)


def test_merge_three_inputs_broadcast_and_operators():
    a, b, c = keras.Input((3,)), keras.Input((1,)), keras.Input((3,))
    m = keras.Model([a, b, c], [L.add([a, b, c]), a * c, a - c])
    x, z, w = rand(2, 3), rand(2, 1, seed=1), rand(2, 3, seed=2)
    s, p, d = m.predict([x, z, w], verbose=0)
    np.testing.assert_allclose(s, x + z + w, rtol=1e-6)
    np.testing.assert_allclose(p, x * w, rtol=1e-6)
    np.testing.assert_allclose(d, x - w, rtol=1e-6)


@pytest.mark.parametrize("axes,normalize,shapes", [
    (1, False, [(4,), (4,)]), (1, True, [(4,), (4,)]), ((2, 1), False, [(2, 3), (3, 5)]),
    ((1, 1), False, [(3, 2), (3, 4)])])
def test_dot_as_batch_dot(axes, normalize, shapes):
    a, b = keras.Input(shapes[0]), keras.Input(shapes[1])
    m = keras.Model([a, b], L.Dot(axes=axes, normalize=normalize)([a, b]))
    x, z = rand(3, *shapes[0]), rand(3, *shapes[1], seed=1)
    got = m.predict([x, z], verbose=0)
    ax = (axes, axes) if isinstance(axes, int) else axes
    if normalize:
        x = x / np.linalg.norm(x, axis=ax[0], keepdims=True)
        z = z / np.linalg.norm(z, axis=ax[1], keepdims=True)
    want = np.stack([np.tensordot(x[i], z[i], (ax[0] - 1, ax[1] - 1)) for i in range(3)])
    want = want.reshape(3, -1) if want.ndim == 1 else want
    np.testing.assert_allclose(got, want, rtol=1e-5)
    assert m.output_shape == (None,) + want.shape[1:]


# ---------------------------------------------------------------------- errors
def test_an_output_that_does_not_come_from_the_inputs_is_refused():
    a, b = keras.Input((3,), name="in_a"), keras.Input((3,), name="in_b")
    out = L.add([L.Dense(3)(a), b])
    with pytest.raises(ValueError, match=r"depends on the Input 'in_b'.*Pass it in inputs"):
        keras.Model(a, out)


def test_mismatched_merge_shapes_name_them_at_the_call():
    a, b = keras.Input((3,)), keras.Input((4,))
    with pytest.raises(keras.KerasLayerError, match=r"same shape.*\(None, 3\), \(None, 4\)"):
        L.Add()([a, b])
    with pytest.raises(keras.KerasLayerError, match=r"every axis but the one joined"):
        L.Concatenate(axis=1)([keras.Input((2, 3)), keras.Input((2, 4))])
    with pytest.raises(keras.KerasLayerError, match="exactly 2 inputs"):
        L.Subtract()([a, a, a])
    with pytest.raises(TypeError, match=r"merges a list of tensors"):
        L.Add()(a)


def test_layer_called_on_an_array_or_wrong_input_explains_the_functional_api():
    with pytest.raises(TypeError, match=r"called on ndarray.*keras.Input\(shape=\.\.\.\)"):
        L.Dense(2)(np.ones((2, 3), np.float32))
    with pytest.raises(keras.KerasLayerError, match=r"Conv2D 'c2' cannot take input of "
                                                    r"shape \(None, 5\)"):
        L.Conv2D(2, 3, name="c2")(keras.Input((5,)))
    with pytest.raises(TypeError, match="symbolic"):
        np.asarray(keras.Input((3,)))


def test_shared_layer_on_another_feature_size_is_refused():
    d = L.Dense(2, name="sh")
    d(keras.Input((3,)))
    with pytest.raises(keras.KerasLayerError, match=r"'sh' is shared.*\(None, 4\).*"
                                                    r"first called on \(None, 3\)"):
        d(keras.Input((4,)))


def test_data_that_does_not_fit_the_inputs_gets_clear_errors():
    m = two_in_two_out(keras)
    m.compile("sgd", "mse")
    with pytest.raises(keras.KerasInputError, match=r"2 inputs \['a', 'b'\]"):
        m.predict(rand(4, 3), verbose=0)
    with pytest.raises(keras.KerasInputError, match=r"lacks the key\(s\) \['b'\]"):
        m.predict({"a": rand(4, 3)}, verbose=0)
    with pytest.raises(keras.KerasInputError, match=r"input 'b' expects arrays of shape "
                                                    r"\(None, 3\) but got shape \(4, 5\)"):
        m.predict([rand(4, 3), rand(4, 5)], verbose=0)
    with pytest.raises(keras.KerasInputError, match=r"output 'cls'"):
        m.fit([rand(4, 3), rand(4, 3)], [rand(4, 1), rand(4, 2)], verbose=0)
    with pytest.raises(ValueError, match=r"list of 3 entries but the model has 2 outputs"):
        m.compile("sgd", loss=["mse"] * 3)
    with pytest.raises(ValueError, match=r"metrics is a list of 1 entries.*\['reg', 'cls'\]"):
        m.compile("sgd", loss="mse", metrics=["mae"])
    with pytest.raises(ValueError, match=r"list of lists.*\['reg', 'cls'\]"):
        m.compile("sgd", loss="mse", metrics=["mae", "mae"])
    with pytest.raises(TypeError, match="Subclassing"):
        keras.Model()


# ---------------------------------------------------------------------- against Keras 3
@pytest.fixture(scope="module")
def K():
    return keras3()


# Keras's own Variable.numpy() (get_weights) trips NumPy 2's copy= deprecation: not ours.
keras_quirk = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


@keras_quirk
def test_functional_model_matches_keras_forward_and_one_training_step(K):
    theirs = two_in_two_out(K)
    ours = two_in_two_out(keras)
    copy_weights(ours, theirs)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in theirs.layers]
    x = [rand(6, 3), rand(6, 3, seed=1)]
    for o, t in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)
    y = [rand(6, 1, seed=2), np.arange(6) % 3]
    kw = dict(loss=["mse", "sparse_categorical_crossentropy"], loss_weights=[0.3, 1.0],
              metrics=[[], ["accuracy"]])
    ours.compile(keras.optimizers.SGD(0.1), **kw)
    theirs.compile(K.optimizers.SGD(0.1), **kw)
    h_o = ours.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0).history
    h_t = theirs.fit(x, y, batch_size=6, epochs=1, shuffle=False, verbose=0).history
    for k in h_t:
        np.testing.assert_allclose(h_o[k], h_t[k], rtol=1e-5, err_msg=k)
    for o, t in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), theirs.evaluate(x, y, verbose=0),
                               rtol=1e-5)


@keras_quirk
@pytest.mark.parametrize("merge", ["add", "subtract", "multiply", "average", "maximum",
                                   "minimum", "concatenate"])
def test_merges_match_keras(K, merge):
    theirs, ours = two_in_two_out(K, merge), two_in_two_out(keras, merge)
    copy_weights(ours, theirs)
    x = [rand(5, 3), rand(5, 3, seed=1)]
    for o, t in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)


@keras_quirk
@pytest.mark.parametrize("axes,normalize,shapes", [
    (1, True, [(4,), (4,)]), ((2, 1), False, [(2, 3), (3, 5)]),
    ((1, 1), False, [(3, 2), (3, 4)])])
def test_dot_matches_keras(K, axes, normalize, shapes):
    outs = []
    x = [rand(3, *shapes[0]), rand(3, *shapes[1], seed=1)]
    for lib in (keras, K):
        a, b = lib.Input(shapes[0]), lib.Input(shapes[1])
        m = lib.Model([a, b], lib.layers.Dot(axes=axes, normalize=normalize)([a, b]))
        outs.append(np.asarray(m.predict(x, verbose=0)))
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)


@keras_quirk
def test_layer_order_and_weights_match_keras_for_a_branchy_graph(K):
    def build(lib):
        x = lib.Input((6,), name="x")
        h = lib.layers.Dense(5, activation="relu", name="h")(x)
        s = lib.layers.Dense(5, name="skip")(x)
        j = lib.layers.Add(name="join")([h, s])
        d = lib.layers.Dense(4, name="deep")(lib.layers.Dense(5, name="mid")(j))
        return lib.Model(x, [lib.layers.Dense(2, name="o1")(d), lib.layers.Dense(1, name="o2")(j)])
    theirs, ours = build(K), build(keras)
    assert [la.name for la in ours.layers] == [la.name for la in theirs.layers]
    ours.set_weights(theirs.get_weights())  # the whole list lines up
    x = rand(4, 6)
    for o, t in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(o, t, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- masks and states
IDS = np.array([[3, 1, 0, 0], [2, 0, 4, 5], [0, 0, 0, 0], [1, 2, 3, 4]], np.int32)


def masked_rnn(lib, cell, return_sequences, go_backwards):
    x = lib.Input((4,), dtype="int32", name="ids")
    e = lib.layers.Embedding(6, 3, mask_zero=True, name="emb")(x)
    y = getattr(lib.layers, cell)(5, return_sequences=return_sequences,
                                  go_backwards=go_backwards, name="rnn")(e)
    return lib.Model(x, y)


def seq2seq(lib, cell):
    """An encoder whose final states start a decoder (return_state / initial_state)."""
    enc_in = lib.Input((3, 2), name="enc_in")
    dec_in = lib.Input((4, 2), name="dec_in")
    enc = getattr(lib.layers, cell)(4, return_state=True, name="enc")
    out, *states = enc(enc_in)
    dec = getattr(lib.layers, cell)(4, return_sequences=True, return_state=True, name="dec")
    seq, *dec_states = dec(dec_in, initial_state=states)
    head = lib.layers.Dense(2, name="head")(seq)
    return lib.Model([enc_in, dec_in], [head, out] + dec_states)


def test_masked_steps_hold_the_state_and_repeat_the_output():
    m = masked_rnn(keras, "SimpleRNN", True, False)
    seq = m.predict(IDS, verbose=0)
    np.testing.assert_array_equal(seq[0, 2], seq[0, 1])  # padding repeats the last output
    np.testing.assert_array_equal(seq[0, 3], seq[0, 1])
    np.testing.assert_array_equal(seq[1, 1], seq[1, 0])
    np.testing.assert_array_equal(seq[2], 0)  # all padding: the zero initial output
    last = masked_rnn(keras, "SimpleRNN", False, False)
    last.set_weights(m.get_weights())
    np.testing.assert_allclose(last.predict(IDS, verbose=0), seq[:, -1], rtol=1e-6)
    # trailing padding changes nothing: the last output is the last unmasked step's
    np.testing.assert_allclose(last.predict(IDS[:1], verbose=0), seq[:1, 1], rtol=1e-6)


def test_mask_zero_in_a_sequential_model_and_global_average_pooling():
    m = keras.Sequential([keras.Input((4,)), L.Embedding(6, 2, mask_zero=True),
                          L.GlobalAveragePooling1D()])
    table = m.get_weights()[0]
    ids = IDS[[0, 1, 3]]
    want = np.stack([table[r[r != 0]].mean(0) for r in ids])
    np.testing.assert_allclose(m.predict(ids, verbose=0), want, rtol=1e-6)
    # and an LSTM in a Sequential ignores the padding: trailing zeros change nothing
    m = keras.Sequential([keras.Input((4,)), L.Embedding(6, 3, mask_zero=True), L.LSTM(3),
                          L.Dense(1)])
    a = m.predict(np.array([[3, 1, 0, 0]]), verbose=0)
    m2 = keras.Sequential([keras.Input((2,)), L.Embedding(6, 3), L.LSTM(3), L.Dense(1)])
    m2.set_weights(m.get_weights())
    np.testing.assert_allclose(a, m2.predict(np.array([[3, 1]]), verbose=0), rtol=1e-5)
    m.compile("adam", "mse")
    m.fit(IDS, rand(4, 1), epochs=2, verbose=0)


@pytest.mark.parametrize("cell", ["LSTM", "GRU", "SimpleRNN"])
def test_return_state_and_initial_state_shapes_and_values(cell):
    m = seq2seq(keras, cell)
    n_states = 2 if cell == "LSTM" else 1
    assert [t.shape for t in m.outputs] == [(None, 4, 2), (None, 4)] + [(None, 4)] * n_states
    x = [rand(3, 3, 2), rand(3, 4, 2, seed=1)]
    head, enc_out, *dec_states = m.predict(x, verbose=0)
    assert head.shape == (3, 4, 2) and enc_out.shape == (3, 4)
    # the final h of the decoder is its last output; the encoder's h is its output
    seq = keras.Model(m.inputs, m.get_layer("dec")._inbound_nodes[-1].outputs[0])
    seq.set_weights([w for layer in seq.layers if layer.name in ("enc", "dec")
                     for w in m.get_layer(layer.name).get_weights()])
    np.testing.assert_allclose(dec_states[0], seq.predict(x, verbose=0)[:, -1], rtol=1e-5)
    assert m.output_names == ["head", "enc", "dec"] + ["dec_1"] * (n_states - 1)
    if cell != "LSTM":
        return  # one training run (the costliest to compile cold) covers the rest
    m.compile("adam", ["mse", "mse"] + ["mse"] * n_states)
    m.fit(x, [rand(3, 4, 2), rand(3, 4)] + [rand(3, 4)] * n_states, epochs=1, verbose=0)


def test_initial_state_of_the_wrong_shape_is_refused():
    s = keras.Input((5,))
    with pytest.raises(keras.KerasLayerError, match=r"initial_state must be 2 tensor\(s\) of "
                                                    r"shape \(None, 4\) \(h and c\)"):
        L.LSTM(4)(keras.Input((3, 2)), initial_state=[s, s])
    with pytest.raises(TypeError, match="takes no initial_state"):
        L.Dense(4)(keras.Input((3,)), initial_state=[s])


def test_recurrent_dropout_only_in_training_and_from_the_step_key():
    m = keras.Sequential([keras.Input((5, 3)), L.LSTM(4, dropout=0.5)])
    x = rand(6, 5, 3)
    infer = m.predict(x, verbose=0)
    np.testing.assert_allclose(np.asarray(m(x)), infer, rtol=1e-6)
    a, b = np.asarray(m(x, training=True)), np.asarray(m(x, training=True))
    assert not np.allclose(a, infer) and not np.allclose(a, b)
    # one mask per sequence and feature: with one feature, a sequence is either dropped
    # at every step (the output for zeros) or kept at every step (scaled by 1/(1-rate))
    one = keras.Sequential([keras.Input((5, 1)), L.LSTM(4, dropout=0.5)])
    ref = keras.Sequential([keras.Input((5, 1)), L.LSTM(4)])
    ref.set_weights(one.get_weights())
    x1 = rand(64, 5, 1) + 0.5
    got = np.asarray(one(x1, training=True))
    dropped, kept = ref.predict(0 * x1, verbose=0), ref.predict(2 * x1, verbose=0)
    is_dropped = np.isclose(got, dropped, rtol=1e-5, atol=1e-6).all(1)
    is_kept = np.isclose(got, kept, rtol=1e-5, atol=1e-6).all(1)
    assert (is_dropped | is_kept).all() and 10 < is_dropped.sum() < 54
    m.compile("sgd", "mse")
    h = m.fit(x, rand(6, 4), epochs=2, verbose=0)
    assert np.isfinite(h.history["loss"]).all()
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        L.GRU(3, dropout=1.0)


@keras_quirk
@pytest.mark.parametrize("cell", ["LSTM", "GRU", "SimpleRNN"])
@pytest.mark.parametrize("return_sequences,go_backwards", [(False, False), (True, False),
                                                           (True, True), (False, True)])
def test_masked_rnn_matches_keras(K, cell, return_sequences, go_backwards):
    theirs = masked_rnn(K, cell, return_sequences, go_backwards)
    ours = masked_rnn(keras, cell, return_sequences, go_backwards)
    copy_weights(ours, theirs)
    np.testing.assert_allclose(ours.predict(IDS, verbose=0),
                               np.asarray(theirs.predict(IDS, verbose=0)), rtol=1e-5,
                               atol=1e-6)


@keras_quirk
def test_masked_bidirectional_and_pooling_match_keras(K):
    def build(lib):
        x = lib.Input((4,), dtype="int32")
        e = lib.layers.Embedding(6, 3, mask_zero=True, name="emb")(x)
        b = lib.layers.Bidirectional(lib.layers.GRU(3, return_sequences=True), name="bi")(e)
        d = lib.layers.Dense(2, name="d")(lib.layers.Dropout(0.1)(b))
        return lib.Model(x, lib.layers.GlobalAveragePooling1D()(d))
    theirs, ours = build(K), build(keras)
    copy_weights(ours, theirs)
    ids = IDS[[0, 1, 3]]
    np.testing.assert_allclose(ours.predict(ids, verbose=0),
                               np.asarray(theirs.predict(ids, verbose=0)), rtol=1e-5,
                               atol=1e-6)


@keras_quirk
@pytest.mark.parametrize("cell", ["LSTM", "GRU"])
def test_return_state_and_initial_state_match_keras(K, cell):
    theirs, ours = seq2seq(K, cell), seq2seq(keras, cell)
    copy_weights(ours, theirs)
    x = [rand(3, 3, 2), rand(3, 4, 2, seed=1)]
    for o, t in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(o, np.asarray(t), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell,kw", [("LSTM", {}), ("GRU", {}),
                                     ("GRU", {"reset_after": False}), ("SimpleRNN", {})])
def test_recurrent_dropout_drops_h_in_the_recurrent_product_per_sequence(cell, kw):
    """One unit: a sequence's recurrent mask is 0 (as if the recurrent kernel were 0) or
    2 (as if it were doubled) at every step; the carried state is not dropped."""
    def make(**extra):
        return keras.Sequential([keras.Input((6, 2)),
                                 getattr(L, cell)(1, return_sequences=True, **kw, **extra)])
    m = make(recurrent_dropout=0.5)
    w = m.get_weights()
    x = rand(64, 6, 2) - 0.5
    np.testing.assert_allclose(np.asarray(m(x)), m.predict(x, verbose=0), rtol=1e-5,
                               atol=1e-6)
    got = np.asarray(m(x, training=True))
    ref = make()
    ref.set_weights([w[0], 0 * w[1]] + w[2:])
    dropped = ref.predict(x, verbose=0)
    ref.set_weights([w[0], 2 * w[1]] + w[2:])
    kept = ref.predict(x, verbose=0)
    is_dropped = np.isclose(got, dropped, rtol=1e-5, atol=1e-6).all((1, 2))
    is_kept = np.isclose(got, kept, rtol=1e-5, atol=1e-6).all((1, 2))
    assert (is_dropped | is_kept).all() and 10 < is_dropped.sum() < 54
    m.compile("sgd", "mse")
    assert np.isfinite(m.fit(x, rand(64, 6, 1), epochs=1, verbose=0).history["loss"]).all()


def test_feature_extractor_from_a_layer_output_and_lambda_on_a_list():
    seq = keras.Sequential([keras.Input((4,)), L.Dense(3, activation="relu", name="f1"),
                            L.Dense(2, name="f2"), L.Dense(1, name="head")])
    feats = keras.Model(inputs=seq.inputs, outputs=seq.get_layer("f2").output)
    x = rand(5, 4)
    w1, b1, w2, b2 = seq.get_weights()[:4]
    np.testing.assert_allclose(feats.predict(x, verbose=0),
                               np.maximum(x @ w1 + b1, 0) @ w2 + b2, rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in feats.layers][1:] == ["f1", "f2"]
    # a functional model's layer outputs too, and Lambda on a list of tensors
    m = two_in_two_out(keras)
    inner = keras.Model(m.input, m.get_layer("hidden").output)
    assert inner.output_shape == (None, 4) and m.layers[0].get_weights() == []
    a, b = keras.Input((3,)), keras.Input((3,))
    lam = keras.Model([a, b], L.Lambda(lambda t: t[0] * t[1] + 1.0)([a, b]))
    xa, xb = rand(2, 3), rand(2, 3, seed=1)
    np.testing.assert_allclose(lam.predict([xa, xb], verbose=0), xa * xb + 1, rtol=1e-6)
    with pytest.raises(AttributeError, match="never been called"):
        L.Dense(2).output


def test_a_model_called_on_tensors_is_a_shared_block_siamese():
    base_in = keras.Input((4,))
    base = keras.Model(base_in, L.Dense(3, activation="relu", name="emb")(
        L.Dense(5, activation="relu", name="body")(base_in)), name="base")
    a, b = keras.Input((4,), name="left"), keras.Input((4,), name="right")
    ea, eb = base(a), base(b)
    dist = L.Lambda(lambda t: lnp.sum(lnp.abs(t[0] - t[1]), axis=1, keepdims=True))([ea, eb])
    siamese = keras.Model([a, b], L.Dense(1, activation="sigmoid", name="out")(dist))
    assert siamese.count_params() == base.count_params() + 2
    xa, xb = rand(16, 4), rand(16, 4, seed=1)
    same = siamese.predict([xa, xa], verbose=0)  # distance 0: sigmoid(bias)
    bias = siamese.get_layer("out").get_weights()[1]
    np.testing.assert_allclose(same, np.broadcast_to(1 / (1 + np.exp(-bias)), (16, 1)),
                               rtol=1e-5)
    siamese.compile("adam", "binary_crossentropy")
    siamese.fit([xa, xb], (np.arange(16) % 2).astype("f"), epochs=2, verbose=0)
    # the base model sees the trained weights (shared, as Keras)
    np.testing.assert_array_equal(base.get_weights()[0], siamese.get_weights()[0])
    emb = base.predict(xa, verbose=0)
    inner = keras.Model(a, ea)
    np.testing.assert_allclose(inner.predict(xa, verbose=0), emb, rtol=1e-6)
    # a Sequential block too, and a model on tensors of the wrong shape is refused
    block = keras.Sequential([keras.Input((4,)), L.Dense(2, name="blk")])
    out = block(a, training=False)
    assert out.shape == (None, 2)
    with pytest.raises(keras.KerasLayerError, match=r"expects input of shape \(None, 4\)"):
        base(keras.Input((5,)))


def tagger(lib, functional):
    layers = [lib.layers.Embedding(6, 3, mask_zero=True, name="emb"),
              lib.layers.GRU(4, return_sequences=True, name="rnn"),
              lib.layers.Dense(3, activation="softmax", name="tags")]
    if not functional:
        return lib.Sequential([lib.Input((4,), dtype="int32")] + layers)
    x = lib.Input((4,), dtype="int32")
    h = x
    for layer in layers:
        h = layer(h)
    return lib.Model(x, h)


def test_masked_steps_do_not_count_in_the_loss():
    m = tagger(keras, functional=True)
    m.compile("sgd", "sparse_categorical_crossentropy")
    y = np.arange(16).reshape(4, 4) % 3
    p = m.predict(IDS, verbose=0)
    ce = -np.log(np.take_along_axis(p, y[..., None], -1)[..., 0])
    mask = IDS != 0
    np.testing.assert_allclose(m.evaluate(IDS, y, verbose=0), (ce * mask).sum() / mask.sum(),
                               rtol=1e-5)
    # the labels at padded steps do not matter
    y2 = np.where(mask, y, (y + 1) % 3)
    np.testing.assert_allclose(m.evaluate(IDS, y2, verbose=0), m.evaluate(IDS, y, verbose=0),
                               rtol=1e-6)


@keras_quirk
@pytest.mark.parametrize("functional", [False, True])
def test_masked_sequence_loss_metrics_and_step_match_keras(K, functional):
    theirs, ours = tagger(K, functional), tagger(keras, functional)
    copy_weights(ours, theirs)
    y = np.arange(16).reshape(4, 4) % 3
    for lib, m in ((K, theirs), (keras, ours)):
        m.compile(lib.optimizers.SGD(0.5), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    np.testing.assert_allclose(ours.evaluate(IDS, y, verbose=0),
                               theirs.evaluate(IDS, y, verbose=0), rtol=1e-5)
    h_o = ours.fit(IDS, y, batch_size=4, shuffle=False, verbose=0).history
    h_t = theirs.fit(IDS, y, batch_size=4, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h_o["loss"], h_t["loss"], rtol=1e-5)
    for o, t in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(o, t, rtol=1e-4, atol=1e-6)


def test_variable_length_time_axis_and_masking_layer():
    x = keras.Input((None, 3))
    m = keras.Model(x, L.Dense(2)(L.LSTM(4, return_sequences=True)(L.Masking()(x))))
    assert m.output_shape == (None, None, 2)
    assert m.predict(rand(2, 7, 3), verbose=0).shape == (2, 7, 2)
    m.compile("adam", "mse")
    m.fit(rand(4, 5, 3), rand(4, 5, 2), verbose=0)
    s = keras.Sequential([keras.Input((None, 3)), L.Masking(), L.GRU(4)])
    seq = rand(2, 5, 3)
    padded = np.concatenate([seq, np.zeros((2, 3, 3), np.float32)], axis=1)
    np.testing.assert_allclose(s.predict(padded, verbose=0), s.predict(seq, verbose=0),
                               rtol=1e-5, atol=1e-6)


@keras_quirk
def test_masking_layer_matches_keras(K):
    def build(lib):
        return lib.Sequential([lib.Input((5, 2)), lib.layers.Masking(mask_value=-1.0),
                               lib.layers.LSTM(3, return_sequences=True, name="rnn")])
    theirs, ours = build(K), build(keras)
    copy_weights(ours, theirs)
    x = rand(3, 5, 2)
    x[0, 3:] = -1.0
    x[1, :2] = -1.0
    np.testing.assert_allclose(ours.predict(x, verbose=0),
                               np.asarray(theirs.predict(x, verbose=0)), rtol=1e-5,
                               atol=1e-6)


def test_multi_io_validation_callbacks_and_single_batch_methods(tmp_path):
    m = two_in_two_out(keras)
    m.compile("adam", ["mse", "sparse_categorical_crossentropy"], metrics=[["mae"], ["accuracy"]])
    x, y = [rand(20, 3), rand(20, 3, seed=1)], [rand(20, 1, seed=2), np.arange(20) % 3]
    ckpt = tmp_path / "best.lepton"
    h = m.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_split=0.25,
              callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=1),
                         keras.callbacks.ModelCheckpoint(ckpt, save_best_only=True)])
    assert set(h.history) == {"loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy",
                              "val_loss", "val_reg_loss", "val_cls_loss", "val_reg_mae",
                              "val_cls_accuracy"}
    assert isinstance(keras.load_model(ckpt), keras.Model)
    h = m.fit(x, y, verbose=0, validation_data=(x, y), sample_weight=np.ones(20))
    np.testing.assert_allclose(h.history["val_loss"], m.evaluate(x, y, verbose=0)[0],
                               rtol=1e-5)
    logs = m.train_on_batch(x, y, return_dict=True)
    assert set(logs) == {"loss", "reg_loss", "cls_loss", "reg_mae", "cls_accuracy"}
    np.testing.assert_allclose(m.test_on_batch(x, y), m.evaluate(x, y, verbose=0), rtol=1e-5)
    assert [p.shape for p in m.predict_on_batch(x)] == [(20, 1), (20, 3)]
    empty = m.predict([rand(0, 3), rand(0, 3)], verbose=0)
    assert [p.shape for p in empty] == [(0, 1), (0, 3)]
    with pytest.raises(ValueError, match="class_weight is not supported"):
        m.fit(x, y, class_weight={0: 1.0}, verbose=0)


def test_a_frozen_sub_model_stays_put_inside_a_combined_model_gan_style():
    z = keras.Input((2,))
    generator = keras.Model(z, L.Dense(3, name="gen")(z))
    s = keras.Input((3,))
    discriminator = keras.Model(s, L.Dense(1, activation="sigmoid", name="disc")(s))
    discriminator.compile("adam", "binary_crossentropy")
    discriminator.trainable = False
    gan = keras.Model(z, discriminator(generator(z)))
    gan.compile("adam", "binary_crossentropy")
    d0, g0 = discriminator.get_weights(), generator.get_weights()
    gan.fit(rand(8, 2), np.ones(8, np.float32), verbose=0)
    for a, b in zip(discriminator.get_weights(), d0):
        np.testing.assert_array_equal(a, b)
    assert not np.allclose(generator.get_weights()[0], g0[0])
    discriminator.trainable = True
    discriminator.fit(rand(8, 3), np.ones(8, np.float32), verbose=0)
    assert not np.allclose(discriminator.get_weights()[0], d0[0])
    assert keras.Model(z, L.Dense(1, name="frozen")(z), trainable=False).layers[1].trainable \
        is False


def test_dict_outputs_predict_a_dict_and_survive_save(tmp_path):
    x = keras.Input((3,), name="x")
    h = L.Dense(4, name="h")(x)
    m = keras.Model({"x": x}, {"score": L.Dense(1, name="s")(h), "probs": L.Dense(
        2, activation="softmax", name="p")(h)})
    assert m.output_names == ["score", "probs"]
    m.compile("sgd", {"score": "mse", "probs": "sparse_categorical_crossentropy"})
    data = {"x": rand(6, 3)}
    hist = m.fit(data, {"score": rand(6, 1), "probs": np.arange(6) % 2}, verbose=0)
    assert {"score_loss", "probs_loss"} <= set(hist.history)
    p = m.predict(data, verbose=0)
    assert isinstance(p, dict) and p["score"].shape == (6, 1) and p["probs"].shape == (6, 2)
    m.save(tmp_path / "d.lepton")
    p2 = keras.load_model(tmp_path / "d.lepton").predict(data, verbose=0)
    np.testing.assert_allclose(p2["probs"], p["probs"], rtol=1e-6)


def bidi(lib, merge_mode, cell="LSTM", with_init=False):
    x = lib.Input((4,), dtype="int32")
    # Keras 3.15 drops the mask of a call that also gets initial_state (lepton keeps it),
    # so the comparison with initial_state runs unmasked
    e = lib.layers.Embedding(6, 3, mask_zero=not with_init, name="emb")(x)
    rnn = getattr(lib.layers, cell)(3, return_sequences=True, return_state=True)
    kw = {}
    if with_init:
        s = lib.Input((3,), name="s")
        kw["initial_state"] = [s] * (4 if cell == "LSTM" else 2)
    outs = lib.layers.Bidirectional(rnn, merge_mode=merge_mode, name="bi")(e, **kw)
    return lib.Model([x, s] if with_init else x, outs)


@pytest.mark.parametrize("merge_mode", ["concat", None])
def test_bidirectional_return_state_shapes_and_dropout(merge_mode):
    m = bidi(keras, merge_mode)
    n_seq = 2 if merge_mode is None else 1
    width = 6 if merge_mode == "concat" else 3
    assert [t.shape for t in m.outputs] == [(None, 4, width)] * n_seq + [(None, 3)] * 4
    outs = m.predict(IDS, verbose=0)
    assert len(outs) == n_seq + 4
    np.testing.assert_array_equal(outs[0][0, 2:], 0)  # masked steps: zeros (Keras)
    layer = L.Bidirectional(L.GRU(2, dropout=0.3, recurrent_dropout=0.3))
    d = keras.Sequential([keras.Input((5, 3)), layer])
    x = rand(4, 5, 3)
    assert not np.allclose(np.asarray(d(x, training=True)), d.predict(x, verbose=0))
    d.compile("sgd", "mse")
    d.fit(x, rand(4, 4), verbose=0)
    with pytest.raises(ValueError, match="merge_mode must be"):
        L.Bidirectional(L.GRU(2), merge_mode="max")


@keras_quirk
@pytest.mark.parametrize("merge_mode,cell,with_init", [("concat", "LSTM", False),
                                                       (None, "GRU", False),
                                                       ("sum", "LSTM", True)])
def test_bidirectional_return_state_matches_keras(K, merge_mode, cell, with_init):
    theirs, ours = bidi(K, merge_mode, cell, with_init), bidi(keras, merge_mode, cell,
                                                              with_init)
    copy_weights(ours, theirs)
    x = [IDS, rand(4, 3)] if with_init else IDS
    for o, t in zip(ours.predict(x, verbose=0), theirs.predict(x, verbose=0)):
        np.testing.assert_allclose(o, np.asarray(t), rtol=1e-5, atol=1e-6)


def test_time_distributed_shares_weights_over_steps_and_saves(tmp_path):
    m = keras.Sequential([keras.Input((4, 3)), L.TimeDistributed(L.Dense(2, name="d"),
                                                                 name="td")])
    w, b = m.get_weights()
    x = rand(5, 4, 3)
    np.testing.assert_allclose(m.predict(x, verbose=0), x @ w + b, rtol=1e-5, atol=1e-6)
    assert m.output_shape == (None, 4, 2)
    m.compile("sgd", "mse")
    m.fit(x, rand(5, 4, 2), verbose=0)
    m.save(tmp_path / "td.lepton")
    np.testing.assert_allclose(keras.load_model(tmp_path / "td.lepton").predict(x, verbose=0),
                               m.predict(x, verbose=0), rtol=1e-6)
    with pytest.raises(keras.KerasLayerError, match=r"\(batch, time, \.\.\.\)"):
        L.TimeDistributed(L.Dense(2))(keras.Input((3,)))


@keras_quirk
def test_time_distributed_conv_matches_keras(K):
    def build(lib):
        x = lib.Input((3, 6, 6, 1))
        h = lib.layers.TimeDistributed(lib.layers.Conv2D(2, 3, activation="relu"),
                                       name="tdc")(x)
        h = lib.layers.TimeDistributed(lib.layers.Flatten(), name="tdf")(h)
        return lib.Model(x, lib.layers.LSTM(2, name="rnn")(h))
    theirs, ours = build(K), build(keras)
    copy_weights(ours, theirs)
    x = rand(2, 3, 6, 6, 1)
    np.testing.assert_allclose(ours.predict(x, verbose=0),
                               np.asarray(theirs.predict(x, verbose=0)), rtol=1e-5,
                               atol=1e-6)
