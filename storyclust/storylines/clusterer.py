"""Stage 2 of storyline clustering: HDBSCAN on the sparse neighbour graph, as a scikit-learn estimator."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import HDBSCAN
from sklearn.utils.validation import validate_data

from ..documents import Article
from ..errors import InputError
from .describe import describe_storylines
from .knn_graph import bridge_components, knn_graph

__all__ = ["StoryClusterer"]


class StoryClusterer(ClusterMixin, BaseEstimator):
    """Groups articles into storylines by density, with no number of storylines to choose.

    Articles are linked to their ``n_neighbors`` most similar articles
    (:func:`~storyclust.storylines.knn_graph.knn_graph`), and HDBSCAN
    (scikit-learn's, on the sparse precomputed graph) finds the dense groups.
    Articles in no storyline get the label -1.

    Parameters
    ----------
    min_cluster_size : int, default 2
        The fewest articles a storyline has.
    min_samples : int, default 2
        Neighbours that make an article a core point; larger values call more
        articles noise. The defaults (2, 2) keep two-article storylines
        possible; see the README for how they compare on ECB+.
    n_neighbors : int, default 15
        Neighbours kept per article in the sparse graph.
    metric : {"cosine", "euclidean"}, default "cosine"
        Cosine distance between (normalised) article vectors, or Euclidean
        distance between raw rows for other feature matrices.
    cluster_selection_method : {"eom", "leaf"}, default "eom"
    cluster_selection_epsilon : float, default 0.0
        Storylines closer than this cosine distance are merged.
    embedder : Embedder, optional
        Used when ``fit`` is given articles; default ``Embedder()``.
    random_state : int, optional
        Seed for any randomised step (the exact graph and HDBSCAN used here
        are deterministic; kept so that approximate graph builders stay reproducible).

    Attributes
    ----------
    labels_ : ndarray of int
        Storyline label per input row, ``-1`` for noise. Labels are numbered by
        each storyline's earliest article (date, then id) when fitted on
        articles, so they do not depend on input order.
    probabilities_ : ndarray of float
        HDBSCAN's membership strength per row.
    storylines_ : list of Storyline
        Keywords, headline and date span of each storyline (fitted on articles only).
    embedder_ : Embedder
        The embedder used (fitted on articles only): ``embedder``, or ``Embedder()`` when it was None.
    n_components_ : int
        Connected parts of the neighbour graph.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(3, 16))
    >>> X = np.vstack([c + 0.05 * rng.normal(size=(5, 16)) for c in centres])
    >>> StoryClusterer(min_cluster_size=3).fit_predict(X).tolist()
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    """

    def __init__(self, min_cluster_size: int = 2, min_samples: int = 2, n_neighbors: int = 15,
                 metric: str = "cosine", cluster_selection_method: str = "eom", cluster_selection_epsilon: float = 0.0,
                 embedder=None, random_state=None):
        self.min_cluster_size = min_cluster_size
        self.min_samples = min_samples
        self.n_neighbors = n_neighbors
        self.metric = metric
        self.cluster_selection_method = cluster_selection_method
        self.cluster_selection_epsilon = cluster_selection_epsilon
        self.embedder = embedder
        self.random_state = random_state

    def _check_params(self):
        if not isinstance(self.min_cluster_size, (int, np.integer)) or self.min_cluster_size < 2:
            raise InputError(f"min_cluster_size must be an integer >= 2, got {self.min_cluster_size!r}",
                             field="min_cluster_size")
        if not isinstance(self.min_samples, (int, np.integer)) or self.min_samples < 1:
            raise InputError(f"min_samples must be a positive integer, got {self.min_samples!r}",
                             field="min_samples")
        if not isinstance(self.n_neighbors, (int, np.integer)) or self.n_neighbors < 1:
            raise InputError(f"n_neighbors must be a positive integer, got {self.n_neighbors!r}", field="n_neighbors")
        if self.metric not in ("cosine", "euclidean"):
            raise InputError(f"metric must be 'cosine' or 'euclidean', got {self.metric!r}", field="metric")
        if self.cluster_selection_method not in ("eom", "leaf"):
            raise InputError("cluster_selection_method must be 'eom' or 'leaf'", field="cluster_selection_method")

    def fit(self, X, y=None):
        """Cluster ``X``: a list of :class:`~storyclust.Article` or a matrix of article vectors."""
        self._check_params()
        articles = None
        if isinstance(X, Sequence) and len(X) and all(isinstance(a, Article) for a in X):
            articles = list(X)
            if self.embedder is None:
                from ..embeddings import Embedder

                self.embedder_ = Embedder()
            else:
                self.embedder_ = self.embedder
            vectors = self.embedder_.embed_articles(articles).vectors
            self.n_features_in_ = vectors.shape[1]
        else:
            vectors = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        vectors = np.asarray(vectors, dtype=np.float32)
        if self.metric == "cosine":
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            vectors = vectors / norms
        n = len(vectors)
        self.n_components_ = n
        labels = np.full(n, -1, dtype=np.intp)
        probs = np.zeros(n)
        if n >= self.min_cluster_size and n > self.min_samples:
            # Run in a canonical row order (article id, else the vector itself), so that ties between
            # equal distances break the same way whatever order the input came in.
            order = (np.argsort(np.array([a.id for a in articles], dtype=object), kind="stable")
                     if articles is not None else np.lexsort(vectors.T[::-1]))
            graph = knn_graph(vectors[order], max(self.n_neighbors, self.min_samples), self.metric)
            graph, self.n_components_ = bridge_components(graph)
            hdb = HDBSCAN(min_cluster_size=self.min_cluster_size, min_samples=self.min_samples, metric="precomputed",
                          cluster_selection_method=self.cluster_selection_method,
                          cluster_selection_epsilon=self.cluster_selection_epsilon, copy=True)
            labels[order] = hdb.fit_predict(graph)
            labels[labels < -1] = -1  # scikit-learn's -2/-3 markers (infinite, missing) are noise here
            probs[order] = hdb.probabilities_
        self.labels_ = _canonical_labels(labels, articles)
        self.probabilities_ = probs
        self.storylines_ = describe_storylines(articles, self.labels_, vectors) if articles is not None else []
        return self

    def fit_predict(self, X, y=None, **kwargs):
        """Fit and return ``labels_``."""
        return self.fit(X).labels_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


def _canonical_labels(labels: np.ndarray, articles) -> np.ndarray:
    """Renumber clusters 0, 1, ... by their earliest article (``Article.chronological_key``), else first row."""
    rows = (np.arange(len(labels)) if articles is None
            else np.array(sorted(range(len(labels)), key=lambda i: articles[i].chronological_key), dtype=np.intp))
    in_order = labels[rows]
    clusters, first = np.unique(in_order, return_index=True)  # each cluster's first row in that order
    keep = clusters != -1
    clusters = clusters[keep][np.argsort(first[keep], kind="stable")]
    lookup = np.full(labels.max(initial=-1) + 2, -1, dtype=np.intp)  # old label + 1 -> new label
    lookup[clusters + 1] = np.arange(len(clusters))
    return lookup[labels + 1]
