"""lstm-forecast: forecast time series from CSV files with an LSTM written in NumPy.

Library use (NumPy in, NumPy out):

    from forecast_cli import Config, Forecaster, load_model
    f = Forecaster(Config(horizon=12)).fit([series_a, series_b], freq="MS")
    f.predict()                     # (2, 12)
"""

__version__ = "0.1.0"

from .config import Config  # noqa: E402
from .forecaster import Forecaster  # noqa: E402


def load_model(path: str):
    """Load a model file written by `lstm-forecast train`; returns a Forecaster."""
    from .modelfile import load
    return load(path)[0]


__all__ = ["Config", "Forecaster", "load_model", "__version__"]
