"""Assembling series: each one's sorted times and values → SeriesData, the plain NumPy form
the core takes (with what puts timestamps on forecasts).

Per series: rows at the end with a time and no value are the future (cut off, with a note:
not filled, not trained on; forecasts start after the last value); the frequency is inferred
and missing timestamps re-inserted (timeline.py); missing values are filled per `missing`.
A series' duplicate timestamps are an error, with the hint that names the fix when one is
known (e.g. the column that tells series apart: --id-col).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import DataError
from .timeline import _even_spacing, _regularise, fill_missing, format_time, infer_frequency, period_ordinal

log = logging.getLogger("forecast_cli")

# Larger magnitudes are refused: scaling squares values (standard deviations over windows and
# over all the data), which overflows float64 beyond about 1e154 and would leave infinite or
# NaN forecasts; no measured quantity comes near 1e100.
MAX_ABS_VALUE = 1e100


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
    style: str | None = None                     # how the file writes stamps, if not ISO (dates.stamp_texts)
    reading: dict = field(default_factory=dict)  # the reading options given (sep, dayfirst …), to read the like again

    def phase0(self) -> list:
        """Each series' first value's position on the data's clock (periods since a fixed
        origin; the model takes it modulo the season, giving hour of day, month of year …)."""
        return [period_ordinal(t[0], self.time_kind, f) for t, f in zip(self.times, self.freqs)]

    def subset(self, keep) -> "SeriesData":
        """The same data restricted to the series at positions `keep`."""
        pick = lambda items: [items[k] for k in keep]  # noqa: E731
        return SeriesData(pick(self.ids), pick(self.values), pick(self.times), self.time_kind, self.freq,
                          self.step, self.columns, pick(self.freqs), self.style, self.reading)

    def info(self) -> dict:
        """JSON-able facts for the model file, so `predict` can continue these series."""
        facts = {"columns": self.columns, "time_kind": self.time_kind, "freq": self.freq, "step": self.step,
                 "freqs": self.freqs, "last_times": [format_time(t[-1], self.time_kind) for t in self.times]}
        return {**facts, **({"time_style": self.style} if self.style else {}),
                **({"reading": self.reading} if self.reading else {})}


def assemble(keys, all_times, all_values, kind: str, columns: dict, missing: str, style: str | None = None,
             starts_late: bool = False) -> SeriesData:
    """Series from each one's sorted times and values: the future cut off, frequencies
    inferred, missing timestamps re-inserted, missing values filled.  `starts_late`: rows
    before a series' first value are not its own either (a wide file's later series)."""
    all_times, all_values = zip(*(_observed(key, t, v, starts_late)
                                  for key, t, v in zip(keys, all_times, all_values)))
    spacings = [_even_spacing(t) for t in all_times]
    freqs, step = infer_frequency(all_times, kind, spacings)
    common = Counter(f for f in freqs if f).most_common(1)
    out = SeriesData([], [], [], kind, common[0][0] if common else None, step, columns, freqs, style)
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


def _observed(key, t: np.ndarray, v: np.ndarray, starts_late: bool):
    """(times, values) from the first value (if `starts_late`) to the last: rows after the
    last value are the future — said, not filled and not trained on.  A series with no value
    at all is an error here, before anything is inferred from its times."""
    present = np.flatnonzero(~np.isnan(v))
    if not len(present):
        raise DataError(f"series {key!r} has no values: all are missing")
    if (present[-1] == len(v) - 1 and not (starts_late and present[0])):
        return t, v
    first = present[0] if starts_late else 0
    future = len(v) - 1 - present[-1]
    if future:
        log.warning("series %s: %d rows after its last value (from %s) have no value: taken as the future, not "
                    "filled nor trained on; forecasts start after %s", key, future, format_time(t[present[-1] + 1], "auto"),
                    format_time(t[present[-1]], "auto"))
    return t[first:present[-1] + 1], v[first:present[-1] + 1]


def split_by_id(ids, times, values, hint: str = ""):
    """[(id, sorted times, values)] in order of first appearance; duplicate times are an error
    (`hint` ends its message)."""
    order = pd.Series(np.arange(len(ids))).groupby(pd.Series(ids), sort=False).indices
    groups = []
    for key, rows in order.items():
        rows = rows[np.argsort(times[rows], kind="stable")]
        t, v = times[rows], values[rows]
        dup = np.flatnonzero(t[1:] == t[:-1])
        if len(dup):
            raise DataError(f"series {key!r} has duplicate timestamps ({format_time(t[dup[0]], 'auto')}){hint}")
        groups.append((str(key), t, v))
    return groups
