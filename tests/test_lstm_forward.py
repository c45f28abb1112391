"""The forward pass is the textbook LSTM: compared with a plain per-step reference."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli import network
from forecast_cli.lstm import lstm_forward


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_layer(x, Wx, Wh, b):
    """One step at a time, gates in the order i, f, g, o; returns (h, c), each (T, B, H)."""
    T, B, _ = x.shape
    H = Wh.shape[0]
    h, c = np.zeros((B, H)), np.zeros((B, H))
    hs, cs = [], []
    for t in range(T):
        z = x[t] @ Wx + h @ Wh + b
        i = sigmoid(z[:, 0:H])
        f = sigmoid(z[:, H:2 * H])
        g = np.tanh(z[:, 2 * H:3 * H])
        o = sigmoid(z[:, 3 * H:4 * H])
        c = f * c + i * g
        h = o * np.tanh(c)
        hs.append(h)
        cs.append(c)
    return np.stack(hs), np.stack(cs)


def reference_network(params, x):
    h = x
    for k in range(network.shape_of(params).num_layers):
        h, _ = reference_layer(h, params[f"lstm.{k}.Wx"], params[f"lstm.{k}.Wh"], params[f"lstm.{k}.b"])
    return h[-1] @ params["head.W"] + params["head.b"]


def layer(seed=0, T=9, B=3, I=3, H=6, dtype=np.float64, scale=1.0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, B, I)).astype(dtype)
    Wx = (scale * rng.normal(size=(I, 4 * H))).astype(dtype)
    Wh = (scale * rng.normal(size=(H, 4 * H))).astype(dtype)
    b = rng.normal(size=4 * H).astype(dtype)
    return x, Wx, Wh, b


@pytest.mark.parametrize("keep_cache", [True, False])
def test_layer_matches_reference(keep_cache):
    x, Wx, Wh, b = layer()
    h, cache = lstm_forward(x, Wx, Wh, b, keep_cache=keep_cache)
    want_h, want_c = reference_layer(x, Wx, Wh, b)
    assert h.shape == want_h.shape
    np.testing.assert_allclose(h, want_h, rtol=1e-12, atol=1e-13)
    if keep_cache:
        np.testing.assert_allclose(cache.c[1:], want_c, rtol=1e-12, atol=1e-13)
        np.testing.assert_allclose(cache.h[1:], want_h, rtol=1e-12, atol=1e-13)
        assert not cache.h[0].any() and not cache.c[0].any()          # zero initial state
        np.testing.assert_allclose(cache.tanh_c, np.tanh(want_c), rtol=1e-12, atol=1e-13)
    else:
        assert cache is None


def test_gate_order_is_i_f_g_o():
    """Saturating one gate block at a time shows which block does what."""
    H = 2
    x = np.zeros((1, 1, 1))
    Wx, Wh = np.zeros((1, 4 * H)), np.zeros((H, 4 * H))
    big = 30.0
    # i open, f closed, g = tanh(1), o open: c = tanh(1), h = tanh(tanh(1))
    b = np.concatenate([np.full(H, big), np.full(H, -big), np.full(H, 1.0), np.full(H, big)])
    h, cache = lstm_forward(x, Wx, Wh, b)
    np.testing.assert_allclose(cache.c[1], np.tanh(1.0), rtol=1e-9)
    np.testing.assert_allclose(h[0], np.tanh(np.tanh(1.0)), rtol=1e-9)
    # the output gate (last block) closed: h = 0 although c is not
    b_closed = b.copy()
    b_closed[3 * H:] = -big
    h, cache = lstm_forward(x, Wx, Wh, b_closed)
    assert np.abs(h).max() < 1e-12 and np.abs(cache.c[1]).min() > 0.5


def test_float32_matches_reference_and_keeps_dtype():
    x, Wx, Wh, b = layer(dtype=np.float32)
    h, _ = lstm_forward(x, Wx, Wh, b)
    assert h.dtype == np.float32
    want, _ = reference_layer(*(a.astype(np.float64) for a in (x, Wx, Wh, b)))
    np.testing.assert_allclose(h, want, rtol=1e-5, atol=1e-6)


def test_saturated_gates_stay_finite():
    x, Wx, Wh, b = layer(scale=50.0)
    h, _ = lstm_forward(x * 100, Wx, Wh, b)
    assert np.all(np.isfinite(h)) and np.abs(h).max() <= 1.0


@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_network_forward_and_predict_match_reference(num_layers):
    rng = np.random.default_rng(num_layers)
    params = network.init_params(network.Shape(3, 7, num_layers, 5), rng, np.float64)
    params["head.b"] = rng.normal(size=5)
    x = rng.normal(size=(11, 4, 3))
    y, _ = network.forward(params, x, dropout=0.0)
    assert y.shape == (4, 5)
    np.testing.assert_allclose(y, reference_network(params, x), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(network.predict(params, x), y)


def test_predict_ignores_dropout_used_in_training():
    """Inverted dropout: forward with p > 0 differs, predict equals forward with p = 0."""
    rng = np.random.default_rng(0)
    params = network.init_params(network.Shape(1, 6, 2, 3), rng, np.float64)
    x = rng.normal(size=(8, 5, 1))
    train_y, _ = network.forward(params, x, dropout=0.5, rng=np.random.default_rng(1))
    eval_y, _ = network.forward(params, x, dropout=0.0)
    assert not np.allclose(train_y, eval_y)
    np.testing.assert_array_equal(network.predict(params, x), eval_y)


def test_init_params_shapes_and_forget_bias():
    shape = network.Shape(n_inputs=3, hidden_size=8, num_layers=2, horizon=6)
    params = network.init_params(shape, np.random.default_rng(0))
    assert {k: v.shape for k, v in params.items()} == {
        "lstm.0.Wx": (3, 32), "lstm.0.Wh": (8, 32), "lstm.0.b": (32,),
        "lstm.1.Wx": (8, 32), "lstm.1.Wh": (8, 32), "lstm.1.b": (32,),
        "head.W": (8, 6), "head.b": (6,)}
    assert all(v.dtype == np.float32 for v in params.values())
    assert np.all(params["lstm.0.b"][8:16] == 1.0) and np.all(params["lstm.1.b"][8:16] == 1.0)
    assert network.shape_of(params) == shape
