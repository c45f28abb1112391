"""Series → (past, future) training pairs, by index; and the scaling that goes with them.

A window is a pair (s, e) — series s, cut at step e: the network reads steps
[e − input_size, e) and learns steps [e, e + horizon).  Only these integer pairs are kept;
the values of a mini-batch are gathered from one flat array when the batch is drawn, so
memory stays at the size of the data, not input_size times it.

Scaling is per window and uses only the window's input, never its future:

    mean:     x̃ = x / s,         s = mean|x_input|      (1 where that is 0)
    standard: x̃ = (x − μ) / σ,   μ, σ of x_input        (σ := 1 where it is 0)
    global:   x̃ = (x − μ) / σ,   μ, σ of all training values (kept in the model file)

Targets are scaled with their input's statistics and forecasts are mapped back with them.
With `skip`, the network learns the difference from the seasonal naive forecast (the input's
last season repeated), so a network that outputs zeros already forecasts seasonal naive.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np


@dataclass
class Panel:
    """Several series in one flat array: series k is values[offsets[k]:offsets[k+1]].

    phase0[k] is the position of series k's first value on the data's clock (any integer,
    taken modulo the season; 0 when unknown).
    """

    values: np.ndarray
    offsets: np.ndarray
    phase0: np.ndarray

    @classmethod
    def from_series(cls, series, phase0=None) -> "Panel":
        lengths = np.array([len(s) for s in series], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)])
        values = np.concatenate([np.asarray(s, dtype=np.float64) for s in series]) if len(series) else np.zeros(0)
        phase0 = np.zeros(len(series), dtype=np.int64) if phase0 is None else np.asarray(phase0, dtype=np.int64)
        return cls(values, offsets, phase0)

    def digest(self) -> str:
        """A fingerprint of the values, their split into series and their clock positions."""
        h = hashlib.sha256()
        for a in (self.values, self.offsets, self.phase0):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def truncated(self, steps: int) -> "Panel":
        """Every series without its last `steps` values (one that short: empty)."""
        starts, ends = self.offsets[:-1], self.offsets[1:]
        return Panel.from_series([self.values[a:max(a, b - steps)] for a, b in zip(starts, ends)], self.phase0)

    def __len__(self) -> int:
        return len(self.offsets) - 1


def window_pairs(lengths: np.ndarray, input_size: int, horizon: int, holdout: int = 0) -> np.ndarray:
    """All (series, cut) pairs whose input and target lie within each series minus its last
    `holdout` steps: input_size ≤ e ≤ len − holdout − horizon.  Returns an (n, 2) int64 array."""
    lengths = np.asarray(lengths, dtype=np.int64)
    last_cut = lengths - holdout - horizon
    counts = np.maximum(last_cut - input_size + 1, 0)
    series = np.repeat(np.arange(len(lengths)), counts)
    # cut = input_size + (position within its series' run of windows)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    cuts = input_size + np.arange(counts.sum()) - np.repeat(starts, counts)
    return np.stack([series, cuts], axis=1)


def last_windows(lengths, input_size: int, horizon: int, last: int) -> np.ndarray:
    """The windows (series, cut) whose targets all lie in the last `last` steps of their series."""
    lengths = np.asarray(lengths)
    pairs = window_pairs(lengths, input_size, horizon)
    return pairs[pairs[:, 1] >= lengths[pairs[:, 0]] - last]


def at_most(n: int, limit: int, seed: int) -> np.ndarray | slice:
    """Rows to keep of n windows: all of them, or a seeded random `limit` of them in order."""
    if n <= limit:
        return slice(None)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def _mean_and_std(x: np.ndarray, axis):
    """Mean and standard deviation (1 where it is 0), computed on x / max|x| so that squaring
    cannot overflow for values beyond ~1e154."""
    size = np.abs(x).max(axis=axis, keepdims=axis is not None)
    size = np.where(size > 0, size, 1.0)
    z = x / size
    std = z.std(axis=axis, keepdims=axis is not None) * size
    return z.mean(axis=axis, keepdims=axis is not None) * size, np.where(std > 0, std, 1.0)


@dataclass(frozen=True)
class Scaler:
    """How windows are scaled; `mu`, `sigma` are used by the global method only."""

    method: str = "mean"
    mu: float = 0.0
    sigma: float = 1.0

    @classmethod
    def fit(cls, method: str, values: np.ndarray) -> "Scaler":
        if method != "global" or values.size == 0:
            return cls(method)
        mu, sigma = _mean_and_std(values, axis=None)
        return cls(method, float(mu), float(sigma))

    def stats(self, inputs: np.ndarray):
        """(shift, scale), each (B, 1), from the input windows (B, T)."""
        if self.method == "mean":
            scale = np.abs(inputs).mean(axis=1, keepdims=True)
            return np.zeros_like(scale), np.where(scale > 0, scale, 1.0)
        if self.method == "standard":
            return _mean_and_std(inputs, axis=1)
        ones = np.ones((inputs.shape[0], 1))
        return self.mu * ones, self.sigma * ones


def n_features(season: int, season_features: bool, patch: int = 1) -> int:
    """Per network step: `patch` consecutive scaled values, plus sin and cos of the phase of
    the patch's first value when the season is longer than 1."""
    return patch + (2 if season > 1 and season_features else 0)


def gather_inputs(panel: Panel, pairs: np.ndarray, input_size: int) -> np.ndarray:
    """Raw input windows (B, input_size) for the (series, cut) pairs."""
    start = panel.offsets[pairs[:, 0]] + pairs[:, 1] - input_size
    return panel.values[start[:, None] + np.arange(input_size)]


def histories(panel: Panel, pairs: np.ndarray) -> list:
    """Each window's whole past: the values of series k before cut, for the (k, cut) pairs."""
    return [panel.values[panel.offsets[k]:panel.offsets[k] + cut] for k, cut in pairs]


def gather_targets(panel: Panel, pairs: np.ndarray, horizon: int) -> np.ndarray:
    start = panel.offsets[pairs[:, 0]] + pairs[:, 1]
    return panel.values[start[:, None] + np.arange(horizon)]


def network_inputs(inputs: np.ndarray, shift, scale, phase_at_cut: np.ndarray, season: int,
                   season_features: bool, dtype, patch: int = 1) -> np.ndarray:
    """Time-major network input (T/patch, B, F).

    The window is cut into T/patch consecutive patches of `patch` values (the network reads
    one patch per step: with patch = season, one whole day of hourly data at a time); each
    step gets the patch's scaled values and, when wanted, the position within the season of
    its first value as (sin 2πp/m, cos 2πp/m) — a smooth clock the network can read.
    """
    B, T = inputs.shape
    steps = T // patch
    x = np.empty((steps, B, n_features(season, season_features, patch)), dtype=dtype)
    scaled = (inputs - shift) / scale
    x[:, :, :patch] = scaled.reshape(B, steps, patch).transpose(1, 0, 2)
    if x.shape[2] > patch:
        phase = (phase_at_cut[None, :] - T + patch * np.arange(steps)[:, None]) % season
        angle = 2 * np.pi * phase / season
        x[:, :, patch] = np.sin(angle)
        x[:, :, patch + 1] = np.cos(angle)
    return x


def phase_at(panel: Panel, pairs: np.ndarray) -> np.ndarray:
    """Position index (not yet reduced modulo the season) of the first forecast step of each pair."""
    return panel.phase0[pairs[:, 0]] + pairs[:, 1]


def seasonal_naive_part(inputs: np.ndarray, season: int, horizon: int) -> np.ndarray:
    """The last season of each input window repeated over the horizon, (B, horizon):
    base[:, k] = x[:, T − m + (k mod m)], with m = min(season, T)."""
    m = min(max(season, 1), inputs.shape[1])
    return inputs[:, inputs.shape[1] - m + np.arange(horizon) % m]


@dataclass
class Unscale:
    """How one batch's network outputs map back to data units:

        forecast = (ŷ + base) · scale + shift

    where base is the scaled seasonal naive forecast when the network learns the difference
    from it (skip connection), else 0."""

    shift: np.ndarray   # (B, 1)
    scale: np.ndarray   # (B, 1)
    base: np.ndarray    # (B, horizon), already scaled, or a scalar 0

    def to_data(self, net_out: np.ndarray) -> np.ndarray:
        return (net_out + self.base) * self.scale + self.shift

    def to_net(self, values: np.ndarray) -> np.ndarray:
        return (values - self.shift) / self.scale - self.base


@dataclass(frozen=True)
class WindowMaker:
    """Turns (series, cut) pairs into network-ready arrays with one fixed set of settings."""

    input_size: int
    horizon: int
    season: int
    season_features: bool
    scaler: Scaler
    dtype: type = np.float32
    skip: bool = False
    patch: int = 1

    @property
    def n_features(self) -> int:
        return n_features(self.season, self.season_features, self.patch)

    def inputs(self, panel: Panel, pairs: np.ndarray):
        """(x, unscale): network input (T, B, F) and how to map its outputs to data units."""
        raw = gather_inputs(panel, pairs, self.input_size)
        shift, scale = self.scaler.stats(raw)
        x = network_inputs(raw, shift, scale, phase_at(panel, pairs), self.season, self.season_features,
                           self.dtype, self.patch)
        base = ((seasonal_naive_part(raw, self.season, self.horizon) - shift) / scale) if self.skip else 0.0
        return x, Unscale(shift, scale, base)

    def batch(self, panel: Panel, pairs: np.ndarray):
        """(x, y): network input and the targets as the network should output them (B, horizon)."""
        x, unscale = self.inputs(panel, pairs)
        y = unscale.to_net(gather_targets(panel, pairs, self.horizon))
        return x, y.astype(self.dtype)
