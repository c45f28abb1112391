"""Big inputs: a long-format CSV of 1,000,000 rows (1,000 series × 1,000 hourly points) through
the real command line, with the wall time and peak memory (max RSS) of every step.

    python benchmarks/bench_big.py                          # 1,000 × 1,000, as issue 5 asks
    python benchmarks/bench_big.py --series 100 --points 500 --keep /tmp/big   # smaller; keep the files

Steps, each a fresh `python -m forecast_cli …` process run under GNU time (`/usr/bin/time -v`;
on Debian: `apt-get install time`):

    train    lstm-forecast train big.csv --epochs 1 -o model.npz --quiet
    predict  lstm-forecast predict -m model.npz -o forecast.csv            (continues the series)
    predict  lstm-forecast predict -m model.npz big.csv -o forecast2.csv   (reads the CSV again)

Two memory figures per step: GNU time's "Maximum resident set size" (the largest single
process: with an ensemble trained in worker processes, the parent or one worker), and the peak
of the whole process tree's resident memory summed, sampled from /proc every 50 ms — the one
to hold against the limit.

The data is seeded and looks like real demand: per series a level (log-normal over three
orders of magnitude), a daily and a weekly cycle of random phase and strength, a slow trend
and noise, never below zero.  The target is peak memory under 2 GB (issue 5); the script
exits 1 if a step fails or goes over --limit-mb.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

GNU_TIME = "/usr/bin/time"


def write_csv(path: Path, n_series: int, n_points: int, seed: int = 0) -> int:
    """Write unique_id,ds,y for n_series hourly series of n_points each; returns the bytes written."""
    rng = np.random.default_rng(seed)
    hours = np.arange(n_points)
    stamps = pd.date_range("2023-01-02", periods=n_points, freq="h").strftime("%Y-%m-%d %H:%M:%S").to_numpy()
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write("unique_id,ds,y\n")
        for k in range(n_series):
            level = rng.lognormal(mean=4.0, sigma=1.5)
            daily = rng.uniform(0.1, 0.6) * np.sin(2 * np.pi * (hours / 24 + rng.uniform()))
            weekly = rng.uniform(0.0, 0.3) * np.sin(2 * np.pi * (hours / 168 + rng.uniform()))
            trend = rng.normal(0, 0.3) * hours / n_points
            noise = rng.normal(0, rng.uniform(0.02, 0.15), n_points)
            y = np.maximum(level * (1 + daily + weekly + trend + noise), 0.0)
            block = pd.DataFrame({"unique_id": f"S{k:05d}", "ds": stamps, "y": np.round(y, 3)})
            block.to_csv(fh, header=False, index=False, lineterminator="\n")
    return path.stat().st_size


def tree_rss_mb(root: int) -> float:
    """Resident memory of `root` and all its descendants, summed (Linux /proc)."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier and pid not in tree]
        tree.update(children)
        frontier = children
    total = 0
    for pid in tree:
        try:
            with open(f"/proc/{pid}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            pass
    return total / 2**20


def measured(args: list[str], cwd: Path) -> dict:
    """Run `python -m forecast_cli ARGS` under GNU time; returns wall seconds, the largest
    process's max RSS (GNU time), the process tree's sampled peak and the exit status."""
    cmd = [GNU_TIME, "-v", sys.executable, "-m", "forecast_cli", *args]
    env = dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    peak, done = [0.0], threading.Event()

    def sample():
        while not done.wait(0.05):
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = proc.communicate()
    done.set()
    sampler.join()
    wall = time.perf_counter() - started
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    user = re.search(r"User time \(seconds\): ([\d.]+)", stderr)
    return {"command": "lstm-forecast " + " ".join(args), "status": proc.returncode, "wall_s": wall,
            "user_s": float(user.group(1)) if user else float("nan"),
            "max_rss_mb": int(rss.group(1)) / 1024 if rss else float("nan"),
            "tree_peak_mb": peak[0], "stderr": stderr}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--series", type=int, default=1000)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit-mb", type=float, default=2048.0, help="peak memory allowed per step")
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it (default: a temporary one)")
    parser.add_argument("--train-args", default="", help="extra flags for train, e.g. '--hidden-size 32'")
    opts = parser.parse_args()
    if not Path(GNU_TIME).is_file():
        print(f"{GNU_TIME} not found; install GNU time (Debian: apt-get install time)", file=sys.stderr)
        return 2

    work = opts.keep or Path(tempfile.mkdtemp(prefix="bench_big."))
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        size = write_csv(work / "big.csv", opts.series, opts.points, opts.seed)
        print(f"data: {opts.series} series × {opts.points} points = {opts.series * opts.points:,} rows, "
              f"{size / 2**20:.1f} MiB, written in {time.perf_counter() - started:.1f} s ({work / 'big.csv'})")
        steps = [
            ["train", "big.csv", "--epochs", "1", "-o", "model.npz", "--quiet", *opts.train_args.split()],
            ["predict", "-m", "model.npz", "-o", "forecast.csv", "--quiet"],
            ["predict", "-m", "model.npz", "big.csv", "-o", "forecast2.csv", "--quiet"],
        ]
        failed = False
        print(f"{'step':<72} {'wall s':>7} {'user s':>7} {'max RSS MB':>11} {'tree peak MB':>13}")
        for args in steps:
            r = measured(args, work)
            print(f"{r['command']:<72} {r['wall_s']:>7.1f} {r['user_s']:>7.1f} {r['max_rss_mb']:>11.0f} "
                  f"{r['tree_peak_mb']:>13.0f}")
            if r["status"] != 0:
                print(f"  failed with status {r['status']}:\n{r['stderr']}", file=sys.stderr)
                failed = True
                break
            if max(r["max_rss_mb"], r["tree_peak_mb"]) > opts.limit_mb:
                print(f"  over the {opts.limit_mb:.0f} MB limit", file=sys.stderr)
                failed = True
        rows = sum(1 for _ in open(work / "forecast.csv")) - 1 if (work / "forecast.csv").exists() else 0
        print(f"forecast rows: {rows:,}")
        return 1 if failed else 0
    finally:
        if not opts.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
