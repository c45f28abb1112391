"""The network: stacked recurrent layers (LSTM or GRU) and a dense head from the last hidden
state to the horizon.

    h^(1) = RNN_1(x)           h^(k) = RNN_k(dropout(h^(k-1)))
    ŷ = h^(L)_T Wd + bd        (B, horizon): every future step at once (direct multi-output)

Parameters are a flat dict of named arrays — ``lstm.{k}.Wx``, ``lstm.{k}.Wh``, ``lstm.{k}.b``
(or ``gru.{k}.Wx``, ``gru.{k}.Wh``, ``gru.{k}.bx``, ``gru.{k}.bh``), ``head.W``, ``head.b`` — so
the optimiser, the model file and the tests treat them alike; the names say the cell.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import gru, lstm
from .lstm import blas_threads, one_blas_thread


PARALLEL_MIN = 8192    # predict splits a batch in blocks for threads from 2 × this many columns × hidden units


@dataclass(frozen=True)
class Shape:
    """Everything that fixes the parameter shapes."""

    n_inputs: int
    hidden_size: int
    num_layers: int
    horizon: int
    cell: str = "lstm"


@dataclass(frozen=True)
class Cell:
    """One kind of recurrent layer: its arrays and its functions (lstm.py, gru.py)."""

    names: tuple            # a layer's arrays, "{cell}.{k}.{name}", in the order forward takes them
    gates: int              # gate blocks of H columns in Wx, Wh
    forward: Callable       # (x, *arrays) → (h, cache)
    backward: Callable      # (dh_out, cache, Wx, Wh, first_grad_step, need_dx) → (dx, *∂arrays, stop)
    fuse: Callable          # (*arrays, columns) → the fused weights forward_fused takes
    forward_fused: Callable  # (x, fused, keep_cache) → (h, cache)


CELLS = {
    "lstm": Cell(("Wx", "Wh", "b"), 4, lstm.lstm_forward, lstm.lstm_backward, lstm.fuse, lstm.lstm_forward_fused),
    "gru": Cell(("Wx", "Wh", "bx", "bh"), 3, gru.gru_forward, gru.gru_backward, gru.fuse, gru.gru_forward_fused),
}


def init_params(shape: Shape, rng: np.random.Generator, dtype=np.float32, zero_head: bool = False) -> dict[str, np.ndarray]:
    """PyTorch's default init, U(−1/√H, 1/√H), with the LSTM's forget-gate bias set to 1.

    zero_head starts the dense head at 0, so the untrained network outputs exactly 0 (with
    the skip connection: exactly the seasonal naive forecast)."""
    H, cell = shape.hidden_size, shape.cell
    G = CELLS[cell].gates
    bound = 1.0 / np.sqrt(H)
    params = {}
    n_in = shape.n_inputs
    for k in range(shape.num_layers):
        params[f"{cell}.{k}.Wx"] = rng.uniform(-bound, bound, (n_in, G * H))
        params[f"{cell}.{k}.Wh"] = rng.uniform(-bound, bound, (H, G * H))
        b = rng.uniform(-bound, bound, G * H)
        if cell == "lstm":
            b[H:2 * H] = 1.0  # remember by default: gradients flow through c from the start
            params[f"lstm.{k}.b"] = b
        else:  # as torch starts a GRU: its update gate biased to 1 likewise did worse (air passengers, US macro)
            params[f"gru.{k}.bx"], params[f"gru.{k}.bh"] = b, rng.uniform(-bound, bound, G * H)
        n_in = H
    params["head.W"] = rng.uniform(-bound, bound, (H, shape.horizon)) * (0.0 if zero_head else 1.0)
    params["head.b"] = np.zeros(shape.horizon)
    return {name: value.astype(dtype) for name, value in params.items()}


def cell_of(params: dict[str, np.ndarray]) -> str:
    return "gru" if "gru.0.Wx" in params else "lstm"


def shape_of(params: dict[str, np.ndarray]) -> Shape:
    cell = cell_of(params)
    num_layers = sum(1 for name in params if name.endswith(".Wh"))
    n_inputs, gh = params[f"{cell}.0.Wx"].shape
    return Shape(n_inputs, gh // CELLS[cell].gates, num_layers, params["head.W"].shape[1], cell)


def _layer(params, k, cell):
    return tuple(params[f"{cell}.{k}.{name}"] for name in CELLS[cell].names)


def forward(params, x: np.ndarray, dropout: float = 0.0, rng: np.random.Generator | None = None):
    """Training forward pass: x (T, B, n_inputs) → ŷ (B, horizon), plus a cache for backward.

    Inverted dropout between layers: kept units are scaled by 1/(1−p), so inference needs none.
    """
    shape = shape_of(params)
    cell = CELLS[shape.cell]
    caches, masks = [], []
    h = x
    for k in range(shape.num_layers):
        if k > 0 and dropout > 0.0:
            mask = (rng.random(h.shape) >= dropout).astype(h.dtype) / (1.0 - dropout)
            h = h * mask
            masks.append(mask)
        else:
            masks.append(None)
        h, cache = cell.forward(h, *_layer(params, k, shape.cell))
        caches.append(cache)
    last = h[-1]
    y = last @ params["head.W"] + params["head.b"]
    return y, (caches, masks, last)


def backward(params, cache, dy: np.ndarray) -> dict[str, np.ndarray]:
    """Gradients of the loss w.r.t. every parameter, given dy = ∂L/∂ŷ (B, horizon)."""
    caches, masks, last = cache
    name = cell_of(params)
    cell = CELLS[name]
    grads = {"head.W": last.T @ dy, "head.b": dy.sum(axis=0)}
    (B, H), T = last.shape, len(caches[-1].zin) - 1
    # the head reads only h_T: the layer's backward reads no ∂L/∂h_t before T−1, so no T × B × H zeros
    dh = np.broadcast_to(dy @ params["head.W"].T, (T, B, H))
    first = T - 1
    for k in range(len(caches) - 1, -1, -1):
        Wx, Wh = params[f"{name}.{k}.Wx"], params[f"{name}.{k}.Wh"]
        dx, *layer_grads, first = cell.backward(dh, caches[k], Wx, Wh, first_grad_step=first, need_dx=k > 0)
        grads.update((f"{name}.{k}.{array}", g) for array, g in zip(cell.names, layer_grads))
        if k > 0:
            dh = np.multiply(dx, masks[k], out=dx) if masks[k] is not None else dx
    return grads


def predict(params, x: np.ndarray, block: int = 256) -> np.ndarray:
    """Inference: x (T, B, n_inputs) → ŷ (B, horizon), keeping no caches.

    The batch goes through blocks of at most `block` windows: that bounds the memory of the
    hidden states (T per layer) however large the batch, and keeps each step's buffers in
    cache (10,000 windows of M4's shape: 1.00–1.12× faster so, benchmarks/ablation.py).  A
    batch of at least 2·PARALLEL_MIN columns × hidden units makes two blocks or more, and the
    blocks go to as many threads as the BLAS may use, each running its step loop on one BLAS
    thread: unlike one product split across threads step by step, blocks never wait for each
    other, so a busy core slows them down instead of stalling every step.  (Below that,
    NumPy's per-call cost, under the GIL, would dominate.)  The blocks depend on the batch
    alone, never on the threads — a product's last bits depend on how many columns it has —
    so the forecasts are the same bits on any number of cores.
    """
    (T, B, _), shape = x.shape, shape_of(params)
    H, cell = shape.hidden_size, CELLS[shape.cell]
    blocks = max(-(-B // block), min(2, B * H // PARALLEL_MIN), 1)
    size = -(-B // blocks)
    starts = range(0, max(B, 1), size)
    threads = min(blas_threads(), len(starts))
    Ws = [cell.fuse(*_layer(params, k, shape.cell), T * size) for k in range(shape.num_layers)]
    run = map if threads == 1 else _pool(threads).map
    with one_blas_thread():  # the head's product too: its bits, like the loop's, must not depend on threads
        out = list(run(lambda s: _predict_block(params, cell, Ws, x[:, s:s + size]), starts))
    return np.concatenate(out) if len(out) > 1 else out[0]


_pools: dict[int, ThreadPoolExecutor] = {}


def _pool(threads: int) -> ThreadPoolExecutor:
    """A pool of `threads` threads, made once per process (starting threads costs per call)."""
    if threads not in _pools:
        _pools[threads] = ThreadPoolExecutor(threads, thread_name_prefix="forecast-cli")
    return _pools[threads]


def _predict_block(params, cell: Cell, Ws, x: np.ndarray) -> np.ndarray:
    h = x
    for W in Ws:
        h, _ = cell.forward_fused(h, W, keep_cache=False)
    return h[-1] @ params["head.W"] + params["head.b"]
