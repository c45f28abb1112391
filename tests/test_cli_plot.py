"""predict/evaluate with --level (interval columns and scores), --plot (charts on stderr, stdout
untouched) and --plot-file (an image through matplotlib, or one clear error without it)."""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app

from conftest import AIR, M4, TINY

runner = CliRunner()
# ensemble members one after another: the intervals are what is tested here, not the worker pool
SMALL = [*TINY, "--workers", "1"]
INTERVAL_COLUMNS = ["forecast-lo-80", "forecast-hi-80", "forecast-lo-95", "forecast-hi-95"]


def invoke(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture(scope="module")
def many_model(tmp_path_factory):
    """A tiny model of the 8 M4 sample series (integer steps)."""
    path = tmp_path_factory.mktemp("many") / "m4.npz"
    result = invoke("train", M4, *SMALL, "--horizon", "4", "--input-size", "12", "--batches-per-epoch", "2", "-o", path, "-q")
    assert result.exit_code == 0, result.stderr
    return path


def _csv(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), dtype={"unique_id": str, "ds": str})


# ------------------------------------------------------------------------------------------
# --level


def test_predict_levels_add_ordered_interval_columns(trained_model):
    result = invoke("predict", "-m", trained_model, "--level", 95, "--level", 80)
    assert result.exit_code == 0, result.stderr
    frame = _csv(result.stdout)
    assert list(frame.columns) == ["unique_id", "ds", "forecast", *INTERVAL_COLUMNS]
    values = frame[INTERVAL_COLUMNS + ["forecast"]].to_numpy()
    assert np.all(np.isfinite(values))
    f = frame["forecast"]
    assert (frame["forecast-lo-95"] <= frame["forecast-lo-80"]).all() and (frame["forecast-lo-80"] <= f).all()
    assert (f <= frame["forecast-hi-80"]).all() and (frame["forecast-hi-80"] <= frame["forecast-hi-95"]).all()
    # the point forecasts are those of a plain predict
    plain = _csv(invoke("predict", "-m", trained_model).stdout)
    np.testing.assert_array_equal(plain["forecast"], f)


def test_predict_levels_in_json_and_table(trained_model):
    records = json.loads(invoke("predict", "-m", trained_model, "-l", 80, "-l", 95, "-f", "json").stdout)
    assert list(records[0]) == ["unique_id", "ds", "forecast", *INTERVAL_COLUMNS]
    table = runner.invoke(app, ["predict", "-m", str(trained_model), "-l", "95", "-f", "table"], env={"COLUMNS": "200"}).stdout
    assert "forecast-lo-95" in table and "forecast-hi-95" in table


def test_predict_levels_for_new_series(many_model):
    result = invoke("predict", "-m", many_model, M4, "-l", 90)
    assert result.exit_code == 0, result.stderr
    frame = _csv(result.stdout)
    assert (frame["forecast-lo-90"] <= frame["forecast"]).all() and (frame["forecast"] <= frame["forecast-hi-90"]).all()


@pytest.mark.parametrize("level", ["0", "100", "abc"])
def test_level_out_of_range_is_a_usage_error(trained_model, level):
    result = invoke("predict", "-m", trained_model, "--level", level)
    assert result.exit_code == 2 and result.stdout == ""


def test_levels_need_a_calibrated_model(tmp_path):
    model = tmp_path / "noval.npz"
    assert invoke("train", AIR, *SMALL, "--val-size", "0", "-o", model, "-q").exit_code == 0
    result = invoke("predict", "-m", model, "--level", 95)
    assert result.exit_code == 1 and result.stdout == ""
    assert "val_size 0" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_evaluate_reports_interval_scores(tmp_path):
    result = invoke("evaluate", AIR, *SMALL, "--level", 95, "-f", "csv", "-q")
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(io.StringIO(result.stdout)).set_index("method")
    assert {"coverage-95", "MSIS-95", "ACD-95"} <= set(frame.columns)
    for method in ("LSTM", "seasonal naive"):
        row = frame.loc[method]
        assert 0 <= row["coverage-95"] <= 1 and row["MSIS-95"] > 0
        assert row["ACD-95"] == pytest.approx(abs(row["coverage-95"] - 0.95))
    assert np.isnan(frame.loc["naive", "MSIS-95"])  # no intervals for naive and Naive2


# ------------------------------------------------------------------------------------------
# --plot


def test_plot_draws_on_stderr_and_leaves_stdout_alone(trained_model):
    plain = invoke("predict", "-m", trained_model, "-l", 95)
    plotted = invoke("predict", "-m", trained_model, "-l", 95, "--plot")
    assert plotted.exit_code == 0
    assert plotted.stdout == plain.stdout
    assert "passengers: forecast with 95% intervals" in plotted.stderr
    assert "95% interval" in plotted.stderr and "steps after 1960-12-01" in plotted.stderr
    assert any(0x2800 < ord(ch) <= 0x28FF for ch in plotted.stderr)  # braille dots


def test_plot_series_limits_the_charts(many_model):
    result = invoke("predict", "-m", many_model, "--plot", "--plot-series", 2)
    assert result.exit_code == 0
    assert result.stderr.count(": forecast") == 2
    assert invoke("predict", "-m", many_model, "--plot").stderr.count(": forecast") == 8


def test_quiet_silences_charts(trained_model):
    assert invoke("predict", "-m", trained_model, "--plot", "-q").stderr == ""


def test_evaluate_plot_draws_actuals_against_forecasts():
    result = invoke("evaluate", AIR, *SMALL, "--level", 80, "--plot", "-f", "csv")
    assert result.exit_code == 0
    assert "actuals against the forecast" in result.stderr and "80% interval" in result.stderr
    assert result.stdout.startswith("method,")


# ------------------------------------------------------------------------------------------
# --plot-file

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_plot_file_writes_a_png(trained_model, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "forecast.png"
    result = invoke("predict", "-m", trained_model, "-l", 80, "-l", 95, "--plot-file", out)
    assert result.exit_code == 0, result.stderr
    data = out.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert len(data) > 10_000                     # a drawn chart, not an empty canvas
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")  # IHDR
    assert width >= 600 and height >= 200
    assert _csv(result.stdout).shape == (18, 7)   # the data still on stdout


def test_plot_file_writes_an_svg_for_evaluate(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "backtest.svg"
    result = invoke("evaluate", AIR, *SMALL, "-l", 95, "--plot-file", out, "-f", "csv", "-q")
    assert result.exit_code == 0, result.stderr
    assert "<svg" in out.read_text()[:2000]


def test_plot_file_without_matplotlib_says_how_to_get_it(trained_model, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib → ImportError
    out = tmp_path / "forecast.png"
    result = invoke("predict", "-m", trained_model, "--plot-file", out)
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.strip() == "error: --plot-file needs matplotlib: pip install matplotlib"
    assert not out.exists()


def test_plot_file_of_unknown_type_refused(trained_model, tmp_path):
    result = invoke("predict", "-m", trained_model, "--plot-file", tmp_path / "chart.gif")
    assert result.exit_code == 2 and result.stdout == ""
    assert ".png, .svg or .pdf" in result.stderr
