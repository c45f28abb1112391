"""Reading files as people write them (#12): the dialect (separator, decimal mark, thousands,
currency, encoding) told from the bytes and overridable; dates decided once per column; period
stamps; the future at the end of a file; wide files; hints that name the fix; the season of
integer steps told from the data.  Each file is built here, in its dialect."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.config import Config
from forecast_cli.data import load_series
from forecast_cli.dialect import SAMPLE_BYTES
from forecast_cli.errors import ConfigError, DataError
from forecast_cli.forecaster import resolve
from forecast_cli.frequency import detect_season

from conftest import M4

FAST = ["--epochs", "1", "--hidden-size", "4", "--ensemble", "1"]


def write(tmp_path, text, encoding="utf-8", name="data.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
    return str(path)


def load(path, **config):
    return load_series(path, Config(**config))


def refused(path, **config) -> str:
    with pytest.raises(DataError) as exc:
        load(path, **config)
    assert "\n" not in str(exc.value)
    return str(exc.value)


@pytest.fixture
def notes(caplog, monkeypatch):
    monkeypatch.setattr(logging.getLogger("forecast_cli"), "propagate", True)
    caplog.set_level(logging.WARNING, logger="forecast_cli")
    return lambda: " | ".join(r.getMessage() for r in caplog.records)


MONTHS = pd.date_range("2020-01-01", periods=14, freq="MS")


# --------------------------------------------------------------------------------------------
# the dialect


@pytest.mark.parametrize("sep", [";", "\t", "|"])
def test_separators(tmp_path, sep, notes):
    s = load(write(tmp_path, f"ds{sep}y\n" + "".join(f"{d.date()}{sep}{k}.5\n" for k, d in enumerate(MONTHS))))
    assert s.ids == ["y"] and s.values[0][:2].tolist() == [0.5, 1.5] and s.freq == "MS"
    assert "-separated" in notes()


def test_a_comma_in_a_semicolon_header(tmp_path):
    text = "Datum;Umsatz, EUR\n01.01.2021;592,0\n02.01.2021;601,5\n03.01.2021;7\n"
    s = load(write(tmp_path, text))
    assert s.ids == ["Umsatz, EUR"] and s.values[0].tolist() == [592.0, 601.5, 7.0]


def test_semicolons_and_decimal_commas(tmp_path, notes):
    """The issue's file: was one text column split at the comma, trained on the digits after it."""
    text = "Monat;Umsatz\n" + "".join(f"{d:%d.%m.%Y};{590 + k},{k % 10}\n" for k, d in enumerate(MONTHS))
    s = load(write(tmp_path, text))
    assert s.ids == ["Umsatz"] and s.values[0][:3].tolist() == [590.0, 591.1, 592.2] and s.freq == "MS"
    assert "';'-separated, decimal comma" in notes()


@pytest.mark.parametrize("cell, value", [('"4,144"', 4144.0), ('"$4,144.50"', 4144.5), ("12.5%", 12.5),
                                         ('"(1,200)"', -1200.0), ('"€ 1,234.5"', 1234.5)])
def test_thousands_currency_percent(tmp_path, cell, value):
    text = "date,Sales\n2021-01-01,1\n2021-01-02," + cell + "\n2021-01-03,3\n"
    assert load(write(tmp_path, text)).values[0][1] == value


def test_european_thousands_and_decimals(tmp_path):
    text = "Datum;Betrag\n01.01.2021;4.144,50\n02.01.2021;1.000.000,25\n03.01.2021;17,5\n"
    assert load(write(tmp_path, text)).values[0].tolist() == [4144.5, 1000000.25, 17.5]


@pytest.mark.parametrize("text", ["ds;y\n2021-01-01;1'234.50\n2021-01-02;3\n", "ds;y\n2021-01-01;1 234,5\n2021-01-02;3\n",
                                  "ds;y\n2021-01-01;1\u202f234,5\n2021-01-02;3\n"])
def test_thousands_in_spaces_and_apostrophes(tmp_path, text):
    assert load(write(tmp_path, text)).values[0].tolist() == [1234.5, 3]


def test_an_ambiguous_thousand_names_the_flags(tmp_path):
    path = write(tmp_path, "date\tunits\n2021-01-01\t1,234\n2021-01-02\t2,345\n")
    message = refused(path)
    assert "--thousands ," in message and "--decimal ," in message
    assert load(path, thousands=",").values[0].tolist() == [1234, 2345]
    assert load(path, decimal=",").values[0].tolist() == [1.234, 2.345]


def test_a_thousands_separator_left_as_text_says_the_flag(tmp_path):
    message = refused(write(tmp_path, 'date,Sales\n2021-01-01,"4,144"\n2021-01-02,5\n'), thousands="none")
    assert "'4,144'" in message and "--thousands ," in message


@pytest.mark.parametrize("given, expect", [(dict(sep=";"), [1.5, 2.5]), (dict(sep=";", decimal=","), [1.5, 2.5])])
def test_overrides(tmp_path, given, expect):
    assert load(write(tmp_path, "ds;y\n2021-01-01;1,5\n2021-01-02;2,5\n2021-01-03;3,5\n"), **given).values[0][:2].tolist() == expect


def test_bad_overrides_are_config_errors(tmp_path):
    path = write(tmp_path, "ds,y\n2021-01-01,1\n")
    for bad in (dict(sep=";;"), dict(decimal="x"), dict(encoding="klingon"), dict(decimal=",", thousands=",")):
        with pytest.raises((ConfigError, DataError)):
            load(path, **bad)


def test_cp1252_in_the_sample(tmp_path, notes):
    s = load(write(tmp_path, "Datum;Umsatz €\n01.01.2021;1,5\n02.01.2021;2,5\n03.01.2021;3\n", encoding="cp1252"))
    assert s.ids == ["Umsatz €"] and "cp1252" in notes()


def test_cp1252_past_the_sample(tmp_path, notes):
    """UTF-8 as far as the sample goes, then a cp1252 byte: read again as cp1252, and said."""
    rows = "".join(f"a,{d.date()},{k}\n" for k, d in enumerate(pd.date_range("2000-01-01", periods=SAMPLE_BYTES // 15)))
    path = write(tmp_path, ("unique_id,ds,y\n" + rows + "café,2000-01-01,1\ncafé,2000-01-02,2\n").encode("cp1252"))
    assert load(path).ids == ["a", "café"] and "not UTF-8 past its first lines" in notes()
    assert "--encoding" in refused(path, encoding="utf-8")


def test_utf16_with_tabs(tmp_path):
    text = "\ufeffds\ty\r\n2021-01-01\t1\r\n2021-01-02\t2\r\n2021-01-03\t3\r\n"
    assert load(write(tmp_path, text.encode("utf-16-le"))).values[0].tolist() == [1, 2, 3]


@pytest.mark.parametrize("header", ["ds,y", "ds,y,"])
def test_a_trailing_comma_on_every_row(tmp_path, header):
    """It used to shift the columns (the dates became the index) and 'y has no values'."""
    s = load(write(tmp_path, header + "\n2021-01-01,1,\n2021-01-02,2,\n2021-01-03,3,\n"))
    assert s.ids == ["y"] and s.values[0].tolist() == [1, 2, 3] and s.time_kind == "datetime"


def test_a_row_longer_than_the_header(tmp_path):
    assert "Expected 2 fields in line 3" in refused(write(tmp_path, "ds,y\n2021-01-01,1\n2021-01-02,2,7\n"))
    assert "more fields than its header" in refused(write(tmp_path, "ds,y\n2021-01-01,1,7\n2021-01-02,2,\n"))


def test_plain_files_say_nothing(tmp_path, notes):
    load(write(tmp_path, "ds,y\n2021-01-01,1.5\n2021-01-02,2\n2021-01-03,3\n"))
    assert notes() == ""


# --------------------------------------------------------------------------------------------
# dates, decided once


def test_day_first_for_the_whole_column(tmp_path, notes):
    """Was month first where possible and day first elsewhere, row by row."""
    days = pd.date_range("2021-03-01", periods=40, freq="D")
    s = load(write(tmp_path, "Date,v\n" + "".join(f"{d:%d/%m/%Y},{k}\n" for k, d in enumerate(days))))
    assert s.freq == "D" and len(s.values[0]) == 40 and s.times[0][0] == np.datetime64("2021-03-01")
    assert "read day first" in notes()


def test_month_first_for_the_whole_column(tmp_path):
    days = pd.date_range("2021-03-01", periods=40, freq="D")
    s = load(write(tmp_path, "Date,v\n" + "".join(f"{d:%m/%d/%Y},{k}\n" for k, d in enumerate(days))))
    assert s.freq == "D" and s.times[0][-1] == np.datetime64("2021-04-09")


def test_the_even_reading_wins(tmp_path):
    """Monthly, every day ≤ 12: only day first gives even spacing over more than a year."""
    s = load(write(tmp_path, "Date,v\n" + "".join(f"{d:%d/%m/%Y},{k}\n" for k, d in enumerate(MONTHS))))
    assert s.freq == "MS" and len(s.values[0]) == 14


def test_ambiguous_dates_are_refused_then_read_as_told(tmp_path):
    path = write(tmp_path, "Date,v\n" + "".join(f"{d:%d/%m/%Y},{k}\n" for k, d in enumerate(MONTHS[:12])))
    message = refused(path)
    assert "data row 2" in message and "--dayfirst" in message and "--date-format" in message
    assert load(path, dayfirst=True).freq == "MS"
    assert load(path, date_format="%m/%d/%Y").freq == "D"


def test_date_format_mismatch_names_the_row(tmp_path):
    message = refused(write(tmp_path, "ds,y\n2021-01-01,1\n01/02/2021,2\n"), date_format="%Y-%m-%d")
    assert "data row 2" in message and "--date-format" in message


@pytest.mark.parametrize("stamps, first, freq", [
    (["2021-W52", "2021-W01"], None, None),
    ([f"2021-W{k:02d}" for k in range(1, 9)], "2021-01-04", "W-MON"),
    ([f"{1 + k // 12}-{k % 12 + 1:02d}" for k in range(14)], "2001-01-01", "MS"),
    ([f"2021M{k:02d}" for k in range(1, 13)], "2021-01-01", "MS"),
    ([f"{2020 + k // 4}Q{k % 4 + 1}" for k in range(8)], "2020-01-01", "QS-OCT"),
    ([f"Q{k % 4 + 1} {2020 + k // 4}" for k in range(8)], "2020-01-01", "QS-OCT"),
])
def test_period_stamps(tmp_path, stamps, first, freq):
    path = write(tmp_path, "period,y\n" + "".join(f"{t},{k}\n" for k, t in enumerate(stamps)))
    if first is None:   # two ISO weeks out of order and a year apart: read, but no frequency to invent
        assert load(path).time_kind == "datetime"
        return
    s = load(path)
    assert s.times[0][0] == np.datetime64(first) and s.freq == freq and s.style


# --------------------------------------------------------------------------------------------
# the future, wide files, hints


def test_a_week_its_year_does_not_have(tmp_path):
    assert "'2021-W53'" in refused(write(tmp_path, "week,y\n2021-W52,1\n2021-W53,2\n2022-W01,3\n"))


def test_a_week_of_a_53_week_year(tmp_path):
    s = load(write(tmp_path, "week,y\n2020-W52,1\n2020-W53,2\n2021-W01,3\n"))
    assert list(s.times[0]) == list(np.array(["2020-12-21", "2020-12-28", "2021-01-04"], dtype="datetime64[ns]"))


@pytest.mark.parametrize("stamps", [["2262-01-01", "2263-01-01", "2264-01-01"], ["2262-Q1", "2262-Q2", "2263-Q1"],
                                    ["2262-W01", "2262-W02", "2263-W01"], ["2262M01", "2262M02", "2300M01"]])
def test_dates_beyond_2262_are_refused_with_the_text(tmp_path, stamps):
    # pandas 3 parses them (to s or us), pandas 2 does not; neither holds them in datetime64[ns]
    text = "ds,y\n" + "".join(f"{t},{k}\n" for k, t in enumerate(stamps))
    beyond = next(t for t in stamps if t.startswith(("2263", "2264", "2300")))
    assert repr(beyond) in refused(write(tmp_path, text))


def test_rows_without_values_at_the_end_are_the_future(tmp_path, notes):
    text = "ds,y\n" + "".join(f"{d.date()},{k if k < 10 else ''}\n" for k, d in enumerate(MONTHS))
    s = load(write(tmp_path, text), missing="error")
    assert s.values[0].tolist() == list(range(10)) and "taken as the future" in notes()


def test_future_rows_per_series(tmp_path):
    text = "unique_id,ds,y\n" + "".join(f"{i},{d.date()},{k if k < stop else ''}\n"
                                         for i, stop in (("a", 14), ("b", 12)) for k, d in enumerate(MONTHS))
    assert [len(v) for v in load(write(tmp_path, text)).values] == [14, 12]


def test_wide_files(tmp_path, notes):
    text = "date,a,b\n" + "".join(f"{d.date()},{k},{'' if k < 2 else 10 * k}\n" for k, d in enumerate(MONTHS))
    path = write(tmp_path, text)
    s = load(path)
    assert s.ids == ["a", "b"] and s.values[1][0] == 20 and len(s.values[1]) == 12 and "wide file" in notes()
    assert "--target-col" in refused(path, long=True)
    assert "contradict" in refused(path, long=True, wide=True)


def test_forced_wide(tmp_path):
    text = "ds,y,z\n" + "".join(f"{d.date()},{k},{k + 1}\n" for k, d in enumerate(MONTHS))
    assert load(write(tmp_path, text), wide=True).ids == ["y", "z"]


def test_duplicate_stamps_suggest_the_id_column(tmp_path):
    text = "store,date,units\n" + "".join(f"{s},{d.date()},{k}\n" for k, d in enumerate(MONTHS) for s in "AB")
    assert "--id-col store" in refused(write(tmp_path, text))
    assert load(write(tmp_path, text), id_col="store").ids == ["A", "B"]


def test_predict_names_the_flag_for_a_missing_column(trained_model, tmp_path):
    path = write(tmp_path, "date,value\n" + "".join(f"{d.date()},{k}\n" for k, d in enumerate(MONTHS)))
    result = CliRunner().invoke(app, ["predict", "-m", str(trained_model), path])
    assert result.exit_code == 1 and "--time-col" in result.stderr and "'month'" in result.stderr
    result = CliRunner().invoke(app, ["predict", "-m", str(trained_model), path, "--time-col", "date",
                                      "--target-col", "value", "--format", "csv"])
    assert result.exit_code == 1 and "needs" in result.stderr   # read, then too short for the model


def test_cli_reading_flags(tmp_path):
    path = write(tmp_path, "ds|y\n" + "".join(f"{d.date()}|{k},5\n" for k, d in enumerate(pd.date_range("2021-01-01", periods=60))))
    result = CliRunner().invoke(app, ["train", path, *FAST, "--sep", "|", "--decimal", ",", "-o", str(tmp_path / "m.npz")])
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert "'|'-separated, decimal comma" in result.stderr


@pytest.mark.parametrize("flags, says, code", [([], "--dayfirst", 1), (["--dayfirst"], "read day first", 0),
                                               (["--date-format", "%m/%d/%Y"], "", 0)])
def test_cli_date_flags(tmp_path, flags, says, code):
    path = write(tmp_path, "Date,v\n" + "".join(f"{d:%d/%m/%Y},{k}\n" for k, d in enumerate(MONTHS[:12])))
    result = CliRunner().invoke(app, ["train", path, *FAST, "--horizon", "2", *flags, "-o", str(tmp_path / "m.npz")])
    assert result.exit_code == code and says in result.stderr, (result.stderr, result.exception)


def test_the_model_reads_new_files_as_it_was_told(tmp_path):
    """The reading options given at training are the model's: predict reads the like with them."""
    path = write(tmp_path, "Date|v\n" + "".join(f"{d:%d/%m/%Y}|{k}\n" for k, d in enumerate(MONTHS[:12])))
    model = str(tmp_path / "m.npz")
    trained = CliRunner().invoke(app, ["train", path, *FAST, "--horizon", "2", "--dayfirst", "--sep", "|", "-o", model])
    assert trained.exit_code == 0, (trained.stderr, trained.exception)
    result = CliRunner().invoke(app, ["predict", "-m", model, path, "--format", "csv"])
    assert result.exit_code == 0 and "2021-01-01" in result.stdout, (result.stderr, result.exception)


@pytest.mark.parametrize("flags, code", [([], 0), (["--long"], 1), (["--wide", "--long"], 1)])
def test_cli_layout_flags(tmp_path, flags, code):
    path = write(tmp_path, "date,a,b\n" + "".join(f"{d.date()},{k},{k * 2}\n" for k, d in enumerate(MONTHS)))
    result = CliRunner().invoke(app, ["train", path, *FAST, "--horizon", "2", *flags, "-o", str(tmp_path / "m.npz")])
    assert result.exit_code == code, (result.stderr, result.exception)
    assert ("wide file" in result.stderr) == (code == 0)


# --------------------------------------------------------------------------------------------
# the season of integer steps


def test_season_detected_from_integer_steps():
    hourly = pd.read_csv(M4)
    series = [g.to_numpy(float) for _, g in hourly.groupby("unique_id")["y"]]
    assert detect_season(series)[0] == 24
    assert resolve(Config(), [len(s) for s in series], None, series).season == 24
    assert resolve(Config(season=5), [len(s) for s in series], None, series).season == 5
    noise = [np.random.default_rng(0).normal(size=400)]
    assert detect_season(noise) == (1, 0.0)


def test_train_says_the_season_it_found(tmp_path):
    result = CliRunner().invoke(app, ["train", str(M4), *FAST, "--horizon", "24", "-o", str(tmp_path / "m.npz")])
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert "season 24 found in the data" in result.stderr
