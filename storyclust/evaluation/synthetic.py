"""Synthetic article vectors shaped like storylines, for scale tests where no labeled corpus is large enough."""

from __future__ import annotations

import numpy as np

from ..errors import InputError

__all__ = ["storyline_vectors"]


def storyline_vectors(n: int, dim: int = 384, *, within: float = 0.75, sibling: float = 0.55,
                      singleton_share: float = 0.35, alpha: float = 2.0, max_size: int = 5000,
                      stories_per_kind: int = 20, random_state=0) -> tuple[np.ndarray, np.ndarray]:
    """``n`` unit vectors in storylines, and the true label of each (-1 for articles in no storyline).

    - Storyline sizes follow a power law, ``P(size >= s) ~ (s / 2) ** (1 - alpha)``,
      from 2 up to ``max_size``; ``singleton_share`` of the rows belong to no storyline.
    - Storylines come in *kinds* (shootings, elections, ...): ``stories_per_kind``
      storylines share a kind, and storylines of one kind sit near each other.
    - Expected cosine between two articles of one storyline: ``within``; between
      the centres of two storylines of one kind: ``sibling`` (so two articles
      of sibling storylines are at about ``within * sibling``); across kinds: 0.
      ``benchmarks/scale.py`` measures both on real embeddings (GVA, ECB+) and
      passes them in.

    Rows are shuffled. Same arguments, same output.

    >>> X, y = storyline_vectors(1000, dim=64, random_state=0)
    >>> X.shape, X.dtype.name, bool(abs(np.linalg.norm(X[0]) - 1) < 1e-5)
    ((1000, 64), 'float32', True)
    >>> round(float((y == -1).mean()), 2)
    0.35
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise InputError(f"n must be a positive integer, got {n!r}", field="n")
    for name, v in (("within", within), ("sibling", sibling)):
        if not 0 < v < 1:
            raise InputError(f"{name} must be a cosine between 0 and 1, got {v!r}", field=name)
    if not 0 <= singleton_share < 1:
        raise InputError(f"singleton_share must be in [0, 1), got {singleton_share!r}", field="singleton_share")
    if alpha <= 1:
        raise InputError(f"alpha must be > 1 (power-law exponent), got {alpha!r}", field="alpha")
    rng = np.random.default_rng(random_state)
    target = int(round(n * (1 - singleton_share)))
    sizes = []
    total = 0
    while total < target:
        s = int(min(max_size, 2 * (1 - rng.random()) ** (-1 / (alpha - 1))))
        s = min(s, target - total)
        if s < 2:  # a last storyline of one would be a singleton
            break
        sizes.append(s)
        total += s
    sizes += [1] * (n - total)
    sizes = np.array(sizes)
    k = len(sizes)
    n_kinds = max(1, int(np.ceil((sizes > 1).sum() / stories_per_kind)))
    kind = rng.integers(0, n_kinds, size=k)
    # unit-norm Gaussian noise: cos(c + t g, c + t g') ~ 1 / (1 + t^2) in high dimension
    centres = _unit(rng.standard_normal((n_kinds, dim), dtype=np.float32))
    tau = np.sqrt(1.0 / sibling - 1.0)
    story = _unit(centres[kind] + tau * _unit(rng.standard_normal((k, dim), dtype=np.float32)))
    labels = np.repeat(np.arange(k), sizes)
    sigma = np.float32(np.sqrt(1.0 / within - 1.0))
    X = np.empty((n, dim), dtype=np.float32)
    for start in range(0, n, 100_000):  # in blocks: bounded extra memory at a million rows
        lab = labels[start:start + 100_000]
        X[start:start + len(lab)] = _unit(story[lab] + sigma * _unit(rng.standard_normal((len(lab), dim),
                                                                                         dtype=np.float32)))
    truth = np.where(sizes[labels] > 1, labels, -1)
    perm = rng.permutation(n)
    return X[perm], truth[perm]


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)
