"""Gaps in the timestamps (issue 5.5): a missing timestamp is re-inserted on the series' grid
and its value filled (with a warning), never closed up — so every value keeps its position on
the calendar, the model reads the right season phase, and forecasts carry the right dates.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from forecast_cli import modelfile
from forecast_cli.config import Config
from forecast_cli.data import load_series
from forecast_cli.timeline import period_ordinal

from conftest import run_cli

MONTHS = pd.date_range("2015-01-01", periods=60, freq="MS")
MISSING = (30, 31, 47)                        # Jul–Aug 2017 and Dec 2018


def monthly_value(k):
    """Linear within every stretch, so linear interpolation restores a gap exactly."""
    return 100.0 + 2.0 * k


def write_monthly(path, skip=MISSING, months=MONTHS, sid="m"):
    rows = [f"{sid},{d.date()},{monthly_value(k)}" for k, d in enumerate(months) if k not in skip]
    path.write_text("unique_id,ds,y\n" + "\n".join(rows) + "\n")
    return path


def test_a_series_with_gaps_everywhere_is_put_on_its_grid(tmp_path, core_log):
    """No 5 consecutive days are complete, so pandas infers no frequency from any stretch: the
    series is still regular (daily, 30% missing) and must not be closed up."""
    days = pd.date_range("2020-01-01", periods=100, freq="D")
    keep = np.random.default_rng(1).random(100) > 0.3
    path = tmp_path / "daily.csv"
    path.write_text("ds,y\n" + "".join(f"{d.date()},{k}\n" for k, d in enumerate(days) if keep[k]))
    series = load_series(str(path), Config())
    assert series.freq == "D"
    np.testing.assert_array_equal(series.times[0], days.to_numpy())
    np.testing.assert_allclose(series.values[0], np.arange(100.0))          # each value at its own day
    assert any(f"{(~keep).sum()} missing timestamps" in r.getMessage() for r in core_log.records)


@pytest.mark.parametrize("freq", ["h", "15min", "W-WED", "3D"])
def test_sparse_series_of_other_frequencies(tmp_path, freq):
    stamps = pd.date_range("2021-01-06", periods=80, freq=freq)
    keep = np.random.default_rng(3).random(80) > 0.35
    keep[[0, -1]] = True
    path = tmp_path / "sparse.csv"
    path.write_text("ds,y\n" + "".join(f"{t.isoformat()},{k}\n" for k, t in enumerate(stamps) if keep[k]))
    series = load_series(str(path), Config())
    np.testing.assert_array_equal(series.times[0], stamps.to_numpy())
    np.testing.assert_allclose(series.values[0], np.arange(80.0))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model trained through the CLI on a monthly series with three missing months."""
    folder = tmp_path_factory.mktemp("gaps")
    data, model = write_monthly(folder / "gappy.csv"), folder / "model.npz"
    result = run_cli("train", data, "--epochs", "2", "--hidden-size", "4", "--input-size", "24", "--horizon", "6",
                     "--batches-per-epoch", "2", "-o", model)
    assert result.returncode == 0, result.stderr
    return data, model, result.stderr


def test_training_warns_and_remembers_the_aligned_tail(trained):
    _, model, stderr = trained
    assert "3 missing timestamps re-inserted" in stderr
    forecaster, info = modelfile.load(str(model))
    # the last 24 months, Jan 2018 … Dec 2019, Dec 2018 (k = 47) filled by interpolation
    np.testing.assert_allclose(forecaster.tails[0], monthly_value(np.arange(36, 60)))
    assert forecaster.tail_phase0 == [period_ordinal(MONTHS[36], "datetime", "MS")]
    assert info["last_times"] == ["2019-12-01"] and info["freq"] == "MS"


def test_forecasts_continue_after_the_last_month(trained):
    _, model, _ = trained
    result = run_cli("predict", "-m", model, "--format", "json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [r["ds"] for r in rows] == [str(d.date()) for d in pd.date_range("2020-01-01", periods=6, freq="MS")]


def test_new_data_with_a_gap_is_read_on_its_grid(trained, tmp_path):
    """predict on new data with a gap gives the forecasts of the gap-filled series — not those
    of the series closed up — dated after its last month."""
    _, model, _ = trained
    months = pd.date_range("2016-03-01", periods=40, freq="MS")
    gappy = write_monthly(tmp_path / "new.csv", skip=(33, 35), months=months, sid="n")
    closed = tmp_path / "closed.csv"
    closed.write_text("unique_id,ds,y\n" + "\n".join(
        f"n,{d.date()},{v}" for d, v in zip(months[2:], [monthly_value(k) for k in range(40) if k not in (33, 35)])) + "\n")
    forecaster, _ = modelfile.load(str(model))

    def cli_forecast(path):
        result = run_cli("predict", "-m", model, path)
        assert result.returncode == 0, result.stderr
        return pd.read_csv(io.StringIO(result.stdout))

    got = cli_forecast(gappy)
    assert list(got["ds"]) == [str(d.date()) for d in pd.date_range(months[-1], periods=7, freq="MS")[1:]]
    series = load_series(str(gappy), Config())
    np.testing.assert_allclose(series.values[0], monthly_value(np.arange(40)))
    np.testing.assert_allclose(got["forecast"], forecaster.predict(series.values, series.phase0())[0], rtol=1e-6)
    assert not np.allclose(got["forecast"], cli_forecast(closed)["forecast"], rtol=1e-3)


def test_a_span_far_beyond_the_values_is_refused_not_filled(tmp_path):
    """Integer steps 0, 1, 2 and 10^12: re-inserting the missing stamps would invent nearly all
    of the series (and take terabytes): a one-line error naming the series and the column."""
    from forecast_cli.config import Config
    from forecast_cli.data import load_series
    from forecast_cli.errors import DataError
    path = tmp_path / "far.csv"
    path.write_text("t,y\n0,1\n1,2\n2,3\n1000000000000,4\n")
    with pytest.raises(DataError, match="4 values spread over 1000000000001 steps.*--time-col"):
        load_series(str(path), Config())
