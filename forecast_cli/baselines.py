"""Benchmark forecasts every model must beat: naive, seasonal naive and M4's Naive2.

Each takes one history x (1-D array) and returns the next h values.

    naive:          f_{n+k} = x_n
    seasonal naive: f_{n+k} = x_{n+k−m·⌈k/m⌉}           (the last season, repeated)
    Naive2:         naive on the seasonally adjusted series, re-seasonalised, where the series
                    is seasonal by M4's 90% autocorrelation test at lag m (else plain naive).

Naive2 follows the competition's reference code (classical multiplicative decomposition with
a centred moving average; seasonal indices normalised to mean 1; the last m indices repeated
over the horizon).
"""

from __future__ import annotations

import numpy as np


def naive(x, h: int, m: int = 1) -> np.ndarray:
    return np.full(h, float(np.asarray(x)[-1]))


def seasonal_naive(x, h: int, m: int) -> np.ndarray:
    x = np.asarray(x, float)
    if m <= 1 or len(x) < m:
        return naive(x, h)
    return np.resize(x[-m:], h)


def acf(x, k: int) -> float:
    """Sample autocorrelation at lag k: Σ (x_t − x̄)(x_{t−k} − x̄) / Σ (x_t − x̄)²."""
    d = np.asarray(x, float) - np.mean(x)
    denom = float(d @ d)
    return float(d[k:] @ d[:-k]) / denom if denom > 0 else 0.0


def is_seasonal(x, m: int) -> bool:
    """M4's test: |r_m| > 1.645·√((1 + 2 Σ_{k=1}^{m−1} r_k²) / n), and n ≥ 3m."""
    n = len(x)
    if m <= 1 or n < 3 * m:
        return False
    r = [acf(x, k) for k in range(1, m + 1)]
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(np.square(r[:-1]))) / n)
    return bool(abs(r[-1]) > limit)


def seasonal_indices(x, m: int) -> np.ndarray:
    """Multiplicative seasonal index of every position of x (classical decomposition).

    trend = centred moving average of order m (2×m for even m); ratio = x / trend;
    index[p] = mean of the ratios at season position p, normalised so the m indices average 1.
    """
    x = np.asarray(x, float)
    n = len(x)
    weights = np.ones(m) / m if m % 2 else np.r_[0.5, np.ones(m - 1), 0.5] / m
    half = len(weights) // 2
    trend = np.full(n, np.nan)
    trend[half:n - half] = np.convolve(x, weights, mode="valid")
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = x / trend
    figure = np.array([np.nanmean(ratio[p::m]) for p in range(m)])
    figure /= figure.mean()
    return np.resize(figure, n)


def naive2(x, h: int, m: int) -> np.ndarray:
    x = np.asarray(x, float)
    if not is_seasonal(x, m) or np.any(x <= 0):
        return naive(x, h)
    index = seasonal_indices(x, m)
    return (x[-1] / index[-1]) * np.resize(index[-m:], h)


BASELINES = {"naive": naive, "seasonal naive": seasonal_naive, "Naive2": naive2}
