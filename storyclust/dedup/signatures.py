"""Fixed-size MinHash signatures of article text, and what they estimate.

A signature is ``num_perm`` 32-bit minimums of the article's hashed word
``k``-grams, plus the number of distinct k-grams: the same 516 bytes for a
300-word article and a 5 MB one, which is what keeps a streaming
deduplicator's memory independent of text length. Shingles do not cross
paragraph boundaries, so a reprint with reordered paragraphs keeps almost all
of them.

Hashing is vectorised with numpy: words are hashed once (CRC-32), k-gram
hashes are combined from them, and the MinHash permutations are
multiply-shift hashes. datasketch's ``MinHash`` hashes every shingle with a
Python-level call and its ``MinHashLSH`` can only be saved by pickling, so
storyclust computes its own signatures; ``benchmarks/dedup.py`` measures the
whole storyclust dedup against datasketch's MinHash + MinHashLSH (its
baseline) on the same articles, in documents per second.

>>> a = signature(["The council approved the new budget on Monday after a long debate."])
>>> b = signature(["THE COUNCIL approved the new budget, on Monday, after a long debate!"])
>>> float(jaccard(a, b)), a.size
(1.0, 8)
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ..documents import Article, normalize_for_hash, split_paragraphs
from ..documents.cleaning import sanitize_text

__all__ = ["Signature", "signature", "dedup_paragraphs", "shingle_hashes", "jaccard", "containment_estimate"]

_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT = np.uint64(32)


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=num_perm, dtype=np.uint64) | np.uint64(1)  # odd multipliers
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64)
    return a, b


_PERMS: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
# k-gram hash = sum of word hashes times fixed odd constants, modulo 2**64
_GRAM_WEIGHTS = np.random.default_rng(12345).integers(1, 2**63, size=16, dtype=np.uint64) | np.uint64(1)


@dataclass(frozen=True)
class Signature:
    """MinHash values (uint32, one per permutation) and the number of distinct shingles."""

    values: np.ndarray
    size: int


def shingle_hashes(paragraphs: list[str], k: int = 5, *, normalized: bool = False) -> np.ndarray:
    """Distinct 64-bit hashes of the word ``k``-grams of each normalised paragraph.

    A paragraph shorter than ``k`` words is one shingle. Shingles never span two
    paragraphs. Pass ``normalized=True`` when the paragraphs already went through
    :func:`~storyclust.documents.normalize_for_hash`.
    """
    words, ends = [], []  # all words, and the index one past each paragraph's last word
    for para in paragraphs:
        w = (para if normalized else normalize_for_hash(para)).split()
        if w:
            words += w
            ends.append(len(words))
    if not words:
        return np.zeros(0, dtype=np.uint64)
    h = np.fromiter((zlib.crc32(w.encode()) for w in words), dtype=np.uint64, count=len(words))
    # paragraph number of each word; a k-gram is kept when its first and last word share a paragraph
    ends_a = np.asarray(ends)
    lengths = np.diff(ends_a, prepend=0)
    para_of = np.repeat(np.arange(len(ends)), lengths)
    n = len(words)
    grams = []
    if n >= k:
        with np.errstate(over="ignore"):
            g = h[: n - k + 1] * _GRAM_WEIGHTS[0]
            for j in range(1, k):
                g = g + h[j: n - k + 1 + j] * _GRAM_WEIGHTS[j]
        grams.append(g[para_of[: n - k + 1] == para_of[k - 1:]])
    # a paragraph shorter than k words is one shingle
    starts = ends_a - lengths
    short = np.flatnonzero(lengths < k)
    if short.size:
        grams.append(np.array([_short_hash(h[starts[p]:ends_a[p]]) for p in short], dtype=np.uint64))
    return np.unique(np.concatenate(grams))


def _short_hash(h: np.ndarray) -> np.uint64:
    with np.errstate(over="ignore"):
        return np.uint64((h * _GRAM_WEIGHTS[: len(h)]).sum(dtype=np.uint64) + np.uint64(len(h)))


def signature(paragraphs: list[str], num_perm: int = 128, k: int = 5, seed: int = 1, *,
              normalized: bool = False) -> Signature:
    """The MinHash signature of the paragraphs' word ``k``-grams."""
    hashes = shingle_hashes(paragraphs, k, normalized=normalized)
    if (num_perm, seed) not in _PERMS:
        _PERMS[(num_perm, seed)] = _permutations(num_perm, seed)
    a, b = _PERMS[(num_perm, seed)]
    if hashes.size == 0:
        return Signature(np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32), 0)
    with np.errstate(over="ignore"):
        # multiply-shift: the top 32 bits of a*h + b (mod 2**64) for each permutation (a, b)
        mins = np.empty(num_perm, dtype=np.uint64)
        for start in range(0, hashes.size, 4096):  # bounded temporary memory for huge texts
            part = ((a[:, None] * hashes[None, start:start + 4096] + b[:, None]) >> _SHIFT).min(axis=1)
            mins = part if start == 0 else np.minimum(mins, part)
    return Signature((mins & _MASK32).astype(np.uint32), int(hashes.size))


def dedup_paragraphs(article: Article) -> list[str]:
    """The paragraphs duplicate detection reads: the article's own text, split at blank lines.

    The text is not cleaned (:func:`~storyclust.documents.clean_text` costs
    more than the whole signature): another headline, byline or a few lines of
    boilerplate are a handful of 5-grams among hundreds and barely move the
    overlap (``benchmarks/dedup.py`` reports recall per kind of edit). The
    title is read only when the text is empty.
    """
    return split_paragraphs(sanitize_text(article.text)) or ([article.title] if article.title else [])


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    if a.size == 0 or b.size == 0:
        return 0.0
    return float(np.mean(a.values == b.values))


def containment_estimate(a: Signature, b: Signature) -> float:
    """Estimated share of the smaller set's shingles found in the larger one.

    From Jaccard ``J`` and the set sizes: ``|A ∩ B| = J (|A| + |B|) / (1 + J)``.
    """
    j = jaccard(a, b)
    small = min(a.size, b.size)
    if small == 0:
        return 0.0
    return min(1.0, j * (a.size + b.size) / ((1 + j) * small))
