"""Forecaster: fit and predict on NumPy series — it learns, it is reproducible, it copes."""

from __future__ import annotations

import numpy as np
import pytest

from forecast_cli import Config, Forecaster
from forecast_cli.errors import DataError

SEASON = 12


def pattern(n, start=0, level=10.0):
    """A noiseless multiplicative season of 12 steps; `start` is the clock position of step 0."""
    k = np.arange(start, start + n)
    return level * (1 + 0.3 * np.sin(2 * np.pi * k / SEASON) + 0.15 * np.cos(4 * np.pi * k / SEASON))


def tiny(**changes) -> Config:
    base = dict(horizon=6, input_size=24, season=SEASON, hidden_size=8, epochs=3, batch_size=16,
                batches_per_epoch=3, seed=0, blend=1.0)  # the network alone (test_blend.py: the mix)
    base.update(changes)
    return Config(**base)


def test_learns_a_seasonal_pattern_better_than_a_flat_forecast():
    starts, levels = [0, 1, 2, 3], [10.0, 15.0, 20.0, 25.0]
    series = [pattern(96, s, lv) for s, lv in zip(starts, levels)]
    config = tiny(hidden_size=16, epochs=30, batch_size=32, batches_per_epoch=10, learning_rate=1e-2, val_size=0)
    f = Forecaster(config).fit(series, phase0=starts)
    truth = np.stack([pattern(6, s + 96, lv) for s, lv in zip(starts, levels)])
    pred = f.predict()
    assert pred.shape == (4, 6)
    flat = np.stack([np.full(6, s[-24:].mean()) for s in series])      # the best flat guess from the input
    model_mae, flat_mae = np.abs(pred - truth).mean(), np.abs(flat - truth).mean()
    assert model_mae < 0.3 * flat_mae, (model_mae, flat_mae)
    assert f.histories[0].train_loss[-1] < 0.5 * f.histories[0].train_loss[0]


def test_same_seed_same_model_different_seed_different_model():
    series = [pattern(60, 0), pattern(50, 3, 30.0)]
    a = Forecaster(tiny(seed=1)).fit(series)
    b = Forecaster(tiny(seed=1)).fit(series)
    c = Forecaster(tiny(seed=2)).fit(series)
    for name in a.members[0]:
        np.testing.assert_array_equal(a.members[0][name], b.members[0][name])
    np.testing.assert_array_equal(a.predict(), b.predict())
    assert a.histories[0].train_loss == b.histories[0].train_loss
    assert not np.array_equal(a.predict(), c.predict())
    assert any(not np.array_equal(a.members[0][n], c.members[0][n]) for n in a.members[0])


def test_ensemble_members_differ_and_forecast_is_their_median():
    series = [pattern(60, 0)]
    f = Forecaster(tiny(ensemble=3)).fit(series)
    assert len(f.members) == 3 and len(f.histories) == 3
    assert not np.array_equal(f.members[0]["head.W"], f.members[1]["head.W"])
    each = []
    for params in f.members:
        f1 = Forecaster(f.config, [params], f.scaler, f.histories[:1], f.series_ids, f.tails, f.tail_phase0)
        each.append(f1.predict())
    np.testing.assert_allclose(f.predict(), np.median(np.stack(each), axis=0), rtol=1e-12)


@pytest.mark.parametrize("value", [0.0, 5.0, -2.0])
@pytest.mark.parametrize("scaling", ["mean", "standard", "global"])
def test_constant_series_gives_finite_forecasts(value, scaling):
    f = Forecaster(tiny(scaling=scaling)).fit([np.full(50, value), np.full(40, value)])
    out = f.predict()
    assert out.shape == (2, 6) and np.all(np.isfinite(out))


def test_predict_on_unseen_series():
    f = Forecaster(tiny()).fit([pattern(60, 0)])
    new = [pattern(30, 5, 40.0), pattern(24, 0, 3.0), pattern(100, 2)]
    out = f.predict(new, phase0=[5, 0, 2])
    assert out.shape == (3, 6) and np.all(np.isfinite(out))
    # only the last input_size points matter (float32: a different batch may round differently)
    np.testing.assert_allclose(f.predict([new[2][-24:]], phase0=[2 + 76])[0], out[2], rtol=1e-5, atol=1e-6)
    # mean scaling: a series ten times larger gets a forecast ten times larger
    np.testing.assert_allclose(f.predict([10 * new[0]], phase0=[5])[0], 10 * out[0], rtol=1e-5)


def test_predict_needs_input_size_points():
    f = Forecaster(tiny()).fit([pattern(60)])
    with pytest.raises(DataError, match="input_size"):
        f.predict([np.ones(23)])


def test_predict_before_fit_is_a_data_error():
    with pytest.raises(DataError):
        Forecaster(tiny()).predict([np.ones(30)])


def test_default_predict_continues_the_training_series():
    series = [pattern(60, 0), pattern(45, 4, 20.0)]
    f = Forecaster(tiny()).fit(series, ids=["a", "b"], phase0=[0, 4])
    assert f.series_ids == ["a", "b"]
    np.testing.assert_array_equal(f.tails[1], series[1][-24:])
    assert f.tail_phase0 == [36, 4 + 21]
    np.testing.assert_array_equal(f.predict(), f.predict(series, phase0=[0, 4]))


def test_short_series_are_skipped_with_a_warning(core_log):
    series = [pattern(60), np.arange(10.0), pattern(50, 1)]
    f = Forecaster(tiny()).fit(series, ids=["long", "short", "other"])
    assert f.series_ids == ["long", "other"]
    assert f.predict().shape == (2, 6)
    warnings = [r.getMessage() for r in core_log.records if r.levelname == "WARNING"]
    assert any("short" in m and "skipped" in m for m in warnings), warnings
    assert not any("long" in m for m in warnings)


def test_no_series_long_enough_is_a_data_error():
    with pytest.raises(DataError) as exc:
        Forecaster(tiny()).fit([np.arange(10.0), np.arange(20.0)])
    assert "\n" not in str(exc.value) and "30" in str(exc.value)      # input_size + horizon = 30


def test_no_training_windows_after_the_holdout_is_a_data_error():
    # 30 points give a window, but not once the last 6 are held out for validation
    with pytest.raises(DataError, match="val"):
        Forecaster(tiny(val_size=6)).fit([pattern(30)])


def test_auto_options_are_resolved_from_frequency_and_lengths():
    f = Forecaster(Config(hidden_size=4, epochs=1, batches_per_epoch=1)).fit([pattern(144)], freq="MS")
    c = f.config
    assert (c.season, c.horizon, c.val_size) == (12, 18, 18)
    assert c.input_size == 36 and c.patch == 12        # max(2·18, 3·12), and 144 − 18 − 18 leaves room
    short = Forecaster(Config(hidden_size=4, epochs=1, batches_per_epoch=1)).fit([pattern(70)], freq="MS")
    assert short.config.input_size == 24                # shortened to fit 70 − 18 − 18 = 34, in whole seasons
    shorter = Forecaster(Config(hidden_size=4, epochs=1, batches_per_epoch=1)).fit([pattern(47)], freq="MS")
    assert shorter.config.input_size == 11 and shorter.config.patch == 1   # less than a season: as it fits
    hourly = Forecaster(Config(hidden_size=4, epochs=1, batches_per_epoch=1)).fit([pattern(400)], freq="h")
    assert hourly.config.input_size == 168 and hourly.config.patch == 24   # a week of a daily cycle


def test_validation_keeps_the_best_epoch():
    f = Forecaster(tiny(epochs=6, val_size=6, patience=100)).fit([pattern(80), pattern(80, 3)])
    h = f.histories[0]
    assert len(h.val_loss) == 6 and all(v is not None for v in h.val_loss)
    assert h.best_epoch == int(np.argmin(h.val_loss)) + 1


def test_members_trained_in_worker_processes_equal_those_trained_in_turn():
    """workers changes the wall time, never the model: member k is seeded (seed, k) either way."""
    series = [pattern(120), pattern(120, 5), pattern(120, 9)]
    config = Config(horizon=6, season=12, input_size=24, hidden_size=6, epochs=3, batches_per_epoch=4, ensemble=3)
    in_turn = Forecaster(config.replace(workers=1)).fit(series)
    reports = []
    side_by_side = Forecaster(config.replace(workers=2)).fit(series, on_epoch=reports.append)
    for a, b in zip(in_turn.members, side_by_side.members):
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    assert sorted((r.member, r.epoch) for r in reports if r.stage == "training") == [(k, e) for k in range(3) for e in (1, 2, 3)]


def test_few_series_train_a_twin_for_the_intervals_many_do_not():
    """With few validation windows a twin is trained (intervals.twin_holdout); its epochs are
    reported with stage "intervals", the model's with stage "training"."""
    few = []
    Forecaster(tiny(ensemble=2, workers=1)).fit([pattern(120), pattern(120, 5)], on_epoch=few.append)
    assert {(r.stage, r.member) for r in few} == {("training", 0), ("training", 1), ("intervals", 0), ("intervals", 1)}
    many = []
    Forecaster(tiny(ensemble=1, val_size=6)).fit([pattern(40, k) for k in range(170)], on_epoch=many.append)
    assert {r.stage for r in many} == {"training"}                 # 170 windows · 6 steps ≥ MIN_POOLED


def test_a_stop_while_the_twin_trains_keeps_the_model_and_reports_the_interruption():
    reports = []
    f = Forecaster(tiny(ensemble=1)).fit([pattern(120), pattern(120, 5)], on_epoch=reports.append,
                                        should_stop=lambda: any(r.stage == "intervals" for r in reports))
    assert [r.stage for r in reports] == ["training"] * 3 + ["intervals"]
    assert f.interrupted and len(f.members) == 1 and f.calibration is not None


def test_a_twin_that_fails_to_train_leaves_the_model_and_a_warning(monkeypatch, core_log):
    from forecast_cli.errors import TrainingError
    train = Forecaster._train

    def twin_diverges(self, panel, *args):
        if panel.lengths.max() < 120:                  # the twin's series are shorter
            raise TrainingError("training diverged in epoch 1")
        return train(self, panel, *args)

    monkeypatch.setattr(Forecaster, "_train", twin_diverges)
    f = Forecaster(tiny(ensemble=1)).fit([pattern(120), pattern(120, 5)])
    assert len(f.members) == 1 and not f.interrupted and f.calibration is not None
    assert "validation windows alone" in core_log.text
