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
    """Mean loss over all B·h values and its gradient ∂L/∂pred.

    mae: L = mean|ŷ − y|,  ∂L/∂ŷ = sign(ŷ − y) / (B·h)
    mse: L = mean(ŷ − y)², ∂L/∂ŷ = 2(ŷ − y) / (B·h)
    """
    err = pred - target
    if kind == "mae":
        return float(np.abs(err).mean()), np.sign(err) / err.size
    return float((err * err).mean()), 2.0 * err / err.size


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


def fit_network(params, draw_batch: Callable, val: Optional[tuple], s: TrainSettings,
                rng: np.random.Generator, on_epoch: Callable[[EpochReport], None] | None = None,
                member: int = 0, members: int = 1):
    """Train `params` in place; return (best params, History).

    draw_batch(rng) → (x, y) gives one training mini-batch.  `val` = (x, y) is the held-out
    set for early stopping; the weights of the epoch with the lowest validation loss are
    kept.  Without it, the last epoch's weights are kept.
    """
    opt = OPTIMIZERS[s.optimizer](params, weight_decay=s.weight_decay)
    history = History()
    best_loss, best_params, waited = np.inf, copy.deepcopy(params), 0
    for epoch in range(s.epochs):
        started = time.perf_counter()
        lr = learning_rate(s.lr_schedule, s.learning_rate, epoch, s.epochs)
        losses = []
        for _ in range(s.batches_per_epoch):
            x, y = draw_batch(rng)
            pred, cache = network.forward(params, x, s.dropout, rng)
            loss, dpred = loss_and_grad(pred, y, s.loss)
            if not np.isfinite(loss):
                raise TrainingError(f"training diverged in epoch {epoch + 1}: the loss became {loss}; "
                                    f"try a lower --learning-rate (now {s.learning_rate:g})")
            grads = network.backward(params, cache, dpred.astype(pred.dtype))
            clip_by_global_norm(grads, s.clip_norm)
            opt.update(params, grads, lr)
            losses.append(loss)
        val_loss = loss_and_grad(network.predict(params, val[0]), val[1], s.loss)[0] if val else None
        score = val_loss if val else float(np.mean(losses))
        if not np.isfinite(score):
            raise TrainingError(f"training diverged in epoch {epoch + 1}: the validation loss became {score}; "
                                f"try a lower --learning-rate (now {s.learning_rate:g})")
        if score < best_loss:
            best_loss, best_params, waited, history.best_epoch = score, copy.deepcopy(params), 0, epoch + 1
        else:
            waited += 1
        history.train_loss.append(float(np.mean(losses)))
        history.val_loss.append(val_loss)
        history.lr.append(lr)
        if on_epoch:
            on_epoch(EpochReport(member, members, epoch + 1, s.epochs, history.train_loss[-1], val_loss, lr,
                                 time.perf_counter() - started, history.best_epoch))
        if val and waited >= s.patience:
            history.stopped_early = True
            break
    return best_params, history
