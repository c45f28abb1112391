"""Big inputs (issue 5.5): training and forecasting never build all windows at once.

Windows are kept as (series, cut) index pairs; values are gathered per mini-batch, for at most
MAX_VAL_WINDOWS validation windows (and intervals.MAX_WINDOWS calibration windows, CHUNK at a
time), and per PREDICT_CHUNK series when forecasting — so memory follows the data, not the
number of windows times their length.  The full-size measurement
(1,000 series × 1,000 points through the CLI, peak memory) is benchmarks/bench_big.py.
"""

from __future__ import annotations

import numpy as np

from forecast_cli import Config, Forecaster, forecaster as forecaster_module, intervals
from forecast_cli.windows import WindowMaker, window_pairs


def test_windows_are_gathered_a_batch_at_a_time(monkeypatch):
    rng = np.random.default_rng(0)
    series = [50 + 10 * np.sin(np.arange(300) / 4) + rng.normal(0, 1, 300) for _ in range(60)]
    config = Config(horizon=4, input_size=16, season=1, hidden_size=4, epochs=2, batch_size=32,
                    batches_per_epoch=5, val_size=40, workers=1)     # 2,220 validation windows
    n_windows = len(window_pairs(np.full(60, 300), 16, 4, holdout=40))
    monkeypatch.setattr(forecaster_module, "MAX_VAL_WINDOWS", 100)
    monkeypatch.setattr(forecaster_module, "PREDICT_CHUNK", 25)
    monkeypatch.setattr(intervals, "MAX_WINDOWS", 100)
    sizes = []
    real_inputs = WindowMaker.inputs

    def counting_inputs(self, panel, pairs):
        sizes.append(len(pairs))
        return real_inputs(self, panel, pairs)

    monkeypatch.setattr(WindowMaker, "inputs", counting_inputs)
    fitted = Forecaster(config).fit(series)
    assert n_windows > 13_000 and len(sizes) > 10
    assert max(sizes) <= 100, sizes                    # validation, calibration: capped; batches: 32
    sizes.clear()
    assert fitted.predict().shape == (60, 4)
    assert max(sizes) <= 25 and sum(sizes) >= 60       # forecasts: chunk by chunk
