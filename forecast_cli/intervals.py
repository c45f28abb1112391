"""Prediction intervals: split-conformal, per horizon step, on residuals scaled per series.

Calibration, once at the end of training.  The trained model forecasts its validation windows
(targets in the last val_size steps of each series: training never fitted them).  For window i
and horizon step k = 1 … h the scaled residual is

    r_ik = |y_ik − ŷ_ik| / s_i

with s_i the series' scale at the window's cut (below).  For each step k the residuals of steps
k−w … k+w are pooled, w ≥ 0 the smallest width that pools MIN_POOLED of them (all steps when
windows are few), each r_ij rescaled to step k by g_k/g_j, g the non-decreasing fit to the mean
residual per step (step_profile: pooled over many steps, intervals still widen with the
horizon), and for every whole level ℓ = 1 … 99 the half-width is the conformal quantile

    q_k(ℓ) = r_(j), the j-th smallest of the n pooled residuals,  j = min(⌈(n + 1)·ℓ/100⌉, n).

With few series (fewer than MIN_POOLED residuals in whole validation windows) the validation
windows are one short slice of time; then a twin — the same model trained again without the
last K·h steps of every series (twin_holdout) — forecasts every window in those steps out of
sample, its residuals give a second q_k(ℓ) the same way, and each step keeps the larger.

Prediction: for the forecast ŷ_k of a series with scale s,

    lo_k = ŷ_k − s·q_k(ℓ),    hi_k = ŷ_k + s·q_k(ℓ)

so lo ≤ ŷ ≤ hi, and a higher level never gives a narrower interval.  When a new window's scaled
residuals are exchangeable with the calibration windows', y_k falls in [lo_k, hi_k] with
probability at least ℓ/100, provided (n + 1)·ℓ ≤ 100·n (n ≥ 19 for 95 %); with fewer residuals
q_k(ℓ) is the largest one seen and the interval is narrower than ℓ calls for (`supports`).

Series scale, for a series x_1 … x_c forecast from its end c:

    s = √(d · max(e, d/1000))
    d = (1/(c−m)) Σ_{m<t≤c} |x_t − x_{t−m}|     in-sample seasonal-naive MAE (metrics.seasonal_scale:
                                                 lag 1, then 1, where that is 0)
    e = the model's mean absolute error over the BACKTESTS windows of h steps just before c (those
        with input_size values before them); where none fits, e = ρ·d, ρ the median of e/d over
        the calibration windows.

d is the series' own size of change (the denominator of MASE and MSIS), e how well the model has
forecast that series lately; the geometric mean of the two is what measured best on M4 Hourly
(docs/intervals.md has the table).  NumPy only: no typer, no rich.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from .baselines import seasonal_naive
from .errors import ForecastError
from .windows import Panel, at_most, gather_targets, last_windows, window_pairs

LEVELS = np.arange(1, 100)   # whole-percent levels with a stored half-width
MIN_POOLED = 1000            # residuals pooled for each step's quantile (see module docstring)
TWIN_HORIZONS = 4            # K: the twin's held-out end, in horizons (see twin_holdout)
BACKTESTS = 2                # windows behind e, the model's recent error on a series
MAX_WINDOWS = 5000           # calibration windows kept (a seeded random subset beyond that)
E_FLOOR = 1e-3               # e ≥ d/1000: a model that forecast a series perfectly still gets an interval


@dataclass
class Calibration:
    """What intervals need at prediction time; arrays `calibration/*` in the model file."""

    halfwidth: np.ndarray     # (len(LEVELS), horizon): q_k(ℓ) in scale units
    count: np.ndarray         # (horizon,) int: residuals pooled for each step's quantile
    ratio: float              # ρ: median e/d over the calibration windows
    series_scale: np.ndarray  # (n_series,): s of each training series at its end

    def arrays(self) -> dict[str, np.ndarray]:
        """The model file's `calibration/*` arrays (docs/model-file.md)."""
        return {"calibration/halfwidth": np.asarray(self.halfwidth, np.float64),
                "calibration/count": np.asarray(self.count, np.int64),
                "calibration/ratio": np.asarray(self.ratio, np.float64),
                "calibration/series_scale": np.asarray(self.series_scale, np.float64)}

    @staticmethod
    def shapes(horizon: int, n_series: int) -> dict[str, tuple]:
        """name → (shape, dtype) of each array, for the model file's checks."""
        f, i = np.dtype(np.float64), np.dtype(np.int64)
        return {"calibration/halfwidth": ((len(LEVELS), horizon), f), "calibration/count": ((horizon,), i),
                "calibration/ratio": ((), f), "calibration/series_scale": ((n_series,), f)}

    @classmethod
    def from_arrays(cls, arrays: dict) -> "Calibration":
        """Rebuild from `arrays()`; ValueError unless intervals from it are ordered and finite:
        half-widths ≥ 0 and non-decreasing in the level, counts ≥ 1, scales > 0, ρ ≥ 0."""
        cal = cls(arrays["calibration/halfwidth"], arrays["calibration/count"],
                  float(arrays["calibration/ratio"]), arrays["calibration/series_scale"])
        if not (np.all(cal.halfwidth >= 0) and np.all(np.diff(cal.halfwidth, axis=0) >= 0) and np.all(cal.count >= 1)
                and np.all(cal.series_scale > 0) and cal.ratio >= 0):
            raise ValueError("the interval calibration is inconsistent")
        return cal

    def supports(self, level: int) -> bool:
        """Whether every step has enough residuals for a level-ℓ guarantee: (n + 1)·ℓ ≤ 100·n."""
        return bool(np.all((self.count + 1) * level <= 100 * self.count))

    def bounds(self, forecasts: np.ndarray, scale: np.ndarray, level: int) -> tuple[np.ndarray, np.ndarray]:
        """(lo, hi), each like `forecasts` (n, horizon): ŷ ∓ s·q_k(level)."""
        half = np.asarray(scale, float)[:, None] * self.halfwidth[level - 1][None, :]
        return forecasts - half, forecasts + half


def check_level(level: int) -> int:
    if level not in LEVELS:
        raise ValueError(f"level {level!r} is not a whole percent in 1 … 99")
    return int(level)


# ------------------------------------------------------------------------------------------
# the pieces, each on arrays


def history_scales(panel: Panel, pairs: np.ndarray, season: int) -> np.ndarray:
    """d for each window (series, cut): metrics.seasonal_scale of the series' values before the
    cut, from running sums so that many cuts of one long series cost no more than one."""
    pos = np.arange(len(panel.values)) - np.repeat(panel.offsets[:-1], panel.lengths)
    start, cut = panel.offsets[pairs[:, 0]], pairs[:, 1]
    d = np.ones(len(pairs))
    for lag in (1, season):  # the seasonal lag wins where it is defined and non-zero
        diffs = np.zeros(len(panel.values))
        ok = pos >= lag
        diffs[ok] = np.abs(panel.values[ok] - panel.values[np.flatnonzero(ok) - lag])
        total = np.concatenate([[0.0], np.cumsum(diffs)])
        n = cut - lag
        mean = np.divide(total[start + cut] - total[start + np.minimum(lag, cut)], n,
                         out=np.zeros(len(pairs)), where=n > 0)
        d = np.where(mean > 0, mean, d)
    return d


def recent_errors(forecast, panel: Panel, pairs: np.ndarray, input_size: int, horizon: int,
                  backtests: int = BACKTESTS) -> np.ndarray:
    """e for each window (series, cut): the mean absolute error of forecast(panel, pairs) over
    the windows cut at cut − j·horizon, j = 1 … backtests, that have input_size values before
    them; NaN where none has."""
    back = np.concatenate([np.stack([np.arange(len(pairs)), pairs[:, 0], pairs[:, 1] - j * horizon], axis=1)
                           for j in range(1, backtests + 1)])
    back = back[back[:, 2] >= input_size]
    err = np.abs(gather_targets(panel, back[:, 1:], horizon) - forecast(panel, back[:, 1:])).mean(axis=1)
    total = np.bincount(back[:, 0], weights=err, minlength=len(pairs))
    count = np.bincount(back[:, 0], minlength=len(pairs))
    return np.divide(total, count, out=np.full(len(pairs), np.nan), where=count > 0)


def scales(d: np.ndarray, e: np.ndarray, ratio: float) -> np.ndarray:
    """s = √(d · max(e, d·E_FLOOR)), with e = ρ·d where it is unknown (NaN)."""
    e = np.where(np.isnan(e), ratio * d, e)
    return np.sqrt(d * np.maximum(e, d * E_FLOOR))


def step_profile(residuals: np.ndarray) -> np.ndarray:
    """g_k: how the residuals grow with the horizon step — the non-decreasing least-squares fit
    (pool adjacent violators, weighted by counts) to each step's mean held-out residual; steps
    with none take their neighbours' value, and g > 0 throughout (1 where every residual is 0)."""
    held = ~np.isnan(residuals)
    count = held.sum(axis=0).astype(float)
    mean = np.divide(np.where(held, residuals, 0).sum(axis=0), count, out=np.zeros(len(count)), where=count > 0)
    blocks = []  # [value, weight, steps] of each run of pooled steps
    for value, weight in zip(mean, count):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks[-1]
            total = w1 + w2
            blocks[-1] = [(v1 * w1 + v2 * w2) / total if total else max(v1, v2), total, n1 + n2]
    g = np.repeat([b[0] for b in blocks], [b[2] for b in blocks])
    positive = g[g > 0]
    return np.maximum(g, positive.min()) if len(positive) else np.ones(len(g))


def pooled_halfwidths(residuals: np.ndarray, min_pooled: int = MIN_POOLED) -> tuple[np.ndarray, np.ndarray]:
    """(q, count) from scaled absolute residuals (n_windows, horizon), NaN where a window's step
    is not held out: q[ℓ−1, k] = q_k(ℓ) for ℓ in LEVELS, pooling steps k−w … k+w (module
    docstring), each pooled residual of step j brought to step k's size by g_k / g_j
    (step_profile), so that pooled intervals still widen with the horizon; count[k] = the
    residuals pooled for step k."""
    h = residuals.shape[1]
    held = ~np.isnan(residuals)
    g = step_profile(residuals)
    running = np.concatenate([[0], np.cumsum(held.sum(axis=0))])  # residuals of steps < k: running[k]
    widths = np.arange(h)
    q, count = np.empty((len(LEVELS), h)), np.empty(h, dtype=np.int64)
    for k in range(h):
        pooled_at = running[np.minimum(k + widths + 1, h)] - running[np.maximum(k - widths, 0)]
        w = widths[np.argmax(pooled_at >= min(min_pooled, running[-1]))]
        steps = slice(max(k - w, 0), k + w + 1)
        block = residuals[:, steps] * (g[k] / g[steps])  # the factor is exactly 1 at step k itself
        pooled = np.sort(block[held[:, steps]])
        count[k] = len(pooled)
        rank = np.minimum(-(-(len(pooled) + 1) * LEVELS // 100), len(pooled))  # ⌈(n + 1)ℓ/100⌉, exactly
        q[:, k] = pooled[rank - 1]
    return q, count


def enough_whole_windows(lengths, input_size: int, horizon: int, val_size: int) -> bool:
    """Whether the windows all of whose targets lie in the last val_size steps of their series
    give MIN_POOLED residuals (series s has those cut at max(L_s − val_size, input_size) … L_s − h)."""
    lengths = np.asarray(lengths)
    first_cut = np.maximum(lengths - val_size, input_size)
    return int(np.maximum(lengths - horizon - first_cut + 1, 0).sum()) * horizon >= MIN_POOLED


def calibration_windows(lengths: np.ndarray, input_size: int, horizon: int, val_size: int,
                        seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(pairs, held): the calibration windows (at most MAX_WINDOWS) and held[i, k], whether step k
    of window i lies in its series' last val_size steps, which training never fitted.

    The windows all of whose targets are held out (those early stopping scored) when they give
    MIN_POOLED residuals; else also the windows cut up to h − 1 steps before the holdout, for
    their held-out last steps — with one series, h·(h+1)/2 residuals instead of h.  (On M4 Hourly
    the whole windows alone cover better: docs/intervals.md.)"""
    lengths = np.asarray(lengths)
    pairs = window_pairs(lengths, input_size, horizon)
    pairs = pairs[pairs[:, 1] + horizon > lengths[pairs[:, 0]] - val_size]
    held = pairs[:, 1:] + np.arange(horizon) >= (lengths[pairs[:, 0]] - val_size)[:, None]
    if enough_whole_windows(lengths, input_size, horizon, val_size):
        whole = held.all(axis=1)
        pairs, held = pairs[whole], held[whole]
    keep = at_most(len(pairs), MAX_WINDOWS, seed)
    return pairs[keep], held[keep]


# ------------------------------------------------------------------------------------------
# what Forecaster.fit and the CLI call


def twin_holdout(lengths, config) -> int:
    """The steps a twin model is trained without, K·h, when the validation windows are too few
    to calibrate on alone (their whole windows give fewer than MIN_POOLED residuals); else 0.

    With few series the validation windows are one short slice of time, on which early
    stopping chose the weights: intervals calibrated there alone came out too narrow (80 % of
    values inside 95 % intervals on small data sets, docs/intervals.md).  A twin trained the
    same way on all but the last K·h steps forecasts every window in them out of sample; its
    errors there, over K horizons of time, calibrate the intervals too (calibrate).
    K = TWIN_HORIZONS, or fewer (at least 2) when no series would leave the twin a training
    and a validation window; 0 without validation (val_size 0) or when even K = 2 leaves none."""
    c, lengths = config, np.asarray(lengths)
    if not c.val_size or enough_whole_windows(lengths, c.input_size, c.horizon, c.val_size):
        return 0
    fits = [k for k in range(TWIN_HORIZONS, 1, -1)
            if lengths.max() - k * c.horizon >= c.input_size + c.horizon + c.val_size]
    return fits[0] * c.horizon if fits else 0


def holdout_windows(lengths, input_size: int, horizon: int, holdout: int, seed: int) -> np.ndarray:
    """The windows (series, cut) whose targets all lie in the last `holdout` steps (at most
    MAX_WINDOWS: a seeded random subset beyond that)."""
    pairs = last_windows(lengths, input_size, horizon, holdout)
    return pairs[at_most(len(pairs), MAX_WINDOWS, seed)]


def calibrate(forecaster, panel: Panel, keep: np.ndarray, twin=None, holdout: int = 0) -> Calibration | None:
    """Calibrate a trained forecaster on `panel` (its training data): on its validation windows,
    and — given `twin`, the same model trained on `panel` without its last `holdout` steps
    (twin_holdout) — on the twin's errors in those steps too, each step's half-widths the
    larger of the two.  `keep` are the series it remembers (their scales at their ends are
    stored).  None when there are no validation windows (val_size 0)."""
    c = forecaster.config
    pairs, held = calibration_windows(panel.lengths, c.input_size, c.horizon, c.val_size, c.seed)
    if not len(pairs):
        return None
    halfwidth, count, ratio = _quantiles(forecaster, panel, pairs, held)
    if twin is not None:
        pairs = holdout_windows(panel.lengths, c.input_size, c.horizon, holdout, c.seed)
        twin_halfwidth, twin_count, _ = _quantiles(twin, panel, pairs, np.ones((len(pairs), c.horizon), dtype=bool))
        halfwidth, count = np.maximum(halfwidth, twin_halfwidth), np.maximum(count, twin_count)
    ends = np.stack([keep, panel.lengths[keep]], axis=1)
    return Calibration(halfwidth, count, ratio, end_scales(forecaster, panel, ends, ratio))


def _quantiles(model, panel: Panel, pairs: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(q, count, ρ): pooled_halfwidths of the model's scaled residuals on the windows `pairs`
    at their held-out steps, and ρ, the median e/d over those windows."""
    c = model.config
    forecast = model.window_forecasts
    d = history_scales(panel, pairs, c.season)
    e = recent_errors(forecast, panel, pairs, c.input_size, c.horizon)
    known = ~np.isnan(e)
    ratio = float(np.median(e[known] / d[known])) if known.any() else 1.0
    s = scales(d, e, ratio)
    residuals = np.where(held, np.abs(gather_targets(panel, pairs, c.horizon) - forecast(panel, pairs)) / s[:, None], np.nan)
    return (*pooled_halfwidths(residuals), ratio)


def end_scales(forecaster, panel: Panel, ends: np.ndarray, ratio: float) -> np.ndarray:
    """s at the windows `ends` (series, cut) of `panel`."""
    c = forecaster.config
    e = recent_errors(forecaster.window_forecasts, panel, ends, c.input_size, c.horizon)
    return scales(history_scales(panel, ends, c.season), e, ratio)


def predict(forecaster, levels, series=None, phase0=None) -> tuple[np.ndarray, dict]:
    """(forecasts, {level: (lo, hi)}): Forecaster.predict with intervals at whole-percent
    `levels`.  Without `series`, the training series are continued (their stored scales)."""
    cal = forecaster.calibration
    if cal is None:
        raise ForecastError("the model has no interval calibration: it was trained with val_size 0 (intervals are "
                            "calibrated on the validation windows) or by an older lstm-forecast; retrain it")
    forecasts = forecaster.predict(series, phase0)
    if series is None:
        scale = cal.series_scale
    else:
        panel = Panel.from_series(series, phase0)
        scale = end_scales(forecaster, panel, np.stack([np.arange(len(panel)), panel.lengths], axis=1), cal.ratio)
    return forecasts, {level: cal.bounds(forecasts, scale, check_level(level)) for level in levels}


# ------------------------------------------------------------------------------------------
# the baseline's intervals


def seasonal_naive_interval(x, horizon: int, season: int, level: int) -> tuple[np.ndarray, np.ndarray]:
    """The textbook seasonal-naive interval (Hyndman & Athanasopoulos, FPP3 §5.5):

        ŷ_k ± z·σ·√(⌊(k−1)/m⌋ + 1),   σ² = (1/(n−m)) Σ_{t>m} (x_t − x_{t−m})²

    z the standard normal quantile for `level` (1.96 for 95).  With a season longer than the
    history, m = 1 (the naive forecast's interval)."""
    x = np.asarray(x, float)
    z = NormalDist().inv_cdf(0.5 + check_level(level) / 200)
    m = season if 1 < season <= len(x) else 1
    diffs = x[m:] - x[:-m] if len(x) > m else np.zeros(1)
    sigma = float(np.sqrt(np.mean(diffs ** 2)))
    f = seasonal_naive(x, horizon, m)
    half = z * sigma * np.sqrt(np.arange(horizon) // m + 1)
    return f - half, f + half
