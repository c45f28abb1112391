"""M3 benchmark: the 3003 short series of the M3 competition, through the CLI with its defaults.

    python benchmarks/m3.py                        # the test: train on *_train.csv, score *_test.csv
    python benchmarks/m3.py --validation           # choose settings: the last h of each training
                                                   # series held out, the test files never read
    python benchmarks/m3.py --set ensemble=4       # an experiment (written to a --config file)
    python benchmarks/m3.py --category monthly     # one category

For each category it runs, as a user would, `lstm-forecast train <category>_train.csv --horizon h`
and `lstm-forecast predict --level 95`, then scores the forecasts as M4 defines the metrics
(forecast_cli.metrics): sMAPE, MASE with the seasonal-naive scale of lag m (1 for yearly and
other), OWA against our Naive2, 95 % coverage and MSIS.  M3's overall average sMAPE is the mean
over all series × horizon points (37,014 on the test).  Published rows: ../shared/data/m3/README.md.
The last line is the summary.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import yaml

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from forecast_cli import metrics  # noqa: E402
from forecast_cli.baselines import naive2  # noqa: E402

DEFAULT_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "m3")
CATEGORIES = {"yearly": (6, 1), "quarterly": (8, 4), "monthly": (18, 12), "other": (8, 1)}  # horizon, season
PUBLISHED = {  # sMAPE per category and average (the README's tables)
    "Theta (M3 winner, published)": (16.90, 8.96, 13.85, 4.41, 13.01),
    "N-BEATS-I+G (published)": (15.93, 8.84, 13.11, 4.24, 12.37),
    "statsforecast AutoETS (measured)": (16.19, 9.45, 14.16, 4.35, 13.24),
    "lstm-forecast 8e281a7 (measured)": (16.68, 9.51, 14.68, 4.50, 13.66),
}
LEVEL = 95


def read_long(path: str) -> dict:
    """{id: values in time order} from a long CSV (unique_id, ds, y)."""
    frame = pd.read_csv(path, dtype={"unique_id": str})
    return {k: g["y"].to_numpy(float) for k, g in frame.groupby("unique_id", sort=False)}


def split(train_path: str, test_path: str, horizon: int, validation: bool, workdir: str):
    """(file to train on, histories, actuals): the test split, or the training files' last h."""
    if not validation:
        return train_path, read_long(train_path), read_long(test_path)
    frame = pd.read_csv(train_path, dtype={"unique_id": str})
    position = frame.groupby("unique_id", sort=False).cumcount(ascending=False)
    fit, held = frame[position >= horizon], frame[position < horizon]
    path = os.path.join(workdir, os.path.basename(train_path).replace(".csv", "_val.csv"))
    fit.to_csv(path, index=False)
    groups = lambda f: {k: g["y"].to_numpy(float) for k, g in f.groupby("unique_id", sort=False)}  # noqa: E731
    return path, groups(fit), groups(held)


def run_cli(args: list) -> str:
    done = subprocess.run([sys.executable, "-m", "forecast_cli", *args], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"lstm-forecast {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def forecast_category(train_file: str, horizon: int, config: str | None, workdir: str, seed: int):
    """(forecasts with 95 % bounds, the LSTM weight the model chose)."""
    model = os.path.join(workdir, "model.npz")
    extra = ["--config", config] if config else []
    run_cli(["train", train_file, "--horizon", str(horizon), "-o", model, "--quiet", "--seed", str(seed), *extra])
    out = run_cli(["predict", "-m", model, train_file, "--level", str(LEVEL), "--format", "csv"])
    blend = json.loads(run_cli(["info", model, "--format", "json"]))["config"]["blend"]
    return pd.read_csv(io.StringIO(out), dtype={"unique_id": str}), blend


def score(history: dict, actual: dict, forecast: pd.DataFrame, horizon: int, season: int) -> dict:
    ids = list(actual)
    by_id = {k: g for k, g in forecast.groupby("unique_id", sort=False)}
    missing = [k for k in ids if k not in by_id]
    if missing:
        sys.exit(f"no forecast for {len(missing)} series, e.g. {missing[:3]}")
    Y = np.array([actual[k][:horizon] for k in ids])
    F = np.array([by_id[k]["forecast"].to_numpy()[:horizon] for k in ids])
    lo = np.array([by_id[k][f"forecast-lo-{LEVEL}"].to_numpy()[:horizon] for k in ids])
    hi = np.array([by_id[k][f"forecast-hi-{LEVEL}"].to_numpy()[:horizon] for k in ids])
    X = [history[k] for k in ids]
    N2 = np.array([naive2(x, horizon, season) for x in X])
    s, n2 = metrics.point_scores(Y, F, X, season), metrics.point_scores(Y, N2, X, season)
    iv = metrics.interval_scores(Y, lo, hi, X, season, LEVEL)
    smape, mase = float(s["sMAPE"].mean()), float(s["MASE"].mean())
    return {"series": len(ids), "points": Y.size, "sMAPE": smape, "MASE": mase,
            "OWA": metrics.owa(smape, mase, float(n2["sMAPE"].mean()), float(n2["MASE"].mean())),
            "Naive2 sMAPE": float(n2["sMAPE"].mean()), "coverage": float(iv[f"coverage-{LEVEL}"].mean()),
            "MSIS": float(iv[f"MSIS-{LEVEL}"].mean()), "smape_sum": float(metrics.smape(Y, F).sum() * horizon)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=DEFAULT_DATA, help="folder with m3_<category>_{train,test}.csv")
    ap.add_argument("--category", action="append", choices=list(CATEGORIES), help="only these (repeatable)")
    ap.add_argument("--validation", action="store_true", help="score on the last h of the training files")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a config option for train")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    started = time.perf_counter()
    rows = {}
    with tempfile.TemporaryDirectory() as workdir:
        config = None
        if args.set:
            config = os.path.join(workdir, "config.yaml")
            with open(config, "w") as fh:
                yaml.safe_dump({k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.set)}, fh)
        for name in args.category or CATEGORIES:
            horizon, season = CATEGORIES[name]
            t0 = time.perf_counter()
            train_file, history, actual = split(os.path.join(args.data, f"m3_{name}_train.csv"),
                                                os.path.join(args.data, f"m3_{name}_test.csv"),
                                                horizon, args.validation, workdir)
            forecast, blend = forecast_category(train_file, horizon, config, workdir, args.seed)
            rows[name] = score(history, actual, forecast, horizon, season) | {"seconds": time.perf_counter() - t0,
                                                                              "blend": blend}
            r = rows[name]
            print(f"{name:<10} {r['series']:>5} series  sMAPE {r['sMAPE']:6.2f}  MASE {r['MASE']:6.3f}  OWA {r['OWA']:6.3f}  "
                  f"cov{LEVEL} {100 * r['coverage']:5.1f}%  MSIS{LEVEL} {r['MSIS']:6.2f}  (Naive2 sMAPE "
                  f"{r['Naive2 sMAPE']:.2f})  LSTM weight {r['blend']}  {r['seconds']:6.1f} s", flush=True)
    split_name = "validation (last h of the training files)" if args.validation else "test"
    print(f"\n{'published / measured rows':<36}{'Yearly':>8}{'Quart.':>8}{'Monthly':>8}{'Other':>8}{'Average':>8}")
    for label, values in PUBLISHED.items():
        print(f"{label:<36}" + "".join(f"{v:>8.2f}" for v in values))
    average = sum(r["smape_sum"] for r in rows.values()) / sum(r["points"] for r in rows.values())
    ours = "".join(f"{rows[c]['sMAPE']:>8.2f}" if c in rows else f"{'-':>8}" for c in CATEGORIES)
    print(f"{'lstm-forecast (this run, ' + split_name[:10] + ')':<36}{ours}{average:>8.2f}")
    print(f"M3 {split_name}: average sMAPE {average:.2f} over {sum(r['points'] for r in rows.values())} points; "
          + "; ".join(f"{c} {r['sMAPE']:.2f}/{r['OWA']:.3f}/{100 * r['coverage']:.1f}%" for c, r in rows.items())
          + f" (sMAPE/OWA/cov{LEVEL}); {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
