"""One LSTM layer in NumPy: the forward pass and its backpropagation through time, side by side.

Shapes are time-major: inputs x[t] are (B, I), hidden states h[t] are (B, H).  The four gates
share one fused weight matrix, in PyTorch's order i, f, g, o:

    z_t = x_t Wx + h_{t-1} Wh + b                    Wx: (I, 4H)   Wh: (H, 4H)   b: (4H,)
    i_t = σ(z_i)   f_t = σ(z_f)   g_t = tanh(z_g)   o_t = σ(z_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

(`Wx` is PyTorch's `weight_ih_l{k}` transposed, `Wh` is `weight_hh_l{k}` transposed and
`b = bias_ih + bias_hh`.)  Two tricks keep NumPy's per-step overhead low: the input projection
x_t Wx + b for all steps is one matrix product before the loop, and the four activations are
one `tanh` over the whole gate block, since σ(z) = ½·tanh(z/2) + ½ — the σ columns of the
weights are pre-scaled by ½ so the block needs no extra pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GATES = "ifgo"


def _gate_scale(hidden: int, dtype) -> np.ndarray:
    """½ on the σ gates (i, f, o), 1 on the candidate g: tanh(s ⊙ z) gives all four at once."""
    s = np.full(4 * hidden, 0.5, dtype=dtype)
    s[2 * hidden:3 * hidden] = 1.0
    return s


@dataclass
class LSTMCache:
    """What the backward pass needs from the forward pass of one layer."""

    x: np.ndarray       # (T, B, I) inputs
    h: np.ndarray       # (T+1, B, H) hidden states, h[0] = 0
    c: np.ndarray       # (T+1, B, H) cell states, c[0] = 0
    act: np.ndarray     # (T, B, 4H) activated gates i, f, g, o
    tanh_c: np.ndarray  # (T, B, H) tanh(c_t)


def lstm_forward(x: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray,
                 keep_cache: bool = True):
    """Run the layer over x (T, B, I) from zero state.

    Returns (h, cache): h is (T, B, H), the hidden state after each step.  With
    keep_cache=False nothing is kept for backward (inference), which is faster.
    """
    T, B, _ = x.shape
    H = Wh.shape[0]
    s = _gate_scale(H, x.dtype)
    Wh_s = Wh * s
    # z_t (pre-scaled) for every step in one product: x_t Wx + b
    act = np.dot(x.reshape(T * B, -1), Wx * s).reshape(T, B, 4 * H)
    act += b * s
    h = np.zeros((T + 1, B, H), dtype=x.dtype)
    c = np.zeros((T + 1, B, H), dtype=x.dtype) if keep_cache else np.zeros((2, B, H), dtype=x.dtype)
    tanh_c = np.empty((T, B, H), dtype=x.dtype) if keep_cache else np.empty((1, B, H), dtype=x.dtype)
    rec = np.empty((B, 4 * H), dtype=x.dtype)
    for t in range(T):
        a = act[t]
        np.dot(h[t], Wh_s, out=rec)
        a += rec
        np.tanh(a, out=a)
        a[:, :2 * H] *= 0.5; a[:, :2 * H] += 0.5          # i, f = σ
        a[:, 3 * H:] *= 0.5; a[:, 3 * H:] += 0.5          # o = σ
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        c_prev, c_new = (c[t], c[t + 1]) if keep_cache else (c[t % 2], c[(t + 1) % 2])
        tc = tanh_c[t] if keep_cache else tanh_c[0]
        np.multiply(f, c_prev, out=c_new)                  # c_t = f ⊙ c_{t-1} + i ⊙ g
        c_new += i * g
        np.tanh(c_new, out=tc)                             # h_t = o ⊙ tanh(c_t)
        np.multiply(o, tc, out=h[t + 1])
    cache = LSTMCache(x, h, c, act, tanh_c) if keep_cache else None
    return h[1:], cache


def lstm_backward(dh_out: np.ndarray, cache: LSTMCache, Wx: np.ndarray, Wh: np.ndarray,
                  first_grad_step: int = 0, need_dx: bool = True):
    """Backpropagation through time for one layer.

    dh_out (T, B, H) is ∂L/∂h_t arriving from above; it must be zero before
    `first_grad_step` (the caller knows, e.g. a head that reads only h_T sets T-1).
    Going back from t = T-1, with carried gradients δh, δc:

        δh = δh_carry + dh_out[t]
        δo = δh ⊙ tanh(c_t)                 δc = δc_carry + δh ⊙ o ⊙ (1 − tanh²(c_t))
        δi = δc ⊙ g    δg = δc ⊙ i    δf = δc ⊙ c_{t−1}    δc_carry = δc ⊙ f
        δz = [δi·i(1−i), δf·f(1−f), δg·(1−g²), δo·o(1−o)]
        δh_carry = δz Wh^T

    and after the loop, over all steps at once: ∂Wx = Σ x_t^T δz_t, ∂Wh = Σ h_{t−1}^T δz_t,
    ∂b = Σ δz_t, ∂x_t = δz_t Wx^T.

    Once no more gradient arrives from above and the carried δh, δc have fallen below the
    dtype's resolution relative to their largest value, earlier steps would only add terms
    below rounding (and, in float32, crawl through slow denormal arithmetic): they are
    skipped, leaving δz = 0 there.

    Returns (dx or None, dWx, dWh, db, stop): dx is zero before step `stop`.
    """
    x, h, c, act, tanh_c = cache.x, cache.h, cache.c, cache.act, cache.tanh_c
    T, B, H = tanh_c.shape
    dz = np.zeros_like(act)
    dh = np.zeros((B, H), dtype=x.dtype)
    dc = np.zeros((B, H), dtype=x.dtype)
    tiny = np.finfo(x.dtype).eps
    peak = 0.0
    t = T - 1
    for t in range(T - 1, -1, -1):
        a = act[t]
        i, f, g, o = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
        dh += dh_out[t]
        tc = tanh_c[t]
        d = dz[t]
        np.multiply(dh, tc, out=d[:, 3 * H:])                    # δo
        dc += dh * o * (1.0 - tc * tc)                           # δc
        np.multiply(dc, g, out=d[:, :H])                          # δi
        np.multiply(dc, c[t], out=d[:, H:2 * H])                  # δf
        np.multiply(dc, i, out=d[:, 2 * H:3 * H])                 # δg
        dc *= f                                                   # δc_carry
        # through the activations: σ' = σ(1 − σ), tanh' = 1 − tanh²
        sig = a[:, :2 * H]
        d[:, :2 * H] *= sig * (1.0 - sig)
        d[:, 2 * H:3 * H] *= 1.0 - g * g
        d[:, 3 * H:] *= o * (1.0 - o)
        np.dot(d, Wh.T, out=dh)                                   # δh_carry
        if t <= first_grad_step and t % 4 == 0:
            size = max(float(np.abs(dh).max()), float(np.abs(dc).max()))
            peak = max(peak, size)
            if size <= tiny * peak:
                break
    stop = t
    dz2 = dz.reshape(T * B, 4 * H)
    dWx = np.dot(x.reshape(T * B, -1).T, dz2)
    dWh = np.dot(h[:-1].reshape(T * B, H).T, dz2)
    db = dz2.sum(axis=0)
    dx = np.dot(dz2, Wx.T).reshape(T, B, -1) if need_dx else None
    return dx, dWx, dWh, db, stop
