"""Word shingles and MinHash signatures of cleaned article text."""

from __future__ import annotations

import hashlib

from datasketch import MinHash

from ..documents import Article, normalize_for_hash

__all__ = ["dedup_text", "shingles", "minhash"]


def dedup_text(article: Article) -> str:
    """The normalised body used for duplicate detection (the title when the body is empty).

    Captions, banners, bylines and the headline are not part of it, so a
    reprint under another headline or with other boilerplate compares equal.
    """
    c = article.cleaned
    return normalize_for_hash(c.body or c.title or article.text)


def shingles(text: str, k: int = 5) -> set[int]:
    """The set of hashed word ``k``-grams of normalised ``text`` (a text shorter than k words is one shingle)."""
    words = text.split()
    if len(words) <= k:
        grams = [" ".join(words)]
    else:
        grams = [" ".join(words[i:i + k]) for i in range(len(words) - k + 1)]
    return {int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little") for g in grams}


def minhash(shingle_set: set[int], num_perm: int = 128, seed: int = 1) -> MinHash:
    """A datasketch MinHash of a shingle set."""
    m = MinHash(num_perm=num_perm, seed=seed)
    if shingle_set:
        m.update_batch([v.to_bytes(8, "little") for v in shingle_set])
    return m


def containment(a: set[int], b: set[int]) -> float:
    """|a ∩ b| / min(|a|, |b|): 1.0 when the smaller text is contained in the larger."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))
