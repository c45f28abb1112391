"""Do the intervals hold their coverage on small data?  M4 Hourly, a few series at a time.

    python benchmarks/small_data.py                         # 24 groups of 1 series, and of 4
    python benchmarks/small_data.py --size 1 --groups 40
    python benchmarks/small_data.py --twin-horizons 0       # calibrate on the validation windows only

On all 414 series the validation windows calibrate the intervals well (benchmarks/m4.py); a
user with one to a few series has one short validation slice.  This draws `--groups` random
groups of `--size` series from M4 Hourly (seeded), trains a model with the default settings on
each group alone, forecasts the 48 test values with 95 % and 80 % intervals, and scores them as
M4 does.  Prints, per group size: the mean coverage and MSIS over all series of all groups
(beside seasonal naive's textbook intervals on the same series), the spread of the per-group
coverage, and the wall time.  --twin-horizons sets intervals.TWIN_HORIZONS (0: no twin).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from m4 import DEFAULT_DATA, HORIZON, SEASON, parse_sets, read_wide  # noqa: E402

from forecast_cli import intervals, metrics  # noqa: E402
from forecast_cli.config import build_config  # noqa: E402
from forecast_cli.forecaster import Forecaster  # noqa: E402

LEVELS = (95, 80)


def group_scores(X, Y, config) -> dict:
    """{(method, level): (coverage per series, MSIS per series)} for one group."""
    forecaster = Forecaster(config).fit(X, freq=None)
    _, bounds = intervals.predict(forecaster, LEVELS, X)
    out = {}
    for level in LEVELS:
        each = [intervals.seasonal_naive_interval(x, HORIZON, SEASON, level) for x in X]
        snaive = (np.array([b[0] for b in each]), np.array([b[1] for b in each]))
        for name, (lo, hi) in (("LSTM", bounds[level]), ("seasonal naive", snaive)):
            s = metrics.interval_scores(Y, lo, hi, X, SEASON, level)
            out[name, level] = (s[f"coverage-{level}"], s[f"MSIS-{level}"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DATA)
    ap.add_argument("--size", type=int, nargs="+", default=[1, 4], help="series per group")
    ap.add_argument("--groups", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--twin-horizons", type=int, help="override intervals.TWIN_HORIZONS (0: no twin)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config option")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.twin_horizons is not None:
        intervals.TWIN_HORIZONS = args.twin_horizons
    _, X = read_wide(os.path.join(args.data, "Hourly-train.csv"))
    _, Y = read_wide(os.path.join(args.data, "Hourly-test.csv"))
    config = build_config(None, {"horizon": HORIZON, "season": SEASON, **parse_sets(args.set)})
    rng = np.random.default_rng(args.seed)
    print(f"{'size':>4}{'groups':>7}  {'method':<16}{'level':>6}{'coverage':>10}{'MSIS':>8}"
          f"{'group coverage p10–p90':>24}{'sec':>8}")
    for size in args.size:
        found, started = {}, time.perf_counter()
        for _ in range(args.groups):
            pick = rng.choice(len(X), size, replace=False)
            for key, (cov, msis) in group_scores([X[i] for i in pick], np.array([Y[i] for i in pick]), config).items():
                found.setdefault(key, []).append((cov, msis))
        wall = time.perf_counter() - started
        for (name, level), groups in sorted(found.items(), key=lambda kv: (-kv[0][1], kv[0][0])):
            cov = np.concatenate([g[0] for g in groups])
            msis = np.concatenate([g[1] for g in groups])
            p10, p90 = np.percentile([g[0].mean() for g in groups], [10, 90])
            print(f"{size:>4}{args.groups:>7}  {name:<16}{level:>6}{100 * cov.mean():>9.1f}%{msis.mean():>8.2f}"
                  f"{100 * p10:>14.0f}% – {100 * p90:.0f}%{wall:>8.0f}")


if __name__ == "__main__":
    main()
