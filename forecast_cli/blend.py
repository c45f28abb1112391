"""The hybrid: the LSTM's forecast mixed with a classical one, the weight chosen on held-out windows.

    ŷ = w · ŷ_LSTM + (1 − w) · ŷ_classical,      ŷ_classical = mean(Theta, damped ES)  (classical.py)

w is the LSTM weight in WEIGHTS that minimises, over the held-out windows (targets the model
never fitted: the validation windows, and with few series a twin's holdout),

    sMAPE(w) / sMAPE(½) + MASE(w) / MASE(½)

(each the mean over windows, MASE's scale the window's in-sample seasonal-naive MAE) — M4's OWA
up to a constant, so the choice is that of the competition's ranking.  Where the network wins
by far (long seasonal series) w comes out 1 and the classical part costs nothing at prediction;
on short series the two share the work.  NumPy only.
"""

from __future__ import annotations

import numpy as np

from . import metrics

WEIGHTS = np.linspace(0.0, 1.0, 11)


def mix(weight: float, lstm: np.ndarray, classic: np.ndarray) -> np.ndarray:
    return weight * lstm + (1.0 - weight) * classic


def criterion(actual: np.ndarray, forecast: np.ndarray, scale: np.ndarray) -> tuple[float, float]:
    """(mean sMAPE, mean scaled MAE) over windows; rows of (n, h) arrays, `scale` (n,)."""
    return float(metrics.smape(actual, forecast).mean()), float((metrics.mae(actual, forecast) / scale).mean())


def choose(actual: np.ndarray, lstm: np.ndarray, classic: np.ndarray, scale: np.ndarray) -> float:
    """The weight of WEIGHTS with the lowest OWA-like score (module docstring); 1 with no windows."""
    if not len(actual):
        return 1.0
    ref_smape, ref_mase = criterion(actual, mix(0.5, lstm, classic), scale)
    scores = []
    for w in WEIGHTS:
        smape, mase = criterion(actual, mix(w, lstm, classic), scale)
        scores.append(smape / max(ref_smape, 1e-12) + mase / max(ref_mase, 1e-12))
    return float(WEIGHTS[int(np.argmin(scores))])
