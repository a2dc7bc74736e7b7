"""A cheap language guess from stop words, for telling same-language pairs from cross-lingual ones."""

from __future__ import annotations

import re
from functools import lru_cache

from ..errors import InputError

__all__ = ["LANGUAGES", "guess_language", "stop_words"]

# ISO 639-1 code -> name in the stop-words package; the languages of the news storyclust is tested on.
LANGUAGES = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "nl": "dutch",
             "pt": "portuguese"}
_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=None)
def stop_words(language: str | None = None) -> frozenset:
    """Lower-cased stop words of one language of :data:`LANGUAGES` (ISO code), or of all of them (``None``).

    >>> "und" in stop_words("de"), "und" in stop_words("en"), "und" in stop_words()
    (True, False, True)
    """
    from stop_words import get_stop_words

    if language is None:
        return frozenset().union(*(stop_words(code) for code in LANGUAGES))
    if language not in LANGUAGES:
        raise InputError(f"no stop words for {language!r}; choose from {sorted(LANGUAGES)}", field="language")
    return frozenset(w.lower() for w in get_stop_words(LANGUAGES[language]))


@lru_cache(maxsize=1)
def _exclusive_stop_words() -> dict[str, frozenset]:
    """Each language's stop words that are not stop words of any other language here."""
    return {code: stop_words(code) - frozenset().union(*(stop_words(c) for c in LANGUAGES if c != code))
            for code in LANGUAGES}


def guess_language(text: str, max_words: int = 400) -> str | None:
    """ISO code of the language whose own stop words occur most in the first ``max_words`` words, else None.

    >>> guess_language("Der Minister ist am Montag nach Berlin gereist, um mit der Regierung zu sprechen.")
    'de'
    >>> guess_language("The minister travelled to Berlin on Monday to talk with the government.")
    'en'
    >>> guess_language("12 345") is None
    True
    """
    words = [w.lower() for w in _WORD.findall(text[: max_words * 12])][:max_words]
    if not words:
        return None
    stops = _exclusive_stop_words()
    counts = {code: sum(w in ws for w in words) for code, ws in stops.items()}
    best = max(counts, key=lambda c: (counts[c], c == "en"))
    return best if counts[best] > 0 else None
