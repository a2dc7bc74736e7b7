import random
from datetime import datetime

import pytest

from storyclust import Article, InputError, find_duplicates

BODY = [
    "The city council approved a new budget on Monday after a debate that lasted more than six hours.",
    "The plan raises spending on schools by four percent and sets aside money to repair roads and bridges.",
    "Opponents said the budget relies on optimistic tax forecasts and warned of cuts next year.",
    "The mayor is expected to sign the budget into law by the end of the week, officials said.",
]


def _text(paras):
    return "\n\n".join(paras)


def test_exact_duplicates_ignore_case_punctuation_and_noise():
    a = Article("a", _text(BODY), title="Council passes budget", date=datetime(2024, 3, 2))
    b = Article("b", _text(p.upper().replace(",", "") for p in BODY) + "\n\nPhoto: Reuters",
                title="BUDGET APPROVED", date=datetime(2024, 3, 1))
    r = find_duplicates([a, b])
    (g,) = r.groups
    assert g.kind == "exact" and g.representative == "b"  # the earliest
    assert r.duplicate_of == {"a": "b", "b": None}


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
    assert r.summary() == "4 articles: 2 kept, 0 exact duplicates, 2 near duplicates, in 1 groups"


def test_same_event_by_different_outlets_is_not_a_duplicate():
    a = Article("a", "The city council approved a new budget on Monday. It raises school spending by four "
                "percent and funds road repairs, officials said after a six-hour debate.")
    b = Article("b", "After six hours of debate, councillors voted on Monday to pass the budget, which "
                "increases money for schools and includes funding to fix roads, according to officials.")
    assert find_duplicates([a, b]).groups == []


def test_a_short_excerpt_is_not_a_duplicate_of_the_whole():
    long = Article("long", _text(BODY * 3))
    short = Article("short", BODY[0])
    assert find_duplicates([long, short]).groups == []


def test_representative_is_earliest_then_first_seen():
    arts = [Article(i, _text(BODY), date=d) for i, d in
            [("x", None), ("y", datetime(2024, 1, 2)), ("z", datetime(2024, 1, 2))]]
    assert find_duplicates(arts).groups[0].representative == "y"
    assert find_duplicates(arts[::-1]).groups[0].representative == "z"
    undated = [Article("p", _text(BODY)), Article("q", _text(BODY))]
    assert find_duplicates(undated).groups[0].representative == "p"


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
    with pytest.raises(InputError, match="id 'a'"):
        find_duplicates([Article("a", "x"), Article("a", "y")])
