"""Reading CSV into series: layouts, encodings, order, gaps, missing values, frequencies, and
one clear DataError for everything a user can get wrong."""

from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd
import pytest

from forecast_cli.config import Config
from forecast_cli.data import load_series
from forecast_cli.errors import DataError
from forecast_cli.frequency import season_and_horizon
from forecast_cli.output import forecast_frame
from forecast_cli.timeline import future_times

from conftest import AIR, M4, MACRO


def csv(tmp_path, text, name="data.csv") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8", newline="")
    return str(path)


def daily(n, start="2021-03-01", skip=()) -> str:
    days = [d for k, d in enumerate(pd.date_range(start, periods=n, freq="D")) if k not in skip]
    return "ds,y\n" + "".join(f"{d.date()},{k}\n" for k, d in enumerate(days))


def load(source, **config):
    return load_series(str(source), Config(**config))


# --------------------------------------------------------------------------------------------
# layouts and encodings


def test_bom_and_crlf(tmp_path):
    s = load(csv(tmp_path, b"\xef\xbb\xbfds,y\r\n2020-01-01,1\r\n2020-01-02,2.5\r\n2020-01-03,3\r\n"))
    assert s.columns == {"id_col": None, "time_col": "ds", "target_col": "y"}   # not '\ufeffds'
    np.testing.assert_array_equal(s.values[0], [1, 2.5, 3])
    assert s.time_kind == "datetime" and s.freq == "D"


def test_unsorted_rows_are_sorted_by_time(tmp_path):
    s = load(csv(tmp_path, "ds,y\n2020-01-03,3\n2020-01-01,1\n2020-01-04,4\n2020-01-02,2\n"))
    np.testing.assert_array_equal(s.values[0], [1, 2, 3, 4])
    assert s.times[0][0] == np.datetime64("2020-01-01")


def test_unsorted_long_format(tmp_path):
    text = "unique_id,ds,y\nb,2,20\na,1,1\nb,0,0\na,0,0\nb,1,10\na,2,2\n"
    s = load(csv(tmp_path, text))
    assert s.ids == ["b", "a"]                                    # order of first appearance
    np.testing.assert_array_equal(s.values[0], [0, 10, 20])
    np.testing.assert_array_equal(s.values[1], [0, 1, 2])
    assert s.time_kind == "integer"


@pytest.mark.parametrize("header", ["y", "sales"])
def test_value_column_alone(tmp_path, header):
    s = load(csv(tmp_path, f"{header}\n3\n1\n4\n1\n5\n"))
    assert s.ids == [header] and s.time_kind == "integer" and s.freq is None
    np.testing.assert_array_equal(s.values[0], [3, 1, 4, 1, 5])   # file order: there is no time
    np.testing.assert_array_equal(s.times[0], [0, 1, 2, 3, 4])


def test_air_passengers_columns_are_detected():
    s = load(AIR)
    assert s.columns == {"id_col": None, "time_col": "month", "target_col": "passengers"}
    assert s.ids == ["passengers"] and len(s.values[0]) == 144
    assert s.values[0][:3].tolist() == [112, 118, 132]


def test_time_column_without_a_hinted_name_is_detected(tmp_path):
    s = load(csv(tmp_path, "amount,when\n5,2020-01-01\n6,2020-01-02\n7,2020-01-03\n"))
    assert s.columns["time_col"] == "when" and s.columns["target_col"] == "amount"


def test_configured_column_names(tmp_path):
    text = "store,day,sales,price\nx,2020-01-01,1,9\nx,2020-01-02,2,9\ny,2020-01-01,3,9\ny,2020-01-02,4,9\n"
    s = load(csv(tmp_path, text), id_col="store", time_col="day", target_col="sales")
    assert s.ids == ["x", "y"] and s.values[1].tolist() == [3, 4]


def test_long_format_sample():
    s = load(MACRO)
    assert s.ids == ["cpi", "realcons", "realgdp", "realgovt", "realinv", "unemp"]
    assert all(len(v) == 203 for v in s.values)
    assert s.values[0][0] == pytest.approx(28.98)


def test_stdin(monkeypatch):
    data = b"\xef\xbb\xbfds,y\r\n2020-01-01,1\r\n2020-01-02,2\r\n2020-01-03,3\r\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    s = load_series("-", Config())
    assert s.values[0].tolist() == [1, 2, 3] and s.columns["time_col"] == "ds"


def test_closed_stdin_is_a_data_error(monkeypatch):
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(DataError, match="standard input is closed"):
        load_series("-", Config())


def test_empty_stdin_is_a_data_error(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b""), encoding="utf-8"))
    with pytest.raises(DataError, match="standard input"):
        load_series("-", Config())


# --------------------------------------------------------------------------------------------
# missing values and gaps


MISSING = "ds,y\n2020-01-01,1\n2020-01-02,\n2020-01-03,3\n2020-01-04,4\n2020-01-05,5\n2020-01-06,\n"


def test_missing_values_interpolated(tmp_path, core_log):
    s = load(csv(tmp_path, MISSING))
    np.testing.assert_array_equal(s.values[0], [1, 2, 3, 4, 5])        # the last row is the future
    assert any("1 missing values" in r.getMessage() for r in core_log.records)


def test_missing_values_forward_filled(tmp_path):
    s = load(csv(tmp_path, MISSING), missing="ffill")
    np.testing.assert_array_equal(s.values[0], [1, 1, 3, 4, 5])


def test_leading_missing_value_is_back_filled(tmp_path):
    s = load(csv(tmp_path, "ds,y\n2020-01-01,\n2020-01-02,2\n2020-01-03,3\n"), missing="ffill")
    np.testing.assert_array_equal(s.values[0], [2, 2, 3])


def test_missing_values_error_policy(tmp_path):
    with pytest.raises(DataError, match="missing") as exc:
        load(csv(tmp_path, MISSING), missing="error")
    assert "\n" not in str(exc.value)


def test_gaps_in_timestamps_are_reinserted_with_a_warning(tmp_path, core_log):
    s = load(csv(tmp_path, daily(30, skip=(10, 11, 20))))
    assert len(s.values[0]) == 30 and s.freq == "D"
    np.testing.assert_array_equal(s.times[0], pd.date_range("2021-03-01", periods=30, freq="D").to_numpy())
    # values 0..26 were written for the 27 present days; the gap is filled linearly between them
    np.testing.assert_allclose(s.values[0][9:13], [9, 9 + 1 / 3, 9 + 2 / 3, 10])
    assert np.all(np.isfinite(s.values[0]))
    messages = [r.getMessage() for r in core_log.records]
    assert any("3 missing timestamps" in m for m in messages), messages


def test_gap_with_error_policy_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="missing"):
        load(csv(tmp_path, daily(30, skip=(10,))), missing="error")


def test_gaps_in_integer_steps(tmp_path, core_log):
    s = load(csv(tmp_path, "t,v\n0,0\n5,1\n10,2\n20,4\n25,5\n"), time_col="t")
    assert s.step == 5
    np.testing.assert_array_equal(s.times[0], [0, 5, 10, 15, 20, 25])
    np.testing.assert_array_equal(s.values[0], [0, 1, 2, 3, 4, 5])
    assert any("missing timestamps" in r.getMessage() for r in core_log.records)


def test_off_grid_timestamp_is_a_data_error(tmp_path):
    text = daily(20).replace("2021-03-10,9", "2021-03-10 12:00:00,9")
    with pytest.raises(DataError, match="grid"):
        load(csv(tmp_path, text))


# --------------------------------------------------------------------------------------------
# frequencies


def test_monthly_frequency():
    s = load(AIR)
    assert s.freq == "MS"
    assert season_and_horizon(s.freq) == (12, 18)
    assert future_times("1960-12-01", "datetime", "MS", 1, 3) == ["1961-01-01", "1961-02-01", "1961-03-01"]


def test_quarterly_frequency():
    s = load(MACRO)
    assert s.freq.startswith("QS")
    assert season_and_horizon(s.freq) == (4, 8)
    assert future_times("2009-07-01", "datetime", s.freq, 1, 2) == ["2009-10-01", "2010-01-01"]


def test_weekly_series_with_two_anchors_in_one_file(tmp_path):
    saturdays = pd.date_range("2020-01-04", periods=20, freq="W-SAT")
    mondays = pd.date_range("2020-01-06", periods=20, freq="W-MON")
    rows = [f"sat,{d.date()},{k}" for k, d in enumerate(saturdays)] + [f"mon,{d.date()},{k}" for k, d in enumerate(mondays)]
    s = load(csv(tmp_path, "unique_id,ds,y\n" + "\n".join(rows) + "\n"))
    assert s.freqs == ["W-SAT", "W-MON"]
    assert all(len(v) == 20 for v in s.values)                     # nothing re-inserted
    assert season_and_horizon("W-MON") == (52, 13)
    info = s.info()
    frame = forecast_frame(s.ids, info["last_times"], s.freqs, s.time_kind, s.step, np.zeros((2, 2)))
    assert frame["ds"].tolist() == [str((saturdays[-1] + pd.Timedelta(weeks=k)).date()) for k in (1, 2)] + \
                                   [str((mondays[-1] + pd.Timedelta(weeks=k)).date()) for k in (1, 2)]


def test_series_too_short_to_infer_keeps_its_own_weekday(tmp_path):
    """A 2-point Monday series beside a long Saturday one borrows 'weekly', not 'Saturdays'."""
    saturdays = pd.date_range("2020-01-04", periods=30, freq="W-SAT")
    rows = [f"sat,{d.date()},{k}" for k, d in enumerate(saturdays)] + ["mon,2020-01-06,1", "mon,2020-01-13,2"]
    s = load(csv(tmp_path, "unique_id,ds,y\n" + "\n".join(rows) + "\n"))
    assert s.freqs == ["W-SAT", "W-MON"]
    assert s.values[1].tolist() == [1, 2]
    assert future_times(s.info()["last_times"][1], "datetime", s.freqs[1], 1, 1) == ["2020-01-20"]


def test_series_too_short_to_infer_borrows_the_common_frequency(tmp_path):
    months = pd.date_range("2019-01-01", periods=24, freq="MS")
    rows = [f"a,{d.date()},{k}" for k, d in enumerate(months)] + ["b,2020-05-01,1", "b,2020-06-01,2"]
    s = load(csv(tmp_path, "unique_id,ds,y\n" + "\n".join(rows) + "\n"))
    assert s.freqs == ["MS", "MS"]


def test_hourly_frequency(tmp_path):
    hours = pd.date_range("2021-05-01 00:00", periods=50, freq="h")
    s = load(csv(tmp_path, "ds,y\n" + "".join(f"{h},{k}\n" for k, h in enumerate(hours))))
    assert s.freq.lower() == "h"
    assert season_and_horizon(s.freq) == (24, 48)
    assert future_times(s.info()["last_times"][0], "datetime", s.freq, 1, 2) == \
        ["2021-05-03T02:00:00", "2021-05-03T03:00:00"]


def test_integer_steps():
    s = load(M4)
    assert s.time_kind == "integer" and s.freq is None and s.step == 1
    assert s.ids[:3] == ["H1", "H10", "H100"]
    assert s.times[0][0] == 300 and s.times[0][-1] == 699
    assert future_times(699, "integer", None, 1, 3) == [700, 701, 702]


# --------------------------------------------------------------------------------------------
# errors: a DataError with one line that names the problem


def data_error(source, **config) -> str:
    with pytest.raises(DataError) as exc:
        load(source, **config)
    message = str(exc.value)
    assert message and "\n" not in message
    return message


def test_missing_file(tmp_path):
    message = data_error(tmp_path / "nope.csv")
    assert "not found" in message and "nope.csv" in message


def test_directory(tmp_path):
    assert "directory" in data_error(tmp_path)


def test_empty_file(tmp_path):
    assert "empty" in data_error(csv(tmp_path, ""))


def test_header_only(tmp_path):
    assert "no rows" in data_error(csv(tmp_path, "ds,y\n"))


def test_not_utf8_is_read_as_cp1252(tmp_path):
    assert "'café'" in data_error(csv(tmp_path, "ds,y\n2020-01-01,caf\xe9\n".encode("latin-1")))


def test_wrong_encoding_given(tmp_path):
    assert "--encoding" in data_error(csv(tmp_path, "ds,y\n2020-01-01,caf\xe9\n".encode("latin-1")), encoding="utf-8")


def test_no_numeric_column(tmp_path):
    message = data_error(csv(tmp_path, "ds,name\n2020-01-01,a\n2020-01-02,b\n"))
    assert "numeric" in message and "--target-col" in message


def test_several_numeric_columns(tmp_path):
    message = data_error(csv(tmp_path, "ds,a,b\n2020-01-01,1,2\n2020-01-02,3,4\n"), long=True)
    assert "a, b" in message and "--target-col" in message


def test_text_in_target(tmp_path):
    message = data_error(csv(tmp_path, "ds,y\n2020-01-01,1\n2020-01-02,abc\n2020-01-03,3\n"))
    assert "'abc'" in message and "'y'" in message and "row 2" in message


def test_all_missing(tmp_path):
    assert "missing" in data_error(csv(tmp_path, "ds,y\n2020-01-01,\n2020-01-02,\n"))


def test_one_series_all_missing(tmp_path):
    text = "unique_id,ds,y\na,1,1\na,2,2\nb,1,\nb,2,\n"
    message = data_error(csv(tmp_path, text))
    assert "'b'" in message and "missing" in message


@pytest.mark.parametrize("bad", ["inf", "-inf", "Infinity"])
def test_infinite_value(tmp_path, bad):
    message = data_error(csv(tmp_path, f"ds,y\n2020-01-01,1\n2020-01-02,{bad}\n"))
    assert "infinite" in message and "row 2" in message


def test_duplicate_timestamps(tmp_path):
    message = data_error(csv(tmp_path, "ds,y\n2020-01-01,1\n2020-01-02,2\n2020-01-01,3\n"))
    assert "duplicate" in message and "2020-01-01" in message


def test_duplicate_steps_within_one_series_only(tmp_path):
    ok = load(csv(tmp_path, "unique_id,ds,y\na,1,1\nb,1,2\na,2,3\nb,2,4\n"))
    assert ok.ids == ["a", "b"]
    assert "'a'" in data_error(csv(tmp_path, "unique_id,ds,y\na,1,1\na,1,2\n", name="dup.csv"))


@pytest.mark.parametrize("bad", ["2020-13-45", "hello"])
def test_unparseable_dates(tmp_path, bad):
    message = data_error(csv(tmp_path, f"ds,y\n2020-01-01,1\n{bad},2\n2020-01-03,3\n"))
    assert repr(bad) in message and "'ds'" in message and "row 2" in message


def test_empty_time_cell(tmp_path):
    assert "row 2" in data_error(csv(tmp_path, "ds,y\n2020-01-01,1\n,2\n"))


@pytest.mark.parametrize("key,name", [("target_col", "sales"), ("time_col", "when"), ("id_col", "store")])
def test_unknown_column_names(key, name):
    message = data_error(AIR, **{key: name})
    assert repr(name) in message and "month, passengers" in message


@pytest.mark.parametrize("fast", [True, False])
def test_future_timestamps_have_one_format_per_column(fast, monkeypatch):
    """Sub-daily forecasts all carry their time of day (midnight too); daily ones are dates."""
    from forecast_cli import output
    if not fast:
        monkeypatch.setattr(output, "_fixed_futures", lambda pairs, horizon: {})
    f = np.zeros((1, 3))
    half_hourly = output.forecast_frame(["a"], ["2000-08-27T23:00:00"], ["30min"], "datetime", 1, f)
    assert half_hourly["ds"].tolist() == ["2000-08-27T23:30:00", "2000-08-28T00:00:00", "2000-08-28T00:30:00"]
    daily = output.forecast_frame(["a"], ["2000-08-27"], ["D"], "datetime", 1, f)
    assert daily["ds"].tolist() == ["2000-08-28", "2000-08-29", "2000-08-30"]
