"""One series at a time, as most people start: each in its own CSV, trained alone with no flags.

    python benchmarks/single_series.py                 # every 40th M3 monthly and quarterly series
                                                       # + the bundled monthly/quarterly series
    python benchmarks/single_series.py --every 20      # more M3 series
    python benchmarks/single_series.py --validation    # choose settings: the last h of each history
                                                       # held out, M3's test values never read

Each series is written as a two-column CSV (`ds,value`, real dates) and run through the CLI as a
new user would: `lstm-forecast train series.csv` then `lstm-forecast predict --level 95` — no
flags, so horizon and season come from the dates (18 months, 8 quarters: M3's horizons).
The test values are M3's test file, or the last h points of a bundled series.  statsforecast's
AutoETS and AutoARIMA (a benchmark-only dependency: `pip install statsforecast`) forecast the
same histories with the same season.  Scores as M4 defines them (forecast_cli.metrics): the
set's OWA against Naive2, its mean sMAPE and MASE, 95 % coverage.  The last line is the summary.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from forecast_cli import metrics  # noqa: E402
from forecast_cli.baselines import naive2  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
M3 = os.path.join(HERE, "..", "..", "shared", "data", "m3")
FREQ = {"monthly": ("MS", 18, 12), "quarterly": ("QS", 8, 4)}   # pandas alias, horizon, season
BUNDLED = [("sample_data/air_passengers.csv", "monthly"), ("sample_data/extra/monthly.csv", "monthly"),
           ("sample_data/extra/quarterly.csv", "quarterly"), ("sample_data/us_macro_quarterly.csv", "quarterly")]
MAX_POINTS = 600   # "short": longer bundled series are left to generalise.py


def m3_series(every: int) -> list:
    """(name, kind, dates, history, actual) for every `every`-th M3 monthly and quarterly series."""
    out = []
    for kind in FREQ:
        train = pd.read_csv(os.path.join(M3, f"m3_{kind}_train.csv"), dtype={"unique_id": str}, parse_dates=["ds"])
        test = pd.read_csv(os.path.join(M3, f"m3_{kind}_test.csv"), dtype={"unique_id": str})
        actual = {k: g["y"].to_numpy(float) for k, g in test.groupby("unique_id", sort=False)}
        for j, (k, g) in enumerate(train.groupby("unique_id", sort=False)):
            if j % every == 0:
                out.append((f"M3 {k}", kind, g["ds"].to_numpy(), g["y"].to_numpy(float), actual[k]))
    return out


def bundled_series() -> list:
    """The bundled monthly and quarterly series, their last h points held out."""
    out = []
    for path, kind in BUNDLED:
        frame = pd.read_csv(os.path.join(HERE, "..", path))
        if "unique_id" not in frame:
            frame.columns = ["ds", "y"]
            frame["unique_id"] = os.path.basename(path)[:-4]
        frame["ds"] = pd.to_datetime(frame["ds"])
        h = FREQ[kind][1]
        for k, g in frame.groupby("unique_id", sort=False):
            if len(g) - h <= MAX_POINTS:
                out.append((k, kind, g["ds"].to_numpy()[:-h], g["y"].to_numpy(float)[:-h], g["y"].to_numpy(float)[-h:]))
    return out


def held_back(cases: list) -> list:
    """The validation split: every history's last h values become the actuals."""
    return [(name, kind, dates[:-FREQ[kind][1]], x[:-FREQ[kind][1]], x[-FREQ[kind][1]:])
            for name, kind, dates, x, _ in cases]


class Refused(Exception):
    """The CLI refused the series with a one-line error (exit 1): too short to train on."""


def run_cli(args: list) -> str:
    done = subprocess.run([sys.executable, "-m", "forecast_cli", *args], capture_output=True, text=True)
    if done.returncode == 1 and done.stderr.strip().count("\n") == 0:
        raise Refused(done.stderr.strip())
    if done.returncode != 0:
        sys.exit(f"lstm-forecast {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return done.stdout


def ours(dates, x, workdir: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(forecast, lo95, hi95, seconds) from the CLI with no flags; Refused if it will not train."""
    path, model = os.path.join(workdir, "series.csv"), os.path.join(workdir, "model.npz")
    pd.DataFrame({"ds": pd.to_datetime(dates).strftime("%Y-%m-%d"), "value": x}).to_csv(path, index=False)
    started = time.perf_counter()
    run_cli(["train", path, "-o", model, "--quiet"])
    out = pd.read_csv(io.StringIO(run_cli(["predict", "-m", model, "--level", "95", "--format", "csv"])))
    return (out["forecast"].to_numpy(), out["forecast-lo-95"].to_numpy(), out["forecast-hi-95"].to_numpy(),
            time.perf_counter() - started)


def statsforecast_models(x, kind: str) -> dict:
    from statsforecast.models import AutoARIMA, AutoETS
    _, h, m = FREQ[kind]
    out = {}
    for name, model in (("AutoETS", AutoETS(season_length=m)), ("AutoARIMA", AutoARIMA(season_length=m))):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out[name] = model.forecast(y=x.astype(float), h=h)["mean"]
    return out


def set_scores(Y, F, X, M) -> dict:
    """Mean sMAPE and MASE over series (histories of different lengths and seasons)."""
    smape = np.mean([metrics.smape(y, f) for y, f in zip(Y, F)])
    mase = np.mean([metrics.mase(y[None], f[None], [x], m)[0] for y, f, x, m in zip(Y, F, X, M)])
    return {"sMAPE": float(smape), "MASE": float(mase)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--every", type=int, default=40, help="take every N-th M3 monthly and quarterly series")
    ap.add_argument("--validation", action="store_true", help="score on the last h of each history instead")
    ap.add_argument("--no-bundled", action="store_true", help="M3 series only")
    args = ap.parse_args()
    cases = m3_series(args.every) + ([] if args.no_bundled else bundled_series())
    if args.validation:
        cases = held_back(cases)
    methods = ("lstm-forecast", "AutoETS", "AutoARIMA", "Naive2")
    forecasts = {m: [] for m in methods}
    Y, X, M, seconds, covered, refused = [], [], [], [], [], []
    print(f"{len(cases)} series; {'validation' if args.validation else 'test'} split", flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        for name, kind, dates, x, y in cases:
            _, h, m = FREQ[kind]
            try:
                f, lo, hi, sec = ours(dates, x, workdir)
            except Refused as exc:
                refused.append(f"{name} ({len(x)} points): {exc}")
                print(f"{name:<34}{kind:<10}{len(x):>5} pts  refused: {exc}", flush=True)
                continue
            others = statsforecast_models(x, kind)
            for method, values in (("lstm-forecast", f), *others.items(), ("Naive2", naive2(x, h, m))):
                forecasts[method].append(np.asarray(values, float))
            Y.append(y), X.append(x), M.append(m), seconds.append(sec), covered.append(np.mean((y >= lo) & (y <= hi)))
            print(f"{name:<34}{kind:<10}{len(x):>5} pts  sMAPE ours {metrics.smape(y, f):6.2f}  ETS "
                  f"{metrics.smape(y, others['AutoETS']):6.2f}  ARIMA {metrics.smape(y, others['AutoARIMA']):6.2f}  "
                  f"{sec:5.1f} s", flush=True)
    scores = {method: set_scores(Y, F, X, M) for method, F in forecasts.items()}
    n2 = scores["Naive2"]
    print(f"\n{'method':<16}{'sMAPE':>8}{'MASE':>8}{'OWA':>8}")
    for method, s in scores.items():
        s["OWA"] = metrics.owa(s["sMAPE"], s["MASE"], n2["sMAPE"], n2["MASE"])
        print(f"{method:<16}{s['sMAPE']:>8.2f}{s['MASE']:>8.3f}{s['OWA']:>8.3f}")
    best = min(scores["AutoETS"]["OWA"], scores["AutoARIMA"]["OWA"])
    for line in refused:
        print(f"left out (the CLI refuses it, so every method is scored without it): {line}")
    print(f"single series ({len(cases) - len(refused)} of {len(cases)}, {'validation' if args.validation else 'test'}): set OWA lstm-forecast "
          f"{scores['lstm-forecast']['OWA']:.3f}, AutoETS {scores['AutoETS']['OWA']:.3f}, AutoARIMA "
          f"{scores['AutoARIMA']['OWA']:.3f} ({'at or below' if scores['lstm-forecast']['OWA'] <= best else 'ABOVE'} "
          f"the better); 95 % coverage {100 * np.mean(covered):.1f} %; median time per series {np.median(seconds):.1f} s")


if __name__ == "__main__":
    main()
