"""Removing scraped-news noise before embedding.

Scraped articles carry lines that are not the story: photo captions and credit
lines ("Andrei Belousov (Bildnachweis: Reuters)"), share, cookie and captcha
banners ("You must enter the characters with black color ..."), bylines, and
the headline repeated inside the body. :func:`clean_text` removes them line by
line and says why each line went, so that nothing disappears unexplained.
The original text is never changed: :class:`~storyclust.Article` keeps it and
exposes the cleaned form as ``article.cleaned``.

>>> c = clean_text("Ein Absatz über den Besuch.\\n\\nAndrei Belousov (Bildnachweis: Reuters)")
>>> c.paragraphs
['Ein Absatz über den Besuch.']
>>> c.removed[0].reason
'caption'
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np

__all__ = ["CleanText", "RemovedLine", "clean_text", "sanitize_text", "split_paragraphs", "normalize_for_hash",
           "normalize_paragraphs"]

# A line longer than this is a paragraph of the story, whatever it mentions.
_MAX_NOISE_WORDS = 40

_CREDIT_WORDS = (
    r"Bildnachweis|Bildquelle|Foto|Fotos|Bild|Photo|Photos|Photograph|Image|Images|Credit|Credits|"
    r"Quelle|Picture|Crédit|Crédito|Foto di|Fonte|Fuente|Copyright"
)
_CAPTION_RES = [
    # "... (Bildnachweis: Reuters)", "... (Photo: AP)", "(AP Photo/John Doe)"
    re.compile(rf"\((?:{_CREDIT_WORDS})\s*[:/]\s*[^)]*\)\s*$", re.I),
    re.compile(r"\((?:AP|AFP|dpa|Reuters|Getty)(?: Images)? ?Photo[^)]*\)\s*$", re.I),
    # "Photo: Reuters", "Foto: dpa", "Credit: Getty Images"
    re.compile(rf"^(?:{_CREDIT_WORDS})\s*(?:by)?\s*[:/]", re.I),
    re.compile(r"^(?:photo|image|picture)s? (?:by|courtesy of)\b", re.I),
    re.compile(r"\b(?:Getty Images|Shutterstock|iStock|picture alliance|Imago Images)\s*\.?\s*$", re.I),
]

_BANNER_RES = [
    re.compile(p, re.I)
    for p in (
        r"you must enter the characters",
        r"characters with black colou?r",
        r"\bcaptcha\b",
        r"a friend wanted you to see this",
        r"^message:\s*\*",
        r"\bcookies?\b.*\b(?:use|uses|accept|policy|consent|settings|richtlinie|einstellungen|zustimm)",
        r"\b(?:we|this site|this website) uses? cookies\b",
        r"^(?:share|tweet|email|e-mail|print|pin|teilen|drucken)(?: this| on| via|\s*[|:,])",
        r"^share (?:this|on)\b",
        r"\b(?:sign up|subscribe) (?:for|to) (?:our|the)\b",
        r"\bnewsletter\b.*\b(?:sign|subscribe|abonn)",
        r"\ball rights reserved\b",
        r"^copyright\b|^©|\(c\) \d{4}",
        r"^(?:advertisement|anzeige|werbung|publicité|publicidad|pubblicità)\s*$",
        r"^(?:read more|related|see also|mehr zum thema|lesen sie auch|more:)\s*[:>»]?",
        r"^click here\b|\bclick here to\b",
        r"^follow (?:us|@)",
        r"\bjavascript\b.*\b(?:enable|disabled|aktivier)",
        r"^this material may not be published, broadcast, rewritten",
        r"^page not found\b|^404\b",
        r"^(?:loading|wird geladen)\.*\s*$",
    )
]

_BYLINE_RES = [
    # "By Jane Doe", "By JANE DOE and JOHN ROE, Associated Press", "Von Max Mustermann"
    re.compile(
        r"^(?i:by|von|par|por|di|door)\s+[A-ZÀ-Þ][\w.'’-]*(?:\s+[A-ZÀ-Þ][\w.'’-]*){0,3}"
        r"(?:\s*(?:,|and|und|et|y|e|en|&)\s*.*)?$"
    ),
    re.compile(r"^(?:reporting|writing|editing|additional reporting) by\b", re.I),
    re.compile(r"^(?:the )?(?:associated press|reuters|afp|dpa|ap)\s*$", re.I),
    re.compile(r"^(?:staff|posted|updated|published|last updated)(?: by| on)?\s*[:]", re.I),
]

# "Posted: Tuesday, January 28, 2014 8:18 PM EST" inside a line
_TIMESTAMP_RE = re.compile(
    r"\b(?:Posted|Updated|Published|Last updated|Veröffentlicht|Aktualisiert)\s*:?\s*"
    r"(?:\w+,\s*)?[\w.]+\s+\d{1,2},?\s+\d{4}(?:\s*(?:at\s*)?\d{1,2}:\d{2}\s*(?:[AP]\.?M\.?)?\s*(?:[A-Z]{2,4})?)?",
    re.I,
)
_SENTENCE_END = tuple(".!?:;\"“”»«'’)")
_WS_RE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANK_LINE_RE = re.compile(r"\n\s*\n")
_NON_WORD_RE = re.compile(r"[\W_]+")  # anything but letters and digits
# Lone UTF-16 surrogates (JSON allows "\ud800"; no encoder accepts them) and control characters other than
# tab and line breaks (NUL and friends from binary junk), plus the byte-order mark and zero-width space.
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufeff\u200b]")


@dataclass(frozen=True)
class RemovedLine:
    """A line that cleaning took out, and why (``caption``, ``banner``, ``byline``, ``headline``, ``repeat``)."""

    text: str
    reason: str


@dataclass(frozen=True)
class CleanText:
    """The story part of a scraped article.

    Attributes
    ----------
    title : str or None
        The given title, or a headline found in the body when none was given.
    paragraphs : list of str
        The body paragraphs that remain, in order, whitespace collapsed.
    removed : list of RemovedLine
        Every line that was taken out, with the reason.
    """

    title: str | None
    paragraphs: list = field(default_factory=list)
    removed: list = field(default_factory=list)

    @property
    def body(self) -> str:
        """The paragraphs joined by blank lines."""
        return "\n\n".join(self.paragraphs)

    @property
    def full(self) -> str:
        """Title and body, as one text."""
        return "\n\n".join(([self.title] if self.title else []) + self.paragraphs)


def split_paragraphs(text: str) -> list[str]:
    """Split text into paragraphs at blank lines, or at line breaks when it has no blank line.

    >>> split_paragraphs("a\\nb\\n\\nc")
    ['a\\nb', 'c']
    >>> split_paragraphs("a\\nb")
    ['a', 'b']
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _BLANK_LINE_RE.search(text):
        parts = _BLANK_LINE_RE.split(text)
    else:
        parts = text.split("\n")
    return [p.strip() for p in parts if p.strip()]


def sanitize_text(text: str) -> str:
    """Text any encoder accepts: lone surrogates become U+FFFD, control characters are dropped.

    Tabs and line breaks stay. Scraped text carries such characters (NUL bytes, a
    BOM in the middle of a page, a half-decoded emoji in JSON); left in, they
    make tokenizers fail or hash the same text two ways.

    >>> sanitize_text("a\\x00b\\ufeff c \\ud83d!")
    'ab c \\ufffd!'
    """
    return _CONTROL_RE.sub("", _SURROGATE_RE.sub("\ufffd", text))


def normalize_for_hash(text: str) -> str:
    """Lower-case, NFKC-normalised text without punctuation, for exact-duplicate hashing."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_NON_WORD_RE.sub(" ", text).split())


def normalize_paragraphs(paragraphs: list[str]) -> list[str]:
    """:func:`normalize_for_hash` of each paragraph (its own line breaks become spaces), in one pass.

    The punctuation is found with a table of code points rather than a regular
    expression, the larger part of the cost on long texts.

    >>> normalize_paragraphs(["Der Ausschuss\\ntagt -- heute.", "Straße, 2 km!"])
    ['der ausschuss tagt heute', 'strasse 2 km']
    """
    if not paragraphs:
        return []
    text = unicodedata.normalize("NFKC", "\n".join(p.replace("\n", " ") for p in paragraphs)).casefold()
    c = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    keep = _alnum_table()[np.minimum(c, 0xFFFF)]
    astral = np.flatnonzero(c > 0xFFFF)
    keep[astral] = [chr(x).isalnum() for x in c[astral]]
    line_end = c == 10
    c = np.where(keep | line_end, c, np.uint32(32))
    space = c == 32
    # no space at the start or end of a line, none after another
    c = c[~(space & (np.concatenate(([True], (space | line_end)[:-1])) | np.append(line_end[1:], True)))]
    c = c[~((c == 32) & np.append(c[1:] == 10, True))]
    return c.tobytes().decode("utf-32-le").split("\n")


@functools.cache
def _alnum_table() -> np.ndarray:
    """Which code points of the Basic Multilingual Plane are letters or digits (``[\\W_]`` is the rest)."""
    return np.array([chr(i).isalnum() for i in range(0x10000)], dtype=bool)


def _is_headline_like(line: str) -> bool:
    words = line.split()
    return 3 <= len(words) <= 25 and not line.endswith(_SENTENCE_END) and line[:1].isupper()


def _noise_reason(line: str) -> str | None:
    if len(line.split()) > _MAX_NOISE_WORDS:
        return None
    if any(r.search(line) for r in _BANNER_RES):
        return "banner"
    if any(r.search(line) for r in _CAPTION_RES):
        return "caption"
    if any(r.search(line) for r in _BYLINE_RES):
        return "byline"
    return None


def clean_text(text: str, title: str | None = None, *, infer_title: bool = True) -> CleanText:
    """Remove captions, credits, banners, bylines and repeated headlines from ``text``.

    Parameters
    ----------
    text : str
        The scraped article body.
    title : str, optional
        The article's headline; lines in the body that repeat it are removed.
    infer_title : bool, default True
        When no title is given, take a headline-like first or last line
        (3 to 25 words, no sentence-final punctuation) as the title and remove
        it from the body.

    >>> c = clean_text("By Jane Doe\\n\\nThe storm closed the port.\\n\\nStorm closes port\\n\\nShare this article",
    ...                title="Storm closes port")
    >>> c.title, c.paragraphs
    ('Storm closes port', ['The storm closed the port.'])
    >>> [(r.reason, r.text) for r in c.removed]
    [('byline', 'By Jane Doe'), ('headline', 'Storm closes port'), ('banner', 'Share this article')]
    """
    removed: list[RemovedLine] = []
    kept: list[str] = []
    seen: set[str] = set()
    text = sanitize_text(text)
    title = sanitize_text(title) if title else title
    title_key = normalize_for_hash(title) if title else None
    for para in split_paragraphs(text):
        lines = []
        for raw in para.split("\n"):
            line = _WS_RE.sub(" ", _TIMESTAMP_RE.sub(" ", raw)).strip()
            if not line:
                continue
            reason = _noise_reason(line)
            key = normalize_for_hash(line)
            if reason is None and title_key and key == title_key:
                reason = "headline"
            if reason is None and key in seen and len(line.split()) <= _MAX_NOISE_WORDS:
                reason = "repeat"
            if reason:
                removed.append(RemovedLine(raw.strip(), reason))
                continue
            seen.add(key)
            lines.append(line)
        if lines:
            kept.append(" ".join(lines))
    if title is None and infer_title and len(kept) > 1:
        for pos in (0, len(kept) - 1):
            if _is_headline_like(kept[pos]):
                title = kept.pop(pos)
                removed.append(RemovedLine(title, "headline"))
                break
    return CleanText(title=title.strip() if title else title, paragraphs=kept, removed=removed)
