"""M4 accuracy metrics (forecast_cli/metrics.py) against values worked out by hand.

Definitions (Makridakis et al., 2018, and the module docstring): MAE, RMSE, sMAPE with 200·|y−f|/(|y|+|f|),
MASE over the in-sample seasonal naive MAE (lag m, else lag 1, else 1), MSIS with a 2/a penalty per
unit outside the interval (a = 1 − level/100), coverage of [L, U] with the bounds inside, ACD, OWA.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecast_cli import metrics

# y = actuals, f = forecasts:   errors |y − f| = 2, 2, 3
Y3 = [10.0, 20.0, 30.0]
F3 = [12.0, 18.0, 33.0]


# --------------------------------------------------------------------------------------------
# point metrics


def test_mae_by_hand():
    # (2 + 2 + 3) / 3 = 7/3
    assert metrics.mae(Y3, F3) == pytest.approx(7 / 3)


def test_rmse_by_hand():
    # √((4 + 4 + 9) / 3) = √(17/3) = 2.38047614…
    assert metrics.rmse(Y3, F3) == pytest.approx(2.3804761428476167)


def test_smape_by_hand():
    # 200·2/(10+12) = 18.1818…, 200·2/(20+18) = 10.5263…, 200·3/(30+33) = 9.5238…  → mean 12.74398…
    assert metrics.smape(Y3, F3) == pytest.approx(12.743981165033796)


def test_smape_is_symmetric_in_actual_and_forecast_and_bounded_by_200():
    assert metrics.smape(Y3, F3) == pytest.approx(metrics.smape(F3, Y3))
    # opposite signs: |−2 − 2| / (|−2| + |2|) = 1 → the maximum, 200
    assert metrics.smape([-2.0], [2.0]) == pytest.approx(200.0)


def test_smape_term_is_zero_where_actual_and_forecast_are_both_zero():
    # terms: 0 (y = f = 0, no 0/0), and 200·4/(4 + 0) = 200 → mean 100
    assert metrics.smape([0.0, 4.0], [0.0, 0.0]) == pytest.approx(100.0)
    assert metrics.smape([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert np.isfinite(metrics.smape([0.0], [0.0]))


def test_point_metrics_are_per_series_on_2d_input():
    y = np.array([Y3, [1.0, 1.0, 1.0]])
    f = np.array([F3, [2.0, 0.0, 1.0]])
    # second series: errors 1, 1, 0 → MAE 2/3, RMSE √(2/3); sMAPE 200·1/3, 200·1/1, 0 → (66.67 + 200)/3
    np.testing.assert_allclose(metrics.mae(y, f), [7 / 3, 2 / 3])
    np.testing.assert_allclose(metrics.rmse(y, f), [2.3804761428476167, math.sqrt(2 / 3)])
    np.testing.assert_allclose(metrics.smape(y, f), [12.743981165033796, (200 / 3 + 200) / 3])


# --------------------------------------------------------------------------------------------
# MASE and its scale


def test_seasonal_scale_uses_differences_at_the_season_lag():
    # x = 1 3 2 5 4 6, m = 2: |2−1|, |5−3|, |4−2|, |6−5| = 1, 2, 2, 1 → (1/(n−m))·6 = 6/4 = 1.5
    assert metrics.seasonal_scale([1, 3, 2, 5, 4, 6], 2) == pytest.approx(1.5)
    # m = 1: |3−1|, |2−3|, |5−2|, |4−5|, |6−4| = 2, 1, 3, 1, 2 → 9/5
    assert metrics.seasonal_scale([1, 3, 2, 5, 4, 6], 1) == pytest.approx(1.8)


def test_seasonal_scale_falls_back_to_lag_1_when_the_season_repeats_exactly():
    # x = 1 4 1 4 1, m = 2: every lag-2 difference is 0 → lag 1: |4−1| … = 3 each → 3
    assert metrics.seasonal_scale([1, 4, 1, 4, 1], 2) == pytest.approx(3.0)


def test_seasonal_scale_falls_back_to_lag_1_when_the_history_is_shorter_than_a_season():
    # n = 3 ≤ m = 4: no seasonal difference; lag 1: |5−2|, |3−5| = 3, 2 → 2.5
    assert metrics.seasonal_scale([2, 5, 3], 4) == pytest.approx(2.5)


def test_seasonal_scale_is_1_for_a_constant_or_single_point_history():
    assert metrics.seasonal_scale([7, 7, 7, 7, 7], 2) == 1.0
    assert metrics.seasonal_scale([7], 1) == 1.0


def test_mase_by_hand():
    # history 1 3 2 5 4 6 with m = 2 → scale 1.5 (above); y = 7 8, f = 6 11 → MAE (1 + 3)/2 = 2 → 2/1.5
    assert metrics.mase([[7.0, 8.0]], [[6.0, 11.0]], [[1, 3, 2, 5, 4, 6]], 2) == pytest.approx([4 / 3])


def test_mase_scales_each_series_by_its_own_history_of_any_length():
    y = np.array([[7.0, 8.0], [10.0, 10.0]])
    f = np.array([[6.0, 11.0], [13.0, 7.0]])
    # series 1: MAE 2, scale 1.5; series 2: MAE 3, history 1 4 1 4 1 (m = 2) → lag-1 scale 3 → 1
    np.testing.assert_allclose(metrics.mase(y, f, [[1, 3, 2, 5, 4, 6], [1, 4, 1, 4, 1]], 2), [4 / 3, 1.0])


# --------------------------------------------------------------------------------------------
# intervals: MSIS, coverage, ACD

# y = 10 20 30 40 against [L, U] = [8, 12] (inside), [22, 26] (below L by 2), [25, 28] (above U by 2),
# [30, 40] (on the upper bound: inside)
YI = [10.0, 20.0, 30.0, 40.0]
LO = [8.0, 22.0, 25.0, 30.0]
HI = [12.0, 26.0, 28.0, 40.0]
HIST = [1, 2, 4, 7, 11]          # lag-1 differences 1 2 3 4 → scale 2.5


def test_msis_by_hand_at_95():
    # a = 0.05, 2/a = 40: widths 4, 4, 3, 10; penalties 0, 40·(22−20) = 80, 40·(30−28) = 80, 0
    # → (4 + 84 + 83 + 10)/4 = 45.25, / scale 2.5 = 18.1
    assert metrics.msis([YI], [LO], [HI], [HIST], 1, 95) == pytest.approx([18.1])


def test_msis_penalty_follows_the_level():
    # level 80: a = 0.2, 2/a = 10 → (4 + (4 + 20) + (3 + 20) + 10)/4 = 15.25, / 2.5 = 6.1
    assert metrics.msis([YI], [LO], [HI], [HIST], 1, 80) == pytest.approx([6.1])


def test_msis_of_a_perfect_zero_width_interval_is_zero_and_counts_no_penalty_on_the_bounds():
    assert metrics.msis([[5.0, 6.0]], [[5.0, 6.0]], [[5.0, 6.0]], [[1, 2, 3]], 1, 95) == pytest.approx([0.0])


def test_coverage_counts_values_on_the_bounds_as_inside():
    # inside, below, above, on U → 2/4
    assert metrics.coverage([YI], [LO], [HI]) == pytest.approx([0.5])
    # on L and on U
    assert metrics.coverage([[8.0, 12.0]], [[8.0, 8.0]], [[12.0, 12.0]]) == pytest.approx([1.0])


def test_acd_is_the_absolute_coverage_difference():
    assert metrics.acd(0.90, 95) == pytest.approx(0.05)
    assert metrics.acd(1.00, 95) == pytest.approx(0.05)
    assert metrics.acd(0.95, 95) == pytest.approx(0.0)
    assert metrics.acd(0.5, 80) == pytest.approx(0.3)


def test_interval_scores_names_the_level():
    found = metrics.interval_scores([YI], [LO], [HI], [HIST], 1, 95)
    assert set(found) == {"coverage-95", "MSIS-95"}
    assert found["coverage-95"] == pytest.approx([0.5])
    assert found["MSIS-95"] == pytest.approx([18.1])


# --------------------------------------------------------------------------------------------
# OWA and the bundle


def test_owa_by_hand():
    # ½(12/15 + 1.5/2) = ½(0.8 + 0.75) = 0.775
    assert metrics.owa(12.0, 1.5, 15.0, 2.0) == pytest.approx(0.775)
    # the reference itself scores exactly 1
    assert metrics.owa(15.0, 2.0, 15.0, 2.0) == 1.0


def test_point_scores_has_every_point_metric_per_series():
    found = metrics.point_scores([Y3], [F3], [[10, 12, 15, 20]], 1)
    assert tuple(found) == metrics.POINT_METRICS
    # history lag-1 differences 2 3 5 → scale 10/3; MASE = (7/3)/(10/3) = 0.7
    assert found["MAE"] == pytest.approx([7 / 3])
    assert found["RMSE"] == pytest.approx([2.3804761428476167])
    assert found["sMAPE"] == pytest.approx([12.743981165033796])
    assert found["MASE"] == pytest.approx([0.7])
