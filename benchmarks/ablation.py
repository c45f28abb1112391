"""What each speed trick of the NumPy core is worth: the same work with the trick and without it,
interleaved in one process, medians over repeats.

    python benchmarks/ablation.py               # every trick, its shapes; ~2 minutes on 2 cores
    python benchmarks/ablation.py --repeats 3   # quicker, noisier

Each row times one piece of work (a training step: forward, loss, full BPTT, clipping, Adam
at learning rate 0, so that the weights and the work stay the same; or an inference pass) on a (batch, steps, inputs, hidden, layers) shape with the code as it is,
and again with one trick switched off through the module constant or argument that controls it:

    early BPTT stop   lstm_backward stops once the carried gradient is below float32 rounding; off:
                      it runs back to step 0 (where float32 gradients have decayed into denormal
                      numbers, which the CPU handles many times slower)
    recycled buffers  lstm._buffer reuses the memory of big arrays; off: fresh memory each time
    one BLAS thread   the step loops run on one BLAS thread (threadpoolctl); off: the BLAS's own
                      two threads on each small product
    fused W copied    lstm.fuse copies W = [Wh; Wx; b]ᵀ contiguous for long runs; off: never
    backward chunks   _backward_steps goes CHUNK entries at a time; off: one step at a time
    inference path    network.predict keeps no caches; off: the training forward
    predict blocks    predict goes through blocks of 256 windows on the threads; off: one block

"×" is the time without the trick over the time with it (above 1: the trick pays).  Shapes:
the smallest of bench_lstm.py, M4 Hourly's training batch with the defaults (patches of 24
values: 7 steps of 26 inputs, 256 units), and the long one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from forecast_cli import lstm, network  # noqa: E402
from forecast_cli.optim import Adam, clip_by_global_norm  # noqa: E402
from forecast_cli.train import loss_and_grad  # noqa: E402

SMALL, M4, LONG = (64, 48, 1, 32, 1), (128, 7, 26, 256, 1), (128, 336, 1, 256, 1)
HORIZON = 48


class Work:
    """A network of the shape, a batch, and the pieces of work the rows time."""

    def __init__(self, shape, seed=0):
        B, T, I, H, L = shape
        rng = np.random.default_rng(seed)
        self.params = network.init_params(network.Shape(I, H, L, HORIZON), rng)
        self.opt = Adam(self.params)
        self.x = rng.normal(size=(T, B, I)).astype(np.float32)
        self.y = rng.normal(size=(B, HORIZON)).astype(np.float32)

    def train(self, full_bptt=False):
        pred, cache = network.forward(self.params, self.x)
        _, dpred = loss_and_grad(pred, self.y, "mae")
        grads = self._full_bptt(cache, dpred) if full_bptt else network.backward(self.params, cache, dpred)
        clip_by_global_norm(grads, 1.0)
        # learning rate 0: every call is the same work (where BPTT stops early depends on the weights)
        self.opt.update(self.params, grads, 0.0)

    def _full_bptt(self, cache, dpred):
        """network.backward of a one-layer network with the early stop out of reach: ∂L/∂h_t is
        passed for every step (zero before the last), so BPTT runs back to step 0."""
        (layer,), _, last = cache
        p = self.params
        dh = np.zeros(layer.tanh_c.shape, np.float32)
        dh[-1] = dpred @ p["head.W"].T
        grads = {"head.W": last.T @ dpred, "head.b": dpred.sum(axis=0)}
        _, grads["lstm.0.Wx"], grads["lstm.0.Wh"], grads["lstm.0.b"], _ = lstm.lstm_backward(
            dh, layer, p["lstm.0.Wx"], p["lstm.0.Wh"], first_grad_step=0, need_dx=False)
        return grads

    def infer(self, block=256):
        network.predict(self.params, self.x, block=block)

    def train_forward(self):
        network.forward(self.params, self.x)


@contextlib.contextmanager
def patched(module, **values):
    saved = {name: getattr(module, name) for name in values}
    for name, value in values.items():
        setattr(module, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def blas_default_threads():
    """The step loops' BLAS left at its own thread count (the trick's context made a no-op)."""
    return patched(lstm, one_blas_thread=contextlib.nullcontext)


ROWS = [  # (trick, shape, work, {argument: value} or a context that switches the trick off)
    ("early BPTT stop", LONG, "train", dict(full_bptt=True)),
    ("early BPTT stop", (256, 168, 1, 64, 1), "train", dict(full_bptt=True)),
    ("recycled buffers", SMALL, "train", lambda: patched(lstm, _SPARE_BIG=1 << 62)),
    ("recycled buffers", M4, "train", lambda: patched(lstm, _SPARE_BIG=1 << 62)),
    ("recycled buffers", LONG, "train", lambda: patched(lstm, _SPARE_BIG=1 << 62)),
    ("one BLAS thread", SMALL, "train", blas_default_threads),
    ("one BLAS thread", M4, "train", blas_default_threads),
    ("fused W copied", LONG, "train", lambda: patched(lstm, FUSE_COPY_MIN=1 << 62)),
    ("fused W copied", LONG, "infer", lambda: patched(lstm, FUSE_COPY_MIN=1 << 62)),
    ("backward chunks", SMALL, "train", lambda: patched(lstm, CHUNK=1)),
    ("backward chunks", LONG, "train", lambda: patched(lstm, CHUNK=1)),
    ("inference path", SMALL, "infer", "train_forward"),
    ("inference path", LONG, "infer", "train_forward"),
    ("predict blocks", (10_000, 7, 26, 256, 1), "infer", dict(block=1 << 62)),
]


def timed(run, min_time: float) -> float:
    """Seconds per call of run(), averaged over enough calls to fill min_time."""
    run()
    n, started = 0, time.perf_counter()
    while n == 0 or time.perf_counter() - started < min_time:
        run()
        n += 1
    return (time.perf_counter() - started) / n


def measure(shape, work: str, off, repeats: int, min_time: float) -> tuple[float, float]:
    """(median seconds with the trick, median seconds without), interleaved."""
    w = Work(shape)
    on_run = getattr(w, work)
    if isinstance(off, dict):
        off_run, context = (lambda: on_run(**off)), contextlib.nullcontext
    elif isinstance(off, str):
        off_run, context = getattr(w, off), contextlib.nullcontext
    else:
        off_run, context = on_run, off
    with_trick, without = [], []
    for _ in range(repeats):
        with_trick.append(timed(on_run, min_time))
        with context():
            without.append(timed(off_run, min_time))
    return statistics.median(with_trick), statistics.median(without)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per sample")
    args = ap.parse_args()
    print(f"numpy {np.__version__}; {os.cpu_count()} cores; BLAS threads {lstm.blas_threads()}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; repeats {args.repeats}")
    print(f"{'trick':<18}{'B,T,I,H,L':<20}{'work':<7}{'with ms':>10}{'without ms':>12}{'×':>7}")
    for trick, shape, work, off in ROWS:
        on, without = measure(shape, work, off, args.repeats, args.min_time)
        print(f"{trick:<18}{','.join(map(str, shape)):<20}{work:<7}{on * 1e3:>10.2f}{without * 1e3:>12.2f}"
              f"{without / on:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
