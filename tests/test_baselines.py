"""Baselines (forecast_cli/baselines.py) against forecasts worked out by hand.

naive repeats the last value; seasonal naive the last season; Naive2 (M4) is naive on the
seasonally adjusted series, re-seasonalised, when M4's autocorrelation test says the series is
seasonal: |r_m| > 1.645·√((1 + 2 Σ_{k=1}^{m−1} r_k²)/n) with n ≥ 3m — else plain naive.  The
indices are those of a classical multiplicative decomposition (centred moving average of order
m, 2×m when m is even; ratios averaged per position; normalised to mean 1).
"""

from __future__ import annotations

from fractions import Fraction as Fr

import numpy as np
import pytest

from forecast_cli.baselines import BASELINES, acf, is_seasonal, naive, naive2, seasonal_indices, seasonal_naive

# A series with a linear level (+1 a year) and a season 2 4 6 4: 4 "years" of m = 4.
TREND16 = [2, 4, 6, 4, 3, 5, 7, 5, 4, 6, 8, 6, 5, 7, 9, 7]
# level 100 × (1 + 0.5·sin(2πt/4)): 100 150 100 50 repeated
SINE4 = [100.0, 150.0, 100.0, 50.0]


# --------------------------------------------------------------------------------------------
# naive and seasonal naive


def test_naive_repeats_the_last_value():
    np.testing.assert_array_equal(naive([3, 1, 4, 1, 5], 3), [5.0, 5.0, 5.0])
    np.testing.assert_array_equal(naive([7], 1, m=12), [7.0])


def test_seasonal_naive_repeats_the_last_season():
    # x = 1..10, m = 4: the last season is 7 8 9 10
    np.testing.assert_array_equal(seasonal_naive(np.arange(1, 11), 7, 4), [7, 8, 9, 10, 7, 8, 9])
    # a horizon shorter than the season takes the start of the last season
    np.testing.assert_array_equal(seasonal_naive(np.arange(1, 11), 2, 4), [7, 8])


def test_seasonal_naive_with_exactly_one_season_of_history():
    np.testing.assert_array_equal(seasonal_naive([1, 2, 3, 4], 5, 4), [1, 2, 3, 4, 1])


def test_seasonal_naive_is_naive_when_the_history_is_shorter_than_a_season():
    np.testing.assert_array_equal(seasonal_naive([1, 2, 3], 5, 4), [3, 3, 3, 3, 3])


def test_seasonal_naive_without_a_season_is_naive():
    np.testing.assert_array_equal(seasonal_naive([1, 2, 3], 2, 1), [3, 3])


def test_every_baseline_returns_h_floats():
    for name, method in BASELINES.items():
        f = method(np.array(TREND16 * 2, float), 9, 4)
        assert f.shape == (9,) and f.dtype == float, name


# --------------------------------------------------------------------------------------------
# the autocorrelation and M4's seasonality test


def test_acf_by_hand():
    # x = 1 2 3 4: deviations −1.5 −0.5 0.5 1.5, Σd² = 5
    # lag 1: (−0.5)(−1.5) + (0.5)(−0.5) + (1.5)(0.5) = 1.25 → 0.25
    # lag 2: (0.5)(−1.5) + (1.5)(−0.5) = −1.5 → −0.3
    assert acf([1, 2, 3, 4], 1) == pytest.approx(0.25)
    assert acf([1, 2, 3, 4], 2) == pytest.approx(-0.3)
    assert acf([5, 5, 5], 1) == 0.0


def test_a_strong_season_passes_the_test_with_4_years():
    # 100 150 100 50 ×4 (n = 16): deviations 0 50 0 −50; r_1 = r_3 = 0, r_2 = −7/8, r_4 = 12/16 = 0.75;
    # limit 1.645·√((1 + 2·(7/8)²)/16) = 0.6543 < 0.75
    assert is_seasonal(SINE4 * 4, 4)


def test_the_same_season_fails_the_test_with_3_years():
    # n = 12: r_2 = −5/6, r_4 = 8·… = 2/3; limit 1.645·√((1 + 2·(5/6)²)/12) = 0.7340 > 0.667
    assert not is_seasonal(SINE4 * 3, 4)


def test_fewer_than_3_seasons_are_never_seasonal():
    # a spike once a season, m = 12: with 36 points r_12 = 2/3 clears the limit (0.291)
    spikes = ([10.0] + [1.0] * 11) * 3
    assert is_seasonal(spikes, 12)
    # one point fewer: r_12 = 0.666 would still clear its limit (0.295), but n = 35 < 3m is not tested
    assert not is_seasonal(spikes[:35], 12)
    np.testing.assert_array_equal(naive2(spikes[:35], 2, 12), [1.0, 1.0])
    assert not is_seasonal(SINE4 * 4, 1)


# TREND16 with its last value v: r_1..r_4 exactly (fractions), and the limit 1.645·√((1 + 2(r_1²+r_2²+r_3²))/16)
#   v = 2: r = 583/15472, −2201/7736, 3413/15472, 1671/3868 → r_4 = 0.4320 < limit 0.4620 (just below)
#   v = 3: r = 91/880, −25/88, 19/80, 107/220             → r_4 = 0.4864 > limit 0.4681 (just above)
#   v = 8: r = 5791/14320, −205/1432, 2909/14320, 1887/3580 → r_4 = 0.5271 > limit 0.4953 (just above)
#   v = 9: r = 1663/3952, −11/104, 701/3952, 479/988     → r_4 = 0.4848 < limit 0.4934 (just below)
# (v = 3 and 8 fail a 1.96 critical value, or a sum that also counts r_m²; v = 2 and 9 pass a limit
# without the Σ r_k² term, 1.645/√16 = 0.411.)
@pytest.mark.parametrize("last, r, seasonal", [
    (2, (Fr(583, 15472), Fr(-2201, 7736), Fr(3413, 15472), Fr(1671, 3868)), False),
    (3, (Fr(91, 880), Fr(-25, 88), Fr(19, 80), Fr(107, 220)), True),
    (8, (Fr(5791, 14320), Fr(-205, 1432), Fr(2909, 14320), Fr(1887, 3580)), True),
    (9, (Fr(1663, 3952), Fr(-11, 104), Fr(701, 3952), Fr(479, 988)), False),
])
def test_seasonality_test_just_above_and_just_below_the_90_percent_limit(last, r, seasonal):
    x = TREND16[:-1] + [last]
    assert [acf(x, k) for k in range(1, 5)] == pytest.approx([float(v) for v in r])
    assert bool(is_seasonal(x, 4)) == seasonal


# --------------------------------------------------------------------------------------------
# classical multiplicative decomposition


def test_seasonal_indices_by_hand_for_even_m():
    # m = 4: trend_t = (½x_{t−2} + x_{t−1} + x_t + x_{t+1} + ½x_{t+2})/4 for t = 2..13, which here is
    # (29 + 2t)/8: 33/8, 35/8, 37/8, … 55/8.  Ratios x_t / trend_t by position t mod 4:
    #   0: t = 4, 8, 12 → 3/(37/8), 4/(45/8), 5/(53/8) = 24/37, 32/45, 40/53
    #   1: t = 5, 9, 13 → 40/39, 48/47, 56/55
    #   2: t = 2, 6, 10 → 16/11, 56/41, 64/49
    #   3: t = 3, 7, 11 → 32/35, 40/43, 16/17
    figure = [(Fr(24, 37) + Fr(32, 45) + Fr(40, 53)) / 3, (Fr(40, 39) + Fr(48, 47) + Fr(56, 55)) / 3,
              (Fr(16, 11) + Fr(56, 41) + Fr(64, 49)) / 3, (Fr(32, 35) + Fr(40, 43) + Fr(16, 17)) / 3]
    mean = sum(figure) / 4
    expected = [float(v / mean) for v in figure]          # 0.69948, 1.01394, 1.36507, 0.92152
    index = seasonal_indices(TREND16, 4)
    assert index.shape == (16,)
    np.testing.assert_allclose(index, expected * 4, rtol=1e-12)


def test_seasonal_indices_by_hand_for_odd_m():
    # m = 3, x = 2 1 3 | 4 2 6 | 6 3 9: trend_t = (x_{t−1} + x_t + x_{t+1})/3 for t = 1..7:
    #   2, 8/3, 3, 4, 14/3, 5, 6.  Ratios by position:
    #   0: t = 3, 6 → 4/3, 6/5 → 19/15;  1: t = 1, 4, 7 → 1/2 each;  2: t = 2, 5 → 9/8, 9/7 → 135/112
    figure = [Fr(19, 15), Fr(1, 2), Fr(135, 112)]
    mean = sum(figure) / 3
    expected = [float(v / mean) for v in figure]          # 1.27859, 0.50471, 1.21670
    np.testing.assert_allclose(seasonal_indices([2, 1, 3, 4, 2, 6, 6, 3, 9], 3), expected * 3, rtol=1e-12)


def test_seasonal_indices_of_a_purely_periodic_series_are_its_normalised_pattern():
    # a constant level: every centred average is the season mean 100, so the ratios are the pattern
    np.testing.assert_allclose(seasonal_indices(SINE4 * 4, 4)[:4], [1.0, 1.5, 1.0, 0.5], rtol=1e-12)
    # odd m: 3 1 2 → mean 2 → 1.5 0.5 1
    np.testing.assert_allclose(seasonal_indices([3, 1, 2] * 4, 3)[:3], [1.5, 0.5, 1.0], rtol=1e-12)


def test_seasonal_indices_average_to_1_and_repeat_with_the_season():
    t = np.arange(50)
    x = (100 + 2 * t) * (1 + 0.5 * np.sin(2 * np.pi * t / 12)) + 3 * np.cos(t)
    index = seasonal_indices(x, 12)
    assert index[:12].mean() == pytest.approx(1.0)
    np.testing.assert_allclose(index[12:], index[:-12])
    # close to the true multiplicative pattern 1 + 0.5·sin
    np.testing.assert_allclose(index[:12], 1 + 0.5 * np.sin(2 * np.pi * t[:12] / 12), atol=0.03)


# --------------------------------------------------------------------------------------------
# Naive2


def test_naive2_of_a_series_without_significant_seasonality_is_naive():
    x = [5, 7, 6, 8, 7, 9, 8, 10, 9, 11, 10, 12, 11, 13, 12, 14]   # mostly trend: r_4 = 0.35, not seasonal
    assert not is_seasonal(x, 4)
    np.testing.assert_array_equal(naive2(x, 5, 4), [14.0] * 5)


def test_naive2_just_below_the_seasonality_limit_is_naive():
    x = TREND16[:-1] + [9]                                  # r_4 just below the limit (see above)
    np.testing.assert_array_equal(naive2(x, 4, 4), [9.0] * 4)


def test_naive2_by_hand_on_the_trend_series():
    # seasonal (r_4 = 0.5577 > 0.4940).  The last value, 7, is at position 3: adjusted 7/I_3, then
    # re-seasonalised by the indices of positions 0 1 2 3 0 1 (same fractions as above)
    figure = [(Fr(24, 37) + Fr(32, 45) + Fr(40, 53)) / 3, (Fr(40, 39) + Fr(48, 47) + Fr(56, 55)) / 3,
              (Fr(16, 11) + Fr(56, 41) + Fr(64, 49)) / 3, (Fr(32, 35) + Fr(40, 43) + Fr(16, 17)) / 3]
    index = [v / (sum(figure) / 4) for v in figure]
    expected = [float(7 / index[3] * index[p % 4]) for p in range(6)]   # 5.3133, 7.7021, 10.3693, 7, …
    assert is_seasonal(TREND16, 4)
    np.testing.assert_allclose(naive2(TREND16, 6, 4), expected, rtol=1e-12)


def test_naive2_of_a_periodic_multiplicative_series_continues_the_season():
    # 100·(1 + 0.5·sin): indices 1 1.5 1 0.5, adjusted series 100 throughout → 100·index of each target season
    np.testing.assert_allclose(naive2(SINE4 * 4, 6, 4), [100, 150, 100, 50, 100, 150], rtol=1e-12)
    # when the series ends mid-season, the forecast starts at the next position
    np.testing.assert_allclose(naive2((SINE4 * 5)[:18], 3, 4), [100, 50, 100], rtol=1e-12)


def test_naive2_of_a_growing_multiplicative_series_is_the_last_adjusted_value_times_the_target_index():
    t = np.arange(48)
    x = (100 + 2 * t) * (1 + 0.5 * np.sin(2 * np.pi * t / 12))
    assert is_seasonal(x, 12)
    f = naive2(x, 18, 12)
    index = seasonal_indices(x, 12)
    # every forecast divided by its target season's index is one and the same value: the last adjusted one
    targets = index[(48 + np.arange(18)) % 12]
    np.testing.assert_allclose(f / targets, x[-1] / index[47 % 12])
    # which is about the level at the end, 194 (x[47] = 194·(1 − 0.25) = 145.5, index of position 11 ≈ 0.75)
    np.testing.assert_allclose(f, 194 * (1 + 0.5 * np.sin(2 * np.pi * np.arange(48, 66) / 12)), rtol=0.03)


def test_naive2_is_naive_when_the_series_is_too_short_or_not_positive():
    np.testing.assert_array_equal(naive2(SINE4 * 2, 3, 4), [50.0] * 3)          # n = 8 < 3m
    x = [v - 60 for v in SINE4 * 4]                                            # seasonal, but a value ≤ 0
    assert is_seasonal(x, 4)
    np.testing.assert_array_equal(naive2(x, 3, 4), [-10.0] * 3)
