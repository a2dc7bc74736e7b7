"""Fixed-size MinHash signatures of article text, and what they estimate.

A signature is ``num_perm`` 32-bit minimums of the article's hashed word
``k``-grams (or character ``k``-grams, ``unit="char"``), plus the number of
distinct k-grams: the same 516 bytes for a
300-word article and a 5 MB one, which is what keeps a streaming
deduplicator's memory independent of text length. Shingles do not cross
paragraph boundaries, so a reprint with reordered paragraphs keeps almost all
of them.

Hashing is vectorised with numpy: words are hashed once (a polynomial hash), k-gram
hashes are combined from them, and the MinHash permutations are
multiply-shift hashes (one permutation for all in the deduplicator's
character signature, :func:`article_signatures`). datasketch's ``MinHash`` hashes every shingle with a
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

import hashlib
from dataclasses import dataclass

import numpy as np

from ..documents import Article, normalize_for_hash, split_paragraphs
from ..documents.cleaning import normalize_paragraphs, sanitize_text

__all__ = ["ArticleSketch", "Signature", "signature", "article_signatures", "dedup_paragraphs", "shingle_hashes", "char_shingle_hashes", "jaccard",
           "containment_estimate"]

_CHAR_N = 7  # character n-grams of the noise-robust signature
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
_CHAR_WEIGHTS = np.random.default_rng(54321).integers(1, 2**63, size=32, dtype=np.uint64) | np.uint64(1)


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
    return np.unique(_word_grams(paragraphs, k, normalized))


def _encode(paragraphs: list[str], normalized: bool) -> np.ndarray:
    """The code points of the normalised paragraphs, one line each."""
    text = "\n".join(p if normalized else normalize_for_hash(p) for p in paragraphs)
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def _word_grams(paragraphs: list[str], k: int, normalized: bool, codes: np.ndarray | None = None) -> np.ndarray:
    """:func:`shingle_hashes`, repeats included (``codes``: the paragraphs already through :func:`_encode`)."""
    h, para_of = _word_hashes(_encode(paragraphs, normalized) if codes is None else codes)
    n = len(h)
    if not n:
        return np.zeros(0, dtype=np.uint64)
    ends = np.flatnonzero(np.append(para_of[1:] != para_of[:-1], True)) + 1  # one past each paragraph
    lengths = np.diff(ends, prepend=0)
    grams = []
    with np.errstate(over="ignore"):
        if n >= k:  # a k-gram is kept when its first and last word share a paragraph
            g = h[: n - k + 1] * _GRAM_WEIGHTS[0]
            for j in range(1, k):
                g = g + h[j: n - k + 1 + j] * _GRAM_WEIGHTS[j]
            grams.append(g[para_of[: n - k + 1] == para_of[k - 1:]])
        short = np.flatnonzero(lengths < k)  # a paragraph shorter than k words is one shingle
        if short.size:
            first, size = (ends - lengths)[short], lengths[short]
            g = size.astype(np.uint64)
            for j in range(k - 1):
                g = g + np.where(j < size, h[np.minimum(first + j, n - 1)] * _GRAM_WEIGHTS[j], np.uint64(0))
            grams.append(g)
    return np.concatenate(grams)


def char_shingle_hashes(paragraphs: list[str], n: int = 7, *, normalized: bool = False) -> np.ndarray:
    """Distinct 64-bit hashes of the character ``n``-grams of the normalised paragraphs, joined by a space.

    A misread letter changes only the ``n`` grams around it, where it breaks
    every word ``k``-gram it falls in: the sketch for OCR-damaged copies.
    """
    return np.unique(_char_grams(paragraphs, n, normalized))


def _char_grams(paragraphs: list[str], n: int, normalized: bool, codes: np.ndarray | None = None) -> np.ndarray:
    """:func:`char_shingle_hashes`, repeats included (``codes``: the paragraphs already through :func:`_encode`)."""
    codes = _encode(paragraphs, normalized) if codes is None else codes
    codes = np.where(codes == 10, np.uint64(32), codes)  # paragraphs joined by a space
    text = np.flatnonzero(codes != 32)
    if not text.size:
        return np.zeros(0, dtype=np.uint64)
    codes = codes[text[0]:text[-1] + 1]
    if len(codes) < n:
        return np.array([_short_hash(codes)], dtype=np.uint64)
    m = len(codes) - n + 1
    with np.errstate(over="ignore"):
        g = codes[:m] * _CHAR_WEIGHTS[0]
        for j in range(1, n):
            g = g + codes[j:m + j] * _CHAR_WEIGHTS[j]
    return g


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: the linear n-gram hashes made uniform before MinHash."""
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return h ^ (h >> np.uint64(31))


def _word_hashes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of each word of the text ``codes`` (words split at spaces, paragraphs at newlines) and
    the number of its paragraph: a polynomial hash from prefix sums, vectorised (the per-word CRC-32 calls it
    replaces were a third of the dedup's time)."""
    sep = (codes == 32) | (codes == 10)
    inner = ~sep
    if not inner.any():
        return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
    edge = np.diff(np.concatenate(([0], inner.view(np.int8), [0])))
    starts, ends = np.flatnonzero(edge == 1), np.flatnonzero(edge == -1)
    powers, inverse = _powers(len(codes))
    with np.errstate(over="ignore"):
        prefix = np.concatenate(([np.uint64(0)], np.cumsum(codes * powers, dtype=np.uint64)))
        h = (prefix[ends] - prefix[starts]) * inverse[starts] + (ends - starts).astype(np.uint64)
    para_of = np.cumsum(codes == 10)[starts]
    return h, para_of


_POLY = np.uint64(0x100000001B3)
_POLY_INV = np.uint64(pow(0x100000001B3, -1, 2**64))
_POWERS = [np.ones(0, dtype=np.uint64), np.ones(0, dtype=np.uint64)]


def _powers(n: int) -> tuple[np.ndarray, np.ndarray]:
    """``P**i`` and ``P**-i`` (mod 2**64) for i < n, computed once and grown as longer texts come."""
    if len(_POWERS[0]) < n:
        size = max(n, 2 * len(_POWERS[0]), 4096)
        with np.errstate(over="ignore"):
            _POWERS[0] = np.cumprod(np.full(size, _POLY, dtype=np.uint64)) * _POLY_INV
            _POWERS[1] = np.cumprod(np.full(size, _POLY_INV, dtype=np.uint64)) * _POLY
    return _POWERS[0][:n], _POWERS[1][:n]


def _short_hash(h: np.ndarray) -> np.uint64:
    with np.errstate(over="ignore"):
        return np.uint64((h * _GRAM_WEIGHTS[: len(h)]).sum(dtype=np.uint64) + np.uint64(len(h)))


def signature(paragraphs: list[str], num_perm: int = 128, k: int = 5, seed: int = 1, *,
              normalized: bool = False, unit: str = "word") -> Signature:
    """The MinHash signature of the paragraphs' word ``k``-grams (``unit="char"``: character ``k``-grams)."""
    if unit not in ("word", "char"):
        raise ValueError(f"unit must be 'word' or 'char', not {unit!r}")
    hashes = (shingle_hashes if unit == "word" else char_shingle_hashes)(paragraphs, k, normalized=normalized)
    return _minhash(hashes, num_perm, seed)


def _minhash(hashes: np.ndarray, num_perm: int, seed: int) -> Signature:
    """``num_perm`` multiply-shift permutations of the distinct shingle ``hashes``, and each one's minimum."""
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


def article_signatures(paragraphs: list[str], num_perm: int = 128, *, k: int = 5, n: int = 7, seed: int = 1,
                       normalized: bool = False) -> tuple[Signature, Signature]:
    """The word ``k``-gram signature and the one-permutation character ``n``-gram signature of the
    paragraphs, from one pass over the text: what :class:`~storyclust.dedup.Deduplicator` keeps.

    The character set has thousands of shingles, which fill the bins of one permutation; a short article's
    word set would leave most bins empty and the estimate loose, so words get ``num_perm`` permutations.
    """
    codes = _encode(paragraphs, normalized)
    words = _minhash(np.unique(_word_grams(paragraphs, k, True, codes)), num_perm, seed)
    return words, _one_permutation(_char_grams(paragraphs, n, True, codes), num_perm, seed)


def _one_permutation(hashes: np.ndarray, num_perm: int, seed: int) -> Signature:
    """One-permutation MinHash (Li, Owen & Zhang, 2012): one hash per shingle, its top bits pick one of
    ``num_perm`` bins, and each bin keeps its smallest value; an empty bin takes the value of the next
    filled one, shifted by the distance (Shrivastava & Li, 2014, densification). A character set has
    thousands of shingles, where hashing each under ``num_perm`` permutations costs more than all the rest
    of the dedup; the equal-bin rate estimates Jaccard all the same. ``hashes`` may repeat.
    """
    if num_perm & (num_perm - 1):
        raise ValueError(f"num_perm must be a power of two for a one-permutation signature, got {num_perm}")
    if hashes.size == 0:
        return Signature(np.full(num_perm, 0xFFFFFFFF, dtype=np.uint32), 0)
    h = np.sort(_mix(hashes ^ np.uint64(seed * 0x9E3779B97F4A7C15 % 2**64)))
    distinct = int(np.count_nonzero(h[1:] != h[:-1])) + 1  # _mix is a bijection: distinct shingles
    bits = np.uint64(64 - num_perm.bit_length() + 1)
    starts = np.searchsorted(h >> bits, np.arange(num_perm, dtype=np.uint64))  # sorted: a bin's first is its min
    filled = starts < np.append(starts[1:], h.size)
    values = ((h[np.minimum(starts, h.size - 1)] >> (bits - np.uint64(32))) & _MASK32).astype(np.uint32)
    full = np.flatnonzero(filled)
    if full.size < num_perm:
        bins = np.arange(num_perm)
        nxt = full[np.searchsorted(full, bins) % full.size]
        dist = (nxt - bins) % num_perm
        values = (values[nxt].astype(np.uint64) + dist.astype(np.uint64) * np.uint64(0x9E3779B1) & _MASK32
                  ).astype(np.uint32)
    return Signature(values, distinct)


def dedup_paragraphs(article: Article) -> list[str]:
    """The paragraphs duplicate detection reads: the article's own text, split at blank lines.

    The text is not cleaned (:func:`~storyclust.documents.clean_text` costs
    more than the whole signature): another headline, byline or a few lines of
    boilerplate are a handful of 5-grams among hundreds and barely move the
    overlap (``benchmarks/dedup.py`` reports recall per kind of edit). The
    title is read only when the text is empty.
    """
    return split_paragraphs(sanitize_text(article.text)) or ([article.title] if article.title else [])


@dataclass(frozen=True)
class ArticleSketch:
    """What the :class:`~storyclust.dedup.Deduplicator` reads of an article: a digest of its normalised text
    (exact copies), its word 5-gram and its character 7-gram signatures (:func:`article_signatures`).

    Made per article, so it can be made anywhere (``storyclust.engines`` makes it on a Ray cluster's
    workers) and passed to :meth:`~storyclust.dedup.Deduplicator.check` as ``sketches=``.

    >>> from storyclust import Article
    >>> k = ArticleSketch.of(Article("a", "The council approved the new budget on Monday after a debate."))
    >>> len(k.digest), k.words.values.size, k.chars.values.size
    (16, 128, 128)
    """

    digest: bytes
    words: Signature
    chars: Signature

    @classmethod
    def of(cls, article: Article, num_perm: int = 128) -> "ArticleSketch":
        norm = normalize_paragraphs(dedup_paragraphs(article))
        digest = hashlib.blake2b(" ".join(norm).encode(), digest_size=16).digest()
        words, chars = article_signatures(norm, num_perm, n=_CHAR_N, normalized=True)
        return cls(digest, words, chars)


def jaccard(a: Signature, b: Signature) -> float:
    """Estimated Jaccard similarity of the two shingle sets."""
    if a.size == 0 or b.size == 0:
        return 0.0
    return np.count_nonzero(a.values == b.values) / a.values.size


def containment_estimate(a: Signature, b: Signature) -> float:
    """Estimated share of the smaller set's shingles found in the larger one.

    From Jaccard ``J`` and the set sizes: ``|A ∩ B| = J (|A| + |B|) / (1 + J)``.
    """
    j = jaccard(a, b)
    small = min(a.size, b.size)
    if small == 0:
        return 0.0
    return min(1.0, j * (a.size + b.size) / ((1 + j) * small))
