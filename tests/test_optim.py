"""Optimisers, gradient clipping and learning-rate schedules against hand-computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecast_cli.optim import SGD, Adam, clip_by_global_norm, learning_rate


def test_adam_two_steps_by_hand():
    p = {"w": np.array([1.0, -2.0])}
    opt = Adam(p)
    g1, g2 = np.array([0.5, -0.1]), np.array([-0.2, 0.3])
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-8

    opt.update(p, {"w": g1.copy()}, lr)
    # step 1: m̂ = g, v̂ = g², so the step is lr · sign(g) (up to ε, which is far below rtol here)
    np.testing.assert_allclose(p["w"], [1.0 - 0.1, -2.0 + 0.1], rtol=1e-5)

    opt.update(p, {"w": g2.copy()}, lr)
    m = b1 * (1 - b1) * g1 + (1 - b1) * g2
    v = b2 * (1 - b2) * g1 ** 2 + (1 - b2) * g2 ** 2
    m_hat, v_hat = m / (1 - b1 ** 2), v / (1 - b2 ** 2)
    want = np.array([0.9, -1.9]) - lr * m_hat / (np.sqrt(v_hat) + eps)
    np.testing.assert_allclose(p["w"], want, rtol=1e-5)
    # by hand for the first entry: m = 0.045 − 0.02 = 0.025, v = 0.00024975 + 0.00004 = 0.00028975
    assert m[0] == pytest.approx(0.025) and v[0] == pytest.approx(0.00028975)
    assert p["w"][0] == pytest.approx(0.9 - 0.1 * (0.025 / 0.19) / math.sqrt(0.00028975 / 0.001999), rel=1e-6)
    assert int(opt.state["step"]) == 2


def test_adam_epsilon_as_documented_for_tiny_gradients():
    p = {"w": np.array([0.0])}
    Adam(p).update(p, {"w": np.array([1e-8])}, 1.0)
    # m̂ = 1e-8, √v̂ = 1e-8: the documented step is 1e-8 / (1e-8 + 1e-8) = 0.5
    assert p["w"][0] == pytest.approx(-0.5, rel=1e-6)


def test_adam_weight_decay_adds_to_gradient():
    p, q = {"w": np.array([2.0])}, {"w": np.array([2.0])}
    Adam(p, weight_decay=0.5).update(p, {"w": np.array([0.0])}, 0.01)
    Adam(q).update(q, {"w": np.array([1.0])}, 0.01)     # g + λθ = 0 + 0.5·2
    np.testing.assert_allclose(p["w"], q["w"])
    assert p["w"][0] == pytest.approx(1.99, rel=1e-6)


def test_adam_keeps_dtype_and_updates_in_place():
    w = np.ones(3, dtype=np.float32)
    p = {"w": w}
    Adam(p).update(p, {"w": np.ones(3, np.float32)}, 0.1)
    assert p["w"] is w and w.dtype == np.float32
    np.testing.assert_allclose(w, 0.9, rtol=1e-6)


def test_sgd_step_by_hand():
    p = {"a": np.array([1.0, 2.0]), "b": np.array([[3.0]])}
    SGD(p, weight_decay=0.1).update(p, {"a": np.array([0.5, -1.0]), "b": np.array([[2.0]])}, 0.2)
    np.testing.assert_allclose(p["a"], [1.0 - 0.2 * (0.5 + 0.1), 2.0 - 0.2 * (-1.0 + 0.2)])
    np.testing.assert_allclose(p["b"], [[3.0 - 0.2 * (2.0 + 0.3)]])


def test_clip_by_global_norm_scales_all_arrays_together():
    grads = {"a": np.array([3.0]), "b": np.array([[0.0, 4.0]])}
    norm = clip_by_global_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(grads["a"], [0.6])
    np.testing.assert_allclose(grads["b"], [[0.0, 0.8]])
    total = math.sqrt(sum(float((g ** 2).sum()) for g in grads.values()))
    assert total == pytest.approx(1.0, rel=1e-9)


def test_clip_leaves_small_gradients_and_zero_turns_it_off():
    grads = {"a": np.array([0.3, 0.4])}
    assert clip_by_global_norm(grads, 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(grads["a"], [0.3, 0.4])
    big = {"a": np.array([30.0, 40.0])}
    assert clip_by_global_norm(big, 0.0) == pytest.approx(50.0)
    np.testing.assert_array_equal(big["a"], [30.0, 40.0])


def test_cosine_schedule():
    assert learning_rate("cosine", 0.1, 0, 10) == pytest.approx(0.1)
    assert learning_rate("cosine", 0.1, 5, 10) == pytest.approx(0.1 * (0.01 + 0.99 * 0.5))
    last = learning_rate("cosine", 0.1, 9, 10)
    assert last == pytest.approx(0.1 * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * 0.9))))
    assert 0.001 < last < 0.004
    assert learning_rate("cosine", 0.1, 10, 10) == pytest.approx(0.001)     # decays to 1% of lr₀
    rates = [learning_rate("cosine", 0.1, e, 10) for e in range(10)]
    assert all(a > b for a, b in zip(rates, rates[1:]))


def test_step_schedule_halves_each_quarter():
    rates = [learning_rate("step", 0.08, e, 8) for e in range(8)]
    assert rates == pytest.approx([0.08, 0.08, 0.04, 0.04, 0.02, 0.02, 0.01, 0.01])


def test_constant_schedule():
    assert {learning_rate("constant", 0.3, e, 7) for e in range(7)} == {0.3}
