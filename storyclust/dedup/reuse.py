"""Paragraph reuse: which paragraphs of one article appear nearly verbatim in another, and where."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

from tqdm.auto import tqdm

from ..documents import Article, split_paragraphs
from ..documents.cleaning import sanitize_text
from ..errors import InputError
from .bands import BandIndex
from .signatures import containment_estimate, signature

__all__ = ["ParagraphReuse", "find_paragraph_reuse"]

_K = 3          # word 3-grams: a 15-word paragraph has 13 of them, enough for one typo not to hide it
_NUM_PERM = 64


@dataclass(frozen=True)
class ParagraphReuse:
    """Paragraph ``source_paragraph`` of ``source`` reappears as paragraph ``target_paragraph`` of ``target``.

    ``*_start``/``*_end`` are character offsets in the article's ``text``;
    ``similarity`` is the estimated share of the shorter paragraph's word
    3-grams found in the other. ``source`` is the earlier article (by date,
    then id).
    """

    source: str
    source_paragraph: int
    source_start: int
    source_end: int
    target: str
    target_paragraph: int
    target_start: int
    target_end: int
    similarity: float

    def to_dict(self) -> dict:
        return asdict(self)


def _paragraph_spans(text: str) -> list[tuple[str, int, int]]:
    """The paragraphs of ``text`` with their character offsets in it."""
    out, pos = [], 0
    for p in split_paragraphs(text):
        first_line = p.split("\n", 1)[0]
        start = text.find(first_line, pos)
        start = pos if start < 0 else start
        last_line = p.rsplit("\n", 1)[-1]
        end = text.find(last_line, start)
        end = (end + len(last_line)) if end >= 0 else start + len(p)
        out.append((p, start, end))
        pos = end
    return out


def find_paragraph_reuse(articles: Sequence[Article], *, min_words: int = 12, threshold: float = 0.8,
                         show_progress: bool | None = None) -> list[ParagraphReuse]:
    """Every pair of paragraphs, in two different articles, that are nearly the same text.

    Paragraphs of at least ``min_words`` words are compared (shorter ones are
    bylines, datelines and boilerplate); a pair is reported when at least
    ``threshold`` of the shorter paragraph's word 3-grams are in the other.
    Reports are sorted by source, then target, then paragraph.

    >>> from storyclust import Article
    >>> wire = "The storm closed the port of Valencia on Tuesday and ferries to the islands were cancelled."
    >>> a = Article("a", wire + "\\n\\nLocal schools stayed open, the city said.")
    >>> b = Article("b", "Our reporter in Spain writes.\\n\\n" + wire.replace("Tuesday", "tuesday"))
    >>> [(r.source, r.source_paragraph, r.target, r.target_paragraph) for r in find_paragraph_reuse([a, b])]
    [('a', 0, 'b', 1)]
    """
    if not isinstance(min_words, int) or min_words < 1:
        raise InputError(f"min_words must be a positive integer, got {min_words!r}", field="min_words")
    if not 0 < threshold <= 1:
        raise InputError(f"threshold must be in (0, 1], got {threshold!r}", field="threshold")
    articles = sorted(articles, key=lambda a: a.chronological_key)  # the earlier article is the source
    bands = BandIndex(bands=_NUM_PERM // 2, rows=2)
    paras = []  # (article index, paragraph index, start, end, signature)
    out = []
    for ai, a in enumerate(tqdm(articles, desc="paragraph reuse", unit="doc",
                                disable=None if show_progress is None else not show_progress)):
        for pi, (text, start, end) in enumerate(_paragraph_spans(a.text)):
            if len(text.split()) < min_words:
                continue
            sig = signature([sanitize_text(text)], _NUM_PERM, k=_K)
            for key in bands.query(sig.values):
                sa, spi, s0, s1, ssig = paras[key]
                if sa == ai:
                    continue
                sim = containment_estimate(sig, ssig)
                if sim >= threshold:
                    out.append(ParagraphReuse(articles[sa].id, spi, s0, s1, a.id, pi, start, end, round(sim, 4)))
            bands.add(len(paras), sig.values)
            paras.append((ai, pi, start, end, sig))
    return sorted(out, key=lambda r: (r.source, r.target, r.source_paragraph, r.target_paragraph))
