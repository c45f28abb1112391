"""classical.py: the smoothing recursions by hand, Theta's known properties, many series at once."""

import numpy as np
import pytest

from forecast_cli import classical
from forecast_cli.baselines import seasonal_indices


def aligned(*series):
    return classical._right_aligned([np.asarray(s, float) for s in series])


def test_damped_recursion_by_hand():
    # l0 = 1, b0 = least-squares slope of (1, 3, 2) = 0.5; α = 0.5, β = 0.5 (of α), φ = 0.9
    # t=1: ŷ = 1 + 0.45 = 1.45, e = 1.55, l = 2.225, b = 0.45 + 0.25·1.55 = 0.8375
    # t=2: ŷ = 2.225 + 0.75375 = 2.97875, e = −0.97875, l = 2.489375, b = 0.75375 − 0.2446875
    values, start = aligned([1, 3, 2])
    level, slope, sse = classical.smooth(values, start, np.array([0.5]), np.array([0.5]), np.array([0.9]), trend=True)
    assert level[0, 0] == pytest.approx(2.489375)
    assert slope[0, 0] == pytest.approx(0.5090625)
    assert sse[0, 0] == pytest.approx(1.55 ** 2 + 0.97875 ** 2)


def test_ses_recursion_by_hand():
    # α = 0.5: l = 2, then 2 + 0.5·(4 − 2) = 3, then 3 + 0.5·(1 − 3) = 2; errors 2 and −2
    values, start = aligned([2, 4, 1])
    zero = np.zeros(1)
    level, slope, sse = classical.smooth(values, start, np.array([0.5]), zero, zero, trend=False)
    assert level[0, 0] == 2.0 and slope[0, 0] == 0.0 and sse[0, 0] == 8.0


def test_shorter_series_in_a_batch_give_what_they_give_alone():
    rng = np.random.default_rng(0)
    long, short = rng.normal(10, 1, 40).cumsum(), rng.normal(5, 1, 13).cumsum()
    together = classical.forecast([long, short], 6, 1)
    for k, x in enumerate((long, short)):
        alone = classical.forecast([x], 6, 1)
        for method in classical.METHODS:
            np.testing.assert_allclose(together[method][k], alone[method][0], rtol=1e-12)


def test_theta_forecasts_half_the_trend_of_a_line():
    # on a straight line SES picks α = 1 (the smallest one-step errors), so ℓ_n = y_n and the
    # drift term is (b/2)·(j − 1 + 1): Theta continues the line at half its slope
    x = 3.0 + 2.0 * np.arange(30)
    f = classical.forecast([x], 5, 1)["theta"][0]
    np.testing.assert_allclose(f, x[-1] + 1.0 * np.arange(1, 6))


def test_damped_follows_a_line_with_a_damped_slope():
    x = 3.0 + 2.0 * np.arange(30)
    f = classical.forecast([x], 5, 1)["damped"][0]
    steps = np.diff(np.r_[x[-1], f])
    assert np.all(steps > 1.0) and np.all(steps <= 2.0 + 1e-9) and np.all(np.diff(steps) <= 1e-12)


def test_a_constant_series_is_forecast_constant():
    f = classical.forecast([np.full(20, 7.0)], 4, 1)
    for method in classical.METHODS:
        np.testing.assert_allclose(f[method][0], 7.0)


def test_a_seasonal_series_keeps_its_season():
    # level 100 times a fixed monthly pattern: adjusted, it is constant; the forecast is the pattern
    pattern = 1 + 0.3 * np.sin(2 * np.pi * np.arange(12) / 12)
    x = 100 * np.tile(pattern, 6)
    f = classical.forecast([x], 18, 12)
    index = seasonal_indices(x, 12)
    expected = (x[-1] / index[-1]) * np.resize(index[-12:], 18)
    for method in classical.METHODS:
        np.testing.assert_allclose(f[method][0], expected, rtol=1e-9)


def test_non_positive_series_are_not_seasonally_adjusted():
    x = np.tile([-1.0, 1.0, -1.0, 1.0], 10)
    f = classical.forecast([x], 4, 4)
    assert np.all(np.isfinite(f["theta"])) and np.all(np.isfinite(f["damped"]))


def test_combined_is_the_mean_of_the_methods():
    x = np.random.default_rng(1).gamma(5, 1, 50) + np.arange(50)
    each = classical.forecast([x], 8, 4)
    np.testing.assert_allclose(classical.combined([x], 8, 4)[0], (each["theta"][0] + each["damped"][0]) / 2)


def test_only_the_last_max_history_values_are_used():
    x = np.random.default_rng(2).normal(50, 5, classical.MAX_HISTORY + 100)
    np.testing.assert_array_equal(classical.combined([x], 3, 1), classical.combined([x[-classical.MAX_HISTORY:]], 3, 1))


def test_a_single_value_is_repeated():
    f = classical.forecast([np.array([4.0])], 3, 1)
    for method in classical.METHODS:
        np.testing.assert_allclose(f[method][0], 4.0)


def test_no_histories_give_no_forecasts():
    assert classical.combined([], 5, 12).shape == (0, 5)


def test_seasonal_adjustment_of_a_matrix_is_the_baselines_per_series():
    from forecast_cli.baselines import is_seasonal
    rng = np.random.default_rng(5)
    for m in (4, 7, 12):
        X = 50 + rng.uniform(0, 10, (6, 1)) * np.sin(2 * np.pi * np.arange(5 * m) / m) + rng.normal(0, 3, (6, 5 * m))
        X[0, 3] = -1.0                                           # not positive: never adjusted
        index, seasonal = classical._seasonal_indices(X, m)
        for x, idx, s in zip(X, index, seasonal):
            assert s == (is_seasonal(x, m) and np.all(x > 0))
            np.testing.assert_allclose(idx, seasonal_indices(x, m), rtol=1e-12)


def test_the_refined_damped_fit_is_never_worse_than_the_coarse_grid():
    x = np.random.default_rng(6).normal(0, 1, 80).cumsum() + 100
    values, start = aligned(x)
    a, b, p = (g.ravel() for g in np.meshgrid(*classical.COARSE, indexing="ij"))
    coarse = classical.smooth(values, start, a, b, p, trend=True)[2].min()
    fa, fb, dp = (g.ravel() for g in np.meshgrid(*classical.REFINE, indexing="ij"))
    k = np.argmin(classical.smooth(values, start, a, b, p, trend=True)[2][0])
    refined = classical.smooth(values, start, np.clip(a[k] * fa, 0.01, 1)[None], np.clip(b[k] * fb, 0.005, 1)[None],
                               np.clip(p[k] + dp, 0.8, 0.99)[None], trend=True)[2].min()
    assert refined <= coarse
