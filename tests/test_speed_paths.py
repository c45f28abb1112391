"""The fast paths of the NumPy core do what the plain ones do: recycled buffers never alias live
arrays, chunked BPTT equals BPTT step by step, inference in blocks equals one pass, float32 stays
float32, saturated gates give no denormal numbers, and the BLAS runs on one thread in the loop."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from forecast_cli import lstm, network
from forecast_cli.lstm import lstm_backward, lstm_forward
from forecast_cli.train import loss_and_grad


def layer(T=40, B=5, I=3, H=7, dtype=np.float32, seed=0, scale=1.0):
    rng = np.random.default_rng(seed)
    params = network.init_params(network.Shape(I, H, 1, 2), rng, dtype)
    x = (scale * rng.normal(size=(T, B, I))).astype(dtype)
    return x, params["lstm.0.Wx"] * dtype(scale), params["lstm.0.Wh"] * dtype(scale), params["lstm.0.b"]


def subnormal(a) -> int:
    a = np.abs(np.asarray(a))
    return int(((a > 0) & (a < np.finfo(a.dtype).tiny)).sum())


def test_recycled_buffers_never_alias_live_arrays(monkeypatch):
    monkeypatch.setattr(lstm, "_SPARE_BIG", 0)               # recycle every buffer, however small
    x, Wx, Wh, b = layer()
    h1, cache1 = lstm_forward(x, Wx, Wh, b)
    kept = h1.copy(), cache1.c.copy(), cache1.tanh_c.copy()
    h2, _ = lstm_forward(2 * x, Wx, Wh, b)                   # must not reuse what h1 and cache1 hold
    for live, copy in zip((h1, cache1.c, cache1.tanh_c), kept):
        np.testing.assert_array_equal(live, copy)
    assert not np.array_equal(h1, h2)
    del h1, cache1, h2
    h3, _ = lstm_forward(x, Wx, Wh, b)                        # now the memory may be reused …
    np.testing.assert_array_equal(h3, kept[0])               # … and gives the same result


def test_idle_buffers_are_reused_and_kept_within_bounds(monkeypatch):
    monkeypatch.setattr(lstm, "_SPARE_BIG", 0)
    monkeypatch.setattr(lstm, "_spare", [])
    a = lstm._buffer((100, 10), np.float32)
    address = a.__array_interface__["data"][0]
    del a
    b = lstm._buffer((10, 50), np.float64)                   # 4000 bytes: fits the idle 4000
    assert b.__array_interface__["data"][0] == address and b.shape == (10, 50) and b.dtype == np.float64
    live = [lstm._buffer((64,), np.float32) for _ in range(lstm._SPARE_KEEP + 5)]
    del live
    lstm._buffer((1 << 12,), np.float32)
    assert len(lstm._spare) <= lstm._SPARE_KEEP + 1          # idle ones beyond the bound are let go


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inference_path_equals_training_forward(dtype):
    x, Wx, Wh, b = layer(dtype=dtype)
    h_train, _ = lstm_forward(x, Wx, Wh, b, keep_cache=True)
    h_infer, cache = lstm_forward(x, Wx, Wh, b, keep_cache=False)
    assert cache is None and h_infer.dtype == dtype
    np.testing.assert_array_equal(h_infer, h_train)


@pytest.mark.parametrize("num_layers", [1, 2])
def test_predict_in_blocks_equals_one_pass(num_layers):
    rng = np.random.default_rng(num_layers)
    params = network.init_params(network.Shape(3, 6, num_layers, 4), rng)
    x = rng.normal(size=(9, 23, 3)).astype(np.float32)
    whole = network.predict(params, x, block=1000)
    for block in (1, 5, 23):
        np.testing.assert_allclose(network.predict(params, x, block=block), whole, rtol=1e-6, atol=1e-7)
    assert whole.shape == (23, 4) and whole.dtype == np.float32


@pytest.mark.parametrize("chunk", [1, 3 * 7 * 5, 10 ** 6])
@pytest.mark.parametrize("dtype,T,first", [(np.float64, 40, 0), (np.float64, 40, 39), (np.float32, 160, 159)])
def test_chunked_bptt_equals_one_step_at_a_time(monkeypatch, chunk, dtype, T, first):
    """Chunks of 1 step, of 3 steps and of the whole sequence; in float32 BPTT stops early,
    inside a chunk of 3."""
    x, Wx, Wh, b = layer(T=T, dtype=dtype)
    rng = np.random.default_rng(1)
    dh_out = np.zeros((T, 5, 7), dtype)
    dh_out[first:] = rng.normal(size=(T - first, 5, 7))
    _, cache = lstm_forward(x, Wx, Wh, b)
    monkeypatch.setattr(lstm, "CHUNK", 7 * 5)
    want = lstm_backward(dh_out, cache, Wx, Wh, first_grad_step=first)
    monkeypatch.setattr(lstm, "CHUNK", chunk)
    got = lstm_backward(dh_out, cache, Wx, Wh, first_grad_step=first)
    assert got[-1] == want[-1] and (want[-1] % 3 != 2 if dtype == np.float32 else want[-1] == 0)
    tol = 1e-12 if dtype == np.float64 else 1e-5
    for g, w in zip(got[:-1], want[:-1]):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * np.abs(w).max())


def test_float32_stays_float32_through_a_training_step():
    rng = np.random.default_rng(0)
    params = network.init_params(network.Shape(3, 8, 2, 4), rng)
    x = rng.normal(size=(12, 6, 3)).astype(np.float32)
    pred, cache = network.forward(params, x, dropout=0.3, rng=rng)
    for kind in ("mae", "mse"):
        _, dpred = loss_and_grad(pred, rng.normal(size=pred.shape), kind)     # float64 targets
        assert dpred.dtype == np.float32, kind
    grads = network.backward(params, cache, dpred)
    assert pred.dtype == np.float32 and all(g.dtype == np.float32 for g in grads.values())
    assert all(g.flags.c_contiguous for g in grads.values())


def test_saturated_gates_give_no_denormal_numbers():
    """σ through tanh is exactly 0 or 1 once saturated, where 1/(1+e^−z) would be denormal."""
    x, Wx, Wh, b = layer(T=30, scale=60.0)
    _, cache = lstm_forward(x, Wx, Wh, b)
    assert subnormal(cache.act[:-1]) == 0 and subnormal(cache.c) == 0        # act[T] holds only c_T
    assert subnormal(cache.tc) == 0 and subnormal(cache.zin) == 0
    assert (cache.act[:-1, :3 * 7] == 0).any()             # saturated σ gates are exactly 0 …
    assert (cache.act[:-1, :3 * 7] == 1).any()             # … or exactly 1


def test_long_float32_backward_leaves_no_denormal_numbers():
    x, Wx, Wh, b = layer(T=400, B=4, H=16, seed=2)
    dh_out = np.zeros((400, 4, 16), np.float32)
    dh_out[-1] = np.random.default_rng(3).normal(size=(4, 16))
    _, cache = lstm_forward(x, Wx, Wh, b)
    dx, dWx, dWh, db, stop = lstm_backward(dh_out, cache, Wx, Wh, first_grad_step=399)
    assert 0 < stop < 399
    assert all(subnormal(g) == 0 for g in (dx, dWx, dWh, db))


def test_the_step_loop_runs_onone_blas_thread(monkeypatch):
    seen = []
    real = lstm._forward_steps

    def spy(*args):
        seen.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
        return real(*args)
    monkeypatch.setattr(lstm, "_forward_steps", spy)
    before = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    lstm_forward(*layer())
    assert seen and set(seen) == {1}
    assert [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"] == before   # restored


def test_predict_on_threads_equals_one_thread(monkeypatch):
    rng = np.random.default_rng(4)
    params = network.init_params(network.Shape(2, 8, 2, 3), rng)
    x = rng.normal(size=(7, 50, 2)).astype(np.float32)
    alone = network.predict(params, x, block=16)
    monkeypatch.setattr(network, "blas_threads", lambda: 3)
    monkeypatch.setattr(network, "PARALLEL_MIN", 8)
    np.testing.assert_allclose(network.predict(params, x, block=16), alone, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(network.predict(params, x), alone, rtol=1e-6, atol=1e-7)   # 3 blocks of 17


@pytest.mark.parametrize("batch", [300, 40])
def test_forecasts_are_the_same_bits_on_any_number_of_threads(batch):
    """The blocks depend on the batch alone: a product's last bits depend on its column count,
    so blocks chosen by thread count gave other bits on another machine (and made a member's
    validation loss in a worker process differ from in-process training)."""
    rng = np.random.default_rng(5)
    params = network.init_params(network.Shape(5, 64, 1, 12), rng)
    x = rng.normal(size=(7, batch, 5)).astype(np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        alone = network.predict(params, x)
    with threadpool_limits(limits=2, user_api="blas"):
        assert np.array_equal(network.predict(params, x), alone)


@pytest.mark.parametrize("copy_min", [0, 10 ** 9])
def test_fused_weights_copied_or_not_give_the_same_layer(monkeypatch, copy_min):
    x, Wx, Wh, b = layer(dtype=np.float64)
    want, _ = lstm_forward(x, Wx, Wh, b)
    monkeypatch.setattr(lstm, "FUSE_COPY_MIN", copy_min)
    W = lstm.fuse(Wx, Wh, b, x.shape[0] * x.shape[1])
    assert W.flags.c_contiguous == (copy_min == 0)
    np.testing.assert_allclose(lstm.lstm_forward_fused(x, W)[0], want, rtol=1e-13, atol=1e-14)


FRESH_PROCESS_BACKWARD = """
import resource, numpy as np
from forecast_cli import network
from forecast_cli.train import loss_and_grad
rng = np.random.default_rng(0)
params = network.init_params(network.Shape(26, 256, 1, 48), rng)
x, y = rng.normal(size=(7, 128, 26)).astype(np.float32), rng.normal(size=(128, 48)).astype(np.float32)
def step():
    pred, cache = network.forward(params, x)
    network.backward(params, cache, loss_and_grad(pred, y, "mae")[1])
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


@pytest.mark.skipif(os.name != "posix", reason="counts page faults with the resource module (POSIX)")
def test_a_training_step_takes_no_fresh_memory_from_the_os():
    """In a fresh process (an ensemble's worker) the backward's big temporaries came from the OS
    each step: 1,258 page faults a step at batch 128 × 256 units, 8 % of the step's time.  Now
    they are buffers reused step after step."""
    result = subprocess.run([sys.executable, "-c", FRESH_PROCESS_BACKWARD], capture_output=True, text=True,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1"}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert float(result.stdout) < 100
