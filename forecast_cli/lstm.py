"""One LSTM layer in NumPy: the forward pass and its backpropagation through time, side by side.

Shapes at the interface are time-major: inputs x[t] are (B, I), hidden states h[t] are (B, H).
The four gates share one fused weight matrix, in PyTorch's order i, f, g, o:

    z_t = x_t Wx + h_{t-1} Wh + b                    Wx: (I, 4H)   Wh: (H, 4H)   b: (4H,)
    i_t = σ(z_i)   f_t = σ(z_f)   g_t = tanh(z_g)   o_t = σ(z_o)
    c_t = f_t ⊙ c_{t-1} + i_t ⊙ g_t
    h_t = o_t ⊙ tanh(c_t)

(`Wx` is PyTorch's `weight_ih_l{k}` transposed, `Wh` is `weight_hh_l{k}` transposed and
`b = bias_ih + bias_hh`.)

The step loop is a chain of small NumPy calls, each costing ≈ 0.3 µs before any arithmetic, so
it is written to make few of them, each on one contiguous block:

* Inside, arrays are feature-major, (T, features, B): every gate of a step is one contiguous
  (H, B) block (elementwise calls on column slices of a (B, 4H) block cost 3–4× more).
* One product per step gives the whole pre-activation: z_t = W [h_{t-1}; x_t; 1], with
  W = [Wh; Wx; b]ᵀ — the input projection and the bias ride along in the same call, and
  Σ_t δz_t [h_{t-1}; x_t; 1]ᵀ gives ∂Wh, ∂Wx and ∂b together.
* The gate rows are kept in the order o, i, f, g with c_{t-1} stored right after them,
  [o; i; f; g; c_{t-1}]: the σ gates are one block, and the two products of
  c_t = i ⊙ g + f ⊙ c_{t-1} are one multiply of [i; f] by [g; c_{t-1}].
* The four activations are one `tanh` over the gate block, since σ(z) = ½·tanh(z/2) + ½ —
  the σ rows of W are pre-scaled by ½.  In float32 this also makes a saturated σ exactly 0 or
  1 where 1/(1 + e^−z) would be a denormal number, which the CPU handles many times slower.
* Each step's views of the buffers are made before the loop; backward goes a chunk of steps
  at a time (see _backward_steps); big buffers are recycled (see _buffer); the BLAS runs on
  one thread (see one_blas_thread).
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
from dataclasses import dataclass

import numpy as np
from threadpoolctl import ThreadpoolController

GATES = "ifgo"                  # the order in the parameters (PyTorch's)
ROWS = GATES[-1] + GATES[:-1]   # the order inside, "oifg": σ gates first, then i, f beside g, c_{t-1}
CHUNK = 65_536                  # backward's chunks hold ≈ this many (step, unit, column) entries
FUSE_COPY_MIN = 2048            # steps × columns from which the fused weights are copied (see fuse)

_SPARE_BIG = 1 << 16            # bytes: arrays at least this big are recycled (see _buffer)
_SPARE_KEEP = 12                # at most this many idle ones are kept
_spare: list = []
_spare_lock = threading.Lock()

_BLAS = ThreadpoolController().select(user_api="blas")


def blas_threads() -> int:
    """The threads the BLAS may use now (its default, OPENBLAS_NUM_THREADS, or a threadpoolctl limit)."""
    return max([lib["num_threads"] for lib in _BLAS.info()], default=1)


def one_blas_thread():
    """Context: the BLAS on one thread.  The step loop's products are small and come one after
    another: a second thread never helped them, and when the machine was shared (the other
    core busy) every product waited for a descheduled thread — 2–20× slower on 2 cores."""
    if blas_threads() == 1:
        return contextlib.nullcontext()                  # already: spare the limit's ≈ 10 µs
    return _BLAS.limit(limits=1)


def _buffer(shape, dtype) -> np.ndarray:
    """np.empty(shape, dtype), on the memory of an earlier big buffer that nothing refers to any
    more (no array or view of it is alive) when there is one.

    Fresh memory from the OS costs a page fault per page, which the kernel must zero: a
    training step of batch 64 × 48 steps took 1.6× as long with fresh caches, and with long
    sequences steps now and then stalled for a second.  Buffers are kept per process, like a
    caching allocator; the idle ones beyond _SPARE_KEEP are let go.
    """
    dtype = np.dtype(dtype)
    nbytes = math.prod(shape) * dtype.itemsize
    if nbytes < _SPARE_BIG:
        return np.empty(shape, dtype)
    with _spare_lock:
        idle = [k for k in range(len(_spare)) if sys.getrefcount(_spare[k]) == 2]   # held by _spare alone
        fits = [k for k in idle if _spare[k].nbytes >= nbytes]
        if fits:
            memory = _spare[min(fits, key=lambda k: _spare[k].nbytes)]
        else:
            memory = np.empty(nbytes, np.uint8)
            for k in idle[::-1][_SPARE_KEEP - 1:]:
                del _spare[k]
            _spare.append(memory)
        return memory[:nbytes].view(dtype).reshape(shape)


def _to_rows(a: np.ndarray) -> np.ndarray:
    """The columns of a (·, 4H) parameter from GATES order to ROWS order: o moves to the front."""
    H = a.shape[1] // 4
    return np.concatenate([a[:, 3 * H:], a[:, :3 * H]], axis=1)


def _to_gates(a: np.ndarray) -> np.ndarray:
    """The columns of a (·, 4H) array from ROWS order back to GATES order."""
    H = a.shape[1] // 4
    return np.concatenate([a[:, H:], a[:, :H]], axis=1)


@dataclass
class LSTMCache:
    """What the backward pass needs from the forward pass of one layer (feature-major)."""

    zin: np.ndarray     # (T+1, H+I+1, B): zin[t] = [h_{t-1}; x_t; 1], the product's right side; zin[T, :H] = h_T
    act: np.ndarray     # (T+1, 5H, B): act[t] = [o; i; f; g; c_{t-1}] at step t; act[T, 4H:] = c_T
    tc: np.ndarray      # (T, H, B): tanh(c_t)

    @property
    def hidden(self) -> int:
        return self.tc.shape[1]

    @property
    def h(self) -> np.ndarray:
        """(T+1, B, H) hidden states, h[0] = 0 (a view)."""
        return self.zin[:, :self.hidden].transpose(0, 2, 1)

    @property
    def c(self) -> np.ndarray:
        """(T+1, B, H) cell states, c[0] = 0 (a view)."""
        return self.act[:, 4 * self.hidden:].transpose(0, 2, 1)

    @property
    def tanh_c(self) -> np.ndarray:
        """(T, B, H) tanh(c_t) (a view)."""
        return self.tc.transpose(0, 2, 1)


def lstm_forward(x: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray,
                 keep_cache: bool = True):
    """Run the layer over x (T, B, I) from zero state.

    Returns (h, cache): h is (T, B, H), the hidden state after each step.  With
    keep_cache=False nothing is kept for backward (inference): the gate and cell buffers of
    two steps are reused in turn, which is faster.
    """
    return lstm_forward_fused(x, fuse(Wx, Wh, b, x.shape[0] * x.shape[1]), keep_cache)


def fuse(Wx, Wh, b, columns: int) -> np.ndarray:
    """W = [Wh; Wx; b]ᵀ (4H, H+I+1) in ROWS order, the σ rows scaled by ½: tanh(W zin) holds
    tanh(z/2) there.  For a run over `columns` = T·B columns in all.

    W is a contiguous copy only when the run is long enough to pay for it: a product with a
    transposed operand is up to 16% slower per step, but the strided copy of a (H+I+1, 4H)
    matrix takes ≈ 2–7 ns an entry — 1–2 ms at H = 256, more than 7 whole steps.
    """
    H = Wh.shape[0]
    WT = _to_rows(np.concatenate([Wh, Wx, b[None, :]]))
    WT[:, :3 * H] *= WT.dtype.type(0.5)
    return np.ascontiguousarray(WT.T) if columns >= FUSE_COPY_MIN else WT.T


def step_inputs(x: np.ndarray, H: int) -> np.ndarray:
    """The recycled (T + 1, H + I + 1, B) buffer z_t = [h_{t−1}; x_t; 1] of every step, feature
    major: x and the bias column filled in, h_0 = 0 (the cell's loop writes the other h's)."""
    T, B, I = x.shape
    zin = _buffer((T + 1, H + I + 1, B), x.dtype)
    zin[0, :H] = 0.0                                     # h_0 = 0
    zin[:T, H:H + I] = x.transpose(0, 2, 1)
    zin[:T, H + I] = 1.0
    zin[T, H:] = 0.0
    return zin


def lstm_forward_fused(x: np.ndarray, W: np.ndarray, keep_cache: bool = True):
    """lstm_forward with the weights fused already (see fuse): the same W serves every block
    of a batch."""
    T, B, _ = x.shape
    H = W.shape[0] // 4
    zin = step_inputs(x, H)
    act = _buffer((T + 1 if keep_cache else 2, 5 * H, B), x.dtype)
    tc = _buffer((T if keep_cache else 1, H, B), x.dtype)
    with one_blas_thread():
        _forward_steps(W, zin, act, tc)
    cache = LSTMCache(zin, act, tc) if keep_cache else None
    return zin[1:, :H].transpose(0, 2, 1), cache


def _forward_steps(W, zin, act, tc):
    """The recurrence over the T = len(zin) − 1 steps.  Step t reads zin[t] = [h_{t−1}; x_t; 1]
    and the c_{t−1} rows of its act slot; it writes its gates [o; i; f; g] to that slot,
    tanh(c_t) to its tc slot, c_t to the next act slot and h_t to zin[t+1].  act and tc have
    a slot per step, or fewer that go round (inference)."""
    T, H = len(zin) - 1, W.shape[0] // 4
    half = np.array(0.5, W.dtype)                     # a 0-d array: 0.2 µs less a call than a scalar
    act[0, 4 * H:] = 0.0                                 # c_0 = 0
    # each step's views made up front: slicing in the loop costs as much as a small call
    z, h_next, tcs = _per_step(zin, T), _per_step(zin[:, :H], T, 1), _per_step(tc, T)
    gates, sig, i_f, g_c, o = (_per_step(act[:, a:b], T) for a, b in
                               ((0, 4 * H), (0, 3 * H), (H, 3 * H), (3 * H, 5 * H), (0, H)))
    c_next = _per_step(act[:, 4 * H:], T, 1)
    both = np.empty((2 * H, zin.shape[2]), dtype=W.dtype)
    i_g, f_c = both[:H], both[H:]
    for t in range(T):
        np.dot(W, z[t], gates[t])                        # z_t (σ rows halved)
        np.tanh(gates[t], gates[t])
        np.multiply(sig[t], half, sig[t])                # o, i, f = σ(z) = ½ tanh(z/2) + ½
        np.add(sig[t], half, sig[t])
        np.multiply(i_f[t], g_c[t], both)                # [i ⊙ g; f ⊙ c_{t-1}]
        np.add(i_g, f_c, c_next[t])                      # c_t = f ⊙ c_{t-1} + i ⊙ g
        np.tanh(c_next[t], tcs[t])
        np.multiply(o[t], tcs[t], h_next[t])             # h_t = o ⊙ tanh(c_t)


def _per_step(buffer, T, shift=0) -> list:
    """Step t's view buffer[(t + shift) % len(buffer)], for t < T: a slot per step, or a few
    slots that go round."""
    slots = list(buffer)
    return (slots * ((T + shift) // len(slots) + 1))[shift:T + shift]


def lstm_backward(dh_out: np.ndarray, cache: LSTMCache, Wx: np.ndarray, Wh: np.ndarray,
                  first_grad_step: int = 0, need_dx: bool = True):
    """Backpropagation through time for one layer.

    dh_out (T, B, H) is ∂L/∂h_t arriving from above; before `first_grad_step` it is taken
    as zero and not read (the caller knows: a head that reads only h_T sets T-1, and may pass
    a broadcast of that one step).  Going back from t = T-1, with carried gradients δh, δc:

        δh = δh_carry + dh_out[t]
        δo = δh ⊙ tanh(c_t)                 δc = δc_carry + δh ⊙ o ⊙ (1 − tanh²(c_t))
        δi = δc ⊙ g    δg = δc ⊙ i    δf = δc ⊙ c_{t−1}    δc_carry = δc ⊙ f
        δz = [δi·i(1−i), δf·f(1−f), δg·(1−g²), δo·o(1−o)]
        δh_carry = δz Wh^T

    and, a chunk of steps at a time: ∂Wx = Σ x_t^T δz_t, ∂Wh = Σ h_{t−1}^T δz_t,
    ∂b = Σ δz_t, ∂x_t = δz_t Wx^T.

    Once no more gradient arrives from above and the carried δh, δc have fallen below the
    dtype's resolution relative to the largest they reached in this layer, earlier steps would
    only add terms below rounding (and, in float32, crawl through slow denormal arithmetic):
    they are skipped, leaving δz = 0 there.

    Returns (dx or None, dWx, dWh, db, stop): dx is zero before step `stop`.
    """
    zin, T, H = cache.zin, cache.tc.shape[0], cache.hidden
    B, I = zin.shape[2], Wx.shape[0]
    dW = _buffer((H + I + 1, 4 * H), zin.dtype)           # Σ_t [h_{t−1}; x_t; 1] δz_tᵀ, ROWS order
    dW.fill(0.0)
    dx = _buffer((T, I, B), zin.dtype) if need_dx else None
    with one_blas_thread():
        stop = _backward_steps(dh_out, cache, _to_rows(Wh), _to_rows(Wx), first_grad_step, dW, dx)
    dW = _to_gates(dW)                                      # [∂Wh; ∂Wx; ∂b]
    if need_dx:
        dx[:stop] = 0.0
        dx = dx.transpose(0, 2, 1)
    return dx, dW[H:H + I], dW[:H], dW[H + I], stop


def _backward_steps(dh_out, cache, Wh_rows, Wx_rows, first_grad_step, dW, dx) -> int:
    """The recurrence backwards; adds Σ_t zin[t] δz_tᵀ to dW and writes Wx δz_t into dx[t]
    (when dx is given).  Returns the step it stopped at.

    It goes a chunk of steps at a time, so that the chunk's data stays in cache: first the
    factors that depend on step t alone, in bulk (few calls), leaving four calls and one
    product per step,

        [δh ⊙ P; δz_o] = δh ⊙ [P; Q]     P = o ⊙ (1 − tanh²(c_t)),   Q = tanh(c_t) ⊙ o(1−o)
        δc += δh ⊙ P
        [δz_i; δz_f; δz_g] = δc ⊙ R,     R = [g ⊙ i(1−i); c_{t−1} ⊙ f(1−f); i ⊙ (1−g²)]

    then the chunk's share of the weight gradient and of dx, in one product each.
    """
    act, tc, zin = cache.act, cache.tc, cache.zin
    T, H, B = tc.shape
    dt = act.dtype
    carried, scratch = np.zeros((2, H, B), dtype=dt), np.empty((2, H, B), dtype=dt)
    dh, dc = carried                                               # side by side: one check covers both
    n = max(1, min(T, CHUNK // (H * B)))
    # per step of a chunk: δh ⊙ P (H rows), δz (4H), P and Q (2H), R (3H), σ' of o, i, f (3H)
    chunk = _buffer((n, 13 * H, B), dt)
    # the chunk's share of dW, in recycled buffers: as temporaries they came fresh from the OS
    # in a worker process, 1,258 page faults a step at batch 128 × 256 units (8 % of its time)
    product, chunk_dW = _buffer((n, *dW.shape), dt), _buffer(dW.shape, dt)
    dhp, dz, pq, R, ds = (chunk[:, a:b] for a, b in _splits(H, 1, 4, 2, 3, 3))
    # each step's views made up front: slicing in the loop costs as much as a small call
    dz_k, dhp_k, f = list(dz), list(dhp), list(act[:T, 2 * H:3 * H])
    pq_k, R_k = list(pq.reshape(n, 2, H, B)), list(R.reshape(n, 3, H, B))
    dhp_dzo_k = list(chunk[:, :2 * H].reshape(n, 2, H, B))        # [δh ⊙ P; δz_o], side by side
    dz_ifg_k = list(dz.reshape(n, 4, H, B)[:, 1:])
    tiny, peak, stop = np.finfo(dt).eps, 0.0, None
    for end in range(T, 0, -n):
        start = max(0, end - n)
        _step_factors(act[start:end], tc[start:end], zin[start + 1:end + 1, :H], pq, R, ds)
        for t in range(end - 1, start - 1, -1):
            k = t - start
            if t >= first_grad_step:
                dh += dh_out[t].T
            np.multiply(pq_k[k], dh, dhp_dzo_k[k])                    # δh ⊙ P, δz_o
            np.add(dc, dhp_k[k], dc)                                  # δc
            np.multiply(R_k[k], dc, dz_ifg_k[k])                      # δz_i, δz_f, δz_g
            np.multiply(dc, f[t], dc)                                 # δc_carry = δc ⊙ f
            np.dot(Wh_rows, dz_k[k], dh)                              # δh_carry = Wh δz
            if t % 4 == 0:                                            # the early stop
                size = np.abs(carried, scratch).max()
                peak = max(peak, size)
                if t <= first_grad_step and size <= tiny * peak:
                    stop = t
                    break
        first = (stop if stop is not None else start) - start
        done = dz[first:end - start]
        products = np.matmul(zin[start + first:end], done.transpose(0, 2, 1), out=product[:len(done)])
        dW += np.sum(products, axis=0, out=chunk_dW)
        if dx is not None:
            np.matmul(Wx_rows, done, out=dx[start + first:end])
        if stop is not None:
            return stop
    return 0


def _splits(H, *rows):
    """(start, end) of consecutive blocks of rows·H rows."""
    ends = np.cumsum(rows) * H
    return list(zip(ends - np.array(rows) * H, ends))


def _step_factors(act, tc, h, pq, R, ds):
    """[P; Q] and R of _backward_steps for the steps of act (n', 5H, B), tc (n', H, B) and
    h_t (n', H, B), in bulk; ds is scratch for σ' = σ(1 − σ) of o, i, f."""
    n, H = tc.shape[0], tc.shape[1]
    one = act.dtype.type(1)
    o, i, g = act[:, :H], act[:, H:2 * H], act[:, 3 * H:4 * H]
    pq, R, ds = pq[:n], R[:n], ds[:n]
    P, Q, r_g = pq[:, :H], pq[:, H:], R[:, 2 * H:]
    np.subtract(one, act[:, :3 * H], ds)
    np.multiply(ds, act[:, :3 * H], ds)
    np.multiply(h, tc, P)
    np.subtract(o, P, P)                                        # o ⊙ (1 − tanh²(c)) = o − h ⊙ tanh(c)
    np.multiply(tc, ds[:, :H], Q)                               # tanh(c) ⊙ σ'(o)
    np.multiply(act[:, 3 * H:], ds[:, H:], R[:, :2 * H])        # [g ⊙ σ'(i); c_{t−1} ⊙ σ'(f)]
    np.multiply(g, g, r_g)
    np.subtract(one, r_g, r_g)
    np.multiply(r_g, i, r_g)                                    # i ⊙ (1 − g²)
