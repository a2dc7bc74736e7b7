"""The shipped same-story model: monotone boosted trees kept as arrays."""

import numpy as np
import pytest

from storyclust import StoryClusterer
from storyclust.errors import InputError
from storyclust.storylines import MONOTONE, SameStoryTrees, fit_same_story_model
from storyclust.storylines.trees import DEFAULT_ARTICLE_MODEL, monotone_trees


def _pairs(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    f = {"dense": rng.random(n), "entity": rng.random(n), "days": rng.random(n) * 5, "undated": rng.random(n) < 0.5}
    f["days"][f["undated"]] = 0.0
    same = (f["dense"] + f["entity"] - 0.1 * f["days"] + rng.normal(0, 0.3, n) > 1).astype(int)
    return {k: v.astype(float) for k, v in f.items()}, same


def test_trees_give_what_scikit_learn_gives_and_survive_a_round_trip(tmp_path):
    f, same = _pairs()
    names = tuple(f)
    X = np.column_stack([f[k] for k in names])
    est = monotone_trees(names).fit(X, same)
    m = SameStoryTrees.from_classifier(est, names)
    np.testing.assert_allclose(m.probability(f), est.predict_proba(X)[:, 1], atol=1e-12)
    m.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(SameStoryTrees.load(tmp_path / "m.npz").probability(f), m.probability(f))


def test_a_two_stage_fit_is_kept_with_its_first_stage(tmp_path):
    f, same = _pairs()
    rows, cols = np.arange(len(same)) // 2, np.arange(len(same)) // 2 + len(same)
    m = fit_same_story_model([(2 * len(same), rows, cols, f, same, np.ones(len(same)))], ("dense", "entity", "support"))
    assert isinstance(m, SameStoryTrees) and m.support.features == ("dense", "entity")
    m.save(tmp_path / "two.npz")
    back = SameStoryTrees.load(tmp_path / "two.npz")
    assert back.support.features == ("dense", "entity") and "support" in back.features
    g = {**f, "support": np.linspace(0, 1, len(same))}
    np.testing.assert_array_equal(back.probability(g), m.probability(g))


@pytest.mark.parametrize("stage", ["second", "first"])
def test_the_shipped_model_never_lowers_the_probability_as_evidence_rises(stage):
    model = DEFAULT_ARTICLE_MODEL if stage == "second" else DEFAULT_ARTICLE_MODEL.support
    rng = np.random.default_rng(0)
    n = 2000
    base = {"dense": rng.random(n), "entity": rng.random(n) * 0.6, "days": rng.random(n) * 6, "rank": rng.random(n) * 5,
            "rare_names": rng.random(n) * 2, "headline": rng.random(n), "support": rng.random(n),
            "crowding": rng.random(n) * 3}
    for flag in ("undated", "cross_lingual", "same_site", "age_match", "age_conflict", "time_match", "time_conflict",
                 "untitled"):
        base[flag] = (rng.random(n) < 0.3).astype(float)
    base["cross_lingual_dense"] = base["cross_lingual"] * base["dense"]
    p = model.probability(base)
    for name in model.features:
        direction = MONOTONE.get(name, 0)
        if not direction:
            continue
        more = dict(base, **{name: base[name] + 0.2})
        assert np.all(direction * (model.probability(more) - p) >= -1e-12), name


def test_the_clusterer_takes_trees_and_validation_names_the_field():
    f, same = _pairs(200)
    m = SameStoryTrees.fit({"dense": f["dense"]}, same, ("dense",))
    est = StoryClusterer(model=m, linkage="average").fit(np.random.default_rng(0).random((20, 8)))
    assert len(est.labels_) == 20
    with pytest.raises(InputError, match=r"value must be \(trees, 2\*\*depth\)"):
        SameStoryTrees(("dense",), 0.0, m.feature, m.threshold[:, :-1], m.value)
    with pytest.raises(InputError, match="unknown pair features"):
        SameStoryTrees(("colour",), 0.0, m.feature, m.threshold, m.value)
    with pytest.raises(InputError, match="must not be missing"):
        m.probability({"dense": np.array([0.5, np.nan])})
    with pytest.raises(InputError, match="kind must be"):
        fit_same_story_model([(2, np.array([0]), np.array([1]), {"dense": np.ones(1)}, np.ones(1), np.ones(1))],
                             ("dense",), kind="forest")
