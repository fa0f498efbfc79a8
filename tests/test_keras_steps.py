"""lepton.keras fit / evaluate / predict with steps_per_epoch, generators and PyDatasets:
Keras 3's step rules, the progress and History step counts, the error messages, and one
side-by-side run against Keras 3 where it is installed."""
from __future__ import annotations

import io
import re
import warnings

import numpy as np
import pytest

import lepton
import lepton.keras as keras
from lepton.keras import layers as L
from lepton.keras.data import RAN_OUT
from lepton.keras.progress import ProgressBar
from tests.peers import keras3

RAN_OUT_RE = re.escape(RAN_OUT[:40])


@pytest.fixture(autouse=True)
def _seeded():
    keras.utils.set_random_seed(0)


def data(n=10, seed=0):
    r = np.random.default_rng(seed)
    x = r.random((n, 3), dtype=np.float32)
    y = keras.utils.to_categorical(r.integers(0, 2, n), 2)
    return x, y


def model(metrics=("accuracy",)):
    m = keras.Sequential([keras.Input((3,)), L.Dense(2, activation="softmax")])
    m.compile(keras.optimizers.SGD(0.1), "categorical_crossentropy", metrics=list(metrics))
    return m


def _recorder(lib):
    """A ``lib.callbacks.Callback`` (lepton's or Keras's) that records the batch indices
    of every epoch (and, through ``self.params``, fit's params)."""
    class Steps(lib.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.batches = []

        def on_epoch_begin(self, epoch, logs=None):
            self.batches.append([])

        def on_train_batch_end(self, batch, logs=None):
            self.batches[-1].append(batch)
    return Steps


Steps = _recorder(keras)


def counted(batches, log):
    """A generator over ``batches`` that records how many it handed out."""
    for b in batches:
        log.append(1)
        yield b


def endless(x, y, bs, log):
    k = 0
    while True:
        log.append(1)
        i = np.arange(k, k + bs) % len(x)
        k += bs
        yield x[i], y[i]


# ----------------------------------------------------------------------------- arrays
def test_arrays_steps_per_epoch_go_on_across_epochs_and_restart_when_out():
    x, y = data(10)
    rec = Steps()
    with pytest.warns(UserWarning, match=RAN_OUT_RE) as w:
        h = model().fit(x, y, batch_size=4, epochs=3, steps_per_epoch=2, shuffle=False,
                        callbacks=[rec], verbose=0)
    # 3 batches of data: epoch 1 takes two, epoch 2 the last one and runs out, epoch 3
    # starts a fresh pass (Keras 3.15 gives [[0, 1], [0], [0, 1]] and one warning)
    assert rec.batches == [[0, 1], [0], [0, 1]]
    assert len([m for m in w if RAN_OUT[:40] in str(m.message)]) == 1
    assert h.epoch == [0, 1, 2] and len(h.history["loss"]) == 3
    assert rec.params["steps"] == 2


def test_arrays_steps_beyond_the_data_end_each_epoch_early_with_a_warning(capsys):
    x, y = data(10)
    rec = Steps()
    with pytest.warns(UserWarning, match=RAN_OUT_RE) as w:
        h = model().fit(x, y, batch_size=4, epochs=2, steps_per_epoch=5, callbacks=[rec],
                        verbose=2)
    assert rec.batches == [[0, 1, 2], [0, 1, 2]]
    assert len(w) == 2 and len(h.epoch) == 2
    epoch_lines = [ln for ln in capsys.readouterr().out.splitlines() if "loss:" in ln]
    assert len(epoch_lines) == 2 and all(ln.startswith("3/5 ") for ln in epoch_lines)


def test_arrays_steps_without_batch_size_use_ceil_n_over_steps():
    x, y = data(10)
    rec = Steps()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # batch 4 = ceil(10 / 3): no running out
        model().fit(x, y, epochs=2, steps_per_epoch=3, callbacks=[rec], verbose=0)
    assert rec.batches == [[0, 1, 2], [0, 1, 2]]
    m = model()
    assert m.predict(x, steps=2).shape == (10, 2)               # batch ceil(10 / 2) = 5
    assert m.predict(x, steps=2, batch_size=4).shape == (8, 2)  # the first two batches
    np.testing.assert_allclose(m.evaluate(x, y, steps=2, batch_size=4, verbose=0),
                               m.evaluate(x[:8], y[:8], verbose=0), rtol=1e-6)


def test_initial_epoch_numbers_the_epochs(capsys):
    x, y = data(10)
    h = model().fit(x, y, batch_size=4, epochs=3, initial_epoch=1, verbose=2)
    assert h.epoch == [1, 2]
    assert "Epoch 2/3" in capsys.readouterr().out
    with pytest.raises(ValueError, match="initial_epoch must be >= 0"):
        model().fit(x, y, initial_epoch=-1, verbose=0)


# ----------------------------------------------------------------------------- generators
def test_generator_batches_train_exactly_as_the_same_arrays():
    x, y = data(10)
    w = np.linspace(0.5, 2, 10).astype(np.float32)
    a, b = model(), model()
    b.build((None, 3))
    a.build((None, 3))
    b.set_weights(a.get_weights())
    ha = a.fit(x, y, sample_weight=w, batch_size=4, epochs=1, shuffle=False, verbose=0)
    batches = [(x[k:k + 4], y[k:k + 4], w[k:k + 4]) for k in range(0, 10, 4)]
    with pytest.warns(UserWarning, match=RAN_OUT_RE):  # Keras warns when a generator ends
        hb = b.fit(iter(batches), epochs=1, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-6)


def test_generator_with_steps_stops_training_when_it_ends():
    x, y = data(10)
    log, rec = [], Steps()
    gen = counted([(x[:4], y[:4])] * 5, log)
    with pytest.warns(UserWarning, match=RAN_OUT_RE) as w:
        h = model().fit(gen, epochs=3, steps_per_epoch=3, callbacks=[rec], verbose=0)
    # Keras 3.15: [[0, 1, 2], [0, 1]] and then an epoch on batches it replays; a
    # generator cannot restart, so lepton stops there
    assert rec.batches == [[0, 1, 2], [0, 1]] and h.epoch == [0, 1] and len(w) == 1
    assert len(log) == 5


def test_generator_used_up_exactly_at_an_epoch_end_gets_no_empty_epoch():
    x, y = data(10)
    rec = Steps()
    with pytest.warns(UserWarning, match=RAN_OUT_RE):
        h = model().fit(iter([(x[:4], y[:4])] * 6), epochs=3, steps_per_epoch=3,
                        callbacks=[rec], verbose=0)
    assert rec.batches == [[0, 1, 2], [0, 1, 2]] and len(h.history["loss"]) == 2


def test_endless_generator_is_read_steps_per_epoch_batches_and_no_more():
    x, y = data(10)
    log, rec = [], Steps()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = model().fit(endless(x, y, 4, log), epochs=3, steps_per_epoch=2,
                        callbacks=[rec], verbose=0)
    assert rec.batches == [[0, 1]] * 3 and len(log) == 6 and h.epoch == [0, 1, 2]
    assert rec.params["steps"] == 2


def test_generator_without_steps_has_an_unknown_total(capsys):
    x, y = data(10)
    rec = Steps()
    with pytest.warns(UserWarning, match=RAN_OUT_RE):
        model().fit((b for b in [(x[:4], y[:4])] * 5), callbacks=[rec], verbose=2)
    assert rec.params["steps"] is None and rec.batches == [[0, 1, 2, 3, 4]]
    line = [ln for ln in capsys.readouterr().out.splitlines() if "loss:" in ln][0]
    assert line.startswith("5/5 ")  # the final line gives the steps that ran


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_of_unknown_length_counts_steps_then_closes():
    out = _Tty()
    bar = ProgressBar(None, verbose=1, stream=out)
    bar._last_draw = -1e9
    bar.update(3, {"loss": 0.5}, 4)
    assert re.search(r"\r\s+3/Unknown \S+", out.getvalue())
    assert "[=" not in out.getvalue() and "[." not in out.getvalue()  # no bar, no total
    bar.update(7, {"loss": 0.5}, 4)
    bar.finish({"loss": 0.25})
    assert out.getvalue().rsplit("\r", 1)[1].startswith("7/7 [====================]")


def test_partial_batches_from_a_generator_trace_no_more_than_arrays_and_compile_nothing():
    x, y = data(10)
    a = model()
    a.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)  # warm the kernels
    info = lepton.cache_info()
    a2 = model()
    m0 = info.misses
    a2.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0)  # 4, 4, 2 twice
    array_traces = info.misses - m0
    g = model()
    m0, k0 = info.misses, info.numba_compiles
    batches = [(x[k:k + 4], y[k:k + 4]) for k in range(0, 10, 4)] * 2
    with pytest.warns(UserWarning, match=RAN_OUT_RE):
        g.fit(iter(batches), epochs=1, verbose=0)
    assert info.misses - m0 == array_traces
    assert info.numba_compiles == k0


# ----------------------------------------------------------------------------- PyDataset
class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, bs, w=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.w, self.bs = x, y, w, bs
        self.got, self.begins, self.ends = [], 0, 0

    def __len__(self):
        return -(-len(self.x) // self.bs)

    def __getitem__(self, i):
        self.got.append(i)
        s = slice(i * self.bs, (i + 1) * self.bs)
        return (self.x[s], self.y[s]) if self.w is None else \
            (self.x[s], self.y[s], self.w[s])

    def on_epoch_begin(self):
        self.begins += 1

    def on_epoch_end(self):
        self.ends += 1
        self.got.append("end")


def test_pydataset_epochs_hooks_and_shuffled_batch_order():
    assert keras.utils.Sequence is keras.utils.PyDataset
    x, y = data(16)
    ds = Batches(x, y, 4)
    h = model().fit(ds, epochs=2, shuffle=False, verbose=0)
    assert ds.got[1:] == [0, 1, 2, 3, "end"] * 2  # ds[0] is read once first to build
    assert (ds.begins, ds.ends, len(h.epoch)) == (2, 2, 2)
    ds = Batches(x, y, 4)
    model().fit(ds, epochs=3, shuffle=True, verbose=0, seed=1)
    passes = " ".join(map(str, ds.got[1:])).split(" end")[:-1]
    orders = [[int(i) for i in p.split()] for p in passes]
    assert all(sorted(o) == [0, 1, 2, 3] for o in orders)
    assert any(o != [0, 1, 2, 3] for o in orders)


def test_pydataset_steps_go_on_across_epochs_as_keras():
    x, y = data(16)
    ds, rec = Batches(x, y, 4), Steps()
    with pytest.warns(UserWarning, match=RAN_OUT_RE):
        model().fit(ds, epochs=3, steps_per_epoch=3, shuffle=False, callbacks=[rec],
                    verbose=0)
    # Keras 3.15: batches [[0, 1, 2], [0], [0, 1, 2]], indices 0 1 2 | 3 | 0 1 2
    assert rec.batches == [[0, 1, 2], [0], [0, 1, 2]]
    assert ds.got[1:] == [0, 1, 2, "end", 3, "end", 0, 1, 2, "end"]


def test_pydataset_class_weight_equals_the_sample_weight_and_endless_pydataset():
    x, y = data(12)
    cw = {0: 0.5, 1: 2.0}
    a, b = model(), model()
    a.build((None, 3))
    b.build((None, 3))
    b.set_weights(a.get_weights())
    a.fit(Batches(x, y, 4), class_weight=cw, shuffle=False, verbose=0)
    w = np.where(y.argmax(-1) == 1, 2.0, 0.5).astype(np.float32)
    b.fit(Batches(x, y, 4, w), shuffle=False, verbose=0)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)

    class Endless(keras.utils.PyDataset):
        num_batches = None

        def __getitem__(self, i):
            return x[:4], y[:4]

    rec = Steps()
    model().fit(Endless(), epochs=2, steps_per_epoch=3, callbacks=[rec], verbose=0)
    assert rec.batches == [[0, 1, 2]] * 2


# ----------------------------------------------------------------------------- validation
def test_validation_generator_is_read_validation_steps_at_a_time():
    x, y = data(10)
    log = []
    h = model().fit(x, y, batch_size=5, epochs=3, verbose=0,
                    validation_data=endless(x, y, 2, log), validation_steps=2)
    assert len(h.history["val_loss"]) == 3 and len(log) == 6


def test_validation_generator_that_ends_leaves_later_epochs_without_validation():
    x, y = data(10)
    with pytest.warns(UserWarning, match="validation generator has no more batches"):
        h = model().fit(x, y, batch_size=5, epochs=2, verbose=0,
                        validation_data=iter([(x[:4], y[:4])] * 2))
    assert len(h.history["val_loss"]) == 1 and len(h.history["loss"]) == 2


def test_validation_steps_on_arrays_and_pydataset_restart_each_epoch():
    x, y = data(12)
    ds = Batches(x, y, 4)
    m = model()
    h = m.fit(x, y, batch_size=4, epochs=2, verbose=0, validation_data=ds,
              validation_steps=2)
    assert ds.got[1:] == [0, 1, "end"] * 2
    m2 = model()
    h2 = m2.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0,
                validation_data=(x, y), validation_steps=1)
    np.testing.assert_allclose(h2.history["val_loss"][0],
                               m2.evaluate(x[:4], y[:4], verbose=0)[0], rtol=1e-6)
    assert len(h.history["val_loss"]) == 2


# ----------------------------------------------------------------------------- evaluate / predict
def test_evaluate_and_predict_on_generators_match_arrays():
    x, y = data(12)
    m = model()
    m.build((None, 3))
    batches = [(x[k:k + 5], y[k:k + 5]) for k in range(0, 12, 5)]
    np.testing.assert_allclose(m.evaluate(iter(batches), verbose=0),
                               m.evaluate(x, y, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(m.evaluate(iter(batches), steps=2, verbose=0),
                               m.evaluate(x[:10], y[:10], verbose=0), rtol=1e-6)
    ref = m.predict(x)
    np.testing.assert_allclose(m.predict(iter(batches)), ref, rtol=1e-6)
    np.testing.assert_allclose(m.predict((b[:1] for b in batches), steps=1), ref[:5],
                               rtol=1e-6)
    np.testing.assert_allclose(m.predict(Batches(x, y, 5)), ref, rtol=1e-6)
    with pytest.warns(UserWarning, match=r"ran out of data after 3 of steps=4"):
        m.evaluate(iter(batches), steps=4, verbose=0)
    assert m.evaluate(Batches(x, y, 4), return_dict=True, verbose=0)["loss"] > 0


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("case, pattern", [
    ("spe0", r"steps_per_epoch must be a positive integer .* got 0"),
    ("spe-1", r"steps_per_epoch must be a positive integer .* got -1"),
    ("spe1.5", r"steps_per_epoch must be a positive integer .* got 1\.5"),
    ("vsteps0", r"validation_steps must be a positive integer .* got 0"),
    ("bare", r"batch 0 of the generator must be a tuple \(x, y\) or \(x, y, "
             r"sample_weight\); got an array of shape \(4, 3\)"),
    ("one", r"batch 0 of the generator holds no targets"),
    ("four", r"must be a tuple .* got a tuple of 4"),
    ("dict", r"batch 0 of the generator is a dict .* one input"),
    ("shape2", r"fit \(batch 2 of the generator\): the model expects inputs of shape "
               r"\(None, 3\) but x has shape \(4, 5\)"),
    ("empty", r"the generator yielded no batch"),
    ("y", r"x is a generator, so `y` must not be passed"),
    ("sw", r"x is a PyDataset, so `sample_weight` must not be passed"),
    ("split", r"validation_split is only supported when x is an array .* x is a generator"),
    ("valtype", r"validation_data must be \(x_val, y_val\)"),
])
def test_mistakes_with_steps_and_generators_get_clear_errors(case, pattern):
    x, y = data(10)
    m = model()
    good = [(x[:4], y[:4])] * 3

    def fit():
        if case.startswith("spe"):
            return m.fit(iter(good), steps_per_epoch={"spe0": 0, "spe-1": -1,
                                                       "spe1.5": 1.5}[case], verbose=0)
        if case == "vsteps0":
            return m.fit(x, y, validation_data=(x, y), validation_steps=0, verbose=0)
        if case == "bare":
            return m.fit(iter([x[:4]]), verbose=0)
        if case == "one":
            return m.fit(iter([(x[:4],)]), verbose=0)
        if case == "four":
            return m.fit(iter([(x[:4], y[:4], None, None)]), verbose=0)
        if case == "dict":
            return m.fit(iter([{"x": x[:4], "y": y[:4]}]), verbose=0)
        if case == "shape2":
            bad = np.zeros((4, 5), np.float32)
            return m.fit(iter(good[:2] + [(bad, y[:4])]), verbose=0)
        if case == "empty":
            return m.fit(iter([]), verbose=0)
        if case == "y":
            return m.fit(iter(good), y, verbose=0)
        if case == "sw":
            return m.fit(Batches(x, y, 4), sample_weight=np.ones(10), verbose=0)
        if case == "split":
            return m.fit(iter(good), validation_split=0.2, verbose=0)
        if case == "valtype":
            return m.fit(x, y, validation_data=x, verbose=0)
        raise AssertionError(case)

    with pytest.raises((ValueError, TypeError), match=pattern):
        fit()


def test_evaluate_and_predict_refuse_bad_steps():
    x, y = data(10)
    m = model()
    with pytest.raises(ValueError, match="evaluate: steps must be a positive integer"):
        m.evaluate(x, y, steps=0)
    with pytest.raises(TypeError, match="predict: steps must be a positive integer"):
        m.predict(x, steps="2")


# ----------------------------------------------------------------------------- Keras 3


def _fit_steps(lib, make_x, **kwargs):
    """(batches per epoch, History.epoch, params['steps'], warnings) of one fit."""
    Rec = _recorder(lib)
    m = lib.Sequential([lib.Input((3,)), lib.layers.Dense(2, activation="softmax")])
    m.compile("sgd", "categorical_crossentropy")
    rec = Rec()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        h = m.fit(*make_x(), callbacks=[rec], verbose=0, **kwargs)
    ran_out = sum("ran out of data" in str(m.message) for m in w)
    return rec.batches, list(h.epoch), rec.params["steps"], ran_out


def test_step_counts_and_history_matchkeras3():
    k3 = keras3()
    x, y = data(10)
    batch = (x[:4], y[:4])

    class KBatches(k3.utils.PyDataset):
        def __init__(self):
            super().__init__()

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return batch

    class LBatches(keras.utils.PyDataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return batch

    def endless():
        while True:
            yield batch

    cases = [  # (x maker for keras, for lepton, fit kwargs)
        (lambda: (x, y), lambda: (x, y), dict(batch_size=4, epochs=3, steps_per_epoch=2,
                                              shuffle=False)),
        (lambda: (x, y), lambda: (x, y), dict(batch_size=4, epochs=2, steps_per_epoch=5)),
        (lambda: (x, y), lambda: (x, y), dict(epochs=2, steps_per_epoch=3)),
        (lambda: (x, y), lambda: (x, y), dict(batch_size=4, epochs=3, initial_epoch=1)),
        (lambda: (endless(),), lambda: (endless(),), dict(epochs=3, steps_per_epoch=2,
                                                          shuffle=False)),
        (lambda: (KBatches(),), lambda: (LBatches(),), dict(epochs=3, steps_per_epoch=3,
                                                            shuffle=False)),
        (lambda: (KBatches(),), lambda: (LBatches(),), dict(epochs=2, shuffle=False)),
        # a generator that ends within the first epoch: the same first epoch (Keras
        # then replays two batches it peeked; lepton stops, see lepton.keras.data)
        (lambda: ((b for b in [batch] * 5),), lambda: ((b for b in [batch] * 5),),
         dict(epochs=1, steps_per_epoch=7, shuffle=False)),
    ]
    for make_k, make_l, kw in cases:
        assert _fit_steps(keras, make_l, **kw) == _fit_steps(k3, make_k, **kw), kw
    # a Keras PyDataset works in lepton as it is (the same protocol)
    kw = dict(epochs=3, steps_per_epoch=3, shuffle=False)
    assert _fit_steps(keras, lambda: (KBatches(),), **kw) == \
        _fit_steps(k3, lambda: (KBatches(),), **kw)
