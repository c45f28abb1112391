"""pandas at the edge, going in: CSV (path or stdin) → plain NumPy series.

Accepted layouts:
  * long format — an id column (default `unique_id`), a time column (`ds`) and a value
    column (`y`); other names through `id_col`, `time_col`, `target_col`;
  * one series — a time column and a value column, or a value column alone.
When the default names are absent the columns are recognised: the one that parses as dates is
the time, the one numeric column left is the target.

Each series is sorted by time; timeline.py infers its frequency so forecasts carry future
timestamps, re-inserts missing timestamps inside it (with a warning) and fills missing values
per `missing` (interpolate, ffill, or error).  Values must be finite and within ±1e100
(MAX_ABS_VALUE).  Everything a user can get wrong ends in a DataError with one line that says
what and where.  Forecasts go out through output.py.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from .config import FIELDS, Config
from .errors import DataError
from .timeline import _even_spacing, _regularise, fill_missing, format_time, infer_frequency, period_ordinal

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


def read_table(source: str, content: bytes | None = None) -> pd.DataFrame:
    """Read CSV text from a path or '-' (stdin) as strings; a UTF-8 BOM and CRLF are fine.
    `content`, when given, is the bytes the source held (read before, see _read_bytes)."""
    with _read_errors(source):
        frame = _parse(source, content, dtype=str)
    frame.columns = [str(c).strip() for c in frame.columns]
    repeated = [c for c, n in Counter(frame.columns).items() if n > 1]
    if repeated:
        raise DataError(f"{_name(source)} has two columns named {_shown(repeated[0])}; rename one")
    if frame.empty:
        raise DataError(f"{_name(source)} has a header but no rows")
    return frame


def _parse(source: str, content: bytes | None, **options) -> pd.DataFrame:
    """pd.read_csv of `content`, or else of the file `source`, with the options every reading
    shares.  Bytes, not text: pandas' parser decodes them itself (a UTF-8 BOM dropped, line
    endings as written), while text it encodes back to bytes first (169 MB from stdin: 0.9 s
    from text, 0.5 s from bytes)."""
    with _binary(source, content) as handle:
        return pd.read_csv(handle, skipinitialspace=True, encoding="utf-8-sig", **options)


def _rereadable(source: str) -> bool:
    """Whether `source` can be read twice (a regular file, not stdin or a pipe)."""
    return source != "-" and os.path.isfile(source)


def _read_bytes(source: str) -> bytes:
    """The whole of `source` ('-' is stdin), for sources that can be read only once."""
    if source == "-":
        if sys.stdin is None:   # started with stdin closed (`<&-`)
            raise DataError("standard input is closed; give a CSV file or pipe one in")
        return sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    with _binary(source, None) as handle:
        return handle.read()


def _binary(source: str, content: bytes | None):
    """`content` (what a source that reads once held), or else the file `source`, as a binary file."""
    if content is not None:
        return io.BytesIO(content)   # shares the bytes, no copy
    if os.path.isdir(source):
        raise DataError(f"{source} is a directory, not a CSV file")
    return open(source, "rb")


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
    content = None
    if not _rereadable(source):
        with _read_errors(source):
            content = _read_bytes(source)
    series = _load_fast(source, content, config)
    return series if series is not None else _load_general(source, content, config, expected_by)


def _load_general(source: str, content: bytes | None, config: Config, expected_by: str | None = None) -> SeriesData:
    """Any CSV: every column read as text, then checked, converted and split by id."""
    frame = read_table(source, content)
    columns = pick_columns(frame, config, expected_by)
    values = _target_values(frame, columns["target_col"])
    kind, times = _time_values(frame, columns["time_col"])
    if columns["id_col"]:
        ids = _id_texts(frame, columns["id_col"], source, content).str.strip().to_numpy()
    else:
        ids = np.full(len(frame), columns["target_col"], dtype=object)
    if times is None:
        times = np.zeros(len(frame), dtype=np.int64)
        for key in dict.fromkeys(ids):  # steps 0, 1, 2 … within each series, in file order
            rows = ids == key
            times[rows] = np.arange(rows.sum())
    keys, all_times, all_values = zip(*_split_by_id(ids, times, values))
    return _assemble(keys, all_times, all_values, kind, columns, config.missing)


def _id_texts(frame: pd.DataFrame, name: str, source: str, content: bytes | None) -> pd.Series:
    """The id column as written (see _ids_as_written)."""
    ids = frame[name]
    if ids.isna().any():
        again = _ids_as_written(source, content, list(frame.columns).index(name), len(ids))
        ids = again if again is not None else ids.fillna("")
    return ids.astype(str)


def _ids_as_written(source: str, content: bytes | None, column, rows: int) -> pd.Series | None:
    """The id column (a name or a position) read again as text with nothing taken for a missing
    value; None unless it has `rows` rows.  read_csv takes texts such as NA, None or null for
    missing values, but as ids they name series (NA is Namibia, or North America); an empty
    cell is the id ''."""
    texts = _parse(source, content, usecols=[column], dtype=str, na_filter=False).iloc[:, 0]
    return texts if len(texts) == rows else None


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


def _load_fast(source: str, content: bytes | None, config: Config) -> SeriesData | None:
    """What _load_general gives, for files whose time and target columns are named (by the
    config or the defaults), so nothing is detected from the data: the id and time columns
    read as categories (each distinct text converted once, not once per row), the target as
    float64, rows grouped and sorted by whole-array operations.  None wherever the general
    path might decide otherwise: an error to report, a column to detect, anything unusual."""
    named = _named_columns(source, content, config)
    if named is None:
        return None
    header, raw, columns = named
    frame = _read_typed(source, content, header, raw)
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
        numbered = _ids(frame[raw["id_col"]], source, content)
        if numbered is None:
            return None
        keys, series = numbered
    split = _split_sorted(series, times, values)
    if split is None:
        return None
    return _assemble(keys, *split, kind, columns, config.missing)


def _named_columns(source: str, content: bytes | None, config: Config):
    """(header, raw names, columns) when the configured or default time and target columns are
    in the header — three distinct columns, the id optional; None otherwise.  `raw` maps each
    key to the column's name as written (before stripping), `columns` is what pick_columns
    would return."""
    try:
        header = list(_parse(source, content, nrows=0, dtype=str).columns)
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


def _read_typed(source: str, content: bytes | None, header: list, raw: dict) -> pd.DataFrame | None:
    """The whole file, the target as float64 and every other column as a category; None if
    that fails, warns, or gives other columns or rows than reading it as text would."""
    dtype = defaultdict(lambda: "category", {raw["target_col"]: "float64"})
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a warning here: let the general path read it
            frame = _in_pieces(source, content, header, raw["target_col"], dtype)
            if frame is None:
                frame = _parse(source, content, dtype=dtype)
    except (ValueError, OSError, Warning):
        return None
    if not _as_expected(frame, header):
        return None
    categories = [frame[raw[key]].dtype for key in ("id_col", "time_col") if raw[key] is not None]
    typed = frame[raw["target_col"]].dtype == np.float64 and all(isinstance(c, pd.CategoricalDtype) for c in categories)
    return frame if typed else None


def _as_expected(frame: pd.DataFrame, header: list) -> bool:
    """Rows under the header's columns (pandas makes an index of extra leading fields)."""
    return list(frame.columns) == header and isinstance(frame.index, pd.RangeIndex) and not frame.empty


# ---------------------------------------------------------------------------------------------
# a big file, in pieces side by side

PIECE_BYTES = 8 << 20   # a file is parsed in pieces of at least this many bytes, side by side,
PIECES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # one per core


def _in_pieces(source: str, content: bytes | None, header: list, target: str, dtype) -> pd.DataFrame | None:
    """_parse(source, content, dtype=dtype) for a big file, cut at line breaks outside quotes and
    its pieces parsed at once, one per core (pandas' parser lets go of the GIL: 169 MB took
    0.61 s in one piece, 0.36 s in two).  None for a small file, and wherever the pieces might
    not give what one parse gives: a piece that fails or does not read as expected (a cut
    inside a quoted field, after a stray quote), pieces that inferred different kinds of
    category (numeric ids in one, text in another) — one parse reads those."""
    size = len(content) if content is not None else os.path.getsize(source)
    cuts = _cuts(source, content, size, min(PIECES, 1 + size // PIECE_BYTES))
    if len(cuts) == 2:
        return None
    ranges = list(zip(cuts[:-1], cuts[1:]))
    try:
        with ThreadPoolExecutor(len(ranges)) as pool:
            frames = list(pool.map(lambda r: _parse_range(source, content, *r, header, dtype), ranges))
    except ValueError:            # pandas' ParserError among them
        return None
    frames = [f for f in frames if len(f)]   # a piece of blank lines has rows of no kind
    if not frames or not all(_as_expected(f, header) for f in frames):
        return None
    return _joined(frames, header, target)


def _cuts(source: str, content: bytes | None, size: int, pieces: int) -> list:
    """[0, c₁, …, size]: where pieces of about size/pieces bytes begin and the last ends, each cᵢ
    just after a line break with an even number of quote characters before it (so, in a
    well-formed file, not inside a quoted field).  At the first line break with an odd count,
    the cutting stops: the rest is one piece."""
    cuts, quotes = [0], 0
    for k in range(1, pieces):
        at = _find(source, content, b"\n", max(cuts[-1], size * k // pieces))
        if at < 0 or at + 1 >= size:
            break
        quotes += sum(block.count(b'"') for block in _blocks(source, content, cuts[-1], at))
        if quotes % 2:
            break
        cuts.append(at + 1)
    return cuts + [size]


def _find(source: str, content: bytes | None, byte: bytes, start: int) -> int:
    """Where `byte` (one) is first found from `start` on, or −1."""
    at = start
    for block in _blocks(source, content, start):
        found = block.find(byte)
        if found >= 0:
            return at + found
        at += len(block)
    return -1


def _blocks(source: str, content: bytes | None, start: int, end: int | None = None, size: int = 1 << 20):
    """The bytes from `start` to `end` (or the end), a block at a time: a file is not read whole."""
    with _binary(source, content) as handle:
        handle.seek(start)
        while end is None or start < end:
            block = handle.read(size if end is None else min(size, end - start))
            if not block:
                return
            yield block
            start += len(block)


def _parse_range(source: str, content: bytes | None, start: int, end: int, header: list, dtype) -> pd.DataFrame:
    """The rows in bytes `start` to `end` (the piece at 0 holds the header)."""
    names = {} if start == 0 else dict(names=header, header=None)
    with io.BufferedReader(_ByteRange(_binary(source, content), start, end)) as handle:
        return pd.read_csv(handle, skipinitialspace=True, dtype=dtype, encoding="utf-8-sig", **names)


class _ByteRange(io.RawIOBase):
    """Bytes `start` to `end` of a binary file object, as a file of their own."""

    def __init__(self, whole, start: int, end: int):
        self.whole = whole
        self.whole.seek(start)
        self.left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        got = self.whole.readinto(memoryview(buffer)[:self.left]) if self.left else 0
        self.left -= got
        return got

    def close(self) -> None:
        self.whole.close()
        super().close()


def _joined(frames: list, header: list, target: str) -> pd.DataFrame | None:
    """One frame from pieces parsed with the same dtypes, as one parse gives it: the target
    concatenated, each category column with the pieces' categories merged and sorted (as
    read_csv sorts them).  None where pieces inferred different kinds of category."""
    if len(frames) == 1:
        return frames[0]
    columns = {target: np.concatenate([f[target].to_numpy() for f in frames])}
    for name in header:
        if name != target:
            kinds = {f[name].cat.categories.dtype if isinstance(f[name].dtype, pd.CategoricalDtype) else None
                     for f in frames}
            if len(kinds) > 1 or None in kinds:
                return None
            columns[name] = union_categoricals([f[name] for f in frames], sort_categories=True)
    return pd.DataFrame({name: columns[name] for name in header})


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


def _ids(column: pd.Series, source: str, content: bytes | None):
    """(ids, each row's series number) from the id column read as a category.  Where read_csv
    made numbers or booleans of the ids, their text is lost ('01' and '1' became one), and
    where it took a text such as NA for a missing value (code −1), the series' name is: then
    the column is read again as written (_ids_as_written).  None if that fails."""
    codes = column.cat.codes.to_numpy()
    if isinstance(column.cat.categories.dtype, pd.StringDtype) and not (codes < 0).any():
        return _numbered_ids(codes, column.cat.categories)
    try:
        texts = _ids_as_written(source, content, column.name, len(column))
    except (ValueError, OSError):
        return None
    return _numbered_ids(*pd.factorize(texts)) if texts is not None else None


def _numbered_ids(codes: np.ndarray, texts):
    """(ids, each row's series number) from each row's code into `texts`: ids as _load_general
    makes them (stripped text), numbered in order of first appearance."""
    texts = [str(t).strip() for t in texts]
    group_of_text, keys = pd.factorize(np.array(texts, dtype=object))
    groups = group_of_text[codes]
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
