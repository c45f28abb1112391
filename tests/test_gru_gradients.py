"""The GRU's backpropagation is right: analytic gradients vs finite differences (every parameter
and the input, float64), vs an independent per-step reference, and the early stop of BPTT vs
the reference without it."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli import network
from forecast_cli.gru import gru_backward, gru_forward

from test_lstm_gradients import check_all, numeric_grads, rel_err


# --------------------------------------------------------------------------------------------
# an independent reference: one step at a time, torch.nn.GRU's formulas as written, no tricks


def sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def ref_forward(x, Wx, Wh, bx, bh):
    """Plain GRU, gate order r, z, n; returns (h (T, B, H), per-step states for backward)."""
    T, B, _ = x.shape
    H = Wh.shape[0]
    h, hs, steps = np.zeros((B, H), x.dtype), [], []
    for t in range(T):
        gx, gh = x[t] @ Wx + bx, h @ Wh + bh
        r = sigmoid(gx[:, :H] + gh[:, :H])
        z = sigmoid(gx[:, H:2 * H] + gh[:, H:2 * H])
        m = gh[:, 2 * H:]
        n = np.tanh(gx[:, 2 * H:] + r * m)
        steps.append((x[t], h, r, z, m, n))
        h = (1 - z) * n + z * h
        hs.append(h)
    return np.stack(hs), steps


def ref_backward(dh_out, steps, Wx, Wh):
    """Full BPTT over every step; returns (dx, dWx, dWh, dbx, dbh)."""
    T, (B, H) = len(steps), dh_out.shape[1:]
    dWx, dWh = np.zeros_like(Wx), np.zeros_like(Wh)
    dbx, dbh = np.zeros(3 * H, dh_out.dtype), np.zeros(3 * H, dh_out.dtype)
    dx = np.zeros((T, B, Wx.shape[0]), dh_out.dtype)
    dh_next = np.zeros((B, H), dh_out.dtype)
    for t in range(T - 1, -1, -1):
        x_t, h_prev, r, z, m, n = steps[t]
        dh = dh_out[t] + dh_next
        dn, dz = dh * (1 - z), dh * (h_prev - n)
        dan = dn * (1 - n ** 2)
        dr = dan * m
        dar, daz = dr * r * (1 - r), dz * z * (1 - z)
        dgx = np.concatenate([dar, daz, dan], axis=1)          # ∂ of x Wx + bx
        dgh = np.concatenate([dar, daz, dan * r], axis=1)      # ∂ of h Wh + bh
        dWx += x_t.T @ dgx
        dbx += dgx.sum(axis=0)
        dWh += h_prev.T @ dgh
        dbh += dgh.sum(axis=0)
        dx[t] = dgx @ Wx.T
        dh_next = dh * z + dgh @ Wh.T
    return dx, dWx, dWh, dbx, dbh


NAMES = ("Wx", "Wh", "bx", "bh")


def layer_arrays(params, k):
    return [params[f"gru.{k}.{name}"] for name in NAMES]


def ref_network_grads(params, x, dy):
    """Gradients of a stacked GRU network (head reads h_T) through the reference layers."""
    n_layers = network.shape_of(params).num_layers
    h, all_steps = x, []
    for k in range(n_layers):
        h, steps = ref_forward(h, *layer_arrays(params, k))
        all_steps.append(steps)
    grads = {"head.W": h[-1].T @ dy, "head.b": dy.sum(axis=0)}
    dh = np.zeros_like(h)
    dh[-1] = dy @ params["head.W"].T
    for k in range(n_layers - 1, -1, -1):
        Wx, Wh, _, _ = layer_arrays(params, k)
        dh, *layer_grads = ref_backward(dh, all_steps[k], Wx, Wh)
        grads.update((f"gru.{k}.{name}", g) for name, g in zip(NAMES, layer_grads))
    return grads


def make_problem(num_layers, n_inputs=3, hidden=5, horizon=4, T=7, B=3, seed=0):
    """A float64 GRU network with every array generic (no zero or one biases)."""
    rng = np.random.default_rng(seed)
    params = network.init_params(network.Shape(n_inputs, hidden, num_layers, horizon, "gru"), rng, np.float64)
    params = {name: p + rng.normal(0, 0.3, p.shape) for name, p in params.items()}
    return params, rng.normal(size=(T, B, n_inputs)), rng


# --------------------------------------------------------------------------------------------
# finite differences


SHAPES = [  # layers, inputs, hidden, horizon, T, B
    (1, 3, 5, 4, 7, 3), (2, 3, 5, 4, 7, 3), (1, 1, 1, 1, 2, 1), (2, 2, 4, 3, 12, 2), (1, 6, 3, 2, 5, 5),
]


@pytest.mark.parametrize("layers,inputs,hidden,horizon,T,B", SHAPES)
def test_every_parameter_and_input_gradient_matches_finite_differences(layers, inputs, hidden, horizon, T, B):
    params, x, rng = make_problem(layers, inputs, hidden, horizon, T, B)
    weights = rng.normal(size=(B, horizon))           # L = Σ ŷ ⊙ W, so ∂L/∂ŷ = W

    def loss_of(p):
        p = dict(p)
        return float((network.forward(p, p.pop("x"))[0] * weights).sum())

    _, cache = network.forward(params, x)
    analytic = network.backward(params, cache, weights)
    assert set(analytic) == set(params)
    analytic["x"] = input_gradient(params, x, weights)
    check_all(analytic, numeric_grads({**params, "x": x.copy()}, loss_of))


def input_gradient(params, x, dy):
    """∂L/∂x of the stacked network: the bottom layer's dx (network.backward does not ask for it)."""
    caches, h = [], x
    for k in range(network.shape_of(params).num_layers):
        h, cache = gru_forward(h, *layer_arrays(params, k))
        caches.append(cache)
    dh = np.zeros_like(h)
    dh[-1] = dy @ params["head.W"].T
    for k in range(len(caches) - 1, -1, -1):
        Wx, Wh, _, _ = layer_arrays(params, k)
        dh = gru_backward(dh, caches[k], Wx, Wh, first_grad_step=0)[0]
    return dh


def test_gradients_with_dropout_match_finite_differences():
    """With a fixed dropout mask (same rng seed each pass) the masked network is differentiable too."""
    params, x, rng = make_problem(3, n_inputs=1, hidden=4, T=6)
    weights = rng.normal(size=(x.shape[1], 4))

    def run(p):
        return network.forward(p, x, dropout=0.4, rng=np.random.default_rng(11))

    _, cache = run(params)
    assert any(m is not None and (m == 0).any() for m in cache[1])      # some units really dropped
    check_all(network.backward(params, cache, weights),
              numeric_grads(params, lambda p: float((run(p)[0] * weights).sum())))


def test_analytic_gradients_match_the_reference_network():
    """Same numbers as the reference BPTT on a float64 problem (both layers)."""
    params, x, rng = make_problem(2, T=12, B=4)
    dy = rng.normal(size=(4, 4))
    _, cache = network.forward(params, x)
    got = network.backward(params, cache, dy)
    want = ref_network_grads(params, x, dy)
    assert got.keys() == want.keys()
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-10, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("layers", [1, 2])
def test_forward_and_inference_path_match_the_reference(layers):
    """Training forward (with caches) and predict (no caches, fused weights, blocks) give the
    reference's outputs."""
    params, x, _ = make_problem(layers, T=9, B=5)
    h = x
    for k in range(layers):
        h, _ = ref_forward(h, *layer_arrays(params, k))
    want = h[-1] @ params["head.W"] + params["head.b"]
    np.testing.assert_allclose(network.forward(params, x)[0], want, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(network.predict(params, x, block=2), want, rtol=1e-12, atol=1e-12)


def test_init_params_is_torchs():
    """Every array of the layers from U(±1/√H), as torch.nn.GRU starts; the names say the cell."""
    H = 16
    params = network.init_params(network.Shape(3, H, 2, 5, "gru"), np.random.default_rng(0), np.float64)
    assert sorted(params) == sorted([f"gru.{k}.{n}" for k in range(2) for n in NAMES] + ["head.W", "head.b"])
    for k in range(2):
        assert params[f"gru.{k}.Wx"].shape == ((3 if k == 0 else H), 3 * H)
        assert params[f"gru.{k}.Wh"].shape == (H, 3 * H)
        assert params[f"gru.{k}.bx"].shape == params[f"gru.{k}.bh"].shape == (3 * H,)
        assert all(np.abs(params[f"gru.{k}.{n}"]).max() <= 1 / np.sqrt(H) for n in NAMES)
    assert network.shape_of(params) == network.Shape(3, H, 2, 5, "gru")


# --------------------------------------------------------------------------------------------
# the early stop of BPTT


def long_problem(T=300, B=4, n_inputs=3, hidden=16, seed=1):
    rng = np.random.default_rng(seed)
    params = network.init_params(network.Shape(n_inputs, hidden, 1, 1, "gru"), rng, np.float32)
    x = rng.normal(size=(T, B, n_inputs)).astype(np.float32)
    dh_out = np.zeros((T, B, hidden), np.float32)
    dh_out[-1] = rng.normal(size=(B, hidden))          # as from a head that reads only h_T
    return layer_arrays(params, 0), x, dh_out


def test_bptt_early_stop_changes_gradients_only_at_rounding_level():
    arrays, x, dh_out = long_problem()
    Wx, Wh = arrays[:2]
    T = x.shape[0]
    _, cache = gru_forward(x, *arrays)
    dx, *grads, stop = gru_backward(dh_out, cache, Wx, Wh, first_grad_step=T - 1)
    assert 0 < stop < T - 1, f"stop={stop}: expected BPTT to stop early on a {T}-step sequence"

    _, steps32 = ref_forward(x, *arrays)
    ref32 = ref_backward(dh_out, steps32, Wx, Wh)
    f64 = [a.astype(np.float64) for a in (*arrays, dh_out)]
    _, steps64 = ref_forward(x.astype(np.float64), *f64[:4])
    ref64 = ref_backward(f64[4], steps64, f64[0], f64[1])

    eps32 = np.finfo(np.float32).eps
    for name, got, r32, r64 in zip(("dx", *NAMES), (dx, *grads), ref32, ref64):
        assert got.dtype == np.float32
        assert rel_err(got, r32) < 50 * eps32, f"{name}: {rel_err(got, r32):.2e} vs full float32 BPTT"
        assert rel_err(got, r64) < max(2 * rel_err(r32, r64), 50 * eps32), name
    assert np.abs(ref64[0][:stop]).max() <= 10 * eps32 * np.abs(ref64[0]).max()
    assert not dx[:stop].any()


def test_bptt_early_stop_in_a_two_layer_network():
    """The lower layer starts its cut-off from where the upper one stopped; still exact."""
    rng = np.random.default_rng(3)
    params = network.init_params(network.Shape(3, 12, 2, 5, "gru"), rng, np.float32)
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
    arrays, x, _ = long_problem(T=60)
    Wx, Wh = arrays[:2]
    dh_out = np.random.default_rng(5).normal(size=(60, x.shape[1], Wh.shape[0])).astype(np.float32)
    _, cache = gru_forward(x, *arrays)
    dx, *grads, stop = gru_backward(dh_out, cache, Wx, Wh, first_grad_step=0)
    assert stop == 0
    _, steps = ref_forward(x, *arrays)
    for got, want in zip((dx, *grads), ref_backward(dh_out, steps, Wx, Wh)):
        assert rel_err(got, want) < 50 * np.finfo(np.float32).eps
