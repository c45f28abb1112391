"""The fast path for long files whose columns are named: what data.load_general gives, in
whole-array steps.

For files whose time and target columns are named (by the config or the defaults), nothing is
detected from the data: the id and time columns are read as categories (each distinct text
converted once, not once per row), the target as float64 in the file's dialect, rows grouped
and sorted by whole-array operations; a big file is parsed in pieces side by side
(csvfile.in_pieces).  Wherever the general path might decide otherwise (an error to report, a
column to detect, anything unusual) load_fast returns None and leaves the file to it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections import defaultdict

import numpy as np
import pandas as pd

from .config import FIELDS, Config
from .csvfile import as_expected, ids_as_written, in_pieces, parse
from .dates import parse_times
from .dialect import Dialect
from .errors import DataError
from .series import MAX_ABS_VALUE, SeriesData, assemble

log = logging.getLogger("forecast_cli")


def load_fast(source: str, content: bytes | None, config: Config, dialect: Dialect) -> SeriesData | None:
    """What data.load_general gives (per the module docstring), or None.  The notes said on
    the way are held back until the path answers — the series, or the error the general path
    would raise too — so that they are not said twice when it leaves the file to that path."""
    error = None
    with _held_notes() as held:
        try:
            series = _load(source, content, config, dialect)
        except DataError as exc:
            series, error = None, exc
    if series is not None or error is not None:
        for record in held:
            log.handle(record)
    if error is not None:
        raise error
    return series


@contextlib.contextmanager
def _held_notes():
    """The package's log records made meanwhile, kept instead of emitted."""
    held = []

    def hold(record) -> bool:
        held.append(record)
        return False

    log.addFilter(hold)
    try:
        yield held
    finally:
        log.removeFilter(hold)


def _load(source: str, content: bytes | None, config: Config, dialect: Dialect) -> SeriesData | None:
    named = _named_columns(source, content, config, dialect)
    if named is None:
        return None
    header, raw, columns = named
    frame = _read_typed(source, content, dialect, header, raw)
    if frame is None:
        return None
    values = _clean_target(frame[raw["target_col"]])
    timed = _category_times(frame[raw["time_col"]], columns["time_col"], config)
    if values is None or timed is None:
        return None
    kind, times, style = timed
    if raw["id_col"] is None:
        keys, series = [columns["target_col"]], np.zeros(len(frame), dtype=np.intp)
    else:
        numbered = _ids(frame[raw["id_col"]], source, content, dialect)
        if numbered is None:
            return None
        keys, series = numbered
    split = _split_sorted(series, times, values)
    if split is None:
        return None
    return assemble(keys, *split, kind, columns, config.missing, style)


def _named_columns(source: str, content: bytes | None, config: Config, dialect: Dialect):
    """(header, raw names, columns) when the configured or default time and target columns are
    in the header — three distinct columns, the id optional; None otherwise.  `raw` maps each
    key to the column's name as written (before stripping), `columns` is what pick_columns
    would return."""
    try:
        header = list(parse(source, content, dialect, nrows=0, dtype=str).columns)
    except (ValueError, OSError, DataError):  # the general path reports it
        return None
    names = [str(c).strip() for c in header]
    if len(set(names)) < len(names):
        return None
    raw = {key: header[names.index(getattr(config, key))] if getattr(config, key) in names else None
           for key in ("id_col", "time_col", "target_col")}
    if raw["time_col"] is None or raw["target_col"] is None or len(set(raw.values())) < 3:
        return None
    if raw["id_col"] is None and config.id_col != FIELDS["id_col"].default or config.wide:
        return None  # an unknown id column (an error), or a wide file
    return header, raw, {key: str(name).strip() if name is not None else None for key, name in raw.items()}


def _read_typed(source: str, content: bytes | None, dialect: Dialect, header: list, raw: dict) -> pd.DataFrame | None:
    """The whole file, the target as float64 and every other column as a category; None if
    that fails, warns, or gives other columns or rows than reading it as text would."""
    dtype = defaultdict(lambda: "category", {raw["target_col"]: "float64"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning here: let the general path read it
            frame = in_pieces(source, content, dialect, header, raw["target_col"], dtype)
            if frame is None:
                frame = parse(source, content, dialect, typed=True, dtype=dtype)
    except (ValueError, OSError, Warning):
        return None
    if not as_expected(frame, header):
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


def _category_times(column: pd.Series, name: str, config: Config):
    """(kind, times, style) as dates.parse_times gives them, converting each distinct text
    once; None if a cell is empty or a text is not a time.  The distinct texts are taken in
    order of first appearance, so the date format pandas infers from the first one is the same."""
    codes, texts = column.cat.codes.to_numpy(), column.cat.categories
    if (codes < 0).any():
        return None
    if texts.dtype.kind in "iuf":
        return _numeric_times(texts.to_numpy(), codes) if config.date_format == "auto" else None
    if not pd.api.types.is_string_dtype(texts):   # pandas 3's str, or object holding text (pandas 2)
        return None
    seen = pd.unique(codes)
    try:
        kind, parsed, style = parse_times(pd.Series(texts[seen], dtype=object), name, config)
    except DataError:
        return None
    position = np.empty(len(texts), dtype=np.intp)
    position[seen] = np.arange(len(seen))
    return kind, parsed[position[codes]], style


def _numeric_times(numbers: np.ndarray, codes: np.ndarray):
    """("integer", times) of a time column read_csv turned into numbers — with pd.to_numeric,
    as parse_times does — if they are whole; None otherwise (dates are parsed from the text)."""
    if not np.all(numbers == np.round(numbers)):
        return None
    return "integer", numbers.astype(np.int64)[codes], None


def _ids(column: pd.Series, source: str, content: bytes | None, dialect: Dialect):
    """(ids, each row's series number) from the id column read as a category.  Where read_csv
    made numbers or booleans of the ids, their text is lost ('01' and '1' became one), and
    where it took a text such as NA for a missing value (code −1), the series' name is: then
    the column is read again as written (csvfile.ids_as_written).  None if that fails."""
    codes = column.cat.codes.to_numpy()
    if pd.api.types.is_string_dtype(column.cat.categories) and not (codes < 0).any():
        return _numbered_ids(codes, column.cat.categories)
    try:
        texts = ids_as_written(source, content, dialect, column.name, len(column))
    except (ValueError, OSError):
        return None
    return _numbered_ids(*pd.factorize(texts)) if texts is not None else None


def _numbered_ids(codes: np.ndarray, texts):
    """(ids, each row's series number) from each row's code into `texts`: ids as load_general
    makes them (stripped text), numbered in order of first appearance."""
    texts = [str(t).strip() for t in texts]
    group_of_text, keys = pd.factorize(np.array(texts, dtype=object))
    groups = group_of_text[codes]
    order = pd.unique(groups)
    rank = np.empty(len(keys), dtype=np.intp)
    rank[order] = np.arange(len(order))
    return [str(keys[g]) for g in order], rank[groups]


def _split_sorted(series: np.ndarray, times: np.ndarray, values: np.ndarray):
    """(each series' times, each one's values), sorted by time as series.split_by_id sorts them
    (rows already in that order are not moved); None if a series repeats a timestamp."""
    clock = times.view(np.int64)
    if not _grouped_and_rising(series, clock):
        order = np.lexsort((clock, series))  # stable, like split_by_id's sort
        series, times, values, clock = series[order], times[order], values[order], clock[order]
        if not _grouped_and_rising(series, clock):
            return None
    cuts = np.flatnonzero(np.diff(series)) + 1
    return np.split(times, cuts), np.split(values, cuts)


def _grouped_and_rising(series: np.ndarray, clock: np.ndarray) -> bool:
    """Whether rows go series by series, in increasing order, each one's times strictly rising."""
    step = np.diff(series)
    return bool(((step > 0) | ((step == 0) & (np.diff(clock) > 0))).all())
