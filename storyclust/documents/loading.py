"""Reading articles from files, folders, DataFrames and lists of dicts."""

from __future__ import annotations

import csv
import difflib
import email.utils
import itertools
import json
import math
import os
import re
import sys
import warnings
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..errors import InputError
from .article import Article

__all__ = ["as_articles", "load_articles", "iter_articles", "ArticleList", "SkippedRecord", "SUPPORTED_SUFFIXES"]

SUPPORTED_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".parquet", ".txt", ".md", ".html", ".htm")
_KNOWN = ("id", "text", "title", "date", "lang", "url", "source", "html")
_CSV_DELIMITERS = ",;\t|"
# Field names other datasets use; used only when the standard name is absent.
_ALIASES = {"id": ("doc_id",), "text": ("body", "content")}
_BAD_BYTE_RE = re.compile("[\udc80-\udcff]")  # what errors="surrogateescape" makes of a non-UTF-8 byte


@dataclass(frozen=True)
class SkippedRecord:
    """A record that ``load_articles(..., errors="skip")`` left out, and why."""

    where: str
    field: str | None
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: " + (f"field '{self.field}': " if self.field else "") + self.reason


class ArticleList(list):
    """A list of :class:`Article` with the records that were skipped in ``skipped``."""

    def __init__(self, items=(), skipped=()):
        super().__init__(items)
        self.skipped: list[SkippedRecord] = list(skipped)


@dataclass(frozen=True)
class _Options:
    """How files are read: the CSV delimiter (None: guessed from the header) and column names of a CSV
    without a header row."""

    delimiter: str | None = None
    columns: tuple | None = None
    quotechar: str = '"'
    id_field: str | None = None    # the user's name for the id (``fields["id"]``)


def load_articles(source: Any, *, errors: str = "raise", fields: dict | None = None,
                  delimiter: str | None = None, columns=None, quotechar: str = '"') -> ArticleList:
    """Read articles from any supported source.

    Parameters
    ----------
    source : path, DataFrame, list of dict or list of Article
        A JSONL (``.jsonl``/``.ndjson``), JSON array, CSV or Parquet file; a
        plain-text file (``.txt``/``.md``: one article, its id the file name
        without suffix); a web page (``.html``/``.htm``: title, date, site and
        main text extracted by trafilatura); a folder of such files (read
        recursively, in name order); ``"-"`` for JSONL on standard input; a
        pandas DataFrame; or a list of dicts or :class:`Article`. A record
        with an ``html`` field and no text is extracted the same way.
    errors : {"raise", "skip"}
        ``"raise"`` (default) stops at the first bad record with an
        :class:`~storyclust.errors.InputError` naming the file and line (or
        record) and the field. ``"skip"`` leaves bad records out, lists them in
        the result's ``skipped`` attribute and warns once with their number.
    fields : dict, optional
        Map from storyclust's field names to yours, e.g. ``{"id": "doc_id"}``.
        Without it, ``doc_id`` is used when there is no ``id``, and ``body`` or
        ``content`` when there is no ``text``.
    delimiter : str, optional
        The CSV delimiter; default: whichever of ``, ; tab |`` the header row
        holds most often.
    columns : list of str, optional
        Column names of a CSV file without a header row (every row is then
        data). A CSV without an id column gets each row's line number as id.
    quotechar : str, default '"'
        The CSV quote character (10kGNAD, for one, quotes with ``'``).

    Records need ``id`` (unique, string or integer) and ``text``; a record
    whose text is empty is kept when it has a title (the title is its content);
    ``title``, ``date`` (see :func:`parse_date`), ``lang``, ``url``, ``source`` are optional;
    other fields are kept in ``article.extra``.

    >>> arts = load_articles([{"id": 1, "text": "Hello.", "date": "2024-11-29", "section": "world"}])
    >>> arts[0].id, arts[0].date.year, arts[0].extra
    ('1', 2024, {'section': 'world'})
    """
    out = ArticleList()
    out.extend(iter_articles(source, errors=errors, fields=fields, skipped=out.skipped, delimiter=delimiter,
                             columns=columns, quotechar=quotechar))
    if out.skipped:
        warnings.warn(
            f"load_articles skipped {len(out.skipped)} invalid record(s); see .skipped "
            f"(first: {out.skipped[0]})", stacklevel=2,
        )
    return out


def as_articles(X: Any) -> list[Article] | None:
    """``X`` as a list of articles when it holds texts, else None (numbers: a matrix of vectors).

    Reads what people pass to a clusterer: Articles, plain strings (ids ``"0"``, ``"1"``, ... in order), dicts,
    a pandas Series of texts or a DataFrame with a text column (ids from the index unless it has an id
    column), or a path; anything :func:`load_articles` reads is read by it.
    """
    if isinstance(X, (str, os.PathLike)):
        return list(load_articles(X))
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(X, pd.Series) and X.map(lambda v: isinstance(v, str)).all():
        X = X.rename("text").to_frame()
    if pd is not None and isinstance(X, pd.DataFrame):
        columns = set(map(str, X.columns))
        if not {"text", "html", *_ALIASES["text"]} & columns:
            return None
        if not {"id", *_ALIASES["id"]} & columns:  # the DataFrame's index names the rows
            X = X.assign(id=X.index.astype(str))
        return list(load_articles(X))
    if not isinstance(X, (list, tuple)) or not len(X):
        return None
    kinds = {type(x) for x in X}
    if all(isinstance(x, Article) for x in X):
        return list(X)
    if all(isinstance(x, str) for x in X):
        return list(load_articles([{"id": str(i), "text": t} for i, t in enumerate(X)]))
    if all(isinstance(x, (dict, Article)) for x in X):
        return list(load_articles(X))
    if kinds & {str, dict, Article}:
        raise InputError(f"mixed input ({', '.join(sorted(k.__name__ for k in kinds))}); pass texts, dicts or "
                         "Articles, all of one kind (load_articles reads files and DataFrames)")
    return None


def iter_articles(source: Any, *, errors: str = "raise", fields: dict | None = None,
                  skipped: list | None = None, delimiter: str | None = None, columns=None,
                  quotechar: str = '"') -> Iterator[Article]:
    """Articles one at a time, as :func:`load_articles` reads them, for sources too big for memory.

    With ``errors="skip"``, each record left out is appended to ``skipped``
    (a list you pass in) as a :class:`SkippedRecord`. Ids seen so far are
    remembered, to refuse a repeated one.

    >>> skipped = []
    >>> [a.id for a in iter_articles([{"id": 1, "text": "a"}, {"text": "no id"}], errors="skip", skipped=skipped)]
    ['1']
    >>> str(skipped[0])
    "record 1: field 'id': missing id; every article needs a unique 'id'"
    """
    if errors not in ("raise", "skip"):
        raise InputError(f"errors must be 'raise' or 'skip', not {errors!r}", field="errors")
    fields = dict(fields or {})
    unknown = set(fields) - set(_KNOWN)
    if unknown:
        raise InputError(f"unknown storyclust fields {sorted(unknown)}; use some of {list(_KNOWN)}", field="fields")
    for name, char in (("delimiter", delimiter), ("quotechar", quotechar)):
        if char is not None and (not isinstance(char, str) or len(char) != 1):
            raise InputError(f"{name} must be one character, got {char!r}", field=name)
    if columns is not None:
        if isinstance(columns, str):
            columns = columns.split(",")
        columns = tuple(str(c).strip() for c in columns)
        if not columns or not all(columns) or len(set(columns)) != len(columns):
            raise InputError(f"columns must be distinct, non-empty names, got {list(columns)!r}", field="columns")
    options = _Options(delimiter, columns, quotechar, fields.get("id"))
    return _iter_articles(source, errors, fields, [] if skipped is None else skipped, options)


def _iter_articles(source, errors, fields, skipped, options) -> Iterator[Article]:
    first_seen: dict[str, str] = {}
    for where, record in _records(source, options):
        try:
            if isinstance(record, InputError):
                raise record
            art = record if isinstance(record, Article) else _to_article(record, where, fields)
            if art.id in first_seen:
                raise InputError(
                    f"duplicate id {art.id!r} (first seen at {first_seen[art.id]}); ids must be unique",
                    where=where, field="id",
                )
            first_seen[art.id] = where
        except InputError as e:
            if errors == "raise":
                raise
            skipped.append(SkippedRecord(e.where or where, e.field, e.reason))
            continue
        yield art


# ---------------------------------------------------------------- records

def _records(source: Any, options: _Options) -> Iterator[tuple[str, Any]]:
    """Yield (where, record dict | Article | InputError) from any source."""
    if isinstance(source, str) and source == "-":
        yield from _jsonl_records(sys.stdin.buffer, "<stdin>")
        return
    if isinstance(source, (str, os.PathLike)):
        yield from _path_records(Path(source), options)
        return
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        pd = None
    if pd is not None and isinstance(source, pd.DataFrame):
        for i, rec in enumerate(source.to_dict("records")):
            yield f"row {i}", rec
        return
    if isinstance(source, (dict, bytes)) or not isinstance(source, Iterable):
        raise InputError(
            f"cannot read articles from a {type(source).__name__}; pass a path, a DataFrame or a list of dicts"
        )
    for i, rec in enumerate(source):
        if not isinstance(rec, (dict, Article)):
            yield f"record {i}", InputError(f"expected a dict or Article, got {type(rec).__name__}")
        else:
            yield f"record {i}", rec


def _path_records(path: Path, options: _Options) -> Iterator[tuple[str, Any]]:
    if not path.exists():
        raise InputError("no such file or folder", where=str(path))
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        if not files:
            raise InputError(f"folder holds no file ending in {', '.join(SUPPORTED_SUFFIXES)}", where=str(path))
        for f in files:
            yield from _file_records(f, options, base=path)
        return
    yield from _file_records(path, options)


def _decode(data: bytes, where: str, whole_file: bool = True) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        at = f"at byte {e.start} (line {line})" if whole_file else f"at column {e.start + 1}"
        raise InputError(f"invalid UTF-8 {at}", where=where) from None


def _jsonl_records(fh, name: str) -> Iterator[tuple[str, Any]]:
    for lineno, raw in enumerate(fh, 1):
        where = f"{name}:{lineno}"
        if not raw.strip():
            continue
        try:
            text = _decode(raw, where, whole_file=False)
            rec = json.loads(text)
        except InputError as e:
            yield where, e
            continue
        except json.JSONDecodeError as e:
            yield where, InputError(f"broken JSON: {e.msg.removesuffix(' at')} (column {e.colno})", where=where)
            continue
        if not isinstance(rec, dict):
            yield where, InputError(f"expected a JSON object, got {type(rec).__name__}", where=where)
            continue
        yield where, rec


def _file_records(path: Path, options: _Options, base: Path | None = None) -> Iterator[tuple[str, Any]]:
    name = str(path)
    suffix = path.suffix.lower()
    rel = path.relative_to(base) if base else Path(path.name)
    if suffix in (".jsonl", ".ndjson"):
        with open(path, "rb") as fh:
            yield from _jsonl_records(fh, name)
    elif suffix == ".json":
        data = json.loads(_decode(path.read_bytes(), name))
        if not isinstance(data, list):
            raise InputError("a .json file must hold a list of objects (use .jsonl for one object per line)", where=name)
        for i, rec in enumerate(data):
            yield f"{name}[{i}]", rec if isinstance(rec, dict) else InputError("expected an object", where=f"{name}[{i}]")
    elif suffix == ".csv":
        # Read row by row; bytes that are not UTF-8 become lone surrogates, so only the rows holding them fail.
        with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as fh:
            yield from _csv_records(fh, name, options)
    elif suffix == ".parquet":
        import pyarrow.parquet as pq

        row = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=1024):  # one batch in memory at a time
            for rec in batch.to_pylist():
                yield f"{name}:row {row}", rec
                row += 1
    elif suffix in (".txt", ".md"):
        try:
            yield name, {"id": str(rel.with_suffix("")), "text": _decode(path.read_bytes(), name)}
        except InputError as e:
            yield name, e
    elif suffix in (".html", ".htm"):
        # bytes: the page's own <meta charset> decides, not UTF-8
        yield name, {"id": str(rel.with_suffix("")), "html": path.read_bytes()}
    else:
        raise InputError(f"unsupported file type {suffix!r}; use one of {', '.join(SUPPORTED_SUFFIXES)}", where=name)


def _csv_records(fh, name: str, options: _Options) -> Iterator[tuple[str, Any]]:
    start = 1 if options.columns else 2  # the header, when there is one, is line 1
    first = fh.readline()
    delimiter = options.delimiter or _guess_delimiter(first)
    lines = itertools.chain([first], fh)
    reader = csv.DictReader(lines, fieldnames=list(options.columns) if options.columns else None,
                            delimiter=delimiter, quotechar=options.quotechar)
    if reader.fieldnames and any(_BAD_BYTE_RE.search(f) for f in reader.fieldnames):
        raise InputError("invalid UTF-8 in the header", where=f"{name}:1")
    line_ids = reader.fieldnames is not None and not ({"id", *_ALIASES["id"], options.id_field} &
                                                      set(reader.fieldnames))
    for rec in reader:
        where = f"{name}:{start}"
        if line_ids:
            rec["id"] = str(start)
        start = reader.line_num + 1
        if None in rec:
            how = "" if options.delimiter else ", guessed from the header"
            yield where, InputError(f"row has more columns than the header (delimiter {delimiter!r}{how}; pass "
                                    "the file's own as delimiter=, or --delimiter)", where=where)
            continue
        bad = next((k for k, v in rec.items() if v and _BAD_BYTE_RE.search(v)), None)
        if bad is not None:
            yield where, InputError("invalid UTF-8", where=where, field=bad)
            continue
        yield where, {k: (v if v != "" else None) for k, v in rec.items()}


def _guess_delimiter(header: str) -> str:
    """The delimiter a CSV header row holds most often (a comma when it holds none)."""
    counts = {d: header.count(d) for d in _CSV_DELIMITERS}
    best = max(counts, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


# ---------------------------------------------------------------- fields

def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:  # pandas.NA, NaT
        import pandas as pd

        return v is pd.NA or v is pd.NaT
    except ImportError:  # pragma: no cover
        return False


def _get(rec: dict, name: str, fields: dict) -> Any:
    if name in fields:
        return rec.get(fields[name])
    if name in rec:
        return rec[name]
    for alias in _ALIASES.get(name, ()):
        if alias in rec:
            return rec[alias]
    return None


def _used_key(rec: dict, name: str, fields: dict) -> str | None:
    if name in fields:
        return fields[name]
    if name in rec:
        return name
    return next((a for a in _ALIASES.get(name, ()) if a in rec), None)


# Date strings accepted besides ISO 8601, RFC 2822 and slash dates (_SLASH_DATE_RE), tried in this order. Month
# names may be English or German; a leading weekday is ignored.
_DATE_FORMATS = (
    "%Y/%m/%d", "%Y/%m/%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y%m%d",
    "%d.%m.%Y", "%d.%m.%Y %H:%M", "%d.%m.%Y, %H:%M", "%d.%m.%Y %H:%M:%S",
    "%B %d, %Y", "%B %d %Y", "%b %d, %Y", "%b %d %Y", "%b. %d, %Y",
    "%B %d, %Y %I:%M %p", "%B %d, %Y %H:%M", "%b %d, %Y %I:%M %p",
    "%d %B %Y", "%d. %B %Y", "%d %b %Y", "%d. %b %Y", "%d %B %Y %H:%M", "%d. %B %Y, %H:%M", "%d. %B %Y %H:%M",
)
_GERMAN_MONTHS = {
    "januar": "January", "jänner": "January", "februar": "February", "märz": "March", "maerz": "March",
    "april": "April", "mai": "May", "juni": "June", "juli": "July", "august": "August",
    "september": "September", "oktober": "October", "november": "November", "dezember": "December",
}
_WEEKDAY_RE = re.compile(
    r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun|montag|dienstag|mittwoch|donnerstag|freitag|samstag|"
    r"sonntag)[a-z]*\.?,?\s+", re.I)
_GERMAN_MONTH_RE = re.compile(r"\b(" + "|".join(_GERMAN_MONTHS) + r")\b", re.I)
# "Tue, 10 Mar 2015 14:00:00 GMT" (email.utils alone is lenient: it would read "March 10, 2015 2:30 PM" as 02:30)
_RFC2822_RE = re.compile(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{2,4}\s+\d{1,2}:\d{2}")
# Unix time: seconds, or milliseconds when larger than this (year 5138 in seconds)
_EPOCH_MS_ABOVE = 1e11
_EPOCH_RE = re.compile(r"^\d{9,13}(?:\.\d+)?$")
# 03/04/2015, 13/04/2015: day and month in either order, told apart only when one is above 12 (10.03.2015
# is German and day-first, read by _DATE_FORMATS)
_SLASH_DATE_RE = re.compile(r"^(\d{1,2})[/-](\d{1,2})[/-](\d{4})$")


def parse_date(value: Any, where: str | None = None) -> datetime | None:
    """A date or datetime as a naive UTC ``datetime``; None for a missing value.

    Accepts ``datetime``/``date``/pandas ``Timestamp``; Unix time as a number
    (seconds, or milliseconds above 1e11), also as a string of 9 to 13 digits;
    and strings in ISO 8601, RFC 2822
    (``Tue, 10 Mar 2015 14:00:00 GMT``), ``2015/03/10``, ``10.03.2015``,
    ``March 10, 2015``, ``10 March 2015`` or ``10. März 2015`` (with a time
    or a weekday in front). Times with a zone are converted to UTC; times
    without one are taken as UTC. ``13/04/2015`` and ``04/13/2015`` are read
    (the number above 12 is the day); ``03/04/2015`` is refused as ambiguous.
    Anything else raises an :class:`~storyclust.errors.InputError` naming
    the record and the ``date`` field.

    >>> [str(parse_date(v)) for v in ("2015-03-10T15:00+01:00", "Tue, 10 Mar 2015 14:00:00 GMT",
    ...                                 "10. März 2015", "Tuesday, March 10, 2015", 1425996000)]
    ['2015-03-10 14:00:00', '2015-03-10 14:00:00', '2015-03-10 00:00:00', '2015-03-10 00:00:00', '2015-03-10 14:00:00']
    """
    if _missing(value) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and _EPOCH_RE.match(value.strip()):  # Unix time from a CSV cell
        value = float(value)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        seconds = value / 1000 if abs(value) > _EPOCH_MS_ABOVE else value
        try:
            dt = datetime.fromtimestamp(seconds, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise InputError(f"{value!r} is out of range for Unix time", where=where, field="date") from None
    elif isinstance(value, str):
        dt = _parse_date_string(value.strip(), where)
        if dt is None:
            raise InputError(
                f"cannot parse {value!r} as a date; use ISO 8601 (e.g. 2024-11-29 or 2024-11-29T10:00:00Z)",
                where=where, field="date")
    else:
        raise InputError(f"expected a date string or Unix time, got {type(value).__name__}", where=where,
                         field="date")
    if hasattr(dt, "to_pydatetime"):
        dt = dt.to_pydatetime()
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc).replace(tzinfo=None)
    return dt


def _parse_date_string(text: str, where: str | None = None) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    slash = _SLASH_DATE_RE.match(text)
    if slash:
        a, b, year = (int(x) for x in slash.groups())
        if a <= 12 and b <= 12 and a != b:
            raise InputError(f"{text!r} is ambiguous: day {a} of month {b}, or month {a} day {b}; write it as "
                             f"ISO 8601 ({year}-{b:02d}-{a:02d} or {year}-{a:02d}-{b:02d})", where=where,
                             field="date")
        day, month = (a, b) if a > 12 else (b, a)  # the number above 12 is the day
        try:
            return datetime(year, month, day)
        except ValueError:
            return None
    if _RFC2822_RE.match(text):
        try:
            return email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            pass
    text = _GERMAN_MONTH_RE.sub(lambda m: _GERMAN_MONTHS[m.group(1).lower()], _WEEKDAY_RE.sub("", text))
    text = " ".join(text.split())
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _opt_str(rec: dict, name: str, fields: dict, where: str) -> str | None:
    v = _get(rec, name, fields)
    if _missing(v):
        return None
    if not isinstance(v, str):
        raise InputError(f"expected a string, got {type(v).__name__}", where=where, field=name)
    return v


def _no_text_field(rec: dict, fields: dict) -> str:
    """The message for a record without a text field: the fields it has, and the likeliest one to map."""
    name = fields.get("text", "text")
    strings = [k for k in rec if k not in _KNOWN and isinstance(rec[k], str)]
    guess = (difflib.get_close_matches(name, strings, n=1, cutoff=0.5)
             or sorted(strings, key=lambda k: -len(rec[k]))[:1])
    hint = f"; if the text is in {guess[0]!r}, pass fields={{'text': {guess[0]!r}}}" if guess else ""
    return (f"no {name!r} field" + ("" if name != "text" else " (nor 'body' or 'content')")
            + f"; this record has {sorted(map(str, rec))}{hint}")


def _from_html(page, where: str) -> dict:
    """Title, date, site, address and main text of a web page, extracted by trafilatura."""
    try:
        import trafilatura
    except ImportError:  # pragma: no cover - a dependency
        raise InputError("reading HTML needs trafilatura: pip install trafilatura", where=where) from None
    doc = trafilatura.bare_extraction(page, with_metadata=True, include_comments=False)
    if doc is None or not (doc.text or "").strip():
        raise InputError("no article text found in the HTML page", where=where, field="html")
    lines = [line.strip() for line in doc.text.splitlines() if line.strip()]
    if doc.title and lines and lines[0] == doc.title.strip():
        lines = lines[1:]  # trafilatura repeats the headline as the first line
    return {"text": "\n\n".join(lines), "title": doc.title, "date": doc.date, "url": doc.url,
            "source": doc.sitename or doc.hostname}


def _to_article(rec: dict, where: str, fields: dict) -> Article:
    raw_id = _get(rec, "id", fields)
    if _missing(raw_id) or (isinstance(raw_id, str) and not raw_id.strip()):
        raise InputError("missing id; every article needs a unique 'id'", where=where, field="id")
    if isinstance(raw_id, bool) or not isinstance(raw_id, (str, int)):
        if isinstance(raw_id, float) and raw_id.is_integer():
            raw_id = int(raw_id)
        else:
            raise InputError(f"id must be a string or integer, got {type(raw_id).__name__}", where=where, field="id")
    art_id = str(raw_id)
    where_id = f"{where} (id {art_id!r})"
    text = _get(rec, "text", fields)
    page = _get(rec, "html", fields)
    if _used_key(rec, "text", fields) is None and _missing(page):
        raise InputError(_no_text_field(rec, fields), where=where_id, field="text")
    if _missing(text) and not _missing(page):
        rec = {**_from_html(page, where_id), **{k: v for k, v in rec.items() if not _missing(v)}}
        text = rec["text"]
    if _missing(text):
        text = ""
    if not isinstance(text, str):
        raise InputError(f"expected a string, got {type(text).__name__}", where=where_id, field="text")
    title = _opt_str(rec, "title", fields, where_id)
    if not text.strip() and not (title and title.strip()):
        raise InputError("empty text and no title; an article needs one of them", where=where_id, field="text")
    used = {_used_key(rec, n, fields) for n in _KNOWN} | {"html"}
    extra = {k: v for k, v in rec.items() if k not in used}
    return Article(
        id=art_id,
        text=text,
        title=title,
        date=parse_date(_get(rec, "date", fields), where_id),
        lang=_opt_str(rec, "lang", fields, where_id),
        url=_opt_str(rec, "url", fields, where_id),
        source=_opt_str(rec, "source", fields, where_id),
        extra=extra,
    )
