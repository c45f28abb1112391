"""Divergence and overflow (issue 5.3).

Contract: a NaN or infinite loss stops training with a TrainingError naming the epoch and
suggesting a lower learning rate (CLI: exit 1, one line, the previous model file untouched);
no model file with NaN or infinite weights is ever written; data whose values are too large
to compute with (1e300) is refused with a clear error instead of giving a NaN or infinite model
or forecasts silently.
"""

from __future__ import annotations

import os
import shutil
import warnings

import numpy as np
import pytest

from forecast_cli import Config, Forecaster, modelfile, network
from forecast_cli.errors import TrainingError
from forecast_cli.train import TrainSettings, fit_network

from conftest import one_error_line, run_cli

# the loss squares errors, plain SGD, no clipping, a learning rate at the top of its range
DIVERGE = ["--optimizer", "sgd", "--loss", "mse", "--clip-norm", "0", "--lr", "100"]
SMALL = ["--horizon", "4", "--input-size", "12", "--season", "6", "--hidden-size", "4", "--epochs", "5", "--quiet"]


def write_series(path, scale: float = 1.0, n: int = 60):
    rng = np.random.default_rng(0)
    rows = [f"s{s},{t},{float(scale * (10 + 3 * np.sin(2 * np.pi * t / 6) + rng.normal(0, 0.3)))!r}"
            for s in range(2) for t in range(n)]
    path.write_text("unique_id,ds,y\n" + "\n".join(rows) + "\n")
    return path


@pytest.fixture
def previous(tmp_path, trained_model):
    path = tmp_path / "model.npz"
    shutil.copyfile(trained_model, path)
    return path, path.read_bytes()


def test_absurd_learning_rate_stops_with_a_clear_error(tmp_path, previous):
    path, old = previous
    data = write_series(tmp_path / "d.csv")
    result = run_cli("train", data, *SMALL, *DIVERGE, "-o", path, "--checkpoint-every", "1")
    assert result.returncode == 1, result.stderr
    assert result.stdout == ""
    error = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(error) == 1, result.stderr
    assert "diverged in epoch" in error[0] and "lower --learning-rate" in error[0] and "100" in error[0]
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "model.ckpt.npz") == ["d.csv", "model.npz"]
    if (tmp_path / "model.ckpt.npz").exists():            # a checkpoint of an epoch that ended well is fine
        modelfile.load_checkpoint(str(tmp_path / "model.ckpt.npz"))


def test_divergence_error_is_the_only_line_on_stderr(tmp_path):
    data = write_series(tmp_path / "d.csv")
    result = run_cli("train", data, *SMALL, *DIVERGE, "-o", tmp_path / "m.npz")
    assert result.returncode == 1
    one_error_line(result.stderr)


# ------------------------------------------------------------------------------------------
# the training loop, with batches that go bad on purpose

SETTINGS = dict(epochs=6, batches_per_epoch=2, batch_size=4, learning_rate=1e-2, lr_schedule="constant",
                optimizer="adam", weight_decay=0.0, clip_norm=1.0, loss="mse", patience=100, dropout=0.0)


def small_network(seed=0):
    return network.init_params(network.Shape(1, 3, 1, 2), np.random.default_rng(seed), np.float32)


def batches(bad_from: int, bad_value: float):
    """draw_batch: good batches, then from the `bad_from`-th call on, targets of `bad_value`."""
    calls = [0]

    def draw(rng):
        calls[0] += 1
        x = rng.normal(size=(5, 4, 1)).astype(np.float32)
        y = np.full((4, 2), bad_value if calls[0] >= bad_from else 0.5, np.float32)
        return x, y

    return draw


@pytest.mark.parametrize("bad_value", [np.nan, np.inf])
def test_nan_or_inf_loss_names_the_epoch(bad_value):
    # batch 7 is the first of epoch 4
    with pytest.raises(TrainingError, match=r"diverged in epoch 4: .*lower --learning-rate") as exc:
        fit_network(small_network(), batches(7, bad_value), None, TrainSettings(**SETTINGS), np.random.default_rng(0))
    assert "\n" not in str(exc.value)


def test_non_finite_validation_loss_stops_training():
    x = np.random.default_rng(1).normal(size=(5, 3, 1)).astype(np.float32)
    val = (x, np.full((3, 2), np.inf, np.float32))
    with pytest.raises(TrainingError, match=r"diverged in epoch 1: the validation loss"):
        fit_network(small_network(), batches(10**9, 0.0), val, TrainSettings(**SETTINGS), np.random.default_rng(0))


def test_weights_that_overflow_in_the_last_update_never_leave():
    settings = TrainSettings(**dict(SETTINGS, epochs=1, batches_per_epoch=1, learning_rate=1e30, optimizer="sgd",
                                    clip_norm=0.0))
    draw = lambda rng: (np.full((5, 4, 1), 1.0, np.float32), np.full((4, 2), 1e18, np.float32))  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            state = fit_network(small_network(), draw, None, settings, np.random.default_rng(0))
        except TrainingError:
            return
    assert all(np.all(np.isfinite(a)) for a in state.best_params.values())


# ------------------------------------------------------------------------------------------
# the model file is the last line of defence


@pytest.fixture(scope="module")
def fitted():
    config = Config(horizon=2, input_size=6, season=1, hidden_size=3, epochs=1, batches_per_epoch=1, batch_size=4)
    return Forecaster(config).fit([np.arange(30.0) % 5 + 1])


@pytest.mark.parametrize("where", ["member0/head.W", "member0/lstm.0.Wh", "tails"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_save_refuses_non_finite_weights(tmp_path, fitted, where, bad):
    path = tmp_path / "model.npz"
    modelfile.save(str(path), fitted)
    before = path.read_bytes()
    members = [{k: v.copy() for k, v in m.items()} for m in fitted.members]
    tails = [t.copy() for t in fitted.tails]
    if where == "tails":
        tails[0][-1] = bad
    else:
        members[0][where.split("/", 1)[1]].flat[0] = bad
    broken = Forecaster(fitted.config, members, fitted.scaler, fitted.histories, fitted.series_ids, tails,
                        fitted.tail_phase0)
    with pytest.raises(TrainingError, match="NaN or infinite") as exc:
        modelfile.save(str(path), broken)
    assert "\n" not in str(exc.value)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["model.npz"]


# ------------------------------------------------------------------------------------------
# values too large to compute with


@pytest.mark.parametrize("scaling", ["mean", "standard", "global"])
@pytest.mark.parametrize("scale", [1e300, 1e200])
def test_huge_values_never_give_a_silent_nan_model(tmp_path, scaling, scale):
    """Either a clear error and no model, or a model that loads and forecasts finite numbers."""
    data, model = write_series(tmp_path / "huge.csv", scale), tmp_path / "m.npz"
    result = run_cli("train", data, *SMALL, "--epochs", "2", "--scaling", scaling, "-o", model)
    if result.returncode != 0:
        assert result.returncode == 1
        assert "rescale" in one_error_line(result.stderr)
        assert not model.exists()
        return
    forecaster, _ = modelfile.load(str(model))                   # raises if the file holds NaN
    assert np.all(np.isfinite(forecaster.predict()))


def test_predict_on_huge_values_is_refused_clearly(tmp_path, trained_model):
    rows = "\n".join(f"1960-{m:02d}-01,{1e300 * (m + 1)!r}" for m in range(1, 13))
    data = tmp_path / "huge.csv"
    data.write_text("month,passengers\n" + "\n".join(f"1959-{m:02d}-01,{1e300 * m!r}" for m in range(1, 13))
                    + "\n" + rows + "\n")
    result = run_cli("predict", "-m", trained_model, data)
    assert result.returncode == 1 and result.stdout == ""
    assert "rescale" in one_error_line(result.stderr)


def test_library_fit_on_huge_values_forecasts_finite_numbers():
    k = np.arange(60)
    series = [1e200 * (10 + 3 * np.sin(2 * np.pi * k / 6))]
    config = Config(horizon=4, input_size=12, season=6, hidden_size=4, epochs=2, scaling="standard")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        forecaster = Forecaster(config).fit(series)
        assert np.all(np.isfinite(forecaster.predict()))
