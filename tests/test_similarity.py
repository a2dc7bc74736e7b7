"""The stages of the default storyline pipeline: entity terms, candidate pairs, pair signals, model, linkage."""

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform
from sklearn.metrics import adjusted_rand_score

from storyclust import Article, InputError, StoryClusterer, load_articles
from storyclust.documents import guess_language
from storyclust.storylines import (DEFAULT_FEATURES, FEATURES, ArticleSignals, PairClassifier, SameStoryModel, ages,
                                   article_signals, attach_alone, average_linkage, candidate_pairs, entity_matrix, entity_terms,
                                   fit_same_story_model, pair_features, rare_term_matrix, story_pairs, support_signal,
                                   times)


# ----------------------------------------------------------------------------- entity terms

def test_entity_terms_are_names_and_numbers_not_sentence_starts():
    terms = entity_terms("Police said Jimmy Shopteese, 15, was shot at the Burger King. Officers arrived at 3:55.")
    assert terms == ["jimmy", "shopteese", "15", "burger", "king", "3:55"]
    assert "police" not in terms and "officers" not in terms  # capitalised only because they start a sentence
    # German: nouns are capitalised too; names and numbers stay, common nouns go
    de = entity_terms("Am Montag wurde in Köln ein 19-jähriger Mann von der Polizei festgenommen. Laut der "
                      "Regierung traf Minister Schoigu am Abend Wolfgang Katzian.")
    assert {"köln", "19-jähriger", "schoigu", "wolfgang", "katzian"} <= set(de)
    assert not {"mann", "polizei", "regierung", "abend"} & set(de)
    # the same words in English text are kept: only German capitalises its nouns
    assert "polizei" in entity_terms("The officers of the Polizei arrived in time.", lang="en")


def test_a_sentence_start_is_a_name_when_rare_or_capitalised_elsewhere():
    terms = entity_terms("DOUGLASVILLE, Ga. (AP) - A man shot six people. Investigators said Cedric Prather, 33, "
                         "fled.\nPrather left no note. Chicago police, said a Chicago spokesman, were not involved.")
    # a dateline's town and a surname are rare words; "Chicago" is capitalised mid-sentence too
    assert terms.count("douglasville") == 1 and terms.count("prather") == 2 and terms.count("chicago") == 2
    assert "investigators" not in terms and "a" not in terms  # common words that start sentences
    # German: a sentence-initial common noun is still a noun, a rare name is kept
    de = entity_terms("Polizei und Feuerwehr kamen spät. Schoigu sagte nichts dazu.", lang="de")
    assert "schoigu" in de and "polizei" not in de


def test_entity_matrix_rows_are_unit_or_empty():
    arts = [Article("a", "He met Angela Merkel in Berlin."), Article("b", "it rained all day.")]
    m = entity_matrix(arts)
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    assert np.allclose(norms, [1.0, 0.0])
    assert entity_matrix([Article("c", "nothing here.")]).shape[0] == 1


def test_ages_in_english_and_german():
    assert ages("A 17-year-old boy and a 4-year-old girl were hurt. Jane Doe, 35, was charged.") == {"17", "4", "35"}
    assert ages("Der 19-Jährige und ein 40 Jahre alter Mann, der Mann ist 40 Jahre alt.") == {"19", "40"}
    assert ages("In 2016, 3 people were shot on 5th Street.") == set()


def test_clock_times_in_english_german_and_french():
    assert times("Shots rang out about 6:30 p.m. Monday; a second call came at 11 PM.") == {1110, 1380}
    assert times("He was found at noon and died before midnight.") == {720, 0}
    assert times("Gegen 18.30 Uhr fielen Schüsse, um 7 Uhr kam die Polizei.") == {1110, 420}
    assert times("Les tirs ont éclaté à 18h30.") == {1110}
    # a video's length, a score, a year, an age and impossible hours are not times
    assert times("The video runs 0:47; the score was 2:1; in 2016 he was 17; at 13 p.m.; um 25 Uhr.") == set()


def test_clock_times_match_within_half_an_hour_round_the_clock():
    x = np.eye(5, dtype=np.float32)
    sig = ArticleSignals(times=[{1110}, {1125, 300}, {1430}, {10}, set()])  # 18:30, 18:45 and 5:00, 23:50, 0:10, none
    rows, cols = np.array([0, 0, 2, 0]), np.array([1, 2, 3, 4])
    f = pair_features(rows, cols, x, sig, names=["time_match", "time_conflict"])
    assert f["time_match"].tolist() == [1, 0, 1, 0]
    assert f["time_conflict"].tolist() == [0, 1, 0, 0]  # no time given: neither
    assert Article("a", "Shots were fired about 6 p.m.").times == {1080}


def test_rare_term_matrix_counts_shared_rare_terms_only():
    terms = [["smith", "ohio", "akron"], ["smith", "ohio"], ["ohio"], ["akron"]]
    m = rare_term_matrix(terms, max_articles=2, max_share=1.0)  # "ohio" is in three articles: not rare
    shared = (m @ m.T).toarray()
    assert shared[0, 1] == 1 and shared[0, 3] == 1 and shared[1, 2] == 0
    assert rare_term_matrix([[], []]).shape[0] == 2
    assert rare_term_matrix(terms).nnz == 0  # four articles are too few to call a term rare
    with pytest.raises(InputError, match="at least 1"):
        rare_term_matrix(terms, max_articles=0)


def test_article_site_from_source_or_url():
    assert Article("a", "", url="https://www.wave3.com/story/1").site == "wave3.com"
    archived = "http://web.archive.org/web/20160713033953/http://ktla.com:80/2016/02/09/baby-shot/"
    assert Article("b", "", url=archived).site == "ktla.com"
    assert Article("c", "", url="ktla.com/2016/x").site == "ktla.com"
    assert Article("d", "", url="http://[bad").site is None
    assert Article("e", "", url="https://ktla.com/x", source="KTLA 5").site == "ktla 5"


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
    sig = ArticleSignals(days=np.array([0.0, 9.0, np.nan]), languages=["de", "en", None],
                         sites=["ksla.com", "ksla.com", None], ages=[{"17", "35"}, {"17"}, {"40"}],
                         headlines=np.eye(3, dtype=np.float32))
    f = pair_features(rows, cols, x, sig, names=[n for n in FEATURES if n != "support"])
    assert set(f) == set(FEATURES) - {"support"}
    assert np.allclose(f["dense"], [0.8, 0.0, 0.0])
    assert np.allclose(f["days"], [np.log(10), 0, 0]) and f["undated"].tolist() == [0, 1, 1]
    assert f["days_beyond_month"].tolist() == [0, 0, 0]
    # rank: 0 and 1 are each other's nearest (log 1 + log 1); 2 is second for both
    assert f["rank"][0] == 0 and f["rank"][1] > 0
    assert f["cross_lingual"].tolist() == [1, 0, 0]  # unknown language never counts as different
    assert np.allclose(f["cross_lingual_dense"], [0.8, 0, 0])
    assert f["same_site"].tolist() == [1, 0, 0]  # an unknown site is never the same
    assert f["age_match"].tolist() == [1, 0, 0] and f["age_conflict"].tolist() == [0, 1, 1]
    assert f["headline"].tolist() == [0, 0, 0]  # the headline vectors, not the article vectors
    assert f["rare_names"].tolist() == [0, 0, 0]  # no entity input: nothing shared
    # without per-article signals only the vectors speak
    bare = pair_features(rows, cols, x, names=["dense", "same_site", "headline", "age_conflict"])
    assert bare["same_site"].tolist() == [0, 0, 0] and np.allclose(bare["headline"], bare["dense"])
    with pytest.raises(InputError, match="first-stage model"):
        pair_features(rows, cols, x, sig, names=["support"])


def test_days_beyond_month_and_rare_names():
    x = np.eye(3, dtype=np.float32)
    arts = load_articles([{"id": "a", "text": "Police named the victim as Jimmy Shopteese of Akron.", "date": "2016-01-01"},
                          {"id": "b", "text": "Jimmy Shopteese was remembered in Akron.", "date": "2016-07-01"},
                          {"id": "c", "text": "Another day in Akron.", "date": "2016-01-03"}])
    sig = article_signals(arts)
    rows, cols = np.array([0, 0, 1]), np.array([1, 2, 2])
    f = pair_features(rows, cols, x, sig, names=["days", "days_beyond_month", "rare_names"])
    assert f["days_beyond_month"][0] == pytest.approx(np.log1p(182) - np.log1p(30))
    assert f["days_beyond_month"][1] == 0
    assert f["rare_names"].tolist() == [0, 0, 0]  # three articles are too few to call a term rare
    # with a looser definition every term is rare: a and b share "shopteese" and "akron" (b's "Jimmy" starts
    # its sentence, so it is no entity term there), a and c and b and c share "akron"
    terms = [entity_terms(a.cleaned.full) for a in arts]
    sig.rare = rare_term_matrix(terms, max_articles=3, max_share=1.0)
    f = pair_features(rows, cols, x, sig, names=["rare_names"])
    assert f["rare_names"].tolist() == pytest.approx([np.log(3), np.log(2), np.log(2)])


def test_support_signal_is_the_best_two_step_path():
    rng = np.random.default_rng(0)
    n = 12
    pairs = sorted({tuple(sorted(rng.choice(n, 2, replace=False))) for _ in range(30)})
    rows, cols = np.array(pairs).T
    p = rng.random(len(rows))
    full = np.zeros((n, n))
    full[rows, cols] = full[cols, rows] = p
    expected = [max(full[i, k] * full[k, j] for k in range(n)) for i, j in zip(rows, cols)]
    assert np.allclose(support_signal(n, rows, cols, p, block=7), expected)


def test_two_stage_model_fit_and_checks():
    rng = np.random.default_rng(1)
    rows, cols = np.triu_indices(30, 1)
    groups = np.repeat(np.arange(10), 3)
    same = groups[rows] == groups[cols]
    f = {"dense": np.where(same, 0.7, 0.4) + 0.15 * rng.normal(size=len(rows))}
    m = fit_same_story_model([(30, rows, cols, f, same, np.ones(len(rows)))], ("dense", "support"), "logistic",
                             interactions=False)  # additive, so that the sign of support's weight means something
    assert m.support.features == ("dense",) and m.coef[1] > 0  # a shared third article is evidence
    p = m.probability({"dense": f["dense"], "support": support_signal(30, rows, cols, m.support.probability(f))})
    assert p[same].mean() > 0.5 > p[~same].mean()
    with pytest.raises(InputError, match="first-stage model"):
        SameStoryModel(("dense", "support"), (1.0, 1.0), 0.0)
    with pytest.raises(InputError, match="cannot use 'support' itself"):
        SameStoryModel(("support",), (1.0,), 0.0, support=m)


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
    assert SameStoryModel.default().features == DEFAULT_FEATURES and set(DEFAULT_FEATURES) < set(FEATURES)
    assert SameStoryModel.default(with_text=False).features == ("dense",)


def test_products_of_two_signals_learn_what_a_sum_cannot():
    # one storyline when the two articles share names *and* are close in time; either alone says little
    rng = np.random.default_rng(3)
    n = 4000
    entity, days = rng.random(n), rng.uniform(0, 5, n)
    same = (entity > 0.5) & (days < 2.5)
    f = {"entity": entity, "days": days}
    additive = SameStoryModel.fit(f, same)
    both = SameStoryModel.fit(f, same, interactions=True)
    assert additive.interactions == () and [t[:2] for t in both.interactions] == [("entity", "days")]
    assert both.interactions[0][2] < 0  # the further apart in time, the less shared names count
    acc = {name: ((m.probability(f) > 0.5) == same).mean() for name, m in [("sum", additive), ("products", both)]}
    assert acc["products"] > acc["sum"] + 0.02 and acc["products"] > 0.9


def test_products_are_written_back_in_raw_signals():
    # the fit standardises the products; the stored weights must give the same probabilities on the raw signals
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    rng = np.random.default_rng(4)
    X = rng.normal(size=(500, 3)) * [1.0, 10.0, 0.1] + [0.0, 5.0, 1.0]
    y = (X[:, 0] + 0.1 * X[:, 1] * X[:, 2] + rng.normal(size=500) > 0.5).astype(int)
    f = {"dense": X[:, 0], "days": X[:, 1], "entity": X[:, 2]}
    m = SameStoryModel.fit(f, y, names=("dense", "days", "entity"), C=1.0, interactions=True)
    pipe = make_pipeline(PolynomialFeatures(2, interaction_only=True, include_bias=False), StandardScaler(),
                         LogisticRegression(C=1.0, max_iter=5000)).fit(X, y)
    assert np.abs(m.probability(f) - pipe.predict_proba(X)[:, 1]).max() < 1e-3
    # only the signals asked for get products
    m2 = SameStoryModel.fit(f, y, names=("dense", "days", "entity"), interactions=["days", "entity"])
    assert [t[:2] for t in m2.interactions] == [("days", "entity")]
    with pytest.raises(InputError, match="not among the signals fitted"):
        SameStoryModel.fit(f, y, names=("dense", "days"), interactions=["entity"])
    with pytest.raises(InputError, match="an interaction is"):
        SameStoryModel(("dense",), (1.0,), 0.0, interactions=(("dense", "entity", 1.0),))


def test_a_logistic_fit_keeps_the_cross_lingual_terms_additive():
    rng = np.random.default_rng(5)
    rows, cols = np.triu_indices(30, 1)
    groups = np.repeat(np.arange(10), 3)
    same = groups[rows] == groups[cols]
    f = {"dense": np.where(same, 0.7, 0.4) + 0.15 * rng.normal(size=len(rows)), "days": rng.random(len(rows)),
         "cross_lingual": (rng.random(len(rows)) < 0.3).astype(float)}
    m = fit_same_story_model([(30, rows, cols, f, same, np.ones(len(rows)))], ("dense", "days", "cross_lingual"),
                             "logistic")
    assert [t[:2] for t in m.interactions] == [("dense", "days")]


def test_a_scikit_learn_classifier_as_the_pair_model():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.tree import DecisionTreeClassifier

    rng = np.random.default_rng(2)
    rows, cols = np.triu_indices(30, 1)
    groups = np.repeat(np.arange(10), 3)
    same = groups[rows] == groups[cols]
    # not linear: one storyline when the cosine is high *or* the date gap is tiny, whatever the other says
    days = np.where(same & (rng.random(len(rows)) < 0.5), 0.0, rng.uniform(1, 5, len(rows)))
    f = {"dense": np.where(same & (days > 0), 0.8, 0.3) + 0.05 * rng.normal(size=len(rows)), "days": days}
    sets = [(30, rows, cols, f, same, np.ones(len(rows)))]
    m = fit_same_story_model(sets, ("dense", "days"), estimator=HistGradientBoostingClassifier(random_state=0))
    assert isinstance(m, PairClassifier) and m.features == ("dense", "days")
    p = m.probability(f)
    assert ((p >= 0.5) == same).mean() > 0.95
    two = fit_same_story_model(sets, ("dense", "days", "support"), estimator=DecisionTreeClassifier(random_state=0))
    assert isinstance(two.support, PairClassifier) and two.support.features == ("dense", "days")
    # the clusterer takes it like a SameStoryModel
    x = np.repeat(np.eye(3), 2, axis=0) + 0.01 * rng.normal(size=(6, 3))
    pc = fit_same_story_model([(6, *np.triu_indices(6, 1), {"dense": np.r_[0.99, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
                                                                         0.1, 0.99, 0.1, 0.1, 0.1, 0.1, 0.99]},
                                np.r_[1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1], np.ones(15))],
                              ("dense",), estimator=DecisionTreeClassifier(random_state=0))
    labels = StoryClusterer(linkage="average", model=pc).fit(x).labels_
    assert adjusted_rand_score([0, 0, 1, 1, 2, 2], labels) == 1.0


def test_pair_classifier_checks():
    from sklearn.tree import DecisionTreeClassifier

    X = np.array([[0.1], [0.9]])
    tree = DecisionTreeClassifier().fit(X, [0, 1])
    with pytest.raises(InputError, match="fitted classifier with predict_proba"):
        PairClassifier(DecisionTreeClassifier(), ("dense",))
    with pytest.raises(InputError, match="labels 0 and 1"):
        PairClassifier(DecisionTreeClassifier().fit(X, [1, 2]), ("dense",))
    with pytest.raises(InputError, match="takes 1 columns but 2 features"):
        PairClassifier(tree, ("dense", "days"))
    with pytest.raises(InputError, match="unknown pair features"):
        PairClassifier(tree, ("colour",))
    with pytest.raises(InputError, match="first-stage model"):
        PairClassifier(DecisionTreeClassifier().fit(np.c_[X, X], [0, 1]), ("dense", "support"))
    with pytest.raises(InputError, match="model must be a SameStoryTrees, a SameStoryModel or a PairClassifier"):
        StoryClusterer(linkage="average", model=tree).fit(np.eye(3))
    with pytest.raises(InputError, match="both same-story and different-story"):
        fit_same_story_model([(2, np.array([0]), np.array([1]), {"dense": np.array([0.5])}, np.array([1]),
                               np.ones(1))], ("dense",), estimator=DecisionTreeClassifier())


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


def test_a_lone_article_joins_the_storyline_of_its_most_probable_pair_whatever_the_order():
    rng = np.random.default_rng(1)
    for trial in range(40):
        n = int(rng.integers(3, 30))
        keep = np.triu(rng.random((n, n)) < 0.3, 1)
        r, c = np.nonzero(keep)
        p = rng.random(len(r))
        groups = average_linkage(n, r, c, p, 0.5)
        got = attach_alone(groups, r, c, p, 0.5)
        sizes = np.bincount(groups)
        for i in range(n):  # the rule, one article at a time
            if sizes[groups[i]] > 1:
                assert got[i] == got[np.flatnonzero(groups == groups[i])[0]]
                continue
            pairs = [(q, j) for a, b, q in zip(r, c, p) for x, j in ((a, b), (b, a))
                     if x == i and q >= 0.5 and sizes[groups[j]] > 1]
            if pairs:
                j = max(pairs, key=lambda t: (t[0], -t[1]))[1]
                assert got[i] == got[j], trial
            else:
                assert (got == got[i]).sum() == 1, trial
        perm = rng.permutation(n)  # renumber the rows: the same groups
        inv = np.argsort(perm)
        again = attach_alone(average_linkage(n, inv[r], inv[c], p, 0.5), inv[r], inv[c], p, 0.5)
        assert adjusted_rand_score(got, again[inv]) == 1.0, trial


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

# tests/data/two_towns.jsonl: a shooting in Wichita (w1), its follow-up the next day (w2) and the arrest three months
# later (w3, same names); another Wichita shooting a year later (w4, w5); and the same kind of event in Tulsa the
# same week as w1, told in nearly the same words (t1, t2). Its "storyline" field holds the truth.
TWO_TOWNS = Path(__file__).parent / "data" / "two_towns.jsonl"
EVENTS = [(r["id"], r["date"], r["title"], r["text"])
          for r in map(json.loads, TWO_TOWNS.read_text(encoding="utf-8").splitlines())]


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
    e = embedder.embed_articles(arts)
    m = SameStoryModel.default()
    rows, cols, f = story_pairs(e.vectors, arts, headlines=e.headline_vectors, support=m.support)
    assert tuple(f) == m.features  # with its first stage given, the default signals include support
    est = StoryClusterer(embedder=embedder).fit(arts)  # arts are already in id order
    p = m.probability(f)
    assert np.allclose(est.same_story_[rows, cols].A1, p)
    assert datetime(2016, 11, 24) == est.storylines_[0].start


def test_headline_vectors_are_the_first_chunks(embedder):
    e = embedder.embed_articles([Article("a", "Body one.\n\nBody two.", title="The headline"), Article("b", "Only body.")])
    assert np.allclose(e.headline_vectors[0], embedder.encode(["The headline"])[0], atol=1e-6)
    assert np.allclose(e.headline_vectors[1], embedder.encode(["Only body."])[0], atol=1e-6)


def test_training_pairs_do_not_depend_on_input_order_and_refit_the_model(embedder):
    arts = load_articles([{"id": i, "date": d, "title": t, "text": x} for i, d, t, x in EVENTS])
    gold = np.array([a.id[0] + ("1" if a.id in ("w4", "w5") else "") for a in arts])  # w1-w3, w4-w5, t1-t2
    est = StoryClusterer(embedder=embedder, n_neighbors=4)
    rows, cols, f, same = est.training_pairs(arts, gold)
    assert "support" not in f and (rows < cols).all()
    assert not [a for a in vars(est) if a.endswith("_")]  # nothing fitted: the estimator is left as it was
    def keyed(a, rows, cols, f, same):
        return {tuple(sorted((a[i].id, a[j].id))): (bool(s), round(float(f["entity"][t]), 6))
                for t, (i, j, s) in enumerate(zip(rows, cols, same))}

    perm = np.random.default_rng(0).permutation(len(arts))
    shuffled = [arts[i] for i in perm]
    got = keyed(arts, rows, cols, f, same)
    assert got == keyed(shuffled, *est.training_pairs(shuffled, gold[perm]))
    assert {k for k, (s, _) in got.items() if s} == {("w1", "w2"), ("w1", "w3"), ("w2", "w3"), ("w4", "w5"),
                                                     ("t1", "t2")}
    with pytest.raises(InputError, match="3 labels for 7 inputs"):
        est.training_pairs(arts, gold[:3])


def test_small_input_pairs_are_the_pairs_fit_scores_on_a_handful_of_articles(embedder):
    arts = load_articles([{"id": i, "date": d, "title": t, "text": x} for i, d, t, x in EVENTS])
    gold = np.array([a.id[0] + ("1" if a.id in ("w4", "w5") else "") for a in arts])
    est = StoryClusterer(embedder=embedder)
    inputs = est.small_input_pairs(arts, gold, n_inputs=4, random_state=0)
    assert len(inputs) == 4 and not [a for a in vars(est) if a.endswith("_")]
    ids = [a.id for a in arts]
    for n, rows, cols, f, same in inputs:
        assert n == len(arts) and (rows < cols).all() and same.any()  # each input holds a storyline
        members = sorted(set(rows.tolist()) | set(cols.tolist()))
        assert len(rows) == len(members) * (len(members) - 1) // 2  # a handful of articles: every pair is scored
        assert (same == (gold[rows] == gold[cols])).all()
        # the signals are those fit computes on that input alone
        sub = [arts[i] for i in members]
        r2, c2, f2, _ = est.training_pairs(sub, gold[members])
        got = {frozenset((ids[i], ids[j])): round(float(v), 6) for i, j, v in zip(rows, cols, f["entity"])}
        want = {frozenset((sub[i].id, sub[j].id)): round(float(v), 6) for i, j, v in zip(r2, c2, f2["entity"])}
        assert got == want
    again = est.small_input_pairs(arts, gold, n_inputs=4, random_state=0)
    assert all((a[1] == b[1]).all() and (a[2] == b[2]).all() for a, b in zip(inputs, again))
    with pytest.raises(InputError, match="n_inputs"):
        est.small_input_pairs(arts, gold, n_inputs=0)
    with pytest.raises(InputError, match="at least two articles"):
        est.small_input_pairs(arts, np.arange(len(arts)))


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
