"""Storylines on input shaped like a real crawl: no dates, no titles, mostly one article per event."""

from datetime import datetime, timedelta

import numpy as np
import pytest

from storyclust import Article, InputError, StoryClusterer
from storyclust.evaluation import (alone_linked, bcubed, crawl_mixture, crowded, few_stories, mixed_groups,
                                   one_per_story, reliability_table, share_linked, split_by_story, without_dates,
                                   without_titles)
from storyclust.storylines import ArticleSignals, TermCounts, article_signals, pair_features
from storyclust.storylines.fitting import crawl_pair_sets, recipe_pair_sets


def _events(ecb_articles):
    return np.array([a.extra["cluster_id"] for a in ecb_articles])


def _gva_2016(gva_records):
    """GVA's non-suspect records dated 2016 or later, in doc id order."""
    return sorted((r for r in gva_records if not r["suspect"] and r["date"] >= "2016"), key=lambda r: r["doc_id"])


@pytest.mark.parametrize("days", [None, 365, 1])
def test_one_article_per_event_makes_no_storyline(ecb_articles, embedder, days):
    # 20 articles on 20 events (two of each kind: two earthquakes, two arrests...): nothing is one story, whether
    # undated, spread over a year as in an archive, or all of one day as in a day's crawl
    arts, _ = one_per_story(ecb_articles, _events(ecb_articles), random_state=0)
    if days:
        offsets = np.random.default_rng(0).integers(0, days, len(arts)).tolist()
        arts = [Article(a.id, a.text, title=a.title, date=datetime(2024, 3, 1) + timedelta(days=d))
                for a, d in zip(arts, offsets)]
    labels = StoryClusterer(embedder=embedder).fit_predict(arts)
    assert len(arts) == 20 and (labels == -1).all(), labels


def test_a_days_crawl_of_shootings_makes_no_storyline(gva_records, embedder):
    # 60 reports of 60 different shootings, all dated the same day: a near date says nothing here
    arts, incidents = [], set()
    for r in _gva_2016(gva_records):
        if r["incident_id"] not in incidents and len(arts) < 60:
            incidents.add(r["incident_id"])
            arts.append(Article(r["doc_id"], r["text"], title=r["title"], date=datetime(2016, 5, 2)))
    labels = StoryClusterer(embedder=embedder).fit_predict(arts)
    assert len(arts) == 60 and (labels != -1).sum() <= 2, labels


@pytest.mark.parametrize("dated", [True, False])
def test_a_crawl_of_mostly_one_off_reports_links_its_few_stories(gva_records, embedder, dated):
    # 40 shootings with one report each and four told whole (three to six reports each): link those, not the rest
    by_incident = {}
    for r in _gva_2016(gva_records):
        by_incident.setdefault(r["incident_id"], []).append(r)
    whole = [i for i in sorted(by_incident) if 3 <= len(by_incident[i]) <= 6][:4]
    lone = [i for i in sorted(by_incident) if i not in whole][:40]
    picked = [r for i in whole for r in by_incident[i]] + [by_incident[i][0] for i in lone]
    arts = [Article(r["doc_id"], r["text"], title=r["title"], date=datetime.fromisoformat(r["date"][:10]) if dated
                    else None) for r in picked]
    gold = np.array([r["incident_id"] for r in picked])
    labels = StoryClusterer(embedder=embedder).fit_predict(arts)
    told = np.isin(gold, whole)
    assert alone_linked(gold, labels) <= 0.05, labels[~told]
    assert bcubed(gold[told], labels[told])[1] >= 0.6, (gold[told], labels[told])  # not all held apart


def test_storylines_hold_without_titles(ecb_articles, embedder):
    gold = _events(ecb_articles)
    labels = StoryClusterer(embedder=embedder).fit_predict(without_titles(ecb_articles))
    p, r, f1 = bcubed(gold, labels)
    assert f1 >= 0.85 and p >= 0.9, (p, r, f1)


def test_variants_copy_and_check():
    arts = [Article(f"a{i}", f"text {i}", title=f"t{i}", date=datetime(2016, 1, i + 1)) for i in range(10)]
    half = without_dates(arts, share=0.5, random_state=0)
    assert all(a.date is not None for a in arts)  # the originals are untouched
    assert 0 < sum(a.date is None for a in half) < 10
    untitled = without_titles(arts)
    assert [a.id for a in untitled] == [a.id for a in arts] and all(a.title is None for a in untitled)
    assert arts[0].title == "t0"
    with pytest.raises(InputError, match="share"):
        without_dates(arts, share=2)
    with pytest.raises(InputError, match="labels"):
        one_per_story(arts, [0, 1])
    mixed, gold = crawl_mixture([(arts[:4], [0, 0, 1, 1]), (arts[4:], None)])
    assert all(a.date is None for a in mixed)
    assert gold.tolist()[:4] == ["0:0", "0:0", "0:1", "0:1"] and len(set(gold[4:])) == 6


def test_few_stories_keeps_a_few_stories_whole_and_one_report_of_the_rest():
    labels = np.repeat(np.arange(20), 3)  # 20 stories of three reports
    arts = [Article(f"a{i}", "text") for i in range(len(labels))]
    kept, y = few_stories(arts, labels, share=0.1, random_state=0)
    stories, counts = np.unique(y, return_counts=True)
    assert len(stories) == 20 and sorted(counts.tolist()) == [1] * 18 + [3, 3]
    assert [a.id for a in kept] == sorted((a.id for a in kept), key=lambda i: int(i[1:]))  # input order kept
    assert few_stories(arts, labels, share=0.1, random_state=0)[1].tolist() == y.tolist()
    with pytest.raises(InputError, match="share"):
        few_stories(arts, labels, share=2)
    with pytest.raises(InputError, match="labels"):
        few_stories(arts, labels[:-1])


def test_split_by_story_keeps_each_story_whole():
    arts = [Article(f"a{i}", f"text {i}") for i in range(12)]
    labels = np.array([0, 0, 0, 1, 2, 2, 3, 4, 4, 4, 5, 6])
    parts = split_by_story(arts, labels, 3, random_state=1)
    assert sorted(a.id for sub, _ in parts for a in sub) == sorted(a.id for a in arts)  # nothing dropped or doubled
    for sub, y in parts:
        assert [labels[int(a.id[1:])] for a in sub] == y.tolist()  # labels travel with their articles
    # seven stories, each in one part only (a story split in two would count twice), dealt evenly
    assert sorted(len(set(y)) for _, y in parts) == [2, 2, 3]
    assert [y.tolist() for _, y in split_by_story(arts, labels, 3, random_state=1)] == [y.tolist() for _, y in parts]
    with pytest.raises(InputError, match="parts"):
        split_by_story(arts, labels, 8)
    with pytest.raises(InputError, match="labels"):
        split_by_story(arts, labels[:5], 2)


def test_crowded_moves_stories_closer_and_keeps_their_own_gaps():
    day = datetime(2015, 1, 1)
    offsets = [0, 2, 40, 47, 80, None]  # stories x (days 0, 2), y (40, 47), z (80, and an undated report)
    arts = [Article(f"a{i}", "text", date=None if d is None else day + timedelta(days=d))
            for i, d in enumerate(offsets)]
    labels = ["x", "x", "y", "y", "z", "z"]
    moved = crowded(arts, labels, factor=4)
    days = [None if a.date is None else (a.date - day).days for a in moved]
    assert days == [0, 2, 10, 17, 20, None]  # first reports 4 times closer, each story's own gap kept
    assert (arts[2].date - day).days == 40  # the originals are untouched
    assert [(a.date - day).days for a in crowded(arts[:5], labels[:5], factor=1)] == offsets[:5]
    assert crowded(arts[-1:], labels[-1:])[0].date is None  # nothing dated: nothing to move
    with pytest.raises(InputError, match="factor"):
        crowded(arts, labels, factor=0.5)
    with pytest.raises(InputError, match="labels"):
        crowded(arts, labels[:2])


def test_crowding_counts_candidates_dated_near():
    # 0, 1, 2 within three days of each other; 3 a month later; 4 undated
    days = np.array([0.0, 1.0, 3.0, 30.0, np.nan])
    rows, cols = np.array([0, 0, 1, 2, 0]), np.array([1, 2, 2, 3, 4])
    f = pair_features(rows, cols, np.eye(5, dtype=np.float32), ArticleSignals(days=days), names=["crowding"])
    # near candidates: 0 and 1 have two each, 2 has two (3 is far), 3 and 4 none
    assert np.allclose(f["crowding"], np.log1p([2, 2, 2, 1, 1]))


def test_a_copy_without_its_title_forgets_what_the_title_gave():
    a = Article("a", "Police said a 17-year-old was hurt on Monday.", title="Shooting in Rocky Mount, Boy, 15, Hurt")
    assert "rocky" in a.entity_terms and "15" in a.ages  # cached from the title
    b = without_titles([a])[0]
    assert b.cleaned.title is None and "rocky" not in b.entity_terms and b.ages == {"17"}
    assert "rocky" in a.entity_terms  # the original keeps its own
    c = without_dates([a])[0]
    assert c.__dict__.get("entity_terms") == a.entity_terms  # a date changes nothing derived from the text


def test_untitled_signal():
    f = pair_features(np.array([0, 0, 1]), np.array([1, 2, 2]), np.eye(3, dtype=np.float32),
                      ArticleSignals(titled=np.array([True, True, False])), names=["untitled"])
    assert f["untitled"].tolist() == [0.0, 1.0, 1.0]


def test_crawl_pair_sets_weigh_each_variant_and_skip_what_changes_nothing(ecb_articles, embedder):
    arts, gold = ecb_articles[:60], _events(ecb_articles)[:60]
    est = StoryClusterer(embedder=embedder)
    sets = crawl_pair_sets(est, arts, gold, variants=("given", "undated", "one_per_story"), small_inputs=4)
    # ECB+ is undated: "undated" changes nothing and is skipped; "given" brings four small inputs
    assert len(sets) == 1 + 4 + 1
    weights = [w.sum() for *_, w in sets]
    assert np.isclose(weights[0], 1.0) and np.isclose(sum(weights[1:5]), 0.05) and np.isclose(weights[5], 2.0)
    assert not sets[5][4].any() and sets[0][4].any()  # one article per event: no pair is one story
    with pytest.raises(InputError, match="unknown variants"):
        crawl_pair_sets(est, arts, gold, variants=("undated_everything",))
    assert not crawl_pair_sets(est, arts, gold, variants=("crowded", "one_per_story_crowded"))  # nothing to crowd


def test_recipe_pair_sets_tag_each_set_with_its_variant(ecb_articles, embedder):
    arts, gold = ecb_articles[:60], _events(ecb_articles)[:60]
    singles = [Article(f"s{i}", f"Ein Bericht über das Ereignis Nummer {i} in der Stadt Nummer {i}.") for i in range(6)]
    translations = ([Article("de", "Ein Mann fährt Fahrrad.", lang="de"), Article("en", "A man rides a bike.", lang="en")],
                    np.array([0, 0]))
    est = StoryClusterer(embedder=embedder)
    tagged = recipe_pair_sets(est, [(arts, gold, True)], singles, translations, pieces=2)
    tags = [v for v, _ in tagged]
    assert tags[-1] == "cross_lingual" and "one_per_story" in tags and "untitled" in tags
    assert "undated" not in tags  # ECB+ is undated: nothing to remove
    assert sum(len(s[1]) for v, s in tagged if v == "given") > 0  # the two pieces and the mixture with the singles
    assert np.isclose(tagged[-1][1][5].sum(), 1.0)  # the translation pair weighs 1
    with pytest.raises(InputError, match="pieces"):
        recipe_pair_sets(est, [(arts, gold, True)], pieces=0)


def test_scores_for_real_input():
    assert share_linked([-1, -1, 0, 0]) == 0.5
    assert alone_linked(["x", "x", "y", "z", "w"], [0, 0, 1, 1, -1]) == 2 / 3 and alone_linked(["x", "x"], [0, 0]) == 0.0
    assert mixed_groups(["a", "b", "a"], [0, 0, -1]) == (1, 1)
    table = reliability_table([0.05, 0.06, 0.95], [0, 0, 1])
    assert [r["pairs"] for r in table] == [2, 1] and table[1]["observed same-story rate"] == 1.0


SHORT = [  # (title, text): two reports of one budget vote, then one-off reports on unrelated subjects, no names
    ("Council approves budget", "The city council approved the new budget on Monday after a debate of six hours "
                                "about schools and roads."),
    ("Budget passes after long debate", "After six hours of debate on Monday the city council passed the budget, "
                                        "with more money for schools and roads."),
    ("Storm closes harbour", "A storm closed the harbour for two days and the ferries to the islands were cancelled."),
    ("Museum reopens", "The museum reopened after a renovation that took two years."),
    ("Man arrested after shooting", "Police arrested a man after a shooting outside a bar on Friday night."),
]


def _short(n, dated, titled):
    return [Article(str(i), text, title=title if titled else None,
                    date=datetime(2024, 3, 4) + timedelta(days=i % 2) if dated else None)
            for i, (title, text) in enumerate(SHORT[:n])]


@pytest.mark.parametrize("n", [3, 5])
@pytest.mark.parametrize("dated", [True, False])
@pytest.mark.parametrize("titled", [True, False])
def test_a_handful_of_short_reports_on_unrelated_subjects_stays_apart(embedder, n, dated, titled):
    labels = StoryClusterer(embedder=embedder).fit(_short(n, dated, titled)).labels_.tolist()
    assert labels[2:] == [-1] * (n - 2)


@pytest.mark.parametrize("dated", [True, False])
@pytest.mark.parametrize("titled", [True, False])
def test_two_short_reports_of_one_vote_form_a_storyline(embedder, dated, titled):
    labels = StoryClusterer(embedder=embedder).fit(_short(5, dated, titled)).labels_.tolist()
    assert labels == [0, 0, -1, -1, -1]


def test_an_untitled_copy_may_keep_its_title_as_text():
    """ECB+'s title is the article's first sentence: without it as title, it stays the body's first paragraph."""
    a = Article("a", "Police said the boy was hurt on Monday.", title="Shooting in Rocky Mount",
                date=datetime(2016, 1, 1))
    b, untouched = without_titles([a, Article("b", "No title here.")], into_text=True)
    assert b.title is None and b.text == "Shooting in Rocky Mount\n\nPolice said the boy was hurt on Monday."
    assert "rocky" in b.entity_terms and b.date == a.date and a.title == "Shooting in Rocky Mount"
    assert untouched.text == "No title here." and untouched.title is None


def test_an_archive_s_term_counts_judge_which_names_are_rare(embedder):
    """A few articles cannot tell a rare name from a common one; an archive's counts can."""
    arts = [Article("a", "Police named the victim as Jimmy Shopteese of Akron. He was shot on Friday night."),
            Article("b", "Jimmy Shopteese was remembered at a vigil in Akron on Sunday."),
            Article("c", "A storm closed the harbour in Akron and ferries to the islands were cancelled.")]
    archive = TermCounts.of([f"Police in Akron said {i} people were hurt in Summit County." for i in range(300)])
    alone = StoryClusterer(embedder=embedder).fit(arts)
    judged = StoryClusterer(embedder=embedder).fit(arts, term_counts=archive)
    # alone, "akron" is the storm's link to the shooting; the archive says every article names Akron
    assert judged.same_story_[0, 2] < alone.same_story_[0, 2] / 10 and judged.same_story_[1, 2] < 0.05
    # and that "shopteese", which two of its 303 articles share, is a rare name
    sig = article_signals(arts, corpus=_with(archive, arts))
    assert sig.rare[0].multiply(sig.rare[1]).sum() == 1 and article_signals(arts).rare.sum() == 0
    assert judged.same_story_[0, 1] == max(judged.same_story_.data)
    assert archive.n_documents == 300 and archive.counts["akron"] == 300  # fit adds the input to a copy
    again = StoryClusterer(embedder=embedder).fit(arts[::-1], term_counts=archive)
    assert np.allclose(again.same_story_.toarray()[::-1, ::-1], judged.same_story_.toarray())
    with pytest.raises(InputError, match="term_counts must be a TermCounts"):
        StoryClusterer(embedder=embedder).fit(arts, term_counts={"akron": 300})
    with pytest.raises(InputError, match="needs articles"):
        StoryClusterer().fit(np.eye(3, dtype=np.float32), term_counts=archive)
    with pytest.raises(InputError, match="linkage='average' only"):
        StoryClusterer(linkage="hdbscan", embedder=embedder).fit(arts, term_counts=archive)


def _with(counts, arts):
    both = counts.copy()
    both.add([a.entity_terms for a in arts])
    return both
