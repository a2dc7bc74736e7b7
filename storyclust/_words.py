"""Counts in words, for what storyclust prints."""


def plural(count: int, noun: str) -> str:
    """``1 article``, ``2 articles``.

    >>> plural(1, "article"), plural(0, "near duplicate")
    ('1 article', '0 near duplicates')
    """
    return f"{count} {noun}{'' if count == 1 else 's'}"
