"""Backpropagation is right: analytic gradients vs finite differences, and the early stop of
BPTT in lstm_backward vs an independent, straightforward per-step reference without it."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli import network
from forecast_cli.lstm import lstm_backward, lstm_forward
from forecast_cli.train import loss_and_grad


# --------------------------------------------------------------------------------------------
# an independent reference: one step at a time, textbook formulas, no tricks


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def ref_forward(x, Wx, Wh, b):
    """Plain LSTM, gate order i, f, g, o; returns (h (T, B, H), per-step states for backward)."""
    T, B, _ = x.shape
    H = Wh.shape[0]
    h, c = np.zeros((B, H), x.dtype), np.zeros((B, H), x.dtype)
    hs, steps = [], []
    for t in range(T):
        z = x[t] @ Wx + h @ Wh + b
        i, f = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H])
        g, o = np.tanh(z[:, 2 * H:3 * H]), sigmoid(z[:, 3 * H:])
        c_prev, h_prev = c, h
        c = f * c_prev + i * g
        h = o * np.tanh(c)
        steps.append((x[t], h_prev, c_prev, i, f, g, o, c))
        hs.append(h)
    return np.stack(hs), steps


def ref_backward(dh_out, steps, Wx, Wh):
    """Full BPTT over every step (no early stop); returns (dx, dWx, dWh, db)."""
    T = len(steps)
    B, H = dh_out.shape[1:]
    dWx, dWh, db = np.zeros_like(Wx), np.zeros_like(Wh), np.zeros(Wh.shape[1], dh_out.dtype)
    dx = np.zeros((T, B, Wx.shape[0]), dh_out.dtype)
    dh_next, dc_next = np.zeros((B, H), dh_out.dtype), np.zeros((B, H), dh_out.dtype)
    for t in range(T - 1, -1, -1):
        x_t, h_prev, c_prev, i, f, g, o, c = steps[t]
        dh = dh_out[t] + dh_next
        tc = np.tanh(c)
        do = dh * tc
        dc = dc_next + dh * o * (1 - tc ** 2)
        di, df, dg = dc * g, dc * c_prev, dc * i
        dz = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
        dWx += x_t.T @ dz
        dWh += h_prev.T @ dz
        db += dz.sum(axis=0)
        dx[t] = dz @ Wx.T
        dh_next = dz @ Wh.T
        dc_next = dc * f
    return dx, dWx, dWh, db


def ref_network_grads(params, x, dy):
    """Gradients of a stacked network (head reads h_T) through the reference layers."""
    n_layers = network.shape_of(params).num_layers
    h, all_steps = x, []
    for k in range(n_layers):
        h, steps = ref_forward(h, params[f"lstm.{k}.Wx"], params[f"lstm.{k}.Wh"], params[f"lstm.{k}.b"])
        all_steps.append(steps)
    grads = {"head.W": h[-1].T @ dy, "head.b": dy.sum(axis=0)}
    dh = np.zeros_like(h)
    dh[-1] = dy @ params["head.W"].T
    for k in range(n_layers - 1, -1, -1):
        dh, grads[f"lstm.{k}.Wx"], grads[f"lstm.{k}.Wh"], grads[f"lstm.{k}.b"] = ref_backward(
            dh, all_steps[k], params[f"lstm.{k}.Wx"], params[f"lstm.{k}.Wh"])
    return grads


def rel_err(a, b) -> float:
    """‖a − b‖ / max(‖a‖, ‖b‖): the norm-wise relative error of one parameter's gradient."""
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


# --------------------------------------------------------------------------------------------
# finite differences


def make_problem(num_layers, n_inputs=3, hidden=5, horizon=4, T=7, B=3, seed=0):
    rng = np.random.default_rng(seed)
    shape = network.Shape(n_inputs, hidden, num_layers, horizon)
    params = network.init_params(shape, rng, np.float64)
    params["head.b"] = rng.normal(size=horizon)       # init leaves it 0; make every array generic
    x = rng.normal(size=(T, B, n_inputs))
    if n_inputs == 3:                                  # like season features: a sin/cos clock
        angle = 2 * np.pi * (np.arange(T)[:, None] + np.arange(B)[None, :]) / 12
        x[:, :, 1], x[:, :, 2] = np.sin(angle), np.cos(angle)
    return params, x, rng


def numeric_grads(params, loss_of, h=1e-6):
    grads = {}
    for name, p in params.items():
        g = np.zeros_like(p)
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + h
            up = loss_of(params)
            flat[j] = old - h
            down = loss_of(params)
            flat[j] = old
            gflat[j] = (up - down) / (2 * h)
        grads[name] = g
    return grads


def check_all(analytic, numeric, tol=1e-5):
    assert set(analytic) == set(numeric)
    for name in numeric:
        assert analytic[name].shape == numeric[name].shape, name
        assert np.any(numeric[name] != 0), f"{name}: zero gradient, the check would be vacuous"
        err = rel_err(analytic[name], numeric[name])
        assert err < tol, f"{name}: relative error {err:.2e}"


@pytest.mark.parametrize("num_layers", [2, 1])
def test_every_parameter_gradient_matches_finite_differences(num_layers):
    params, x, rng = make_problem(num_layers)
    weights = rng.normal(size=(x.shape[1], 4))        # L = Σ ŷ ⊙ W, so ∂L/∂ŷ = W

    def loss_of(p):
        return float((network.forward(p, x, dropout=0.0)[0] * weights).sum())

    _, cache = network.forward(params, x, dropout=0.0)
    analytic = network.backward(params, cache, weights)
    assert set(analytic) == set(params)
    check_all(analytic, numeric_grads(params, loss_of))


def test_gradients_with_dropout_match_finite_differences():
    """With a fixed dropout mask (same rng seed each pass) the masked network is differentiable too."""
    params, x, rng = make_problem(3, n_inputs=1, hidden=4, T=6)
    weights = rng.normal(size=(x.shape[1], 4))

    def run(p):
        return network.forward(p, x, dropout=0.4, rng=np.random.default_rng(11))

    y, cache = run(params)
    assert any(m is not None and (m == 0).any() for m in cache[1])      # some units really dropped
    check_all(network.backward(params, cache, weights),
              numeric_grads(params, lambda p: float((run(p)[0] * weights).sum())))


@pytest.mark.parametrize("kind", ["mae", "mse"])
def test_loss_path_gradients_match_finite_differences(kind):
    """loss_and_grad's ∂L/∂ŷ fed through backward gives the gradient of the scalar loss."""
    params, x, rng = make_problem(2)
    pred0 = network.forward(params, x)[0]
    # targets well away from the predictions, so |ŷ − y| has no kink within the FD step
    target = pred0 + rng.choice([-1.0, 1.0], size=pred0.shape) * rng.uniform(0.3, 1.0, size=pred0.shape)

    def loss_of(p):
        return loss_and_grad(network.forward(p, x)[0], target, kind)[0]

    pred, cache = network.forward(params, x)
    loss, dpred = loss_and_grad(pred, target, kind)
    assert loss == pytest.approx(loss_of(params))
    check_all(network.backward(params, cache, dpred), numeric_grads(params, loss_of))


def test_loss_and_grad_values():
    pred = np.array([[1.0, 2.0], [3.0, 5.0]])
    target = np.array([[0.0, 2.5], [3.0, 1.0]])
    loss, grad = loss_and_grad(pred, target, "mae")
    assert loss == pytest.approx((1 + 0.5 + 0 + 4) / 4)
    np.testing.assert_allclose(grad, np.sign(pred - target) / 4)
    loss, grad = loss_and_grad(pred, target, "mse")
    assert loss == pytest.approx((1 + 0.25 + 0 + 16) / 4)
    np.testing.assert_allclose(grad, 2 * (pred - target) / 4)


def test_analytic_gradients_match_reference_network():
    """Same numbers as the reference BPTT on a short float64 problem (both layers)."""
    params, x, rng = make_problem(2, T=12, B=4)
    dy = rng.normal(size=(4, 4))
    _, cache = network.forward(params, x)
    got = network.backward(params, cache, dy)
    want = ref_network_grads(params, x, dy)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-12, err_msg=name)


# --------------------------------------------------------------------------------------------
# the early stop of BPTT


def long_problem(T=300, B=4, n_inputs=3, hidden=16, seed=1):
    rng = np.random.default_rng(seed)
    params = network.init_params(network.Shape(n_inputs, hidden, 1, 1), rng, np.float32)
    x = rng.normal(size=(T, B, n_inputs)).astype(np.float32)
    dh_out = np.zeros((T, B, hidden), np.float32)
    dh_out[-1] = rng.normal(size=(B, hidden))          # as from a head that reads only h_T
    return params["lstm.0.Wx"], params["lstm.0.Wh"], params["lstm.0.b"], x, dh_out


def test_bptt_early_stop_changes_gradients_only_at_rounding_level():
    Wx, Wh, b, x, dh_out = long_problem()
    T = x.shape[0]
    _, cache = lstm_forward(x, Wx, Wh, b)
    dx, dWx, dWh, db, stop = lstm_backward(dh_out, cache, Wx, Wh, first_grad_step=T - 1)
    # the shortcut must actually have been taken, or this test checks nothing
    assert 0 < stop < T - 1, f"stop={stop}: expected BPTT to stop early on a {T}-step sequence"

    # float32 reference over every step, and float64 as the truth
    _, steps32 = ref_forward(x, Wx, Wh, b)
    ref32 = ref_backward(dh_out, steps32, Wx, Wh)
    f64 = [a.astype(np.float64) for a in (x, Wx, Wh, b, dh_out)]
    _, steps64 = ref_forward(*f64[:4])
    ref64 = ref_backward(f64[4], steps64, f64[1], f64[2])

    eps32 = np.finfo(np.float32).eps
    for name, got, r32, r64 in zip(("dx", "dWx", "dWh", "db"), (dx, dWx, dWh, db), ref32, ref64):
        assert got.dtype == np.float32
        # the skipped steps add nothing visible: same as full BPTT in the same precision …
        assert rel_err(got, r32) < 50 * eps32, f"{name}: {rel_err(got, r32):.2e} vs full float32 BPTT"
        # … and as accurate as full BPTT against float64
        assert rel_err(got, r64) < max(2 * rel_err(r32, r64), 50 * eps32), name
    # what was cut off was negligible: the reference's gradient before `stop` is below rounding
    assert np.abs(ref64[0][:stop]).max() <= 10 * eps32 * np.abs(ref64[0]).max()
    assert not dx[:stop].any()


def test_bptt_early_stop_in_a_two_layer_network():
    """The lower layer starts its cut-off from where the upper one stopped; still exact."""
    rng = np.random.default_rng(3)
    params = network.init_params(network.Shape(3, 12, 2, 5), rng, np.float32)
    x = rng.normal(size=(300, 4, 3)).astype(np.float32)
    dy = rng.normal(size=(4, 5)).astype(np.float32)
    _, cache = network.forward(params, x)
    got = network.backward(params, cache, dy)
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    want = ref_network_grads(p64, x.astype(np.float64), dy.astype(np.float64))
    for name in want:
        assert rel_err(got[name], want[name]) < 1e-5, f"{name}: {rel_err(got[name], want[name]):.2e}"


def test_bptt_without_early_stop_before_first_grad_step():
    """Gradient arriving at every step (first_grad_step=0) is never cut short."""
    Wx, Wh, b, x, _ = long_problem(T=60)
    rng = np.random.default_rng(5)
    dh_out = rng.normal(size=(60, x.shape[1], Wh.shape[0])).astype(np.float32)
    _, cache = lstm_forward(x, Wx, Wh, b)
    dx, dWx, dWh, db, stop = lstm_backward(dh_out, cache, Wx, Wh, first_grad_step=0)
    assert stop == 0
    _, steps = ref_forward(x, Wx, Wh, b)
    for got, want in zip((dx, dWx, dWh, db), ref_backward(dh_out, steps, Wx, Wh)):
        assert rel_err(got, want) < 50 * np.finfo(np.float32).eps
