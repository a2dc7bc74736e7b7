"""Names, numbers and ages: the words of an article that tell two events of one kind apart.

An article's *entity terms* are its capitalised words and its numbers, in any
language; a word that starts a sentence counts when the text capitalises it
elsewhere or it is a rare word (a dateline's town, a surname). German
capitalises every noun, so in German text a capitalised word that is a common
German word and not an English one ("Regierung", "Polizei", "Prozent"), or a
compound ending in one ("Agenturmeldungen"), is taken for a noun, not a name,
unless it follows a bare preposition as places do ("in Köln"); names of people
and places that the news of both languages use ("Putin", "Seoul") and rare names
("Schoigu", a village) stay. *Ages* ("a 17-year-old", "John Doe, 35,",
"der 19-Jährige") come from the same text.
:attr:`Article.entity_terms <storyclust.Article.entity_terms>` and
:attr:`Article.ages <storyclust.Article.ages>` keep them per article.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import InputError
from .language import guess_language, stop_words

__all__ = ["RULES_VERSION", "ages", "check_rules_version", "entity_terms", "times"]

# Bumped whenever entity_terms, ages or times return something else for the same text: a saved StoryIndex or
# StoryTracker state holds their output, which new articles' would then not match.
RULES_VERSION = 2

_AGE = re.compile(r"\b(\d{1,3})[- ]years?[- ]old\b|,\s(\d{1,2}),\s|\b(\d{1,3})-?jährige|\b(\d{1,3}) Jahre alt\b",
                  re.IGNORECASE)

# Clock times: "6 p.m.", "6:30 a.m.", "11:24pm", noon, midnight; "18 Uhr", "18.30 Uhr"; "18h30". A bare "18:30"
# is left out: it is as often a video's length or a score.
_TIME = re.compile(r"\b(\d{1,2})(?:[:.](\d{2}))?\s?([ap])\.?\s?m\b\.?|\b(noon|midnight)\b"
                   r"|\b(\d{1,2})(?:[:.](\d{2}))?\s?Uhr\b|\b(\d{1,2})h(\d{2})\b", re.IGNORECASE)

_COMMON_ZIPF = 3.0     # a common word: once per million words or more (a German noun; not a name)
_NOUN_MIN_GAP = 2.0    # and this much more common in German than in English (100 times)
_COMPOUND_MIN_TAIL = 4  # the shortest noun a compound may end in ("-land", "-kurs")
_BARE_PLACE = frozenset({"in", "aus", "nach", "bei", "von", "bis", "gegen", "über", "durch", "nahe", "zwischen"})
_SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+|\n+")
_STRIP = "\"'“”„‚‘’«»()[]{}<>.,;:!?*|/\\–—-"


def entity_terms(text: str, lang: str | None = None) -> list[str]:
    """Capitalised words and numbers, lower-cased; at a sentence start only names; in German, not its common nouns.

    A capitalised word that starts a sentence is a name too when the text
    capitalises it elsewhere, or when it is a rare word in the text's language
    (a dateline's "DOUGLASVILLE, Ga." or "Prather left no note", not "Police said").
    ``lang``: the text's language (default: :func:`~storyclust.documents.guess_language`).

    >>> entity_terms("Police in Rocky Mount said 3 men were shot. The suspect, 19, fled to Durham.")
    ['rocky', 'mount', '3', '19', 'durham']
    >>> entity_terms("DOUGLASVILLE, Ga. (AP) - A man shot six. Prather, 33, fled. Police found Prather.")
    ['douglasville', 'prather', '33', 'prather']
    >>> entity_terms("Die Polizei in Köln meldete am Montag, Minister Schoigu sei mit der Regierung in Seoul.")
    ['köln', 'minister', 'schoigu', 'seoul']
    >>> entity_terms("Laut Agenturmeldungen sprach der Flüchtlings-Koordinator mit Mikl-Leitner in Greifswald.")
    ['mikl-leitner', 'greifswald']
    """
    stop = stop_words()
    lang = lang or guess_language(text)
    german = lang == "de"
    found = []  # (term, starts a sentence)
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        for pos, raw in enumerate(words):
            w = raw.strip(_STRIP)
            if len(w) < 2 and not w.isdigit():
                continue
            if any(c.isdigit() for c in w):
                found.append((w.lower(), False))
            elif w[0].isupper() and w.lower() not in stop:
                # a German noun takes an article; a place after a bare preposition ("in Köln") is a name
                if not german or (pos > 0 and words[pos - 1] in _BARE_PLACE) or not _german_noun(w.lower()):
                    found.append((w.lower(), pos == 0))
    inside = {t for t, first in found if not first}
    return [t for t, first in found if not first or t in inside or _rare_word(t, lang)]


def check_rules_version(saved, where: str, rebuild: str) -> None:
    """Refuse a saved state (its ``RULES_VERSION``, ``None`` when it predates the field) read by other rules.

    >>> check_rules_version(1, "my-index", "rebuild the index")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    storyclust.errors.InputError: my-index: ... were read by rules version 1, this storyclust reads by version 2; ...
    """
    if saved != RULES_VERSION:
        raise InputError(f"its entity terms, ages and clock times were read by rules version {saved or 1}, this "
                         f"storyclust reads by version {RULES_VERSION}; {rebuild}", where=where)


@lru_cache(maxsize=200_000)
def _rare_word(word: str, lang: str) -> bool:
    """Rarer than once per million words in ``lang`` (else in English): a name, not a word that starts
    sentences ("Police", "Investigators")."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, lang if lang in _wordfreq_languages() else "en") < _COMMON_ZIPF


@lru_cache(maxsize=1)
def _wordfreq_languages() -> frozenset:
    """wordfreq's languages, but those it needs another tokenizer for: a capitalised word in Chinese, Japanese or
    Korean text is in Latin letters, so English frequencies judge it."""
    from wordfreq import available_languages

    return frozenset(available_languages()) - {"zh", "ja", "ko"}


@lru_cache(maxsize=200_000)
def _german_noun(word: str) -> bool:
    """A common German word that English does not use: a capitalised noun, not a name.

    Word frequencies from ``wordfreq`` (Zipf scale: 3 is once per million words). The two bounds were read
    off a list of German nouns and names (``Regierung`` 5.2 in German, 1.1 in English; ``Putin`` 4.4 and 4.1;
    ``Schoigu`` 2.0 and 0), not fitted to any corpus here.
    """
    from wordfreq import zipf_frequency

    def common(w: str) -> bool:
        de = zipf_frequency(w, "de")
        return de >= _COMMON_ZIPF and de - zipf_frequency(w, "en") >= _NOUN_MIN_GAP

    if common(word):
        return True
    # a compound ("Agenturmeldungen", "Flüchtlings-Thema") ending in a common noun is a noun too
    last = word.rsplit("-", 1)[-1]
    first = 0 if "-" in word else 3  # the head of a closed compound is at least three letters
    return any(common(last[i:]) for i in range(first, len(last) - _COMPOUND_MIN_TAIL + 1))


def ages(text: str) -> set[str]:
    """The ages a text gives its people ("17-year-old", "Doe, 35,", "19-Jährige", "40 Jahre alt").

    >>> sorted(ages("A 17-year-old was shot. John Doe, 35, was arrested; the 19-Jährige fled."))
    ['17', '19', '35']
    """
    return {g for m in _AGE.finditer(text) for g in m.groups() if g}


def times(text: str) -> set[int]:
    """The clock times a text gives, as minutes after midnight ("6:30 p.m.", "noon", "18.30 Uhr", "18h30").

    Reports of one event give its time; two events of one kind in one town seldom share it.

    >>> sorted(times("Shots were fired about 6:30 p.m.; he died at midnight. Gegen 7 Uhr kam die Polizei."))
    [0, 420, 1110]
    """
    out = set()
    for m in _TIME.finditer(text):
        h12, m12, half, word, h24, m24, hf, mf = m.groups()
        if word:
            out.add(720 if word.lower() == "noon" else 0)
        elif half:
            h, mins = int(h12), int(m12 or 0)
            if 1 <= h <= 12 and mins < 60:
                out.add((h % 12 + (12 if half.lower() == "p" else 0)) * 60 + mins)
        else:
            h, mins = (int(h24), int(m24 or 0)) if h24 else (int(hf), int(mf))
            if h < 24 and mins < 60:
                out.add(h * 60 + mins)
    return out
