"""README's claim about interval coverage on small data is the one docs/intervals.md measured:
the lowest and highest 95 % coverage over the bundled files (after the twin) and their mean."""

from __future__ import annotations

import re

from conftest import REPO


def bundled_coverage() -> tuple[str, str, str]:
    """(lowest, highest, mean) 95 % coverage on the bundled files, as docs/intervals.md prints them."""
    doc = (REPO / "docs" / "intervals.md").read_text(encoding="utf-8")
    table = doc[doc.index("**The bundled data**"):]
    after = [float(m) for m in re.findall(r"^\| [\w/]+ \| \d+ \| [\d.]+ % → ([\d.]+) % \|", table, re.M)]
    assert len(after) >= 5, "the bundled-data table of docs/intervals.md changed shape"
    mean = re.search(r"Mean 95 % coverage over the files [\d.]+ % → ([\d.]+) %", table).group(1)
    return f"{min(after):.1f}", f"{max(after):.1f}", mean


def test_readme_gives_the_measured_coverage_on_the_bundled_files():
    low, high, mean = bundled_coverage()
    readme = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert f"{low}–{high} % on the bundled sample files (mean {mean} %)" in readme
    assert "93–98 %" not in readme
