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
import os
from dataclasses import dataclass, field, replace

import numpy as np

from . import blend, classical, intervals, network
from .config import Config
from .errors import ConfigError, DataError, TrainingError
from .frequency import detect_season, is_daily_cycle, season_and_horizon
from .ensemble import BatchSource, MemberJob, train_members
from .train import LoopState, TrainSettings
from .windows import Panel, Scaler, WindowMaker, at_most, gather_targets, histories, last_windows, window_pairs

log = logging.getLogger("forecast_cli")

MAX_VAL_WINDOWS = 10_000
PREDICT_CHUNK = 4096


def resolve(config: Config, lengths, freq: str | None, series=()) -> Config:
    """Fill every `auto` option from the data: season and horizon from the frequency (without
    one, the season from the autocorrelation of `series`, if given), the validation holdout
    from the horizon, the look-back from the season, horizon and the shortest series, the
    patch from the season and look-back."""
    season, horizon = season_and_horizon(freq)
    if not freq and config.season is None and len(series):
        season, strength = detect_season(series)
        log.warning("no calendar to tell the season from: %s; --season to set it", f"season {season} found in the data "
                    f"(autocorrelation {strength:.2f} at lag {season})" if season > 1 else "no season found in the data")
    season = config.season or season
    horizon = config.horizon or horizon
    val_size = horizon if config.val_size is None else config.val_size
    if 0 < val_size < horizon:
        raise ConfigError(f"val_size: {val_size} is shorter than the horizon ({horizon}); use 0 or at least {horizon}")
    input_size = config.input_size or auto_input_size(season, horizon, val_size, lengths)
    patch = config.patch or (season if season > 1 and input_size % season == 0 else 1)
    if input_size % patch:
        raise ConfigError(f"input_size: {input_size} is not a multiple of patch ({patch})")
    return config.replace(season=season, horizon=horizon, val_size=val_size, input_size=input_size, patch=patch)


def auto_input_size(season: int, horizon: int, val_size: int, lengths) -> int:
    """The look-back: a week of sub-daily data (a season of one day), else three seasons — at least two
    horizons either way, in whole seasons.  Shortened, in whole seasons where possible, so
    that the shortest series still gives training windows — but not below the horizon unless
    even the longest series needs it."""
    seasons = 7 if is_daily_cycle(season) else 3
    wanted = _round_up(max(2 * horizon, seasons * season), season)
    if not len(lengths):
        return wanted
    fits_all, fits_longest = (int(n) - horizon - val_size for n in (min(lengths), max(lengths)))
    if fits_all >= wanted:
        return wanted
    whole_seasons = fits_all - fits_all % season
    floor = min(wanted, horizon, fits_longest)  # one very short series should not starve the others
    return max(whole_seasons if whole_seasons >= season else fits_all, floor, 1)


def _round_up(n: int, multiple: int) -> int:
    return -(-n // multiple) * multiple


def auto_batches_per_epoch(n_windows: int, batch_size: int) -> int:
    """One pass over the windows, but at least 10 and at most 200 mini-batches."""
    return int(min(200, max(10, math.ceil(n_windows / batch_size))))


@dataclass
class Checkpoint:
    """A training run caught between epochs: with the same data, all it takes to resume."""

    config: Config            # resolved options
    scaler: Scaler
    loops: list               # per ensemble member: its LoopState, or None if not started
    data_digest: str          # fingerprint of the training data (Panel.digest)

    @property
    def member(self) -> int:
        """The last member that has started (in a sequential run: the one in training)."""
        return max((k for k, loop in enumerate(self.loops) if loop is not None), default=0)

    @property
    def loop(self) -> LoopState | None:
        return self.loops[self.member]


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
    calibration: intervals.Calibration | None = None     # prediction intervals (intervals.py); None: val_size 0
    classical_ahead: np.ndarray | None = None            # classical forecasts of the training series (blend < 1)

    @property
    def window_maker(self) -> WindowMaker:
        c = self.config
        return WindowMaker(c.input_size, c.horizon, c.season, c.season_features, self.scaler,
                           np.dtype(c.dtype).type, skip=c.skip, patch=c.patch)

    def fit(self, series, ids=None, phase0=None, freq: str | None = None, on_epoch=None,
            on_checkpoint=None, resume: "Checkpoint | None" = None, should_stop=None) -> "Forecaster":
        """Train on a list of 1-D arrays; `freq` (a pandas alias) fills the auto options.

        on_checkpoint(Checkpoint) is called after every epoch; `resume` continues from one
        (same data required; its options are used, but for `workers`); when should_stop() turns true, training
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
            self.config = resume.config.replace(workers=self.config.workers)
        c = self.config = resolve(self.config, panel.lengths, freq, series)
        usable = panel.lengths >= c.input_size + c.horizon
        self._report_skipped(ids, panel.lengths, usable, c.input_size + c.horizon)
        loops = list(resume.loops) if resume else [None] * c.ensemble
        if on_checkpoint:
            def report(k, loop):
                loops[k] = loop
                on_checkpoint(Checkpoint(c, self.scaler, list(loops), digest))
        loops = self._train(panel, loops, on_epoch, report if on_checkpoint else None, should_stop)
        self._remember_tails(panel, ids, usable)
        if self.members:
            self._blend_and_calibrate(panel, np.flatnonzero(usable), on_epoch, should_stop)
        return self

    def _train(self, panel: Panel, loops: list, on_epoch, on_state, should_stop) -> list:
        """Fit the scaler and bring the members' loops to their end (ensemble.train_members);
        keeps the members that finished an epoch."""
        c = self.config
        train_pairs = self._training_pairs(panel)
        self.scaler = Scaler.fit(c.scaling, panel.values)
        maker = self.window_maker
        val = self._validation_set(panel, maker) if c.val_size else None
        settings = TrainSettings(c.epochs, c.batches_per_epoch or auto_batches_per_epoch(len(train_pairs), c.batch_size),
                                 c.batch_size, c.learning_rate, c.lr_schedule, c.optimizer, c.weight_decay,
                                 c.clip_norm, c.loss, c.patience, c.dropout)
        shape = network.Shape(maker.n_features, c.hidden_size, c.num_layers, c.horizon, c.cell)
        job = MemberJob(BatchSource(panel, train_pairs, maker, c.batch_size), val, settings, shape,
                        np.dtype(c.dtype), c.seed, c.ensemble, zero_head=c.skip)
        loops = train_members(job, loops, self._workers(), on_epoch, on_state, should_stop)
        # a member stopped before its first epoch ended has learnt nothing
        done = [loop for loop in loops if loop is not None and loop.epoch > 0]
        self.members = [loop.best_params for loop in done]
        self.histories = [loop.history for loop in done]
        self.interrupted = not all(loop is not None and loop.finished for loop in loops)
        if self.interrupted:
            self.config = c.replace(ensemble=max(len(self.members), 1))
        return loops

    def _blend_and_calibrate(self, panel: Panel, keep: np.ndarray, on_epoch, should_stop) -> None:
        """After the members: the twin when validation windows are few (_train_twin), the
        classical blend's weight chosen on the held-out windows of both (blend.py), and the
        interval calibration of the blended forecast on the same windows (intervals.py)."""
        holdout = 0 if self.interrupted else intervals.twin_holdout(panel.lengths, self.config)
        twin = self._train_twin(panel, holdout, on_epoch, should_stop) if holdout else None
        if self.config.blend is None:
            self._choose_blend(panel, twin, holdout)
        if twin is not None:
            twin.config = twin.config.replace(blend=self.config.blend)
        if self.lstm_weight < 1:
            self.classical_ahead = self._classical(panel, np.stack([keep, panel.lengths[keep]], axis=1))
        self.calibration = intervals.calibrate(self, panel, keep, twin, holdout)

    def _choose_blend(self, panel: Panel, twin: "Forecaster | None", holdout: int) -> None:
        """Set config.blend to blend.choose's weight on the validation windows (and the twin's
        holdout windows): 1, the LSTM alone, when there are none."""
        c = self.config
        held = [(self, self._validation_pairs(panel))]
        if twin is not None:
            held.append((twin, intervals.holdout_windows(panel.lengths, c.input_size, c.horizon, holdout, c.seed)))
        held = [(model, pairs) for model, pairs in held if len(pairs)]
        if not held:
            self.config = c.replace(blend=1.0)
            return
        actual, lstm, classic, scale = (np.concatenate(parts) for parts in zip(*(
            (gather_targets(panel, pairs, c.horizon), model._network_forecasts(panel, pairs),
             self._classical(panel, pairs), intervals.history_scales(panel, pairs, c.season))
            for model, pairs in held)))
        self.config = c.replace(blend=blend.choose(actual, lstm, classic, scale))

    @property
    def lstm_weight(self) -> float:
        """The LSTM's weight in the forecast (config.blend; 1 for models from before the blend)."""
        return 1.0 if self.config.blend is None else self.config.blend

    def _classical(self, panel: Panel, pairs: np.ndarray) -> np.ndarray:
        """classical.combined for each window's whole past."""
        c = self.config
        return classical.combined(histories(panel, pairs), c.horizon, c.season)

    def _train_twin(self, panel: Panel, holdout: int, on_epoch, should_stop) -> "Forecaster | None":
        """This model trained again without the last `holdout` steps of every series (its
        progress reported with stage "intervals"); None if that fails (a warning) or is
        stopped (then this run counts as interrupted: the model is whole, but a stop was asked)."""
        twin = Forecaster(self.config)
        to_twin = (lambda report: on_epoch(replace(report, stage="intervals"))) if on_epoch else None
        try:
            twin._train(panel.truncated(holdout), [None] * self.config.ensemble, to_twin, None, should_stop)
        except TrainingError as exc:
            log.warning("intervals calibrated on the validation windows alone: the twin that checks them did "
                        "not train (%s)", exc)
            return None
        self.interrupted = twin.interrupted
        return None if twin.interrupted else twin

    def _workers(self) -> int:
        """Processes for the ensemble: `workers`, or auto — one per core, at most the ensemble."""
        return self.config.workers or min(os.cpu_count() or 1, self.config.ensemble)

    def _training_pairs(self, panel: Panel) -> np.ndarray:
        c = self.config
        pairs = window_pairs(panel.lengths, c.input_size, c.horizon, holdout=c.val_size)
        if len(pairs) == 0:
            need = c.input_size + c.horizon + c.val_size
            options = [f"--{name}" for name, value in (("input-size", c.input_size), ("horizon", c.horizon),
                                                        ("val-size", c.val_size)) if value > 1]
            hint = f"try a smaller {' or '.join(options)}" if options else "use longer series"
            raise DataError(f"no training windows: a series needs at least {need} points (input_size {c.input_size} "
                            f"+ horizon {c.horizon} + val_size {c.val_size}); the longest has {panel.lengths.max()}; "
                            + hint)
        return pairs

    def _validation_pairs(self, panel: Panel) -> np.ndarray:
        """Windows whose targets fall in each series' last val_size steps (at most 10,000)."""
        c = self.config
        pairs = last_windows(panel.lengths, c.input_size, c.horizon, c.val_size)
        return pairs[at_most(len(pairs), MAX_VAL_WINDOWS, c.seed)]

    def _validation_set(self, panel: Panel, maker: WindowMaker):
        pairs = self._validation_pairs(panel)
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

        Returns (n_series, horizon) in the data's units: the median over ensemble members,
        mixed with the classical forecast of each whole series when config.blend < 1 (blend.py).
        """
        if not self.members:
            raise DataError("the model is not trained")
        c, n = self.config, self.config.input_size
        if series is None:
            series, phase0, classic = self.tails, self.tail_phase0, self.classical_ahead
            if classic is None and self.lstm_weight < 1:
                raise DataError("the model keeps no classical forecasts of its training series; pass the series")
        else:
            short = [k for k, s in enumerate(series) if len(s) < n]
            if short:
                raise DataError(f"{len(short)} series have fewer than input_size = {n} points; the model needs {n} to forecast")
            classic = classical.combined(series, c.horizon, c.season) if self.lstm_weight < 1 else None
        # no phase0 means each series' clock starts at its first value, as in fit — not at the
        # first value of the window read here
        phase0 = [0] * len(series) if phase0 is None else phase0
        panel = Panel.from_series([np.asarray(s, dtype=np.float64)[-n:] for s in series],
                                  [p + len(s) - n for p, s in zip(phase0, series)])
        lstm = self._network_forecasts(panel, np.stack([np.arange(len(panel)), np.full(len(panel), n)], axis=1))
        return lstm if classic is None else blend.mix(self.lstm_weight, lstm, classic)

    def window_forecasts(self, panel: Panel, pairs: np.ndarray) -> np.ndarray:
        """Forecasts (data units) for windows (series, cut) of `panel`, from all of each series
        before its cut: what `predict` returns for cut = the series' end, for any cut."""
        lstm = self._network_forecasts(panel, pairs)
        if self.lstm_weight == 1:
            return lstm
        return blend.mix(self.lstm_weight, lstm, self._classical(panel, pairs))

    def _network_forecasts(self, panel: Panel, pairs: np.ndarray) -> np.ndarray:
        """The members' median forecast (data units) for windows (series, cut) of `panel`."""
        out = np.empty((len(pairs), self.config.horizon))
        for start in range(0, len(pairs), PREDICT_CHUNK):
            rows = slice(start, start + PREDICT_CHUNK)
            x, unscale = self.window_maker.inputs(panel, pairs[rows])
            out[rows] = np.median(np.stack([unscale.to_data(network.predict(p, x)) for p in self.members]), axis=0)
        return out
