"""pandas at the edge: CSV in (path or stdin) → plain NumPy series; forecasts → CSV/JSON out.

Accepted layouts:
  * long format — an id column (default `unique_id`), a time column (`ds`) and a value
    column (`y`); other names through `id_col`, `time_col`, `target_col`;
  * one series — a time column and a value column, or a value column alone.
When the default names are absent the columns are recognised: the one that parses as dates is
the time, the one numeric column left is the target.

Each series is sorted by time; its frequency is inferred so forecasts carry future
timestamps; missing timestamps inside a series are re-inserted (with a warning) and missing
values filled per `missing` (interpolate, ffill, or error).  Values must be finite and within
±1e100 (MAX_ABS_VALUE).  Everything a user can get wrong ends in a DataError with one line
that says what and where.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import sys
import warnings
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .config import FIELDS, Config
from .errors import DataError

log = logging.getLogger("forecast_cli")

# Larger magnitudes are refused: scaling squares values (standard deviations over windows and
# over all the data), which overflows float64 beyond about 1e154 and would leave infinite or
# NaN forecasts; no measured quantity comes near 1e100.
MAX_ABS_VALUE = 1e100

DATE_HINTS = ("ds", "date", "time", "timestamp", "datetime", "month", "period", "week", "day", "year", "quarter")


@dataclass
class SeriesData:
    """Series as NumPy arrays, plus what is needed to put timestamps on their forecasts."""

    ids: list
    values: list                  # float64 arrays, sorted by time, no NaN
    times: list                   # datetime64[ns] or int64 arrays, same lengths
    time_kind: str                # "datetime" or "integer"
    freq: str | None              # the most common pandas alias over the series; None for integer steps
    step: int                     # spacing of integer steps (1 for datetime data)
    columns: dict = field(default_factory=dict)  # which CSV columns were used
    freqs: list = field(default_factory=list)    # each series' own alias (weekly anchors may differ)

    def phase0(self) -> list:
        """Each series' first value's position on the data's clock (periods since a fixed
        origin; the model takes it modulo the season, giving hour of day, month of year …)."""
        return [period_ordinal(t[0], self.time_kind, f) for t, f in zip(self.times, self.freqs)]

    def subset(self, keep) -> "SeriesData":
        """The same data restricted to the series at positions `keep`."""
        pick = lambda items: [items[k] for k in keep]  # noqa: E731
        return SeriesData(pick(self.ids), pick(self.values), pick(self.times), self.time_kind, self.freq,
                          self.step, self.columns, pick(self.freqs))

    def info(self) -> dict:
        """JSON-able facts for the model file, so `predict` can continue these series."""
        return {"columns": self.columns, "time_kind": self.time_kind, "freq": self.freq, "step": self.step,
                "freqs": self.freqs, "last_times": [format_time(t[-1], self.time_kind) for t in self.times]}


# ---------------------------------------------------------------------------------------------
# reading


def read_table(source: str, text: str | None = None) -> pd.DataFrame:
    """Read CSV text from a path or '-' (stdin) as strings; a UTF-8 BOM and CRLF are fine.
    `text`, when given, is what the source held (read before, see _read_text)."""
    with _read_errors(source):
        frame = _parse(source, text, dtype=str)
    frame.columns = [str(c).strip() for c in frame.columns]
    repeated = [c for c, n in Counter(frame.columns).items() if n > 1]
    if repeated:
        raise DataError(f"{_name(source)} has two columns named {_shown(repeated[0])}; rename one")
    if frame.empty:
        raise DataError(f"{_name(source)} has a header but no rows")
    return frame


def _parse(source: str, text: str | None, **options) -> pd.DataFrame:
    """pd.read_csv of `text`, or else of the file `source`, with the options every reading shares."""
    if text is not None:
        handle = io.StringIO(text)
    else:
        if os.path.isdir(source):
            raise DataError(f"{source} is a directory, not a CSV file")
        handle = open(source, encoding="utf-8-sig", newline="")
    with handle:
        return pd.read_csv(handle, skipinitialspace=True, **options)


def _rereadable(source: str) -> bool:
    """Whether `source` can be read twice (a regular file, not stdin or a pipe)."""
    return source != "-" and os.path.isfile(source)


def _read_text(source: str) -> str:
    """The whole text of `source` ('-' is stdin), for sources that can be read only once."""
    if source == "-":
        return sys.stdin.buffer.read().decode("utf-8-sig") if hasattr(sys.stdin, "buffer") else sys.stdin.read()
    if os.path.isdir(source):
        raise DataError(f"{source} is a directory, not a CSV file")
    with open(source, encoding="utf-8-sig", newline="") as handle:
        return handle.read()


@contextlib.contextmanager
def _read_errors(source: str):
    """Failures to open, decode or parse `source` as one-line DataErrors."""
    try:
        yield
    except FileNotFoundError:
        raise DataError(f"file not found: {source}") from None
    except PermissionError:
        raise DataError(f"cannot read {source}: permission denied") from None
    except UnicodeDecodeError:
        raise DataError(f"{_name(source)} is not UTF-8 text") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{_name(source)} is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"cannot parse {_name(source)} as CSV: {str(exc).strip().splitlines()[0]}") from None
    except OSError as exc:
        raise DataError(f"cannot read {source}: {exc.strerror or exc}") from None


def _name(source: str) -> str:
    return "standard input" if source == "-" else source


def _shown(name: str) -> str:
    """A column name for a one-line message: as it is if printable, else escaped (repr)."""
    return name if name.isprintable() and name else repr(name)


def _listed(names) -> str:
    return ", ".join(_shown(c) for c in names)


def _numeric_share(column: pd.Series) -> float:
    present = column.dropna()
    if present.empty:
        return 0.0
    return float(pd.to_numeric(present, errors="coerce").notna().mean())


def _parse_dates(column: pd.Series) -> pd.Series:
    """Datetimes, NaT where a cell is not one.  Mixed UTC offsets are converted to UTC (naive
    times among them are taken as UTC); a column pandas cannot parse at all is all NaT."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for how in ({"format": "mixed"}, {}, {"format": "mixed", "utc": True}):
            try:
                return pd.to_datetime(column, errors="coerce", **how)
            except (TypeError, ValueError, OverflowError):
                continue
    return pd.Series(pd.NaT, index=column.index, dtype="datetime64[ns]")


def _looks_like_dates(column: pd.Series) -> bool:
    present = column.dropna()
    if present.empty or _numeric_share(present) > 0.5:
        return False
    return float(_parse_dates(present).notna().mean()) >= 0.9


def pick_columns(frame: pd.DataFrame, config: Config, expected_by: str | None = None) -> dict:
    """Which columns hold the id, the time and the target (id and time may be None).
    `expected_by` names who asked for the configured names (e.g. a model file), for messages."""
    cols = list(frame.columns)

    def chosen(key):
        name = getattr(config, key)
        if name in cols:
            return name
        if name != FIELDS[key].default:
            asker = f"the model {expected_by} was trained with" if expected_by else f"given as {key}"
            raise DataError(f"unknown column {name!r} ({asker}); the file has: {_listed(cols)}")
        return None

    id_col, time_col, target_col = chosen("id_col"), chosen("time_col"), chosen("target_col")
    taken = {id_col, time_col}
    if time_col is None:
        candidates = [c for c in cols if c not in taken and c != target_col]
        hinted = [c for c in candidates if c.lower() in DATE_HINTS or any(h in c.lower() for h in ("date", "time"))]
        for c in hinted + [c for c in candidates if c not in hinted]:
            if _looks_like_dates(frame[c]):
                time_col = c
                break
        taken.add(time_col)
    if target_col is None:
        numeric = [c for c in cols if c not in taken and _numeric_share(frame[c]) >= 0.5]
        if not numeric:
            raise DataError(f"no numeric column to forecast (columns: {_listed(cols)}); name one with --target-col")
        if len(numeric) > 1:
            raise DataError(f"several numeric columns ({_listed(numeric)}); choose one with --target-col")
        target_col = numeric[0]
    return {"id_col": id_col, "time_col": time_col, "target_col": target_col}


def _target_values(frame: pd.DataFrame, col: str) -> np.ndarray:
    raw = frame[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"column {col!r} holds text: {raw.iloc[row]!r} in data row {row + 1}")
    values = values.to_numpy(dtype=np.float64)
    if np.isinf(values).any():
        row = int(np.flatnonzero(np.isinf(values))[0])
        raise DataError(f"column {col!r} holds an infinite value in data row {row + 1}")
    with np.errstate(invalid="ignore"):
        huge = np.abs(values) > MAX_ABS_VALUE
    if huge.any():
        row = int(np.flatnonzero(huge)[0])
        raise DataError(f"column {col!r} holds {raw.iloc[row]} in data row {row + 1}; values beyond ±{MAX_ABS_VALUE:g} "
                        "overflow the computation: rescale the column (e.g. divide it by a power of ten)")
    if np.isnan(values).all():
        raise DataError(f"column {col!r} has no values: all are missing")
    return values


def _time_values(frame: pd.DataFrame, col: str | None):
    """(kind, array): integer steps if the column is whole numbers, else parsed datetimes."""
    if col is None:
        return "integer", None
    raw = frame[col]
    if raw.isna().any():
        row = int(np.flatnonzero(raw.isna().to_numpy())[0])
        raise DataError(f"time column {col!r} is empty in data row {row + 1}")
    numbers = pd.to_numeric(raw, errors="coerce")
    if numbers.notna().all() and np.all(numbers == np.round(numbers)):
        return "integer", numbers.to_numpy().astype(np.int64)
    parsed = _parse_dates(raw)
    if parsed.isna().any():
        row = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise DataError(f"cannot parse {raw.iloc[row]!r} in time column {col!r} (data row {row + 1}) as a date")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert(None)
    return "datetime", parsed.to_numpy().astype("datetime64[ns]")


def load_series(source: str, config: Config, expected_by: str | None = None) -> SeriesData:
    """Read a CSV into series, per the module docstring.  Long files whose columns are named
    take a fast path (_load_fast); whatever it does not cover, every error included, is left to
    the general path, so that both give the same series, warnings and messages."""
    text = None
    if not _rereadable(source):
        with _read_errors(source):
            text = _read_text(source)
    series = _load_fast(source, text, config)
    return series if series is not None else _load_general(source, text, config, expected_by)


def _load_general(source: str, text: str | None, config: Config, expected_by: str | None = None) -> SeriesData:
    """Any CSV: every column read as text, then checked, converted and split by id."""
    frame = read_table(source, text)
    columns = pick_columns(frame, config, expected_by)
    values = _target_values(frame, columns["target_col"])
    kind, times = _time_values(frame, columns["time_col"])
    if columns["id_col"]:
        ids = frame[columns["id_col"]].fillna("").astype(str).str.strip().to_numpy()
    else:
        ids = np.full(len(frame), columns["target_col"], dtype=object)
    if times is None:
        times = np.zeros(len(frame), dtype=np.int64)
        for key in dict.fromkeys(ids):  # steps 0, 1, 2 … within each series, in file order
            rows = ids == key
            times[rows] = np.arange(rows.sum())
    keys, all_times, all_values = zip(*_split_by_id(ids, times, values))
    return _assemble(keys, all_times, all_values, kind, columns, config.missing)


def _assemble(keys, all_times, all_values, kind: str, columns: dict, missing: str) -> SeriesData:
    """Series from each one's sorted times and values: frequencies inferred, missing
    timestamps re-inserted, missing values filled."""
    spacings = [_even_spacing(t) for t in all_times]
    freqs, step = infer_frequency(all_times, kind, spacings)
    common = Counter(f for f in freqs if f).most_common(1)
    out = SeriesData([], [], [], kind, common[0][0] if common else None, step, columns, freqs)
    filled, grids = 0, {}
    for key, t, v, freq, spacing in zip(keys, all_times, all_values, freqs, spacings):
        t, v, gaps = _regularise(key, t, v, kind, freq, step, spacing, grids)
        v, n_missing = fill_missing(key, v, missing, gaps)
        filled += n_missing
        out.ids.append(key), out.times.append(t), out.values.append(v)
    if filled:
        how = "interpolated linearly" if missing == "interpolate" else "filled forward"
        log.warning("%d missing values %s (--missing error|interpolate|ffill)", filled, how)
    return out


def _split_by_id(ids, times, values):
    """[(id, sorted times, values)] in order of first appearance; duplicate times are an error."""
    order = pd.Series(np.arange(len(ids))).groupby(pd.Series(ids), sort=False).indices
    groups = []
    for key, rows in order.items():
        rows = rows[np.argsort(times[rows], kind="stable")]
        t, v = times[rows], values[rows]
        dup = np.flatnonzero(t[1:] == t[:-1])
        if len(dup):
            raise DataError(f"series {key!r} has duplicate timestamps ({format_time(t[dup[0]], 'auto')})")
        groups.append((str(key), t, v))
    return groups


# ---------------------------------------------------------------------------------------------
# the fast path: long files, columns named


def _load_fast(source: str, text: str | None, config: Config) -> SeriesData | None:
    """What _load_general gives, for files whose time and target columns are named (by the
    config or the defaults), so nothing is detected from the data: the id and time columns
    read as categories (each distinct text converted once, not once per row), the target as
    float64, rows grouped and sorted by whole-array operations.  None wherever the general
    path might decide otherwise: an error to report, a column to detect, anything unusual."""
    named = _named_columns(source, text, config)
    if named is None:
        return None
    header, raw, columns = named
    frame = _read_typed(source, text, header, raw)
    if frame is None:
        return None
    values = _clean_target(frame[raw["target_col"]])
    timed = _category_times(frame[raw["time_col"]], columns["time_col"])
    if values is None or timed is None:
        return None
    kind, times = timed
    if raw["id_col"] is None:
        keys, series = [columns["target_col"]], np.zeros(len(frame), dtype=np.intp)
    else:
        numbered = _ids(frame[raw["id_col"]], source, text)
        if numbered is None:
            return None
        keys, series = numbered
    split = _split_sorted(series, times, values)
    if split is None:
        return None
    return _assemble(keys, *split, kind, columns, config.missing)


def _named_columns(source: str, text: str | None, config: Config):
    """(header, raw names, columns) when the configured or default time and target columns are
    in the header — three distinct columns, the id optional; None otherwise.  `raw` maps each
    key to the column's name as written (before stripping), `columns` is what pick_columns
    would return."""
    try:
        header = list(_parse(source, text, nrows=0, dtype=str).columns)
    except (ValueError, OSError, DataError):  # the general path reports it
        return None
    names = [str(c).strip() for c in header]
    if len(set(names)) < len(names):
        return None
    raw = {key: header[names.index(getattr(config, key))] if getattr(config, key) in names else None
           for key in ("id_col", "time_col", "target_col")}
    if raw["time_col"] is None or raw["target_col"] is None or len(set(raw.values())) < 3:
        return None
    if raw["id_col"] is None and config.id_col != FIELDS["id_col"].default:
        return None  # an unknown id column: an error
    return header, raw, {key: str(name).strip() if name is not None else None for key, name in raw.items()}


def _read_typed(source: str, text: str | None, header: list, raw: dict) -> pd.DataFrame | None:
    """The whole file, the target as float64 and every other column as a category; None if
    that fails, warns, or gives other columns or rows than reading it as text would."""
    dtype = defaultdict(lambda: "category", {raw["target_col"]: "float64"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning here: let the general path read it
            frame = _parse(source, text, dtype=dtype)
    except (ValueError, OSError, Warning):
        return None
    if list(frame.columns) != header or not isinstance(frame.index, pd.RangeIndex) or frame.empty:
        return None
    categories = [frame[raw[key]].dtype for key in ("id_col", "time_col") if raw[key] is not None]
    typed = frame[raw["target_col"]].dtype == np.float64 and all(isinstance(c, pd.CategoricalDtype) for c in categories)
    return frame if typed else None


def _clean_target(column: pd.Series) -> np.ndarray | None:
    """The target's values; None if any is infinite or beyond MAX_ABS_VALUE, or all are missing
    (errors whose messages quote the text: the general path words them)."""
    values = column.to_numpy(dtype=np.float64)
    with np.errstate(invalid="ignore"):
        if (np.abs(values) > MAX_ABS_VALUE).any() or np.isnan(values).all():
            return None
    return values


def _category_times(column: pd.Series, name: str):
    """(kind, times) as _time_values gives them, converting each distinct text once; None if
    a cell is empty or a text is not a time.  The distinct texts are taken in order of first
    appearance, so the date format pandas infers from the first one is the same."""
    codes, texts = column.cat.codes.to_numpy(), column.cat.categories
    if (codes < 0).any():
        return None
    if texts.dtype.kind in "iuf":
        return _numeric_times(texts.to_numpy(), codes)
    if not isinstance(texts.dtype, pd.StringDtype):
        return None
    seen = pd.unique(codes)
    try:
        kind, parsed = _time_values(pd.DataFrame({name: texts[seen]}), name)
    except DataError:
        return None
    position = np.empty(len(texts), dtype=np.intp)
    position[seen] = np.arange(len(seen))
    return kind, parsed[position[codes]]


def _numeric_times(numbers: np.ndarray, codes: np.ndarray):
    """("integer", times) of a time column read_csv turned into numbers — with pd.to_numeric,
    as _time_values does — if they are whole; None otherwise (dates are parsed from the text)."""
    if not np.all(numbers == np.round(numbers)):
        return None
    return "integer", numbers.astype(np.int64)[codes]


def _ids(column: pd.Series, source: str, text: str | None):
    """(ids, each row's series number) from the id column read as a category.  Where read_csv
    made numbers or booleans of the ids, their text is lost ('01' and '1' became one), so
    the column is read again as text.  None if that fails."""
    if isinstance(column.cat.categories.dtype, pd.StringDtype):
        return _numbered_ids(column.cat.codes.to_numpy(), column.cat.categories)
    try:
        texts = _parse(source, text, usecols=[column.name], dtype=str)[column.name]
    except (ValueError, OSError):
        return None
    return _numbered_ids(*pd.factorize(texts)) if len(texts) == len(column) else None


def _numbered_ids(codes: np.ndarray, texts):
    """(ids, each row's series number) from each row's code into `texts` (-1: an empty cell):
    ids as _load_general makes them (stripped text, an empty cell ''), numbered in order of
    first appearance."""
    texts = [str(t).strip() for t in texts] + [""]
    group_of_text, keys = pd.factorize(np.array(texts, dtype=object))
    groups = group_of_text[codes]  # code -1 (an empty cell) picks the last text, ''
    order = pd.unique(groups)
    rank = np.empty(len(keys), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return [str(keys[g]) for g in order], rank[groups]


def _split_sorted(series: np.ndarray, times: np.ndarray, values: np.ndarray):
    """(each series' times, each one's values), sorted by time as _split_by_id sorts them
    (rows already in that order are not moved); None if a series repeats a timestamp."""
    clock = times.view(np.int64)
    if not _grouped_and_rising(series, clock):
        order = np.lexsort((clock, series))  # stable, like _split_by_id's sort
        series, times, values, clock = series[order], times[order], values[order], clock[order]
        if not _grouped_and_rising(series, clock):
            return None
    cuts = np.flatnonzero(np.diff(series)) + 1
    return np.split(times, cuts), np.split(values, cuts)


def _grouped_and_rising(series: np.ndarray, clock: np.ndarray) -> bool:
    """Whether rows go series by series, in increasing order, each one's times strictly rising."""
    step = np.diff(series)
    return bool(((step > 0) | ((step == 0) & (np.diff(clock) > 0))).all())


# ---------------------------------------------------------------------------------------------
# frequency, gaps, missing values


def _infer_freq(index: pd.DatetimeIndex) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            freq = pd.infer_freq(index)
        except (TypeError, ValueError):
            return None
    return getattr(freq, "freqstr", freq)


def infer_frequency(all_times, kind: str, spacings=None) -> tuple[list, int]:
    """Each series' sampling frequency: pandas' inference on the series or, where it has
    gaps, on its short gap-free stretches; series where neither works take the most common
    one.  When no series has a frequency that way (gaps everywhere), each takes its most
    common spacing if that is a fixed duration every spacing is a multiple of.  Integer
    steps: the most common step.  `spacings`: each series' _even_spacing, if known.
    Returns (aliases, step)."""
    if kind == "integer":
        return [None] * len(all_times), _common_step(all_times)
    freqs = _series_freqs(all_times, [_even_spacing(t) for t in all_times] if spacings is None else spacings)
    votes = Counter(f for f in freqs if f)
    if not votes:
        freqs = [_modal_spacing(t) for t in all_times]
        votes = Counter(f for f in freqs if f)
    if not votes:
        log.warning("could not infer the time frequency; forecasts are numbered 1, 2, … after the last time")
        return freqs, 1
    common = votes.most_common(1)[0][0]
    return [f or _borrowed(common, t) for f, t in zip(freqs, all_times)], 1


def _common_step(all_times) -> int:
    """The most common positive spacing over each series' first 1000 steps (of equally common
    ones, the first met going through the series in order); 1 if there is none."""
    spacings = np.concatenate([np.diff(t[:1000]) for t in all_times])
    spacings = spacings[spacings > 0]
    if not len(spacings):
        return 1
    values, first, counts = np.unique(spacings, return_index=True, return_counts=True)
    modal = counts == counts.max()
    return int(values[modal][np.argmin(first[modal])])


DAY_NS = 86_400 * 10**9


def _series_freqs(all_times, spacings) -> list:
    """_series_freq of each series, inferred once for series that _same_times counts as one."""
    known = {}
    freqs = []
    for t, spacing in zip(all_times, spacings):
        same = _same_times(t, spacing)
        if same not in known:
            known[same] = _series_freq(pd.DatetimeIndex(t))
        freqs.append(known[same])
    return freqs


def _same_times(t: np.ndarray, spacing: int):
    """A key equal for series whose inferred frequency is the same: an even spacing that is
    not a whole number of days, as pandas names such an index by it alone (h, 15min, 90s …;
    pandas' _FrequencyInferer.get_freq); else the times themselves (compactly when evenly
    spaced)."""
    if spacing and spacing % DAY_NS:
        return spacing
    return (int(t[0].view(np.int64)), len(t), spacing) if spacing else t.tobytes()


def _even_spacing(t: np.ndarray) -> int:
    """The spacing of a series of at least 3 points (ns for datetimes) if all its spacings are
    equal and positive, else 0."""
    if len(t) < 3:
        return 0
    spacings = np.diff(t.view(np.int64))
    return int(spacings[0]) if spacings[0] > 0 and (spacings == spacings[0]).all() else 0


def _modal_spacing(times) -> str | None:
    """The alias of a series' most common spacing, if it is a fixed duration (days, hours,
    minutes …) that every spacing is a whole multiple of — so a series with gaps everywhere
    (no gap-free stretch for pandas to read) is still put on its grid, not closed up.  Seven
    days is a week anchored on the series' weekday.  None otherwise."""
    ns = np.asarray(times).astype("datetime64[ns]").astype(np.int64)
    spacings = np.diff(ns)
    if len(spacings) < 2 or np.any(spacings <= 0):
        return None
    values, counts = np.unique(spacings, return_counts=True)
    step = int(values[np.argmax(counts)])
    if np.any(spacings % step):
        return None
    if step == 7 * 86_400 * 10**9:
        return "W-" + pd.Timestamp(times[0]).day_name()[:3].upper()
    for unit, alias in ((86_400, "D"), (3_600, "h"), (60, "min"), (1, "s")):
        if step % (unit * 10**9) == 0:
            n = step // (unit * 10**9)
            return alias if n == 1 else f"{n}{alias}"
    return None


def _borrowed(common: str, times) -> str:
    """The common alias for a series too short to infer its own.  Weekly anchors differ per
    series (W-SAT, W-MON …), so a weekly alias is re-anchored to the series' own weekday;
    otherwise its timestamps would lie off the borrowed grid and fail the whole file."""
    if common.upper().startswith("W-") and len(times):
        return "W-" + pd.Timestamp(times[0]).day_name()[:3].upper()
    return common


def _series_freq(index: pd.DatetimeIndex) -> str | None:
    freq = _infer_freq(index) if len(index) >= 3 else None
    if freq is None and len(index) >= 5:
        stretches = Counter(f for f in (_infer_freq(index[i:i + 5]) for i in range(0, len(index) - 4, 5)) if f)
        freq = stretches.most_common(1)[0][0] if stretches else None
    return freq


def _regularise(key, t, v, kind, freq, step, spacing: int = 0, grids: dict | None = None):
    """Put a series on its frequency grid; missing timestamps get NaN values (and a warning).
    `spacing`, the series' _even_spacing, spares building the grid when it is the grid's own;
    `grids` keeps the date grids built, for series with the same first and last times."""
    if spacing and spacing == _grid_step(kind, freq, step):
        return t, v, 0
    if kind == "integer":
        grid = np.arange(t[0], t[-1] + 1, step)
    elif freq is None:
        return t, v, 0
    else:
        grid = _date_grid(t[0], t[-1], freq, {} if grids is None else grids)
    if len(grid) == len(t) and np.array_equal(grid, t):
        return t, v, 0
    position = np.searchsorted(grid, t)
    off_grid = (position >= len(grid)) | (grid[np.minimum(position, len(grid) - 1)] != t)
    if off_grid.any():
        raise DataError(f"series {key!r} has timestamps off its {freq or f'step-{step}'} grid "
                        f"(e.g. {format_time(t[np.flatnonzero(off_grid)[0]], kind)}); the data must be regularly spaced")
    full = np.full(len(grid), np.nan)
    full[position] = v
    gaps = len(grid) - len(t)
    log.warning("series %s: %d missing timestamps re-inserted; their values are filled", key, gaps)
    return grid.copy(), full, gaps  # a copy: the grid may be another series' too


def _date_grid(first, last, freq: str, grids: dict) -> np.ndarray:
    """pd.date_range(first, last, freq) as datetime64[ns], kept in `grids` for the next
    series with the same first and last times (series of one panel share it; series that
    all differ gain nothing, hence only a few are kept)."""
    span = (first, last, freq)
    if span not in grids:
        if len(grids) >= 16:
            grids.clear()
        grid = pd.date_range(pd.Timestamp(first), pd.Timestamp(last), freq=freq)
        grids[span] = grid.to_numpy().astype("datetime64[ns]")
    return grids[span]


def _grid_step(kind: str, freq: str | None, step: int) -> int:
    """The fixed spacing of the grid (steps, or ns at a fixed-duration frequency), 0 if it
    has none (weeks anchored on a weekday, months … or no frequency)."""
    if kind == "integer":
        return step
    return _fixed_nanos(freq) if freq else 0


@functools.lru_cache(maxsize=64)
def _fixed_nanos(freq: str) -> int:
    """The length in ns of a frequency that is a fixed duration on naive timestamps — h, min,
    s … and days (D, 2D: 24 h each without a time zone) — else 0."""
    try:
        offset = pd.tseries.frequencies.to_offset(freq)
    except ValueError:  # not a frequency: left to pandas where it is used
        return 0
    return int(offset.nanos) if isinstance(offset, (pd.offsets.Tick, pd.offsets.Day)) else 0


def fill_missing(key, v: np.ndarray, policy: str, gaps: int = 0):
    """Fill NaNs per policy; returns (values, how many were filled)."""
    missing = np.isnan(v)
    n = int(missing.sum())
    if n == 0:
        return v, 0
    if missing.all():
        raise DataError(f"series {key!r} has no values: all are missing")
    if policy == "error":
        first = int(np.flatnonzero(missing)[0])
        raise DataError(f"series {key!r} has {n} missing values (first at position {first}); "
                        "use --missing interpolate or --missing ffill to fill them")
    s = pd.Series(v)
    s = s.interpolate(method="linear", limit_direction="both") if policy == "interpolate" else s.ffill().bfill()
    return s.to_numpy(), n


# ---------------------------------------------------------------------------------------------
# clocks and future timestamps


def period_ordinal(t, kind: str, freq: str | None) -> int:
    """How many periods of the data's frequency lie between a fixed origin and time t, so that
    ordinal mod season is the position within the season (hour of day, month of year …)."""
    if kind == "integer":
        return int(t)
    if freq is None:
        return 0
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick):
        return int(pd.Timestamp(t).value // offset.nanos)
    code = offset.rule_code.upper()
    base = "M" if code.startswith("M") else "Q" if code.startswith("Q") else \
        "Y" if code[0] in "YA" else "W" if code.startswith("W") else "D"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ordinal = pd.Period(pd.Timestamp(t), freq=base).ordinal
    if code.startswith("B"):  # business days: count weekdays
        ordinal = int(np.busday_count(np.datetime64("1970-01-05"), np.datetime64(pd.Timestamp(t).date())))
    return int(ordinal) // max(offset.n, 1)


def format_time(t, kind: str) -> str | int:
    if kind == "integer" or isinstance(t, (int, np.integer)):
        return int(t)
    stamp = pd.Timestamp(t)
    return stamp.isoformat() if (stamp.hour or stamp.minute or stamp.second) else stamp.date().isoformat()


def future_times(last, kind: str, freq: str | None, step: int, horizon: int) -> list:
    """The `horizon` timestamps after `last` (ISO text or int): by `freq` for datetimes, by
    `step` for integer steps, and 1, 2, … after the end when the frequency is unknown."""
    if kind == "integer" or freq is None:
        start = last if isinstance(last, (int, np.integer)) else 0
        return [int(start) + step * k for k in range(1, horizon + 1)]
    stamps = pd.date_range(pd.Timestamp(last), periods=horizon + 1, freq=freq)[1:]
    return [format_time(s, "datetime") for s in stamps]


# ---------------------------------------------------------------------------------------------
# forecasts out


def forecast_frame(ids, last_times, freqs, kind: str, step: int, forecasts: np.ndarray,
                   extra: dict | None = None) -> pd.DataFrame:
    """Long table unique_id, ds, forecast (and any extra columns of the same shape)."""
    horizon = forecasts.shape[1]
    rows = {
        "unique_id": np.repeat(np.asarray(ids, dtype=object), horizon),
        "ds": _future_column(last_times, freqs, kind, step, horizon),
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
    texts = _iso_texts(start[:, None] + tick[:, None] * np.arange(1, horizon + 1)).tolist()
    return dict(zip(starts, texts))


def _whole_second_ns(last) -> int | None:
    """`last` (ISO text) as ns since the epoch, if it is a naive timestamp of whole seconds."""
    try:
        stamp = pd.Timestamp(last)
        value = stamp.value
    except (ValueError, TypeError, OverflowError):
        return None
    return value if stamp.tz is None and value % 10**9 == 0 else None


def _iso_texts(stamps: np.ndarray) -> np.ndarray:
    """format_time(t, "datetime") of timestamps of whole seconds (ns since the epoch): the
    date alone at midnight, else date and time (ISO, 'T' between)."""
    seconds = stamps // 10**9
    texts = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return np.where(seconds % 86_400 == 0, texts.astype("U10"), texts)


def write_frame(frame: pd.DataFrame, fmt: str, stream) -> None:
    """Write a table as CSV or JSON records (floats at full precision)."""
    if fmt == "json":
        stream.write(frame.to_json(orient="records", double_precision=15))
        stream.write("\n")
        return
    text = _csv_text(frame)
    if text is None:
        frame.to_csv(stream, index=False, lineterminator="\n")
    else:
        stream.write(text)


def _csv_text(frame: pd.DataFrame) -> str | None:
    """frame.to_csv(index=False, lineterminator="\n"), byte for byte, for the tables this tool
    writes: two or more columns of floats, whole numbers or text with nothing to quote, each
    converted as pandas converts it.  None for any other table (pandas writes it)."""
    cells = [_csv_cells(frame[name]) for name in frame.columns]
    if len(cells) < 2 or any(c is None for c in cells) or not _plain(frame.columns):
        return None
    header = ",".join(frame.columns) + "\n"
    return header + "".join([",".join(row) + "\n" for row in zip(*cells)])


def _csv_cells(column: pd.Series) -> list | None:
    """A column's CSV texts as pandas' to_csv makes them: float64 by NumPy's astype(str)
    (shortest round-trip), NaN as ''; int64 as decimal digits; text as it is.  None for other
    dtypes and for text with missing cells or characters to quote."""
    values = column.to_numpy()
    if values.dtype == np.float64:
        texts = values.astype(str)
        texts[np.isnan(values)] = ""
        return texts.tolist()
    if values.dtype == np.int64:
        return values.astype(str).tolist()
    if values.dtype == object and _plain(pd.unique(values)):
        return values.tolist()
    return None


def _plain(texts) -> bool:
    """Whether every item is a string the csv module writes as it is (no quoting)."""
    return all(isinstance(t, str) and not any(c in t for c in ',"\r\n') for t in texts)
