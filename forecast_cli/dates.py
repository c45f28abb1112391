"""A time column → integer steps or timestamps, its format decided once for the whole column.

  * whole numbers are integer steps;
  * period forms pandas does not read, each the start of its period, with the style that
    writes forecasts' stamps the same way (stamp_texts): ISO weeks `2021-W01` (the week's
    Monday), `2021M01`, `2021-Q1` / `2021Q1` / `Q1 2021`, and years and months without a
    century as a well-known tutorial file has them, `1-01` (year 1, month 1: kept on an
    internal calendar SHORT_YEAR_BASE years on, never shown);
  * day/month dates (`28/03/2021`, `03-28-2021 14:00`, `28.03.2021`): day first or month
    first for the whole column — the reading that some value allows alone (`28/03`), else
    `--dayfirst`, else day first for dots (`28.03.2021`, the European way), else the one
    reading whose stamps are evenly spaced.  Values that need both readings, a column both
    readings space evenly but differently, and one neither does are one-line errors naming
    the row and the flag (`--dayfirst`, `--date-format`);
  * anything else pandas reads (ISO dates and times, `1990 Jan`, `Jan-90` …); mixed UTC
    offsets are converted to UTC.
`--date-format` (a strptime format) replaces all of this.  Each distinct text is read once.
"""

from __future__ import annotations

import logging
import re
import warnings

import numpy as np
import pandas as pd

from .errors import DataError
from .timeline import _modal_spacing, _series_freq

log = logging.getLogger("forecast_cli")

SHORT_YEAR_BASE = 2000   # `1-01` is kept as 2001-01 inside, and written back as 1-01

_NS_DAYS = (-106_751, 106_751)   # the first and last days (midnight) datetime64[ns] holds: 1677-09-22, 2262-04-11
_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})(?:-?([1-7]))?")
_MONTH_M = re.compile(r"(\d{4})[-/ ]?M(\d{1,2})")
_QUARTER = re.compile(r"(\d{4})[-/ ]?Q([1-4])")
_QUARTER_FIRST = re.compile(r"Q([1-4])[-/ ]?(\d{4})")
_SHORT_YEAR_MONTH = re.compile(r"(\d{1,2})-(\d{2})")
_DAY_MONTH = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})((?:[ T]\S.*)?)")


def parse_times(raw: pd.Series, column: str, config) -> tuple:
    """(kind, times, style) of a time column with no empty cell: kind "integer" (int64 steps)
    or "datetime" (datetime64[ns]); style None, or the format stamp_texts writes stamps in."""
    texts = raw.astype(str).str.strip()
    numbers = pd.to_numeric(texts, errors="coerce")
    if config.date_format == "auto" and numbers.notna().all() and np.all(numbers == np.round(numbers)):
        return "integer", numbers.to_numpy().astype(np.int64), None
    codes, distinct = pd.factorize(texts)
    distinct = pd.Series(distinct, dtype=object)
    stamps, style = _distinct_times(distinct, column, config, _first_rows(codes, len(distinct)))
    return "datetime", stamps[codes], style


def _first_rows(codes: np.ndarray, n: int) -> np.ndarray:
    """Each distinct value's first row in the column."""
    rows = np.full(n, len(codes), dtype=np.int64)
    np.minimum.at(rows, codes, np.arange(len(codes)))
    return rows


def _distinct_times(distinct: pd.Series, column: str, config, rows: np.ndarray):
    """(datetime64[ns] of each distinct text, style)."""
    if config.date_format != "auto":
        return _with_format(distinct, column, config.date_format, rows), None
    for read in (_iso_weeks, _months_m, _quarters, _short_year_months):
        try:
            found = read(distinct)
        except DataError as exc:
            raise DataError(f"time column {column!r}: {exc}") from None
        if found is not None:
            stamps, style, note = found
            log.warning("time column %r holds %s (e.g. %s): read as such; forecasts carry stamps of the same kind",
                        column, note, distinct.iloc[0])
            return stamps, style
    if distinct.str.fullmatch(_DAY_MONTH).all():
        return _day_month(distinct, column, config.dayfirst, rows), None
    return _checked(parse_dates(distinct), distinct, column, rows), None


def _with_format(distinct: pd.Series, column: str, fmt: str, rows: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(distinct, format=fmt, errors="coerce")
        except (TypeError, ValueError) as exc:
            raise DataError(f"--date-format {fmt!r}: {exc}") from None
    parsed = _in_ns(parsed)
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        k = bad[np.argmin(rows[bad])]
        raise DataError(f"cannot read {distinct.iloc[k]!r} in time column {column!r} (data row {rows[k] + 1}) "
                        f"with --date-format {fmt}")
    return _naive(parsed)


def _checked(parsed: pd.Series, distinct: pd.Series, column: str, rows: np.ndarray) -> np.ndarray:
    bad = np.flatnonzero(parsed.isna().to_numpy())
    if len(bad):
        k = bad[np.argmin(rows[bad])]
        raise DataError(f"cannot parse {distinct.iloc[k]!r} in time column {column!r} (data row {rows[k] + 1}) "
                        "as a date; say how dates are written with --date-format (e.g. %d/%m/%Y)")
    return _naive(parsed)


def _naive(parsed: pd.Series) -> np.ndarray:
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return parsed.to_numpy().astype("datetime64[ns]")


_NS_SECONDS = (-9_223_372_036, 9_223_372_036)   # datetime64[ns] holds the seconds strictly between these


def _in_ns(parsed: pd.Series) -> pd.Series:
    """Parsed datetimes at ns resolution, NaT where a stamp lies beyond what datetime64[ns]
    holds (1677-09-21 … 2262-04-11).  pandas 2 parses to ns and makes such stamps NaT; pandas 3
    parses to the resolution of the text (s, ms, us) and keeps them, to overflow later."""
    tz = parsed.dtype.tz if isinstance(parsed.dtype, pd.DatetimeTZDtype) else None
    if tz is None and parsed.dtype.kind != "M":   # not datetimes (Timestamps with differing offsets)
        return parsed
    unit = parsed.dtype.unit if tz is not None else np.datetime_data(parsed.dtype)[0]
    if unit == "ns":
        return parsed
    naive = parsed.dt.tz_convert(None) if tz is not None else parsed
    seconds = naive.to_numpy().astype("datetime64[s]").view(np.int64)   # coarser: floors, never overflows
    inside = (seconds > _NS_SECONDS[0]) & (seconds < _NS_SECONDS[1])
    return parsed.where(inside).astype(pd.DatetimeTZDtype("ns", tz) if tz is not None else "datetime64[ns]")


def parse_dates(column: pd.Series) -> pd.Series:
    """Datetimes, NaT where a cell is not one.  Mixed UTC offsets are converted to UTC (naive
    times among them are taken as UTC); a column pandas cannot parse at all is all NaT."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for how in ({"format": "mixed"}, {}, {"format": "mixed", "utc": True}):
            try:
                parsed = pd.to_datetime(column, errors="coerce", **how)
            except (TypeError, ValueError, OverflowError):
                continue
            if isinstance(parsed.dtype, pd.DatetimeTZDtype) or parsed.dtype.kind == "M":
                return _in_ns(parsed)  # not a column of Timestamps with differing offsets
    return pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns]")


def looks_like_times(column: pd.Series) -> bool:
    """Whether at least 90% of a column's distinct texts read as dates or periods."""
    distinct = pd.Series(column.dropna().astype(str).str.strip().unique(), dtype=object)
    if distinct.empty or pd.to_numeric(distinct, errors="coerce").notna().mean() > 0.5:
        return False
    forms = (_WEEK, _MONTH_M, _QUARTER, _QUARTER_FIRST, _SHORT_YEAR_MONTH, _DAY_MONTH)
    if max(distinct.str.fullmatch(form).mean() for form in forms) >= 0.9:
        return True
    return float(parse_dates(distinct).notna().mean()) >= 0.9


# ---------------------------------------------------------------------------------------------
# period forms


def _parts(distinct: pd.Series, form: re.Pattern):
    """The regex groups of every text as integer columns, or None unless all texts match."""
    found = distinct.str.fullmatch(form)
    if not found.all():
        return None
    return distinct.str.extract(form).apply(pd.to_numeric)


def _iso_weeks(distinct: pd.Series):
    parts = _parts(distinct, _WEEK)
    if parts is None:
        return None
    years, weeks = parts[0].to_numpy(dtype=np.int64), parts[1].to_numpy(dtype=np.int64)
    days = parts[2].fillna(1).to_numpy(dtype=np.int64)
    if not ((weeks >= 1) & (weeks <= 53)).all():
        return None
    first = _first_iso_monday(years)
    wrong = np.flatnonzero(weeks > (_first_iso_monday(years + 1) - first) // 7)
    if len(wrong):   # a week its year does not have (2021-W53): not rolled over into the next year
        raise DataError(f"{distinct.iloc[wrong[0]]!r} is not a week of {years[wrong[0]]} (ISO weeks)")
    stamps = first + 7 * (weeks - 1) + (days - 1)
    beyond = np.flatnonzero((stamps < _NS_DAYS[0]) | (stamps > _NS_DAYS[1]))
    if len(beyond):
        raise DataError(f"{distinct.iloc[beyond[0]]!r} lies beyond the dates that can be held (1677-09-22 to 2262-04-11)")
    return stamps.astype("datetime64[D]").astype("datetime64[ns]"), "{G}-W{V:02d}", "ISO weeks (the Monday of each)"


def _first_iso_monday(years: np.ndarray) -> np.ndarray:
    """The Monday that begins ISO week 1 of each year (the week of 4 January), in days since
    the epoch.  Computed, not parsed with %G-W%V: pandas 2 rolls a week its year lacks over
    into the next year, pandas 3 leaves it NaT."""
    jan4 = ((years - 1970).astype("datetime64[Y]") + np.timedelta64(3, "D")).astype(np.int64)
    return jan4 - (jan4 + 3) % 7   # 1970-01-01 (day 0) was a Thursday: (day + 3) % 7 is 0 on Mondays


def _months_m(distinct: pd.Series):
    parts = _parts(distinct, _MONTH_M)
    if parts is None or not parts[1].between(1, 12).all():
        return None
    return _month_starts(parts[0], parts[1], distinct), "{Y}M{m:02d}", "months"


def _quarters(distinct: pd.Series):
    parts = _parts(distinct, _QUARTER)
    style = "{Y}-Q{q}" if parts is not None and distinct.str.contains("-").all() else "{Y}Q{q}"
    if parts is None:
        parts = _parts(distinct, _QUARTER_FIRST)
        if parts is None:
            return None
        parts, style = parts[[1, 0]].set_axis([0, 1], axis=1), "Q{q} {Y}"
    return _month_starts(parts[0], 3 * parts[1] - 2, distinct), style, "quarters"


def _short_year_months(distinct: pd.Series):
    """`1-01` … `3-12`: years without a century (1, 2, 3) and months."""
    parts = _parts(distinct, _SHORT_YEAR_MONTH)
    if parts is None or not parts[1].between(1, 12).all():
        return None
    return (_month_starts(parts[0] + SHORT_YEAR_BASE, parts[1], distinct), "{y}-{m:02d}",
            "years without a century and months (1-01 is year 1, month 1)")


def _month_starts(years: pd.Series, months: pd.Series, distinct: pd.Series) -> np.ndarray:
    """The first day of each month (datetime64[ns]); a DataError naming the first text whose
    month lies beyond what datetime64[ns] holds."""
    days = ((years.to_numpy(dtype=np.int64) - 1970) * 12 + months.to_numpy(dtype=np.int64) - 1) \
        .astype("datetime64[M]").astype("datetime64[D]").view(np.int64)
    beyond = np.flatnonzero((days < _NS_DAYS[0]) | (days > _NS_DAYS[1]))
    if len(beyond):
        raise DataError(f"{distinct.iloc[beyond[0]]!r} lies beyond the dates that can be held (1677-09-22 to 2262-04-11)")
    return days.astype("datetime64[D]").astype("datetime64[ns]")


def stamp_texts(stamps, style: str) -> list:
    """Timestamps (ISO text or datetimes) written in `style` (a format of parse_times')."""
    out = []
    for stamp in pd.to_datetime(pd.Series(stamps)):
        iso = stamp.isocalendar()
        out.append(style.format(Y=stamp.year, m=stamp.month, q=(stamp.month - 1) // 3 + 1, G=iso[0], V=iso[1],
                                y=stamp.year - SHORT_YEAR_BASE))
    return out


# ---------------------------------------------------------------------------------------------
# day first or month first


def _day_month(distinct: pd.Series, column: str, dayfirst: bool, rows: np.ndarray) -> np.ndarray:
    """The column read day first or month first, decided once (see the module docstring)."""
    parts = distinct.str.extract(_DAY_MONTH)
    first, second = parts[0].astype(int), parts[2].astype(int)
    day_only, month_only = np.flatnonzero(first > 12), np.flatnonzero(second > 12)
    example = lambda picks: (distinct.iloc[picks[np.argmin(rows[picks])]], rows[picks].min() + 1)  # noqa: E731
    if len(day_only) and len(month_only):
        (a, ra), (b, rb) = example(day_only), example(month_only)
        raise DataError(f"time column {column!r} holds {a!r} (data row {ra}: day first) and {b!r} (data row {rb}: "
                        "month first); make them one format, or say which with --date-format")
    if dayfirst or len(day_only) or (parts[1] == ".").all():
        reading = True
    elif len(month_only):
        reading = False
    else:
        reading = _evenly_spaced_reading(distinct, column, rows, parts)
    sep = parts[1].iloc[0]
    log.warning("time column %r read %s (%s)", column, "day first" if reading else "month first",
                f"%d{sep}%m" if reading else f"%m{sep}%d")
    return _checked(_read(distinct, reading), distinct, column, rows)


def _read(distinct: pd.Series, dayfirst: bool) -> pd.Series:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _in_ns(pd.to_datetime(distinct, format="mixed", dayfirst=dayfirst, errors="coerce"))


def _evenly_spaced_reading(distinct: pd.Series, column: str, rows: np.ndarray, parts) -> bool:
    """Day first (True) or month first: the reading whose stamps some frequency explains."""
    readings = {first: _read(distinct, first) for first in (True, False)}
    even = {first: _explained(parsed) for first, parsed in readings.items()}
    differ = np.flatnonzero((parts[0] != parts[2]).to_numpy())
    shown, row = (distinct.iloc[differ[np.argmin(rows[differ])]], rows[differ].min() + 1) if len(differ) else ("", 0)
    if even[True] and even[False] and len(differ):
        raise DataError(f"time column {column!r} is evenly spaced read day first and month first alike (e.g. {shown!r}, data row "
                        f"{row}); say --dayfirst, or --date-format %m/%d/%Y for month first")
    if not even[True] and not even[False]:
        raise DataError(f"time column {column!r} is unevenly spaced read day first or month first (e.g. {shown!r}, "
                        f"data row {row}); say how its dates are written with --date-format (e.g. %d/%m/%Y)")
    return even[True]


def _explained(parsed: pd.Series) -> bool:
    """Whether a frequency explains the sorted distinct stamps: at least half the points of
    its grid between the first and the last are there (so that reading them so would not
    invent more stamps than the file holds)."""
    if parsed.isna().any() or len(parsed) < 3:
        return False
    stamps = np.sort(parsed.to_numpy().astype("datetime64[ns]"))
    freq = _series_freq(pd.DatetimeIndex(stamps)) or _modal_spacing(stamps)
    if not freq:
        return False
    return len(stamps) >= 0.5 * len(pd.date_range(stamps[0], stamps[-1], freq=freq))
