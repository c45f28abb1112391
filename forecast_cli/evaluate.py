"""Backtests: forecast held-out ends of series and score the LSTM beside the baselines.

With K folds and step s, fold k cuts each series at n − h − k·s: the model is trained on what
precedes the cut (or a given model is used), forecasts h steps, and every method is scored on
exactly those h actuals with M4's metrics (see metrics.py); OWA is relative to Naive2 over
the same windows.

With interval levels, the LSTM's conformal intervals (intervals.py) and seasonal naive's textbook
ones are scored too: coverage and MSIS per window, and ACD = |mean coverage − level| over the set.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace

import numpy as np

from . import intervals, metrics
from .baselines import BASELINES
from .config import Config
from .errors import DataError
from .forecaster import Forecaster, resolve

log = logging.getLogger("forecast_cli")

LSTM = "LSTM"
SNAIVE = "seasonal naive"   # the baseline whose intervals are scored beside the LSTM's
CONTEXT = 3                 # horizons of history kept per window, for charts


@dataclass
class Scores:
    """Per-window scores: one entry per (series, fold) that was scored."""

    series: list = field(default_factory=list)
    fold: list = field(default_factory=list)
    cutoff: list = field(default_factory=list)
    by_method: dict = field(default_factory=dict)   # method → metric → list of floats
    levels: tuple = ()                              # interval levels scored (whole percents)
    actuals: list = field(default_factory=list)     # (h,) arrays, for charts
    context: list = field(default_factory=list)     # the last CONTEXT·h values before each window
    forecasts: dict = field(default_factory=dict)   # method → list of (h,) arrays
    bounds: dict = field(default_factory=dict)      # method → level → list of (lo, hi), (h,) each

    def add(self, method: str, scores: dict, forecasts) -> None:
        into = self.by_method.setdefault(method, {})
        for name, values in scores.items():
            into.setdefault(name, []).extend(np.asarray(values, float).tolist())
        self.forecasts.setdefault(method, []).extend(list(forecasts))

    def add_bounds(self, method: str, level: int, lo, hi) -> None:
        self.bounds.setdefault(method, {}).setdefault(level, []).extend(zip(lo, hi))

    def summary(self) -> dict:
        """method → metric → mean over windows, with OWA relative to Naive2 and ACD per level."""
        out = {m: {k: float(np.mean(v)) for k, v in s.items()} for m, s in self.by_method.items()}
        ref = out.get("Naive2")
        for method in out.values():
            method["OWA"] = metrics.owa(method["sMAPE"], method["MASE"], ref["sMAPE"], ref["MASE"]) if ref else float("nan")
            for level in self.levels:
                if f"coverage-{level}" in method:
                    method[f"ACD-{level}"] = metrics.acd(method[f"coverage-{level}"], level)
        return out


def _with_intervals(forecaster: Forecaster, histories, phase0, levels) -> tuple[np.ndarray, dict]:
    """(forecasts, {level: (lo, hi)}); no intervals without levels."""
    if not levels:
        return forecaster.predict(histories, phase0), {}
    return intervals.predict(forecaster, levels, histories, phase0)


def score_methods(scores: Scores, histories, actuals, lstm_forecasts, season: int, lstm_bounds: dict | None = None) -> None:
    """Score the LSTM's forecasts and each baseline's on the same windows; with `lstm_bounds`
    ({level: (lo, hi)}) also the LSTM's intervals and seasonal naive's at the same levels."""
    h = actuals.shape[1]
    bounds = {LSTM: lstm_bounds or {}, SNAIVE: {}}
    for level in bounds[LSTM]:
        each = [intervals.seasonal_naive_interval(x, h, season, level) for x in histories]
        bounds[SNAIVE][level] = (np.array([b[0] for b in each]), np.array([b[1] for b in each]))
    forecasts = {LSTM: lstm_forecasts, **{n: np.array([b(x, h, season) for x in histories]) for n, b in BASELINES.items()}}
    for name, f in forecasts.items():
        found = metrics.point_scores(actuals, f, histories, season)
        for level, (lo, hi) in bounds.get(name, {}).items():
            found.update(metrics.interval_scores(actuals, lo, hi, histories, season, level))
            scores.add_bounds(name, level, lo, hi)
        scores.add(name, found, f)
    scores.actuals.extend(list(actuals))
    scores.context.extend(np.asarray(x[-CONTEXT * h:], float) for x in histories)


def backtest(series, ids, phase0, freq, config: Config, folds: int = 1, step: int | None = None,
             model: Forecaster | None = None, on_epoch=None, levels=()) -> tuple[Scores, Config]:
    """Rolling-origin evaluation (see module docstring); returns (scores, resolved config)."""
    lengths = [len(s) for s in series]
    if model:
        resolved = model.config
        step = step or resolved.horizon
    else:  # resolve once, on the shortest training part, so every fold trains the same model
        h = resolve(config, lengths, freq).horizon
        step = step or h
        before = [n - h - (folds - 1) * step for n in lengths]   # what every fold trains on
        resolved = resolve(config.replace(horizon=h), before, freq, [s[:max(n, 0)] for s, n in zip(series, before)])
    h, season = resolved.horizon, resolved.season
    if model is None:  # every fold checked before any trains
        _check_folds(lengths, resolved, folds, step)
    scores = Scores(levels=tuple(levels))
    for k in range(folds):
        back = fold_holdout(h, k, step)
        keep = [i for i, n in enumerate(lengths) if n - back >= resolved.input_size]
        if not keep:
            raise DataError(f"fold {k + 1}: no series is long enough to hold out {back} steps and keep "
                            f"input_size = {resolved.input_size} before them")
        histories = [np.asarray(series[i][:lengths[i] - back]) for i in keep]
        actuals = np.array([series[i][lengths[i] - back:lengths[i] - back + h] for i in keep])
        p0 = [phase0[i] for i in keep] if phase0 is not None else None
        forecaster = model or Forecaster(resolved).fit(histories, [ids[i] for i in keep], p0, freq,
                                                       on_epoch=_in_fold(on_epoch, k, folds))
        forecasts, bounds = _with_intervals(forecaster, histories, p0, levels)
        score_methods(scores, histories, actuals, forecasts, season, bounds)
        scores.series.extend(ids[i] for i in keep)
        scores.fold.extend([k + 1] * len(keep))
        scores.cutoff.extend(lengths[i] - back for i in keep)
    return scores, resolved


def _in_fold(on_epoch, fold: int, folds: int):
    """on_epoch with each report's run named "fold k/K" (1-based), when there are several."""
    if on_epoch is None or folds == 1:
        return on_epoch
    return lambda report: on_epoch(replace(report, run=f"fold {fold + 1}/{folds}"))


def fold_holdout(horizon: int, fold: int, step: int) -> int:
    """The steps fold `fold` (0-based) holds out at the end of every series: its horizon, and
    `step` more for each fold before it."""
    return horizon + fold * step


def _check_folds(lengths, config: Config, folds: int, step: int) -> None:
    """DataError unless every fold leaves some series enough points to train on."""
    need, longest = config.input_size + config.horizon + config.val_size, max(lengths)
    for k in range(folds):
        back = fold_holdout(config.horizon, k, step)
        if longest - back < need:
            raise DataError(f"fold {k + 1}: held out the last {back} steps, the longest series keeps "
                            f"{longest - back} points, fewer than training needs (input_size {config.input_size} "
                            f"+ horizon {config.horizon} + val_size {config.val_size} = {need}); "
                            "use fewer --folds, a smaller --horizon, or longer series")


def test_set_scores(series, ids, phase0, freq, test_series: dict, config: Config,
                    model: Forecaster | None = None, on_epoch=None, levels=()) -> tuple[Scores, Config]:
    """Train on all of `series` (or use `model`) and score against separate actuals:
    test_series maps id → the values that follow that series (at least `horizon` of them)."""
    forecaster = model or Forecaster(config).fit(series, ids, phase0, freq, on_epoch=on_epoch)
    h = forecaster.config.horizon
    keep = [i for i, name in enumerate(ids) if name in test_series and len(series[i]) >= forecaster.config.input_size]
    if not keep:
        raise DataError("no series of the test file matches a series of the data (by id)")
    short = [ids[i] for i in keep if len(test_series[ids[i]]) < h]
    if short:
        raise DataError(f"the test file has fewer than horizon = {h} values for series {short[0]!r}; "
                        "give --horizon to match the test file")
    longer = [ids[i] for i in keep if len(test_series[ids[i]]) > h]
    if longer:
        log.warning("the test file has more than horizon = %d values for %d series (e.g. %s); the first %d are scored "
                    "(train with --horizon N to score N)", h, len(longer), longer[0], h)
    for name in sorted(set(test_series) - {ids[i] for i in keep}):
        log.warning("test series %s has no matching training series; not scored", name)
    histories = [np.asarray(series[i]) for i in keep]
    actuals = np.array([np.asarray(test_series[ids[i]][:h]) for i in keep])
    p0 = [phase0[i] for i in keep] if phase0 is not None else None
    scores = Scores(levels=tuple(levels))
    forecasts, bounds = _with_intervals(forecaster, histories, p0, levels)
    score_methods(scores, histories, actuals, forecasts, forecaster.config.season, bounds)
    scores.series.extend(ids[i] for i in keep)
    scores.fold.extend([1] * len(keep))
    scores.cutoff.extend(len(series[i]) for i in keep)
    return scores, forecaster.config
