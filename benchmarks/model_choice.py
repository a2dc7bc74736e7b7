"""Which embedding model should be storyclust's default? Cross-lingual retrieval, ECB+ storylines, speed.

    python benchmarks/model_choice.py [--data ../shared/data]

Cross-lingual: each German STS-B test sentence must retrieve its English
translation (row-aligned in stsb_multi_mt) at rank 1 among all English test
sentences; for German, French, Spanish, Italian and Dutch, the 30 news
sentences of tests/data/parallel_news.tsv must retrieve their English
translation among those 31 plus all STS-B English test sentences as
distractors. ECB+: StoryClusterer on article vectors; its two parameters are
tuned on topics 1-35 and reported on topics 36-45 (the field's split).
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, markdown_table, parallel_news, parser, stsb_translations, write_results  # noqa: E402

from storyclust import Embedder, StoryClusterer, load_articles  # noqa: E402
from storyclust.evaluation import clustering_scores, translation_accuracy  # noqa: E402

LANGS = ("de", "fr", "es", "it", "nl")
GRID = list(itertools.product((2, 3), (1, 2, 3)))  # (min_cluster_size, min_samples)


class Combined:
    """Concatenation of several models' unit vectors, each weighted equally (cosine = mean of cosines)."""

    def __init__(self, embedders):
        self.parts = embedders
        self.fingerprint = "+".join(e.fingerprint for e in embedders)

    def encode(self, texts):
        return np.hstack([e.encode(texts) for e in self.parts]) / np.sqrt(len(self.parts))

    def embed_articles(self, arts):
        return np.hstack([e.embed_articles(arts).vectors for e in self.parts]) / np.sqrt(len(self.parts))



def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--models", default="use-multilingual-v3,all-MiniLM-L6-v2,use-multilingual-v3+all-MiniLM-L6-v2")
    args = p.parse_args()
    data = Path(args.data)

    de, en, _ = stsb_translations(data)
    par = parallel_news()
    ecb = load_articles(data / "ecbplus" / "documents.jsonl")
    gold = np.array([a.extra["cluster_id"] for a in ecb])
    topic = np.array([a.extra["topic"] for a in ecb])
    tune, test = topic <= 35, topic >= 36

    rows = []
    for name in args.models.split(","):
        parts = [Embedder(m, cache=False) for m in name.split("+")]
        emb = parts[0] if len(parts) == 1 else Combined(parts)
        row = {"model": name}
        row["de→en STS-B"] = translation_accuracy(emb.encode(de), emb.encode(en))
        cands = emb.encode([r["en"] for r in par] + en)
        for lang in LANGS:
            row[f"{lang}→en news"] = translation_accuracy(emb.encode([r[lang] for r in par]), cands)
        with Timer() as t:
            vecs = emb.embed_articles(ecb)
        vecs = vecs if isinstance(vecs, np.ndarray) else vecs.vectors
        row["ECB+ docs/s"] = f"{len(ecb) / t.seconds:.1f}"

        def f1(mask, mcs, ms):
            lab = StoryClusterer(min_cluster_size=mcs, min_samples=ms).fit_predict(vecs[mask])
            return clustering_scores(gold[mask], lab)["bcubed_f1"]

        best = max(GRID, key=lambda g: f1(tune, *g))
        row["ECB+ tuned (mcs, ms)"] = f"{best}"
        row["ECB+ F1 36–45"] = f1(test, *best)
        row["ECB+ F1 36–45 at (2, 2)"] = f1(test, 2, 2)
        rows.append(row)
        print(row, flush=True)

    cols = list(rows[0])
    table = markdown_table(rows, cols)
    print(table)
    body = (
        "Accuracy@1 of cross-lingual retrieval (query in one language, its English translation among the "
        f"candidates): STS-B test de→en among {len(en)} English sentences; news sentences "
        f"(tests/data/parallel_news.tsv, {len(par)} per language) among their {len(par)} English translations "
        f"plus the {len(en)} STS-B sentences as distractors. ECB+: BCubed F1 (noise as singletons) of "
        "StoryClusterer on article vectors, (min_cluster_size, min_samples) tuned on topics 1–35, reported on "
        "36–45; docs/s is embedding speed with the cache off.\n\n" + table + "\n"
    )
    print("written to", write_results("model_choice", args.out, "Choosing the default embedding model", body))


if __name__ == "__main__":
    main()
