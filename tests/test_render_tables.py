"""Tables (render.FrameTable) fit the console's width without cutting a number, a date or a
header: columns that do not fit go on to a further table that repeats the id columns; interval
headers are shortened per level (lo-80, cov-95) and spelled out below."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console
from typer.testing import CliRunner

from forecast_cli import render
from forecast_cli.cli import app

from conftest import AIR


def at_width(renderable, width: int = 80) -> list[str]:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text().rstrip("\n").split("\n")


def assert_whole(lines: list[str], texts, width: int = 80) -> None:
    """Every line fits, nothing is cut (no ellipsis) and each text appears whole on some line."""
    assert all(len(line.rstrip()) <= width for line in lines), "\n".join(lines)
    assert not any("…" in line for line in lines), "\n".join(lines)
    text = "\n".join(lines)
    missing = [t for t in texts if t not in text]
    assert not missing, f"{missing[:5]} not whole in:\n{text}"


def forecast_frame(levels=(80, 95), ds="1961-01-01T00:00:00", uid="passengers-international"):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"unique_id": [uid] * 4, "ds": [ds.replace("01T", f"0{d}T") for d in range(1, 5)],
                          "forecast": rng.uniform(100, 123456, 4)})
    for level in levels:
        frame[f"forecast-lo-{level}"] = frame["forecast"] - level
        frame[f"forecast-hi-{level}"] = frame["forecast"] + level
    return frame


def cells(frame) -> list[str]:
    return [f"{v:.4f}" if isinstance(v, float) else str(v) for v in frame.to_numpy().ravel().tolist()]


def test_forecast_table_with_two_levels_fits_80_columns_whole():
    frame = forecast_frame()
    lines = at_width(render.FrameTable(frame, "forecast (4 steps)"))
    assert_whole(lines, cells(frame) + ["lo-80", "hi-80", "lo-95", "hi-95"])
    legend = " ".join(" ".join(lines).split())
    assert "lo-80 = forecast-lo-80" in legend and "hi-95 = forecast-hi-95" in legend


def test_every_part_repeats_the_id_and_time_columns():
    lines = at_width(render.FrameTable(forecast_frame(levels=(50, 80, 95)), "forecast"))
    headers = [line for line in lines if line.lstrip().startswith("unique_id")]
    assert len(headers) >= 2 and all(" ds " in h for h in headers)


def scores(levels=(80, 95)) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    names = ["MAE", "RMSE", "sMAPE", "MASE", "OWA", *(f"{m}-{lv}" for lv in levels for m in ("coverage", "MSIS", "ACD"))]
    frame = pd.DataFrame({"method": ["LSTM", "naive", "seasonal naive", "Naive2"],
                          **{n: rng.uniform(0, 2000, 4) for n in names}})
    frame.loc[1, "MSIS-80"] = np.nan
    return frame


def test_scores_table_two_levels_distinct_headers_whole_numbers():
    frame = scores()
    lines = at_width(render.FrameTable(frame, "1 series, horizon 18, season 12"))
    assert_whole(lines, [c for c in cells(frame) if c != "nan"] + ["cov-80", "cov-95", "MSIS-80", "MSIS-95", "ACD-80", "ACD-95"])
    assert not any("nan" in line for line in lines)
    assert "cov-80 = coverage-80" in " ".join(" ".join(lines).split())


def test_no_legend_without_shortened_headers():
    lines = at_width(render.FrameTable(pd.DataFrame({"method": ["LSTM"], "MAE": [1.5]})))
    assert not any("=" in line for line in lines)


@pytest.mark.parametrize("width", [60, 80, 120])
def test_per_series_scores_fit_any_width(width):
    frame = scores().assign(unique_id="T1000", fold=1)[["unique_id", "fold", "method", *scores().columns[1:]]]
    assert_whole(at_width(render.FrameTable(frame), width), [c for c in cells(frame) if c != "nan"], width)


def test_predict_table_at_80_columns_matches_the_csv(trained_model):
    runner = CliRunner()
    args = ["predict", "-m", str(trained_model), "--level", "80", "--level", "95", "-q"]
    table = runner.invoke(app, [*args, "--format", "table"], env={"COLUMNS": "80"})
    as_csv = runner.invoke(app, [*args, "--format", "csv"])
    assert table.exit_code == as_csv.exit_code == 0, table.stderr
    frame = pd.read_csv(io.StringIO(as_csv.stdout))
    assert_whole(table.stdout.splitlines(), cells(frame) + ["lo-80", "hi-95"])


def test_evaluate_table_at_80_columns_two_levels(trained_model):
    args = ["evaluate", str(AIR), "-m", str(trained_model), "--level", "80", "--level", "95", "-q"]
    table = CliRunner().invoke(app, [*args, "--format", "table"], env={"COLUMNS": "80"})
    assert table.exit_code == 0, table.stderr
    assert_whole(table.stdout.splitlines(), ["cov-80", "cov-95", "seasonal naive", "Naive2"])
