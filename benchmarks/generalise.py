"""Do the defaults generalise?  Backtest them on every bundled real data set of other frequencies.

    python benchmarks/generalise.py                    # defaults, 2 folds each
    python benchmarks/generalise.py --set ensemble=1   # an experiment
    python benchmarks/generalise.py --level 95 --level 80   # and the intervals' coverage and MSIS

For each file it holds out the last horizon steps (and, with --folds 2, the horizon before),
trains with the default settings (horizon and season from the inferred frequency) and prints
the OWA of the LSTM and of the baselines (below 1 beats Naive2) with the wall time.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from forecast_cli.config import build_config  # noqa: E402
from forecast_cli.data import load_series  # noqa: E402
from forecast_cli.evaluate import backtest  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["sample_data/air_passengers.csv", "sample_data/us_macro_quarterly.csv", "sample_data/extra/monthly.csv",
         "sample_data/extra/quarterly.csv", "sample_data/extra/yearly.csv", "sample_data/extra/weekly.csv",
         "sample_data/extra/daily.csv", "sample_data/extra/halfhourly.csv"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a config option")
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--level", type=int, action="append", default=[], help="score intervals at this level")
    ap.add_argument("files", nargs="*", default=FILES)
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    import yaml
    overrides = {k: yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.set)}
    print(f"{'file':<38}{'h':>4}{'m':>4}{'LSTM':>8}{'naive':>8}{'snaive':>8}{'Naive2':>8}{'sec':>7}" +
          "".join(f"{'cov' + str(lv):>8}{'MSIS' + str(lv):>9}" for lv in args.level))
    owas = []
    for path in args.files:
        config = build_config(None, overrides)
        data = load_series(os.path.join(HERE, "..", path), config)
        started = time.perf_counter()
        scores, resolved = backtest(data.values, data.ids, data.phase0(), data.freq, config, folds=args.folds,
                                     levels=args.level)
        summary = scores.summary()
        owas.append(summary["LSTM"]["OWA"])
        print(f"{path:<38}{resolved.horizon:>4}{resolved.season:>4}" +
              "".join(f"{summary[m]['OWA']:>8.3f}" for m in ("LSTM", "naive", "seasonal naive", "Naive2")) +
              f"{time.perf_counter() - started:>7.1f}" +
              "".join(f"{100 * summary['LSTM'][f'coverage-{lv}']:>7.1f}%{summary['LSTM'][f'MSIS-{lv}']:>9.2f}"
                      for lv in args.level))
    print(f"mean LSTM OWA over files: {sum(owas) / len(owas):.3f}")


if __name__ == "__main__":
    main()
