"""Bad and odd input: how each case is handled, end to end (load → dedup → storylines).

    python benchmarks/robustness.py [--out benchmarks/results/robustness.md]

Every case is a small file such as a crawler would hand over, written fresh by
this script. For each one the table shows what ``load_articles`` did in its
default mode (``errors="raise"``: the first error message, which must name the
file, line or id and the field), what it did with ``errors="skip"`` (records
loaded and skipped), and whether every loaded id came out of dedup and of the
storyline clusterer exactly once. ``tests/test_robustness.py`` runs the same
cases and checks the expectations written next to each one.
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, markdown_table, parser, write_results  # noqa: E402

from storyclust import Embedder, InputError, StoryClusterer, find_duplicates, load_articles  # noqa: E402

STORY = ("Police arrested a 24-year-old man on Tuesday in connection with the shooting outside the station. "
         "Officers said the suspect was found at a house two streets away and did not resist.")
OTHER = ("The city council approved the new budget after a six-hour debate. Spending on schools rises by four "
         "percent, and money is set aside to repair the old bridge over the river.")


@dataclass
class Case:
    """One input file, and what storyclust must make of it."""

    name: str
    filename: str
    content: bytes
    valid: list                  # ids that must be loaded (in this order) and come out of every stage once
    skipped: list = field(default_factory=list)  # (line or where-suffix, field) of each record skipped
    check: object = None         # optional callable(articles) -> None with extra assertions


def _jsonl(*records, raw_lines=()) -> bytes:
    lines = [json.dumps(r, ensure_ascii=False) for r in records]
    for pos, raw in raw_lines:
        lines.insert(pos, raw)
    return ("\n".join(lines) + "\n").encode("utf-8")


def _csv(df: pd.DataFrame) -> bytes:
    return df.to_csv(index=False, lineterminator="\r\n").encode("utf-8")


def cases() -> list[Case]:
    big_para = ("The flood reached the old town on Tuesday and the river kept rising through the night, "
                "officials said. ") * 10
    big = "\n\n".join(f"{i}. {big_para}" for i in range(5_000))  # about 5 MB
    mixed = ("Москва: Полиция задержала подозреваемого. 東京で地震が発生しました。 القاهرة: الشرطة تعتقل مشتبهاً به. "
             "ירושלים: המשטרה עצרה חשוד. मुंबई में बारिश। Berlin: Die Polizei nahm einen Mann fest. 🚓🚨")
    bad_csv = (b'id,text\r\nc1,"' + STORY.encode() + b'"\r\nc2,"caf\xe9 au lait, "\r\nc3,"'
               + OTHER.encode() + b'"\r\n')
    return [
        Case("empty and whitespace-only text", "empty.jsonl",
             _jsonl({"id": "e1", "text": ""}, {"id": "e2", "text": " \n\t "},
                    {"id": "e3", "text": "", "title": "Police arrest suspect after station shooting"},
                    {"id": "ok", "text": STORY}),
             valid=["e3", "ok"], skipped=[(":1 (id 'e1')", "text"), (":2 (id 'e2')", "text")]),
        Case("missing id", "noid.jsonl",
             _jsonl({"text": STORY}, {"id": None, "text": STORY}, {"id": "  ", "text": STORY}, {"id": 7, "text": OTHER}),
             valid=["7"], skipped=[(":1", "id"), (":2", "id"), (":3", "id")]),
        Case("duplicate ids", "dup.jsonl",
             _jsonl({"id": "d", "text": STORY}, {"id": "x", "text": OTHER}, {"id": "d", "text": OTHER}),
             valid=["d", "x"], skipped=[(":3", "id")]),
        Case("None / NaN fields", "nan.csv",
             _csv(pd.DataFrame([{"id": "n1", "text": STORY, "title": None, "date": None, "lang": float("nan")},
                                {"id": "n2", "text": OTHER, "title": "Budget passes", "date": "2024-01-02",
                                 "lang": "en"}])),
             valid=["n1", "n2"]),
        Case("5 MB article", "big.jsonl", _jsonl({"id": "big", "text": big}, {"id": "small", "text": STORY}),
             valid=["big", "small"], check=lambda arts: _assert(len(arts[0].text) > 4_900_000)),
        Case("binary bytes (NUL, control characters)", "binary.jsonl",
             _jsonl({"id": "b1", "text": "Police\x00 arrested\x07 a man\x1b after the shooting.\ufeff"},
                    {"id": "b2", "text": OTHER}),
             valid=["b1", "b2"],
             check=lambda arts: _assert(arts[0].cleaned.paragraphs == ["Police arrested a man after the shooting."])),
        Case("invalid UTF-8 in a JSONL line", "latin1.jsonl",
             _jsonl({"id": "u1", "text": STORY}) + b'{"id": "u2", "text": "caf\xe9"}\n' + _jsonl({"id": "u3", "text": OTHER}),
             valid=["u1", "u3"], skipped=[(":2", None)]),
        Case("invalid UTF-8 in a CSV row", "latin1.csv", bad_csv, valid=["c1", "c3"], skipped=[(":3", "text")]),
        Case("broken JSONL line in the middle", "broken.jsonl",
             _jsonl({"id": "j1", "text": STORY}, {"id": "j3", "text": OTHER}, raw_lines=[(1, '{"id": "j2", "text": "tru')]),
             valid=["j1", "j3"], skipped=[(":2", None)]),
        Case("CSV with embedded newlines and quotes", "quotes.csv",
             _csv(pd.DataFrame([{"id": "q1", "text": 'He said: "We will find him."\n\nThen, he left.\r\nA, B; C.'},
                                {"id": "q2", "text": OTHER}])),
             valid=["q1", "q2"],
             check=lambda arts: _assert(arts[0].text == 'He said: "We will find him."\n\nThen, he left.\r\nA, B; C.')),
        Case("dates in odd formats", "dates.jsonl",
             _jsonl({"id": "t1", "text": STORY, "date": "Tue, 10 Mar 2015 14:00:00 GMT"},
                    {"id": "t2", "text": STORY, "date": "10. März 2015, 15:00"},
                    {"id": "t3", "text": STORY, "date": "March 10, 2015 2:00 PM"},
                    {"id": "t4", "text": STORY, "date": 1425996000},
                    {"id": "t5", "text": STORY, "date": "2015-03-10T15:00:00+01:00"},
                    {"id": "t6", "text": STORY, "date": "03/10/2015"},
                    {"id": "t7", "text": STORY, "date": "gestern"}),
             valid=["t1", "t2", "t3", "t4", "t5"], skipped=[(":6 (id 't6')", "date"), (":7 (id 't7')", "date")],
             check=lambda arts: _assert(len({a.date.date() for a in arts}) == 1 and arts[0].date.hour == 14)),
        Case("20,000 characters without a space", "nospace.jsonl",
             _jsonl({"id": "s1", "text": "".join(chr(97 + (i * 7) % 26) for i in range(20_000))},
                    {"id": "s2", "text": STORY}),
             valid=["s1", "s2"]),
        Case("mixed scripts", "scripts.jsonl", _jsonl({"id": "m1", "text": mixed}, {"id": "m2", "text": STORY}),
             valid=["m1", "m2"]),
        Case("lone surrogate in JSON", "surrogate.jsonl",
             b'{"id": "h1", "text": "Half an emoji \\ud83d in a story about the shooting."}\n' + _jsonl({"id": "h2", "text": STORY}),
             valid=["h1", "h2"]),
    ]


def _assert(cond: bool) -> None:
    if not cond:
        raise AssertionError("case check failed")


@dataclass
class Outcome:
    raise_mode: str               # the error of errors="raise", or "loaded"
    loaded: list
    skipped: list                 # SkippedRecord
    dedup_ids: list
    storyline_ids: list
    seconds: float

    @property
    def every_id_once(self) -> bool:
        return sorted(self.dedup_ids) == sorted(self.loaded) == sorted(self.storyline_ids)


def run_case(case: Case, folder: Path, embedder: Embedder) -> Outcome:
    path = folder / case.filename
    path.write_bytes(case.content)
    with Timer() as t:
        try:
            load_articles(path)
            raise_mode = "loaded"
        except InputError as e:
            raise_mode = str(e)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arts = load_articles(path, errors="skip")
            if case.check:
                case.check(arts)
            dedup = find_duplicates(arts)
            est = StoryClusterer(embedder=embedder, random_state=0).fit(arts) if arts else None
    storyline_ids = [] if est is None else (
        [i for s in est.storylines_ for i in s.article_ids] + [a.id for a, lab in zip(arts, est.labels_) if lab < 0])
    return Outcome(raise_mode, [a.id for a in arts], list(arts.skipped), list(dedup.duplicate_of),
                   storyline_ids, t.seconds)


def main():
    p = parser(__doc__.splitlines()[0])
    args = p.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        embedder = Embedder(cache_dir=Path(tmp) / "cache")
        for case in cases():
            o = run_case(case, Path(tmp), embedder)
            ok = o.loaded == case.valid and [(s.where, s.field) for s in o.skipped] == [
                (str(Path(tmp) / case.filename) + w, f) for w, f in case.skipped] and o.every_id_once
            rows.append({
                "case": case.name,
                "errors='raise'": o.raise_mode.replace(tmp + "/", "").replace("|", "\\|")[:110],
                "loaded": len(o.loaded),
                "skipped (where, field)": "; ".join(f"{Path(s.where).name} {s.field or ''}".strip()
                                                    for s in o.skipped) or "-",
                "each id once in dedup & storylines": "yes" if o.every_id_once else "NO",
                "as expected": "yes" if ok else "NO",
                "seconds": round(o.seconds, 2),
            })
            print(f"{case.name}: {rows[-1]['as expected']}", file=sys.stderr)
    cols = list(rows[0])
    table = markdown_table(rows, cols)
    print(table)
    body = (__doc__.split("\n\n", 2)[2].strip() + "\n\n" + table + "\n\n"
            f"All cases as expected: {'yes' if all(r['as expected'] == 'yes' for r in rows) else 'NO'}.")
    print(f"wrote {write_results('robustness', args.out, 'Robustness: bad and odd input', body)}")


if __name__ == "__main__":
    main()
