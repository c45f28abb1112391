"""Exit statuses: 0 on success, 1 with one 'error: …' line for bad input (nothing on stdout,
no file touched), 2 with one line for bad flags or option values; --help everywhere."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app

from conftest import AIR, TINY, one_error_line, run_cli

runner = CliRunner()

def invoke(*args, input=None):
    return runner.invoke(app, [str(a) for a in args], input=input)


def assert_fails_cleanly(result, code: int) -> str:
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    return one_error_line(result.stderr)


# --------------------------------------------------------------------------------------------
# success


def test_train_then_predict(tmp_path):
    model = tmp_path / "m.npz"
    result = invoke("train", AIR, *TINY, "--output", model)
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert model.is_file()
    result = invoke("predict", "--model", model)
    assert result.exit_code == 0, (result.stderr, result.exception)
    assert result.stdout.startswith("unique_id,ds,forecast\n")


def test_train_writes_model_npz_in_the_current_folder_by_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert invoke("train", AIR, *TINY, "--quiet").exit_code == 0
    assert (tmp_path / "model.npz").is_file()
    result = invoke("predict")                                  # and predict reads it by default
    assert result.exit_code == 0 and len(result.stdout.splitlines()) == 1 + 18


def test_train_with_a_config_file(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("epochs: 2\nhidden_size: 4\nhorizon: 5\n")
    model = tmp_path / "m.npz"
    result = invoke("train", AIR, "--config", config, "--horizon", "3", "--output", model, "--quiet")
    assert result.exit_code == 0, result.stderr
    facts = json.loads(invoke("info", model, "--format", "json").stdout)
    assert facts["config"]["hidden_size"] == 4 and facts["config"]["epochs"] == 2
    assert facts["config"]["horizon"] == 3                      # the flag wins over the file


def test_info(trained_model):
    result = invoke("info", trained_model)
    assert result.exit_code == 0, result.stderr
    assert "passengers" in result.stdout and "18" in result.stdout


def test_info_json(trained_model):
    result = invoke("info", trained_model, "--format", "json")
    assert result.exit_code == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["config"]["horizon"] == 18 and facts["config"]["hidden_size"] == 8
    assert facts["series"]["ids"] == ["passengers"] and facts["series"]["last_times"] == ["1960-12-01"]
    assert facts["data"]["freq"] == "MS"
    assert len(facts["histories"][0]["train_loss"]) == 3


def test_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.startswith("lstm-forecast ")


@pytest.mark.parametrize("command", [[], ["train"], ["predict"], ["info"]])
def test_help_exits_0_and_shows_an_example(command):
    for flag in ("--help", "-h"):
        result = invoke(*command, flag)
        assert result.exit_code == 0, (result.stderr, result.exception)
        assert "usage" in result.stdout.lower()
        assert "example" in result.stdout.lower()
        assert "lstm-forecast " in result.stdout


# --------------------------------------------------------------------------------------------
# bad input: exit 1, one line, nothing on stdout, nothing overwritten


@pytest.fixture
def existing_model(tmp_path, trained_model):
    """A copy of a good model where a failing `train -o` would write."""
    path = tmp_path / "existing.npz"
    path.write_bytes(trained_model.read_bytes())
    return path


BAD_DATA = {
    "missing-file": None,
    "empty": "",
    "header-only": "ds,y\n",
    "text-in-target": "ds,y\n2020-01-01,1\n2020-01-02,abc\n",
    "duplicate-times": "ds,y\n2020-01-01,1\n2020-01-01,2\n",
    "too-short": "ds,y\n2020-01-01,1\n2020-01-02,2\n2020-01-03,3\n",
}


@pytest.mark.parametrize("case", BAD_DATA)
def test_train_on_bad_data(tmp_path, existing_model, case):
    data = tmp_path / "data.csv"
    if BAD_DATA[case] is not None:
        data.write_text(BAD_DATA[case])
    before = existing_model.read_bytes()
    line = assert_fails_cleanly(invoke("train", data, *TINY, "--output", existing_model), 1)
    assert existing_model.read_bytes() == before
    assert len(line) > len("error: ") + 5


def test_train_with_unknown_column(existing_model):
    before = existing_model.read_bytes()
    line = assert_fails_cleanly(invoke("train", AIR, "--target-col", "sales", "-o", existing_model), 1)
    assert "'sales'" in line
    assert existing_model.read_bytes() == before


def test_predict_with_missing_model(tmp_path):
    assert "does not exist" in assert_fails_cleanly(invoke("predict", "-m", tmp_path / "nope.npz"), 1)


def test_predict_with_a_broken_model(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a model")
    assert_fails_cleanly(invoke("predict", "-m", bad), 1)
    assert_fails_cleanly(invoke("info", bad), 1)


def test_predict_on_bad_data(tmp_path, trained_model):
    data = tmp_path / "new.csv"
    data.write_text("month,passengers\n1950-01-01,1\n1950-02-01,oops\n")
    assert "'oops'" in assert_fails_cleanly(invoke("predict", "-m", trained_model, data), 1)


def test_predict_on_series_all_too_short(tmp_path, trained_model):
    data = tmp_path / "short.csv"
    data.write_text("month,passengers\n" + "".join(f"1950-{m:02d}-01,{m}\n" for m in range(1, 13)))
    result = invoke("predict", "-m", trained_model, data)
    assert result.exit_code == 1 and result.stdout == ""
    # the per-series 'skipped' warning may come first; the reason for the exit is the last line
    lines = result.stderr.strip().splitlines()
    assert [line for line in lines if line.startswith("error: ")] == lines[-1:]
    assert "36" in lines[-1]


def test_predict_output_failure_leaves_existing_file(tmp_path, trained_model):
    out = tmp_path / "forecast.csv"
    out.write_text("old\n")
    data = tmp_path / "bad.csv"
    data.write_text("month,passengers\n")
    assert_fails_cleanly(invoke("predict", "-m", trained_model, data, "--output", out), 1)
    assert out.read_text() == "old\n"


@pytest.mark.parametrize("where", ["missing/m.npz", "."], ids=["missing-folder", "a-directory"])
def test_an_unwritable_output_fails_before_training(tmp_path, monkeypatch, where):
    from forecast_cli.forecaster import Forecaster
    monkeypatch.setattr(Forecaster, "fit", lambda *a, **k: pytest.fail("trained before checking the output"))
    line = assert_fails_cleanly(invoke("train", AIR, *TINY, "-o", tmp_path / where), 1)
    assert "cannot write model file" in line
    assert list(tmp_path.iterdir()) == []                       # not even the probe is left


# --------------------------------------------------------------------------------------------
# bad flags and option values: exit 2, one line


@pytest.mark.parametrize("flags,key", [
    (["--epochs", "0"], "epochs"),
    (["--horizon", "-1"], "horizon"),
    (["--hidden-size", "0"], "hidden_size"),
    (["--scaling", "foo"], "scaling"),
    (["--loss", "huber"], "loss"),
    (["--dropout", "1.5"], "dropout"),
    (["--learning-rate", "nan"], "learning_rate"),
])
def test_bad_option_values(existing_model, flags, key):
    before = existing_model.read_bytes()
    line = assert_fails_cleanly(invoke("train", AIR, *flags, "-o", existing_model), 2)
    assert key in line
    assert existing_model.read_bytes() == before


def test_bad_value_in_config_file(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("epochs: 0\n")
    assert "epochs" in assert_fails_cleanly(invoke("train", AIR, "--config", config), 2)
    config.write_text("hiden_size: 8\n")
    assert "hiden_size" in assert_fails_cleanly(invoke("train", AIR, "--config", config), 2)


@pytest.mark.parametrize("args", [
    ["train", str(AIR), "--bogus"],
    ["train", str(AIR), "--epochs", "abc"],
    ["train"],
    ["bogus"],
    ["predict", "--format", "xml"],
], ids=["unknown-flag", "not-a-number", "missing-argument", "unknown-command", "bad-choice"])
def test_usage_errors(args):
    assert_fails_cleanly(invoke(*args), 2)


@pytest.mark.parametrize("flags", [["--output", "fc.txt", "--format", "table"], ["--plot-file", "forecast.txt"]],
                         ids=["table-to-a-file", "image-suffix"])
def test_options_that_cannot_go_together_are_usage_errors(trained_model, tmp_path, monkeypatch, flags):
    monkeypatch.chdir(tmp_path)
    assert_fails_cleanly(invoke("predict", "-m", trained_model, *flags), 2)
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------------------------
# the same through a real process


def test_subprocess_train_then_predict(tmp_path):
    model = tmp_path / "m.npz"
    done = run_cli("train", AIR, *TINY, "--output", model, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    done = run_cli("predict", "-m", model, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "unique_id,ds,forecast"


def test_subprocess_bad_input(tmp_path, existing_model):
    before = existing_model.read_bytes()
    done = run_cli("train", tmp_path / "nope.csv", "-o", existing_model, cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert "nope.csv" in one_error_line(done.stderr)
    assert existing_model.read_bytes() == before


def test_subprocess_bad_option_value(tmp_path):
    done = run_cli("train", AIR, "--epochs", "0", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "epochs" in one_error_line(done.stderr)
    assert not (tmp_path / "model.npz").exists()


def test_subprocess_unknown_flag(tmp_path):
    done = run_cli("train", AIR, "--bogus", cwd=tmp_path)
    assert done.returncode == 2 and done.stdout == ""
    assert "--bogus" in one_error_line(done.stderr)


def test_subprocess_help():
    done = run_cli("predict", "--help")
    assert done.returncode == 0 and "example" in done.stdout.lower()


def test_subprocess_long_error_is_not_wrapped(tmp_path):
    """A message longer than the terminal width (COLUMNS=100 here) is still one line."""
    columns = [f"column_number_{k}" for k in range(15)]
    data = tmp_path / "wide.csv"
    data.write_text(",".join(columns) + "\n" + ",".join("x" * 15) + "\n")
    done = run_cli("train", data, "--target-col", "nope", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    line = one_error_line(done.stderr)
    assert len(line) > 100 and "column_number_14" in line
