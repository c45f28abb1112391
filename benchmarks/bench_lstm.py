"""Our NumPy LSTM and GRU against PyTorch's CPU LSTM and GRU on the same work, side by side.

    pip install torch==2.13.0          # a benchmark dependency only, never a run-time one
    python benchmarks/bench_lstm.py                      # every config, 1 and 2 threads, both cells
    python benchmarks/bench_lstm.py --quick              # 3 repeats, two small configs
    python benchmarks/bench_lstm.py --cells gru          # one cell only

The same work on both sides, float32, from the same weights and batch:

    train step:  forward over all T steps, MAE loss on the head's output ŷ = h_T Wd + bd,
                 backpropagation through time over the whole sequence, gradient clipping to
                 global norm 1, one Adam update (lr 1e-3)
    inference:   forward over all T steps and the head, no gradients kept

Ours is forecast_cli.network (what train.fit_network runs); torch's is nn.LSTM (or nn.GRU) +
nn.Linear with the weights copied from ours (weight_ih = Wxᵀ, weight_hh = Whᵀ; the LSTM's
bias_ih = b, bias_hh = 0, the GRU's bias_ih = bx, bias_hh = bh); before timing, each config
checks that both compute the same loss and gradients.

Each side runs in its own worker process (so neither library's idle threads or its
flush-to-zero setting touch the other) and the parent interleaves them, one sample at a time:
ours, torch, torch with flush-denormal, ours, torch, … .  A sample is the mean over as many
steps as fill --min-time.  Reported: the median sample of each side and the ratio of medians
ours/torch (below 1: ours is faster) against torch's defaults and against torch with
`torch.set_flush_denormal(True)`; GFLOP/s counts the matrix products of full BPTT
(2·m·n·k each) and is set against the machine's measured float32 matrix-multiply peak.
"threads" is the budget given to each side: torch.set_num_threads(n), and for ours
threadpoolctl's limit on the BLAS pool (ours runs every step loop on one BLAS thread, and
inference on large enough batches runs blocks of the batch on that many threads: see
forecast_cli/lstm.py and network.predict).  Ours stops BPTT early once the carried gradient is
below float32 rounding (lstm_backward, gru_backward); the "bptt" column shows the steps it
actually ran, per layer, in the last training step of the config.  The last line gives the
worst ratio of each cell.

OPENBLAS_CORETYPE pins NumPy's OpenBLAS to an older kernel; to measure the one the CPU has,
run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_lstm.py` (the
header says which kernel ran).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

CONFIGS = [  # batch, seq_len, inputs, hidden, layers
    (64, 48, 1, 32, 1), (64, 48, 1, 32, 2), (256, 168, 1, 64, 1),
    (256, 168, 8, 128, 1), (256, 168, 8, 128, 2), (128, 336, 1, 256, 1),
]
HORIZON = 48          # the head's width: M4 Hourly's horizon
LR, CLIP = 1e-3, 1.0


# ----------------------------------------------------------------------------------------------
# the work, as both workers build it


def batch(config, seed=0):
    """Inputs (T, B, I) ~ N(0, 1) and targets (B, HORIZON) ~ N(0, 1), float32."""
    B, T, I = config[:3]
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(T, B, I)).astype(np.float32),
            rng.normal(size=(B, HORIZON)).astype(np.float32))


def our_params(config, cell, seed=0):
    from forecast_cli import network
    _, _, I, H, L = config
    return network.init_params(network.Shape(I, H, L, HORIZON, cell), np.random.default_rng(seed), np.float32)


def matmul_flops(config, cell) -> tuple[float, float]:
    """(train, infer) FLOPs of the matrix products, full BPTT, no input gradient at layer 0."""
    B, T, I, H, L = config
    G = {"lstm": 4, "gru": 3}[cell]                                # gate blocks
    infer = train = 2.0 * B * H * HORIZON
    for k in range(L):
        n_in = I if k == 0 else H
        forward = 2.0 * T * B * (n_in + H) * G * H                 # x Wx, h Wh
        backward = 2.0 * T * B * (n_in + H + H) * G * H             # ∂Wx, ∂Wh, δh Whᵀ
        backward += 2.0 * T * B * G * H * n_in if k > 0 else 0.0    # ∂x for the layer below
        infer += forward
        train += forward + backward
    return train + 2.0 * 2 * B * H * HORIZON, infer


class Ours:
    def __init__(self, config, cell, threads):
        from threadpoolctl import threadpool_limits

        from forecast_cli import network
        from forecast_cli.optim import Adam, clip_by_global_norm
        from forecast_cli.train import loss_and_grad
        self.limit = threadpool_limits(limits=threads, user_api="blas")
        self.network, self.clip, self.loss_and_grad = network, clip_by_global_norm, loss_and_grad
        self.params, self.cell = our_params(config, cell), cell
        self.opt = Adam(self.params)
        self.x, self.y = batch(config)
        self.bptt_steps = []

    def train(self):
        """One step of train.fit_network's loop."""
        pred, cache = self.network.forward(self.params, self.x, 0.0, None)
        loss, dpred = self.loss_and_grad(pred, self.y, "mae")
        grads = self.network.backward(self.params, cache, dpred)
        self.clip(grads, CLIP)
        self.opt.update(self.params, grads, LR)

    def infer(self):
        self.network.predict(self.params, self.x)


class Torch:
    def __init__(self, config, cell, threads):
        import torch
        torch.set_num_threads(threads)
        self.torch = torch
        _, _, I, H, L = config
        self.rnn = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](I, H, L)
        self.head = torch.nn.Linear(H, HORIZON)
        copy_into_torch(our_params(config, cell), self.rnn, self.head)
        self.all_params = list(self.rnn.parameters()) + list(self.head.parameters())
        self.opt = torch.optim.Adam(self.all_params, lr=LR)
        x, y = batch(config)
        self.x, self.y = torch.from_numpy(x), torch.from_numpy(y)

    def loss(self):
        out, _ = self.rnn(self.x)
        return self.torch.nn.functional.l1_loss(self.head(out[-1]), self.y)

    def train(self):
        self.opt.zero_grad(set_to_none=True)
        self.loss().backward()
        self.torch.nn.utils.clip_grad_norm_(self.all_params, CLIP)
        self.opt.step()

    def infer(self):
        with self.torch.inference_mode():
            out, _ = self.rnn(self.x)
            self.head(out[-1])


TORCH_NAMES = {  # torch's name ← ours, per cell (None: zero)
    "lstm": (("weight_ih", "Wx"), ("weight_hh", "Wh"), ("bias_ih", "b"), ("bias_hh", None)),
    "gru": (("weight_ih", "Wx"), ("weight_hh", "Wh"), ("bias_ih", "bx"), ("bias_hh", "bh")),
}


def copy_into_torch(params, rnn, head):
    import torch
    cell = "gru" if isinstance(rnn, torch.nn.GRU) else "lstm"
    with torch.no_grad():
        for k in range(rnn.num_layers):
            for theirs, ours in TORCH_NAMES[cell]:
                target = getattr(rnn, f"{theirs}_l{k}")
                if ours is None:
                    target.zero_()
                else:
                    target.copy_(torch.from_numpy(params[f"{cell}.{k}.{ours}"].T))   # .T: no-op on a bias
        head.weight.copy_(torch.from_numpy(params["head.W"].T))
        head.bias.copy_(torch.from_numpy(params["head.b"]))


def same_work_error(config, cell) -> float:
    """Largest relative error, over the loss and every parameter's gradient, ours vs torch."""
    from forecast_cli import network
    from forecast_cli.train import loss_and_grad
    ours, theirs = Ours(config, cell, 1), Torch(config, cell, 1)
    ours.limit.restore_original_limits()
    pred, cache = network.forward(ours.params, ours.x)
    loss, dpred = loss_and_grad(pred, ours.y, "mae")
    grads = network.backward(ours.params, cache, dpred)
    t_loss = theirs.loss()
    t_loss.backward()
    t_loss = t_loss.item()
    want = {"head.W": theirs.head.weight.grad.T, "head.b": theirs.head.bias.grad}
    for k in range(config[4]):
        for name, ours in TORCH_NAMES[cell]:
            if ours is not None:
                g = getattr(theirs.rnn, f"{name}_l{k}").grad
                want[f"{cell}.{k}.{ours}"] = g.T if g.ndim == 2 else g
    errors = [abs(loss - t_loss) / abs(t_loss)]
    for name, g in want.items():
        g = g.numpy()
        errors.append(float(np.linalg.norm(grads[name] - g) / max(np.linalg.norm(g), 1e-30)))
    return max(errors)


# ----------------------------------------------------------------------------------------------
# the workers: one process per side, commands as JSON lines on stdin, answers on stdout


def worker(side: str) -> None:
    model, answer = None, sys.stdout
    sys.stdout = sys.stderr                       # nothing else may write to the answer pipe
    if side == "torch":
        import torch
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "setup":
            model = (Ours if side == "ours" else Torch)(tuple(cmd["config"]), cmd["cell"], cmd["threads"])
            reply = {}
        elif cmd["op"] == "run":
            if side == "torch":
                torch.set_flush_denormal(cmd["ftz"])
            run = getattr(model, cmd["what"])
            n, started = 0, time.perf_counter()
            while True:
                run()
                n += 1
                elapsed = time.perf_counter() - started
                if elapsed >= cmd["min_time"] and n >= cmd.get("min_runs", 1):
                    break
            if side == "torch":
                torch.set_flush_denormal(False)
            reply = {"seconds": elapsed / n}
        elif cmd["op"] == "bptt":
            reply = {"stop": bptt_stop(model)}
        elif cmd["op"] == "peak":
            reply = {"gflops": peak_gflops(side, cmd["threads"])}
        elif cmd["op"] == "check":
            reply = {"error": same_work_error(tuple(cmd["config"]), cmd["cell"])}
        elif cmd["op"] == "info":
            reply = {"info": info(side)}
        print(json.dumps(reply), file=answer, flush=True)


def bptt_stop(model: Ours) -> list:
    """Per layer, the step where our BPTT stopped (0: it ran back to the first step)."""
    cells = model.network.CELLS
    stops, original = [], cells[model.cell]

    def spy(*args, **kwargs):
        out = original.backward(*args, **kwargs)
        stops.append(int(out[-1]))
        return out
    cells[model.cell] = dataclasses.replace(original, backward=spy)
    try:
        model.train()
    finally:
        cells[model.cell] = original
    return stops[::-1]


def peak_gflops(side: str, threads: int, n: int = 1024) -> float:
    """Best of many float32 n×n×n matrix products, in GFLOP/s (the best, as the machine is shared)."""
    a = np.random.default_rng(0).normal(size=(n, n)).astype(np.float32)
    if side == "torch":
        import torch
        torch.set_num_threads(threads)
        ta = torch.from_numpy(a)
        mm = lambda: torch.mm(ta, ta)     # noqa: E731
    else:
        from threadpoolctl import threadpool_limits
        limit = threadpool_limits(limits=threads, user_api="blas")
        mm = lambda: np.dot(a, a)         # noqa: E731
    best = min(timed(mm) for _ in range(40))
    if side != "torch":
        limit.restore_original_limits()
    return 2.0 * n ** 3 / best / 1e9


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def info(side: str) -> str:
    if side == "torch":
        import torch
        return f"torch {torch.__version__}, {torch.backends.cpu.get_cpu_capability()}, mkldnn {torch.backends.mkldnn.is_available()}"
    from threadpoolctl import threadpool_info
    blas = [f"{p['internal_api']} {p['version']} kernel {p.get('architecture')}" for p in threadpool_info()
            if p["user_api"] == "blas"]
    return f"numpy {np.__version__}, " + ", ".join(blas)


class Worker:
    def __init__(self, side: str):
        self.proc = subprocess.Popen([sys.executable, __file__, "--worker", side], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)

    def ask(self, **cmd) -> dict:
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker died on {cmd}")
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        self.proc.wait()


# ----------------------------------------------------------------------------------------------
# the parent: interleave, take medians, print


def measure(ours: Worker, torch: Worker, config, cell, threads, repeats, min_time) -> dict:
    """Medians (seconds) of ours, torch and torch-ftz, per kind of work, sampled A B C A B C …"""
    ours.ask(op="setup", config=config, cell=cell, threads=threads)
    torch.ask(op="setup", config=config, cell=cell, threads=threads)
    runs = [(ours, False), (torch, False), (torch, True)]
    out = {}
    for what in ("train", "infer"):
        for side, ftz in runs:          # warm up: caches, thread pools, the allocator's thresholds
            side.ask(op="run", what=what, ftz=ftz, min_time=4 * min_time, min_runs=3)
        samples = [[] for _ in runs]
        for _ in range(repeats):
            for k, (side, ftz) in enumerate(runs):
                samples[k].append(side.ask(op="run", what=what, ftz=ftz, min_time=min_time)["seconds"])
        out[what] = [statistics.median(s) for s in samples]
    out["bptt"] = ours.ask(op="bptt")["stop"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", choices=("ours", "torch"), help=argparse.SUPPRESS)
    ap.add_argument("--repeats", type=int, default=7, help="samples per side (medians are reported)")
    ap.add_argument("--min-time", type=float, default=0.05, help="seconds of work in one sample")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--config", type=str, nargs="+", help="B,T,I,H,L (default: the six of issue 4)")
    ap.add_argument("--quick", action="store_true", help="3 repeats of the two smallest configs")
    ap.add_argument("--cells", nargs="+", choices=("lstm", "gru"), default=["lstm", "gru"])
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker)
    configs = [tuple(int(v) for v in c.split(",")) for c in args.config] if args.config else CONFIGS
    if args.quick:
        configs, args.repeats = configs[:2] if not args.config else configs, 3

    ours, torch = Worker("ours"), Worker("torch")
    print(f"ours: {ours.ask(op='info')['info']}; torch: {torch.ask(op='info')['info']}")
    print(f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')} "
          f"OPENBLAS_L2_SIZE={os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}; {os.cpu_count()} cores; "
          f"load average {os.getloadavg()[0]:.2f}; repeats {args.repeats}, ≥ {args.min_time:g} s per sample")
    peak = {}
    for n in args.threads:
        mine, theirs = ours.ask(op="peak", threads=n)["gflops"], torch.ask(op="peak", threads=n)["gflops"]
        peak[n] = max(mine, theirs)
        print(f"float32 matmul peak, {n} thread(s): numpy {mine:.0f} GFLOP/s, torch {theirs:.0f} GFLOP/s")
    for cell in args.cells:
        for config in configs:
            err = torch.ask(op="check", config=config, cell=cell)["error"]
            assert err < 1e-3, f"{cell} {config}: ours and torch disagree (relative error {err:.1e})"

    print()
    print("ratio = ours / torch (median times); torch-ftz: torch.set_flush_denormal(True); "
          "GF/s: full-BPTT matmul FLOPs / time, % of peak")
    header = (f"{'cell':<5}{'B,T,I,H,L':<17}{'thr':>3}{'work':>6}{'ours ms':>10}{'torch ms':>10}{'ftz ms':>9}"
              f"{'ratio':>7}{'r-ftz':>7}{'ours GF/s':>15}{'torch GF/s':>15}  bptt")
    print(header)
    print("-" * len(header))
    worst = {cell: {"train": 0.0, "infer": 0.0} for cell in args.cells}
    for cell in args.cells:
        for config in configs:
            print_config(ours, torch, config, cell, args, peak, worst[cell])
    ours.close()
    torch.close()
    print("worst ratios: " + "; ".join(f"{cell} train {w['train']:.2f}, infer {w['infer']:.2f}" for cell, w in worst.items()))


def print_config(ours, torch, config, cell, args, peak, worst) -> None:
    """The rows of one config and cell (1 and 2 threads, train and infer); updates `worst`."""
    flops = dict(zip(("train", "infer"), matmul_flops(config, cell)))
    for n in args.threads:
        m = measure(ours, torch, list(config), cell, n, args.repeats, args.min_time)
        for what in ("train", "infer"):
            mine, theirs, ftz = m[what]
            ratio, ratio_ftz = mine / theirs, mine / ftz
            worst[what] = max(worst[what], ratio, ratio_ftz)
            gf = lambda s: f"{flops[what] / s / 1e9:6.1f} ({100 * flops[what] / s / 1e9 / peak[n]:3.0f}%)"  # noqa: E731
            steps = "/".join(f"{config[1] - s}" for s in m["bptt"]) + f" of {config[1]}" if what == "train" else ""
            print(f"{cell:<5}{','.join(map(str, config)):<17}{n:>3}{what:>6}{1e3 * mine:>10.2f}{1e3 * theirs:>10.2f}"
                  f"{1e3 * ftz:>9.2f}{ratio:>7.2f}{ratio_ftz:>7.2f}{gf(mine):>15}{gf(min(theirs, ftz)):>15}  {steps}",
                  flush=True)


if __name__ == "__main__":
    main()
