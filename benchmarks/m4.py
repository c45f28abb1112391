"""M4 Hourly benchmark: one global model with the default settings, scored as M4 scores it.

    python benchmarks/m4.py                       # defaults (horizon 48, season 24: the task)
    python benchmarks/m4.py --set hidden_size=128 --set ensemble=3   # an experiment
    python benchmarks/m4.py --baselines-only      # just check the metric code (seconds)
    python benchmarks/m4.py --level 95 --level 80 # also prediction intervals: coverage, MSIS, ACD
    python benchmarks/m4.py --csv m4.csv          # write the training series as a long CSV, for the CLI:
    /usr/bin/time -v lstm-forecast train m4.csv -o m4.npz
    /usr/bin/time -v lstm-forecast predict -m m4.npz m4.csv > m4_forecast.csv

Reads ../shared/data/m4 (or --data DIR): Hourly-train.csv (id, then values; rows of different
lengths) and Hourly-test.csv (the 48 values that follow).  Prints sMAPE / MASE / OWA of the
LSTM beside our baselines and the published scores in that folder's README, and the wall time.
The baselines must reproduce the published Naive2 and seasonal-naive rows to within 0.01.
With --level, the LSTM's conformal intervals and seasonal naive's textbook ones are scored too
(coverage, MSIS, ACD = |coverage − level|), beside the published 95 % MSIS.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from forecast_cli import intervals, metrics  # noqa: E402
from forecast_cli.baselines import BASELINES  # noqa: E402
from forecast_cli.config import build_config  # noqa: E402
from forecast_cli.forecaster import Forecaster  # noqa: E402

HORIZON, SEASON = 48, 24
DEFAULT_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "m4")
PUBLISHED = {  # sMAPE, MASE, OWA — from the competition's results (shared/data/m4/README.md)
    "Naive": (43.003, 11.608, 3.593),
    "Seasonal naive": (13.912, 1.193, 0.627),
    "Naive2": (18.383, 2.395, 1.000),
    "Theta": (18.138, 2.455, 1.006),
    "M4 benchmark MLP": (13.842, 2.607, 0.921),
    "M4 benchmark RNN": (14.698, 3.048, 1.036),
    "Smyl, ES-RNN (winner)": (9.328, 0.893, 0.440),
    "Doornik et al. (best Hourly)": (8.913, 0.801, 0.410),
}
PUBLISHED_MSIS95 = {"Naive": 71.245, "ETS": 17.487, "ARIMA": 7.538, "Smyl, ES-RNN (winner)": 7.928,
                    "Doornik et al. (best Hourly)": 6.139}


def read_wide(path: str) -> tuple[list, list]:
    frame = pd.read_csv(path)
    ids = frame.iloc[:, 0].astype(str).tolist()
    return ids, [row.dropna().to_numpy(dtype=float) for _, row in frame.iloc[:, 1:].iterrows()]


def write_long_csv(wide: str, path: str) -> None:
    ids, X = read_wide(wide)
    pd.DataFrame({"unique_id": np.repeat(ids, [len(x) for x in X]),
                  "ds": np.concatenate([pd.date_range("2000-01-01", periods=len(x), freq="h") for x in X]),
                  "y": np.concatenate(X)}).to_csv(path, index=False)


def score(Y, F, X) -> tuple[float, float]:
    s = metrics.point_scores(Y, F, X, SEASON)
    return float(s["sMAPE"].mean()), float(s["MASE"].mean())


def interval_rows(Y, X, F, bounds: dict, levels) -> list:
    """(method, level, coverage, MSIS, ACD) for the LSTM's intervals and seasonal naive's."""
    rows = []
    for level in levels:
        each = [intervals.seasonal_naive_interval(x, HORIZON, SEASON, level) for x in X]
        for name, (lo, hi) in (("LSTM (lstm-forecast)", bounds[level]),
                               ("seasonal naive (ours)", (np.array([b[0] for b in each]), np.array([b[1] for b in each])))):
            s = metrics.interval_scores(Y, lo, hi, X, SEASON, level)
            cov = float(s[f"coverage-{level}"].mean())
            rows.append((name, level, cov, float(s[f"MSIS-{level}"].mean()), metrics.acd(cov, level)))
    return rows


def parse_sets(pairs) -> dict:
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        out[key] = yaml.safe_load(value)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DATA, help="folder with Hourly-train.csv and Hourly-test.csv")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config option")
    ap.add_argument("--series", type=int, default=0, help="use only the first N series (quick checks)")
    ap.add_argument("--baselines-only", action="store_true")
    ap.add_argument("--level", type=int, action="append", default=[], help="also score prediction intervals at this level (percent)")
    ap.add_argument("--json", help="also write the results to this JSON file")
    ap.add_argument("--csv", help="only write the training series to this long CSV (unique_id, ds, y; hourly "
                                  "timestamps from 2000-01-01 00:00, so the CLI's defaults set the same task)")
    args = ap.parse_args()
    if args.csv:
        write_long_csv(os.path.join(args.data, "Hourly-train.csv"), args.csv)
        return
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")

    _, X = read_wide(os.path.join(args.data, "Hourly-train.csv"))
    _, Yl = read_wide(os.path.join(args.data, "Hourly-test.csv"))
    if args.series:
        X, Yl = X[:args.series], Yl[:args.series]
    Y = np.array(Yl)
    results = {}
    for name, fn in BASELINES.items():
        results[name] = score(Y, np.array([fn(x, HORIZON, SEASON) for x in X]), X)
    n2 = results["Naive2"]
    rows = [("naive (ours)", "naive", "Naive"), ("seasonal naive (ours)", "seasonal naive", "Seasonal naive"),
            ("Naive2 (ours)", "Naive2", "Naive2")]
    table = []
    for label, key, pub in rows:
        s, m = results[key]
        table.append((label, s, m, metrics.owa(s, m, *n2), PUBLISHED[pub]))

    config = build_config(None, {"horizon": HORIZON, "season": SEASON, **parse_sets(args.set)})
    lstm, interval_table = None, []
    if not args.baselines_only:
        started = time.perf_counter()
        forecaster = Forecaster(config).fit(X, freq=None)
        F, bounds = intervals.predict(forecaster, args.level, X) if args.level else (forecaster.predict(X), {})
        wall = time.perf_counter() - started
        interval_table = interval_rows(Y, X, F, bounds, sorted(set(args.level)))
        s, m = score(Y, F, X)
        lstm = {"sMAPE": s, "MASE": m, "OWA": metrics.owa(s, m, *n2), "seconds": wall,
                "epochs": [len(h.train_loss) for h in forecaster.histories], "config": forecaster.config.to_dict()}
        table.append(("LSTM (lstm-forecast)", s, m, lstm["OWA"], None))

    print(f"M4 Hourly: {len(X)} series, horizon {HORIZON}, season {SEASON}")
    print(f"{'method':<42}{'sMAPE':>9}{'MASE':>9}{'OWA':>8}   published sMAPE / MASE / OWA")
    for label, s, m, o, pub in table:
        ref = f"   {pub[0]:.3f} / {pub[1]:.3f} / {pub[2]:.3f}" if pub else ""
        print(f"{label:<42}{s:>9.3f}{m:>9.3f}{o:>8.3f}{ref}")
    for label, (s, m, o) in list(PUBLISHED.items())[3:]:
        print(f"{label + ' (published)':<42}{s:>9.3f}{m:>9.3f}{o:>8.3f}")
    if lstm:
        print(f"wall time (train + predict): {lstm['seconds']:.1f} s; epochs run: {lstm['epochs']}")
        print("config: " + " ".join(f"{k}={v}" for k, v in lstm["config"].items()
                                    if k not in ("id_col", "time_col", "target_col", "missing")))
    if interval_table:
        print(f"{'prediction intervals':<42}{'level':>6}{'coverage':>10}{'MSIS':>9}{'ACD':>8}")
        for label, level, cov, msis, acd in interval_table:
            print(f"{label:<42}{level:>6}{cov:>10.4f}{msis:>9.3f}{acd:>8.4f}")
        for label, msis in PUBLISHED_MSIS95.items():
            print(f"{label + ' (published)':<42}{95:>6}{'':>10}{msis:>9.3f}")
    ok = all(abs(s - pub[0]) < 0.01 and abs(m - pub[1]) < 0.01 for label, s, m, o, pub in table[1:3])
    print("baselines reproduce the published seasonal-naive and Naive2 rows: " + ("yes" if ok else "NO"))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"baselines": results, "lstm": lstm, "intervals": [
                dict(zip(("method", "level", "coverage", "MSIS", "ACD"), row)) for row in interval_table]}, fh, indent=2)


if __name__ == "__main__":
    main()
