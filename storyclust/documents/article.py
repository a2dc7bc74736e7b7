"""The article record that flows through storyclust."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from urllib.parse import urlsplit

from .cleaning import CleanText, clean_text
from . import entities
from .language import guess_language

__all__ = ["Article"]

# An archived copy names the page it archived: http://web.archive.org/web/20160924093615/http://www.news4jax.com/...
_ARCHIVED = re.compile(r"^(?:https?://)?(?:web\.archive\.org/web|archive\.(?:org|is|today|ph|li))/[^/]*/(.+)$", re.I)


# What an Article derives from its text and title, cached on first use: forgotten when either changes.
DERIVED = ("cleaned", "language", "entity_terms", "ages", "times")


def forget_derived(article: "Article") -> None:
    """Drop ``article``'s cached cleaning, language, entity terms, ages and times (after its text or title changed)."""
    for name in DERIVED:
        article.__dict__.pop(name, None)


def adopt_cleaned(article: "Article", cleaned: CleanText, language: str | None,
                  entity_terms: tuple[str, ...] | None = None, ages: frozenset[str] | None = None,
                  times: frozenset[int] | None = None) -> None:
    """Give ``article`` its cleaned text and language (and, when given, its entity terms, ages and times) as made
    elsewhere (a Ray worker ran :func:`clean_text` on the same record), so they are not made again."""
    article.__dict__["cleaned"] = cleaned
    article.__dict__["language"] = language
    if entity_terms is not None:
        article.__dict__["entity_terms"] = tuple(entity_terms)
    if ages is not None:
        article.__dict__["ages"] = frozenset(ages)
    if times is not None:
        article.__dict__["times"] = frozenset(times)


@dataclass(eq=False)
class Article:
    """One news article.

    ``text`` is kept exactly as given; the cleaned form used for embedding and
    duplicate detection is ``article.cleaned`` (see :func:`clean_text`).

    >>> a = Article(id="a1", text="Body of the story.\\n\\nPhoto: Reuters", title="A headline")
    >>> a.cleaned.paragraphs
    ['Body of the story.']
    >>> a.text.endswith("Photo: Reuters")
    True
    """

    id: str
    text: str
    title: str | None = None
    date: datetime | None = None
    lang: str | None = None
    url: str | None = None
    source: str | None = None
    extra: dict = field(default_factory=dict)

    @cached_property
    def cleaned(self) -> CleanText:
        """The text without captions, banners, bylines and repeated headlines."""
        return clean_text(self.text, self.title)

    @cached_property
    def language(self) -> str | None:
        """``lang`` when given, else the language guessed from the cleaned text (:func:`guess_language`)."""
        return self.lang or guess_language(self.cleaned.full)

    @cached_property
    def entity_terms(self) -> tuple[str, ...]:
        """The names and numbers of the cleaned text, lower-cased
        (:func:`~storyclust.documents.entities.entity_terms`): what the storylines match articles by."""
        return tuple(entities.entity_terms(self.cleaned.full, self.language))

    @cached_property
    def ages(self) -> frozenset[str]:
        """The ages the cleaned text gives its people (:func:`~storyclust.documents.entities.ages`)."""
        return frozenset(entities.ages(self.cleaned.full))

    @cached_property
    def times(self) -> frozenset[int]:
        """The clock times the cleaned text gives, in minutes after midnight (:func:`~storyclust.documents.entities.times`)."""
        return frozenset(entities.times(self.cleaned.full))

    @property
    def chronological_key(self) -> tuple:
        """Sorts articles by date (undated last), then id: the order storylines are numbered in."""
        return (self.date is None, self.date or datetime.min, self.id)

    @property
    def site(self) -> str | None:
        """Where the article was published: ``source`` when given, else the host of ``url``.

        Lower-cased, without ``www.`` or a port; a web-archive link gives the
        archived page's host. ``None`` when neither is known.

        >>> Article("a", "", url="http://web.archive.org/web/2016/http://www.KSLA.com:80/story/1").site
        'ksla.com'
        >>> Article("b", "", source=" Reuters ").site, Article("c", "").site
        ('reuters', None)
        """
        if self.source and self.source.strip():
            return self.source.strip().lower()
        if not self.url:
            return None
        url = self.url.strip()
        archived = _ARCHIVED.match(url)
        if archived:
            url = archived.group(1)
        if "://" not in url:
            url = "http://" + url
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:  # a malformed url names no site
            return None
        host = host.removeprefix("www.")
        return host or None

    @property
    def headline(self) -> str | None:
        """The given title, or the headline found in the body."""
        return self.cleaned.title

    def to_dict(self) -> dict:
        """The record as plain JSON-ready values (date as ISO 8601), extra fields included."""
        d = dict(self.extra)
        d.update(
            id=self.id,
            text=self.text,
            title=self.title,
            date=self.date.isoformat() if self.date else None,
            lang=self.lang,
            url=self.url,
            source=self.source,
        )
        return d

    def __repr__(self) -> str:
        head = (self.headline or self.text)[:40]
        return f"Article(id={self.id!r}, date={self.date.date() if self.date else None}, {head!r})"
