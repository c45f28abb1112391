"""`--cell gru` through the forecaster, the model file, checkpoints and the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from forecast_cli import Config, Forecaster, load_model, modelfile, network
from forecast_cli.cli import app
from forecast_cli.errors import ModelFileError

from conftest import AIR, one_error_line, run_cli
from test_faults_resume import IDS, PHASE0, SERIES, STOPS, assert_same_model, stop_after
from test_modelfile import arrays_and_meta, load_error, pattern, write_npz

# test_faults_resume's run (2 members × 4 epochs × 3 mini-batches) with a two-layer GRU
CONFIG = Config(horizon=4, input_size=12, season=6, hidden_size=6, num_layers=2, dropout=0.1, epochs=4,
                batch_size=16, batches_per_epoch=3, ensemble=2, workers=1, seed=11, patience=1000, cell="gru")


def fit(**kwargs) -> Forecaster:
    return Forecaster(CONFIG).fit(SERIES, IDS, PHASE0, **kwargs)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    """(forecaster, model file) of the GRU run never stopped."""
    forecaster = fit()
    path = tmp_path_factory.mktemp("gru") / "ref.npz"
    modelfile.save(str(path), forecaster, {"k": 1})
    return forecaster, path


def test_members_are_grus(uninterrupted):
    forecaster, _ = uninterrupted
    for params in forecaster.members:
        assert network.shape_of(params) == network.Shape(8, 6, 2, 4, "gru")   # a patch of 6 values + sin, cos
        assert sorted(params) == sorted([f"gru.{k}.{n}" for k in range(2) for n in ("Wx", "Wh", "bx", "bh")]
                                        + ["head.W", "head.b"])


def test_round_trip_gives_identical_members_and_forecasts(uninterrupted):
    forecaster, path = uninterrupted
    loaded, _ = modelfile.load(str(path))
    assert loaded.config == forecaster.config.replace(workers=None) and loaded.config.cell == "gru"
    for mine, theirs in zip(loaded.members, forecaster.members):
        assert mine.keys() == theirs.keys()
        for name in mine:
            assert mine[name].dtype == theirs[name].dtype
            np.testing.assert_array_equal(mine[name], theirs[name])
    np.testing.assert_array_equal(load_model(str(path)).predict(), forecaster.predict())
    _, meta = arrays_and_meta(path)
    assert meta["config"]["cell"] == "gru"
    assert meta["arrays"]["member1/gru.1.bh"] == [[18], "<f4"]


def test_the_cell_must_match_the_arrays(uninterrupted, tmp_path):
    """A GRU's arrays under a file that says lstm (or the other way round) are refused on load."""
    _, path = uninterrupted
    arrays, meta = arrays_and_meta(path)
    meta["config"]["cell"] = "lstm"
    assert "does not hold the arrays" in load_error(write_npz(tmp_path / "lstm.npz", arrays, meta))
    meta["config"]["cell"] = "rnn"
    load_error(write_npz(tmp_path / "rnn.npz", arrays, meta))
    arrays, meta = arrays_and_meta(path)
    arrays["member0/gru.0.bh"] = arrays["member0/gru.0.bh"][:-1]
    assert "gru.0.bh" in load_error(write_npz(tmp_path / "short.npz", arrays, meta))


def test_a_file_without_a_cell_reads_as_lstm(tmp_path):
    """Files written before the option existed hold no `cell`: they are LSTMs, and still load."""
    config = Config(horizon=3, input_size=12, season=6, hidden_size=4, epochs=1, batches_per_epoch=1, ensemble=1)
    forecaster = Forecaster(config).fit([pattern(40)], ["a"], [0])
    path = tmp_path / "old.npz"
    modelfile.save(str(path), forecaster)
    arrays, meta = arrays_and_meta(path)
    del meta["config"]["cell"]
    loaded, _ = modelfile.load(str(write_npz(tmp_path / "old2.npz", arrays, meta)))
    assert loaded.config.cell == "lstm"
    np.testing.assert_array_equal(loaded.predict(), forecaster.predict())


def test_parameter_stand_ins_match_the_network():
    for config in (CONFIG.replace(patch=6), CONFIG.replace(num_layers=1, hidden_size=5, dtype="float64", patch=1)):
        real = Forecaster(config).window_maker.n_features
        params = network.init_params(network.Shape(real, config.hidden_size, config.num_layers, config.horizon, "gru"),
                                     np.random.default_rng(0), np.dtype(config.dtype))
        stand_ins = modelfile._param_template(config)
        assert {k: (v.shape, v.dtype) for k, v in stand_ins.items()} == {k: (v.shape, v.dtype) for k, v in params.items()}


# ------------------------------------------------------------------------------------------
# checkpoints: stopped anywhere and resumed, the same model to the last bit


@pytest.mark.parametrize("n_batches", STOPS[::2])
def test_stop_and_resume_equals_the_uninterrupted_fit(tmp_path, uninterrupted, n_batches):
    reference, reference_path = uninterrupted
    path = tmp_path / "run.ckpt.npz"
    stopped = fit(on_checkpoint=lambda c: modelfile.save_checkpoint(str(path), c), should_stop=stop_after(n_batches))
    assert stopped.interrupted
    assert modelfile.load_checkpoint(str(path)).config.cell == "gru"
    result = Forecaster(Config(workers=1)).fit(SERIES, IDS, PHASE0, resume=modelfile.load_checkpoint(str(path)))
    assert_same_model(result, reference)
    out = tmp_path / "resumed.npz"
    modelfile.save(str(out), result, {"k": 1})
    assert out.read_bytes() == reference_path.read_bytes()


# ------------------------------------------------------------------------------------------
# the command line


def test_train_predict_info_with_cell_gru(tmp_path):
    model = tmp_path / "gru.npz"
    runner = CliRunner()
    result = runner.invoke(app, ["train", str(AIR), "--cell", "gru", "--epochs", "2", "--hidden-size", "8",
                                 "--num-layers", "2", "-o", str(model), "--quiet"])
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    forecaster = load_model(str(model))
    assert forecaster.config.cell == "gru" and all("gru.1.bh" in m for m in forecaster.members)
    result = runner.invoke(app, ["predict", "-m", str(model), "--format", "csv"])
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.strip().splitlines()
    assert rows[0] == "unique_id,ds,forecast" and len(rows) == 1 + 18
    np.testing.assert_allclose([float(r.split(",")[2]) for r in rows[1:]], forecaster.predict()[0], rtol=1e-12)
    result = runner.invoke(app, ["info", str(model), "--format", "json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["config"]["cell"] == "gru"
    result = runner.invoke(app, ["info", str(model)], env={"COLUMNS": "120"})
    assert "2×GRU(8)" in result.stdout


def test_an_unknown_cell_is_a_usage_error(tmp_path):
    result = run_cli("train", AIR, "--cell", "rnn", "-o", tmp_path / "m.npz")
    assert result.returncode == 2
    assert one_error_line(result.stderr) == "error: cell: must be one of lstm, gru; got 'rnn'"
    assert not (tmp_path / "m.npz").exists()
