"""Forecast accuracy, as the M4 competition defines it (Makridakis et al., 2018).

For one series with actuals y_1..y_h, forecasts f_1..f_h and in-sample history x_1..x_n:

    MAE   = (1/h) Σ |y − f|
    RMSE  = √((1/h) Σ (y − f)²)
    sMAPE = (1/h) Σ 200·|y − f| / (|y| + |f|)               (a term is 0 where y = f = 0)
    MASE  = MAE / scale,  scale = (1/(n−m)) Σ_{t>m} |x_t − x_{t−m}|   (seasonal naive in-sample)
    MSIS  = (1/h) Σ [(U − L) + (2/a)(L − y)·1{y<L} + (2/a)(y − U)·1{y>U}] / scale,  a = 1 − level
    coverage = share of y within [L, U]
    ACD   = |mean coverage over the set − level/100|       (absolute coverage difference)

Over a set, each is the mean over series; OWA = ½(sMAPE/sMAPE_Naive2 + MASE/MASE_Naive2) with
both terms over the whole set.  Where the seasonal scale is 0 (a series that repeats its
season exactly) the lag-1 scale is used, and 1 where that is 0 too, so MASE stays finite.
"""

from __future__ import annotations

import numpy as np


def mae(y, f) -> np.ndarray:
    return np.mean(np.abs(np.asarray(y) - f), axis=-1)


def rmse(y, f) -> np.ndarray:
    return np.sqrt(np.mean((np.asarray(y) - f) ** 2, axis=-1))


def smape(y, f) -> np.ndarray:
    y, f = np.asarray(y, float), np.asarray(f, float)
    denom = np.abs(y) + np.abs(f)
    terms = np.divide(200.0 * np.abs(y - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return terms.mean(axis=-1)


def seasonal_scale(insample, m: int) -> float:
    """(1/(n−m)) Σ |x_t − x_{t−m}|; falls back to lag 1, then to 1 (see module docstring)."""
    x = np.asarray(insample, float)
    for lag in (m, 1):
        if len(x) > lag:
            scale = float(np.mean(np.abs(x[lag:] - x[:-lag])))
            if scale > 0:
                return scale
    return 1.0


def mase(y, f, insample, m: int) -> np.ndarray:
    """Per series; `insample` is a list of histories (they may differ in length)."""
    scales = np.array([seasonal_scale(x, m) for x in insample])
    return mae(y, f) / scales


def msis(y, lo, hi, insample, m: int, level: float) -> np.ndarray:
    """Mean scaled interval score of the central `level`% interval [lo, hi], per series."""
    y, lo, hi = (np.asarray(a, float) for a in (y, lo, hi))
    a = 1.0 - level / 100.0
    score = (hi - lo) + (2 / a) * (lo - y) * (y < lo) + (2 / a) * (y - hi) * (y > hi)
    return score.mean(axis=-1) / np.array([seasonal_scale(x, m) for x in insample])


def coverage(y, lo, hi) -> np.ndarray:
    y = np.asarray(y, float)
    return np.mean((y >= lo) & (y <= hi), axis=-1)


def acd(mean_coverage: float, level: float) -> float:
    return abs(mean_coverage - level / 100.0)


def owa(smape_model: float, mase_model: float, smape_naive2: float, mase_naive2: float) -> float:
    return 0.5 * (smape_model / smape_naive2 + mase_model / mase_naive2)


POINT_METRICS = ("MAE", "RMSE", "sMAPE", "MASE")


def point_scores(y, f, insample, m: int) -> dict[str, np.ndarray]:
    """Every point metric per series: {'MAE': (n,), 'RMSE': …, 'sMAPE': …, 'MASE': …}."""
    return {"MAE": mae(y, f), "RMSE": rmse(y, f), "sMAPE": smape(y, f), "MASE": mase(y, f, insample, m)}


def interval_scores(y, lo, hi, insample, m: int, level: int) -> dict[str, np.ndarray]:
    """Coverage and MSIS of the level-% intervals per series: {'coverage-95': (n,), 'MSIS-95': (n,)}."""
    return {f"coverage-{level}": coverage(y, lo, hi), f"MSIS-{level}": msis(y, lo, hi, insample, m, level)}
