"""Optimisers, gradient clipping and learning-rate schedules over a dict of named arrays.

Optimiser state is a dict of arrays too, so a checkpoint can hold it next to the weights.
"""

from __future__ import annotations

import math

import numpy as np


def clip_by_global_norm(grads: dict[str, np.ndarray], max_norm: float) -> float:
    """Scale all gradients in place by min(1, max_norm / ‖g‖₂) over all of them; return ‖g‖₂."""
    norm = math.sqrt(sum(float(np.vdot(g, g)) for g in grads.values()))
    if max_norm > 0 and norm > max_norm:
        scale = max_norm / (norm + 1e-12)
        for g in grads.values():
            g *= scale
    return norm


class Adam:
    """Adam (Kingma & Ba 2015) with L2 weight decay added to the gradient:

        g ← g + λθ;   m ← β₁m + (1−β₁)g;   v ← β₂v + (1−β₂)g²
        θ ← θ − lr · m̂ / (√v̂ + ε),   m̂ = m/(1−β₁ᵗ),  v̂ = v/(1−β₂ᵗ)
    """

    def __init__(self, params, weight_decay=0.0, beta1=0.9, beta2=0.999, eps=1e-8):
        self.weight_decay, self.beta1, self.beta2, self.eps = weight_decay, beta1, beta2, eps
        self.state = {"step": np.zeros((), dtype=np.int64)}
        for name, p in params.items():
            self.state[f"m.{name}"] = np.zeros_like(p)
            self.state[f"v.{name}"] = np.zeros_like(p)

    def update(self, params, grads, lr: float) -> None:
        self.state["step"] += 1
        t = int(self.state["step"])
        correct1, correct2 = 1 - self.beta1 ** t, math.sqrt(1 - self.beta2 ** t)
        for name, p in params.items():
            g = grads[name]
            if self.weight_decay:
                g = g + self.weight_decay * p
            m, v = self.state[f"m.{name}"], self.state[f"v.{name}"]
            m *= self.beta1; m += (1 - self.beta1) * g
            v *= self.beta2; v += (1 - self.beta2) * (g * g)
            # θ −= lr · m̂ / (√v̂ + ε), with m̂ = m / (1−β₁ᵗ) and √v̂ = √v / √(1−β₂ᵗ)
            p -= ((lr / correct1) * m / (np.sqrt(v) / correct2 + self.eps)).astype(p.dtype, copy=False)


class SGD:
    """Plain stochastic gradient descent: θ ← θ − lr · (g + λθ)."""

    def __init__(self, params, weight_decay=0.0):
        self.weight_decay = weight_decay
        self.state = {"step": np.zeros((), dtype=np.int64)}

    def update(self, params, grads, lr: float) -> None:
        self.state["step"] += 1
        for name, p in params.items():
            g = grads[name] + self.weight_decay * p if self.weight_decay else grads[name]
            p -= (lr * g).astype(p.dtype, copy=False)


OPTIMIZERS = {"adam": Adam, "sgd": SGD}


def learning_rate(schedule: str, base_lr: float, epoch: int, epochs: int) -> float:
    """The rate for `epoch` (0-based) of `epochs`.

    cosine:   lr₀ · (0.01 + 0.99 · ½(1 + cos(π·e/E)))   — decays to 1% of lr₀
    step:     lr₀ · 0.5^⌊4e/E⌋                          — halves at each quarter
    constant: lr₀
    """
    if schedule == "cosine":
        return base_lr * (0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * epoch / epochs)))
    if schedule == "step":
        return base_lr * 0.5 ** math.floor(4 * epoch / epochs)
    return base_lr
