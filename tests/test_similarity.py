"""The stages of the default storyline pipeline: entity terms, candidate pairs, pair signals, model, linkage."""

from datetime import datetime

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import adjusted_rand_score

from storyclust import Article, InputError, StoryClusterer, load_articles
from storyclust.documents import guess_language
from storyclust.storylines import (FEATURES, SameStoryModel, average_linkage, candidate_pairs, entity_matrix,
                                   entity_terms, pair_features, story_pairs)


# ----------------------------------------------------------------------------- entity terms

def test_entity_terms_are_names_and_numbers_not_sentence_starts():
    terms = entity_terms("Police said Jimmy Shopteese, 15, was shot at the Burger King. Officers arrived at 3:55.")
    assert terms == ["jimmy", "shopteese", "15", "burger", "king", "3:55"]
    assert "police" not in terms and "officers" not in terms  # capitalised only because they start a sentence
    # German: nouns are capitalised too; names and numbers are there all the same
    de = entity_terms("Am Montag wurde in Köln ein 19-jähriger Mann von der Polizei festgenommen.")
    assert {"köln", "19-jähriger", "polizei"} <= set(de)


def test_entity_matrix_rows_are_unit_or_empty():
    arts = [Article("a", "He met Angela Merkel in Berlin."), Article("b", "it rained all day.")]
    m = entity_matrix(arts)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    assert np.allclose(norms, [1.0, 0.0])
    assert entity_matrix([Article("c", "nothing here.")]).shape[0] == 1


def test_guess_language():
    assert guess_language("Die Polizei hat am Montag einen Mann festgenommen, der verdächtigt wird.") == "de"
    assert guess_language("Police arrested a man on Monday who is suspected of the shooting.") == "en"
    assert guess_language("La police a arrêté un homme qui est soupçonné.") == "fr"
    assert guess_language("") is None


# ----------------------------------------------------------------------------- candidate pairs

def test_candidate_pairs_take_entity_neighbours_that_vectors_miss():
    # rows 0 and 3 are far apart as vectors, but share rare entity terms
    x = np.eye(4, dtype=np.float32)
    x[1] = x[0] * 0.9 + x[1] * 0.1
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    arts = [Article("0", "Then Jimmy Shopteese went home."), Article("1", "nothing."), Article("2", "nothing again."),
            Article("3", "Then Jimmy Shopteese came back.")]
    dense_only = set(zip(*candidate_pairs(x, k=1)))
    both = set(zip(*candidate_pairs(x, k=1, entities=entity_matrix(arts))))
    assert (0, 3) not in {(int(a), int(b)) for a, b in dense_only}
    assert (0, 3) in {(int(a), int(b)) for a, b in both}


def test_candidate_pairs_small_inputs_and_duplicates():
    assert [len(a) for a in candidate_pairs(np.ones((1, 4), np.float32), k=5)] == [0, 0]
    rows, cols = candidate_pairs(np.ones((3, 4), np.float32) / 2, k=10)  # n < k, all rows identical
    assert sorted(zip(rows.tolist(), cols.tolist())) == [(0, 1), (0, 2), (1, 2)]
    assert (rows < cols).all()


# ----------------------------------------------------------------------------- pair signals and model

def test_pair_features():
    x = np.array([[1, 0, 0], [0.8, 0.6, 0], [0, 0, 1]], dtype=np.float32)
    rows, cols = np.array([0, 0, 1]), np.array([1, 2, 2])
    f = pair_features(rows, cols, x, days=np.array([0.0, 9.0, np.nan]), languages=["de", "en", None])
    assert set(f) == set(FEATURES)
    assert np.allclose(f["dense"], [0.8, 0.0, 0.0])
    assert np.allclose(f["days"], [np.log(10), 0, 0]) and f["undated"].tolist() == [0, 1, 1]
    # rank: 0 and 1 are each other's nearest (log 1 + log 1); 2 is second for both
    assert f["rank"][0] == 0 and f["rank"][1] > 0
    assert f["cross_lingual"].tolist() == [1, 0, 0]  # unknown language never counts as different
    assert np.allclose(f["cross_lingual_dense"], [0.8, 0, 0])


def test_same_story_model_checks_and_fits():
    with pytest.raises(InputError, match="unknown pair features"):
        SameStoryModel(("dense", "colour"), (1.0, 1.0), 0.0)
    with pytest.raises(InputError, match="2 coefficients for 1 features"):
        SameStoryModel(("dense",), (1.0, 1.0), 0.0)
    f = {"dense": np.array([0.1, 0.2, 0.8, 0.9]), "entity": np.zeros(4)}
    with pytest.raises(InputError, match="both same-story and different-story"):
        SameStoryModel.fit(f, np.ones(4))
    m = SameStoryModel.fit(f, np.array([0, 0, 1, 1]), names=["dense"])
    assert m.features == ("dense",) and m.coef[0] > 0
    p = m.probability(f)
    assert (np.diff(p) > 0).all() and p[0] < 0.5 < p[-1]
    # the shipped models use known signals only
    assert set(SameStoryModel.default().features) == set(FEATURES)
    assert SameStoryModel.default(with_text=False).features == ("dense",)


# ----------------------------------------------------------------------------- average linkage

def _reference_linkage(n, edges, threshold):
    """Brute force: merge the two groups with the highest mean over the edges between them, while >= threshold."""
    groups = [{i} for i in range(n)]
    while True:
        best = None
        for x in range(len(groups)):
            for y in range(x + 1, len(groups)):
                between = [s for (a, b), s in edges.items() if (a in groups[x] and b in groups[y])
                           or (a in groups[y] and b in groups[x])]
                if between and np.mean(between) >= threshold and (best is None or np.mean(between) > best[0]):
                    best = (np.mean(between), x, y)
        if best is None:
            break
        _, x, y = best
        groups[x] |= groups.pop(y)
    labels = np.empty(n, dtype=int)
    for g, members in enumerate(groups):
        labels[list(members)] = g
    return labels


def test_average_linkage_matches_scipy_on_complete_graphs_and_brute_force_on_sparse_ones():
    rng = np.random.default_rng(0)
    for trial in range(60):
        n = int(rng.integers(2, 25))
        s = rng.random((n, n)) ** rng.uniform(0.3, 3)
        s = (s + s.T) / 2
        threshold = float(rng.uniform(0.3, 0.7))
        complete = trial < 30
        keep = np.triu(rng.random((n, n)) < (1.0 if complete else rng.uniform(0.1, 0.9)), 1)
        r, c = np.nonzero(keep)
        mine = average_linkage(n, r, c, s[r, c], threshold)
        if complete:  # UPGMA
            d = 1 - s
            np.fill_diagonal(d, 0)
            ref = fcluster(linkage(squareform(d, checks=False), "average"), t=1 - threshold, criterion="distance")
        else:
            ref = _reference_linkage(n, {(int(a), int(b)): float(s[a, b]) for a, b in zip(r, c)}, threshold)
        assert adjusted_rand_score(ref, mine) == 1.0, trial


def test_a_large_storyline_is_not_torn_apart_by_the_sparse_graph():
    # 300 articles, each scored against only its 10 nearest: one storyline, not chunks of ~40
    n, k = 300, 10
    rows = np.repeat(np.arange(n), k)
    cols = (rows + np.tile(np.arange(1, k + 1), n)) % n
    rows, cols = np.minimum(rows, cols), np.maximum(rows, cols)
    assert len(set(average_linkage(n, rows, cols, np.full(len(rows), 0.8)).tolist())) == 1


def test_average_linkage_edge_cases():
    assert average_linkage(0, [], [], []).tolist() == []
    assert average_linkage(3, [], [], []).tolist() == [0, 1, 2]
    # a chain whose ends were scored as unrelated: single links would join all three, the average does not
    labels = average_linkage(3, np.array([0, 1, 0]), np.array([1, 2, 2]), np.array([0.9, 0.8, 0.1]), 0.5)
    assert labels[0] == labels[1] != labels[2]
    # pairs never scored do not count against a merge
    assert len(set(average_linkage(3, np.array([0, 1]), np.array([1, 2]), np.array([0.9, 0.8])).tolist())) == 1
    # two components never merge, however strong inside
    labels = average_linkage(4, np.array([0, 2]), np.array([1, 3]), np.array([1.0, 1.0]))
    assert labels.tolist() == [0, 0, 1, 1]


# ----------------------------------------------------------------------------- the storyline rule on articles

EVENTS = [
    # a shooting in Wichita, its follow-up three months later (same names), and another Wichita shooting a year later
    ("w1", "2016-11-24", "Teen shot at Burger King in Wichita",
     "Wichita police say Jimmy Shopteese, 15, died after being shot at the Burger King on East Pawnee late Wednesday. "
     "Officers found Shopteese in the parking lot. Detective Ryan Bush said a 17-year-old suspect fled on foot."),
    ("w2", "2016-11-25", "Boy, 15, dies in Wichita shooting",
     "Jimmy Shopteese, a student at South High School, died after the shooting at the Burger King on East Pawnee, "
     "Wichita police said. Detective Ryan Bush asked witnesses to call Crime Stoppers."),
    ("w3", "2017-02-21", "Arrest in Burger King killing of Jimmy Shopteese",
     "Wichita police arrested a 17-year-old in the killing of Jimmy Shopteese, who was shot at the Burger King on "
     "East Pawnee in November. Detective Ryan Bush said the suspect will be charged with second-degree murder."),
    ("w4", "2017-11-30", "Man shot outside Wichita bar",
     "Wichita police say Marcus Trent, 31, was wounded outside the Lucky Star bar on North Broadway early Thursday. "
     "Sergeant Paula Kemp said two men argued before shots were fired."),
    ("w5", "2017-12-01", "Victim named in North Broadway bar shooting",
     "Marcus Trent, 31, remains in hospital after he was shot outside the Lucky Star bar on North Broadway, "
     "Sergeant Paula Kemp of the Wichita police said."),
    # the same kind of event in another town, the same week as w1, told in nearly the same words
    ("t1", "2016-11-24", "Teen shot at Sonic in Tulsa",
     "Tulsa police say Andre Collins, 16, died after being shot at the Sonic on South Peoria late Wednesday. "
     "Officers found Collins in the parking lot. Detective Luke Sherman said a 17-year-old suspect fled on foot."),
    ("t2", "2016-11-25", "Boy, 16, dies in Tulsa shooting",
     "Andre Collins, a student at Memorial High School, died after the shooting at the Sonic on South Peoria, "
     "Tulsa police said. Detective Luke Sherman asked witnesses to call Crime Stoppers."),
]


def test_storylines_follow_one_event_not_one_kind_of_event(embedder):
    arts = load_articles([{"id": i, "date": d, "title": t, "text": x} for i, d, t, x in EVENTS])
    est = StoryClusterer(embedder=embedder).fit(arts)
    lab = dict(zip([a.id for a in arts], est.labels_))
    assert lab["w1"] == lab["w2"] == lab["w3"] != -1  # the arrest three months later is the same storyline
    assert lab["w4"] == lab["w5"] != -1
    assert lab["w4"] != lab["w1"]  # same town a year later: another storyline
    assert lab["t1"] == lab["t2"] != -1 and lab["t1"] != lab["w1"]  # same week, same kind, other town
    # probabilities and the pair matrix are in input order and make sense
    assert est.same_story_.shape == (7, 7) and (est.same_story_ != est.same_story_.T).nnz == 0
    ids = [a.id for a in arts]
    assert est.same_story_[ids.index("w1"), ids.index("w2")] > 0.5
    assert ((est.probabilities_ > 0.5) == (est.labels_ >= 0)).all()
    assert set(est.timings_) == {"embed", "pairs", "linkage", "describe"}


def test_storylines_do_not_depend_on_input_order_on_dated_articles(embedder):
    arts = load_articles([{"id": i, "date": d, "title": t, "text": x} for i, d, t, x in EVENTS])
    base = dict(zip([a.id for a in arts], StoryClusterer(embedder=embedder).fit_predict(arts)))
    for seed in range(3):
        shuffled = [arts[i] for i in np.random.default_rng(seed).permutation(len(arts))]
        assert dict(zip([a.id for a in shuffled], StoryClusterer(embedder=embedder).fit_predict(shuffled))) == base


def test_linkage_and_threshold_are_checked():
    x = np.random.default_rng(0).normal(size=(6, 4))
    with pytest.raises(InputError, match="linkage must be"):
        StoryClusterer(linkage="single").fit(x)
    with pytest.raises(InputError, match="threshold"):
        StoryClusterer(threshold=1.5).fit(x)
    with pytest.raises(InputError, match="metric='cosine'"):
        StoryClusterer(linkage="average", metric="euclidean").fit(x)
    with pytest.raises(InputError, match="SameStoryModel"):
        StoryClusterer(model="fast").fit(x)


def test_average_linkage_on_bare_vectors():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 32))
    X = np.vstack([c + 0.05 * rng.normal(size=(5, 32)) for c in centres] + [rng.normal(size=(3, 32)) * 3])
    labels = StoryClusterer(linkage="average").fit_predict(X)
    assert adjusted_rand_score(np.repeat([0, 1, 2], 5), labels[:15]) == 1.0
    assert (labels[15:] == -1).all()


def test_story_pairs_match_the_clusterer(embedder):
    arts = load_articles([{"id": i, "date": d, "title": t, "text": x} for i, d, t, x in EVENTS])
    vecs = embedder.embed_articles(arts).vectors
    rows, cols, f = story_pairs(vecs, arts)
    est = StoryClusterer(embedder=embedder).fit(arts)  # arts are already in id order
    p = SameStoryModel.default().probability(f)
    assert np.allclose(est.same_story_[rows, cols].A1, p)
    assert datetime(2016, 11, 24) == est.storylines_[0].start


def test_euclidean_with_articles_is_refused_before_embedding():
    class NoEmbedder:
        def embed_articles(self, arts):
            raise AssertionError("embedded before the parameters were checked")

    with pytest.raises(InputError, match="metric='cosine'"):
        StoryClusterer(metric="euclidean", embedder=NoEmbedder()).fit([Article("a", "text"), Article("b", "more")])


def test_membership_of_a_large_storyline_averages_its_scored_pairs():
    # 60 near-identical vectors with an explicit model: one storyline, each article's membership near its pairs' mean
    x = np.ones((60, 8), dtype=np.float32) + 0.01 * np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)
    est = StoryClusterer(linkage="average", n_neighbors=5, model=SameStoryModel(("dense",), (10.0,), -5.0)).fit(x)
    assert len(set(est.labels_.tolist())) == 1
    assert (est.probabilities_ > 0.9).all()  # counting unscored pairs as 0 would give about 10 / 59
