"""JSON output writes every float with exactly the text the CSV output gives it (the shortest
that reads back the same), not pandas' to_json's 15-significant-digit rounding."""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from forecast_cli.cli import app
from forecast_cli.output import write_frame

from conftest import AIR


def texts_of_json(text: str) -> list[dict]:
    """Records with every float as the text JSON wrote it."""
    return json.loads(text, parse_float=lambda token: token)


def texts_of_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def same_texts(as_json: str, as_csv: str) -> None:
    records, rows = texts_of_json(as_json), texts_of_csv(as_csv)
    assert len(records) == len(rows) > 0
    for record, row in zip(records, rows):
        assert list(record) == list(row)
        for name, value in record.items():
            assert ("" if value is None else str(value)) == row[name], (name, value, row[name])


def run(*args) -> str:
    result = CliRunner().invoke(app, [*map(str, args), "-q"])
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("command", [["predict", "--level", "80"], ["evaluate", AIR, "--per-series"]])
def test_json_floats_are_the_csv_texts(trained_model, command):
    args = [*command, "-m", trained_model]
    same_texts(run(*args, "--format", "json"), run(*args, "--format", "csv"))


def test_write_frame_json_matches_csv_for_awkward_floats():
    frame = pd.DataFrame({"unique_id": ["a", "b", "c"], "forecast": [0.1 + 0.2, 1 / 3, 417.23681640625],
                          "lo": [np.nan, 1e20, -2.5e-17], "fold": [1, 2, 3]})
    out = {fmt: io.StringIO() for fmt in ("json", "csv")}
    for fmt, stream in out.items():
        write_frame(frame, fmt, stream)
    same_texts(out["json"].getvalue(), out["csv"].getvalue())
    assert texts_of_json(out["json"].getvalue())[0]["forecast"] == "0.30000000000000004"


def test_json_non_finite_values_are_null():
    stream = io.StringIO()
    write_frame(pd.DataFrame({"method": ["x", "y"], "MASE": [np.inf, np.nan]}), "json", stream)
    assert json.loads(stream.getvalue()) == [{"method": "x", "MASE": None}, {"method": "y", "MASE": None}]
