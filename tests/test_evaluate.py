"""Backtests and test-set scoring (forecast_cli/evaluate.py) against windows and scores worked out by hand.

Most tests pass a stand-in "model" (a config and a predict) so the LSTM's forecasts are known; two
train a tiny real network to check the wiring (same resolved config in every fold).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from forecast_cli import evaluate as ev
from forecast_cli.baselines import naive2
from forecast_cli.config import Config
from forecast_cli.errors import DataError
from forecast_cli.forecaster import Forecaster

# One series, m = 4, h = 4.  Its windows (h = 4, step 4):
#   cut at 12: history X[:12], actuals 13 24 29 42
#   cut at  8: history X[:8] = 10 20 30 40 12 22 28 44, actuals 11 25 27 40
X = [10, 20, 30, 40, 12, 22, 28, 44, 11, 25, 27, 40, 13, 24, 29, 42]
H = 4
Z95 = 1.959963984540054          # standard normal 97.5 % quantile

# Scores of the window cut at 8 (history X[:8], actuals 11 25 27 40), by hand.
# MASE scale: lag-4 differences of the history |12−10| |22−20| |28−30| |44−40| = 2 2 2 4 → 10/4 = 2.5
SCALE8 = 2.5
# seasonal naive: 12 22 28 44 → errors 1 3 1 4
SNAIVE8 = {"MAE": 9 / 4, "RMSE": math.sqrt(27 / 4),
           "sMAPE": (200 * 1 / 23 + 200 * 3 / 47 + 200 * 1 / 55 + 200 * 4 / 84) / 4,   # 8.65545
           "MASE": (9 / 4) / SCALE8}                                                # 0.9
# naive: 44 44 44 44 → errors 33 19 17 4
NAIVE8 = {"MAE": 73 / 4, "RMSE": math.sqrt((33**2 + 19**2 + 17**2 + 4**2) / 4),
          "sMAPE": (200 * 33 / 55 + 200 * 19 / 69 + 200 * 17 / 71 + 200 * 4 / 84) / 4,  # 58.12090
          "MASE": (73 / 4) / SCALE8}                                               # 7.3
# the stand-in LSTM forecasts 30 everywhere → errors 19 5 3 10
LSTM8 = {"MAE": 37 / 4, "RMSE": math.sqrt((19**2 + 5**2 + 3**2 + 10**2) / 4),
         "sMAPE": (200 * 19 / 41 + 200 * 5 / 55 + 200 * 3 / 57 + 200 * 10 / 70) / 4,  # 37.49062
         "MASE": (37 / 4) / SCALE8}                                               # 3.7


class StandIn:
    """A 'trained model' that forecasts 30 for every step and records what it was asked."""

    def __init__(self, horizon=H, season=4, input_size=4, value=30.0):
        self.config = Config(horizon=horizon, season=season, input_size=input_size, val_size=horizon, patch=1)
        self.value = value
        self.asked = []

    def predict(self, series=None, phase0=None):
        self.asked.append([np.asarray(s).copy() for s in series])
        return np.full((len(series), self.config.horizon), self.value)


def tiny(**changes) -> Config:
    return Config(hidden_size=4, epochs=1, batches_per_epoch=2, ensemble=1, workers=1, **changes)


def seasonal_series(n: int, phase: float = 0.0, level: float = 50.0) -> np.ndarray:
    t = np.arange(n)
    return (level + 0.5 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 4 + phase))


def per_window(scores: ev.Scores, method: str, k: int) -> dict:
    return {name: values[k] for name, values in scores.by_method[method].items()}


# --------------------------------------------------------------------------------------------
# backtest: windows


def test_backtest_one_fold_holds_out_the_last_horizon_and_scores_every_method_on_it_by_hand():
    scores, resolved = ev.backtest([np.array(X[:12], float)], ["a"], None, None, Config(), model=StandIn())
    assert resolved.horizon == H and resolved.season == 4
    assert scores.series == ["a"] and scores.fold == [1] and scores.cutoff == [8]
    np.testing.assert_array_equal(scores.actuals[0], [11, 25, 27, 40])
    np.testing.assert_array_equal(scores.forecasts["seasonal naive"][0], [12, 22, 28, 44])
    assert per_window(scores, "seasonal naive", 0) == pytest.approx(SNAIVE8)
    assert per_window(scores, "naive", 0) == pytest.approx(NAIVE8)
    assert per_window(scores, "Naive2", 0) == pytest.approx(NAIVE8)       # 8 < 3m points: Naive2 is naive
    assert per_window(scores, "LSTM", 0) == pytest.approx(LSTM8)
    # the context kept for charts is the history before the cut (at most 3·h values)
    np.testing.assert_array_equal(scores.context[0], X[:8])


def test_backtest_asks_the_model_about_the_history_before_each_cut():
    model = StandIn()
    ev.backtest([np.array(X, float)], ["a"], None, None, Config(), folds=2, model=model)
    assert [len(call[0]) for call in model.asked] == [12, 8]
    np.testing.assert_array_equal(model.asked[1][0], X[:8])


def test_backtest_summary_owa_is_relative_to_naive2_by_hand():
    scores, _ = ev.backtest([np.array(X[:12], float)], ["a"], None, None, Config(), model=StandIn())
    summary = scores.summary()
    assert summary["Naive2"]["OWA"] == 1.0
    assert summary["naive"]["OWA"] == 1.0                                   # Naive2 is naive here
    # ½(sMAPE_sn/sMAPE_Naive2 + MASE_sn/MASE_Naive2) = ½(8.65545/58.12090 + 0.9/7.3) = 0.136105
    assert summary["seasonal naive"]["OWA"] == pytest.approx(0.5 * (SNAIVE8["sMAPE"] / NAIVE8["sMAPE"] + 0.9 / 7.3))
    assert summary["seasonal naive"]["OWA"] == pytest.approx(0.13610453562404085)
    assert summary["LSTM"]["OWA"] == pytest.approx(0.5 * (LSTM8["sMAPE"] / NAIVE8["sMAPE"] + 3.7 / 7.3))


def test_backtest_two_folds_cut_at_n_minus_h_minus_k_steps():
    scores, _ = ev.backtest([np.array(X, float)], ["a"], None, None, Config(), folds=2, model=StandIn())
    assert scores.fold == [1, 2]
    assert scores.cutoff == [16 - 4, 16 - 4 - 4]
    np.testing.assert_array_equal(scores.actuals[0], [13, 24, 29, 42])
    np.testing.assert_array_equal(scores.actuals[1], [11, 25, 27, 40])
    # fold 2 is the same window as the one-fold backtest of X[:12]
    assert per_window(scores, "seasonal naive", 1) == pytest.approx(SNAIVE8)
    # fold 1: seasonal naive 11 25 27 40 against 13 24 29 42 → errors 2 1 2 2 → MAE 7/4; lag-4
    # differences of X[:12]: 2 2 2 4 1 3 1 4 → scale 19/8 → MASE (7/4)/(19/8) = 14/19
    assert per_window(scores, "seasonal naive", 0)["MAE"] == pytest.approx(7 / 4)
    assert per_window(scores, "seasonal naive", 0)["MASE"] == pytest.approx(14 / 19)
    # Naive2 of fold 1 is on exactly X[:12] (which is seasonal: a real Naive2 forecast)
    np.testing.assert_allclose(scores.forecasts["Naive2"][0], naive2(X[:12], 4, 4))
    # the summary is the mean over the two windows, and Naive2 is the OWA reference
    summary = scores.summary()
    assert summary["seasonal naive"]["MAE"] == pytest.approx((7 / 4 + 9 / 4) / 2)
    assert summary["seasonal naive"]["MASE"] == pytest.approx((14 / 19 + 0.9) / 2)
    assert summary["Naive2"]["OWA"] == 1.0


def test_backtest_step_smaller_than_the_horizon_overlaps_the_windows():
    scores, _ = ev.backtest([np.array(X, float)], ["a"], None, None, Config(), folds=3, step=2, model=StandIn())
    assert scores.cutoff == [12, 10, 8]
    for cut, actual in zip(scores.cutoff, scores.actuals):
        np.testing.assert_array_equal(actual, X[cut:cut + H])


def test_backtest_drops_a_series_from_the_folds_it_is_too_short_for():
    # input_size 4: b (9 points) keeps 5 ≥ 4 before fold 1's window, but only 1 before fold 2's
    b = np.arange(1.0, 10.0)
    scores, _ = ev.backtest([np.array(X, float), b], ["a", "b"], None, None, Config(), folds=2, model=StandIn())
    assert scores.series == ["a", "b", "a"]
    assert scores.fold == [1, 1, 2]
    assert scores.cutoff == [12, 5, 8]
    np.testing.assert_array_equal(scores.actuals[1], [6, 7, 8, 9])
    assert all(len(v) == 3 for v in scores.by_method["seasonal naive"].values())


def test_backtest_without_a_series_long_enough_is_a_data_error():
    with pytest.raises(DataError, match="fold 2"):
        ev.backtest([np.arange(1.0, 10.0)], ["b"], None, None, Config(), folds=2, model=StandIn())


# --------------------------------------------------------------------------------------------
# scoring intervals


def test_score_methods_scores_intervals_of_the_lstm_and_seasonal_naive_by_hand():
    scores = ev.Scores(levels=(95,))
    history = np.array(X[:8], float)
    actuals = np.array([[11.0, 25.0, 27.0, 40.0]])
    # LSTM intervals: 11 in [10, 12]; 25 below [26, 30] by 1; 27 above [20, 26] by 1; 40 on the bound of [30, 40]
    lo, hi = np.array([[10.0, 26.0, 20.0, 30.0]]), np.array([[12.0, 30.0, 26.0, 40.0]])
    ev.score_methods(scores, [history], actuals, np.full((1, 4), 30.0), 4, {95: (lo, hi)})
    lstm = per_window(scores, "LSTM", 0)
    # widths 2 4 6 10 + penalties (2/0.05)·1 twice = 22 + 80 = 102 → /4 = 25.5 → / scale 2.5 = 10.2
    assert lstm["MSIS-95"] == pytest.approx(10.2)
    assert lstm["coverage-95"] == pytest.approx(0.5)
    # seasonal naive's interval: 12 22 28 44 ± z·σ, σ² = (2² + 2² + 2² + 4²)/4 = 7 (k ≤ m: no widening)
    half = Z95 * math.sqrt(7)                                           # 5.18558
    sn_lo, sn_hi = zip(*scores.bounds["seasonal naive"][95])
    np.testing.assert_allclose(np.array(sn_lo), [[12 - half, 22 - half, 28 - half, 44 - half]])
    np.testing.assert_allclose(np.array(sn_hi), [[12 + half, 22 + half, 28 + half, 44 + half]])
    snaive = per_window(scores, "seasonal naive", 0)
    assert snaive["coverage-95"] == pytest.approx(1.0)                  # every actual within ±5.19
    assert snaive["MSIS-95"] == pytest.approx(2 * half / SCALE8)        # 4.14846
    # naive and Naive2 have no intervals
    assert "coverage-95" not in scores.by_method["naive"] and "MSIS-95" not in scores.by_method["Naive2"]
    summary = scores.summary()
    assert summary["LSTM"]["ACD-95"] == pytest.approx(0.45)             # |0.5 − 0.95|
    assert summary["seasonal naive"]["ACD-95"] == pytest.approx(0.05)   # |1 − 0.95|
    assert "ACD-95" not in summary["naive"]
    assert summary["Naive2"]["OWA"] == 1.0


def test_summary_without_naive2_has_no_owa():
    scores = ev.Scores()
    scores.add("LSTM", {"sMAPE": [10.0], "MASE": [1.0]}, [np.zeros(2)])
    assert math.isnan(scores.summary()["LSTM"]["OWA"])


# --------------------------------------------------------------------------------------------
# a real (tiny) network


def test_backtest_trains_every_fold_with_the_same_resolved_config(monkeypatch):
    # b is short: resolved on its fold-1 history alone (20 points) input_size would be 12, on its
    # fold-2 history (16) only 8 — every fold must train the one config resolved on the shortest
    fits = []

    class Spy(Forecaster):
        def fit(self, series, ids=None, phase0=None, freq=None, on_epoch=None, **kw):
            fits.append((self.config, [len(s) for s in series]))
            return super().fit(series, ids, phase0, freq, on_epoch=on_epoch, **kw)

    monkeypatch.setattr(ev, "Forecaster", Spy)
    series = [seasonal_series(48), seasonal_series(24, phase=1.0, level=80.0)]
    scores, resolved = ev.backtest(series, ["a", "b"], None, None, tiny(horizon=4, season=4), folds=2, levels=(95,))
    assert resolved.input_size == 8 and resolved.horizon == 4 and resolved.season == 4
    assert [config for config, _ in fits] == [resolved, resolved]
    assert [lengths for _, lengths in fits] == [[44, 20], [40, 16]]
    assert scores.cutoff == [44, 20, 40, 16] and scores.fold == [1, 1, 2, 2]
    for series_id, cut, actual in zip(scores.series, scores.cutoff, scores.actuals):
        np.testing.assert_array_equal(actual, series["ab".index(series_id)][cut:cut + 4])
    summary = scores.summary()
    assert set(summary) == {"LSTM", "naive", "seasonal naive", "Naive2"}
    assert summary["Naive2"]["OWA"] == 1.0
    for method in ("LSTM", "seasonal naive"):
        assert summary[method]["ACD-95"] == pytest.approx(abs(summary[method]["coverage-95"] - 0.95))
    assert all(np.isfinite(v) for v in summary["LSTM"].values())


def test_test_set_scores_trains_on_all_of_the_series():
    series = [seasonal_series(40)]
    follow = seasonal_series(44)[40:]
    scores, config = ev.test_set_scores(series, ["a"], None, None, {"a": follow}, tiny(horizon=4, season=4))
    assert config.horizon == 4 and config.input_size is not None
    assert scores.cutoff == [40]
    np.testing.assert_array_equal(scores.actuals[0], follow)
    np.testing.assert_array_equal(scores.forecasts["naive"][0], [series[0][-1]] * 4)
    assert scores.summary()["Naive2"]["OWA"] == 1.0


# --------------------------------------------------------------------------------------------
# test_set_scores with a given model


def test_test_set_scores_with_a_longer_test_file_warns_and_scores_the_first_horizon_values(core_log):
    scores, _ = ev.test_set_scores([np.array(X[:8], float)], ["a"], None, None,
                                   {"a": np.array([11.0, 25.0, 27.0, 40.0, 99.0, -5.0])}, Config(), model=StandIn())
    np.testing.assert_array_equal(scores.actuals[0], [11, 25, 27, 40])
    assert per_window(scores, "seasonal naive", 0) == pytest.approx(SNAIVE8)
    assert per_window(scores, "LSTM", 0) == pytest.approx(LSTM8)
    assert scores.cutoff == [8] and scores.fold == [1]
    warnings = [r for r in core_log.records if r.name == "forecast_cli" and r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert "more than horizon = 4" in warnings[0].getMessage() and "first 4" in warnings[0].getMessage()


def test_test_set_scores_with_exactly_horizon_values_does_not_warn(core_log):
    ev.test_set_scores([np.array(X[:8], float)], ["a"], None, None, {"a": np.array([11.0, 25.0, 27.0, 40.0])},
                       Config(), model=StandIn())
    assert not [r for r in core_log.records if r.levelname == "WARNING"]


def test_test_set_scores_with_a_shorter_test_file_is_a_data_error():
    with pytest.raises(DataError, match="fewer than horizon = 4 values for series 'a'"):
        ev.test_set_scores([np.array(X[:8], float)], ["a"], None, None, {"a": np.array([11.0, 25.0, 27.0])},
                           Config(), model=StandIn())


def test_test_set_scores_warns_about_test_series_without_training_series(core_log):
    scores, _ = ev.test_set_scores([np.array(X[:8], float)], ["a"], None, None,
                                   {"a": np.array([11.0, 25.0, 27.0, 40.0]), "zz": np.ones(4)}, Config(), model=StandIn())
    assert scores.series == ["a"]
    assert any("test series zz has no matching training series" in r.getMessage() for r in core_log.records)


def test_test_set_scores_without_a_matching_id_is_a_data_error():
    with pytest.raises(DataError, match="no series of the test file matches"):
        ev.test_set_scores([np.array(X[:8], float)], ["a"], None, None, {"b": np.ones(4)}, Config(), model=StandIn())
