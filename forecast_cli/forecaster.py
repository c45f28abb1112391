"""Fit and predict: ties series, windows, network and training together (NumPy in, NumPy out).

    f = Forecaster(Config(horizon=12))
    f.fit([np.array([...]), np.array([...])], freq="MS")
    f.predict()                       # (n_series, horizon): continues the training series
    f.predict([new_series])           # any series with at least input_size points

pandas stays outside: series are 1-D float arrays; `phase0` gives each series' first value's
position on the data's clock (periods since any fixed origin; used modulo the season).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from . import network
from .config import Config
from .errors import ConfigError, DataError
from .frequency import season_and_horizon
from .train import LoopState, TrainSettings, fit_network
from .windows import Panel, Scaler, WindowMaker, window_pairs

log = logging.getLogger("forecast_cli")

MAX_VAL_WINDOWS = 10_000
PREDICT_CHUNK = 4096


def resolve(config: Config, lengths, freq: str | None) -> Config:
    """Fill every `auto` option from the data: season and horizon from the frequency, the
    validation holdout from the horizon, the look-back from the season, horizon and the
    shortest series, the batches per epoch from the number of windows."""
    season, horizon = season_and_horizon(freq)
    season = config.season or season
    horizon = config.horizon or horizon
    val_size = horizon if config.val_size is None else config.val_size
    if 0 < val_size < horizon:
        raise ConfigError(f"val_size: {val_size} is shorter than the horizon ({horizon}); use 0 or at least {horizon}")
    input_size = config.input_size or auto_input_size(season, horizon, val_size, lengths)
    return config.replace(season=season, horizon=horizon, val_size=val_size, input_size=input_size)


def auto_input_size(season: int, horizon: int, val_size: int, lengths) -> int:
    """max(2·horizon, 3·season), shortened so the shortest series still gives training windows,
    but never below min(that, max(horizon, season, 4))."""
    wanted = max(2 * horizon, 3 * season)
    fits_all = int(min(lengths)) - horizon - val_size if len(lengths) else wanted
    floor = min(wanted, max(horizon, season, 4))
    return max(floor, min(wanted, fits_all))


def auto_batches_per_epoch(n_windows: int, batch_size: int) -> int:
    """One pass over the windows, but at least 10 and at most 200 mini-batches."""
    return int(min(200, max(10, math.ceil(n_windows / batch_size))))


@dataclass
class Checkpoint:
    """A training run caught between two epochs: with the same data, all it takes to resume."""

    config: Config            # resolved options
    scaler: Scaler
    members: list             # best weights of the ensemble members already trained
    histories: list           # their histories
    member: int               # the member in training …
    loop: LoopState           # … and its loop state
    data_digest: str          # fingerprint of the training data (Panel.digest)


@dataclass
class Forecaster:
    """A trained (or to-be-trained) ensemble of LSTM networks and what it needs to forecast."""

    config: Config
    members: list = field(default_factory=list)          # one params dict per ensemble member
    scaler: Scaler = field(default_factory=Scaler)
    histories: list = field(default_factory=list)        # one History per member
    series_ids: list = field(default_factory=list)       # the training series …
    tails: list = field(default_factory=list)            # … their last input_size values
    tail_phase0: list = field(default_factory=list)      # … and their first value's clock position
    interrupted: bool = False                            # fit stopped early on request

    @property
    def window_maker(self) -> WindowMaker:
        c = self.config
        return WindowMaker(c.input_size, c.horizon, c.season, c.season_features, self.scaler,
                           np.dtype(c.dtype).type, skip=c.skip)

    def fit(self, series, ids=None, phase0=None, freq: str | None = None, on_epoch=None,
            on_checkpoint=None, resume: "Checkpoint | None" = None, should_stop=None) -> "Forecaster":
        """Train on a list of 1-D arrays; `freq` (a pandas alias) fills the auto options.

        on_checkpoint(Checkpoint) is called after every epoch; `resume` continues from one
        (same data required; its options are used); when should_stop() turns true, training
        ends after the current mini-batch with the best weights so far and
        `self.interrupted` set (members that finished no epoch are dropped, so `members`
        may be empty).
        """
        ids = [str(i) for i in (ids if ids is not None else range(len(series)))]
        panel = Panel.from_series(series, phase0)
        digest = panel.digest()
        if resume is not None:
            if resume.data_digest != digest:
                raise DataError("the checkpoint was made on different data; resume with the data it was trained on")
            self.config = resume.config
        c = self.config = resolve(self.config, panel.lengths, freq)
        usable = panel.lengths >= c.input_size + c.horizon
        self._report_skipped(ids, panel.lengths, usable, c.input_size + c.horizon)
        train_pairs = self._training_pairs(panel)
        self.scaler = Scaler.fit(c.scaling, panel.values)
        maker = self.window_maker
        val = self._validation_set(panel, maker) if c.val_size else None
        settings = TrainSettings(c.epochs, c.batches_per_epoch or auto_batches_per_epoch(len(train_pairs), c.batch_size),
                                 c.batch_size, c.learning_rate, c.lr_schedule, c.optimizer, c.weight_decay,
                                 c.clip_norm, c.loss, c.patience, c.dropout)
        shape = network.Shape(maker.n_features, c.hidden_size, c.num_layers, c.horizon)

        def draw_batch(rng):
            pick = rng.integers(0, len(train_pairs), size=min(c.batch_size, len(train_pairs)))
            return maker.batch(panel, train_pairs[pick])

        self.members, self.histories = (list(resume.members), list(resume.histories)) if resume else ([], [])
        self.interrupted = False
        for k in range(len(self.members), c.ensemble):
            rng = np.random.default_rng([c.seed, k])
            params = network.init_params(shape, rng, np.dtype(c.dtype))
            report = (lambda loop, k=k: on_checkpoint(Checkpoint(c, self.scaler, list(self.members),
                                                                 list(self.histories), k, loop, digest))
                      ) if on_checkpoint else None
            loop = fit_network(params, draw_batch, val, settings, rng, on_epoch, k, c.ensemble,
                               state=resume.loop if resume and k == resume.member else None,
                               on_state=report, should_stop=should_stop)
            if loop.epoch > 0:  # a member stopped before its first epoch ended has learnt nothing
                self.members.append(loop.best_params)
                self.histories.append(loop.history)
            if not loop.finished:
                self.interrupted = True
                self.config = c.replace(ensemble=max(len(self.members), 1))
                break
        self._remember_tails(panel, ids, usable)
        return self

    def _training_pairs(self, panel: Panel) -> np.ndarray:
        c = self.config
        pairs = window_pairs(panel.lengths, c.input_size, c.horizon, holdout=c.val_size)
        if len(pairs) == 0:
            need = c.input_size + c.horizon + c.val_size
            raise DataError(f"no training windows: a series needs at least {need} points (input_size {c.input_size} "
                            f"+ horizon {c.horizon} + val_size {c.val_size}); the longest has {panel.lengths.max()}. "
                            "Try a smaller --input-size, --horizon or --val-size")
        return pairs

    def _validation_set(self, panel: Panel, maker: WindowMaker):
        """Windows whose targets fall in each series' last val_size steps (at most 10,000)."""
        c = self.config
        lengths = panel.lengths
        pairs = window_pairs(lengths, c.input_size, c.horizon)
        pairs = pairs[pairs[:, 1] >= lengths[pairs[:, 0]] - c.val_size]
        if len(pairs) > MAX_VAL_WINDOWS:
            pick = np.random.default_rng(c.seed).choice(len(pairs), MAX_VAL_WINDOWS, replace=False)
            pairs = pairs[np.sort(pick)]
        return maker.batch(panel, pairs) if len(pairs) else None

    @staticmethod
    def _report_skipped(ids, lengths, usable, need):
        if not usable.any():
            raise DataError(f"every series is shorter than input_size + horizon = {need} points "
                            f"(the longest has {lengths.max()}); try a smaller --input-size or --horizon")
        for k in np.flatnonzero(~usable):
            log.warning("series %s skipped: %d points, fewer than input_size + horizon = %d", ids[k], lengths[k], need)

    def _remember_tails(self, panel: Panel, ids, usable):
        n = self.config.input_size
        keep = np.flatnonzero(usable)
        self.series_ids = [ids[k] for k in keep]
        self.tails = [panel.values[panel.offsets[k + 1] - n:panel.offsets[k + 1]].copy() for k in keep]
        self.tail_phase0 = [int(panel.phase0[k] + panel.lengths[k] - n) for k in keep]

    def predict(self, series=None, phase0=None) -> np.ndarray:
        """Forecast `horizon` steps after the end of each series (default: the training series).

        Returns (n_series, horizon): the median over ensemble members, in the data's units.
        """
        if not self.members:
            raise DataError("the model is not trained")
        if series is None:
            series, phase0 = self.tails, self.tail_phase0
        n = self.config.input_size
        short = [k for k, s in enumerate(series) if len(s) < n]
        if short:
            raise DataError(f"{len(short)} series have fewer than input_size = {n} points; the model needs {n} to forecast")
        panel = Panel.from_series([np.asarray(s, dtype=np.float64)[-n:] for s in series],
                                  None if phase0 is None else [p + len(s) - n for p, s in zip(phase0, series)])
        out = np.empty((len(panel), self.config.horizon))
        for start in range(0, len(panel), PREDICT_CHUNK):
            rows = np.arange(start, min(start + PREDICT_CHUNK, len(panel)))
            pairs = np.stack([rows, np.full(len(rows), n)], axis=1)
            x, unscale = self.window_maker.inputs(panel, pairs)
            each = [unscale.to_data(network.predict(params, x)) for params in self.members]
            out[rows] = np.median(np.stack(each), axis=0)
        return out
