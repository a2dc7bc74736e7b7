import random
import re
from datetime import datetime

import numpy as np
import pytest

from storyclust import Article, InputError, find_duplicates
from storyclust.dedup import Deduplicator, find_paragraph_reuse
from storyclust.evaluation.damage import DAMAGE, damage

BODY = [
    "The city council approved a new budget on Monday after a debate that lasted more than six hours.",
    "The plan raises spending on schools by four percent and sets aside money to repair roads and bridges.",
    "Opponents said the budget relies on optimistic tax forecasts and warned of cuts next year.",
    "The mayor is expected to sign the budget into law by the end of the week, officials said.",
]


def _text(paras):
    return "\n\n".join(paras)


def test_exact_duplicates_ignore_case_punctuation_and_white_space():
    a = Article("a", _text(BODY), title="Council passes budget", date=datetime(2024, 3, 2))
    b = Article("b", "  " + _text(p.upper().replace(",", "") for p in BODY).replace(" ", "  "),
                title="BUDGET APPROVED", date=datetime(2024, 3, 1))
    c = Article("c", _text(BODY) + "\n\nPhoto: Reuters", date=datetime(2024, 3, 3))
    r = find_duplicates([a, b, c])
    (g,) = r.groups
    assert g.kind == "near" and g.representative == "b"  # the earliest
    assert r.duplicate_of == {"a": "b", "b": None, "c": "b"}
    assert find_duplicates([a, b]).groups[0].kind == "exact"  # a caption line makes c a near duplicate


def test_edited_reprints_are_near_duplicates():
    orig = Article("orig", _text(BODY), title="Council passes budget")
    reprint = Article("reprint", "By Jane Doe\n\n" + _text(BODY[:3]) + "\n\nShare this article\n\n"
                      "Copyright 2024 Local News. All rights reserved.", title="City budget approved after debate")
    typo = Article("typo", _text(BODY).replace("approved", "aproved").replace("bridges", "bridge"))
    other = Article("other", "A storm closed the harbour for two days and ferries to the islands were "
                    "cancelled, the coast guard said on Tuesday.")
    r = find_duplicates([orig, reprint, typo, other])
    assert r.duplicate_of == {"orig": None, "reprint": "orig", "typo": "orig", "other": None}
    assert r.groups[0].kind == "near" and set(r.groups[0].members) == {"orig", "reprint", "typo"}
    assert r.kind_of == {"reprint": "near", "typo": "near"}
    assert r.summary() == "4 articles: 2 kept, 0 exact duplicates, 2 near duplicates, in 1 group"


def test_same_event_by_different_outlets_is_not_a_duplicate():
    a = Article("a", "The city council approved a new budget on Monday. It raises school spending by four "
                "percent and funds road repairs, officials said after a six-hour debate.")
    b = Article("b", "After six hours of debate, councillors voted on Monday to pass the budget, which "
                "increases money for schools and includes funding to fix roads, according to officials.")
    assert find_duplicates([a, b]).groups == []


def test_a_short_excerpt_is_not_a_duplicate_of_the_whole():
    long = Article("long", _text(BODY + REWORDED + [OTHER_OUTLET]))
    short = Article("short", BODY[0])  # under a quarter of the long one's 5-grams
    assert find_duplicates([long, short]).groups == []


def test_representative_is_earliest_then_smallest_id():
    arts = [Article(i, _text(BODY), date=d) for i, d in
            [("x", None), ("z", datetime(2024, 1, 2)), ("y", datetime(2024, 1, 2))]]
    assert find_duplicates(arts).groups[0].representative == "y"
    assert find_duplicates(arts[::-1]).groups[0].representative == "y"
    undated = [Article("q", _text(BODY)), Article("p", _text(BODY))]
    assert find_duplicates(undated).groups[0].representative == "p"
    assert find_duplicates(undated).groups[0].members == ("q", "p")  # members in input order


def test_groups_do_not_depend_on_input_order(ecb_articles):
    base = find_duplicates(ecb_articles)
    groups = {frozenset(g.members) for g in base.groups}
    for seed in range(5):
        shuffled = list(ecb_articles)
        random.Random(seed).shuffle(shuffled)
        assert {frozenset(g.members) for g in find_duplicates(shuffled).groups} == groups
    assert find_duplicates(ecb_articles) == base  # and the same twice


def test_ecb_slice_every_id_once_and_duplicates_stay_within_an_event(ecb_articles):
    r = find_duplicates(ecb_articles)
    assert list(r.duplicate_of) == [a.id for a in ecb_articles]
    event = {a.id: a.extra["cluster_id"] for a in ecb_articles}
    assert r.groups, "ECB+ holds republished wire stories; some must be found"
    for g in r.groups:
        assert len({event[m] for m in g.members}) == 1, g


def test_bad_arguments():
    with pytest.raises(InputError, match="threshold"):
        find_duplicates([], threshold=0)
    with pytest.raises(InputError, match="char_threshold"):
        Deduplicator(0.6, char_threshold=1.5)
    with pytest.raises(InputError, match="keep"):
        list(Deduplicator().dedup([], keep="last"))
    dd = Deduplicator()
    with pytest.raises(InputError, match="article 1"):
        dd.check([Article("a", "x"), {"id": "b", "text": "y"}])
    assert dd.check([Article("a", "x")])[0].duplicate_of is None  # the failed batch changed nothing
    with pytest.raises(InputError, match="id 'c'"):
        dd.check([Article("c", "x"), Article("c", "y")])
    with pytest.raises(InputError, match="min_words"):
        find_paragraph_reuse([], min_words=0)
    with pytest.raises(InputError, match="id 'a'"):
        find_duplicates([Article("a", "x"), Article("a", "y")])


# ---------------------------------------------------------------- the three stages and the stream

# The same report with a few words changed in every sentence: under half of the word 5-grams survive, most
# character 7-grams do.
REWORDED = [
    "The city council passed a new budget on Monday after a debate that lasted over six hours.",
    "The plan lifts spending on schools by 4 percent and sets aside funds to repair roads and bridges.",
    "Critics said the budget relies on optimistic tax forecasts and warned of cuts next year.",
    "The mayor is expected to sign the budget into law by the end of this week, officials said.",
]
# Reworded further: each sentence says the same thing in other words; about half the character 7-grams are left.
REWRITTEN = [
    "On Monday the city council passed a new budget, after a debate of more than six hours.",
    "Under the plan spending on schools goes up four percent, and money is set aside for repairs to roads and bridges.",
    "Critics said the budget rests on rosy tax forecasts and warned that cuts could follow next year.",
    "Officials said the mayor is expected to sign the budget into law before the week is out.",
]
OTHER_OUTLET = ("After six hours of debate, councillors voted on Monday to pass the budget, which increases money "
                "for schools and includes funding to fix roads, according to officials.")


def test_each_stage_decides_what_it_should(embedder):
    orig = Article("orig", _text(BODY))
    exact = Article("exact", _text(BODY).upper())
    edited = Article("edited", "By Jane Doe\n\n" + _text(BODY[:3]) + "\n\nShare this article")
    reworded = Article("reworded", _text(REWORDED))
    rewritten = Article("rewritten", _text(REWRITTEN))
    other = Article("other", OTHER_OUTLET)
    out = Deduplicator(semantic=True, embedder=embedder).check([orig, exact, edited, reworded, rewritten, other])
    assert [(d.id, d.duplicate_of, d.kind, d.stage) for d in out] == [
        ("orig", None, None, None), ("exact", "orig", "exact", "exact"), ("edited", "orig", "near", "lexical"),
        ("reworded", "orig", "near", "character"), ("rewritten", "orig", "near", "semantic"),
        ("other", None, None, None)]
    assert out[3].score >= 0.65  # character 7-grams: most survive a few changed words
    without = Deduplicator().check([orig, reworded, rewritten])  # the default: no semantic stage
    assert [d.stage for d in without] == [None, "character", None]


def test_paragraph_reuse_reports_positions():
    wire = ("The storm closed the port of Valencia on Tuesday and ferries to the Balearic islands were "
            "cancelled until further notice, the port authority said.")
    a = Article("a", f"{BODY[0]}\n\n{wire}\n\n{BODY[1]}", date=datetime(2024, 10, 29))
    b = Article("b", f"Valencia (dpa)\n\n{REWORDED[2]}\n\n{wire.replace(',', '')}\n\n{BODY[3]}",
                date=datetime(2024, 10, 30))
    (r,) = find_paragraph_reuse([b, a])
    assert (r.source, r.source_paragraph, r.target, r.target_paragraph) == ("a", 1, "b", 2)
    assert a.text[r.source_start:r.source_end] == wire
    assert b.text[r.target_start:r.target_end] == wire.replace(",", "")
    assert r.similarity >= 0.8
    assert find_duplicates([a, b]).groups == []  # one shared paragraph does not make a duplicate


def test_stream_is_lazy_and_keeps_first_occurrences():
    pulled = []

    def crawl():
        for i in range(5000):
            pulled.append(i)
            yield Article(f"d{i}", _text(BODY) if i % 2 else f"Article number {i} about something else entirely.")

    stream = Deduplicator(show_progress=False).dedup(crawl(), keep="first", batch_size=100)
    first = next(stream)
    assert first.id == "d0" and len(pulled) == 100  # one batch read, not the whole crawl
    rest = list(stream)
    kept_ids = [first.id] + [a.id for a in rest]
    assert kept_ids == sorted(kept_ids, key=lambda x: int(x[1:]))
    assert "d1" in kept_ids and "d3" not in kept_ids and len(kept_ids) == 2501


def test_dataframes_and_batches_are_accepted():
    import pandas as pd

    df = pd.DataFrame([{"id": "x", "text": _text(BODY)}, {"id": "y", "text": _text(BODY).lower()}])
    out = list(Deduplicator(show_progress=False).dedup([df, [Article("z", _text(BODY))]]))
    assert [(d.id, d.duplicate_of) for d in out] == [("x", None), ("y", "x"), ("z", "x")]


def test_saved_state_checks_todays_crawl_against_yesterdays(tmp_path):
    yesterday = Deduplicator()
    yesterday.check([Article("y1", _text(BODY)), Article("y2", OTHER_OUTLET)])
    yesterday.save(tmp_path / "state")
    yesterday.save(tmp_path / "state")  # saving again replaces, and leaves one state file
    assert sorted(p.name for p in (tmp_path / "state").iterdir())[0] == "dedup.json"
    assert len(list((tmp_path / "state").glob("state-*.npz"))) == 1
    today = Deduplicator.load(tmp_path / "state")
    out = today.check([Article("t1", "By Jane Doe\n\n" + _text(BODY)), Article("t2", "Fresh news today."),
                       Article("t3", _text(BODY).upper())])
    assert [(d.id, d.duplicate_of, d.kind) for d in out] == [("t1", "y1", "near"), ("t2", None, None),
                                                             ("t3", "y1", "exact")]
    assert len(today) == 3
    # an overlapping crawl: ids checked before are reported as seen, the new ones checked as usual
    again = today.check([Article("t2", "Fresh news today."), Article("t9", _text(BODY)), Article("y2", OTHER_OUTLET)])
    assert [(d.id, d.duplicate_of, d.kind, d.stage) for d in again] == [
        ("t2", "t2", "seen", "state"), ("t9", "y1", "exact", "exact"), ("y2", "y2", "seen", "state")]
    assert len(today) == 3
    with pytest.raises(InputError, match="duplicate id; ids must be unique"):
        today.check([Article("n1", "x"), Article("n1", "y")])
    meta = (tmp_path / "state" / "dedup.json")
    meta.write_text(re.sub(r'"format_version": \d+', '"format_version": 99', meta.read_text()))
    with pytest.raises(InputError, match="format 99.*rebuild"):
        Deduplicator.load(tmp_path / "state")


def test_state_size_does_not_depend_on_text_length():
    short, long = Deduplicator(), Deduplicator()
    text = _text(BODY * 3)
    assert len(text) > 1000  # the stored start is capped at 1,000 characters
    short.check([Article("a", text)])
    long.check([Article("a", text + "\n\n" + " ".join(f"word{i}" for i in range(50_000)))])  # 100x longer
    assert short.state_bytes == long.state_bytes
    more = Deduplicator()
    more.check([Article(f"a{i}", f"{i} " + _text(BODY)) for i in range(10)])
    assert more.state_bytes <= 10 * short.state_bytes + 100  # grows with kept articles only


# ---------------------------------------------------------------- damaged copies of real articles

@pytest.fixture(scope="module")
def gva_stories(gva_records):
    """40 GVA articles (2016-17) on 40 different incidents, each long enough to be abridged."""
    rows = sorted((r for r in gva_records if not r["suspect"] and r["date"] >= "2016" and len(r["text"].split()) >= 150),
                  key=lambda r: r["doc_id"])
    out, incidents = [], set()
    for r in rows:
        if r["incident_id"] not in incidents:
            incidents.add(r["incident_id"])
            out.append(Article(r["doc_id"], r["text"], title=r["title"]))
    return out[:40]


@pytest.mark.parametrize("kind", sorted(DAMAGE))
def test_each_kind_of_damage_is_found(gva_stories, kind):
    rng = random.Random(kind)
    copies = [Article(f"{a.id}#{kind}", damage(a.text, kind, rng)) for a in gva_stories]
    r = find_duplicates(gva_stories + copies)
    found = [r.duplicate_of[c.id] == c.id.split("#")[0] for c in copies]
    assert np.mean(found) >= 0.9, (kind, [c.id for c, f in zip(copies, found) if not f])
    assert all(r.duplicate_of[a.id] is None for a in gva_stories)  # no story is a copy of another
    wrong = [c.id for c in copies if r.duplicate_of[c.id] not in (None, c.id.split("#")[0])]
    assert not wrong


def test_ocr_noise_is_caught_by_the_character_stage(gva_stories):
    a = gva_stories[0]
    noisy = Article("noisy", damage(a.text, "ocr", random.Random(3)))
    out = Deduplicator().check([a, noisy])
    assert (out[1].duplicate_of, out[1].stage) == (a.id, "character")
    assert out[1].score >= 0.65


class _CountingEmbedder:
    """The session embedder, counting the texts it is asked to encode."""

    def __init__(self, inner):
        self.inner, self.encoded = inner, 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def encode(self, texts):
        texts = list(texts)
        self.encoded += len(texts)
        return self.inner.encode(texts)

    def embed_articles(self, articles):
        out = self.inner.embed_articles(articles)
        self.encoded += len(out.chunk_texts)
        return out


def test_semantic_stage_uses_given_paragraph_vectors_and_keeps_them_in_the_state(embedder, tmp_path):
    arts = [Article("orig", _text(BODY), title="Council passes budget"), Article("rewritten", _text(REWRITTEN)),
            Article("other", _text([OTHER_OUTLET, "The vote was close, and the opposition asked for a recount "
                                                  "of the ballots cast by the council members."]))]
    counting = _CountingEmbedder(embedder)
    emb = embedder.embed_articles(arts)
    r = find_duplicates(arts, semantic=True, embedder=counting, embeddings=emb)
    assert r.duplicate_of == {"orig": None, "rewritten": "orig", "other": None}
    assert counting.encoded == 0  # the paragraph vectors came with the articles
    assert find_duplicates(arts, semantic=True, embedder=embedder).duplicate_of == r.duplicate_of
    with pytest.raises(InputError, match="embeddings of 2 articles for 3"):
        find_duplicates(arts, semantic=True, embedder=embedder, embeddings=embedder.embed_articles(arts[:2]))
    # the kept articles' paragraph vectors are saved: tomorrow's reworded copy is found against them
    dd = Deduplicator(semantic=True, embedder=embedder)
    dd.check([arts[0], arts[2]])
    assert dd.state_bytes >= 6 * 4 * embedder.dim  # the six paragraphs' vectors, besides the signatures
    dd.save(tmp_path / "state")
    later = Deduplicator.load(tmp_path / "state", embedder=embedder)
    (d,) = later.check([Article("rewritten", _text(REWRITTEN))])
    assert (d.duplicate_of, d.stage) == ("orig", "semantic") and d.score >= 0.7


def test_one_shared_paragraph_or_boilerplate_does_not_make_a_semantic_duplicate(embedder):
    notice = "Stay with us for updates on this developing story, and download our app for breaking news alerts."
    stories = [_text([BODY[0], notice]), _text([OTHER_OUTLET, notice]),
               _text(["A storm closed the harbour for two days and ferries to the islands were cancelled.", notice]),
               _text(["The museum reopened after a two-year renovation that cost more than forty million.", notice])]
    r = find_duplicates([Article(f"s{i}", t) for i, t in enumerate(stories)], semantic=True, embedder=embedder)
    assert r.groups == []


def test_paragraphs_many_kept_articles_share_are_boilerplate(embedder):
    from storyclust import ArticleEmbeddings

    # vectors made up so that only the semantic stage can link: four stories, each its own paragraph and the
    # same two notices; then a brief of the two notices alone (the texts share no words)
    rng = np.random.default_rng(0)
    unit = lambda n: (lambda v: v / np.linalg.norm(v, axis=1, keepdims=True))(rng.normal(size=(n, embedder.dim)))
    notices, own = unit(2), unit(4)
    words = ["w%d" % i for i in range(400)]
    arts, chunks = [], []
    for i, name in enumerate(["s0", "s1", "s2", "s3", "z-brief"]):
        n = 3 if i < 4 else 2
        paras = [" ".join(words[(40 * i + 9 * k):(40 * i + 9 * k + 9)]) for k in range(n)]
        arts.append(Article(name, _text(paras)))
        chunks.append(np.vstack([own[i:i + 1], notices]) if i < 4 else notices)
    emb = ArticleEmbeddings(np.zeros((5, embedder.dim), dtype=np.float32),
                            np.vstack(chunks).astype(np.float32), np.cumsum([0] + [len(c) for c in chunks]),
                            [a.text for a in arts for _ in range(3 if a.id != "z-brief" else 2)])
    assert find_duplicates(arts, semantic=True, embedder=embedder, embeddings=emb).groups == []


def test_storylines_and_dedup_share_one_embedding(embedder):
    from storyclust import StoryClusterer

    arts = [Article("orig", _text(BODY), title="Council passes budget"), Article("rewritten", _text(REWRITTEN)),
            Article("other", _text([OTHER_OUTLET, "The vote was close, and the opposition asked for a recount "
                                                  "of the ballots cast by the council members."]))]
    counting = _CountingEmbedder(embedder)
    clus = StoryClusterer(embedder=counting).fit(arts)
    embedded = counting.encoded
    assert embedded > 0 and clus.embeddings_.vectors.shape == (3, embedder.dim)
    r = find_duplicates(arts, semantic=True, embedder=counting, embeddings=clus.embeddings_)
    assert r.duplicate_of == {"orig": None, "rewritten": "orig", "other": None}
    # vectors handed back to the clusterer: the same storylines, nothing embedded again
    again = StoryClusterer(embedder=counting).fit(arts, embeddings=clus.embeddings_)
    assert counting.encoded == embedded
    assert again.labels_.tolist() == clus.labels_.tolist()
    with pytest.raises(InputError, match="embeddings of 2 articles for 3"):
        StoryClusterer(embedder=embedder).fit(arts, embeddings=clus.embeddings_.vectors[:2])
