"""What a sampling frequency implies: the season length and a sensible forecast horizon.

Frequencies are pandas offset aliases ("h", "30min", "D", "W-SUN", "MS", "QE-DEC", "YS" …) or
None when the data has no timestamps.  Horizons follow the M4 competition's (48 hourly,
14 daily, 13 weekly, 18 monthly, 8 quarterly, 6 yearly); seasons are the usual calendar
cycles (a day of hours, a week of days, a year of weeks, months or quarters).
"""

from __future__ import annotations

import re

import numpy as np

UNKNOWN_HORIZON = 12

# base alias → (season, horizon)
_BY_BASE = {
    "h": (24, 48),
    "d": (7, 14),
    "b": (5, 10),
    "w": (52, 13),
    "m": (12, 18), "ms": (12, 18), "me": (12, 18),
    "q": (4, 8), "qs": (4, 8), "qe": (4, 8),
    "y": (1, 6), "ys": (1, 6), "ye": (1, 6), "a": (1, 6), "as": (1, 6),
}
_MINUTES_PER_UNIT = {"min": 1, "t": 1, "s": 1 / 60}


def _split(freq: str):
    """'30min' → (30, 'min'); 'W-SUN' → (1, 'w'); 'QE-DEC' → (1, 'qe')."""
    match = re.fullmatch(r"(\d*)([A-Za-z]+)(?:-[A-Za-z]+)?", freq.strip())
    if not match:
        return None, None
    return int(match.group(1) or 1), match.group(2).lower()


def season_and_horizon(freq: str | None) -> tuple[int, int]:
    """(season, horizon) for a frequency; (1, 12) when it is unknown."""
    if not freq:
        return 1, UNKNOWN_HORIZON
    n, base = _split(freq)
    if base in _BY_BASE:
        season, horizon = _BY_BASE[base]
        if base == "h" and n > 1 and 24 % n == 0:
            return 24 // n, 48 // n
        return (season, horizon) if n == 1 else (1, UNKNOWN_HORIZON)
    if base in _MINUTES_PER_UNIT:
        minutes = n * _MINUTES_PER_UNIT[base]
        per_day = 1440 / minutes
        if per_day == int(per_day) and per_day <= 288:  # up to 5-minute data: a day is the season
            return int(per_day), int(per_day)
    return 1, UNKNOWN_HORIZON


def is_daily_cycle(season: int) -> bool:
    """Whether a season length is one day of sub-daily steps (24 hourly, 48 half-hourly, 96
    quarter-hourly, …, 288 five-minutely) — data that also has a weekly cycle.  52 (weeks of
    a year) is not, though it too is long."""
    return season >= 24 and season != 52 and 1440 % season == 0


# ---------------------------------------------------------------------------------------------
# a season told from the values, for data without a calendar (integer steps)

SEASON_CANDIDATES = (4, 7, 12, 24, 48, 52, 168)   # quarters, days of a week, months, hours, half-hours, weeks, hours of a week
MIN_AUTOCORRELATION = 0.3


def detect_season(series, candidates=SEASON_CANDIDATES, max_series: int = 200, max_length: int = 2000):
    """(season, its mean autocorrelation) told from the values: of the candidate periods that
    at least three cycles of a series cover, those where, in most series, the autocorrelation
    of the linearly detrended values peaks (above both neighbours) and passes M4's 90 % test
    (|r_m| > 1.645·√((1 + 2 Σ_{k<m} r_k²) / n)), the one of highest mean autocorrelation (at
    least MIN_AUTOCORRELATION) — or a divisor of it that comes within 10 % (a day rather than
    a week of hours).  (1, 0.0) when none qualifies.  At most `max_series` series (spread over
    the list) and each one's last `max_length` values are looked at."""
    chosen = list(series)[::max(1, -(-len(series) // max_series))] if len(series) else []
    tails = [np.asarray(s, dtype=np.float64)[-max_length:] for s in chosen]
    correlations = [(_autocorrelations(x, max(candidates) + 1), len(x)) for x in tails]
    means = {}
    for m in candidates:
        usable = [(r, n) for r, n in correlations if 3 * m <= n and len(r) > m + 1]
        if usable and np.mean([_significant_peak(r, n, m) for r, n in usable]) > 0.5:
            means[m] = float(np.mean([r[m] for r, _ in usable]))
    means = {m: r for m, r in means.items() if r >= MIN_AUTOCORRELATION}
    if not means:
        return 1, 0.0
    best = max(means, key=means.get)
    season = min(m for m in means if best % m == 0 and means[m] >= 0.9 * means[best])
    return season, means[season]


def _autocorrelations(x: np.ndarray, max_lag: int) -> np.ndarray:
    """r_0 … r_max_lag (fewer for a short series) of x minus its least-squares line, by FFT."""
    n = len(x)
    if n < 3 or not np.all(np.isfinite(x)):
        return np.zeros(1)
    t = np.arange(n)
    d = x - np.polyval(np.polyfit(t, x, 1), t)
    spectrum = np.fft.rfft(d, 2 * n)
    cov = np.fft.irfft(spectrum * np.conj(spectrum))[:min(max_lag, n - 1) + 1]
    return cov / cov[0] if cov[0] > 0 else np.zeros_like(cov)


def _significant_peak(r: np.ndarray, n: int, m: int) -> bool:
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(np.square(r[1:m]))) / n)
    return bool(r[m] >= r[m - 1] and r[m] >= r[m + 1] and r[m] > limit)
