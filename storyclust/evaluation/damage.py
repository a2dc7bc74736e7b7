"""Damaged copies of an article's text, the way print, OCR, web extraction and syndication alter reprints.

A near-duplicate detector is only as good as the damage it was checked on.
Each function takes a text and a :class:`random.Random` and returns the
damaged copy; :data:`DAMAGE` names them, so that benchmarks and tests draw
copies by kind (``benchmarks/dedup.py`` reports recall per kind).

- ``ocr``: 3-6 % of the letters misread, as in digitised print and PDF
  extraction (glyph confusions, dropped and doubled letters, lost spaces);
- ``abridged``: only the first third to half of the article, cut at a
  sentence end, sometimes with a line of the publisher's boilerplate;
- ``re-led``: the first sentences replaced by another outlet's own lede
  (some of their words in another frame);
- ``print``: lines wrapped at a column with end-of-line hyphens, a running
  page header, and a little OCR noise;
- ``web``: HTML entities and mojibake left by a careless extractor,
  paragraphs run together or split per sentence, "Related" links in the text;
- ``wire``: a desk's style edits (numbers as words or digits, quotation
  marks, US/UK spelling, "percent"/"%").

>>> import random
>>> text = "The council approved the new budget on Monday. Spending on schools rises by four percent."
>>> damage(text, "abridged", random.Random(0))
'The council approved the new budget on Monday.'
>>> sorted(DAMAGE)
['abridged', 'ocr', 'print', 're-led', 'web', 'wire']
"""

from __future__ import annotations

import random
import re
from typing import Callable, Sequence

from ..errors import InputError

__all__ = ["DAMAGE", "damage", "sentences"]

_SENTENCE_END = re.compile(r"(?<=[.!?\"”])\s+(?=[\"“A-ZÄÖÜ0-9])")
# glyphs OCR engines confuse, both ways
_GLYPHS = [("rn", "m"), ("m", "rn"), ("cl", "d"), ("li", "h"), ("e", "c"), ("c", "e"), ("o", "0"), ("O", "0"),
           ("l", "1"), ("I", "l"), ("i", "l"), ("S", "5"), ("B", "8"), ("u", "n"), ("n", "u"), ("a", "o"),
           ("h", "b"), ("f", "t"), ("t", "f"), ("ü", "u"), ("ä", "a"), ("ö", "o")]
_BOILERPLATE = ["Share this article", "Copyright 2016 The Associated Press. All rights reserved.",
                "Click here to read the full story", "Subscribe for unlimited access", "Mehr zum Thema",
                "Read more at our website"]
_LEDE_OPENINGS = ["Here is what we know:", "UPDATE:", "In the latest on this story,", "New details:",
                  "As first reported,"]
_LEDE_TAILS = ["officials said", "according to people who were there", "police said on the day",
               "as the story drew attention far beyond the region"]
_RELATED = ["Related: Top stories of the day", "Related: More news from the region", "See also: Weather and traffic"]
_MOJIBAKE = {"’": "â€™", "“": "â€œ", "”": "â€\x9d", "é": "Ã©", "ü": "Ã¼", "ö": "Ã¶", "ä": "Ã¤", "—": "â€”"}
_ENTITIES = {"'": "&#8217;", "&": "&amp;", '"': "&quot;"}
_SPELLING = [("color", "colour"), ("center", "centre"), ("neighbor", "neighbour"), ("organiz", "organis"),
             ("recogniz", "recognis"), ("defense", "defence"), ("program ", "programme "), ("percent", "per cent")]
_NUMBERS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (paragraph breaks also end one)."""
    out = []
    for para in re.split(r"\n\s*\n", text):
        out += [s for s in _SENTENCE_END.split(" ".join(para.split())) if s]
    return out


def _ocr(text: str, rng: random.Random, rate: float | None = None) -> str:
    rate = rng.uniform(0.03, 0.06) if rate is None else rate
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if not ch.isalpha() or rng.random() >= rate:
            out.append(ch)
            i += 1
            continue
        op = rng.random()
        swaps = [(a, b) for a, b in _GLYPHS if text.startswith(a, i)]
        if op < 0.45 and swaps:
            a, b = rng.choice(swaps)
            out.append(b)
            i += len(a)
            continue
        if op < 0.65:
            out.append(rng.choice("abcdefghijklmnopqrstuvwxyz"))   # misread
        elif op < 0.8:
            pass                                                   # dropped
        elif op < 0.9:
            out.append(ch + ch if rng.random() < 0.5 else ch + rng.choice(".,'"))  # doubled, speck
        else:
            out.append(ch)
            if i + 1 < len(text) and text[i + 1] == " ":          # a lost space joins two words
                i += 1
        i += 1
    return "".join(out)


def _abridged(text: str, rng: random.Random) -> str:
    sents = sentences(text)
    words = [len(s.split()) for s in sents]
    goal, total, cut = rng.uniform(1 / 3, 1 / 2) * sum(words), 0, 0
    while cut < len(sents) and (total < goal or cut == 0):
        total += words[cut]
        cut += 1
    paras, kept = [], 0  # keep the paragraph breaks of what is left
    for para in re.split(r"\n\s*\n", text):
        s = sentences(para)[: cut - kept]
        if s:
            paras.append(" ".join(s))
        kept += len(s)
        if kept >= cut:
            break
    if rng.random() < 0.5 and len(sents) > 1:
        paras.append(rng.choice(_BOILERPLATE))
    return "\n\n".join(paras)


def _re_led(text: str, rng: random.Random) -> str:
    paras = [sentences(p) for p in re.split(r"\n\s*\n", text)]
    paras = [p for p in paras if p]
    drop = 1 if sum(map(len, paras)) < 6 else rng.randint(1, 2)
    dropped = []
    while drop and paras:
        dropped.append(paras[0].pop(0))
        drop -= 1
        if not paras[0]:
            paras.pop(0)
    # the desk's own lede: the facts of the dropped sentences (some of their words) in another frame
    facts = [w for w in " ".join(dropped).rstrip(".!?").split() if rng.random() < 0.6] or ["News"]
    lede = f"{rng.choice(_LEDE_OPENINGS)} {' '.join(facts)}, {rng.choice(_LEDE_TAILS)}."
    return "\n\n".join([lede] + [" ".join(p) for p in paras])


def _print(text: str, rng: random.Random) -> str:
    width = rng.randint(45, 70)
    lines = []
    for para in re.split(r"\n\s*\n", text):
        line = ""
        for w in para.split():
            if len(line) + 1 + len(w) <= width:
                line = f"{line} {w}".strip()
                continue
            if len(w) > 6 and w.isalpha() and rng.random() < 0.5:  # hyphenate across the line end
                k = rng.randint(3, len(w) - 3)
                lines.append(f"{line} {w[:k]}-".strip())
                line = w[k:]
            else:
                lines.append(line)
                line = w
        lines.append(line)
    header = f"{rng.randint(2, 40)} THE DAILY {rng.choice(['STAR', 'HERALD', 'COURIER'])} TUESDAY"
    for pos in range(rng.randint(20, 40), len(lines), 45):
        lines.insert(pos, header)
    return _ocr("\n".join(lines), rng, rng.uniform(0.005, 0.015))


def _web(text: str, rng: random.Random) -> str:
    table = _MOJIBAKE if rng.random() < 0.5 else {}
    table = {**table, **(_ENTITIES if rng.random() < 0.6 else {})}
    out = "".join(table.get(ch, ch) for ch in text)
    sents = sentences(out)
    layout = rng.random()
    if layout < 0.4:
        paras = [" ".join(sents)]
    elif layout < 0.8:
        paras = sents
    else:
        paras = re.split(r"\n\s*\n", out)
    for _ in range(rng.randint(1, 2)):
        paras.insert(rng.randrange(len(paras) + 1), rng.choice(_RELATED))
    return "\n\n".join(paras)


def _wire(text: str, rng: random.Random) -> str:
    def number(m):
        n = int(m.group())
        return _NUMBERS[n] if n < 10 and rng.random() < 0.8 else m.group()

    def word(m):
        w = m.group()
        return str(_NUMBERS.index(w.lower())) if rng.random() < 0.5 else w

    out = re.sub(r"\b\d\b", number, text)
    out = re.sub(r"\b(?:" + "|".join(_NUMBERS[2:]) + r")\b", word, out, flags=re.I)
    for us, uk in _SPELLING:
        out = out.replace(us, uk)
    out = out.replace("“", '"').replace("”", '"').replace("’", "'") if rng.random() < 0.5 else \
        re.sub(r'"([^"]*)"', r"“\1”", out)
    return out.replace(" per cent", "%") if rng.random() < 0.5 else out


DAMAGE: dict[str, Callable[[str, random.Random], str]] = {
    "ocr": _ocr, "abridged": _abridged, "re-led": _re_led, "print": _print, "web": _web, "wire": _wire}


def damage(text: str, kind: str | Sequence[str], rng: random.Random) -> str:
    """``text`` with the damage ``kind`` (a name of :data:`DAMAGE`, or several applied in order)."""
    for k in [kind] if isinstance(kind, str) else kind:
        if k not in DAMAGE:
            raise InputError(f"unknown damage {k!r}; choose from {sorted(DAMAGE)}", field="kind")
        text = DAMAGE[k](text, rng)
    return text
