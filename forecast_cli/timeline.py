"""Each series' time axis (pandas): its sampling frequency inferred, the series put on that
grid, its missing values filled; and the clock that puts timestamps on forecasts.

Frequencies are pandas offset aliases ("h", "15min", "D", "W-SUN", "MS" …), or None for
integer steps and data whose frequency cannot be told; what one implies for the model (season,
horizon) is frequency.py's, which needs no pandas.  infer_frequency: pandas' inference on each
series or on its gap-free stretches, series too short to tell borrowing the most common alias;
when no series has one that way, each one's most common spacing if it is a fixed duration.
_regularise re-inserts missing timestamps inside a series (with a warning) as NaN values, which
fill_missing fills per the `missing` policy (interpolate, ffill, or error).  Timestamps off the
grid, a series with no values, and missing values under `missing` error end in a DataError
with one line that names the series.

The clock: period_ordinal (a time's position on the data's clock, for the seasonal phase),
format_time (a time as the model file and the forecasts carry it: an integer step, an ISO date
at midnight, else ISO date and time), future_times (the `horizon` timestamps after a series'
last).
"""

from __future__ import annotations

import functools
import logging
import re
import warnings
from collections import Counter

import numpy as np
import pandas as pd

from .errors import DataError

log = logging.getLogger("forecast_cli")


# ---------------------------------------------------------------------------------------------
# frequency, gaps, missing values


def _infer_freq(index: pd.DatetimeIndex) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            freq = pd.infer_freq(index)
        except (TypeError, ValueError):
            return None
    return _canonical(getattr(freq, "freqstr", freq))


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _canonical(freq: str | None) -> str | None:
    """One alias for one grid whatever the pandas version: quarter starts are named as pandas
    2 names them (QS-OCT for January, April, July and October; QS-NOV, QS-DEC), where pandas 3
    names the same grids QS-JAN, QS-FEB, QS-MAR — otherwise a model trained on one version
    would find the data's frequency differs from its own (cli: predict's warning) on the other."""
    match = re.fullmatch(r"(\d*)QS-([A-Z]{3})", freq or "")
    if not match or match.group(2) not in _MONTHS:
        return freq
    return f"{match.group(1)}QS-{_MONTHS[9 + _MONTHS.index(match.group(2)) % 3]}"


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


# a series whose grid would hold more than this many times its values (plus a margin) is
# misread, not gappy: re-inserting its stamps would invent nearly all of it (and may not fit
# in memory: integer steps 0 and 10^12)
MAX_GRID_FACTOR, MAX_GRID_EXTRA = 100, 10_000


def _regularise(key, t, v, kind, freq, step, spacing: int = 0, grids: dict | None = None):
    """Put a series on its frequency grid; missing timestamps get NaN values (and a warning).
    `spacing`, the series' _even_spacing, spares building the grid when it is the grid's own;
    `grids` keeps the date grids built, for series with the same first and last times."""
    grid_step = _grid_step(kind, freq, step)
    if spacing and spacing == grid_step:
        return t, v, 0
    if grid_step and _grid_size(t, grid_step) > MAX_GRID_FACTOR * len(t) + MAX_GRID_EXTRA:
        raise DataError(f"series {key!r} has {len(t)} values spread over {_grid_size(t, grid_step)} steps of its "
                        f"{freq or f'step-{step}'} grid; check the time column (--time-col, --date-format)")
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


def _grid_size(t: np.ndarray, grid_step: int) -> int:
    """Points of the grid from t[0] to t[-1] at a fixed step (steps, or ns for dates)."""
    return int((int(t[-1].astype(np.int64)) - int(t[0].astype(np.int64))) // grid_step) + 1


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


def format_time(t, kind: str, clock: bool = False) -> str | int:
    """An integer step as it is; a timestamp as ISO text — the date alone at midnight unless
    `clock` (the times of a sub-daily series: every one with its time of day, so that a column
    of them has one format)."""
    if kind == "integer" or isinstance(t, (int, np.integer)):
        return int(t)
    stamp = pd.Timestamp(t)
    return stamp.isoformat() if clock or stamp.hour or stamp.minute or stamp.second else stamp.date().isoformat()


def sub_daily(freq: str | None) -> bool:
    """Whether `freq` is a fixed duration shorter than a day (h, 30min, s …)."""
    return bool(freq) and 0 < _fixed_nanos(freq) < DAY_NS


def future_times(last, kind: str, freq: str | None, step: int, horizon: int) -> list:
    """The `horizon` timestamps after `last` (ISO text or int): by `freq` for datetimes, by
    `step` for integer steps, and 1, 2, … after the end when the frequency is unknown."""
    if kind == "integer" or freq is None:
        start = last if isinstance(last, (int, np.integer)) else 0
        return [int(start) + step * k for k in range(1, horizon + 1)]
    stamps = pd.date_range(pd.Timestamp(last), periods=horizon + 1, freq=freq)[1:]
    return [format_time(s, "datetime", sub_daily(freq)) for s in stamps]
