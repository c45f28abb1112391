"""Reading the file: a CSV (a path, or '-' for stdin) → a pandas table, in its own dialect.

The dialect (dialect.py) is told from the first SAMPLE_BYTES; pandas' parser then reads the
file with it, as bytes (it decodes them itself: a BOM dropped, line endings as written).  A file
whose sample is UTF-8 but a later byte is not is read again as Windows-1252, and said so.
A trailing separator on every row (`2021-01-01,5,`) is not a column: with index_col=False
pandas keeps the columns under their names, and a nameless column with nothing in it is
dropped.  Failures to open, decode or parse are one-line DataErrors.

A big file is parsed in pieces side by side (in_pieces), cut at line breaks outside quotes.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import warnings
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from .dialect import PLAIN, SAMPLE_BYTES, Dialect
from .errors import DataError

log = logging.getLogger("forecast_cli")


def read_table(source: str, content: bytes | None, dialect: Dialect = PLAIN) -> tuple[pd.DataFrame, Dialect]:
    """(every column as text, the dialect it was read in): the dialect given, or Windows-1252
    where its UTF-8 fails past the sample.  `content`, when given, is the bytes the source held
    (see read_bytes)."""
    with read_errors(source):
        try:
            frame = parse(source, content, dialect, dtype=str)
        except UnicodeDecodeError:
            if dialect.encoding != "utf-8-sig" or not dialect.auto_encoding:
                raise
            dialect = replace(dialect, encoding="cp1252")
            log.warning("%s is not UTF-8 past its first lines: read as cp1252 text (--encoding to change)", name(source))
            frame = parse(source, content, dialect, dtype=str)
    frame.columns = [str(c).strip() for c in frame.columns]
    while frame.columns[-1].startswith("Unnamed: ") and frame.iloc[:, -1].isna().all() and frame.shape[1] > 1:
        frame = frame.iloc[:, :-1]   # a separator at the end of every line, the header's too
    repeated = [c for c, n in Counter(frame.columns).items() if n > 1]
    if repeated:
        raise DataError(f"{name(source)} has two columns named {shown(repeated[0])}; rename one")
    if frame.dropna(how="all").empty:
        raise DataError(f"{name(source)} has a header but no rows")
    return frame, dialect


def parse(source: str, content: bytes | None, dialect: Dialect, typed: bool = False, **options) -> pd.DataFrame:
    """pd.read_csv of `content`, or else of the file `source`, in `dialect` (its number format
    too if `typed`), with the options every reading shares.  Bytes, not text: pandas' parser
    decodes them itself, while text it encodes back to bytes first (169 MB from stdin: 0.9 s
    from text, 0.5 s from bytes)."""
    style = dialect.typed_options() if typed else dialect.options()
    with binary(source, content) as handle, warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)  # rows longer than the header: data lost
        return pd.read_csv(handle, skipinitialspace=True, index_col=False, **style, **options)


def sample(source: str, content: bytes | None) -> bytes:
    """The first SAMPLE_BYTES of the source, for detecting its dialect."""
    if content is not None:
        return content[:SAMPLE_BYTES]
    with read_errors(source), binary(source, None) as handle:
        return handle.read(SAMPLE_BYTES)


def rereadable(source: str) -> bool:
    """Whether `source` can be read twice (a regular file, not stdin or a pipe)."""
    return source != "-" and os.path.isfile(source)


def read_bytes(source: str) -> bytes:
    """The whole of `source` ('-' is stdin), for sources that can be read only once."""
    if source == "-":
        if sys.stdin is None:   # started with stdin closed (`<&-`)
            raise DataError("standard input is closed; give a CSV file or pipe one in")
        return sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    with binary(source, None) as handle:
        return handle.read()


def binary(source: str, content: bytes | None):
    """`content` (what a source that reads once held), or else the file `source`, as a binary file."""
    if content is not None:
        return io.BytesIO(content)   # shares the bytes, no copy
    if os.path.isdir(source):
        raise DataError(f"{source} is a directory, not a CSV file")
    return open(source, "rb")


@contextlib.contextmanager
def read_errors(source: str):
    """Failures to open, decode or parse `source` as one-line DataErrors."""
    try:
        yield
    except FileNotFoundError:
        raise DataError(f"file not found: {source}") from None
    except PermissionError:
        raise DataError(f"cannot read {source}: permission denied") from None
    except UnicodeError:
        raise DataError(f"{name(source)} is not text in the encoding given (--encoding; e.g. utf-8, cp1252)") from None
    except pd.errors.ParserWarning:
        raise DataError(f"rows of {name(source)} have more fields than its header names (--sep to set the "
                        "separator)") from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{name(source)} is empty") from None
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"cannot parse {name(source)} as CSV: {str(exc).strip().splitlines()[0]}") from None
    except OSError as exc:
        raise DataError(f"cannot read {source}: {exc.strerror or exc}") from None


def name(source: str) -> str:
    return "standard input" if source == "-" else source


def shown(column: str) -> str:
    """A column name for a one-line message: as it is if printable, else escaped (repr)."""
    return column if column.isprintable() and column else repr(column)


def listed(names) -> str:
    return ", ".join(shown(c) for c in names)


def ids_as_written(source: str, content: bytes | None, dialect: Dialect, column, rows: int) -> pd.Series | None:
    """The id column (a name or a position) read again as text with nothing taken for a missing
    value; None unless it has at least `rows` rows (the first `rows` are taken: blank rows
    below the data are not read).  read_csv takes texts such as NA, None or null for
    missing values, but as ids they name series (NA is Namibia, or North America); an empty
    cell is the id ''."""
    texts = parse(source, content, dialect, usecols=[column], dtype=str, na_filter=False).iloc[:, 0]
    return texts.iloc[:rows] if len(texts) >= rows else None


# ---------------------------------------------------------------------------------------------
# a big file, in pieces side by side

PIECE_BYTES = 8 << 20   # a file is parsed in pieces of at least this many bytes, side by side,
PIECES = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1  # one per core


def in_pieces(source: str, content: bytes | None, dialect: Dialect, header: list, target: str,
              dtype) -> pd.DataFrame | None:
    """parse(source, content, dialect, typed=True, dtype=dtype) for a big file, cut at line
    breaks outside quotes and its pieces parsed at once, one per core (pandas' parser lets go
    of the GIL: 169 MB took 0.61 s in one piece, 0.36 s in two).  None for a small file, a
    text encoding whose line breaks are not the byte '\\n' (UTF-16), and wherever the pieces
    might not give what one parse gives: a piece that fails or does not read as expected (a
    cut inside a quoted field, after a stray quote), pieces that inferred different kinds of
    category (numeric ids in one, text in another) — one parse reads those."""
    if dialect.encoding.lower().replace("-", "").startswith("utf16"):
        return None
    size = len(content) if content is not None else os.path.getsize(source)
    cuts = _cuts(source, content, size, min(PIECES, 1 + size // PIECE_BYTES), dialect.quotechar.encode())
    if len(cuts) == 2:
        return None
    ranges = list(zip(cuts[:-1], cuts[1:]))
    try:
        with ThreadPoolExecutor(len(ranges)) as pool:
            frames = list(pool.map(lambda r: _parse_range(source, content, dialect, *r, header, dtype), ranges))
    except ValueError:            # pandas' ParserError among them
        return None
    frames = [f for f in frames if len(f)]   # a piece of blank lines has rows of no kind
    if not frames or not all(as_expected(f, header) for f in frames):
        return None
    return _joined(frames, header, target)


def as_expected(frame: pd.DataFrame, header: list) -> bool:
    """Rows under the header's columns, and no more fields than it names."""
    return list(frame.columns) == header and isinstance(frame.index, pd.RangeIndex) and not frame.empty


def _cuts(source: str, content: bytes | None, size: int, pieces: int, quote: bytes = b'"') -> list:
    """[0, c₁, …, size]: where pieces of about size/pieces bytes begin and the last ends, each cᵢ
    just after a line break with an even number of quote characters before it (so, in a
    well-formed file, not inside a quoted field).  At the first line break with an odd count,
    the cutting stops: the rest is one piece."""
    cuts, quotes = [0], 0
    for k in range(1, pieces):
        at = _find(source, content, b"\n", max(cuts[-1], size * k // pieces))
        if at < 0 or at + 1 >= size:
            break
        quotes += sum(block.count(quote) for block in _blocks(source, content, cuts[-1], at))
        if quotes % 2:
            break
        cuts.append(at + 1)
    return cuts + [size]


def _find(source: str, content: bytes | None, byte: bytes, start: int) -> int:
    """Where `byte` (one) is first found from `start` on, or −1."""
    at = start
    for block in _blocks(source, content, start):
        found = block.find(byte)
        if found >= 0:
            return at + found
        at += len(block)
    return -1


def _blocks(source: str, content: bytes | None, start: int, end: int | None = None, size: int = 1 << 20):
    """The bytes from `start` to `end` (or the end), a block at a time: a file is not read whole."""
    with binary(source, content) as handle:
        handle.seek(start)
        while end is None or start < end:
            block = handle.read(size if end is None else min(size, end - start))
            if not block:
                return
            yield block
            start += len(block)


def _parse_range(source: str, content: bytes | None, dialect: Dialect, start: int, end: int, header: list,
                 dtype) -> pd.DataFrame:
    """The rows in bytes `start` to `end` (the piece at 0 holds the header)."""
    names = {} if start == 0 else dict(names=header, header=None)
    with io.BufferedReader(_ByteRange(binary(source, content), start, end)) as handle:
        return pd.read_csv(handle, skipinitialspace=True, index_col=False, dtype=dtype, **dialect.typed_options(),
                           **names)


class _ByteRange(io.RawIOBase):
    """Bytes `start` to `end` of a binary file object, as a file of their own."""

    def __init__(self, whole, start: int, end: int):
        self.whole = whole
        self.whole.seek(start)
        self.left = end - start

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        got = self.whole.readinto(memoryview(buffer)[:self.left]) if self.left else 0
        self.left -= got
        return got

    def close(self) -> None:
        self.whole.close()
        super().close()


def _joined(frames: list, header: list, target: str) -> pd.DataFrame | None:
    """One frame from pieces parsed with the same dtypes, as one parse gives it: the target
    concatenated, each category column with the pieces' categories merged and sorted (as
    read_csv sorts them).  None where pieces inferred different kinds of category."""
    if len(frames) == 1:
        return frames[0]
    columns = {target: np.concatenate([f[target].to_numpy() for f in frames])}
    for column in header:
        if column != target:
            kinds = {f[column].cat.categories.dtype if isinstance(f[column].dtype, pd.CategoricalDtype) else None
                     for f in frames}
            if len(kinds) > 1 or None in kinds:
                return None
            columns[column] = union_categoricals([f[column] for f in frames], sort_categories=True)
    return pd.DataFrame({column: columns[column] for column in header})
