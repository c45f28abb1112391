"""A gallery of files the way spreadsheets, statistics offices and tutorials write them
(tests/gallery/): each is read right — the series, values and stamps it must give, and the note
that says what was detected — or refused with one line that names the flag that fixes it, from
the data layer and from `lstm-forecast train` alike (never a traceback, never a model of
misread data)."""

from __future__ import annotations

import io
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.config import Config
from forecast_cli.data import load_series
from forecast_cli.errors import DataError

GALLERY = Path(__file__).parent / "gallery"
FAST = ["--epochs", "1", "--hidden-size", "4", "--ensemble", "1", "--quiet"]

# file → what it must give: ids, the first values of the first series, its length, its first
# and last stamps, the frequency and stamp style, and a text the notes on stderr must hold
READ = {
    "air_passengers_kaggle.csv": dict(ids=["#Passengers"], first=[200, 228, 249], n=24, start="1949-01-01",
                                      end="1950-12-01", freq="MS"),
    "shampoo_sales.csv": dict(ids=["Sales"], first=[266.0, 145.9, 183.1], n=36, freq="MS", style="{y}-{m:02d}",
                              stamps=("1-01", "3-12"), note="year 1, month 1"),
    "german_excel.csv": dict(ids=["Umsatz"], first=[2000.0, 2280.0, 2493.0], n=36, start="2019-01-01",
                             end="2021-12-01", freq="MS", note="';'-separated, decimal comma, thousands separator '.'"),
    "french_spaces.csv": dict(ids=["ventes"], first=[1000.0, 1094.1, 1110.9], n=30, start="2021-03-20", freq="D",
                              note="thousands separator no-break space"),
    "uk_dayfirst_daily.csv": dict(ids=["Close"], first=[100.0, 109.41], n=30, start="2021-03-20", end="2021-04-18",
                                  freq="D", note="read day first"),
    "us_monthfirst_daily.csv": dict(ids=["Close"], first=[100.0, 109.41], n=30, start="2021-03-20", end="2021-04-18",
                                    freq="D", note="read month first"),
    "dot_dates_monthly.csv": dict(ids=["Wert"], first=[200.0, 228.0], n=12, start="2019-01-01", end="2019-12-01",
                                  freq="MS", note="read day first"),
    "excel_datetime_dayfirst.csv": dict(ids=["kWh"], first=[100.0, 109.41], n=48, start="2021-03-27",
                                        end="2021-03-28T23:00:00", freq="h", note="read day first"),
    "iso_weeks.csv": dict(ids=["orders"], first=[100.0, 109.41], n=20, freq="W-MON", style="{G}-W{V:02d}",
                          stamps=("2020-W45", "2021-W11"), note="ISO weeks"),
    "eurostat_months.csv": dict(ids=["OBS_VALUE"], first=[200.0, 228.0], n=24, freq="MS", style="{Y}M{m:02d}",
                                stamps=("2019M01", "2020M12")),
    "quarters.csv": dict(ids=["gdp"], first=[200.0, 228.0], n=20, freq="QS-OCT", style="{Y}-Q{q}",
                         stamps=("2015-Q1", "2019-Q4")),
    "month_names.csv": dict(ids=["visitors"], first=[200.0, 228.0], n=24, start="2019-01-01", end="2020-12-01", freq="MS"),
    "future_rows.csv": dict(ids=["y"], first=[200.0, 228.0], n=24, end="2020-12-01", freq="MS",
                            note="3 rows after its last value (from 2021-01-01) have no value: taken as the future"),
    "trailing_blank_rows.csv": dict(ids=["units"], first=[100.0, 109.41], n=20, end="2021-04-08", freq="D"),
    "wide_stores.csv": dict(ids=["north", "south", "east"], first=[100.0, 109.41], n=30, freq="D",
                            lengths=[30, 30, 27], note="wide file: 3 series"),
    "sheets_thousands.csv": dict(ids=["Sales"], first=[4000.0, 4376.0], n=30, freq="D", note="thousands separator ','"),
    "currency.csv": dict(ids=["Revenue"], first=[4000.0, 4376.4], n=30, freq="D", note="currency signs, % or (negatives)"),
    "percent.csv": dict(ids=["rate"], first=[5.0, 5.7], n=24, freq="MS", note="currency signs, % or (negatives)"),
    "cp1252_euro.csv": dict(ids=["Umsatz €"], first=[200.0, 228.0], n=24, freq="MS", note="cp1252 text"),
    "bom_crlf.csv": dict(ids=["y"], first=[100.0, 109.41], n=30, start="2021-03-20", freq="D"),
    "excel_unicode_text.csv": dict(ids=["Sales"], first=[100.0, 109.41], n=30, freq="D", note="tab-separated, UTF-16"),
    "tab_separated.tsv": dict(ids=["y"], first=[100.0, 109.41], n=30, freq="D", note="tab-separated"),
    "pipe_separated.csv": dict(ids=["a", "b"], first=[100.0, 109.41], n=30, freq="D", note="'|'-separated"),
    "trailing_comma.csv": dict(ids=["y"], first=[100.0, 109.41], n=30, freq="D"),
    "trailing_comma_header.csv": dict(ids=["y"], first=[100.0, 109.41], n=30, freq="D"),
    "integer_hourly_steps.csv": dict(ids=["load"], first=[50.13, 55.52], n=336, freq=None),
    "values_only.csv": dict(ids=["Sales"], first=[200.0, 228.0], n=36, freq=None),
}

# file → (what the one-line error says, the flag it names)
REFUSED = {
    "ambiguous_monthly.csv": ("'01/02/2019', data row 2", "--dayfirst"),
    "irregular_slash_dates.csv": ("unevenly spaced", "--date-format"),
    "mixed_day_month.csv": ("'13/01/2021' (data row 1: day first) and '01/15/2021' (data row 3", "--date-format"),
    "store_date_units.csv": ("duplicate timestamps", "--id-col store"),
    "store_numbered.csv": ("several numeric columns", "--id-col store --target-col units"),
    "ambiguous_thousands_tab.csv": ("'4,000' could be a thousand or a decimal", "--thousands ,"),
}


def test_the_gallery_is_complete():
    files = {p.name for p in GALLERY.iterdir() if p.suffix in (".csv", ".tsv")}
    assert files == set(READ) | set(REFUSED) and len(files) >= 25


@pytest.fixture
def notes(caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("forecast_cli"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="forecast_cli")
    return lambda: " | ".join(r.getMessage() for r in caplog.records)


def iso(t) -> str:
    text = str(np.datetime64(t, "s"))
    return text[:10] if text.endswith("T00:00:00") else text


@pytest.mark.parametrize("name", sorted(READ))
def test_read_right(name, notes):
    want = READ[name]
    s = load_series(str(GALLERY / name), Config())
    assert s.ids == want["ids"]
    np.testing.assert_allclose(s.values[0][:len(want["first"])], want["first"])
    assert [len(v) for v in s.values] == want.get("lengths", [want["n"]] * len(want["ids"]))
    assert s.freq == want["freq"] and s.style == want.get("style")
    if s.time_kind == "datetime":
        if "start" in want:
            assert iso(s.times[0][0]) == want["start"]
        if "end" in want:
            assert iso(s.times[0][-1]) == want["end"]
    if "stamps" in want:
        from forecast_cli.dates import stamp_texts
        assert tuple(stamp_texts([s.times[0][0], s.times[0][-1]], s.style)) == want["stamps"]
    assert want.get("note", "") in notes()
    assert all(np.isfinite(v).all() for v in s.values)


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_with_the_fix(name):
    says, flag = REFUSED[name]
    with pytest.raises(DataError) as exc:
        load_series(str(GALLERY / name), Config())
    message = str(exc.value)
    assert "\n" not in message and says in message and flag in message, message


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_train_refuses_in_one_line(name, tmp_path):
    result = CliRunner().invoke(app, ["train", str(GALLERY / name), *FAST, "-o", str(tmp_path / "m.npz")])
    assert result.exit_code == 1, (result.stderr, result.exception)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and REFUSED[name][1] in lines[0], result.stderr
    assert not (tmp_path / "m.npz").exists()


@pytest.mark.parametrize("name, stamps", [
    ("shampoo_sales.csv", ["4-01", "4-02", "4-03"]),
    ("iso_weeks.csv", ["2021-W12", "2021-W13", "2021-W14"]),
    ("quarters.csv", ["2020-Q1", "2020-Q2", "2020-Q3"]),
    ("eurostat_months.csv", ["2021M01", "2021M02", "2021M03"]),
    ("german_excel.csv", ["2022-01-01", "2022-02-01", "2022-03-01"]),
    ("future_rows.csv", ["2021-01-01", "2021-02-01", "2021-03-01"]),
])
def test_forecasts_carry_stamps_of_the_same_kind(name, stamps, tmp_path):
    """Trained and forecast through the CLI: the future stamps continue the file's own, from
    the model (no data) and from the file again."""
    model = str(tmp_path / "m.npz")
    trained = CliRunner().invoke(app, ["train", str(GALLERY / name), *FAST, "--horizon", "3", "-o", model])
    assert trained.exit_code == 0, (trained.stderr, trained.exception)
    for data in ([], [str(GALLERY / name)]):
        result = CliRunner().invoke(app, ["predict", "-m", model, *data, "--format", "csv"])
        assert result.exit_code == 0, (result.stderr, result.exception)
        assert pd.read_csv(io.StringIO(result.stdout), dtype=str)["ds"].tolist() == stamps


@pytest.mark.parametrize("name", sorted(READ))
def test_train_and_predict_every_file(name, tmp_path):
    """No file of the gallery ends in a traceback: each trains and forecasts, the forecasts
    finite."""
    model = str(tmp_path / "m.npz")
    trained = CliRunner().invoke(app, ["train", str(GALLERY / name), *FAST[:-1], "--horizon", "2", "-o", model])
    assert trained.exit_code == 0, (trained.stderr, trained.exception)
    assert "Traceback" not in trained.stderr and "error: " not in trained.stderr
    result = CliRunner().invoke(app, ["predict", "-m", model, str(GALLERY / name), "--format", "csv"])
    assert result.exit_code == 0, (result.stderr, result.exception)
    forecasts = pd.read_csv(io.StringIO(result.stdout))
    assert len(forecasts) == 2 * len(READ[name]["ids"]) and np.isfinite(forecasts["forecast"]).all()
