"""pandas at the edge, going out: forecasts → a long table → CSV or JSON.

forecast_frame lays forecasts (and any interval columns of the same shape) out as the columns
unique_id, ds, forecast, …, horizon rows per series; ds holds each series' future_times (see
timeline.py), computed once per distinct last time and frequency, and at once for all series
at a fixed-duration frequency — the same texts either way.  write_frame writes a table as
JSON records (each float with its CSV text) or as CSV, byte for byte what pandas'
to_csv(index=False, lineterminator="\n") writes (joined here for the tables this tool makes).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from .dates import stamp_texts
from .timeline import DAY_NS, _fixed_nanos, future_times


def forecast_frame(ids, last_times, freqs, kind: str, step: int, forecasts: np.ndarray,
                   extra: dict | None = None, style: str | None = None) -> pd.DataFrame:
    """Long table unique_id, ds, forecast (and any extra columns of the same shape); `style`,
    if given, writes ds the way the data wrote its stamps (dates.stamp_texts: 2021-W05, 3-07 …)."""
    horizon = forecasts.shape[1]
    ds = _future_column(last_times, freqs, kind, step, horizon)
    rows = {
        "unique_id": np.repeat(np.asarray(ids, dtype=object), horizon),
        "ds": stamp_texts(ds, style) if style and kind == "datetime" else ds,
        "forecast": forecasts.reshape(-1),
    }
    for name, values in (extra or {}).items():
        rows[name] = values.reshape(-1)
    return pd.DataFrame(rows)


def _future_column(last_times, freqs, kind: str, step: int, horizon: int) -> list:
    """Each series' future_times in turn, computed once for series that end at the same time
    with the same frequency.  Those at a fixed-duration frequency (h, 15min, D …) are
    computed for all such series at once: the same texts, without a date_range and a
    Timestamp per value."""
    pairs = list(zip(last_times, freqs))
    known = _fixed_futures(pairs, horizon) if kind == "datetime" else {}
    column = []
    for last, freq in pairs:
        key = (type(last), last, freq)  # the type too: future_times takes 5 and 5.0 differently
        if key not in known:
            known[key] = future_times(last, kind, freq, step, horizon)
        column.extend(known[key])
    return column


def _fixed_futures(pairs, horizon: int) -> dict:
    """{(type, last time, frequency): future_times texts} for the pairs whose frequency is a
    fixed duration of whole seconds and whose last time is ISO text of a naive timestamp of
    whole seconds, unless some future time would pass the last one pandas can hold
    (future_times then raises)."""
    starts = {}
    for last, freq in dict.fromkeys(pairs):
        tick = _fixed_nanos(freq) if freq else 0
        start = _whole_second_ns(last) if tick and tick % 10**9 == 0 and isinstance(last, str) else None
        if start is not None:
            starts[type(last), last, freq] = (start, tick)
    if not starts:
        return {}
    start, tick = np.array(list(starts.values()), dtype=np.int64).T
    if int(start.max()) + horizon * int(tick.max()) > pd.Timestamp.max.value:
        return {}
    texts = _iso_texts(start[:, None] + tick[:, None] * np.arange(1, horizon + 1), (tick < DAY_NS)[:, None]).tolist()
    return dict(zip(starts, texts))


def _whole_second_ns(last) -> int | None:
    """`last` (ISO text) as ns since the epoch, if it is a naive timestamp of whole seconds."""
    try:
        stamp = pd.Timestamp(last)
        value = stamp.value
    except (ValueError, TypeError, OverflowError):
        return None
    return value if stamp.tz is None and value % 10**9 == 0 else None


def _iso_texts(stamps: np.ndarray, clock: np.ndarray) -> np.ndarray:
    """format_time(t, "datetime", clock) of timestamps of whole seconds (ns since the epoch):
    the date alone at midnight unless `clock` (broadcast against stamps), else date and time
    (ISO, 'T' between)."""
    seconds = stamps // 10**9
    texts = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return np.where((seconds % 86_400 == 0) & ~clock, texts.astype("U10"), texts)


def write_frame(frame: pd.DataFrame, fmt: str, stream) -> None:
    """Write a table as CSV or JSON records; a float has the same text in both (the shortest
    that reads back the same), but missing or infinite is null in JSON."""
    if fmt == "json":
        stream.write(_json_text(frame))
        stream.write("\n")
        return
    text = _csv_text(frame)
    if text is None:
        frame.to_csv(stream, index=False, lineterminator="\n")
    else:
        stream.write(text)


def _json_text(frame: pd.DataFrame) -> str:
    """The table as a JSON array of records, compact, floats by Python's repr as in the CSV
    (pandas' to_json rounds them to 15 significant digits)."""
    columns = [_json_values(frame[name]) for name in frame.columns]
    names = [str(name) for name in frame.columns]
    return json.dumps([dict(zip(names, row)) for row in zip(*columns)], separators=(",", ":"), allow_nan=False)


def _json_values(column: pd.Series) -> list:
    """A column's cells as JSON-ready Python values: NaN and ±inf as None, NumPy scalars and
    timestamps as Python numbers and ISO text."""
    values = column.to_numpy()
    if values.dtype.kind == "f":  # float32 as its own shortest text, as pandas writes it in CSV
        cells = values.tolist() if values.dtype == np.float64 else [float(t) for t in values.astype(str)]
        return [v if math.isfinite(v) else None for v in cells]
    if values.dtype.kind in "iub":
        return values.tolist()
    return [None if v is None or (isinstance(v, float) and not math.isfinite(v)) else
            v if isinstance(v, (str, int, float)) else str(v) for v in values.tolist()]


def _csv_text(frame: pd.DataFrame) -> str | None:
    """frame.to_csv(index=False, lineterminator="\n"), byte for byte, for the tables this tool
    writes: two or more columns of floats, whole numbers or text with nothing to quote, each
    converted as pandas converts it.  None for any other table (pandas writes it)."""
    cells = [_csv_cells(frame[name]) for name in frame.columns]
    if len(cells) < 2 or any(c is None for c in cells) or not _plain(frame.columns):
        return None
    header = ",".join(frame.columns) + "\n"
    rows = "\n".join(map(",".join, zip(*cells)))
    return header + rows + "\n" if rows else header


def _csv_cells(column: pd.Series) -> list | None:
    """A column's CSV texts as pandas' to_csv makes them: float64 by NumPy's astype(str)
    (shortest round-trip), NaN as ''; int64 as decimal digits; text as it is.  None for other
    dtypes and for text with missing cells or characters to quote."""
    values = column.to_numpy()
    if values.dtype == np.float64:
        # Python's repr of a float is NumPy's str of a float64 (the shortest text that reads
        # back the same; checked on 2 million values of every magnitude), 15% faster
        texts = list(map(repr, values.tolist()))
        for k in np.flatnonzero(np.isnan(values)):
            texts[k] = ""
        return texts
    if values.dtype == np.int64:
        return values.astype(str).tolist()
    if values.dtype == object and _plain(pd.unique(values)):
        return values.tolist()
    return None


def _plain(texts) -> bool:
    """Whether every item is a string the csv module writes as it is (no quoting)."""
    return all(isinstance(t, str) and not any(c in t for c in ',"\r\n') for t in texts)
