"""Prediction intervals (forecast_cli/intervals.py): the conformal quantile, pooling, scales and
windows against hand-computed values; ordering and coverage on a trained model; the model file."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli import Config, Forecaster, intervals, metrics, modelfile
from forecast_cli.errors import ForecastError, ModelFileError
from forecast_cli.intervals import Calibration
from forecast_cli.windows import Panel


# ------------------------------------------------------------------------------------------
# the pieces, by hand


def test_conformal_quantile_rank_by_hand():
    """n = 19 residuals 1 … 19: q(ℓ) = r_(⌈20·ℓ/100⌉), capped at n."""
    r = np.arange(1.0, 20.0)[:, None]                 # one step, 19 windows
    q, count = intervals.pooled_halfwidths(r, min_pooled=1)
    assert count.tolist() == [19]
    assert q[95 - 1, 0] == 19.0                       # ⌈20·0.95⌉ = 19
    assert q[90 - 1, 0] == 18.0                       # ⌈20·0.90⌉ = 18
    assert q[50 - 1, 0] == 10.0                       # ⌈20·0.50⌉ = 10
    assert q[99 - 1, 0] == 19.0                       # ⌈19.8⌉ = 20 > n: the largest
    assert q[1 - 1, 0] == 1.0                         # ⌈0.2⌉ = 1


def test_rank_is_exact_where_floats_would_round():
    """(n + 1)·ℓ/100 = 950 exactly for n = 999, ℓ = 95: rank 950, not 951."""
    r = np.arange(1.0, 1000.0)[:, None]
    q, _ = intervals.pooled_halfwidths(r, min_pooled=1)
    assert q[95 - 1, 0] == 950.0


def test_pooling_widens_until_enough_residuals():
    """3 windows × 5 steps, min_pooled 9: step 0 pools steps 0-2 (w = 2), step 1 steps 0-2 (w = 1)."""
    r = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]] * 3)
    q, count = intervals.pooled_halfwidths(r, min_pooled=9)
    assert count.tolist() == [9, 9, 9, 9, 9]
    # the step profile is g = 1 … 5: step j's residual j becomes j·g_k/g_j = k at step k, so
    # every pooled residual of step k is k and so is its quantile
    np.testing.assert_allclose(q[50 - 1], [1.0, 2.0, 3.0, 4.0, 5.0])


def test_step_profile_is_the_non_decreasing_fit_to_the_mean_residuals():
    # step means 3, 1, 2, 5 with counts 2, 2, 1, 2: 3 > 1 pool to 2 (weights 2, 2), then 2 ≤ 2
    r = np.array([[3.0, 1.0, 2.0, 5.0], [3.0, 1.0, np.nan, 5.0]])
    np.testing.assert_allclose(intervals.step_profile(r), [2.0, 2.0, 2.0, 5.0])
    assert intervals.step_profile(np.zeros((2, 3))).tolist() == [1.0, 1.0, 1.0]


def test_pooled_intervals_widen_with_the_horizon():
    """One series, residuals growing with the step: every step pooled, yet q grows."""
    r = np.abs(np.random.default_rng(3).standard_normal((5, 12))) * np.sqrt(np.arange(1, 13))
    q, count = intervals.pooled_halfwidths(r, min_pooled=1000)
    assert count.tolist() == [60] * 12
    assert np.all(np.diff(q[95 - 1]) >= 0) and q[95 - 1, -1] > 1.5 * q[95 - 1, 0]


def test_pooling_skips_steps_not_held_out():
    r = np.array([[np.nan, np.nan, 5.0], [np.nan, 1.0, 2.0], [3.0, 4.0, 6.0]])
    q, count = intervals.pooled_halfwidths(r, min_pooled=1)
    assert count.tolist() == [1, 2, 3]
    assert q[99 - 1].tolist() == [3.0, 4.0, 6.0]


def test_pooling_everything_when_windows_are_few():
    r = np.array([[1.0, 2.0], [3.0, 4.0]])
    q, count = intervals.pooled_halfwidths(r, min_pooled=1000)
    assert count.tolist() == [4, 4]
    # profile g = (2, 3), the step means; at step 0 the pooled residuals are 1, 3, 2·2/3, 4·2/3 and
    # the third smallest (⌈5·0.6⌉ = 3) is 8/3; at step 1: 1.5, 4.5, 2, 4 → 4
    np.testing.assert_allclose(q[60 - 1], [8 / 3, 4.0])


def test_halfwidths_grow_with_the_level():
    r = np.abs(np.random.default_rng(0).standard_normal((50, 6)))
    q, _ = intervals.pooled_halfwidths(r, min_pooled=100)
    assert np.all(np.diff(q, axis=0) >= 0)


def test_history_scales_match_metrics_seasonal_scale():
    rng = np.random.default_rng(1)
    series = [rng.normal(100, 10, n) for n in (5, 30, 61)] + [np.ones(12), np.r_[np.ones(8), 2.0]]
    panel = Panel.from_series(series)
    pairs = np.array([(s, c) for s, x in enumerate(series) for c in range(1, len(x) + 1)])
    got = intervals.history_scales(panel, pairs, 4)
    want = [metrics.seasonal_scale(series[s][:c], 4) for s, c in pairs]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_history_scale_by_hand():
    """x = 1 2 4 8 3, m = 2: |4−1|, |8−2|, |3−4| → d = 10/3; cut at 2: only lag 1 → |2 − 1| = 1."""
    panel = Panel.from_series([np.array([1.0, 2.0, 4.0, 8.0, 3.0])])
    assert intervals.history_scales(panel, np.array([[0, 5], [0, 2], [0, 1]]), 2).tolist() == [10 / 3, 1.0, 1.0]


def test_scales_geometric_mean_floor_and_fallback():
    d, e = np.array([4.0, 4.0, 4.0]), np.array([1.0, 0.0, np.nan])
    # √(4·1) = 2; e = 0 floored at d/1000 → √(4·0.004); unknown e = ρ·d = 0.25·4 → √(4·1)
    np.testing.assert_allclose(intervals.scales(d, e, ratio=0.25), [2.0, np.sqrt(0.016), 2.0])


def test_recent_errors_by_hand():
    """A 'model' that forecasts zeros: e is the mean |y| over the windows before the cut."""
    panel = Panel.from_series([np.arange(10.0)])
    zeros = lambda p, pairs: np.zeros((len(pairs), 2))  # noqa: E731
    # cut 9, h 2, input 3: windows cut at 7 (targets 7, 8) and 5 (targets 5, 6) → mean 6.5
    assert intervals.recent_errors(zeros, panel, np.array([[0, 9]]), 3, 2).tolist() == [6.5]
    # cut 6: only the window cut at 4 fits after 3 inputs (the one at 2 does not) → (4 + 5)/2
    assert intervals.recent_errors(zeros, panel, np.array([[0, 6]]), 3, 2).tolist() == [4.5]
    assert np.isnan(intervals.recent_errors(zeros, panel, np.array([[0, 4]]), 3, 2)[0])


def test_calibration_windows_prefer_whole_held_out_windows():
    many = np.full(300, 40)                          # 300 series: whole windows give 300·4 ≥ MIN_POOLED
    pairs, held = intervals.calibration_windows(many, 10, 4, 4, seed=0)
    assert held.all() and (pairs[:, 1] == 36).all()
    pairs, held = intervals.calibration_windows(np.array([40]), 10, 4, 4, seed=0)
    # one series: cuts 33 … 36, step k held where cut + k ≥ 36
    assert pairs[:, 1].tolist() == [33, 34, 35, 36]
    assert held.sum(axis=1).tolist() == [1, 2, 3, 4] and held[:, -1].all()


def test_calibration_windows_none_without_holdout():
    pairs, held = intervals.calibration_windows(np.array([40]), 10, 4, 0, seed=0)
    assert len(pairs) == 0


def test_twin_only_when_the_validation_windows_are_few():
    """A twin is trained without the last K·h steps when whole validation windows give fewer
    than MIN_POOLED residuals; K = TWIN_HORIZONS, or fewer when series are short."""
    c = Config(horizon=4, season=1, input_size=10, val_size=4)
    assert intervals.twin_holdout(np.full(300, 40), c) == 0            # 300 windows · 4 ≥ 1000
    assert intervals.twin_holdout(np.full(3, 40), c) == intervals.TWIN_HORIZONS * 4
    # a twin needs input_size + horizon + val_size = 18 steps before its holdout: 34 − 4·4 = 18 fits
    assert intervals.twin_holdout(np.array([34]), c) == 16
    assert intervals.twin_holdout(np.array([33]), c) == 12               # K = 3
    assert intervals.twin_holdout(np.array([26]), c) == 8                # K = 2
    assert intervals.twin_holdout(np.array([25]), c) == 0                # not even K = 2
    assert intervals.twin_holdout(np.full(3, 40), c.replace(val_size=0)) == 0


def test_holdout_windows_by_hand():
    """Windows whose targets lie in the last 6 steps: cuts 34 … 36 of a series of 40 (h = 4)."""
    pairs = intervals.holdout_windows(np.array([40, 12]), 10, 4, 6, seed=0)
    assert pairs.tolist() == [[0, 34], [0, 35], [0, 36]]                 # 12 − 6 < 10: none in series 1


def test_bounds_by_hand():
    cal = Calibration(np.tile(np.array([[1.0, 2.0]]), (99, 1)), np.array([50, 50]), 1.0, np.array([1.0]))
    lo, hi = cal.bounds(np.array([[10.0, 20.0], [0.0, 0.0]]), np.array([2.0, 0.5]), 95)
    assert lo.tolist() == [[8.0, 16.0], [-0.5, -1.0]] and hi.tolist() == [[12.0, 24.0], [0.5, 1.0]]


def test_supports():
    cal = Calibration(np.zeros((99, 2)), np.array([19, 40]), 1.0, np.ones(1))
    assert cal.supports(95) and not cal.supports(96)  # (19 + 1)·95 = 1900 ≤ 1900; 1920 > 1900


def test_seasonal_naive_interval_by_hand():
    """x = 1 2 3 5 (m = 2): differences 2, 3 → σ = √6.5; k = 1, 1, 2 for steps 1-3."""
    lo, hi = intervals.seasonal_naive_interval(np.array([1.0, 2.0, 3.0, 5.0]), 3, 2, 95)
    half = 1.959963984540054 * np.sqrt(6.5) * np.sqrt([1, 1, 2])  # z = Φ⁻¹(0.975)
    np.testing.assert_allclose(hi, np.array([3.0, 5.0, 3.0]) + half, rtol=1e-6)
    np.testing.assert_allclose(lo, np.array([3.0, 5.0, 3.0]) - half, rtol=1e-6)


def test_level_out_of_range_refused():
    with pytest.raises(ValueError):
        intervals.check_level(100)


# ------------------------------------------------------------------------------------------
# on a trained model


def _seasonal_panel(n_series=12, n=160, m=8, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return [50 + 10 * np.sin(2 * np.pi * t / m + k) + rng.normal(0, 1 + k % 3, n) for k in range(n_series)]


@pytest.fixture(scope="module")
def fitted():
    series = _seasonal_panel()
    config = Config(horizon=8, season=8, input_size=24, hidden_size=8, epochs=5, batch_size=32, seed=0,
                    ensemble=2, workers=1, blend=1.0)  # intervals of the members' median; no worker pool needed
    return Forecaster(config).fit(series), series


def test_intervals_are_ordered_finite_and_nested(fitted):
    f, series = fitted
    forecasts, bounds = intervals.predict(f, [50, 80, 95], series)
    widths = []
    for level in (50, 80, 95):
        lo, hi = bounds[level]
        assert np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))
        assert np.all(lo <= forecasts) and np.all(forecasts <= hi)
        widths.append(hi - lo)
    assert np.all(widths[0] <= widths[1]) and np.all(widths[1] <= widths[2])
    np.testing.assert_array_equal(forecasts, f.predict(series))


def test_continuing_training_series_uses_stored_scales(fitted):
    f, series = fitted
    a = intervals.predict(f, [90])[1][90]
    b = intervals.predict(f, [90], series)[1][90]
    np.testing.assert_allclose(a, b)


def test_noisier_series_get_wider_intervals(fitted):
    f, series = fitted
    width = np.diff(np.stack(intervals.predict(f, [90], series)[1][90]), axis=0)[0].mean(axis=1)
    noise = np.array([1 + k % 3 for k in range(len(series))])
    assert width[noise == 3].mean() > width[noise == 1].mean()


def test_coverage_near_nominal_on_fresh_windows(fitted):
    """Exchangeable data: the 80% intervals of the next windows cover roughly 80% of them."""
    f, _ = fitted
    fresh = _seasonal_panel(n_series=40, n=200, seed=7)
    histories, actuals = [x[:-8] for x in fresh], np.array([x[-8:] for x in fresh])
    _, bounds = intervals.predict(f, [80], histories)
    assert 0.6 <= metrics.coverage(actuals, *bounds[80]).mean() <= 0.97


def test_a_twin_only_ever_widens_the_intervals(fitted):
    """calibrate keeps, per level and step, the larger half-width of the validation windows'
    and the twin's; a twin that errs badly (its forecasts shifted by 100) sets every one."""
    f, series = fitted
    panel, keep = Panel.from_series(series), np.arange(len(series))
    alone = intervals.calibrate(f, panel, keep)
    same = intervals.calibrate(f, panel, keep, twin=f, holdout=16)
    assert np.all(same.halfwidth >= alone.halfwidth)
    bad = Forecaster(f.config, [dict(p, **{"head.b": p["head.b"] + 100}) for p in f.members], f.scaler)
    worse = intervals.calibrate(f, panel, keep, twin=bad, holdout=16)
    assert np.all(worse.halfwidth[49:] > alone.halfwidth[49:])   # levels 50 … 99
    np.testing.assert_array_equal(worse.series_scale, alone.series_scale)  # scales: the model's own


def test_no_calibration_without_validation():
    f = Forecaster(Config(horizon=4, season=1, input_size=8, hidden_size=4, epochs=1, val_size=0, ensemble=1)).fit([np.arange(40.0)])
    assert f.calibration is None
    with pytest.raises(ForecastError, match="val_size 0"):
        intervals.predict(f, [95])


# ------------------------------------------------------------------------------------------
# the model file


def test_calibration_round_trips_through_the_model_file(fitted, tmp_path):
    f, series = fitted
    path = tmp_path / "m.npz"
    modelfile.save(str(path), f)
    g, _ = modelfile.load(str(path))
    for name, a in f.calibration.arrays().items():
        np.testing.assert_array_equal(g.calibration.arrays()[name], a)
    np.testing.assert_array_equal(intervals.predict(g, [95])[1][95], intervals.predict(f, [95])[1][95])


def _rewrite(path, out, change):
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    change(arrays)
    modelfile.write_npz(str(out), arrays)


def test_inconsistent_calibration_refused(fitted, tmp_path):
    f, _ = fitted
    path, bad = tmp_path / "m.npz", tmp_path / "bad.npz"
    modelfile.save(str(path), f)

    def shrink_top_level(a):
        a["calibration/halfwidth"] = a["calibration/halfwidth"].copy()
        a["calibration/halfwidth"][-1] = -1.0
    _rewrite(path, bad, shrink_top_level)
    with pytest.raises(ModelFileError, match="calibration"):
        modelfile.load(str(bad))


def test_missing_calibration_arrays_refused(fitted, tmp_path):
    f, _ = fitted
    path, bad = tmp_path / "m.npz", tmp_path / "bad.npz"
    modelfile.save(str(path), f)
    _rewrite(path, bad, lambda a: a.pop("calibration/count"))
    with pytest.raises(ModelFileError, match="arrays"):
        modelfile.load(str(bad))
