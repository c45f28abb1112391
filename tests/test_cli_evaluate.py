"""`lstm-forecast evaluate`: CSV/JSON scores on stdout, per-series rows, folds, interval columns,
errors as one line on stderr, and the warning when a model is scored on its own training data."""

from __future__ import annotations

import csv
import io
import json
import math

import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app

from conftest import AIR, one_error_line

runner = CliRunner()
# tiniest training that still runs every stage (validation, interval calibration)
SMALL = ["--epochs", "1", "--hidden-size", "4", "--ensemble", "1", "--batches-per-epoch", "2", "--workers", "1"]
METHODS = ["LSTM", "naive", "seasonal naive", "Naive2"]
AIR_LINES = AIR.read_text().splitlines()          # header + 144 monthly values, 1949-01 .. 1960-12


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def ok(result):
    assert result.exit_code == 0, (result.exit_code, result.stdout, result.stderr, result.exception)
    return result


def rows(stdout: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(stdout)))


def head(tmp_path, n: int, name: str = None):
    """The first n months of air_passengers as a CSV file."""
    path = tmp_path / (name or f"air{n}.csv")
    path.write_text("\n".join(AIR_LINES[:1 + n]) + "\n")
    return path


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny models trained on all 144 months, on the first 127 and on the first 126 (horizon auto: 18)."""
    folder = tmp_path_factory.mktemp("evaluate_models")
    out = {}
    for n in (144, 127, 126):
        path = folder / f"m{n}.npz"
        ok(invoke("train", head(folder, n), *SMALL, "--output", path, "--quiet"))
        out[n] = path
    return out


# --------------------------------------------------------------------------------------------
# output


def test_evaluate_prints_a_summary_csv():
    result = ok(invoke("evaluate", AIR, *SMALL))
    assert result.stdout.splitlines()[0] == "method,MAE,RMSE,sMAPE,MASE,OWA"
    table = rows(result.stdout)
    assert [r["method"] for r in table] == METHODS
    by = {r["method"]: r for r in table}
    assert float(by["Naive2"]["OWA"]) == 1.0
    # naive's MAE on the last 18 months by hand: the forecast is Jun 1959 (472)
    held_out = [float(line.split(",")[1]) for line in AIR_LINES[-18:]]
    last = float(AIR_LINES[-19].split(",")[1])
    assert last == 472.0
    assert float(by["naive"]["MAE"]) == pytest.approx(sum(abs(v - last) for v in held_out) / 18)


def test_evaluate_json_parses():
    result = ok(invoke("evaluate", AIR, *SMALL, "--format", "json"))
    records = json.loads(result.stdout)
    assert [r["method"] for r in records] == METHODS
    assert set(records[0]) == {"method", "MAE", "RMSE", "sMAPE", "MASE", "OWA"}
    assert records[3]["OWA"] == 1.0


def test_evaluate_per_series_has_one_row_per_series_fold_and_method():
    result = ok(invoke("evaluate", AIR, *SMALL, "--per-series"))
    assert result.stdout.splitlines()[0] == "unique_id,fold,method,MAE,RMSE,sMAPE,MASE"
    table = rows(result.stdout)
    assert [(r["unique_id"], r["fold"], r["method"]) for r in table] == [("passengers", "1", m) for m in METHODS]


def test_evaluate_two_folds():
    result = ok(invoke("evaluate", AIR, *SMALL, "--folds", "2", "--per-series"))
    table = rows(result.stdout)
    assert sorted((r["method"], r["fold"]) for r in table) == sorted((m, f) for m in METHODS for f in "12")
    # the summary averages the two windows
    per_window = {(r["method"], r["fold"]): float(r["MAE"]) for r in table}
    summary = {r["method"]: r for r in rows(ok(invoke("evaluate", AIR, *SMALL, "--folds", "2")).stdout)}
    for method in ("naive", "seasonal naive", "Naive2"):
        assert float(summary[method]["MAE"]) == pytest.approx((per_window[method, "1"] + per_window[method, "2"]) / 2)
    assert float(summary["Naive2"]["OWA"]) == 1.0


def test_evaluate_level_adds_coverage_msis_and_acd_columns():
    result = ok(invoke("evaluate", AIR, *SMALL, "--level", "95"))
    assert result.stdout.splitlines()[0] == "method,MAE,RMSE,sMAPE,MASE,OWA,coverage-95,MSIS-95,ACD-95"
    by = {r["method"]: r for r in rows(result.stdout)}
    for method in ("LSTM", "seasonal naive"):
        coverage = float(by[method]["coverage-95"])
        assert 0.0 <= coverage <= 1.0 and float(by[method]["MSIS-95"]) > 0
        assert float(by[method]["ACD-95"]) == pytest.approx(abs(coverage - 0.95))
    for method in ("naive", "Naive2"):                  # no intervals: blank cells
        assert by[method]["coverage-95"] == by[method]["MSIS-95"] == by[method]["ACD-95"] == ""


def test_evaluate_against_a_test_file(tmp_path, models):
    # the first 126 months against the last 18, given in their own file
    test = tmp_path / "test.csv"
    test.write_text("\n".join([AIR_LINES[0], *AIR_LINES[-18:]]) + "\n")
    result = ok(invoke("evaluate", head(tmp_path, 126), "--test", test, "-m", models[126]))
    by = {r["method"]: r for r in rows(result.stdout)}
    held_out = [float(line.split(",")[1]) for line in AIR_LINES[-18:]]
    assert float(by["naive"]["MAE"]) == pytest.approx(sum(abs(v - 472.0) for v in held_out) / 18)
    assert "optimistic" not in result.stderr


def test_evaluate_against_a_longer_test_file_warns_and_scores_the_first_horizon_values(tmp_path):
    # the first 120 months, then a test file of the 24 that follow; horizon auto = 18
    test = tmp_path / "test.csv"
    test.write_text("\n".join([AIR_LINES[0], *AIR_LINES[-24:]]) + "\n")
    result = ok(invoke("evaluate", head(tmp_path, 120), "--test", test, *SMALL))
    warnings = [line for line in result.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 1 and "more than horizon = 18" in warnings[0], result.stderr
    by = {r["method"]: r for r in rows(result.stdout)}
    first18 = [float(line.split(",")[1]) for line in AIR_LINES[-24:-6]]
    last = float(AIR_LINES[120].split(",")[1])                  # Dec 1958: 337
    assert last == 337.0
    assert float(by["naive"]["MAE"]) == pytest.approx(sum(abs(v - last) for v in first18) / 18)


def test_evaluate_against_a_shorter_test_file_fails_with_one_line(tmp_path, models):
    test = tmp_path / "test.csv"
    test.write_text("\n".join([AIR_LINES[0], *AIR_LINES[-18:-1]]) + "\n")     # 17 < horizon 18
    result = invoke("evaluate", head(tmp_path, 126), "--test", test, "-m", models[126])
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    assert "fewer than horizon = 18" in one_error_line(result.stderr)


# --------------------------------------------------------------------------------------------
# errors


def test_evaluate_a_series_too_short_fails_with_one_line(tmp_path):
    result = invoke("evaluate", head(tmp_path, 20), *SMALL)
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    one_error_line(result.stderr)


def test_evaluate_too_many_folds_fails_with_one_line_when_quiet():
    # 8 folds of 18 leave the last fold 144 − 8·18 = 0 points to train on
    result = invoke("evaluate", AIR, *SMALL, "--folds", "8", "--quiet")
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    one_error_line(result.stderr)


def test_evaluate_too_many_folds_fails_before_training_anything():
    result = invoke("evaluate", AIR, *SMALL, "--folds", "8")
    assert result.exit_code == 1, (result.stdout, result.stderr, result.exception)
    assert result.stdout == ""
    one_error_line(result.stderr)


# --------------------------------------------------------------------------------------------
# a model scored on the data it was trained on


def test_evaluate_a_model_on_its_own_training_data_warns_that_scores_are_optimistic(models):
    result = ok(invoke("evaluate", AIR, "-m", models[144]))
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("warning: ") and "optimistic" in lines[0]
    assert [r["method"] for r in rows(result.stdout)] == METHODS


def test_evaluate_a_model_trained_before_the_held_out_window_does_not_warn(models):
    # trained on months 0..125; the held-out window of one fold starts at month 126
    result = ok(invoke("evaluate", AIR, "-m", models[126]))
    assert "optimistic" not in result.stderr
    assert math.isfinite(float(rows(result.stdout)[0]["MAE"]))


def test_evaluate_a_model_trained_on_the_first_held_out_month_warns(models):
    # trained on months 0..126: the held-out window (months 126..143) starts on its last month
    result = ok(invoke("evaluate", AIR, "-m", models[127]))
    assert "optimistic" in result.stderr


def test_evaluate_a_model_warns_when_an_earlier_fold_overlaps_its_training_data(models):
    # two folds of 18: the earlier window starts at month 108, inside months 0..125
    result = ok(invoke("evaluate", AIR, "-m", models[126], "--folds", "2"))
    assert "optimistic" in result.stderr
