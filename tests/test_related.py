from datetime import datetime

import numpy as np
import pytest

from storyclust import Article, Embedder, InputError, ModelMismatchError, StoryIndex, find_related

ARTS = [
    Article("en-visit", "Russia's defence minister Andrei Belousov arrived in Pyongyang for talks with North "
            "Korean military leaders as the two countries deepen cooperation.", date=datetime(2024, 11, 29)),
    Article("en-trial", "The trial of the man accused of the shooting at the mall opened on Monday.",
            date=datetime(2024, 6, 1)),
    Article("fr-fire", "Un incendie a détruit un entrepôt près du port de Marseille.", date=datetime(2024, 11, 28)),
    Article("es-rain", "Las fuertes lluvias provocaron inundaciones en Valencia.", date=datetime(2024, 10, 30)),
]


@pytest.fixture(scope="module")
def index(embedder):
    idx = StoryIndex(embedder.dim, embedder.fingerprint)
    idx.add_articles(ARTS, embedder)
    return idx


def test_german_article_finds_the_english_one(index, embedder):
    de = Article("de-visit", "Der russische Verteidigungsminister Belousov ist zu Gesprächen mit "
                 "nordkoreanischen Militärs in Pjöngjang eingetroffen.", date=datetime(2024, 11, 29))
    hits = find_related(index, de, embedder, k=2)
    assert hits[0].id == "en-visit" and hits[0].score > hits[1].score


def test_free_text_query_and_date_window(index, embedder):
    assert find_related(index, "Überschwemmung nach Starkregen", embedder, k=1)[0].id == "es-rain"
    hits = find_related(index, "Überschwemmung nach Starkregen", embedder, k=3, since="2024-11-01")
    assert {h.id for h in hits} == {"en-visit", "fr-fire"}


def test_article_in_the_index_excludes_itself_and_window_days(index, embedder):
    hits = find_related(index, ARTS[0], embedder, k=10, window_days=3)
    assert {h.id for h in hits} == {"fr-fire"}
    with pytest.raises(InputError, match="dated query"):
        find_related(index, Article("u", "no date"), embedder, window_days=3)


def test_other_model_is_refused(index, tmp_path):
    other = Embedder("all-MiniLM-L6-v2", cache_dir=tmp_path)
    with pytest.raises(ModelMismatchError):
        find_related(index, "query", other)


def test_ecb_related_articles_are_mostly_of_the_same_event(ecb_articles, embedder):
    idx = StoryIndex(embedder.dim, embedder.fingerprint)
    idx.add_articles(ecb_articles, embedder)
    event = {a.id: a.extra["cluster_id"] for a in ecb_articles}
    same = [event[find_related(idx, a, embedder, k=1)[0].id] == event[a.id] for a in ecb_articles]
    assert np.mean(same) >= 0.8
