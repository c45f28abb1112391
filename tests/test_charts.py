"""charts.py: one Chart description, drawn in braille on the terminal and with
matplotlib to an image; bands under lines; the loss curve through the same code."""

from __future__ import annotations

import math

import numpy as np
import pytest
from rich.console import Console

from forecast_cli import charts


def plain(text) -> list[str]:
    console = Console(width=200, no_color=True, record=True, file=open("/dev/null", "w"))
    console.print(text)
    return console.export_text().rstrip("\n").split("\n")


def braille_cells(line: str) -> list[int]:
    """The dot bits of each character of a chart row (0 for a blank)."""
    return [ord(ch) - 0x2800 if 0x2800 <= ord(ch) <= 0x28FF else 0 for ch in line]


def band_chart(width=40, height=8):
    xs = np.arange(1, 21)
    return charts.Chart("demo", [("forecast", xs, np.full(20, 5.0), "magenta")],
                        [("95% interval", xs, np.full(20, 0.0), np.full(20, 10.0), "blue")], x_label="steps")


def test_layout_title_rows_axis_ticks_legend():
    lines = plain(charts.draw(band_chart(), width=40, height=8))
    assert lines[0] == "demo"
    assert len(lines) == 1 + 8 + 1 + 1 + 1          # title, rows, axis, x range, legend
    assert lines[1].startswith("10 ┤") and lines[8].startswith(" 0 ┤")
    assert lines[9].strip() == "└" + "─" * 40
    assert lines[10].split() == ["1", "steps", "20"]
    assert "━━ forecast" in lines[11] and "⣿⣿ 95% interval" in lines[11]


def test_band_is_shaded_and_the_line_over_it_is_whole():
    rows = plain(charts.draw(band_chart(), width=40, height=8))[1:9]
    cells = np.array([braille_cells(r[4:]) for r in rows])  # after "10 ┤"
    assert cells.shape == (8, 40)
    assert np.count_nonzero(cells) == cells.size       # the band fills the whole plot …
    full = np.array([bin(c).count("1") for c in cells.ravel()]).reshape(cells.shape)
    assert full.min() >= 2 and np.median(full) <= 4     # … shaded, not solid
    # the line at y = 5 sits in row 4 or 5 (of 0 … 7) and adds dots: those rows are denser
    assert full[3:5].sum() > full[0:2].sum()


def test_two_bands_widest_lightest():
    xs = np.arange(1, 11)
    spec = charts.Chart("two", [("f", xs, np.full(10, 5.0), "magenta")],
                        [("95%", xs, np.full(10, 0.0), np.full(10, 10.0), "blue"),
                         ("80%", xs, np.full(10, 4.0), np.full(10, 6.0), "cyan")])
    rows = plain(charts.draw(spec, width=20, height=8))[1:9]
    dots = [sum(bin(c).count("1") for c in braille_cells(r[4:])) for r in rows]
    assert dots[0] < dots[4]                           # outer band only at the top; inner band + line in the middle


def test_forecast_chart_places_history_before_and_forecast_after_the_origin():
    history, forecast = np.arange(30.0), np.full(6, 40.0)
    bounds = {95: (forecast - 5, forecast + 5), 80: (forecast - 2, forecast + 2)}
    spec = charts.forecast_chart("H1", history, forecast, bounds, "2020-01-01")
    assert spec.title == "H1: forecast with 80%, 95% intervals"
    (label, xs, ys, _), (flabel, fxs, fys, _) = spec.lines
    assert xs[0] == -29 and xs[-1] == 0 and fxs[0] == 0 and fxs[-1] == 6
    assert fys[0] == history[-1]                       # the forecast line starts at the last value
    assert [b[0] for b in spec.bands] == ["95% interval", "80% interval"]
    assert spec.x_label == "steps after 2020-01-01"
    lines = plain(charts.draw(spec))
    assert lines[1].startswith("45 ┤") and lines[-2].split()[0] == "-29"


def test_non_finite_values_are_skipped():
    xs = np.arange(5)
    spec = charts.Chart("gaps", [("y", xs, [1.0, math.nan, 3.0, math.inf, 2.0], "cyan")])
    assert len(plain(charts.draw(spec, width=10, height=4))) == 1 + 4 + 3


def test_loss_curve_goes_through_the_same_drawing():
    text = charts.loss_curve({"train_loss": [3.0, 2.0, 1.0], "val_loss": [3.5, None, 1.5]})
    lines = plain(text)
    assert lines[0] == "loss per epoch" and "━━ train" in lines[-1] and "━━ validation" in lines[-1]


def test_save_charts_png(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "charts.png"
    charts.save_charts([band_chart(), band_chart()], out)
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
    assert int.from_bytes(data[20:24], "big") > int.from_bytes(data[16:20], "big") / 2  # two charts stacked
