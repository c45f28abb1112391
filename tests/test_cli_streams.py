"""What goes where: data (forecasts, info JSON) on stdout and nothing else; progress, warnings,
charts and errors on stderr; --quiet silences stderr; --output writes a file; '-' is stdin."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app

from conftest import AIR, M4, TINY, run_cli

runner = CliRunner()

AIR_FUTURE = [str(d.date()) for d in pd.date_range("1961-01-01", periods=18, freq="MS")]


def invoke(*args, input=None):
    result = runner.invoke(app, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def parse_forecast_csv(text: str, n_rows: int) -> pd.DataFrame:
    """stdout must be one CSV table, header unique_id,ds,forecast, and nothing else."""
    assert text.startswith("unique_id,ds,forecast\n")
    frame = pd.read_csv(io.StringIO(text), dtype={"unique_id": str, "ds": str})
    assert list(frame.columns) == ["unique_id", "ds", "forecast"]
    assert len(frame) == n_rows and len(text.strip().splitlines()) == n_rows + 1
    assert frame["forecast"].dtype.kind == "f" and np.all(np.isfinite(frame["forecast"]))
    return frame


def test_predict_stdout_is_clean_csv(trained_model):
    result = invoke("predict", "-m", trained_model)
    assert result.exit_code == 0
    frame = parse_forecast_csv(result.stdout, 18)
    assert set(frame["unique_id"]) == {"passengers"}
    assert frame["ds"].tolist() == AIR_FUTURE


def test_predict_through_a_pipe_defaults_to_csv(trained_model, tmp_path):
    done = run_cli("predict", "-m", trained_model, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    frame = parse_forecast_csv(done.stdout, 18)
    assert frame["ds"].tolist() == AIR_FUTURE
    assert done.stderr == ""


def test_predict_json(trained_model):
    result = invoke("predict", "-m", trained_model, "--format", "json")
    assert result.exit_code == 0
    records = json.loads(result.stdout)
    assert isinstance(records, list) and len(records) == 18
    assert all(set(r) == {"unique_id", "ds", "forecast"} for r in records)
    assert [r["ds"] for r in records] == AIR_FUTURE
    assert all(isinstance(r["forecast"], float) for r in records)
    # the same numbers as the CSV
    csv_frame = parse_forecast_csv(invoke("predict", "-m", trained_model).stdout, 18)
    np.testing.assert_allclose([r["forecast"] for r in records], csv_frame["forecast"], rtol=1e-12)


def test_train_progress_and_loss_curve_only_on_stderr(tmp_path):
    result = invoke("train", AIR, *TINY, "-o", tmp_path / "m.npz")
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "epoch" in result.stderr and "loss" in result.stderr
    assert "3/3" in result.stderr                               # the progress bar reached the end


def test_subprocess_train_stdout_is_empty(tmp_path):
    done = run_cli("train", AIR, *TINY, "-o", tmp_path / "m.npz", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and "loss" in done.stderr


MISSING_CSV = "ds,y\n" + "".join(
    f"2020-01-{d:02d},{'' if d in (5, 9) else d}\n" for d in range(1, 32)) + "".join(
    f"2020-02-{d:02d},{d}\n" for d in range(1, 30))


def test_warnings_go_to_stderr(tmp_path):
    data = tmp_path / "gaps.csv"
    data.write_text(MISSING_CSV)
    result = invoke("train", data, *TINY, "-o", tmp_path / "m.npz")
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert "warning: 2 missing values" in result.stderr


def test_quiet_train_has_empty_stderr(tmp_path):
    data = tmp_path / "gaps.csv"
    data.write_text(MISSING_CSV)                                # would warn without --quiet
    for quiet in ("--quiet", "-q"):
        result = invoke("train", data, *TINY, "-o", tmp_path / "m.npz", quiet)
        assert result.exit_code == 0
        assert result.stderr == "" and result.stdout == ""
    done = run_cli("train", data, *TINY, "-o", tmp_path / "m2.npz", "--quiet", cwd=tmp_path)
    assert done.returncode == 0 and done.stderr == "" and done.stdout == ""


@pytest.fixture
def mixed_csv(tmp_path):
    """Two series for the air-passengers model: one long enough (48 months), one too short (12)."""
    rows = [f"long,{d.date()},{100 + k}" for k, d in enumerate(pd.date_range("1970-01-01", periods=48, freq="MS"))]
    rows += [f"short,{d.date()},{k}" for k, d in enumerate(pd.date_range("1970-01-01", periods=12, freq="MS"))]
    path = tmp_path / "mixed.csv"
    path.write_text("unique_id,month,passengers\n" + "\n".join(rows) + "\n")
    return path


def test_predict_new_series_warns_on_stderr_only(trained_model, mixed_csv):
    result = invoke("predict", "-m", trained_model, mixed_csv)
    assert result.exit_code == 0, result.stderr
    frame = parse_forecast_csv(result.stdout, 18)
    assert set(frame["unique_id"]) == {"long"}
    assert frame["ds"].iloc[0] == "1974-01-01"
    assert "warning" in result.stderr and "short" in result.stderr


def test_quiet_predict_has_empty_stderr(trained_model, mixed_csv):
    result = invoke("predict", "-m", trained_model, mixed_csv, "--quiet")
    assert result.exit_code == 0
    assert result.stderr == ""
    parse_forecast_csv(result.stdout, 18)


def test_output_file_csv(trained_model, tmp_path):
    out = tmp_path / "forecast.csv"
    result = invoke("predict", "-m", trained_model, "--output", out)
    assert result.exit_code == 0
    assert result.stdout == ""
    parse_forecast_csv(out.read_text(), 18)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["forecast.csv"]      # no temporary files
    assert invoke("predict", "-m", trained_model, "-o", out, "--quiet").stderr == ""


def test_output_file_json_by_suffix(trained_model, tmp_path):
    out = tmp_path / "forecast.json"
    result = invoke("predict", "-m", trained_model, "-o", out)
    assert result.exit_code == 0 and result.stdout == ""
    assert len(json.loads(out.read_text())) == 18


def test_output_file_with_table_format_is_an_error(trained_model, tmp_path):
    result = invoke("predict", "-m", trained_model, "-o", tmp_path / "f.txt", "--format", "table")
    assert result.exit_code == 2 and result.stdout == ""
    assert not (tmp_path / "f.txt").exists()


def test_predict_from_stdin(trained_model):
    result = invoke("predict", "-m", trained_model, "-", input=AIR.read_text())
    assert result.exit_code == 0, result.stderr
    frame = parse_forecast_csv(result.stdout, 18)
    assert frame["ds"].tolist() == AIR_FUTURE
    # continuing the training data from stdin is the same as continuing the remembered tails
    default = parse_forecast_csv(invoke("predict", "-m", trained_model).stdout, 18)
    np.testing.assert_allclose(frame["forecast"], default["forecast"], rtol=1e-6)


def test_subprocess_stdin_both_ways(tmp_path):
    model = tmp_path / "m.npz"
    done = run_cli("train", "-", *TINY, "-o", model, "-q", input=AIR.read_text(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    done = run_cli("predict", "-m", model, "-", input=AIR.read_bytes(), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    parse_forecast_csv(done.stdout.decode(), 18)


def test_integer_steps_and_many_series(tmp_path):
    model = tmp_path / "m4.npz"
    result = invoke("train", M4, *TINY, "--horizon", "4", "--input-size", "12", "--batches-per-epoch", "2",
                    "-o", model, "-q")
    assert result.exit_code == 0, result.stderr
    frame = parse_forecast_csv(invoke("predict", "-m", model).stdout, 8 * 4)
    assert frame["unique_id"].unique().tolist() == ["H1", "H10", "H100", "H2", "H200", "H3", "H300", "H50"]
    by_id = frame.groupby("unique_id")["ds"].apply(list)
    assert by_id["H1"] == ["700", "701", "702", "703"] and by_id["H300"] == ["960", "961", "962", "963"]


def test_info_on_stdout_as_table_or_json(trained_model):
    table = invoke("info", trained_model)
    assert table.exit_code == 0 and table.stderr == "" and "passengers" in table.stdout
    as_json = invoke("info", trained_model, "--format", "json")
    assert as_json.exit_code == 0 and as_json.stderr == ""
    assert json.loads(as_json.stdout)["series"]["count"] == 1


def test_subprocess_info_json(trained_model, tmp_path):
    done = run_cli("info", trained_model, "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["config"]["horizon"] == 18


def test_errors_only_on_stderr(tmp_path):
    result = invoke("predict", "-m", tmp_path / "nope.npz", "--format", "json")
    assert result.exit_code == 1 and result.stdout == "" and result.stderr.startswith("error: ")


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    """`predict | head -1`: the closed pipe ends the run quietly, as with any Unix filter."""
    import subprocess
    import sys
    rows = ["unique_id,ds,y"] + [f"s{k},{t},{5 + np.sin(t / 4):.3f}" for k in range(400) for t in range(40)]
    data = tmp_path / "many.csv"
    data.write_text("\n".join(rows) + "\n")
    model = tmp_path / "m.npz"
    assert run_cli("train", data, "--horizon", "12", "--season", "4", "--epochs", "1", "--hidden-size", "4",
                   "-o", model, "--quiet").returncode == 0
    proc = subprocess.Popen([sys.executable, "-m", "forecast_cli", "predict", "-m", str(model)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = proc.stdout.readline()
    proc.stdout.close()                      # the reader goes away after one line
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert first.startswith(b"unique_id,ds,forecast")
    assert "Traceback" not in err and "Error" not in err
