"""Throughput of `predict` on many series: the command end to end, and Forecaster.predict alone.

    python benchmarks/bench_predict.py                           # 10,000 hourly series of 500 points
    python benchmarks/bench_predict.py --series 2000 --length 300

Writes a synthetic long CSV (unique_id, ds, y: hourly timestamps, a daily season, a trend and
noise) to a temporary folder, trains a model of the default size on its first 200 series for a
few epochs (hidden 256, one layer, an ensemble of two; horizon 48, season 24 and input size 168
from the hourly frequency), then times, --repeats times each, interleaved:

    lstm-forecast predict -m model.npz big.csv > /dev/null      (reading, forecasting, writing)
    lstm-forecast predict -m model.npz - < big.csv > /dev/null  (the same from a pipe)
    Forecaster.predict(values, phase0)                           (the forecasts alone, in-process)

and prints medians and series per second (the target is at least 5,000 series/s).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from forecast_cli import modelfile  # noqa: E402
from forecast_cli.config import build_config  # noqa: E402
from forecast_cli.data import load_series  # noqa: E402


def write_csv(path: str, n_series: int, length: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    level = rng.uniform(50, 500, size=(n_series, 1))
    y = level * (1 + 0.3 * np.sin(2 * np.pi * (t + rng.integers(0, 24, size=(n_series, 1))) / 24)
                 + 0.001 * t) + rng.normal(0, 5, size=(n_series, length))
    frame = pd.DataFrame({
        "unique_id": np.repeat([f"s{k}" for k in range(n_series)], length),
        "ds": np.tile(pd.date_range("2024-01-01", periods=length, freq="h").strftime("%Y-%m-%d %H:%M:%S"), n_series),
        "y": np.round(y.ravel(), 3),
    })
    frame.to_csv(path, index=False)


def cli(*args, stdin: str | None = None) -> float:
    """Seconds `python -m forecast_cli ARGS` took, stdout to /dev/null (stdin from a file)."""
    started = time.perf_counter()
    with open(os.devnull, "w") as null, open(stdin or os.devnull, "rb") as source:
        subprocess.run([sys.executable, "-m", "forecast_cli", *args], stdin=source, stdout=null, check=True)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--series", type=int, default=10_000)
    ap.add_argument("--length", type=int, default=500)
    ap.add_argument("--epochs", type=int, default=2, help="epochs of the (throw-away) model")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--folder", help="keep the CSV files and the model here (default: a temporary folder)")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder or tmp
        os.makedirs(folder, exist_ok=True)
        big, small, model = (os.path.join(folder, name) for name in ("big.csv", "small.csv", "model.npz"))
        started = time.perf_counter()
        write_csv(big, args.series, args.length)
        write_csv(small, min(200, args.series), args.length)
        print(f"wrote {args.series:,} series × {args.length} points ({os.path.getsize(big) / 1e6:.0f} MB) "
              f"in {time.perf_counter() - started:.1f} s")
        print(f"trained the model in {cli('train', small, '-o', model, '--epochs', str(args.epochs), '--quiet'):.1f} s")

        forecaster, info = modelfile.load(model)
        c = forecaster.config
        print(f"model: hidden {c.hidden_size}, layers {c.num_layers}, input size {c.input_size}, horizon {c.horizon}, "
              f"ensemble {c.ensemble}")
        started = time.perf_counter()
        series = load_series(big, build_config({k: v for k, v in info.get("columns", {}).items() if v}, {}))
        print(f"read the CSV in-process in {time.perf_counter() - started:.1f} s")
        values, phase0 = series.values, series.phase0()
        whole, piped, alone = [], [], []
        for _ in range(args.repeats):
            whole.append(cli("predict", "-m", model, big, "--quiet"))
            piped.append(cli("predict", "-m", model, "-", "--quiet", stdin=big))
            started = time.perf_counter()
            forecaster.predict(values, phase0)
            alone.append(time.perf_counter() - started)
        n = len(values)
        for label, times in (("lstm-forecast predict (end to end)", whole), ("  the same, the CSV piped in", piped),
                             ("Forecaster.predict (alone)", alone)):
            median = statistics.median(times)
            print(f"{label:<36} median {median:7.2f} s   {n / median:9,.0f} series/s   (runs: "
                  + ", ".join(f"{s:.2f}" for s in times) + ")")


if __name__ == "__main__":
    main()
