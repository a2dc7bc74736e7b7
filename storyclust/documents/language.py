"""A cheap language guess from stop words, for telling same-language pairs from cross-lingual ones."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["LANGUAGES", "guess_language"]

# ISO 639-1 code -> name in the stop-words package; the languages of the news storyclust is tested on.
LANGUAGES = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian", "nl": "dutch",
             "pt": "portuguese"}
_WORD = re.compile(r"[^\W\d_]+")


@lru_cache(maxsize=1)
def _exclusive_stop_words() -> dict[str, frozenset]:
    """Each language's stop words that are not stop words of any other language here."""
    from stop_words import get_stop_words

    words = {code: {w.lower() for w in get_stop_words(name)} for code, name in LANGUAGES.items()}
    return {code: frozenset(ws - set().union(*(o for c, o in words.items() if c != code)))
            for code, ws in words.items()}


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
