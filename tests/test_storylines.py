import random
from datetime import datetime

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from storyclust import InputError, StoryClusterer, load_articles
from storyclust.evaluation import bcubed
from storyclust.storylines import bridge_components, knn_graph

from conftest import SEEDS


def _blobs(sizes, d=32, spread=0.05, seed=0, offset=0.5):
    """Storyline-like vectors: events of one kind share a direction (centres at cosine ~0.8; ~0.5 with offset 1)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=d)
    X, y = [], []
    for label, n in enumerate(sizes):
        c = base + offset * rng.normal(size=d)
        X.append(c + spread * rng.normal(size=(n, d)) * np.linalg.norm(c) / np.sqrt(d))
        y += [label] * n
    return np.vstack(X), np.array(y)


@pytest.mark.parametrize("linkage, offset", [("average", 1.0), ("auto", 0.5)])
def test_finds_blobs_and_calls_outliers_noise(linkage, offset):
    # average linkage scores pairs by cosine (storylines of one kind at ~0.5 stay apart); HDBSCAN (the default
    # for vectors) goes by density
    X, y = _blobs([6, 5, 4], offset=offset)
    outliers = np.random.default_rng(1).normal(size=(3, 32)) * 5
    labels = StoryClusterer(linkage=linkage).fit_predict(np.vstack([X, outliers]))
    assert adjusted_rand_score(y, labels[:15]) == 1.0
    assert set(labels[:15]) == {0, 1, 2}
    assert (labels[15:] == -1).all()


def test_vectors_of_one_kind_merge_above_the_cosine_the_vector_model_links():
    # centres at cosine ~0.8: one storyline for the cosine model, three for HDBSCAN's density
    X, y = _blobs([6, 5, 4], offset=0.5)
    assert len(set(StoryClusterer(linkage="average").fit_predict(X).tolist())) == 1
    assert len(set(StoryClusterer().fit_predict(X).tolist())) == 3


def test_knn_graph_is_symmetric_sparse_and_floors_zero_distances():
    X = np.vstack([np.eye(4), np.eye(4)[:1]]).astype(np.float32)  # row 4 duplicates row 0
    g = knn_graph(X, k=2)
    assert (g != g.T).nnz == 0
    assert g[0, 4] > 0 and g[0, 4] < 1e-5  # an edge, not a missing entry
    assert g.nnz <= 2 * 2 * 5


def test_disconnected_components_are_bridged_not_an_error():
    X, y = _blobs([5, 5, 5], spread=0.01)
    g = knn_graph(X.astype(np.float32), k=3)
    bridged, n_comp = bridge_components(g)
    assert n_comp == 3
    from scipy.sparse.csgraph import connected_components
    assert connected_components(bridged)[0] == 1
    est = StoryClusterer(n_neighbors=3).fit(X)
    assert est.n_components_ == 3 and adjusted_rand_score(y, est.labels_) == 1.0


def test_duplicate_vectors_and_tiny_inputs():
    X = np.repeat(np.eye(3, 8), 3, axis=0)
    assert adjusted_rand_score(np.repeat([0, 1, 2], 3), StoryClusterer().fit_predict(X)) == 1.0
    # fewer rows than n_neighbors
    assert adjusted_rand_score([0, 0, 0, 1, 1, 1], StoryClusterer(n_neighbors=50).fit_predict(X[:6])) == 1.0
    assert StoryClusterer().fit_predict(np.ones((1, 4))).tolist() == [-1]
    assert StoryClusterer(linkage="average").fit_predict(np.ones((2, 4))).tolist() == [0, 0]  # two copies
    assert StoryClusterer().fit_predict(np.ones((2, 4))).tolist() == [-1, -1]  # HDBSCAN: n <= min_samples


def test_bad_parameters_are_named():
    with pytest.raises(InputError, match="min_cluster_size"):
        StoryClusterer(min_cluster_size=1).fit(np.ones((5, 2)))
    with pytest.raises(InputError, match="cluster_selection_method"):
        StoryClusterer(cluster_selection_method="x").fit(np.ones((5, 2)))


MIXED = [
    ("de-1", "Der russische Verteidigungsminister Andrei Belousov ist zu Gesprächen mit der militärischen Führung "
             "Nordkoreas in Pjöngjang eingetroffen.", "2024-11-29"),
    ("en-1", "Russian Defence Minister Andrei Belousov arrived in Pyongyang for talks with North Korea's "
             "military leadership.", "2024-11-29"),
    ("en-2", "Belousov praised growing military cooperation between Russia and North Korea during his visit "
             "to Pyongyang.", "2024-11-30"),
    ("de-2", "Schwere Überschwemmungen in Valencia: Nach heftigen Regenfällen wurden Tausende Menschen "
             "evakuiert.", "2024-10-30"),
    ("en-3", "Severe floods in Valencia: thousands of people were evacuated after torrential rain.", "2024-10-30"),
    ("en-4", "Rescue teams in Valencia searched flooded streets after the torrential rain, thousands evacuated.",
     "2024-10-31"),
]


def test_german_and_english_articles_on_one_event_share_a_storyline(embedder):
    arts = load_articles([{"id": i, "text": t, "date": d} for i, t, d in MIXED])
    est = StoryClusterer(embedder=embedder).fit(arts)
    assert est.embedder_ is embedder
    lab = dict(zip([a.id for a in arts], est.labels_))
    assert lab["de-1"] == lab["en-1"] == lab["en-2"] != -1
    assert lab["de-2"] == lab["en-3"] == lab["en-4"] != -1
    assert lab["de-1"] != lab["de-2"]
    flood = next(s for s in est.storylines_ if "de-2" in s.article_ids)
    assert "valencia" in flood.keywords
    assert flood.start == datetime(2024, 10, 30) and flood.end == datetime(2024, 10, 31)
    assert flood.headline in {a.headline for a in arts}


def test_labels_do_not_depend_on_input_order(ecb_articles, embedder):
    base = StoryClusterer(embedder=embedder, random_state=0).fit(ecb_articles)
    by_id = dict(zip([a.id for a in ecb_articles], base.labels_))
    for seed in range(5):
        shuffled = list(ecb_articles)
        random.Random(seed).shuffle(shuffled)
        labels = StoryClusterer(embedder=embedder, random_state=0).fit_predict(shuffled)
        # storylines are numbered by their earliest article, so even the label names agree
        assert dict(zip([a.id for a in shuffled], labels)) == by_id
    again = StoryClusterer(embedder=embedder, random_state=0).fit(ecb_articles)
    assert (again.labels_ == base.labels_).all()
    assert [s.to_dict() for s in again.storylines_] == [s.to_dict() for s in base.storylines_]


def test_ecb_reporting_topics_cluster_well(ecb_articles, embedder):
    est = StoryClusterer(embedder=embedder).fit(ecb_articles)
    gold = [a.extra["cluster_id"] for a in ecb_articles]
    p, r, f1 = bcubed(gold, est.labels_)
    # the shipped model is fitted to be right on one-off reports too, and keeps ECB+'s events apart rather than
    # together when unsure: precision first (benchmarks/results/storylines.md)
    assert f1 >= 0.86 and p >= 0.97, (p, r, f1)
    assert all(s.keywords and s.headline for s in est.storylines_)


def test_fit_leaves_its_parameters_alone(monkeypatch, tmp_path):
    monkeypatch.setenv("STORYCLUST_CACHE_DIR", str(tmp_path))
    est = StoryClusterer().fit(load_articles([{"id": i, "text": t} for i, t, _ in MIXED]))
    assert est.embedder is None and est.embedder_.model_name == "use-multilingual-v3"


def test_single_seed_article_is_noise_not_an_error(embedder):
    est = StoryClusterer(embedder=embedder).fit(load_articles(SEEDS))
    assert est.labels_.tolist() == [-1] and est.storylines_ == []


# scikit-learn's own estimator checks. check_clustering clusters 2-D blobs centred
# on the origin, which HDBSCAN on cosine distance (angles only) cannot separate by
# design; it runs in full with metric="euclidean" and with linkage="average".
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

COSINE_ONLY_EXPECTED = {"check_clustering": "2-D blobs around the origin are not separable by angle"}


@parametrize_with_checks([StoryClusterer(metric="euclidean"), StoryClusterer(), StoryClusterer(linkage="average")],
                         expected_failed_checks=lambda est: (COSINE_ONLY_EXPECTED if est.metric == "cosine"
                                                             and est.linkage != "average" else {}))
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
