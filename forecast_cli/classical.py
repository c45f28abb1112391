"""Classical forecasts in NumPy: Theta and damped-trend exponential smoothing, many series at once.

On short series (a few dozen points) these 25-year-old methods are hard to beat, and their
errors differ from the network's; `blend.py` mixes them with the LSTM by validation error.

Every method runs on the seasonally adjusted series, re-seasonalised afterwards, as the M3 and
M4 benchmarks do: where a series is seasonal by M4's 90 % autocorrelation test at lag m
(baselines.is_seasonal) and positive, x_t = a_t · I_t with I the classical multiplicative
indices (baselines.seasonal_indices); the forecast of a is multiplied by the last season's
indices, repeated.  Otherwise a = x.

Exponential smoothing in error-correction form, one-step error e_t = a_t − (ℓ_{t−1} + φ b_{t−1}):

    ℓ_t = ℓ_{t−1} + φ b_{t−1} + α e_t
    b_t =           φ b_{t−1} + α β e_t
    â_{n+j} = ℓ_n + (φ + φ² + … + φ^j) b_n                     (damped trend, 0 < φ < 1)

SES is the same with b ≡ 0.  ℓ_0 = a_1 and b_0 the least-squares slope of the first
INIT_POINTS values; (α, β, φ) minimise the in-sample sum of squared one-step errors over a
grid (no optimiser: every series and grid point is one array, so the fit is vectorised and
deterministic) — for SES the fixed ALPHAS, for the damped trend a coarse grid refined around
each series' best point.

Theta (Assimakopoulos & Nikolopoulos, 2000) as Hyndman & Billah (2003) show it — SES with drift
half the slope b of the least-squares line through a_1 … a_n:

    â_{n+j} = ℓ_n + (b/2) · (j − 1 + (1 − (1 − α)^n) / α)

Histories longer than MAX_HISTORY use only their last MAX_HISTORY values.
"""

from __future__ import annotations

import numpy as np


MAX_HISTORY = 200
INIT_POINTS = 10
ALPHAS = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])   # SES (Theta)
# damped trend: a coarse grid, then around each series' best point (α·{0.6, 1, 1.6},
# β·{0.4, 1, 2.5}, φ + {−0.04, 0, 0.03}); β is a share of α (b_t moves by α·β·e_t)
COARSE = (np.array([0.05, 0.2, 0.5, 0.9]), np.array([0.02, 0.15]), np.array([0.85, 0.95]))
REFINE = (np.array([0.6, 1.0, 1.6]), np.array([0.4, 1.0, 2.5]), np.array([-0.04, 0.0, 0.03]))
METHODS = ("theta", "damped")


def forecast(histories, horizon: int, season: int) -> dict[str, np.ndarray]:
    """{method: (n, horizon)} for each of METHODS, from a list of 1-D histories (≥ 1 value each)."""
    if not len(histories):
        return {name: np.zeros((0, horizon)) for name in METHODS}
    adjusted, index_ahead = _deseasonalised(histories, horizon, season)
    values, start = _right_aligned(adjusted)
    out = {"theta": theta(values, start, horizon), "damped": damped(values, start, horizon)}
    return {name: f * index_ahead for name, f in out.items()}


def combined(histories, horizon: int, season: int) -> np.ndarray:
    """The mean of METHODS' forecasts: (n, horizon)."""
    return np.mean(list(forecast(histories, horizon, season).values()), axis=0)


# ------------------------------------------------------------------------------------------
# seasonal adjustment and layout


def _deseasonalised(histories, horizon: int, season: int) -> tuple[list, np.ndarray]:
    """(adjusted histories, indices over the horizon (n, horizon), 1 where not seasonal).

    Histories of one length are adjusted together as a matrix (_seasonal_indices): what
    baselines.is_seasonal and baselines.seasonal_indices do to each, without a Python loop
    over series."""
    capped = [np.asarray(x, float)[-MAX_HISTORY:] for x in histories]
    adjusted, ahead = list(capped), np.ones((len(capped), horizon))
    if season <= 1:
        return adjusted, ahead
    lengths = np.array([len(x) for x in capped])
    for n in np.unique(lengths[lengths >= 3 * season]):
        rows = np.flatnonzero(lengths == n)
        X = np.stack([capped[k] for k in rows])
        index, seasonal = _seasonal_indices(X, season)
        for k, x, idx in zip(rows[seasonal], X[seasonal], index[seasonal]):
            adjusted[k] = x / idx
            ahead[k] = np.resize(idx[-season:], horizon)
    return adjusted, ahead


def _seasonal_indices(X: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(multiplicative indices (n, L), seasonal (n,) bool) of the rows of X: M4's 90 %
    autocorrelation test at lag m on positive rows, classical decomposition's indices."""
    n, L = X.shape
    d = X - X.mean(axis=1, keepdims=True)
    denom = np.einsum("ij,ij->i", d, d)
    r = np.stack([np.einsum("ij,ij->i", d[:, k:], d[:, :-k]) for k in range(1, m + 1)], axis=1)
    r = np.divide(r, denom[:, None], out=np.zeros_like(r), where=denom[:, None] > 0)
    limit = 1.645 * np.sqrt((1 + 2 * np.sum(r[:, :-1] ** 2, axis=1)) / L)
    seasonal = (np.abs(r[:, -1]) > limit) & np.all(X > 0, axis=1)
    weights = np.ones(m) / m if m % 2 else np.r_[0.5, np.ones(m - 1), 0.5] / m
    half = len(weights) // 2
    trend = np.full((n, L), np.nan)
    trend[:, half:L - half] = np.lib.stride_tricks.sliding_window_view(X, len(weights), axis=1) @ weights
    with np.errstate(divide="ignore", invalid="ignore"):  # rows that are not positive: never used
        ratio = X / trend
        figure = np.stack([np.nanmean(ratio[:, p::m], axis=1) for p in range(m)], axis=1)
        figure /= figure.mean(axis=1, keepdims=True)
    return np.resize(figure, (n, L)) if n == 1 else np.tile(figure, (1, -(-L // m)))[:, :L], seasonal


def _right_aligned(histories) -> tuple[np.ndarray, np.ndarray]:
    """(values (n, T) with each history at the right end, NaN before it; start index of each)."""
    lengths = np.array([len(x) for x in histories])
    values = np.full((len(histories), lengths.max()), np.nan)
    start = values.shape[1] - lengths
    for k, x in enumerate(histories):
        values[k, start[k]:] = x
    return values, start


def _slope(values: np.ndarray, start: np.ndarray, count: np.ndarray | None = None) -> np.ndarray:
    """Least-squares slope per row over its first `count` values from `start` (all: None); 0 for one value."""
    t = np.arange(values.shape[1], dtype=float)[None, :]
    end = values.shape[1] if count is None else start + count
    use = (t >= start[:, None]) & (t < np.asarray(end).reshape(-1, 1)) & ~np.isnan(values)
    n = use.sum(axis=1)
    tm = np.where(use, t, 0).sum(axis=1) / n
    ym = np.where(use, values, 0).sum(axis=1) / n
    dt = np.where(use, t - tm[:, None], 0)
    sxx = (dt * dt).sum(axis=1)
    sxy = (dt * np.where(use, values - ym[:, None], 0)).sum(axis=1)
    return np.divide(sxy, sxx, out=np.zeros(len(values)), where=sxx > 0)


# ------------------------------------------------------------------------------------------
# exponential smoothing over a grid of parameters


def smooth(values: np.ndarray, start: np.ndarray, alpha, beta, phi, trend: bool):
    """Run the recursions of the module docstring for every row and every grid point.

    values (n, T) right-aligned; alpha, beta, phi (G,) for every row, or (n, G) a grid per row.
    Returns (level, slope, sse), each (n, G): the states after the last value and the sum of
    squared one-step errors."""
    n, T = values.shape
    order = np.argsort(start, kind="stable")   # rows by start: at step t the rows under way are a prefix
    values, start = values[order], start[order]
    # every grid as (n, G), rows in the same order: a shared grid is broadcast, not copied
    alpha, beta, phi = (np.asarray(g, float)[order] if np.ndim(g) == 2 else np.broadcast_to(g, (n, len(g)))
                        for g in (alpha, beta, phi))
    G = alpha.shape[1]
    level = np.repeat(values[np.arange(n), start][:, None], G, axis=1)
    slope = np.repeat(_slope(values, start, np.full(n, INIT_POINTS))[:, None], G, axis=1) if trend else np.zeros((n, G))
    sse = np.zeros((n, G))
    step_alpha, step_trend, damp = alpha, alpha * beta, phi
    damped_slope, err, scratch = np.empty((n, G)), np.empty((n, G)), np.empty((n, G))
    for t in range(int(start[0]) + 1, T):
        k = int(np.searchsorted(start, t))      # rows 0 … k−1 started before t
        lv, sl, db, e, tmp = level[:k], slope[:k], damped_slope[:k], err[:k], scratch[:k]
        np.multiply(damp[:k], sl, out=db)   # φ b_{t−1}
        np.add(lv, db, out=lv)                             # ℓ_{t−1} + φ b_{t−1}: the forecast
        np.subtract(values[:k, t:t + 1], lv, out=e)        # e_t
        np.add(sse[:k], np.multiply(e, e, out=tmp), out=sse[:k])
        np.add(lv, np.multiply(step_alpha[:k], e, out=tmp), out=lv)
        if trend:
            np.add(db, np.multiply(step_trend[:k], e, out=tmp), out=sl)
    back = np.argsort(order)
    return level[back], slope[back], sse[back]


def _best(sse: np.ndarray) -> np.ndarray:
    return np.argmin(sse, axis=1)


def ses_fit(values: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ℓ_n, α) of SES fitted on the α grid, per row."""
    zeros = np.zeros(len(ALPHAS))
    level, _, sse = smooth(values, start, ALPHAS, zeros, zeros, trend=False)
    best = _best(sse)
    rows = np.arange(len(values))
    return level[rows, best], ALPHAS[best]


def theta(values: np.ndarray, start: np.ndarray, horizon: int) -> np.ndarray:
    """The Theta method's forecasts (n, horizon) of right-aligned adjusted histories."""
    level, alpha = ses_fit(values, start)
    b = _slope(values, start)
    n = values.shape[1] - start
    j = np.arange(1, horizon + 1)[None, :]
    drift = (j - 1) + ((1 - (1 - alpha) ** n) / alpha)[:, None]
    return level[:, None] + 0.5 * b[:, None] * drift


def damped(values: np.ndarray, start: np.ndarray, horizon: int) -> np.ndarray:
    """Damped-trend exponential smoothing's forecasts (n, horizon): (α, β, φ) from the COARSE
    grid, then from REFINE around each series' best (module docstring)."""
    a, b, p = (g.ravel() for g in np.meshgrid(*COARSE, indexing="ij"))
    best = _best(smooth(values, start, a, b, p, trend=True)[2])
    fa, fb, dp = (g.ravel() for g in np.meshgrid(*REFINE, indexing="ij"))
    a = np.clip(a[best][:, None] * fa, 0.01, 1.0)
    b = np.clip(b[best][:, None] * fb, 0.005, 1.0)
    p = np.clip(p[best][:, None] + dp, 0.8, 0.99)
    level, slope, sse = smooth(values, start, a, b, p, trend=True)
    rows, best = np.arange(len(values)), _best(sse)
    phi = p[rows, best][:, None]
    damping = np.cumsum(phi ** np.arange(1, horizon + 1)[None, :], axis=1)
    return level[rows, best][:, None] + damping * slope[rows, best][:, None]
