"""Determinism (issue 5.6): the same data, options and seed give a byte-identical model file —
in two separate processes, whatever their hash seed and however many ensemble workers; another
seed gives another model."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import AIR

FLAGS = ["--epochs", "3", "--hidden-size", "6", "--batches-per-epoch", "4", "--dropout", "0.2", "--num-layers", "2",
         "--ensemble", "2", "--quiet"]


def train(output, *extra, hash_seed: str = "0"):
    """A real process each time; PYTHONHASHSEED varies set and dict-of-str orderings between runs."""
    env = dict(os.environ, PYTHONHASHSEED=hash_seed)
    result = subprocess.run([sys.executable, "-m", "forecast_cli", "train", str(AIR), *FLAGS, "-o", str(output), *extra],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return output.read_bytes()


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    return train(tmp_path_factory.mktemp("det") / "first.npz", "--seed", "7", "--workers", "1", hash_seed="1")


def test_same_seed_same_bytes(tmp_path, first):
    assert train(tmp_path / "again.npz", "--seed", "7", "--workers", "2", hash_seed="2") == first


def test_another_seed_another_model(tmp_path, first):
    assert train(tmp_path / "other.npz", "--seed", "8", "--workers", "1", hash_seed="1") != first
