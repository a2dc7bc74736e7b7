"""StoryTracker: online storylines with stable ids, dormancy, saved state, and the `storyclust track` command."""

import collections
import json
import os
import random
import re
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from storyclust import Article, InputError, ModelMismatchError, StoryClusterer, StoryTracker, load_articles
from storyclust.cli import main
from storyclust.evaluation import bcubed, daily_batches, id_churn, random_batches, replay
from storyclust.storylines import SameStoryModel, StoryIds, TermCounts, name_groups
from storyclust.storylines.tracker import FORMAT_VERSION

from conftest import kill_while_writing


@pytest.fixture(scope="module")
def gva_slice(gva_records):
    """Dated GVA reports of 2016: every article of 12 incidents with three or more, and 20 incidents' lone reports."""
    rows = [r for r in gva_records if not r["suspect"] and r["date"].startswith("2016-0")]
    by = collections.defaultdict(list)
    for r in rows:
        by[r["incident_id"]].append(r)
    many = sorted(i for i, rs in by.items() if len(rs) >= 3)[:12]
    lone = sorted(i for i, rs in by.items() if len(rs) == 1)[:20]
    picked = [r for i in many + lone for r in by[i]]
    arts = load_articles([{"id": r["doc_id"], "title": r["title"], "text": r["text"], "date": r["date"],
                           "url": r["url"], "incident": r["incident_id"]} for r in picked])
    return arts, np.array([a.extra["incident"] for a in arts])


def _partition(labels):
    """Rows grouped by label (-1/None each alone), as a set of frozensets: labels compared up to renaming."""
    groups = collections.defaultdict(set)
    for i, lab in enumerate(labels):
        groups[("alone", i) if lab is None or lab == -1 else lab].add(i)
    return {frozenset(g) for g in groups.values()}


def test_one_batch_gives_the_batch_clusterers_storylines(ecb_articles, embedder):
    arts = [a for a in ecb_articles if a.extra["topic"] <= 38]
    ids = StoryTracker(embedder=embedder).update(arts)
    assert _partition(ids) == _partition(StoryClusterer(embedder=embedder).fit(arts).labels_)
    assert len(set(ids) - {None}) >= 4


def test_a_storyline_forms_when_a_second_report_arrives_and_keeps_its_id(gva_slice, embedder):
    arts, gold = gva_slice
    tracker = StoryTracker(embedder=embedder)
    first = {}
    for batch in daily_batches(arts):
        for a, s in zip(batch, tracker.update(batch)):
            first[a.id] = s
        # a storyline is two articles or more, at every moment
        sizes = collections.Counter(tracker.assignments().values())
        assert all(c >= 2 for s, c in sizes.items() if s is not None)
    final = tracker.assignments()
    labels = [final[a.id] for a in arts]
    p, r, f = bcubed(gold, [-1 if s is None else s for s in labels])
    batch = bcubed(gold, StoryClusterer(embedder=embedder).fit(arts).labels_)[2]
    assert p >= 0.95 and f >= batch - 0.05  # as good as the batch clusterer, give or take reports past the quiet period
    # storylines formed when a later report arrived, not only within one day's batch
    assert sum(first[a.id] is None and final[a.id] is not None for a in arts) >= 3
    # the current storylines are described: keywords, a headline from their articles, their dates
    stories = tracker.storylines(dormant=True)
    assert sorted(s.label for s in stories) == sorted(set(final.values()) - {None})
    by_id = {a.id: a for a in arts}
    for story in stories:
        assert story.keywords and story.headline == by_id[story.representative].headline
        assert story.start == min(by_id[i].date for i in story.article_ids)
        assert all(final[i] == story.label for i in story.article_ids)
    # ids are stable: almost no article ends in another storyline than the one it was first given
    assert id_churn(first, final, tracker.resolve)["churn"] <= 0.1
    # the lone reports stay alone
    lone = {g for g, c in collections.Counter(gold).items() if c == 1}
    assert sum(final[a.id] is not None for a, g in zip(arts, gold) if g in lone) <= 2


def test_the_order_within_a_batch_does_not_matter(gva_slice, embedder):
    arts, _ = gva_slice
    batches = daily_batches(arts)
    a = StoryTracker(embedder=embedder)
    b = StoryTracker(embedder=embedder)
    rng = random.Random(0)
    for batch in batches:
        shuffled = batch[:]
        rng.shuffle(shuffled)
        got = dict(zip((x.id for x in shuffled), b.update(shuffled)))
        assert a.update(batch) == [got[x.id] for x in batch]
    assert a.assignments() == {i: b.assignments()[i] for i in a.assignments()}


def test_seen_articles_are_reported_not_added_again(gva_slice, embedder):
    arts, _ = gva_slice
    tracker = StoryTracker(embedder=embedder)
    ids = tracker.update(arts[:10])
    assert tracker.update(arts[:10]) == ids
    assert tracker.last_update_["new"] == 0 and tracker.last_update_["seen"] == 10
    assert len(tracker) == 10


def test_a_quiet_storyline_goes_dormant_and_a_late_report_starts_anew(gva_slice, embedder):
    arts, gold = gva_slice
    counts = collections.Counter(gold)
    story = next(g for g in sorted(counts) if counts[g] >= 4)
    members = sorted((a for a, g in zip(arts, gold) if g == story), key=lambda a: a.id)
    others = [a for a, g in zip(arts, gold) if g != story][:8]
    day = datetime(2020, 1, 1)
    tracker = StoryTracker(embedder=embedder, dormant_after=timedelta(days=30))
    early = tracker.update([replace(a, date=day) for a in members[:3]])
    assert early[0] is not None and len(set(early)) == 1
    assert tracker.n_active == 3 and [s.label for s in tracker.storylines()] == [early[0]]
    tracker.update([replace(a, date=day + timedelta(days=60)) for a in others])
    assert tracker.n_active == len(others)  # the quiet storyline left the window
    assert [s.label for s in tracker.storylines(dormant=True) if s.label == early[0]] == [early[0]]
    assert early[0] not in [s.label for s in tracker.storylines()]
    late = tracker.update([replace(members[3], date=day + timedelta(days=61))])
    assert late[0] != early[0]
    assert tracker.story_id(members[0].id) == early[0]  # dormant articles keep their id


def test_max_active_bounds_the_window_for_undated_streams(ecb_articles, embedder):
    arts = [replace(a, date=None) for a in ecb_articles[:60]]
    tracker = StoryTracker(embedder=embedder, max_active=25)
    for batch in random_batches(arts, 6, random_state=0):
        tracker.update(batch)
        assert tracker.n_active <= 25
    assert len(tracker) == 60


def test_undated_articles_take_the_arrival_time(gva_slice, embedder):
    arts, gold = gva_slice
    counts = collections.Counter(gold)
    lone = [replace(a, date=None) for a, g in zip(arts, gold) if counts[g] == 1]  # each its own incident
    tracker = StoryTracker(embedder=embedder, dormant_after=timedelta(days=10))
    assert tracker.update(lone[:5], now="2021-03-01") == [None] * 5
    assert tracker.n_active == 5
    tracker.update(lone[5:8], now=datetime(2021, 3, 20))
    assert tracker.n_active == 3  # the first batch arrived 19 days before


def test_a_bridging_report_merges_two_storylines_and_the_older_id_survives(embedder):
    quake = "A strong earthquake struck the coast of Chile on Monday, cutting power to the port city of Valparaiso."
    vote = "The parliament of Chile voted on Monday to fund new power lines for the port city of Valparaiso."
    both = quake + " " + vote
    v = embedder.encode([quake, vote, both])
    far, near = float(v[0] @ v[1]), float(min(v[2] @ v[0], v[2] @ v[1]))
    assert near > far + 0.05
    # a dense-only model: the two stories apart (p 0.3), the bridge near both (p 0.95)
    k = (np.log(0.95 / 0.05) - np.log(0.3 / 0.7)) / (near - far)
    model = SameStoryModel(features=("dense",), coef=(float(k),), intercept=float(np.log(0.3 / 0.7) - k * far))
    tracker = StoryTracker(embedder=embedder, model=model)
    a = tracker.update([Article("q1", quake), Article("q2", quake)])
    b = tracker.update([Article("v1", vote), Article("v2", vote)])
    assert a[0] == a[1] != b[0] == b[1] and None not in a + b
    older, newer = min(a[0], b[0]), max(a[0], b[0])
    assert tracker.update([Article("bridge", both)]) == [older]
    assert tracker.resolve(newer) == older
    assert set(tracker.assignments().values()) == {older}
    assert [s.label for s in tracker.storylines()] == [older]


def test_name_groups_keeps_ids_merges_to_the_older_and_splits_back():
    ids = StoryIds()
    first = name_groups([None] * 6, np.array([0, 0, 0, 1, 1, -1]), ids)
    assert first == [0, 0, 0, 1, 1, None]
    # a bridge joins the two: the older id survives, the other maps to it
    joined = name_groups([0, 0, 0, 1, 1, None], np.array([0, 0, 0, 0, 0, 0]), ids)
    assert joined == [0] * 6 and ids.resolve(1) == 0
    # they part again: each part goes back to the id its articles were first given
    parted = name_groups([0, 0, 0, 1, 1, 0], np.array([0, 0, 0, 1, 1, -1]), ids)
    assert parted == [0, 0, 0, 1, 1, None] and ids.resolve(1) == 1
    # a group home to no earlier id gets a new one, in label order
    assert name_groups([None, None, 0, 0], np.array([0, 0, 1, 1]), ids) == [2, 2, 0, 0]


def test_rare_names_and_weights_can_come_from_the_stream():
    from storyclust.storylines import TermCounts, entity_matrix, rare_term_matrix

    window = [["smith", "ohio"], ["smith", "ohio"], ["ohio"]]
    assert rare_term_matrix(window).nnz == 0  # three articles alone: nothing can be rare
    stream = TermCounts()
    stream.add(window + [["ohio"]] * 997)
    rare = rare_term_matrix(window, corpus=stream)
    assert int(rare[0].multiply(rare[1]).sum()) == 1  # "smith": two of a thousand articles
    weights = entity_matrix([Article(str(i), "") for i in range(3)], terms=window, corpus=stream).toarray()
    assert weights[0].max() > 0.9  # "ohio", in nearly every article of the stream, weighs little beside "smith"


def test_id_churn_counts_moves_after_merges():
    assert id_churn({"a": 0, "b": 1, "c": 1}, {"a": 0, "b": 0, "c": 2}, {1: 0, 2: 2, 0: 0}.get)["churn"] == 0.333


def test_state_survives_save_and_load(gva_slice, embedder, tmp_path):
    arts, _ = gva_slice
    batches = daily_batches(arts)
    half = len(batches) // 2
    a = StoryTracker(embedder=embedder)
    replay(a, batches[:half])
    a.save(tmp_path / "state")
    b = StoryTracker.load(tmp_path / "state", embedder=embedder)
    assert b.assignments() == a.assignments() and b.n_active == a.n_active
    for batch in batches[half:]:
        assert a.update(batch) == b.update(batch)
    assert [s.to_dict() for s in a.storylines(dormant=True)] == [s.to_dict() for s in b.storylines(dormant=True)]
    assert sorted(p.name for p in (tmp_path / "state").iterdir())[-1] == "tracker.json"
    assert len(list((tmp_path / "state").iterdir())) == 3  # tracker.json and one state's two files


def test_load_refuses_another_model_embedder_format_or_rules(gva_slice, embedder, tmp_path):
    from storyclust import Embedder

    arts, _ = gva_slice
    t = StoryTracker(embedder=embedder)
    t.update(arts[:5])
    t.save(tmp_path / "s")
    other = SameStoryModel(features=("dense",), coef=(10.0,), intercept=-6.0)
    with pytest.raises(ModelMismatchError, match="same-story model"):
        StoryTracker.load(tmp_path / "s", embedder=embedder, model=other)
    with pytest.raises(ModelMismatchError, match="holds vectors from"):
        StoryTracker.load(tmp_path / "s", embedder=Embedder("all-MiniLM-L6-v2", cache=False))
    with pytest.raises(InputError, match="no tracker.json"):
        StoryTracker.load(tmp_path / "nothing", embedder=embedder)
    meta = tmp_path / "s" / "tracker.json"
    saved = meta.read_text()
    meta.write_text(re.sub(r'"entity_rules": \d+', '"entity_rules": 1', saved))
    with pytest.raises(InputError, match="rules version 1.*rebuild the state"):
        StoryTracker.load(tmp_path / "s", embedder=embedder)
    meta.write_text(re.sub(r'"format_version": \d+', '"format_version": 0', saved))
    with pytest.raises(InputError, match=f"format version 0 is not {FORMAT_VERSION}.*rebuild"):
        StoryTracker.load(tmp_path / "s", embedder=embedder)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_state_save_killed_at_random_moments_leaves_old_or_new_state(embedder, tmp_path):
    dim = embedder.dim

    class Fixed:  # vectors without a model: the save, not the embedding, is under test
        fingerprint = embedder.fingerprint

        def __init__(self):
            self.dim = dim

    def generation(gen: int) -> StoryTracker:
        t = StoryTracker(embedder=Fixed())
        rng = np.random.default_rng(gen)
        from storyclust.storylines.tracker import _Tracked

        for i in range(50 + gen % 7):
            v = rng.normal(size=dim).astype(np.float32)
            t._window[f"g{gen}-{i}"] = _Tracked(Article(f"g{gen}-{i}", "x " * 2000), v, v, float(gen), i)
            t._story[f"g{gen}-{i}"] = None
        return t

    path = tmp_path / "state"
    generation(0).save(path)
    seen = set()
    for _ in kill_while_writing(lambda gen: generation(gen).save(path), min_sleep=0.02, max_sleep=0.4, seed=2):
        t = StoryTracker.load(path, embedder=Fixed())
        gen = int(next(iter(t.assignments())).split("-")[0][1:])
        assert len(t) == t.n_active == 50 + gen % 7
        assert all(i.startswith(f"g{gen}-") for i in t.assignments())
        seen.add(gen)
    assert len(seen) >= 10  # the kills landed after many different saves, not always before the first


def test_input_errors_name_the_record(embedder):
    t = StoryTracker(embedder=embedder)
    with pytest.raises(InputError, match="plain text has no id"):
        t.update(["a text without an id"])
    with pytest.raises(InputError, match="appears twice"):
        t.update([Article("x", "one"), Article("x", "two")])
    with pytest.raises(InputError, match="not one article"):
        t.update(Article("x", "one"))
    with pytest.raises(InputError, match="dormant_after"):
        StoryTracker(dormant_after=30).update([Article("x", "one")])
    with pytest.raises(InputError, match="now"):
        t.update([Article("y", "one")], now="not a date")
    assert t.update([]) == [] and len(t) == 0


def _lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_cli_track_keeps_state_between_runs_and_exports(gva_slice, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STORYCLUST_CACHE_DIR", str(tmp_path / "cache"))
    arts, _ = gva_slice
    ordered = sorted(arts, key=lambda a: a.chronological_key)
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for path, part in ((first, ordered[:30]), (second, ordered[20:])):
        path.write_text("".join(json.dumps(a.to_dict()) + "\n" for a in part), encoding="utf-8")
    state = tmp_path / "state"
    assert main(["track", str(first), "--state", str(state), "-o", str(tmp_path / "o1.jsonl"),
                 "--batch-size", "10"]) == 0
    err = capsys.readouterr().err
    assert "batch 3/3" in err and "active" in err and "state saved" in err
    assert main(["track", str(second), "--state", str(state), "-o", str(tmp_path / "o2.jsonl")]) == 0
    o1, o2 = _lines(tmp_path / "o1.jsonl"), _lines(tmp_path / "o2.jsonl")
    assert [r["id"] for r in o1] == [a.id for a in ordered[:30]] and all(r["status"] == "new" for r in o1)
    assert [r["status"] for r in o2[:10]] == ["seen"] * 10 and all(r["status"] == "new" for r in o2[10:])
    assert main(["track", "--state", str(state), "--export", str(tmp_path / "all.jsonl")]) == 0
    exported = {r["id"]: r["story_id"] for r in _lines(tmp_path / "all.jsonl")}
    assert set(exported) == {a.id for a in arts}
    assert {r["id"]: r["story_id"] for r in o2} == {i: exported[i] for i in (r["id"] for r in o2)}
    assert any(v is not None for v in exported.values())


def test_cli_track_errors(tmp_path, capsys):
    assert main(["track", "--state", str(tmp_path / "s")]) == 2
    assert "give an input" in capsys.readouterr().err
    assert main(["track", "--state", str(tmp_path / "s"), "--export", str(tmp_path / "x.jsonl")]) == 2
    assert "no tracker state" in capsys.readouterr().err


AKRON = [("a", "Police named the victim as Jimmy Shopteese of Akron. He was shot on Friday night."),
         ("b", "Jimmy Shopteese was remembered at a vigil in Akron on Sunday."),
         ("c", "A storm closed the harbour in Akron and ferries to the islands were cancelled.")]


def test_a_stream_may_start_from_an_archive_s_term_counts(embedder, tmp_path, capsys):
    archive = TermCounts.of([f"Police in Akron said {i} people were hurt in Summit County." for i in range(300)])
    arts = [Article(i, t) for i, t in AKRON]
    alone = StoryTracker(embedder=embedder)
    alone.update(arts)
    seeded = StoryTracker(embedder=embedder, term_counts=archive)
    seeded.update(arts)
    # alone, the three short reports share "akron" and the storm joins the shooting; the archive says Akron is common
    assert alone.story_id("c") is not None and alone.story_id("c") == alone.story_id("a")
    assert seeded.story_id("c") is None
    assert archive.n_documents == 300  # the tracker counts on a copy
    seeded.save(tmp_path / "state")
    assert StoryTracker.load(tmp_path / "state", embedder=embedder)._terms.n_documents == 303
    with pytest.raises(InputError, match="term_counts must be a TermCounts"):
        StoryTracker(term_counts={"akron": 300})
    # the command: --archive starts a new state's counts, and is refused for a state that has its own
    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in AKRON))
    (tmp_path / "past.jsonl").write_text("".join(
        json.dumps({"id": str(i), "text": f"Police in Akron said {i} people were hurt in Summit County."}) + "\n"
        for i in range(300)))
    args = ["track", str(tmp_path / "in.jsonl"), "--state", str(tmp_path / "cli"), "-o", str(tmp_path / "o.jsonl"),
            "--archive", str(tmp_path / "past.jsonl")]
    assert main(args) == 0
    rows = {r["id"]: r["story_id"] for r in map(json.loads, (tmp_path / "o.jsonl").read_text().splitlines())}
    assert rows["c"] is None and "with 300 archive articles" in capsys.readouterr().err
    assert main(args) == 2 and "has its own" in capsys.readouterr().err
