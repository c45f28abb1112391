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
fixed grid (no optimiser: every series and grid point is one array, so the fit is vectorised and
deterministic).

Theta (Assimakopoulos & Nikolopoulos, 2000) as Hyndman & Billah (2003) show it — SES with drift
half the slope b of the least-squares line through a_1 … a_n:

    â_{n+j} = ℓ_n + (b/2) · (j − 1 + (1 − (1 − α)^n) / α)

Histories longer than MAX_HISTORY use only their last MAX_HISTORY values.
"""

from __future__ import annotations

import numpy as np

from .baselines import is_seasonal, seasonal_indices

MAX_HISTORY = 500
INIT_POINTS = 10
ALPHAS = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0])
BETAS = np.array([0.01, 0.05, 0.1, 0.2])        # as a share of α (b_t moves by α·β·e_t)
PHIS = np.array([0.8, 0.9, 0.95, 0.98])
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
    """(adjusted histories, indices over the horizon (n, horizon), 1 where not seasonal)."""
    adjusted, ahead = [], np.ones((len(histories), horizon))
    for k, x in enumerate(histories):
        x = np.asarray(x, float)[-MAX_HISTORY:]
        if season > 1 and np.all(x > 0) and is_seasonal(x, season):
            index = seasonal_indices(x, season)
            x = x / index
            ahead[k] = np.resize(index[-season:], horizon)
        adjusted.append(x)
    return adjusted, ahead


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

    values (n, T) right-aligned; alpha, beta, phi (G,).  Returns (level, slope, sse), each (n, G):
    the states after the last value and the sum of squared one-step errors."""
    n, T = values.shape
    rows = np.arange(n)
    G = len(alpha)
    level = np.repeat(values[rows, start][:, None], G, axis=1)
    slope = np.repeat(_slope(values, start, np.full(n, INIT_POINTS))[:, None], G, axis=1) if trend else np.zeros((n, G))
    sse = np.zeros((n, G))
    step_alpha, step_trend = alpha[None, :], (alpha * beta)[None, :]
    damp = phi[None, :]
    for t in range(int(start.min()) + 1, T):
        active = (t > start)[:, None]
        err = values[:, t:t + 1] - (level + damp * slope)
        err = np.where(active, err, 0.0)
        level = np.where(active, level + damp * slope + step_alpha * err, level)
        if trend:
            slope = np.where(active, damp * slope + step_trend * err, slope)
        sse += err * err
    return level, slope, sse


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
    """Damped-trend exponential smoothing's forecasts (n, horizon), (α, β, φ) on the grid."""
    a, b, p = (g.ravel() for g in np.meshgrid(ALPHAS, BETAS, PHIS, indexing="ij"))
    level, slope, sse = smooth(values, start, a, b, p, trend=True)
    rows, best = np.arange(len(values)), _best(sse)
    phi = p[best][:, None]
    damping = np.cumsum(phi ** np.arange(1, horizon + 1)[None, :], axis=1)
    return level[rows, best][:, None] + damping * slope[rows, best][:, None]
