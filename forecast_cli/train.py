"""The training loop: mini-batches, loss, clipping, optimiser, schedule, early stopping.

It knows nothing of data files or terminals: batches come from a callable, progress leaves
through a callback, so the CLI can draw it and a library user can log it.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

import numpy as np

from . import network
from .errors import TrainingError
from .optim import OPTIMIZERS, clip_by_global_norm, learning_rate


def loss_and_grad(pred: np.ndarray, target: np.ndarray, kind: str):
    """Mean loss over all B·h values and its gradient ∂L/∂pred, in pred's dtype (so float64
    targets do not turn the float32 backward pass into float64).

    mae: L = mean|ŷ − y|,  ∂L/∂ŷ = sign(ŷ − y) / (B·h)
    mse: L = mean(ŷ − y)², ∂L/∂ŷ = 2(ŷ − y) / (B·h)
    """
    err = pred - target
    if kind == "mae":
        loss, grad = float(np.abs(err).mean()), np.sign(err) / err.size
    else:
        loss, grad = float((err * err).mean()), 2.0 * err / err.size
    return loss, grad.astype(pred.dtype, copy=False)


@dataclass
class EpochReport:
    """Sent to the progress callback after every epoch."""

    member: int          # which ensemble member (0-based) is training
    members: int
    epoch: int           # 1-based
    epochs: int
    train_loss: float
    val_loss: Optional[float]
    lr: float
    seconds: float       # wall time of this epoch
    best_epoch: int
    patience: Optional[int] = None   # early stopping ends the run this many epochs after the best; None: no validation set
    stage: str = "training"   # or "intervals": the twin that calibrates them (Forecaster._calibrate)
    run: str = ""             # which of several trainings this is, e.g. "fold 2/3" (evaluate.backtest)


@dataclass
class History:
    train_loss: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False

    def to_dict(self) -> dict:
        return dict(train_loss=self.train_loss, val_loss=self.val_loss, lr=self.lr,
                    best_epoch=self.best_epoch, stopped_early=self.stopped_early)


@dataclass
class TrainSettings:
    """The subset of Config the loop uses (all resolved, nothing auto)."""

    epochs: int
    batches_per_epoch: int
    batch_size: int
    learning_rate: float
    lr_schedule: str
    optimizer: str
    weight_decay: float
    clip_norm: float
    loss: str
    patience: int
    dropout: float


@dataclass
class LoopState:
    """Everything the loop needs to continue exactly where it left off after an epoch:
    resuming from it gives the same weights, array for array, as never having stopped."""

    params: dict
    optimizer: dict                    # the optimiser's state arrays
    rng: dict                          # the generator's bit_generator.state
    epoch: int = 0                     # epochs completed
    best_params: Optional[dict] = None
    best_loss: float = float("inf")
    waited: int = 0                    # epochs since the best one
    history: History = field(default_factory=History)
    finished: bool = False             # early-stopped or ran all epochs


def _train_epoch(params, opt, draw_batch, s: TrainSettings, rng, lr: float, epoch: int, should_stop):
    """One epoch of mini-batches: forward, loss, backward, clip, update.  Returns (the losses,
    whether should_stop() turned true after a batch)."""
    losses = []
    for _ in range(s.batches_per_epoch):
        x, y = draw_batch(rng)
        pred, cache = network.forward(params, x, s.dropout, rng)
        loss, dpred = loss_and_grad(pred, y, s.loss)
        if not np.isfinite(loss):
            raise _diverged(epoch, "loss", loss, s)
        grads = network.backward(params, cache, dpred)
        clip_by_global_norm(grads, s.clip_norm)
        opt.update(params, grads, lr)
        losses.append(loss)
        if should_stop and should_stop():
            return losses, True
    return losses, False


def _diverged(epoch: int, what: str, value, s: TrainSettings) -> TrainingError:
    return TrainingError(f"training diverged in epoch {epoch + 1}: the {what} became {value}; "
                         f"try a lower --learning-rate (now {s.learning_rate:g})")


def fit_network(params, draw_batch: Callable, val: Optional[tuple], s: TrainSettings,
                rng: np.random.Generator, on_epoch: Callable[[EpochReport], None] | None = None,
                member: int = 0, members: int = 1, state: LoopState | None = None,
                on_state: Callable[[LoopState], None] | None = None,
                should_stop: Callable[[], bool] | None = None) -> LoopState:
    """Train `params` in place; return the final LoopState (best weights in `best_params`).

    draw_batch(rng) → (x, y) gives one training mini-batch.  `val` = (x, y) is the held-out
    set for early stopping; the weights of the epoch with the lowest validation loss are
    kept (without it, the lowest training loss).  `state` resumes an earlier run;
    `on_state` sees the state after every epoch (for checkpoints); when `should_stop()`
    turns true the loop returns after the current mini-batch, unfinished, keeping the best
    weights so far.  A NaN or infinite loss raises TrainingError: no diverged weights leave.
    """
    opt = OPTIMIZERS[s.optimizer](params, weight_decay=s.weight_decay)
    if state is None:
        state = LoopState(params, opt.state, rng.bit_generator.state, best_params=copy.deepcopy(params))
    else:
        params.update(state.params)
        opt.state = state.optimizer
        rng.bit_generator.state = state.rng
    state.params, state.optimizer = params, opt.state
    history = state.history
    while state.epoch < s.epochs and not state.finished:
        epoch, started = state.epoch, time.perf_counter()
        lr = learning_rate(s.lr_schedule, s.learning_rate, epoch, s.epochs)
        # overflow is not an accident to warn about here: it is divergence, and said so below
        with np.errstate(over="ignore", invalid="ignore"):
            losses, stopped = _train_epoch(params, opt, draw_batch, s, rng, lr, epoch, should_stop)
        if stopped:
            return state
        if not all(np.isfinite(p).all() for p in params.values()):
            raise _diverged(epoch, "weights", "infinite or NaN", s)
        with np.errstate(over="ignore", invalid="ignore"):
            val_loss = loss_and_grad(network.predict(params, val[0]), val[1], s.loss)[0] if val else None
        score = val_loss if val else float(np.mean(losses))
        if not np.isfinite(score):
            raise _diverged(epoch, "validation loss" if val else "loss", score, s)
        if score < state.best_loss:
            state.best_loss, state.best_params, state.waited = score, copy.deepcopy(params), 0
            history.best_epoch = epoch + 1
        else:
            state.waited += 1
        history.train_loss.append(float(np.mean(losses)))
        history.val_loss.append(val_loss)
        history.lr.append(lr)
        state.epoch, state.rng = epoch + 1, rng.bit_generator.state
        if val and state.waited >= s.patience:
            history.stopped_early = True
        state.finished = history.stopped_early or state.epoch >= s.epochs
        if on_epoch:
            on_epoch(EpochReport(member, members, epoch + 1, s.epochs, history.train_loss[-1], val_loss, lr,
                                 time.perf_counter() - started, history.best_epoch, s.patience if val else None))
        if on_state:
            on_state(state)
    return state
