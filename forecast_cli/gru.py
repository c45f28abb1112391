"""One GRU layer in NumPy: the forward pass and its backpropagation through time, side by side.

Shapes at the interface are time-major, as in lstm.py: x[t] is (B, I), h[t] is (B, H).  The
equations and the gate order r, z, n are PyTorch's (torch.nn.GRU):

    r_t = σ(x_t Wx_r + bx_r + h_{t−1} Wh_r + bh_r)             Wx: (I, 3H)   Wh: (H, 3H)
    z_t = σ(x_t Wx_z + bx_z + h_{t−1} Wh_z + bh_z)             bx, bh: (3H,)
    n_t = tanh(x_t Wx_n + bx_n + r_t ⊙ m_t),   m_t = h_{t−1} Wh_n + bh_n
    h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}  =  n_t + z_t ⊙ (h_{t−1} − n_t)

(`Wx` is `weight_ih_l{k}` transposed, `Wh` is `weight_hh_l{k}` transposed, `bx = bias_ih_l{k}`,
`bh = bias_hh_l{k}`.  The reset gate multiplies the hidden product with its bias, so the two
biases of n stay apart; those of r and z act only as their sum.)

The step loop is written as lstm.py's is, to make few NumPy calls, each on one contiguous block:

* Feature-major buffers, (T, features, B): each gate of a step is one (H, B) block.
* One product per step: [a_r; a_z; m_t] = W [h_{t−1}; x_t; 1], W = [Wh; Wx; bx + bh]ᵀ with
  m's rows [Wh_n; 0; bh_n]ᵀ — the input projection and the biases ride along.  The input part
  of n, u_t = x_t Wx_n + bx_n, needs no h: it is one product over all steps before the loop.
* σ(a) = ½·tanh(a/2) + ½, the σ rows of W pre-scaled by ½: r and z in one `tanh`.
* Backward: all four pre-activation gradients of a step in one multiply, δh ⊙ [P; Q_r; Q_z; S],
  from factors made a chunk of steps at a time (see _backward_steps).
* lstm.py's recycled buffers, BLAS thread guard, chunk size, fused-copy threshold and
  early BPTT stop, shared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .lstm import CHUNK, FUSE_COPY_MIN, _buffer, _per_step, one_blas_thread, step_inputs


@dataclass
class GRUCache:
    """What the backward pass needs from the forward pass of one layer (feature-major)."""

    zin: np.ndarray     # (T+1, H+I+1, B): zin[t] = [h_{t-1}; x_t; 1], the product's right side; zin[T, :H] = h_T
    act: np.ndarray     # (T, 4H, B): act[t] = [r; z; r ⊙ m; n] at step t

    @property
    def hidden(self) -> int:
        return self.act.shape[1] // 4

    @property
    def h(self) -> np.ndarray:
        """(T+1, B, H) hidden states, h[0] = 0 (a view)."""
        return self.zin[:, :self.hidden].transpose(0, 2, 1)


def gru_forward(x: np.ndarray, Wx: np.ndarray, Wh: np.ndarray, bx: np.ndarray, bh: np.ndarray,
                keep_cache: bool = True):
    """Run the layer over x (T, B, I) from zero state.

    Returns (h, cache): h is (T, B, H), the hidden state after each step.  With
    keep_cache=False nothing is kept for backward (inference): one gate buffer goes round."""
    return gru_forward_fused(x, fuse(Wx, Wh, bx, bh, x.shape[0] * x.shape[1]), keep_cache)


def fuse(Wx, Wh, bx, bh, columns: int) -> tuple[np.ndarray, np.ndarray]:
    """(W, V): W = [Wh; Wx; bx + bh]ᵀ (3H, H+I+1), whose n rows hold [Wh_n; 0; bh_n] (they give
    m), the r and z rows scaled by ½ (tanh(W zin) holds tanh(a/2) there); V = [Wx_n; bx_n]ᵀ
    (H, I+1) gives u.  For a run over `columns` = T·B columns in all: W is a contiguous copy
    only when that pays (lstm.fuse says why)."""
    H = Wh.shape[0]
    b = bx + bh
    b[2 * H:] = bh[2 * H:]
    WT = np.concatenate([Wh, Wx, b[None, :]])
    WT[H:-1, 2 * H:] = 0.0                               # m_t reads no x
    WT[:, :2 * H] *= WT.dtype.type(0.5)
    W = np.ascontiguousarray(WT.T) if columns >= FUSE_COPY_MIN else WT.T
    return W, np.concatenate([Wx[:, 2 * H:], bx[None, 2 * H:]]).T


def gru_forward_fused(x: np.ndarray, fused: tuple, keep_cache: bool = True):
    """gru_forward with the weights fused already (see fuse): the same (W, V) serves every
    block of a batch."""
    W, V = fused
    T, B, _ = x.shape
    H = W.shape[0] // 3
    zin = step_inputs(x, H)
    act = _buffer((T if keep_cache else 1, 4 * H, B), x.dtype)
    u = _buffer((T, H, B), x.dtype)
    with one_blas_thread():
        np.matmul(V, zin[:T, H:], out=u)                 # u_t = x_t Wx_n + bx_n, every step at once
        _forward_steps(W, zin, u, act)
    cache = GRUCache(zin, act) if keep_cache else None
    return zin[1:, :H].transpose(0, 2, 1), cache


def _forward_steps(W, zin, u, act):
    """The recurrence over the T = len(zin) − 1 steps.  Step t reads zin[t] = [h_{t−1}; x_t; 1]
    and u[t]; it writes [r; z; r ⊙ m; n] to its act slot and h_t to zin[t+1].  act has a slot
    per step, or one that goes round (inference)."""
    T, H = len(zin) - 1, W.shape[0] // 3
    half = np.array(0.5, W.dtype)                        # a 0-d array: 0.2 µs less a call than a scalar
    # each step's views made up front: slicing in the loop costs as much as a small call
    z, h, h_next = _per_step(zin, T), _per_step(zin[:, :H], T), _per_step(zin[:, :H], T, 1)
    gates, sig, r, zg, rm, n = (_per_step(act[:, a * H:b * H], T) for a, b in
                                ((0, 3), (0, 2), (0, 1), (1, 2), (2, 3), (3, 4)))
    d = np.empty((H, zin.shape[2]), dtype=W.dtype)
    for t in range(T):
        np.dot(W, z[t], gates[t])                        # [a_r/2; a_z/2; m_t]
        np.tanh(sig[t], sig[t])
        np.multiply(sig[t], half, sig[t])                # r, z = σ(a) = ½ tanh(a/2) + ½
        np.add(sig[t], half, sig[t])
        np.multiply(r[t], rm[t], rm[t])                  # r ⊙ m
        np.add(u[t], rm[t], n[t])
        np.tanh(n[t], n[t])                              # n = tanh(u + r ⊙ m)
        np.subtract(h[t], n[t], d)
        np.multiply(zg[t], d, d)
        np.add(n[t], d, h_next[t])                       # h_t = n + z ⊙ (h_{t−1} − n)


def gru_backward(dh_out: np.ndarray, cache: GRUCache, Wx: np.ndarray, Wh: np.ndarray,
                 first_grad_step: int = 0, need_dx: bool = True):
    """Backpropagation through time for one layer; the contract of lstm.lstm_backward (dh_out,
    first_grad_step, the early stop).  Going back from t = T−1, with the carried gradient δh:

        δh = δh_carry + dh_out[t]
        δa_n = δh ⊙ (1 − z) ⊙ (1 − n²)          δm = δa_n ⊙ r
        δa_r = δa_n ⊙ m ⊙ r(1 − r)              δa_z = δh ⊙ (h_{t−1} − n) ⊙ z(1 − z)
        δh_carry = δh ⊙ z + [δa_r, δa_z, δm] Whᵀ

    and, a chunk of steps at a time: ∂Wh = Σ h_{t−1}ᵀ [δa_r, δa_z, δm], ∂bh = Σ [δa_r, δa_z, δm],
    ∂Wx = Σ x_tᵀ [δa_r, δa_z, δa_n], ∂bx = Σ [δa_r, δa_z, δa_n], ∂x_t = [δa_r, δa_z, δa_n] Wxᵀ.

    Returns (dx or None, dWx, dWh, dbx, dbh, stop): dx is zero before step `stop`.
    """
    zin, H = cache.zin, cache.hidden
    T, B, I = len(zin) - 1, zin.shape[2], Wx.shape[0]
    dW = _buffer((H + I + 1, 3 * H), zin.dtype)           # Σ_t [h_{t−1}; x_t; 1] [δa_r; δa_z; δm]ᵀ
    du = _buffer((I + 1, H), zin.dtype)                   # Σ_t [x_t; 1] δa_nᵀ
    dW.fill(0.0)
    du.fill(0.0)
    dx = _buffer((T, I, B), zin.dtype) if need_dx else None
    Wx_nrz = np.concatenate([Wx[:, 2 * H:], Wx[:, :2 * H]], axis=1)   # as the rows of δ: n, r, z
    with one_blas_thread():
        stop = _backward_steps(dh_out, cache, np.ascontiguousarray(Wh), Wx_nrz, first_grad_step, dW, du, dx)
    if need_dx:
        dx[:stop] = 0.0
        dx = dx.transpose(0, 2, 1)
    # dW's x rows of the m column are Σ x δmᵀ, which no parameter takes (m reads no x)
    dWx = np.concatenate([dW[H:H + I, :2 * H], du[:I]], axis=1)
    dbx = np.concatenate([dW[H + I, :2 * H], du[I]])
    return dx, dWx, dW[:H].copy(), dbx, dW[H + I].copy(), stop


def _backward_steps(dh_out, cache, Wh, Wx_nrz, first_grad_step, dW, du, dx) -> int:
    """The recurrence backwards; adds the sums of gru_backward to dW and du, writes ∂x_t into
    dx[t] (when dx is given).  Returns the step it stopped at.

    It goes a chunk of steps at a time, so that the chunk's data stays in cache: first the
    factors that depend on step t alone, in bulk (_step_factors), leaving four calls and one
    product per step,

        [δa_n; δa_r; δa_z; δm] = δh ⊙ [P; Q_r; Q_z; S]
        δh_carry = Wh [δa_r; δa_z; δm] + δh ⊙ z

    then the chunk's share of the weight gradients and of dx, in one product each.
    """
    act, zin = cache.act, cache.zin
    T, H, B = len(act), cache.hidden, zin.shape[2]
    dt = act.dtype
    dh, dhz, scratch = np.zeros((H, B), dtype=dt), np.empty((H, B), dtype=dt), np.empty((H, B), dtype=dt)
    n = max(1, min(T, CHUNK // (H * B)))
    # per step of a chunk: the factors [P; Q_r; Q_z; S] (4H rows), [1 − r; 1 − z] (2H), δ (4H)
    chunk = _buffer((n, 10 * H, B), dt)
    F, ds, D = chunk[:, :4 * H], chunk[:, 4 * H:6 * H], chunk[:, 6 * H:]
    product_W, chunk_W = _buffer((n, *dW.shape), dt), _buffer(dW.shape, dt)
    product_u, chunk_u = _buffer((n, *du.shape), dt), _buffer(du.shape, dt)
    # each step's views made up front: slicing in the loop costs as much as a small call
    F_k, D_k = list(F.reshape(n, 4, H, B)), list(D.reshape(n, 4, H, B))
    D_rzm, z = list(D[:, H:]), list(act[:, H:2 * H])
    tiny, peak, stop = np.finfo(dt).eps, 0.0, None
    for end in range(T, 0, -n):
        start = max(0, end - n)
        _step_factors(act[start:end], zin[start:end, :H], F, ds)
        for t in range(end - 1, start - 1, -1):
            k = t - start
            if t >= first_grad_step:
                dh += dh_out[t].T
            np.multiply(F_k[k], dh, D_k[k])                            # δa_n, δa_r, δa_z, δm
            np.multiply(dh, z[t], dhz)
            np.dot(Wh, D_rzm[k], dh)
            np.add(dh, dhz, dh)                                        # δh_carry
            if t % 4 == 0:                                             # the early stop (lstm.py's)
                size = np.abs(dh, scratch).max()
                peak = max(peak, size)
                if t <= first_grad_step and size <= tiny * peak:
                    stop = t
                    break
        first = (stop if stop is not None else start) - start
        done, steps = D[first:end - start], slice(start + first, end)
        dW += np.sum(np.matmul(zin[steps], done[:, H:].transpose(0, 2, 1), out=product_W[:len(done)]),
                     axis=0, out=chunk_W)
        du += np.sum(np.matmul(zin[steps, H:], done[:, :H].transpose(0, 2, 1), out=product_u[:len(done)]),
                     axis=0, out=chunk_u)
        if dx is not None:
            np.matmul(Wx_nrz, done[:, :3 * H], out=dx[steps])
        if stop is not None:
            return stop
    return 0


def _step_factors(act, h, F, ds):
    """For the steps of act (n', 4H, B) = [r; z; r ⊙ m; n] and h_{t−1} (n', H, B), in bulk:

        P = (1 − z)(1 − n²)      Q_r = P ⊙ (r ⊙ m) ⊙ (1 − r)
        S = P ⊙ r                Q_z = (h_{t−1} − n) ⊙ z(1 − z)

    into F = [P; Q_r; Q_z; S]; ds is scratch for [1 − r; 1 − z]."""
    n, H = len(act), act.shape[1] // 4
    one = act.dtype.type(1)
    r, z, rm, nn = (act[:, k * H:(k + 1) * H] for k in range(4))
    F, ds = F[:n], ds[:n]
    P, Qr, Qz, S = (F[:, k * H:(k + 1) * H] for k in range(4))
    np.subtract(one, act[:, :2 * H], ds)
    one_r, one_z = ds[:, :H], ds[:, H:]
    np.multiply(nn, nn, P)
    np.subtract(one, P, P)
    np.multiply(P, one_z, P)
    np.multiply(P, r, S)
    np.multiply(P, rm, Qr)
    np.multiply(Qr, one_r, Qr)
    np.subtract(h, nn, Qz)
    np.multiply(Qz, z, Qz)
    np.multiply(Qz, one_z, Qz)
