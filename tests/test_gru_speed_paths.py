"""The GRU's fast paths do what the plain ones do: recycled buffers never alias live arrays,
chunked BPTT equals BPTT step by step, inference (no caches, blocks, threads) equals the training
forward, float32 stays float32, saturated gates give no denormal numbers, one BLAS thread."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from forecast_cli import gru, lstm, network
from forecast_cli.gru import gru_backward, gru_forward
from forecast_cli.train import loss_and_grad

from test_speed_paths import subnormal


def layer(T=40, B=5, I=3, H=7, dtype=np.float32, seed=0, scale=1.0):
    """x and (Wx, Wh, bx, bh) of one GRU layer."""
    rng = np.random.default_rng(seed)
    params = network.init_params(network.Shape(I, H, 1, 2, "gru"), rng, dtype)
    x = (scale * rng.normal(size=(T, B, I))).astype(dtype)
    return x, [params[f"gru.0.{n}"] * dtype(scale) for n in ("Wx", "Wh", "bx", "bh")]


def test_recycled_buffers_never_alias_live_arrays(monkeypatch):
    monkeypatch.setattr(lstm, "_SPARE_BIG", 0)               # recycle every buffer, however small
    x, arrays = layer()
    h1, cache1 = gru_forward(x, *arrays)
    kept = h1.copy(), cache1.act.copy()
    h2, _ = gru_forward(2 * x, *arrays)                      # must not reuse what h1 and cache1 hold
    np.testing.assert_array_equal(h1, kept[0])
    np.testing.assert_array_equal(cache1.act, kept[1])
    assert not np.array_equal(h1, h2)
    del h1, cache1, h2
    h3, _ = gru_forward(x, *arrays)                           # now the memory may be reused …
    np.testing.assert_array_equal(h3, kept[0])               # … and gives the same result


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_chunked_backward_equals_step_by_step(monkeypatch, dtype):
    x, arrays = layer(T=23, dtype=dtype)
    dh_out = np.random.default_rng(1).normal(size=(23, 5, 7)).astype(dtype)
    _, cache = gru_forward(x, *arrays)
    whole = gru_backward(dh_out, cache, *arrays[:2])
    for chunk in (1, 3 * 7 * 5, 7 * 5 * 10):                 # 1, 3 and 10 steps a chunk
        monkeypatch.setattr(gru, "CHUNK", chunk)
        got = gru_backward(dh_out, cache, *arrays[:2])
        tol = 1e-12 if dtype == np.float64 else 1e-5
        for g, w in zip(got[:-1], whole[:-1]):
            np.testing.assert_allclose(g, w, rtol=tol, atol=tol * np.abs(w).max())


@pytest.mark.parametrize("block", [256, 3])
def test_inference_equals_the_training_forward(block):
    rng = np.random.default_rng(4)
    params = network.init_params(network.Shape(2, 8, 2, 3, "gru"), rng)
    x = rng.normal(size=(7, 50, 2)).astype(np.float32)
    np.testing.assert_allclose(network.predict(params, x, block=block), network.forward(params, x)[0],
                               rtol=1e-6, atol=1e-6)


def test_predict_on_threads_equals_one_thread():
    rng = np.random.default_rng(4)
    params = network.init_params(network.Shape(2, 64, 1, 3, "gru"), rng)
    x = rng.normal(size=(5, 600, 2)).astype(np.float32)       # enough columns × units for blocks on threads
    with threadpool_limits(1, user_api="blas"):
        one = network.predict(params, x)
    with threadpool_limits(2, user_api="blas"):
        two = network.predict(params, x)
    np.testing.assert_array_equal(one, two)


def test_float32_stays_float32_through_a_training_step():
    rng = np.random.default_rng(0)
    params = network.init_params(network.Shape(3, 8, 2, 4, "gru"), rng)
    x = rng.normal(size=(12, 6, 3)).astype(np.float32)
    pred, cache = network.forward(params, x, dropout=0.3, rng=rng)
    _, dpred = loss_and_grad(pred, rng.normal(size=pred.shape), "mae")
    grads = network.backward(params, cache, dpred)
    assert pred.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    assert all(g.flags.c_contiguous for g in grads.values())


def test_saturated_gates_give_no_denormal_numbers():
    """σ through tanh is exactly 0 or 1 once saturated, where 1/(1+e^−a) would be denormal;
    and the long backward stops before its gradients become denormal."""
    x, arrays = layer(T=30, scale=60.0)
    _, cache = gru_forward(x, *arrays)
    assert subnormal(cache.act) == 0 and subnormal(cache.zin) == 0
    assert (cache.act[:, :2 * 7] == 0).any() and (cache.act[:, :2 * 7] == 1).any()
    x, arrays = layer(T=400, B=4, H=16, seed=2)
    dh_out = np.zeros((400, 4, 16), np.float32)
    dh_out[-1] = np.random.default_rng(3).normal(size=(4, 16))
    _, cache = gru_forward(x, *arrays)
    *grads, stop = gru_backward(dh_out, cache, *arrays[:2], first_grad_step=399)
    assert 0 < stop < 399
    assert all(subnormal(g) == 0 for g in grads)


def test_the_step_loop_runs_on_one_blas_thread(monkeypatch):
    seen, real = [], gru._forward_steps

    def spy(*args):
        seen.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
        return real(*args)
    monkeypatch.setattr(gru, "_forward_steps", spy)
    x, arrays = layer()
    with threadpool_limits(2, user_api="blas"):
        gru_forward(x, *arrays)
    assert seen and set(seen) == {1}
