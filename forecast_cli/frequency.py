"""What a sampling frequency implies: the season length and a sensible forecast horizon.

Frequencies are pandas offset aliases ("h", "30min", "D", "W-SUN", "MS", "QE-DEC", "YS" …) or
None when the data has no timestamps.  Horizons follow the M4 competition's (48 hourly,
14 daily, 13 weekly, 18 monthly, 8 quarterly, 6 yearly); seasons are the usual calendar
cycles (a day of hours, a week of days, a year of weeks, months or quarters).
"""

from __future__ import annotations

import re

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
