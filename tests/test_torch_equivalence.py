"""docs/model-file.md is precise enough to reproduce our forecasts in PyTorch (skipped without torch)."""

import json

import numpy as np
import pytest

from forecast_cli import modelfile
from forecast_cli.config import Config
from forecast_cli.forecaster import Forecaster

torch = pytest.importorskip("torch")


def torch_forecast(path, values, phase0):
    """Follow docs/model-file.md step by step: weights → torch, inputs, output, median."""
    z = np.load(path, allow_pickle=False)
    c = json.loads(z["meta"].tobytes())["config"]
    T, m, patch = c["input_size"], c["season"], c["patch"]
    v = np.asarray(values[-T:], dtype=np.float64)
    scale = np.abs(v).mean() or 1.0
    features = [((v - 0.0) / scale).reshape(T // patch, patch)]             # one patch per step
    if m > 1 and c["season_features"]:
        p = (phase0 + patch * np.arange(T // patch)) % m                      # phase of each patch's first value
        features += [np.sin(2 * np.pi * p / m)[:, None], np.cos(2 * np.pi * p / m)[:, None]]
    x = torch.tensor(np.concatenate(features, axis=1)[:, None, :], dtype=torch.float64)   # (T/patch, 1, F)
    base = (v[T - m + np.arange(c["horizon"]) % m] / scale) if c["skip"] else 0.0
    outs = []
    for k in range(c["ensemble"]):
        lstm = torch.nn.LSTM(x.shape[2], c["hidden_size"], c["num_layers"]).double()
        head = torch.nn.Linear(c["hidden_size"], c["horizon"]).double()
        with torch.no_grad():
            for layer in range(c["num_layers"]):
                getattr(lstm, f"weight_ih_l{layer}").copy_(torch.from_numpy(z[f"member{k}/lstm.{layer}.Wx"].T))
                getattr(lstm, f"weight_hh_l{layer}").copy_(torch.from_numpy(z[f"member{k}/lstm.{layer}.Wh"].T))
                getattr(lstm, f"bias_ih_l{layer}").copy_(torch.from_numpy(z[f"member{k}/lstm.{layer}.b"]))
                getattr(lstm, f"bias_hh_l{layer}").zero_()
            head.weight.copy_(torch.from_numpy(z[f"member{k}/head.W"].T))
            head.bias.copy_(torch.from_numpy(z[f"member{k}/head.b"]))
            y_hat = head(lstm(x)[0][-1]).numpy()[0]
        outs.append((y_hat + base) * scale)
    return np.median(outs, axis=0)


@pytest.mark.parametrize("skip,patch", [(False, 1), (True, 12), (True, 6)])
def test_pytorch_reproduces_our_forecasts_from_the_documented_layout(tmp_path, skip, patch):
    rng = np.random.default_rng(3)
    t = np.arange(200)
    series = [50 + 10 * np.sin(2 * np.pi * (t + k) / 12) + rng.normal(0, 1, 200) for k in range(3)]
    config = Config(horizon=6, season=12, input_size=24, hidden_size=8, num_layers=2, epochs=2,
                    batches_per_epoch=3, ensemble=3, skip=skip, patch=patch, workers=1, dtype="float64")
    forecaster = Forecaster(config).fit(series, phase0=[5, 6, 7])
    path = tmp_path / "model.npz"
    modelfile.save(str(path), forecaster)
    ours = forecaster.predict()
    for k in range(3):
        theirs = torch_forecast(path, forecaster.tails[k], forecaster.tail_phase0[k])
        np.testing.assert_allclose(theirs, ours[k], rtol=1e-9, atol=1e-9)
