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

    All parameters are updated as one flat vector: the moments live in two flat buffers and
    the gradients are gathered into a third, so a step costs ≈ 20 NumPy calls however many
    arrays there are (per array it was ≈ 14 each — 7 % of a small network's training step).
    `state` shows the moments per array (`m.<name>`, `v.<name>`: views of the buffers), as a
    checkpoint stores them; assigning a state copies it in.
    """

    def __init__(self, params, weight_decay=0.0, beta1=0.9, beta2=0.999, eps=1e-8):
        self.weight_decay, self.beta1, self.beta2, self.eps = weight_decay, beta1, beta2, eps
        self._shapes = {name: p.shape for name, p in params.items()}
        ends = np.cumsum([p.size for p in params.values()])
        self._slices = {name: slice(e - p.size, e) for (name, p), e in zip(params.items(), ends)}
        size, dtype = int(ends[-1]) if len(ends) else 0, np.result_type(*params.values())
        self._m, self._v, self._g, self._scratch = (np.zeros(size, dtype) for _ in range(4))
        self._steps = self._views(self._scratch)   # each array's share of the update, made once
        self._step = np.zeros((), dtype=np.int64)

    def _views(self, flat: np.ndarray) -> dict:
        return {name: flat[where].reshape(self._shapes[name]) for name, where in self._slices.items()}

    @property
    def state(self) -> dict:
        m, v = self._views(self._m), self._views(self._v)
        return {"step": self._step, **{f"m.{n}": a for n, a in m.items()}, **{f"v.{n}": a for n, a in v.items()}}

    @state.setter
    def state(self, arrays: dict) -> None:
        self._step[...] = arrays["step"]
        for name, where in self._slices.items():
            self._m[where] = arrays[f"m.{name}"].ravel()
            self._v[where] = arrays[f"v.{name}"].ravel()

    def update(self, params, grads, lr: float) -> None:
        self._step += 1
        t = int(self._step)
        correct1, correct2 = 1 - self.beta1 ** t, math.sqrt(1 - self.beta2 ** t)
        g, m, v, tmp = self._g, self._m, self._v, self._scratch
        np.concatenate([grads[name].ravel() for name in self._slices], out=g)
        if self.weight_decay:
            np.concatenate([params[name].ravel() for name in self._slices], out=tmp)
            g += self.weight_decay * tmp
        m *= self.beta1
        m += np.multiply(g, 1 - self.beta1, out=tmp)
        v *= self.beta2
        np.multiply(g, g, out=tmp)
        v += np.multiply(tmp, 1 - self.beta2, out=tmp)
        # θ −= lr · m̂ / (√v̂ + ε), with m̂ = m / (1−β₁ᵗ) and √v̂ = √v / √(1−β₂ᵗ)
        np.sqrt(v, out=tmp)
        tmp /= correct2
        tmp += self.eps
        np.divide(np.multiply(m, lr / correct1, out=g), tmp, out=tmp)
        for name, step in self._steps.items():
            params[name] -= step.astype(params[name].dtype, copy=False)


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
