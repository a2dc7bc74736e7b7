"""The storyline estimator: candidate pairs -> same-story probabilities -> average linkage (or HDBSCAN)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from types import SimpleNamespace

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import HDBSCAN
from sklearn.preprocessing import normalize
from sklearn.utils import check_array
from sklearn.utils.validation import validate_data

from ..documents import as_articles
from ..errors import InputError, ModelMismatchError
from .entities import TermCounts
from .describe import describe_storylines, storyline_counts_over_time, storyline_table
from .knn_graph import bridge_components, knn_graph
from .linkage import attach_alone, average_linkage
from .model import PairClassifier, SameStoryModel
from .trees import SameStoryTrees
from .signals import FEATURES, story_pairs

__all__ = ["StoryClusterer"]


class StoryClusterer(ClusterMixin, BaseEstimator):
    """Groups articles into storylines, with no number of storylines to choose.

    The default pipeline, one stage per module:

    1. :func:`~storyclust.storylines.knn_graph.candidate_pairs`: each article's
       ``n_neighbors`` nearest articles by vector and by entity terms.
    2. :func:`~storyclust.storylines.signals.pair_features` and
       :class:`~storyclust.storylines.model.SameStoryModel`: the
       probability that a candidate pair is one storyline, from the vector
       and headline cosines, shared names and numbers (rare names counted
       apart), the ages given, the date gap (or that one is undated),
       whether either lacks a title, whether both come from one site, how
       near each is to the other compared to its other neighbours, and the
       strongest path through a third article (and products of two of
       these). It is fitted to be right on crawl-like input too: no dates,
       no titles, most articles the only report of their event.
    3. :func:`~storyclust.storylines.linkage.average_linkage`: groups whose
       scored pairs average a probability of at least ``threshold``; then
       each article it left alone joins the storyline of its most probable
       pair when that pair reaches ``threshold``
       (:func:`~storyclust.storylines.linkage.attach_alone`).

    Groups smaller than ``min_cluster_size`` are noise (label -1).
    ``linkage="hdbscan"`` runs scikit-learn's HDBSCAN on the sparse k-NN
    graph instead (``min_samples``, ``cluster_selection_*`` apply to it only).

    Bare vectors carry no names or dates, and ``"auto"`` runs HDBSCAN on them.
    ``linkage="average"`` scores their pairs by the cosine alone
    (``SameStoryModel.default(with_text=False)``, which links at a cosine of
    about 0.64 for the default embedder). Where storylines of one kind sit
    that far apart it keeps them apart and HDBSCAN does not
    (``benchmarks/scale.py``); but where a corpus holds one kind of event
    only, a fixed cosine joins nearly all of it (GVA's shootings, in
    ``benchmarks/storylines.py``), while HDBSCAN keeps small dense groups.

    Parameters
    ----------
    min_cluster_size : int, default 2
        The fewest articles a storyline has.
    linkage : {"auto", "average", "hdbscan"}, default "auto"
        ``"auto"``: average linkage for articles, HDBSCAN for bare vectors.
    threshold : float, default 0.5
        Average same-story probability at which groups merge (``"average"``).
    n_neighbors : int, default 15
        Candidate neighbours per article (per signal).
    model : SameStoryTrees, SameStoryModel or PairClassifier, optional
        Default ``SameStoryModel.default()``: monotone boosted trees fitted on
        the tuning splits of ECB+, GVA and 10kGNAD. For bare vectors, the
        ``dense`` model (fitted on ECB+). Fit your own with
        :meth:`training_pairs` and
        :func:`~storyclust.storylines.fitting.fit_same_story_model`
        (``kind="logistic"`` for a logistic model; with ``estimator=``: any
        scikit-learn classifier, as a ``PairClassifier``).
    min_samples : int, default 2
        HDBSCAN only: neighbours that make a core point.
    metric : {"cosine", "euclidean"}, default "cosine"
        For vector input: cosine between (normalised) rows, or Euclidean
        distance (``linkage="hdbscan"`` only).
    cluster_selection_method : {"eom", "leaf"}, default "eom"
        HDBSCAN only.
    cluster_selection_epsilon : float, default 0.0
        HDBSCAN only.
    index : str, default "auto"
        FAISS factory string for the neighbour search: exact (``"Flat"``) up to
        50,000 rows and an inverted file of about 256 rows per list above with
        ``"auto"`` (``"IVF,Flat"`` forces it); ``"IVF1024,Flat"``, ``"HNSW32"``
        and other factory strings work too.
    nprobe : int, default 16
        Inverted lists searched per query (IVF indexes).
    embedder : Embedder, optional
        Used when ``fit`` is given articles; default ``Embedder()``.
    random_state : int, optional
        Seeds the inverted file's training sample and k-means; with the same
        value the same input gives the same storylines. The exact search and the
        clustering stages are deterministic.
    show_progress : bool, optional
        Progress bars for the long stages; default: shown when stderr is a terminal.
    attach_alone : bool, default True
        ``"average"`` only: an article average linkage leaves alone joins the
        storyline of its most probable pair when that pair reaches ``threshold``
        (a report telling one side of a story has weak pairs to the rest, but
        is more likely than not that story). ``False``: average linkage alone.

    Attributes
    ----------
    labels_ : ndarray of int
        Storyline label per input row, ``-1`` for noise. Labels are numbered by
        each storyline's earliest article (date, then id) when fitted on
        articles, so they do not depend on input order.
    probabilities_ : ndarray of float
        Mean same-story probability over each article's scored pairs inside its
        storyline (HDBSCAN's membership strength with ``linkage="hdbscan"``); 0 for noise.
    graph_ : scipy.sparse.csr_matrix
        The symmetric k-NN distance graph HDBSCAN ran on, rows and columns in
        input order (``linkage="hdbscan"``; disconnected parts are joined by
        edges longer than any other, see ``bridge_components``).
    same_story_ : scipy.sparse.csr_matrix
        Same-story probability of every candidate pair, rows and columns in
        input order (``linkage="average"``).
    storylines_ : list of Storyline
        Keywords, headline and date span of each storyline (fitted on articles only);
        :meth:`storyline_info` and :meth:`storylines_over_time` give them as DataFrames.
    articles_ : list of Article
        The articles fitted (None for bare vectors).
    embedder_ : Embedder
        The embedder used (fitted on articles only): ``embedder``, or ``Embedder()`` when it was None.
    embeddings_ : ArticleEmbeddings
        The articles' vectors and paragraph vectors (fitted on articles only): pass them on to
        :func:`~storyclust.find_duplicates` or :meth:`~storyclust.StoryIndex.add_articles` to embed nothing twice.
    n_components_ : int
        Connected parts of the candidate graph.
    timings_ : dict
        Seconds spent per stage: ``embed`` (articles only), ``pairs``, ``linkage``, ``describe``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> centres = rng.normal(size=(3, 16))
    >>> X = np.vstack([c + 0.05 * rng.normal(size=(5, 16)) for c in centres])
    >>> StoryClusterer(min_cluster_size=3).fit_predict(X).tolist()
    [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    """

    def __init__(self, min_cluster_size: int = 2, linkage: str = "auto", threshold: float = 0.5,
                 n_neighbors: int = 15, model=None, min_samples: int = 2, metric: str = "cosine",
                 cluster_selection_method: str = "eom", cluster_selection_epsilon: float = 0.0,
                 index: str = "auto", nprobe: int = 16, embedder=None, random_state=None,
                 show_progress: bool | None = None, attach_alone: bool = True):
        self.min_cluster_size = min_cluster_size
        self.linkage = linkage
        self.threshold = threshold
        self.n_neighbors = n_neighbors
        self.model = model
        self.min_samples = min_samples
        self.metric = metric
        self.cluster_selection_method = cluster_selection_method
        self.cluster_selection_epsilon = cluster_selection_epsilon
        self.index = index
        self.nprobe = nprobe
        self.embedder = embedder
        self.random_state = random_state
        self.show_progress = show_progress
        self.attach_alone = attach_alone

    def _check_params(self):
        if not isinstance(self.min_cluster_size, (int, np.integer)) or self.min_cluster_size < 2:
            raise InputError(f"min_cluster_size must be an integer >= 2, got {self.min_cluster_size!r}",
                             field="min_cluster_size")
        if self.linkage not in ("auto", "average", "hdbscan"):
            raise InputError(f"linkage must be 'auto', 'average' or 'hdbscan', got {self.linkage!r}",
                             field="linkage")
        if not isinstance(self.threshold, (int, float, np.floating)) or not 0 < self.threshold < 1:
            raise InputError(f"threshold must be a probability between 0 and 1, got {self.threshold!r}",
                             field="threshold")
        if not isinstance(self.min_samples, (int, np.integer)) or self.min_samples < 1:
            raise InputError(f"min_samples must be a positive integer, got {self.min_samples!r}",
                             field="min_samples")
        if not isinstance(self.nprobe, (int, np.integer)) or self.nprobe < 1:
            raise InputError(f"nprobe must be a positive integer, got {self.nprobe!r}", field="nprobe")
        if not isinstance(self.index, str):
            raise InputError(f"index must be a FAISS factory string or 'auto', got {self.index!r}", field="index")
        if not isinstance(self.n_neighbors, (int, np.integer)) or self.n_neighbors < 1:
            raise InputError(f"n_neighbors must be a positive integer, got {self.n_neighbors!r}", field="n_neighbors")
        if self.metric not in ("cosine", "euclidean"):
            raise InputError(f"metric must be 'cosine' or 'euclidean', got {self.metric!r}", field="metric")
        if self.cluster_selection_method not in ("eom", "leaf"):
            raise InputError("cluster_selection_method must be 'eom' or 'leaf'", field="cluster_selection_method")
        if not isinstance(self.attach_alone, (bool, np.bool_)):
            raise InputError(f"attach_alone must be True or False, got {self.attach_alone!r}", field="attach_alone")
        if self.model is not None and not isinstance(self.model, (SameStoryTrees, SameStoryModel, PairClassifier)):
            raise InputError(f"model must be a SameStoryTrees, a SameStoryModel or a PairClassifier, got {type(self.model).__name__}",
                             field="model")

    def fit(self, X, y=None, *, embeddings=None, term_counts=None):
        """Cluster ``X``: articles (:class:`~storyclust.Article` objects, texts, dicts, a DataFrame with a
        ``text`` column, or a path :func:`~storyclust.load_articles` reads) or a matrix of article vectors.

        ``embeddings``: the articles' vectors when you already have them, so that nothing is embedded
        again: an :class:`~storyclust.ArticleEmbeddings` from ``embedder.embed_articles(X)`` (its
        headline vectors are used too), or an array with one article vector per row, in ``X``'s order.
        ``term_counts``: a :class:`~storyclust.storylines.TermCounts` of other news (your archive, the
        days before; ``TermCounts.of(archive)``) that names are judged rare or common by, together
        with ``X``. Without it ``X`` alone judges, and an input under 200 articles has no rare names.
        """
        corpus = None
        TermCounts.check(term_counts)
        if term_counts is not None:
            articles = as_articles(X)
            if articles is None:
                raise InputError("term_counts needs articles: a matrix of vectors has no names to count",
                                 field="term_counts")
            if self.linkage == "hdbscan":
                raise InputError("term_counts is read by linkage='average' only; HDBSCAN clusters the vectors alone",
                                 field="term_counts")
            X = articles
            corpus = term_counts.copy()
            corpus.add([a.entity_terms for a in articles])
        articles, vectors = self._fit_labels(X, embeddings, corpus)
        with _timed(self.timings_, "describe"):
            self.storylines_ = describe_storylines(articles, self.labels_, vectors) if articles is not None else []
        self.articles_ = articles
        return self

    def _fit_labels(self, X, embeddings=None, corpus=None):
        """``fit`` up to the labels (no storyline descriptions): the articles (or None) and their unit vectors.

        ``corpus``: the term counts rare names are judged by (a stream's, for :class:`StoryTracker`).
        """
        self._check_params()
        self.timings_ = timings = {}
        articles, vectors, headlines, linkage = self._inputs(X, timings, fitting=True, embeddings=embeddings)
        n = len(vectors)
        self.n_components_ = n
        self.same_story_ = csr_matrix((n, n))
        labels = np.full(n, -1, dtype=np.intp)
        probs = np.zeros(n)
        if n >= self.min_cluster_size and n > 1:
            order = _order(vectors, articles)
            if linkage == "average":
                labels[order], probs[order] = self._fit_average(vectors[order],
                                                                [articles[i] for i in order] if articles else None,
                                                                order, None if headlines is None else headlines[order],
                                                                corpus)
            elif n > self.min_samples:
                labels[order], probs[order] = self._fit_hdbscan(vectors[order], order)
        self.labels_ = _canonical_labels(labels, articles)
        self.probabilities_ = probs
        return articles, vectors

    def storyline_info(self):
        """A pandas DataFrame with one row per storyline, largest first (and ``storyline=-1``, the articles in none):
        size, headline, keywords, start, end, sources, languages, representative and article ids.

        >>> from datetime import datetime
        >>> from storyclust import Article
        >>> arts = [Article(str(i), t, date=d) for i, (t, d) in enumerate([
        ...     ("Council passes budget after six-hour debate on schools and roads.", datetime(2024, 3, 4)),
        ...     ("After a six-hour debate the council passed the budget for schools and roads.", datetime(2024, 3, 5)),
        ...     ("A storm closed the harbour and ferries to the islands were cancelled.", datetime(2024, 3, 5))])]
        >>> info = StoryClusterer().fit(arts).storyline_info()
        >>> info[["storyline", "size", "article_ids"]].to_dict("records")
        [{'storyline': 0, 'size': 2, 'article_ids': ['0', '1']}, {'storyline': -1, 'size': 1, 'article_ids': []}]
        """
        return storyline_table(self._fitted_storylines(), self.labels_)

    def storylines_over_time(self, freq: str = "D"):
        """A pandas DataFrame of articles per storyline per day (``freq="W"``: week, ...): storyline, date, articles.

        Undated articles count in a row with date NaT, and articles in no storyline under -1.
        """
        self._fitted_storylines()
        return storyline_counts_over_time(self.articles_, self.labels_, freq)

    def _fitted_storylines(self):
        if getattr(self, "articles_", None) is None:
            raise InputError("storylines are described after fit() on articles (not bare vectors)", field="X")
        return self.storylines_

    def training_pairs(self, X, y, names=None):
        """The candidate pairs ``fit`` scores on ``X``, their signals, and whether labels ``y`` join them.

        For fitting your own same-story model (another embedder, another kind
        of news): pass the result to
        :func:`~storyclust.storylines.fitting.fit_same_story_model` as
        ``(len(X), rows, cols, features, same, weights)``. ``names``: the
        signals to compute (default: all but ``support``, which the fit
        derives; ``("dense",)`` for bare vectors). Returns ``(rows, cols,
        features, same)``; ``rows`` and ``cols`` index ``X`` (``rows < cols``).

        >>> import numpy as np
        >>> X = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
        >>> rows, cols, f, same = StoryClusterer(n_neighbors=1).training_pairs(X, [0, 0, 1, 1])
        >>> sorted(zip(rows.tolist(), cols.tolist(), same.tolist()))
        [(0, 1, True), (2, 3, True)]
        """
        y, articles, vectors, headlines, names = self._training_inputs(X, y, names)
        rows, cols, features = self._pairs_of(np.arange(len(y)), articles, vectors, headlines, names)
        return rows, cols, features, y[rows] == y[cols]

    def small_input_pairs(self, X, y, n_inputs=150, random_state=None, names=None):
        """Candidate pairs of many small inputs drawn from ``X`` and labelled by ``y``: a model must fit those too.

        In a big input every candidate pair is two near neighbours; given a
        handful of articles (up to ``n_neighbors + 1``) the clusterer scores
        every pair, including two articles on nothing alike. A model fitted
        on big inputs alone has never seen such pairs and can score them
        anyhow. Each small input holds up to 24 articles: two to four of
        each of one to three storylines of ``y`` (with at least two
        articles), the rest drawn at random. ``X`` is embedded once.

        Returns a list of ``(len(X), rows, cols, features, same)``, one per
        small input, its ``rows`` and ``cols`` indexing ``X`` (``rows < cols``),
        ready for :func:`~storyclust.storylines.fitting.fit_same_story_model`
        once given weights.

        >>> import numpy as np
        >>> X = np.random.default_rng(0).normal(size=(40, 8))
        >>> inputs = StoryClusterer().small_input_pairs(X, np.arange(40) // 4, n_inputs=3, random_state=0)
        >>> [(len(np.union1d(rows, cols)), len(rows)) for n, rows, cols, f, same in inputs]
        [(19, 149), (13, 78), (13, 78)]

        Up to 16 articles (``n_neighbors + 1``), every pair is a candidate: 13 articles, 78 pairs.
        """
        if int(n_inputs) < 1:
            raise InputError(f"n_inputs must be at least 1, got {n_inputs!r}", field="n_inputs")
        y, articles, vectors, headlines, names = self._training_inputs(X, y, names)
        rng = np.random.default_rng(random_state)
        labels, counts = np.unique(y, return_counts=True)
        stories = labels[counts >= 2]
        if not len(stories):
            raise InputError("small inputs need storylines of at least two articles in y", field="y")
        out = []
        for _ in range(int(n_inputs)):
            size = int(rng.integers(5, 25))
            picked = rng.choice(stories, min(len(stories), int(rng.integers(1, 4))), replace=False)
            idx = [i for s in picked for i in rng.permutation(np.flatnonzero(y == s))[:int(rng.integers(2, 5))]]
            fill = rng.choice(len(y), min(len(y), max(0, size - len(idx))), replace=False)
            idx = np.array(list(dict.fromkeys(idx + fill.tolist())))
            rows, cols, features = self._pairs_of(idx, articles, vectors, headlines, names)
            out.append((len(y), rows, cols, features, y[rows] == y[cols]))
        return out

    def _training_inputs(self, X, y, names):
        """Checked labels, the embedded input and the signal names for ``training_pairs`` and ``small_input_pairs``."""
        self._check_params()
        y = np.asarray(y)
        if len(y) != len(X):  # checked before anything is embedded
            raise InputError(f"{len(y)} labels for {len(X)} inputs", field="y")
        articles, vectors, headlines, _ = self._inputs(X, {}, fitting=False)
        if names is None:
            names = [f for f in FEATURES if f != "support"] if articles is not None else ["dense"]
        return y, articles, vectors, headlines, names

    def _pairs_of(self, idx, articles, vectors, headlines, names):
        """Candidate pairs and signals of the input made of rows ``idx``, as ``fit`` scores them (rows index ``X``)."""
        order = idx[_order(vectors[idx], None if articles is None else [articles[i] for i in idx])]
        rows, cols, features = self._story_pairs(vectors[order], [articles[i] for i in order] if articles else None,
                                                 None if headlines is None else headlines[order], names)
        return np.minimum(order[rows], order[cols]), np.maximum(order[rows], order[cols]), features

    def _inputs(self, X, timings: dict, fitting: bool, embeddings=None):
        """``(articles or None, unit vectors, headline vectors or None, linkage)`` of the input.

        ``fitting``: also set ``embedder_``, ``embeddings_`` and ``n_features_in_`` (``training_pairs`` leaves
        the estimator as it was).
        """
        headlines = None
        articles = as_articles(X)
        given_articles = articles is not None
        linkage = self.linkage if self.linkage != "auto" else ("average" if given_articles else "hdbscan")
        if self.metric == "euclidean" and linkage == "average":
            raise InputError("linkage='average' works on cosine similarity; use metric='cosine', "
                             "or linkage='hdbscan' for Euclidean distances", field="metric")
        if given_articles:
            embedder = self.embedder
            if embedder is None:
                from ..embeddings import Embedder

                embedder = Embedder()
            with _timed(timings, "embed"):
                embedded = (embedder.embed_articles(articles) if embeddings is None
                            else _given_embeddings(embeddings, len(articles), embedder))
            vectors = embedded.vectors
            headlines = getattr(embedded, "headline_vectors", None)
            if fitting:
                self.embedder_ = embedder
                self.embeddings_ = embedded
                self.n_features_in_ = vectors.shape[1]
        elif embeddings is not None:
            raise InputError("embeddings= goes with a list of Articles; pass bare vectors as X", field="embeddings")
        elif fitting:
            vectors = validate_data(self, X, dtype=np.float64, ensure_min_samples=1)
        else:
            vectors = check_array(X, dtype=np.float64, ensure_min_samples=1)
        vectors = np.asarray(vectors, dtype=np.float32)
        if self.metric == "cosine":
            vectors = normalize(vectors)  # unit rows; an all-zero row stays zero
            if headlines is not None:
                headlines = normalize(np.asarray(headlines, dtype=np.float32))
        return articles, vectors, headlines, linkage

    def _story_pairs(self, vectors, articles, headlines, names, support=None, corpus=None):
        """Candidate pairs and signals of inputs already in canonical order, with this estimator's search settings."""
        return story_pairs(vectors, articles, self.n_neighbors, index=self.index, random_state=self.random_state,
                           nprobe=self.nprobe, show_progress=self.show_progress, names=names, headlines=headlines,
                           support=support, corpus=corpus)

    def _fit_average(self, vectors, articles, order, headlines, corpus=None):
        n = len(vectors)
        model = self.model or SameStoryModel.default(with_text=articles is not None)
        with _timed(self.timings_, "pairs"):
            rows, cols, features = self._story_pairs(vectors, articles, headlines, model.features, model.support,
                                                     corpus)
            p = model.probability(features)
        self.n_components_ = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n)),
                                                  directed=False)[0]
        with _timed(self.timings_, "linkage"):
            groups = average_linkage(n, rows, cols, p, self.threshold, show_progress=self.show_progress)
            if self.attach_alone:
                groups = attach_alone(groups, rows, cols, p, self.threshold)
        sizes = np.bincount(groups)
        labels = np.where(sizes[groups] >= self.min_cluster_size, groups, -1)
        # membership: mean probability over the article's scored pairs inside its storyline (as the linkage counts)
        same = groups[rows] == groups[cols]
        total = np.bincount(rows[same], p[same], minlength=n) + np.bincount(cols[same], p[same], minlength=n)
        count = np.bincount(rows[same], minlength=n) + np.bincount(cols[same], minlength=n)
        probs = np.where(labels >= 0, total / np.maximum(count, 1), 0.0)
        self.same_story_ = coo_matrix((np.r_[p, p], (order[np.r_[rows, cols]], order[np.r_[cols, rows]])),
                                      shape=(n, n)).tocsr()
        return labels, probs

    def _fit_hdbscan(self, vectors, order):
        with _timed(self.timings_, "pairs"):
            graph = knn_graph(vectors, max(self.n_neighbors, self.min_samples), self.metric, self.index, self.nprobe,
                              self.random_state, self.show_progress)
            graph, self.n_components_ = bridge_components(graph)
        inv = np.empty(len(order), dtype=np.intp)
        inv[order] = np.arange(len(order))
        self.graph_ = graph[inv][:, inv]  # input order
        hdb = HDBSCAN(min_cluster_size=self.min_cluster_size, min_samples=self.min_samples, metric="precomputed",
                      cluster_selection_method=self.cluster_selection_method,
                      cluster_selection_epsilon=self.cluster_selection_epsilon, copy=True)
        with _timed(self.timings_, "linkage"):
            labels = hdb.fit_predict(graph)
        labels[labels < -1] = -1  # scikit-learn's -2/-3 markers (infinite, missing) are noise here
        return labels, hdb.probabilities_

    def fit_predict(self, X, y=None, *, embeddings=None, term_counts=None):
        """Fit and return ``labels_``."""
        return self.fit(X, embeddings=embeddings, term_counts=term_counts).labels_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


def _given_embeddings(embeddings, n: int, embedder):
    """``embeddings`` passed to ``fit``, checked against the number of articles and the embedder's dimension;
    a bare array of article vectors is returned as an object with ``vectors`` (and no headline vectors)."""
    from ..embeddings import ArticleEmbeddings

    if isinstance(embeddings, ArticleEmbeddings) or hasattr(embeddings, "headline_vectors"):
        got = embeddings
    else:
        vectors = np.asarray(embeddings, dtype=np.float32)
        if vectors.ndim != 2:
            raise InputError(f"embeddings must be an ArticleEmbeddings or a 2-d array of article vectors, got "
                             f"shape {vectors.shape}", field="embeddings")
        got = SimpleNamespace(vectors=vectors, headline_vectors=None)
    if len(got.vectors) != n:
        raise InputError(f"embeddings of {len(got.vectors)} articles for {n} articles; pass the embeddings of "
                         "these articles, in order", field="embeddings")
    if got.vectors.shape[1] != embedder.dim:
        raise ModelMismatchError(f"embeddings of dimension {got.vectors.shape[1]}, the embedder "
                                 f"{embedder.fingerprint} gives {embedder.dim}; pass the model that made them as "
                                 "embedder=")
    return got


def _order(vectors: np.ndarray, articles) -> np.ndarray:
    """The canonical row order (article id, else the vector itself): ties between equal distances
    then break the same way whatever order the input came in."""
    if articles is not None:
        return np.argsort(np.array([a.id for a in articles], dtype=object), kind="stable")
    return _canonical_order(vectors)


def _canonical_order(vectors: np.ndarray) -> np.ndarray:
    """Rows sorted by a fixed random projection (then by their first columns): the same order for any input order.

    Each row's key is summed over its own columns only, so it does not depend on where the row sits
    (a full lexsort of 384 columns cost seconds per 100,000 rows).
    """
    r = np.random.default_rng(12345).standard_normal(vectors.shape[1]).astype(np.float32)
    key = np.empty(len(vectors))
    for start in range(0, len(vectors), 65536):
        key[start:start + 65536] = (vectors[start:start + 65536] * r).sum(axis=1, dtype=np.float64)
    return np.lexsort(tuple(vectors[:, j] for j in range(min(3, vectors.shape[1]) - 1, -1, -1)) + (key,))


@contextmanager
def _timed(timings: dict, stage: str):
    start = time.perf_counter()
    try:
        yield
    finally:
        timings[stage] = timings.get(stage, 0.0) + time.perf_counter() - start


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
