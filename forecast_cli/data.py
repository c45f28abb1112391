"""pandas at the edge, going in: CSV (path or stdin) → plain NumPy series.

Accepted layouts:
  * long format — an id column (default `unique_id`), a time column (`ds`) and a value
    column (`y`); other names through `id_col`, `time_col`, `target_col`;
  * one series — a time column and a value column, or a value column alone;
  * wide — a time column and one numeric column per series (`--wide` to insist, `--long` to
    refuse): recognised when no target is named, the time column does not repeat a stamp and
    several numeric columns are left; the series are named after their columns.
When the default names are absent the columns are recognised: the one that reads as dates is
the time, the one numeric column left is the target.

The file's dialect (encoding, separator, decimal mark, thousands separator: dialect.py) is
told from its first bytes and said on stderr when it is not plain comma/dot/UTF-8; csvfile.py
reads the file; dates.py reads the time column, its format decided once for the whole column;
series.py cuts off the future (rows at the end with a time and no value), infers frequencies
and fills gaps.  Long files whose columns are named take a fast path (fastpath.py).  Values
must be finite and within ±1e100 (MAX_ABS_VALUE).  Everything a user can get wrong ends in a
DataError with one line that says what, where, and the flag that fixes it when one does.
Forecasts go out through output.py.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from . import fastpath
from .config import FIELDS, Config
from .csvfile import ids_as_written, listed, name, read_bytes, read_errors, read_table, rereadable, sample, shown
from .dates import looks_like_times, parse_times
from .dialect import Dialect, detect, number_hint, to_numbers
from .errors import DataError
from .series import MAX_ABS_VALUE, SeriesData, assemble, split_by_id

__all__ = ["MAX_ABS_VALUE", "SeriesData", "load_series", "pick_columns"]

log = logging.getLogger("forecast_cli")

DATE_HINTS = ("ds", "date", "time", "timestamp", "datetime", "month", "period", "week", "day", "year", "quarter")
READING_OPTIONS = ("sep", "decimal", "thousands", "encoding", "date_format", "dayfirst", "wide", "long")
STEP_HINTS = ("t", "step", "steps", "index", "idx")
FLAGS = {"id_col": "--id-col", "time_col": "--time-col", "target_col": "--target-col"}


def load_series(source: str, config: Config, expected_by: str | None = None) -> SeriesData:
    """Read a CSV into series, per the module docstring.  Long files whose columns are named
    take a fast path; whatever it does not cover, every error included, is left to the
    general path, so that both give the same series, warnings and messages."""
    if config.wide and config.long:
        raise DataError("--wide and --long contradict each other; give one")
    content = None
    if not rereadable(source):
        with read_errors(source):
            content = read_bytes(source)
    dialect = detect(sample(source, content), config)
    if dialect.notes:
        log.warning("%s %s", name(source), dialect.notes)
    series = fastpath.load_fast(source, content, config, dialect)
    if series is None:
        series = load_general(source, content, config, dialect, expected_by)
    series.reading = {key: getattr(config, key) for key in READING_OPTIONS if getattr(config, key) != FIELDS[key].default}
    return series


def load_general(source: str, content: bytes | None, config: Config, dialect: Dialect,
                 expected_by: str | None = None) -> SeriesData:
    """Any CSV: every column read as text, then checked, converted and split by id."""
    frame, dialect = read_table(source, content, dialect)
    frame = _without_trailing_blank_rows(frame)
    columns = pick_columns(frame, config, dialect, expected_by)
    if columns["target_col"] is None:
        return _load_wide(frame, columns, config, dialect)
    values = _target_values(frame, columns["target_col"], dialect)
    kind, times, style = _time_values(frame, columns["time_col"], config)
    if columns["id_col"]:
        ids = _id_texts(frame, columns["id_col"], source, content, dialect).str.strip().to_numpy()
    else:
        ids = np.full(len(frame), columns["target_col"], dtype=object)
    if times is None:
        times = np.zeros(len(frame), dtype=np.int64)
        for key in dict.fromkeys(ids):  # steps 0, 1, 2 … within each series, in file order
            rows = ids == key
            times[rows] = np.arange(rows.sum())
    hint = "" if columns["id_col"] else _id_hint(frame, columns)
    keys, all_times, all_values = zip(*split_by_id(ids, times, values, hint))
    return assemble(keys, all_times, all_values, kind, columns, config.missing, style)


def _without_trailing_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows up to the last with anything in it (spreadsheets leave empty rows below)."""
    if frame.shape[1] < 2:
        return frame
    filled = np.flatnonzero(frame.notna().any(axis=1).to_numpy())
    return frame.iloc[:filled[-1] + 1] if len(filled) else frame


# ---------------------------------------------------------------------------------------------
# which columns


def pick_columns(frame: pd.DataFrame, config: Config, dialect: Dialect, expected_by: str | None = None) -> dict:
    """Which columns hold the id, the time and the target (id and time may be None; the
    target is None for a wide file: every numeric column is a series).  `expected_by` names
    who asked for the configured names (e.g. a model file), for messages."""
    cols = list(frame.columns)

    def chosen(key):
        column = getattr(config, key)
        if column in cols:
            return column
        if column != FIELDS[key].default:
            asker = f"the model {expected_by} was trained with" if expected_by else f"given as {key}"
            raise DataError(f"unknown column {column!r} ({asker}); the file has: {listed(cols)}; "
                            f"name yours with {FLAGS[key]}")
        return None

    id_col, time_col, target_col = chosen("id_col"), chosen("time_col"), chosen("target_col")
    if time_col is None:
        time_col = _time_column(frame, [c for c in cols if c not in (id_col, target_col)])
    columns = {"id_col": id_col, "time_col": time_col, "target_col": None if config.wide else target_col}
    if columns["target_col"] is None:
        numeric = [c for c in cols if c not in (id_col, time_col) and _numeric_share(frame[c], dialect) >= 0.5]
        if not numeric:
            raise DataError(f"no numeric column to forecast (columns: {listed(cols)}); name one with --target-col")
        if len(numeric) == 1 and not config.wide:
            columns["target_col"] = numeric[0]
        elif not _wide(frame, columns, config):
            raise DataError(f"several numeric columns ({listed(numeric)}); choose one with --target-col"
                            + _id_hint(frame, columns, numeric))
        else:
            columns["targets"] = numeric
    return columns


def _time_column(frame: pd.DataFrame, candidates: list) -> str | None:
    """The first candidate that reads as times, those named like one tried first; or else the
    first named like one (or t, step, index) that holds whole numbers: integer steps."""
    hinted = [c for c in candidates if c.lower() in DATE_HINTS or any(h in c.lower() for h in ("date", "time"))]
    for c in hinted + [c for c in candidates if c not in hinted]:
        if looks_like_times(frame[c]):
            return c
    for c in hinted + [c for c in candidates if c.lower() in STEP_HINTS]:
        steps = pd.to_numeric(frame[c], errors="coerce")
        if steps.notna().all() and (steps == steps.round()).all():
            return c
    return None


def _wide(frame: pd.DataFrame, columns: dict, config: Config) -> bool:
    """Whether to read every numeric column as a series: --wide, or else (not --long) a time
    column that repeats no stamp and no id column."""
    if config.wide:
        if columns["time_col"] is None:
            raise DataError("--wide needs a time column (name it with --time-col)")
        return True
    return (not config.long and columns["time_col"] is not None and columns["id_col"] is None
            and not frame[columns["time_col"]].str.strip().duplicated().any())


def _id_hint(frame: pd.DataFrame, columns: dict, numeric=()) -> str:
    """Where the time column repeats stamps: the hint naming a column that tells the series
    apart (each of its values with each stamp once), text columns first; '' if none does."""
    time_col = columns["time_col"]
    if time_col is None or not frame[time_col].duplicated().any():
        return ""
    others = [c for c in frame.columns if c not in (time_col, columns["target_col"])]
    others.sort(key=lambda c: c in numeric)
    for c in others:
        if frame[c].notna().all() and not frame.duplicated([c, time_col]).any():
            target = [n for n in numeric if n != c]
            also = f" --target-col {target[0]}" if len(target) == 1 else ""
            return f"; the times repeat: if column {shown(c)} names the series, say --id-col {c}{also}"
    return "; the times repeat: name the column that tells the series apart with --id-col"


def _load_wide(frame: pd.DataFrame, columns: dict, config: Config, dialect: Dialect) -> SeriesData:
    """One series per numeric column of a wide file, named after it."""
    targets = columns.pop("targets")
    kind, times, style = _time_values(frame, columns["time_col"], config)
    log.warning("read as a wide file: %d series, one per column (%s); --long to refuse", len(targets),
                listed(targets[:5]) + (", …" if len(targets) > 5 else ""))
    keys, all_times, all_values = [], [], []
    for column in targets:
        values = _target_values(frame, column, dialect)
        (key, t, v), = split_by_id(np.full(len(frame), column, dtype=object), times, values)
        keys.append(key), all_times.append(t), all_values.append(v)
    return assemble(keys, all_times, all_values, kind, columns, config.missing, style, starts_late=True)


# ---------------------------------------------------------------------------------------------
# values, times, ids


def _numeric_share(column: pd.Series, dialect: Dialect) -> float:
    present = column.dropna()
    if present.empty:
        return 0.0
    return float(to_numbers(present, dialect).notna().mean())


def _target_values(frame: pd.DataFrame, col: str, dialect: Dialect) -> np.ndarray:
    raw = frame[col]
    values = to_numbers(raw, dialect)
    bad = values.isna() & raw.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        text = raw.iloc[row]
        raise DataError(f"column {col!r} holds text: {text!r} in data row {row + 1}{number_hint(str(text), dialect)}")
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


def _time_values(frame: pd.DataFrame, col: str | None, config: Config):
    """(kind, times, style) of the time column (dates.parse_times); integer steps, None and
    None without one."""
    if col is None:
        return "integer", None, None
    raw = frame[col]
    if raw.isna().any():
        row = int(np.flatnonzero(raw.isna().to_numpy())[0])
        raise DataError(f"time column {col!r} is empty in data row {row + 1}")
    return parse_times(raw, col, config)


def _id_texts(frame: pd.DataFrame, column: str, source: str, content: bytes | None, dialect: Dialect) -> pd.Series:
    """The id column as written (see csvfile.ids_as_written)."""
    ids = frame[column]
    if ids.isna().any():
        again = ids_as_written(source, content, dialect, list(frame.columns).index(column), len(ids))
        ids = again if again is not None else ids.fillna("")
    return ids.astype(str)
