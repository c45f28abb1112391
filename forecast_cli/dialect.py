"""How a CSV file is written: its encoding, separator, quote, decimal mark and thousands
separator, told from a sample of its first bytes (SAMPLE_BYTES), never by parsing it twice.

  * encoding — a byte-order mark says UTF-8 or UTF-16; else UTF-8 if the sample decodes as
    UTF-8, else Windows-1252 (the spreadsheet exports of Western Europe and the US), else
    latin-1 (which decodes any byte);
  * separator — of `,` `;` tab `|`, the one that splits the header into two or more fields
    and every row of the sample into as many (csv's own reader splits them, quotes honoured;
    one more, empty, field at the end of a row is a trailing separator); `,` when none does;
  * quote — `"`, or `'` where fields are quoted with it and `"` never appears;
  * numbers — written with a decimal comma (`592,0`), a thousands separator (`"4,144"`,
    `4.144,50`, `1 234`, `1'234.50`), currency signs (`$1,234`) or percent signs (`12%`),
    told from the fields of the sample that read as such numbers.  A value such as `1,234`
    alone could be either; where the separator does not settle it the reading is refused with
    the flags that do.

`--encoding`, `--sep`, `--decimal` and `--thousands` (Config fields; "auto" detects) win over
detection.  Dialect.notes says, in one line, what differs from plain comma/dot/UTF-8.
to_numbers converts text by a dialect.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from .errors import ConfigError, DataError

SAMPLE_BYTES = 1 << 16
SAMPLE_ROWS = 200
SEPARATORS = (",", ";", "\t", "|")
SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'", ".": "'.'", "'": "\"'\"", " ": "space",
                   "\u00a0": "no-break space", "\u202f": "narrow no-break space"}
CURRENCY = "$€£¥₹₽₩¤"
SPACES = " \u00a0\u202f"          # thousands written as spaces: plain, no-break, narrow no-break
_NUMBERISH = re.compile(r"\d[\d.,'\u00a0\u202f ]*")


@dataclass(frozen=True)
class Dialect:
    """What pandas needs to read a file right, and what was detected to get there."""

    sep: str = ","
    quotechar: str = '"'
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8-sig"
    signs: bool = False            # currency or percent signs among the numbers: text to clean
    auto_encoding: bool = True     # detected, not given: a UTF-8 file may turn out cp1252 later on
    notes: str = ""                # what differs from plain comma/dot/UTF-8, for stderr

    def options(self) -> dict:
        """read_csv's options for this dialect (text columns: numbers are converted later)."""
        return dict(sep=self.sep, quotechar=self.quotechar, encoding=self.encoding)

    def typed_options(self) -> dict:
        """read_csv's options when pandas converts the numbers itself."""
        return dict(self.options(), decimal=self.decimal, thousands=self.thousands)

    @property
    def plain_numbers(self) -> bool:
        return self.decimal == "." and self.thousands is None and not self.signs


PLAIN = Dialect()


def detect(sample: bytes, config) -> Dialect:
    """The dialect of a file that begins with `sample`, detection overridden by the config's
    `encoding`, `sep`, `decimal` and `thousands` where they are not "auto"."""
    encoding, said = _encoding(sample, config.encoding)
    text = _decoded(sample, encoding)
    sep = _given_separator(config.sep) or _separator(text)
    quote = _quote(text, sep)
    rows = _rows(text, sep, quote)
    decimal, thousands, signs = _numbers(rows[1:], sep, config.decimal, config.thousands)
    dialect = Dialect(sep, quote, decimal, thousands, encoding, signs, config.encoding == "auto")
    return replace(dialect, notes=_notes(dialect, said))


def _encoding(sample: bytes, given: str) -> tuple[str, bool]:
    """(encoding, whether to say so)."""
    if given != "auto":
        try:
            codecs.lookup(given)
        except LookupError:
            raise ConfigError(f"encoding: unknown encoding {given!r} (e.g. utf-8, cp1252, latin-1, utf-16)") from None
        return ("utf-8-sig" if codecs.lookup(given).name == "utf-8" else given), False   # a BOM is no header text
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)  # a character cut at the end is fine
        return "utf-8-sig", False
    except UnicodeDecodeError:
        pass
    try:
        sample.decode("cp1252")
        return "cp1252", True
    except UnicodeDecodeError:
        return "latin-1", True


def _decoded(sample: bytes, encoding: str) -> str:
    """The sample as text, without the last line (it may be cut short)."""
    text = codecs.getincrementaldecoder(encoding)(errors="replace").decode(sample, final=len(sample) < SAMPLE_BYTES)
    if len(sample) >= SAMPLE_BYTES and "\n" in text:
        text = text[:text.rindex("\n") + 1]
    return text


def _given_separator(sep: str) -> str | None:
    if sep == "auto":
        return None
    sep = {"tab": "\t", "\\t": "\t", "space": " "}.get(sep.lower(), sep)
    if len(sep) != 1 or sep in "\"'\r\n":
        raise ConfigError(f"sep: expected one character such as , ; | or tab, got {sep!r}")
    return sep


def _rows(text: str, sep: str, quote: str = '"') -> list:
    """The sample's first SAMPLE_ROWS non-blank rows, split as csv splits them."""
    reader = csv.reader(io.StringIO(text), delimiter=sep, quotechar=quote, skipinitialspace=True)
    rows = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                rows.append(row)
            if len(rows) >= SAMPLE_ROWS:
                break
    except csv.Error:  # a stray quote, a NUL byte: pandas' parser words the error
        pass
    return rows


def _separator(text: str) -> str:
    """The candidate that splits the header into two or more fields and the most rows into as
    many (or one more, empty: a trailing separator); of equals, the one whose cells read as
    numbers more often (`Datum;Umsatz, EUR` over `592,0` is ';'-separated), then the first in
    SEPARATORS."""
    best, best_score = ",", (0.0, 0.0)
    for sep in SEPARATORS:
        rows = _rows(text, sep)
        if not rows or len(rows[0]) < 2:
            continue
        width = len(rows[0]) - (rows[0][-1].strip() == "")
        fit = np.mean([len(r) == width or (len(r) == width + 1 and not r[-1].strip()) for r in rows])
        cells = [cell.strip() for row in rows[1:] for cell in row if cell.strip()]
        numeric = np.mean([bool(_NUMBERISH.fullmatch(cell)) for cell in cells]) if cells else 0.0
        if (fit, numeric) > best_score:
            best, best_score = sep, (fit, numeric)
    return best


def _quote(text: str, sep: str) -> str:
    """`"`, or `'` when fields begin and end with it and `"` never appears."""
    if '"' in text or "'" not in text:
        return '"'
    quoted = re.findall(rf"(?:^|{re.escape(sep)})\s*'[^'\n]*'\s*(?={re.escape(sep)}|$)", text, flags=re.M)
    return "'" if len(quoted) >= 2 else '"'


def _numbers(rows: list, sep: str, decimal: str, thousands: str):
    """(decimal mark, thousands separator or None, signs present) for the numbers in `rows`."""
    marks = Marks()
    for row in rows:
        for cell in row:
            marks.add(cell)
    if decimal == "auto":
        decimal = {",": ".", ".": ","}.get(thousands) or marks.decimal(sep)
    elif decimal not in ",.":
        raise ConfigError(f"decimal: expected . or , got {decimal!r}")
    if thousands == "auto":
        thousands = marks.thousands(decimal)
    elif thousands.lower() == "none":
        thousands = None
    elif thousands.lower() == "space":
        thousands = " "
    elif len(thousands) != 1 or thousands == decimal:
        raise ConfigError(f"thousands: expected one character other than the decimal mark (or none), got {thousands!r}")
    return decimal, thousands, marks.signs


class Marks:
    """Evidence, from fields that read as numbers, of how the numbers are written."""

    def __init__(self):
        self.decimals = {}                # decimal mark → an example that shows it
        self.grouped = {}                 # thousands separator → an example that shows it
        self.either = {}                  # ',' or '.' → an example such as '1,234': either
        self.signs = False

    def add(self, cell: str) -> None:
        raw = cell.strip()
        bare = re.sub(f"[{re.escape(CURRENCY)}%]", "", raw).strip()
        if bare.startswith("(") and bare.endswith(")"):
            bare = bare[1:-1].strip()
        bare = bare.lstrip("+-").strip()
        if not bare or not bare[0].isdigit() or not _NUMBERISH.fullmatch(bare):
            return
        self.signs = self.signs or bool(re.search(f"[{re.escape(CURRENCY)}%]", raw)) or raw.startswith("(")
        for space in SPACES + "'":
            if space in bare:
                if not re.fullmatch(rf"\d{{1,3}}(?:{re.escape(space)}\d{{3}})+(?:[.,]\d+)?", bare):
                    return
                self.grouped.setdefault(space, raw)
                bare = bare.replace(space, "")
        self._marks(bare, raw)

    def _marks(self, bare: str, raw: str) -> None:
        if "," in bare and "." in bare:              # the last of the two is the decimal mark
            decimal, group = (",", ".") if bare.rindex(",") > bare.rindex(".") else (".", ",")
            if re.fullmatch(rf"\d{{1,3}}(?:\{group}\d{{3}})+\{decimal}\d+", bare):
                self.grouped.setdefault(group, raw)
                self.decimals.setdefault(decimal, raw)
        elif bare.count(",") > 1 or bare.count(".") > 1:
            mark = "," if "," in bare else "."
            if re.fullmatch(rf"\d{{1,3}}(?:\{mark}\d{{3}})+", bare):
                self.grouped.setdefault(mark, raw)
        elif "," in bare or "." in bare:
            mark = "," if "," in bare else "."
            whole, fraction = bare.split(mark)
            if len(fraction) == 3 and 1 <= len(whole) <= 3 and whole[0] != "0":
                self.either.setdefault(mark, raw)
            elif whole and fraction:
                self.decimals.setdefault(mark, raw)

    def decimal(self, sep: str) -> str:
        """The decimal mark: the one seen as such, or the one a thousands separator rules out;
        `,` in a `;` file where `1,234` is all there is; else `.`.  Refused where both are seen
        as decimal marks, or `1,234` (or `1.234` in a `;` file) could be either."""
        if len(self.decimals) > 1:
            raise DataError(f"numbers are written with a decimal comma ({self.decimals[',']!r}) and a decimal point "
                            f"({self.decimals['.']!r}); say which with --decimal , or --decimal .")
        if self.decimals:
            return next(iter(self.decimals))
        if self.grouped.keys() & {",", "."}:
            return "," if "." in self.grouped else "."
        if "," in self.either and sep == ";":
            return ","
        if "," in self.either and sep != "," or "." in self.either and sep == ";":
            mark = "," if "," in self.either else "."
            raise DataError(f"a value such as {self.either[mark]!r} could be a thousand or a decimal: say "
                            f"--thousands {mark} or --decimal {mark}")
        return "."

    def thousands(self, decimal: str) -> str | None:
        """The thousands separator: the one seen grouping digits, else the mark of `1,234`
        (`1.234`) that is not the decimal mark; None if there is none."""
        seen = [mark for mark in self.grouped if mark != decimal]
        if len(seen) > 1:
            raise DataError(f"numbers group thousands in more than one way ({self.grouped[seen[0]]!r}, "
                            f"{self.grouped[seen[1]]!r}); say which with --thousands")
        if seen:
            return seen[0]
        other = "." if decimal == "," else ","
        return other if other in self.either else None


def _notes(dialect: Dialect, said_encoding: bool) -> str:
    """One line of what differs from a plain comma/dot/UTF-8 file ('' if nothing does)."""
    parts = []
    if dialect.sep != ",":
        parts.append(f"{SEPARATOR_NAMES.get(dialect.sep, repr(dialect.sep))}-separated")
    if dialect.quotechar != '"':
        parts.append(f"quoted with {dialect.quotechar}")
    if dialect.decimal != ".":
        parts.append("decimal comma")
    if dialect.thousands:
        parts.append(f"thousands separator {SEPARATOR_NAMES.get(dialect.thousands, repr(dialect.thousands))}")
    if dialect.signs:
        parts.append("currency signs, % or (negatives) around numbers")
    if said_encoding:
        parts.append(f"{dialect.encoding} text (not UTF-8)" if dialect.encoding != "utf-16" else "UTF-16 text")
    if not parts:
        return ""
    return "read as " + ", ".join(parts) + " (--sep, --decimal, --thousands, --encoding to change)"


def to_numbers(column: pd.Series, dialect: Dialect) -> pd.Series:
    """Text → float64 (NaN where a cell is not a number) as `dialect` writes numbers: signs
    dropped (a number in parentheses is negative), thousands separators removed, the decimal
    mark made a point."""
    if not dialect.plain_numbers and _text(column):
        text = column.str.strip()
        if dialect.signs:
            text = text.str.replace(f"[{re.escape(CURRENCY)}%]", "", regex=True).str.strip()
            text = text.str.replace(r"^\((.*)\)$", r"-\1", regex=True)
        if dialect.thousands:
            groups = SPACES if dialect.thousands in SPACES else dialect.thousands
            text = text.str.replace(f"(?<=\\d)[{re.escape(groups)}](?=\\d{{3}})", "", regex=True)
        if dialect.decimal != ".":
            text = text.str.replace(dialect.decimal, ".", regex=False)
        column = text
    return pd.to_numeric(column, errors="coerce")


def _text(column: pd.Series) -> bool:
    """Whether a column holds text: object (pandas 2's text columns) or a string dtype
    (pandas 3 reads text as `str`, a StringDtype)."""
    return column.dtype == object or isinstance(column.dtype, pd.StringDtype)


def number_hint(text: str, dialect: Dialect) -> str:
    """What to say to read `text` (a value that did not convert) as a number, or ''."""
    if re.search(r"\d[.,]\d{3}\b", text) and not dialect.thousands:
        mark = "," if re.search(r"\d,\d{3}\b", text) else "."
        return f"; if {mark!r} groups thousands, say --thousands {mark}"
    if re.search(r"\d,\d", text) and dialect.decimal != ",":
        return "; for a decimal comma, say --decimal ,"
    return ""
