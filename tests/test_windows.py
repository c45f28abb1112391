"""Windows: which (series, cut) pairs exist, what they hold, how they are scaled, the clock."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli.config import Config
from forecast_cli.data import load_series
from forecast_cli.windows import (Panel, Scaler, WindowMaker, gather_inputs, gather_targets,
                                  n_features, network_inputs, phase_at, window_pairs)

from conftest import AIR, MACRO, M4


def by_hand(lengths, input_size, horizon, holdout=0):
    """Every cut e with input_size ≤ e and e + horizon ≤ len − holdout, series by series."""
    return [(s, e) for s, n in enumerate(lengths) for e in range(n + 1)
            if e >= input_size and e + horizon <= n - holdout]


@pytest.mark.parametrize("lengths,input_size,horizon,holdout", [
    ([10, 7, 3], 3, 2, 0),
    ([10, 7, 3], 3, 2, 1),
    ([5], 3, 2, 0),          # exactly one window
    ([4, 0, 12], 3, 2, 0),   # too short, empty and long series mixed
    ([20, 20], 1, 1, 5),
    ([6, 6], 3, 2, 3),       # the holdout leaves nothing
])
def test_window_pairs_match_hand_enumeration(lengths, input_size, horizon, holdout):
    pairs = window_pairs(np.array(lengths), input_size, horizon, holdout)
    assert pairs.dtype == np.int64 and pairs.shape == (len(by_hand(lengths, input_size, horizon, holdout)), 2)
    assert [tuple(p) for p in pairs.tolist()] == by_hand(lengths, input_size, horizon, holdout)


def test_window_pairs_count_formula():
    lengths = np.array([100, 50, 9, 31])
    pairs = window_pairs(lengths, 12, 6, holdout=6)
    assert len(pairs) == sum(max(n - 6 - 6 - 12 + 1, 0) for n in lengths)


def test_window_contents_by_hand():
    a, b = np.arange(10.0), 100 + np.arange(7.0)
    panel = Panel.from_series([a, b])
    pairs = np.array([[0, 3], [1, 5], [0, 8]])
    np.testing.assert_array_equal(gather_inputs(panel, pairs, 3), [[0, 1, 2], [102, 103, 104], [5, 6, 7]])
    np.testing.assert_array_equal(gather_targets(panel, pairs, 2), [[3, 4], [105, 106]] + [[8, 9]])
    # every pair from window_pairs reads inside its own series
    for s, e in window_pairs(panel.lengths, 3, 2):
        series = [a, b][s]
        np.testing.assert_array_equal(gather_inputs(panel, np.array([[s, e]]), 3)[0], series[e - 3:e])
        np.testing.assert_array_equal(gather_targets(panel, np.array([[s, e]]), 2)[0], series[e:e + 2])


def test_batch_is_scaled_time_major_with_targets():
    series = np.array([2.0, 4.0, 6.0, 8.0, 10.0, 12.0])
    panel = Panel.from_series([series])
    maker = WindowMaker(input_size=3, horizon=2, season=1, season_features=True, scaler=Scaler("mean"),
                        dtype=np.float64)
    x, y = maker.batch(panel, np.array([[0, 3]]))
    assert x.shape == (3, 1, 1)                    # (T, B, F); season 1 → no clock features
    np.testing.assert_allclose(x[:, 0, 0], np.array([2, 4, 6]) / 4.0)
    np.testing.assert_allclose(y, [[8 / 4.0, 10 / 4.0]])


def test_scaler_statistics_by_hand():
    inputs = np.array([[1.0, -3.0, 5.0], [0.0, 0.0, 0.0], [2.0, 2.0, 2.0]])
    shift, scale = Scaler("mean").stats(inputs)
    np.testing.assert_allclose(shift, 0)
    np.testing.assert_allclose(scale, [[3.0], [1.0], [2.0]])            # mean |x|; 1 where it is 0
    shift, scale = Scaler("standard").stats(inputs)
    np.testing.assert_allclose(shift, [[1.0], [0.0], [2.0]])
    np.testing.assert_allclose(scale, [[np.std([1, -3, 5])], [1.0], [1.0]])  # σ := 1 where it is 0
    g = Scaler.fit("global", np.array([1.0, 3.0, 5.0, 7.0]))
    assert (g.mu, g.sigma) == pytest.approx((4.0, np.std([1, 3, 5, 7])))
    shift, scale = g.stats(inputs)
    np.testing.assert_allclose(shift, 4.0)
    np.testing.assert_allclose(scale, np.std([1, 3, 5, 7]))
    assert Scaler.fit("mean", np.array([1.0, 2.0])) == Scaler("mean")   # per-window: nothing to fit


@pytest.mark.parametrize("method", ["mean", "standard", "global"])
def test_scaling_uses_only_the_input_window(method):
    """Changing a window's future changes its targets but neither its input nor its statistics."""
    rng = np.random.default_rng(0)
    base = 50 + rng.normal(size=40)
    changed = base.copy()
    changed[24:] = 1000 * rng.normal(size=16)                 # the future of the cut at 24
    scaler = Scaler.fit(method, base)                         # global: one fixed set of statistics
    maker = WindowMaker(24, 8, 12, True, scaler, np.float64)
    pair = np.array([[0, 24]])
    x1, u1 = maker.inputs(Panel.from_series([base]), pair)
    shift1, scale1 = u1.shift, u1.scale
    x2, u2 = maker.inputs(Panel.from_series([changed]), pair)
    shift2, scale2 = u2.shift, u2.scale
    np.testing.assert_array_equal(x1, x2)
    np.testing.assert_array_equal(shift1, shift2)
    np.testing.assert_array_equal(scale1, scale2)
    y1 = maker.batch(Panel.from_series([base]), pair)[1]
    y2 = maker.batch(Panel.from_series([changed]), pair)[1]
    assert not np.allclose(y1, y2)
    # and the targets are scaled with the input's statistics
    np.testing.assert_allclose(y2, (changed[24:32] - shift1) / scale1, rtol=1e-12)


@pytest.mark.parametrize("method", ["mean", "standard", "global"])
@pytest.mark.parametrize("value", [0.0, 7.5, -3.0])
def test_constant_and_zero_windows_are_finite(method, value):
    series = np.full(30, value)
    scaler = Scaler.fit(method, series)
    maker = WindowMaker(12, 6, 4, True, scaler, np.float32)
    x, y = maker.batch(Panel.from_series([series]), window_pairs(np.array([30]), 12, 6))
    assert np.all(np.isfinite(x)) and np.all(np.isfinite(y))
    # x̃ and ỹ are the same constant (a flat past maps to a flat scaled target)
    assert np.ptp(x[:, :, 0]) == 0 and np.all(y == x[0, 0, 0])


def test_season_features_phase_by_hand():
    """Input step t of a window cut at e sits at clock position phase0 + e − T + t."""
    phase0, e, T, m = 5, 10, 4, 12
    panel = Panel.from_series([np.arange(20.0)], phase0=[phase0])
    pairs = np.array([[0, e]])
    assert phase_at(panel, pairs).tolist() == [15]           # the first forecast step: 15 ≡ 3 (mod 12)
    x = network_inputs(gather_inputs(panel, pairs, T), 0.0, 1.0, phase_at(panel, pairs), m, True, np.float64)
    positions = np.array([11, 12, 13, 14]) % m               # = 11, 0, 1, 2
    np.testing.assert_allclose(x[:, 0, 1], np.sin(2 * np.pi * positions / m), atol=1e-12)
    np.testing.assert_allclose(x[:, 0, 2], np.cos(2 * np.pi * positions / m), atol=1e-12)
    np.testing.assert_allclose(x[:, 0, 0], [6, 7, 8, 9])


def test_same_season_position_gives_same_clock():
    """Windows a whole number of seasons apart (any series, any phase0) read the same clock."""
    panel = Panel.from_series([np.zeros(60), np.zeros(60)], phase0=[0, 7])
    maker = WindowMaker(6, 3, 12, True, Scaler("mean"), np.float64)
    x, _ = maker.inputs(panel, np.array([[0, 13], [0, 25], [1, 6], [0, 14]]))
    np.testing.assert_allclose(x[:, 0, 1:], x[:, 1, 1:], atol=1e-12)
    np.testing.assert_allclose(x[:, 0, 1:], x[:, 2, 1:], atol=1e-12)     # 13 ≡ 7 + 6 (mod 12)
    assert not np.allclose(x[:, 0, 1:], x[:, 3, 1:])


def test_n_features():
    assert n_features(12, True) == 3
    assert n_features(12, False) == 1
    assert n_features(1, True) == 1
    panel = Panel.from_series([np.arange(10.0)])
    assert WindowMaker(4, 2, 1, True, Scaler(), np.float32).inputs(panel, np.array([[0, 4]]))[0].shape == (4, 1, 1)
    assert WindowMaker(4, 2, 7, False, Scaler(), np.float32).inputs(panel, np.array([[0, 4]]))[0].shape == (4, 1, 1)


def test_data_clock_is_the_calendar_position():
    """The data layer's phase0 modulo the season is the month of year / quarter / step."""
    air = load_series(str(AIR), Config())                      # starts 1949-01
    assert air.phase0()[0] % 12 == 0
    macro = load_series(str(MACRO), Config())                  # starts 1959 Q1
    assert all(p % 4 == 0 for p in macro.phase0())
    m4 = load_series(str(M4), Config())                        # integer steps: the step itself
    assert m4.phase0() == [int(t[0]) for t in m4.times]


def test_clock_of_an_april_start_and_an_hourly_start(tmp_path):
    monthly = tmp_path / "m.csv"
    monthly.write_text("ds,y\n" + "".join(f"2021-{m:02d}-01,{m}\n" for m in range(4, 13)))
    assert load_series(str(monthly), Config()).phase0()[0] % 12 == 3          # April
    hourly = tmp_path / "h.csv"
    hourly.write_text("ds,y\n" + "".join(f"2021-03-01 {h:02d}:00:00,{h}\n" for h in range(5, 20)))
    assert load_series(str(hourly), Config()).phase0()[0] % 24 == 5           # 05:00


def test_skip_connection_makes_a_zero_output_the_seasonal_naive_forecast():
    """With skip, targets are relative to the last season repeated; a network output of 0
    maps back to exactly the seasonal naive forecast, in data units."""
    series = np.arange(1.0, 31.0) ** 1.5
    panel = Panel.from_series([series])
    maker = WindowMaker(12, 7, 5, True, Scaler("mean"), np.float64, skip=True)
    x, unscale = maker.inputs(panel, np.array([[0, 20]]))
    expected = np.resize(series[15:20], 7)
    np.testing.assert_allclose(unscale.to_data(np.zeros((1, 7))), expected[None, :])
    _, y = maker.batch(panel, np.array([[0, 20]]))
    np.testing.assert_allclose(unscale.to_data(y), series[None, 20:27])


def test_panel_truncated_by_hand():
    panel = Panel.from_series([np.arange(5.0), np.arange(10.0, 12.0)], [3, 7])
    cut = panel.truncated(3)
    assert cut.lengths.tolist() == [2, 0]                       # a series of 2 keeps nothing
    assert cut.values.tolist() == [0.0, 1.0] and cut.phase0.tolist() == [3, 7]
