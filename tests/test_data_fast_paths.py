"""The fast paths (data.py, timeline.py, output.py) give exactly what the general code gives.

load_series tries _load_fast (id and time read as categories, the target as float64, rows
grouped and sorted with whole-array steps) and leaves everything else to _load_general;
output's forecast_frame computes the future timestamps of many series at once; write_frame
joins the CSV text itself.  Each is checked here against the general code — same series, same
warnings, same one-line errors, same bytes — on awkward inputs: ids that look numeric, mixed
date formats, missing values, gaps, unsorted rows, whitespace, integer steps, one-series files,
UTC offsets, and (hypothesis) hostile files.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import threading
from collections import Counter, defaultdict

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from forecast_cli import csvfile, data, fastpath, output, timeline
from forecast_cli.cli import app
from forecast_cli.config import Config
from forecast_cli.data import DataError, load_series
from forecast_cli.dialect import PLAIN, detect
from forecast_cli.timeline import future_times

SETTINGS = settings(deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fast_paths")


def write(path, text) -> str:
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


def outcome(load, path: str, config: Config):
    """(the series as comparable plain data, or the DataError's message; warnings logged)."""
    logger, messages = logging.getLogger("forecast_cli"), []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        s = load(path, config)
    except DataError as exc:
        return str(exc), messages
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    if s is None:
        return None, messages
    arrays = [(a.dtype.str, a.tobytes()) for a in s.values + s.times]
    assert all(type(i) is str for i in s.ids)
    return (s.ids, arrays, s.time_kind, s.freq, s.step, s.columns, s.freqs), messages


def fast(path, config):
    return fastpath.load_fast(path, None, config, dialect(path, config))


def general(path, config):
    return data.load_general(path, None, config, dialect(path, config))


def dialect(path, config):
    return detect(csvfile.sample(path, None), config)


# ------------------------------------------------------------------------------------------
# reading: inputs the fast path takes


def daily_rows(sid, n, start="2021-03-01", skip=(), fmt="%Y-%m-%d"):
    days = pd.date_range(start, periods=n, freq="D")
    return [f"{sid},{d.strftime(fmt)},{k}" for k, d in enumerate(days) if k not in skip]


def long(rows, header="unique_id,ds,y") -> str:
    return header + "\n" + "\n".join(rows) + "\n"


HOURS = pd.date_range("2022-05-01", periods=60, freq="h")
TAKEN = {
    "ids that look numeric": long(r for sid in ("001", "1", "1.0", "1e0") for r in daily_rows(sid, 9)),
    "mixed date formats": long(["a,2020-01-01,1", "a,2020-01-02 00:00:00,2", "a,2020/01/03,3", "a,2020-01-04T00:00,4",
                                "a,20200105,5", "b,2020-01-01,1", "b,2020-01-02,2", "b,2020-01-03,3"]),
    "missing values": long(["a,2020-01-01,1", "a,2020-01-02,", "a,2020-01-03,NA", "a,2020-01-04,4",
                            "b,2020-01-01,", "b,2020-01-02,2", "b,2020-01-03,3", "b,2020-01-04,nan"]),
    "gaps": long(daily_rows("a", 30, skip=(3, 4, 17)) + daily_rows("b", 30) + daily_rows("c", 20, skip=(10,))),
    "unsorted, interleaved": long([daily_rows(s, 12)[k] for k in (5, 0, 11, 3, 1, 2, 10, 4, 9, 6, 8, 7) for s in "ba"]),
    "whitespace": long([" a ,2020-01-01, 1", "a, 2020-01-02,2 ", "a ,2020-01-03 ,3", "  b,2020-01-01,4",
                        "b,2020-01-02,5", "b,2020-01-03,6"], header="unique_id , ds,y "),
    "integer steps": long(["x,3,1", "x,1,2", "x,2,3", "x,4,4", "y,10,1", "y,14,2", "y,12,3", "y,20,4"]),
    "integer steps, ties for the common step": long(["x,0,1", "x,2,2", "x,4,3", "y,0,1", "y,3,2", "y,6,3"]),
    "one series": long(["2020-01-03,3", "2020-01-01,1", "2020-01-02,2", "2020-01-05,5"], header="ds,y"),
    "one series, integer steps, extra column": long(["0,5,x", "1,6,y", "2,7,z"], header="ds,y,note"),
    "UTC offsets": long([f"2020-01-01 0{h}:00:00+01:00,{h}" for h in range(6)], header="ds,y"),
    "mixed UTC offsets": long(["2020-01-01 00:00:00+01:00,1", "2020-01-01 05:00:00+05:00,2", "2020-01-01 02:00:00,3"],
                              header="ds,y"),
    "empty ids": long([",2020-01-01,1", ",2020-01-02,2", ",2020-01-03,3", "b,2020-01-01,3", "b,2020-01-02,3",
                       "b,2020-01-03,3", "  ,2020-01-04,4"]),
    "BOM, CRLF": "\ufeff" + long(daily_rows("a", 5)).replace("\n", "\r\n"),
    "CR line ends": long(daily_rows("a", 5)).replace("\n", "\r"),
    "quoted fields": long(['"a,1",2020-01-01,"1.5"', '"a,1",2020-01-02," 2"', '"a,1","2020-01-03",3']),
    "weekly, two anchors": long([f"{sid},{d.date()},{k}" for sid, start, freq in
                                 (("sat", "2020-01-04", "W-SAT"), ("mon", "2020-01-06", "W-MON"))
                                 for k, d in enumerate(pd.date_range(start, periods=20, freq=freq))]),
    "monthly, a short series borrows": long([f"a,{d.date()},{k}" for k, d in
                                             enumerate(pd.date_range("2019-01-01", periods=24, freq="MS"))]
                                            + ["b,2020-05-01,1", "b,2020-06-01,2"]),
    "hourly, starts differ, a gap": long([f"{s},{h},{k}" for s, off in (("a", 0), ("b", 7), ("c", 30))
                                          for k, h in enumerate(HOURS[off:off + 30]) if (s, k) != ("c", 12)]),
    "15 minutes and seconds": long([f"{s},{t},{k}" for s, f in (("q", "15min"), ("s", "90s"))
                                    for k, t in enumerate(pd.date_range("2020-01-01", periods=12, freq=f))]),
    "fractions of a second": long([f"a,{t},{k}" for k, t in
                                   enumerate(pd.date_range("2020-01-01", periods=8, freq="250ms"))]),
    "gaps everywhere": long([f"a,{d.date()},{k}" for k, d in
                             enumerate(pd.date_range("2020-01-01", periods=40, freq="2D")) if k % 3 != 1]),
    "no frequency": long(["a,2020-01-01,1", "a,2020-01-03,2", "a,2020-01-04,3", "a,2020-02-01,4"]),
}


@pytest.mark.parametrize("name", sorted(TAKEN))
@pytest.mark.parametrize("missing", ["interpolate", "ffill"])
def test_fast_path_takes_these_and_agrees(folder, name, missing):
    path = write(folder / "taken.csv", TAKEN[name])
    config = Config(missing=missing)
    got = outcome(fast, path, config)
    assert got[0] is not None, name
    assert got == outcome(general, path, config)
    assert got == outcome(load_series, path, config)


@pytest.mark.parametrize("load", [fast, general, load_series])
def test_ids_that_read_as_missing_values_keep_their_names(folder, load):
    """NA (Namibia), None, null: read_csv takes them for missing values, but as ids they name
    series — they were all silently merged into the series ''."""
    rows = [r for sid in ("NA", "None", "null", "n/a") for r in daily_rows(sid, 6)] + daily_rows("", 6)
    path = write(folder / "na_ids.csv", long(rows))
    s = load(path, Config())
    assert sorted(s.ids) == ["", "NA", "None", "n/a", "null"]
    assert all(len(v) == 6 for v in s.values)


def test_configured_names_with_extra_columns(folder):
    path = write(folder / "named.csv", "store,day,sales,price\nx,2020-01-01,1,9\nx,2020-01-02,2,9\n"
                                       "y,2020-01-01,3,9\ny,2020-01-02,4,9\nx,2020-01-03,5,9\ny,2020-01-03,6,9\n")
    config = Config(id_col="store", time_col="day", target_col="sales")
    got = outcome(fast, path, config)
    assert got[0] is not None and got == outcome(general, path, config)


# ------------------------------------------------------------------------------------------
# reading: inputs left to the general path, with its messages


LEFT = {
    "duplicate timestamps": long(["a,2020-01-01,1", "a,2020-01-02,2", "a,2020-01-01,3"]),
    "text in the target": long(["a,2020-01-01,1", "a,2020-01-02,abc", "a,2020-01-03,3"]),
    "infinite value": long(["a,2020-01-01,1", "a,2020-01-02,-inf", "a,2020-01-03,3"]),
    "huge value": long(["a,2020-01-01,1", "a,2020-01-02,1e101", "a,2020-01-03,3"]),
    "all missing": long(["a,2020-01-01,", "a,2020-01-02,"]),
    "empty time cell": long(["a,2020-01-01,1", "a,,2"]),
    "unparseable date": long(["a,2020-01-01,1", "a,2020-13-45,2", "a,2020-01-03,3"]),
    "off the grid": long(daily_rows("a", 20) + ["a,2021-03-25 12:00:00,9"]),
    "header only": "unique_id,ds,y\n",
    "empty": "",
    "ragged row": long(["a,2020-01-01,1", "a,2020-01-02,2,7"]),
    "two columns named y once stripped": "ds, y ,y\n2020-01-01,1,2\n",
    "columns to detect": "month,passengers\n1949-01-01,112\n1949-02-01,118\n1949-03-01,132\n",
    "value column alone": "y\n3\n1\n4\n",
    "time and target the same column": long(["2020-01-01"], header="ds"),
}


@pytest.mark.parametrize("name", sorted(LEFT))
def test_other_inputs_are_left_to_the_general_path(folder, name):
    """The fast path gives up on these (or, for errors found once the series are split, such
    as timestamps off the grid, raises the very same one: that code is shared)."""
    path = write(folder / "left.csv", LEFT[name])
    expected = outcome(general, path, Config())
    assert outcome(fast, path, Config())[0] in (None, expected[0])
    assert outcome(load_series, path, Config()) == expected


@pytest.mark.parametrize("config", [Config(id_col="store"), Config(time_col="when"), Config(target_col="sales")])
def test_unknown_configured_columns(folder, config):
    path = write(folder / "unknown.csv", long(daily_rows("a", 5)))
    message = outcome(load_series, path, config)[0]
    assert "unknown column" in message and message == outcome(general, path, config)[0]


def test_missing_values_with_the_error_policy_fail_alike(folder):
    path = write(folder / "policy.csv", TAKEN["missing values"])
    message = outcome(load_series, path, Config(missing="error"))[0]
    assert "missing values" in message and message == outcome(general, path, Config(missing="error"))[0]


def test_a_pipe_is_read_once(folder):
    """A source that cannot be read twice (a pipe: stdin, <(…)) is read into memory first."""
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    text = TAKEN["gaps"]
    pipe = folder / "pipe.csv"
    os.mkfifo(pipe)
    writer = threading.Thread(target=lambda: pipe.write_text(text))
    writer.start()
    got = outcome(load_series, str(pipe), Config())
    writer.join()
    assert got == outcome(general, write(folder / "file.csv", text), Config())


# ------------------------------------------------------------------------------------------
# reading a big file in pieces, side by side


@pytest.fixture
def in_pieces(monkeypatch):
    """Every file cut into as many as four pieces, however small."""
    monkeypatch.setattr(csvfile, "PIECE_BYTES", 1)
    monkeypatch.setattr(csvfile, "PIECES", 4)


@pytest.mark.parametrize("name", sorted(TAKEN) + sorted(LEFT))
def test_pieces_read_what_one_piece_reads(folder, in_pieces, name):
    text = {**TAKEN, **LEFT}[name]
    path = write(folder / "pieces.csv", text)
    assert outcome(load_series, path, Config()) == outcome(general, path, Config())


def test_pieces_are_cut_after_line_breaks_outside_quotes(folder):
    text = b'unique_id,ds,y\n"a\nb",1,1\n"a\nb",2,2\nc,1,3\nc,2,4\n'
    path = write(folder / "quoted.csv", text)
    for pieces in range(1, 8):
        cuts = csvfile._cuts(path, None, len(text), pieces)
        assert cuts == csvfile._cuts("-", text, len(text), pieces)      # a file and stdin's bytes alike
        assert cuts[0] == 0 and cuts[-1] == len(text) and cuts == sorted(set(cuts))
        assert all(text[c - 1:c] == b"\n" and text[:c].count(b'"') % 2 == 0 for c in cuts[1:-1])
    assert len(csvfile._cuts(path, None, len(text), 4)) > 2              # it does cut


def stray_quote_then_a_quoted_line_break() -> tuple[bytes, int]:
    """A file whose middle falls in a quoted field with a line break, after a stray quote (an
    inch mark, literal to pandas) that makes the quote count before that line break even;
    and the position just after that line break."""
    before = long(['12" pipe,2020-01-01,1'] + daily_rows("a", 20)).encode()
    field = b'"b\nc",2020-01-01,1\n"b\nc",2020-01-02,2\n'
    size = 2 * (len(before) + 1)                          # the middle: just after `before`
    rows = [row.encode() + b"\n" for row in daily_rows("d", 40)]
    after = b"".join(rows[:len(rows) * (size - len(before) - len(field)) // len(b"".join(rows))])
    after += b"\n" * (size - len(before) - len(field) - len(after))   # blank lines, skipped by both
    return before + field + after, len(before) + 3


def test_a_cut_inside_quotes_is_read_in_one_piece(folder, in_pieces, monkeypatch):
    monkeypatch.setattr(csvfile, "PIECES", 2)
    text, inside = stray_quote_then_a_quoted_line_break()
    path = write(folder / "stray.csv", text)
    assert csvfile._cuts(path, None, len(text), 2)[1] == inside          # the count is fooled
    dtype = defaultdict(lambda: "category", y="float64")
    pieces = csvfile.in_pieces(path, None, PLAIN, ["unique_id", "ds", "y"], "y", dtype)
    if pieces is not None:   # pandas 2 makes every category text: the pieces merge as one parse reads them
        pd.testing.assert_frame_equal(pieces, csvfile.parse(path, None, PLAIN, typed=True, dtype=dtype))
    got = outcome(fast, path, Config())                               # still the fast path
    assert got[0] is not None and got == outcome(general, path, Config())


def test_ids_of_two_kinds_in_two_pieces_are_read_in_one_piece(folder, in_pieces):
    """Numbers in one piece, text in another: pandas makes int and str categories, which do not
    merge; the file is read as one parse reads it — still the fast path, not the general one."""
    path = write(folder / "kinds.csv", long(daily_rows("1", 40) + daily_rows("2", 40) + daily_rows("x", 40)))
    dtype = defaultdict(lambda: "category", y="float64")
    pieces = csvfile.in_pieces(path, None, PLAIN, ["unique_id", "ds", "y"], "y", dtype)
    if pieces is not None:   # pandas 2 makes every category text: the pieces merge as one parse reads them
        pd.testing.assert_frame_equal(pieces, csvfile.parse(path, None, PLAIN, typed=True, dtype=dtype))
    got = outcome(fast, path, Config())
    assert got[0] is not None and got == outcome(general, path, Config())


def test_stdin_in_pieces(folder, in_pieces, monkeypatch):
    text = TAKEN["hourly, starts differ, a gap"]
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode()), encoding="utf-8"))
    assert outcome(load_series, "-", Config()) == outcome(general, write(folder / "stdin.csv", text), Config())


# ------------------------------------------------------------------------------------------
# reading: hostile files


IDS = st.sampled_from(["a", "b", " a", "a ", "1", "01", "1.0", "", "NA", '"x,y"'])
TIMES = st.one_of(
    st.integers(0, 40).map(str),
    st.dates(min_value=pd.Timestamp("2019-12-01").date(), max_value=pd.Timestamp("2020-03-01").date()).map(str),
    st.integers(0, 60).map(lambda h: str(pd.Timestamp("2020-01-01") + pd.Timedelta(hours=h))),
    st.integers(0, 60).map(lambda h: (pd.Timestamp("2020-01-01") + pd.Timedelta(hours=h)).strftime("%Y/%m/%d %H:%M")),
    st.sampled_from(["", "hello", "2020-01-01 00:00:00+01:00", "2020-01-01T05:00:00+05:00", "2020-02-30", "1.5",
                     "NaT", "2262-04-12", "1677-09-21", " 2020-01-02", "2020-01-03 "]),
)
VALUES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.integers(-10**20, 10**20).map(str),
    st.sampled_from(["", "NA", "nan", "inf", "-inf", "1e101", "1e309", "-0.0", " 3 ", '"7"', "abc", "1_000", "0x1F",
                     "1e-320", "TRUE", "None"]),
)


@st.composite
def long_csv(draw) -> bytes:
    """unique_id, ds, y in some order (maybe with an extra column), rows of hostile fields,
    LF, CRLF or CR line ends, maybe a BOM."""
    header = draw(st.permutations(["unique_id", "ds", "y"] + draw(st.sampled_from([[], ["note"]]))))
    ids = draw(st.lists(IDS, min_size=1, max_size=3))
    regular = draw(st.booleans())  # mostly well-formed series, to reach the end of the fast path
    rows = []
    for k in range(draw(st.integers(1, 30))):
        cells = {"unique_id": draw(st.sampled_from(ids)), "note": draw(st.sampled_from(["x", '"a,b"', ""])),
                 "ds": str(k // len(ids)) if regular and draw(st.booleans()) else draw(TIMES),
                 "y": str(k) if regular and draw(st.booleans()) else draw(VALUES)}
        rows.append(",".join(cells[c] for c in header))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = newline.join([",".join(header), *rows]) + newline
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + text.encode("utf-8")


@settings(SETTINGS, max_examples=400)
@given(text=long_csv(), missing=st.sampled_from(["interpolate", "ffill", "error"]))
# found in a fresh clone's CI: the general path warned about the frequency before refusing an empty series
@example(text=b"unique_id,ds,y\na,2020-01-01 00:00:00,0.0\nb,2020-01-01 00:00:00,\n", missing="interpolate")
@example(text=b"unique_id,ds,y\na,2019-12-01,\na,2020-01-01 00:00:00,0.0\n", missing="error")
def test_hostile_long_files_agree(folder, text, missing):
    path = write(folder / "hostile.csv", text)
    config = Config(missing=missing)
    expected = outcome(general, path, config)
    got = outcome(fast, path, config)
    assert got[0] is None or got == expected
    assert outcome(load_series, path, config) == expected
    with pytest.MonkeyPatch.context() as patch:                       # cut in pieces
        patch.setattr(csvfile, "PIECE_BYTES", 1)
        patch.setattr(csvfile, "PIECES", 3)
        assert outcome(load_series, path, config) == expected


# ------------------------------------------------------------------------------------------
# frequencies


@settings(SETTINGS, max_examples=60)
@given(spacing_s=st.integers(1, 4 * 86_400).filter(lambda s: s % 86_400),
       starts=st.lists(st.integers(0, 10**6), min_size=1, max_size=3), n=st.integers(3, 40))
def test_an_even_subdaily_spacing_alone_names_the_frequency(spacing_s, starts, n):
    """What _series_freqs relies on to infer once per spacing."""
    index = [pd.DatetimeIndex(np.datetime64("2020-01-01") + np.arange(n) * np.timedelta64(spacing_s, "s")
                              + np.timedelta64(start, "s")).as_unit("ns") for start in starts]
    assert len({timeline._series_freq(i) for i in index}) == 1


@settings(SETTINGS, max_examples=100)
@given(freq=st.sampled_from(["h", "3h", "15min", "90s", "s", "D", "2D", "7D"]),
       start=st.integers(-2 * 10**9, 2 * 10**9), n=st.integers(1, 60))
def test_a_fixed_duration_frequency_is_an_even_grid(freq, start, n):
    """What _regularise and _fixed_futures rely on: on naive timestamps these frequencies
    step by a fixed number of ns (days too: 24 h without a time zone)."""
    step = timeline._fixed_nanos(freq)
    first = pd.Timestamp(start, unit="s")
    even = (first.value + step * np.arange(n + 3)).astype("datetime64[ns]")
    grid = pd.date_range(first, pd.Timestamp(even[n - 1]), freq=freq).to_numpy().astype("datetime64[ns]")
    after = pd.date_range(first, periods=n + 3, freq=freq).to_numpy().astype("datetime64[ns]")
    assert step and np.array_equal(grid, even[:n]) and np.array_equal(after, even)


@settings(SETTINGS, max_examples=100)
@given(st.lists(st.lists(st.integers(-5, 30), max_size=12).map(sorted), min_size=1, max_size=5))
def test_common_step_is_the_first_most_common(series):
    times = [np.array(t, dtype=np.int64) for t in series]
    steps = Counter(int(d) for t in times for d in np.diff(t[:1000]) if d > 0)
    assert timeline._common_step(times) == (steps.most_common(1)[0][0] if steps else 1)


# ------------------------------------------------------------------------------------------
# forecasts out


def futures_one_by_one(last_times, freqs, kind, step, horizon):
    return [t for last, f in zip(last_times, freqs) for t in future_times(last, kind, f, step, horizon)]


def result(fn, *args):
    try:
        return fn(*args)
    except Exception as exc:  # noqa: BLE001 - the same exception either way is the contract
        return type(exc), str(exc)


FUTURES = [
    (["2020-01-01", "2020-01-01T23:00:00", "2020-03-05T07:30:00"], ["h", "h", "30min"], "datetime"),
    (["2020-01-01T00:00:00", "1999-12-31T23:59:59"], ["s", "90s"], "datetime"),
    (["2020-01-01T00:00:00", "2020-01-01T00:00:00.500000"], ["250ms", "h"], "datetime"),
    (["2020-01-01T00:00:00+01:00", "2020-01-01"], ["h", "h"], "datetime"),
    (["2020-01-31", "2020-01-04", "2020-01-01", "2020-01-31"], ["D", "W-SAT", "MS", "D"], "datetime"),
    (["2020-01-01", "2020-01-02"], [None, "h"], "datetime"),
    (["2262-04-11T20:00:00", "2020-01-01"], ["h", "h"], "datetime"),
    (["1677-09-21T01:00:00"], ["h"], "datetime"),
    ([699, None, 5], [None, None, None], "integer"),
    ([5, 5.0, np.int64(5), True], [None, None, None, None], "integer"),
    ([np.str_("2020-01-01"), "2020-01-01"], ["h", "h"], "datetime"),
]


@pytest.mark.parametrize("last_times,freqs,kind", FUTURES)
@pytest.mark.parametrize("horizon", [1, 4])
def test_future_column_equals_future_times_per_series(last_times, freqs, kind, horizon):
    assert result(output._future_column, last_times, freqs, kind, 3, horizon) == \
        result(futures_one_by_one, last_times, freqs, kind, 3, horizon)


def to_csv(frame) -> str:
    out = io.StringIO()
    frame.to_csv(out, index=False, lineterminator="\n")
    return out.getvalue()


def written(frame) -> str:
    out = io.StringIO()
    output.write_frame(frame, "csv", out)
    return out.getvalue()


FRAMES = {
    "forecasts": pd.DataFrame({"unique_id": ["a", "a", "b"], "ds": ["2020-01-01", "2020-01-02", "2020-01-01"],
                               "forecast": [1.5, np.nan, -0.0], "forecast-lo-95": [1e16, 5e-324, np.inf]}),
    "integer steps": pd.DataFrame({"unique_id": ["H1", "H1"], "ds": [700, 701], "forecast": [1 / 3, 2.0]}),
    "ids to quote": pd.DataFrame({"unique_id": ['a,b', 'say "hi"', "two\nlines", "cr\rhere", " pad "],
                                  "forecast": [1.0, 2.0, 3.0, 4.0, 5.0]}),
    "mixed ds": pd.DataFrame({"unique_id": ["a", "b"], "ds": pd.Series([1, "2020-01-01"], dtype=object),
                              "forecast": [1.0, 2.0]}),
    "missing text": pd.DataFrame({"unique_id": ["a", None], "forecast": [1.0, 2.0]}),
    "one column": pd.DataFrame({"unique_id": ["", "a"]}),
    "no rows": pd.DataFrame({"unique_id": pd.Series([], dtype=str), "forecast": pd.Series([], dtype=float)}),
    "odd header": pd.DataFrame({"a,b": [1.0], "c": [2.0]}),
    "float32": pd.DataFrame({"unique_id": ["a"], "forecast": np.array([0.1], dtype=np.float32)}),
}


@pytest.mark.parametrize("name", sorted(FRAMES))
def test_csv_text_equals_pandas_to_csv(name):
    assert written(FRAMES[name]) == to_csv(FRAMES[name])


@settings(SETTINGS, max_examples=200)
@given(st.lists(st.floats(width=64), min_size=1, max_size=50), st.lists(IDS, min_size=1, max_size=50))
def test_csv_text_of_any_floats_equals_pandas(values, ids):
    n = min(len(values), len(ids))
    frame = pd.DataFrame({"unique_id": np.asarray(ids[:n], dtype=object), "forecast": np.array(values[:n])})
    assert written(frame) == to_csv(frame)


# ------------------------------------------------------------------------------------------
# the command, end to end


def general_only(monkeypatch):
    """Every fast path off: reading, future timestamps and CSV writing as before them."""
    monkeypatch.setattr(fastpath, "load_fast", lambda *args: None)
    monkeypatch.setattr(output, "_fixed_futures", lambda *args: {})
    monkeypatch.setattr(output, "_csv_text", lambda frame: None)


@pytest.mark.parametrize("fmt", ["csv", "json"])
@pytest.mark.parametrize("ids", [("x", "007", "y z"), ("x", '"y,z"')])
def test_predict_output_is_the_same_without_the_fast_paths(trained_model, folder, monkeypatch, fmt, ids):
    months = pd.date_range("1990-01-01", periods=50, freq="MS")
    rows = [f"{sid},{d.date()},{100 + 10 * np.sin(k / 2) + len(sid)}" for sid in ids
            for k, d in enumerate(months) if (sid, k) != ("x", 20)]        # a gap
    rows[5] = rows[5].rsplit(",", 1)[0] + ","                             # a missing value
    path = write(folder / "monthly.csv", long(rows[::-1]))                # unsorted
    args = ["predict", "-m", str(trained_model), path, "--time-col", "ds", "--target-col", "y", "--format", fmt,
            "--level", "80"]
    runner = CliRunner()
    fast_run = runner.invoke(app, args)
    general_only(monkeypatch)
    general_run = runner.invoke(app, args)
    assert fast_run.exit_code == general_run.exit_code == 0, (fast_run.stderr, general_run.stderr)
    assert fast_run.stdout == general_run.stdout and fast_run.stderr == general_run.stderr
    read = pd.read_csv if fmt == "csv" else pd.read_json
    assert len(read(io.StringIO(fast_run.stdout))) == len(ids) * 18
