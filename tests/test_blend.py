"""blend.py: the weight chosen on held-out windows; the forecaster records it and predicts with it."""

import numpy as np
import pytest

from forecast_cli import Config, Forecaster, blend, classical, modelfile


def windows(n=30, h=6, seed=0):
    rng = np.random.default_rng(seed)
    actual = rng.uniform(50, 150, (n, h))
    return actual, np.ones(n)


def test_a_perfect_lstm_gets_all_the_weight():
    actual, scale = windows()
    assert blend.choose(actual, actual, actual + 10, scale) == 1.0


def test_a_perfect_classical_forecast_gets_all_the_weight():
    actual, scale = windows()
    assert blend.choose(actual, actual - 10, actual, scale) == 0.0


def test_errors_of_opposite_sign_are_shared_half_and_half():
    actual, scale = windows()
    assert blend.choose(actual, actual + 10, actual - 10, scale) == 0.5


def test_no_windows_keep_the_lstm_alone():
    empty = np.zeros((0, 6))
    assert blend.choose(empty, empty, empty, np.zeros(0)) == 1.0


def test_mix():
    np.testing.assert_allclose(blend.mix(0.3, np.array([10.0]), np.array([20.0])), [17.0])


def short_seasonal(n=60, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return 100 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, n)


SMALL = dict(horizon=6, season=12, hidden_size=8, epochs=3, ensemble=1, workers=1)


def test_the_chosen_weight_is_in_the_config_and_the_model_file(tmp_path):
    f = Forecaster(Config(**SMALL)).fit([short_seasonal()])
    assert f.config.blend in blend.WEIGHTS
    path = str(tmp_path / "m.npz")
    modelfile.save(path, f)
    loaded, _ = modelfile.load(path)
    assert loaded.config.blend == f.config.blend
    np.testing.assert_array_equal(loaded.predict(), f.predict())


def test_predict_blends_the_networks_forecast_with_the_classical_one():
    x = short_seasonal()
    mixed = Forecaster(Config(**SMALL, blend=0.25)).fit([x])
    alone = Forecaster(Config(**SMALL, blend=1.0)).fit([x])
    assert alone.classical_ahead is None
    expected = 0.25 * alone.predict([x]) + 0.75 * classical.combined([x], 6, 12)
    np.testing.assert_allclose(mixed.predict([x]), expected, rtol=1e-12)
    # continuing the training series gives what forecasting the same series gives
    np.testing.assert_allclose(mixed.predict(), mixed.predict([x]), rtol=1e-12)


def test_classical_alone_when_the_weight_is_zero():
    x = short_seasonal(seed=3)
    f = Forecaster(Config(**SMALL, blend=0.0)).fit([x])
    np.testing.assert_allclose(f.predict([x]), classical.combined([x], 6, 12))


def test_intervals_are_calibrated_on_the_blended_forecast():
    x = short_seasonal(seed=4)
    f = Forecaster(Config(**SMALL, blend=0.0)).fit([x])
    from forecast_cli import intervals
    forecasts, bounds = intervals.predict(f, [95], [x])
    lo, hi = bounds[95]
    assert np.all(lo <= forecasts) and np.all(forecasts <= hi)
    np.testing.assert_allclose(forecasts, classical.combined([x], 6, 12))


@pytest.mark.parametrize("value", [-0.1, 1.5, "half"])
def test_blend_out_of_range_is_a_config_error(value):
    from forecast_cli.errors import ConfigError
    with pytest.raises(ConfigError, match="blend"):
        Config(blend=value)
