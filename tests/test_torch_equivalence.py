"""docs/model-file.md is precise enough to reproduce our forecasts in PyTorch (skipped without torch)."""

import json

import numpy as np
import pytest

from forecast_cli import modelfile, network
from forecast_cli.config import Config
from forecast_cli.forecaster import Forecaster

torch = pytest.importorskip("torch")


def torch_network(z, k, c, n_in):
    """Member k's recurrent layers and head as docs/model-file.md loads them (float64)."""
    head = torch.nn.Linear(c["hidden_size"], c["horizon"]).double()
    if c.get("cell", "lstm") == "gru":
        rnn = torch.nn.GRU(n_in, c["hidden_size"], c["num_layers"]).double()
        copy_gru(rnn, {name.split("/", 1)[1]: z[name] for name in z.files if name.startswith(f"member{k}/")})
    else:
        rnn = torch.nn.LSTM(n_in, c["hidden_size"], c["num_layers"]).double()
        with torch.no_grad():
            for layer in range(c["num_layers"]):
                getattr(rnn, f"weight_ih_l{layer}").copy_(torch.from_numpy(z[f"member{k}/lstm.{layer}.Wx"].T))
                getattr(rnn, f"weight_hh_l{layer}").copy_(torch.from_numpy(z[f"member{k}/lstm.{layer}.Wh"].T))
                getattr(rnn, f"bias_ih_l{layer}").copy_(torch.from_numpy(z[f"member{k}/lstm.{layer}.b"]))
                getattr(rnn, f"bias_hh_l{layer}").zero_()
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(z[f"member{k}/head.W"].T))
        head.bias.copy_(torch.from_numpy(z[f"member{k}/head.b"]))
    return rnn, head


def copy_gru(gru, params):
    """The documented GRU layout: weight_ih = Wxᵀ, weight_hh = Whᵀ, bias_ih = bx, bias_hh = bh."""
    with torch.no_grad():
        for layer in range(gru.num_layers):
            for theirs, ours in (("weight_ih", "Wx"), ("weight_hh", "Wh"), ("bias_ih", "bx"), ("bias_hh", "bh")):
                a = params[f"gru.{layer}.{ours}"]
                getattr(gru, f"{theirs}_l{layer}").copy_(torch.from_numpy(a.T if a.ndim == 2 else a))


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
        rnn, head = torch_network(z, k, c, x.shape[2])
        with torch.no_grad():
            y_hat = head(rnn(x)[0][-1]).numpy()[0]
        outs.append((y_hat + base) * scale)
    return np.median(outs, axis=0)


@pytest.mark.parametrize("skip,patch,cell", [(False, 1, "lstm"), (True, 12, "lstm"), (True, 6, "lstm"),
                                             (False, 1, "gru"), (True, 6, "gru")])
def test_pytorch_reproduces_our_forecasts_from_the_documented_layout(tmp_path, skip, patch, cell):
    rng = np.random.default_rng(3)
    t = np.arange(200)
    series = [50 + 10 * np.sin(2 * np.pi * (t + k) / 12) + rng.normal(0, 1, 200) for k in range(3)]
    config = Config(horizon=6, season=12, input_size=24, hidden_size=8, num_layers=2, epochs=2,
                    batches_per_epoch=3, ensemble=3, skip=skip, patch=patch, workers=1, dtype="float64", cell=cell,
                    blend=1.0)    # the network alone: the classical blend is not the network's layout
    forecaster = Forecaster(config).fit(series, phase0=[5, 6, 7])
    path = tmp_path / "model.npz"
    modelfile.save(str(path), forecaster)
    ours = forecaster.predict()
    for k in range(3):
        theirs = torch_forecast(path, forecaster.tails[k], forecaster.tail_phase0[k])
        np.testing.assert_allclose(theirs, ours[k], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("layers,inputs,hidden,T,B", [(1, 3, 5, 7, 3), (2, 2, 8, 12, 4), (2, 1, 1, 3, 1)])
def test_gru_forward_and_gradients_equal_torch_gru(layers, inputs, hidden, T, B):
    """network's GRU + head against torch.nn.GRU + Linear with the documented layout: the
    output, and every parameter's and the input's gradient, in float64."""
    from forecast_cli.gru import gru_backward, gru_forward

    rng = np.random.default_rng(7)
    params = network.init_params(network.Shape(inputs, hidden, layers, 4, "gru"), rng, np.float64)
    params = {name: p + rng.normal(0, 0.3, p.shape) for name, p in params.items()}
    x, dy = rng.normal(size=(T, B, inputs)), rng.normal(size=(B, 4))
    y, cache = network.forward(params, x)
    grads = network.backward(params, cache, dy)

    gru, head = torch.nn.GRU(inputs, hidden, layers).double(), torch.nn.Linear(hidden, 4).double()
    copy_gru(gru, params)
    with torch.no_grad():
        head.weight.copy_(torch.from_numpy(params["head.W"].T))
        head.bias.copy_(torch.from_numpy(params["head.b"]))
    xt = torch.from_numpy(x).requires_grad_()
    yt = head(gru(xt)[0][-1])
    (yt * torch.from_numpy(dy)).sum().backward()
    np.testing.assert_allclose(y, yt.detach().numpy(), rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(network.predict(params, x), yt.detach().numpy(), rtol=1e-12, atol=1e-13)

    want = {"head.W": head.weight.grad.numpy().T, "head.b": head.bias.grad.numpy()}
    for layer in range(layers):
        for theirs, ours in (("weight_ih", "Wx"), ("weight_hh", "Wh"), ("bias_ih", "bx"), ("bias_hh", "bh")):
            g = getattr(gru, f"{theirs}_l{layer}").grad.numpy()
            want[f"gru.{layer}.{ours}"] = g.T if g.ndim == 2 else g
    assert grads.keys() == want.keys()
    for name in want:
        np.testing.assert_allclose(grads[name], want[name], rtol=1e-10, atol=1e-12, err_msg=name)

    # the input's gradient, through the layers' own backward asked for dx
    caches, h = [], x
    for layer in range(layers):
        h, c = gru_forward(h, *(params[f"gru.{layer}.{n}"] for n in ("Wx", "Wh", "bx", "bh")))
        caches.append(c)
    dh = np.zeros_like(h)
    dh[-1] = dy @ params["head.W"].T
    for layer in range(layers - 1, -1, -1):
        dh = gru_backward(dh, caches[layer], params[f"gru.{layer}.Wx"], params[f"gru.{layer}.Wh"])[0]
    np.testing.assert_allclose(dh, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
