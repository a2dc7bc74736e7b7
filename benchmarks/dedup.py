"""Near-duplicate detection: storyclust against datasketch MinHashLSH and exact hashing, same run.

    pip install -e ".[bench]"       # datasketch, the baseline
    python benchmarks/dedup.py [--data ../shared/data] [--copies 0.4] [--seed 0]

Corpus
------
Base articles: GVA (``suspect`` articles dropped; a doc_id listed under two
incidents is taken once) and ECB+, each with at least 40 words of text.
Real reprints already in that corpus (one wire story on several sites) are
found without any of the compared methods: two articles are a real reprint
when their texts are equal up to case and white space, or when at least half
of the shorter one's distinct word 5-grams (of the cleaned text) occur in the
other, counted exactly; 5-grams found in more than 20 articles are site
furniture and not counted. They are listed in the results (a sample to check
by eye) and only the first of each group is a base article. What stays in is
distinct by this rule, including GVA pages that are mostly the same CMS
furniture around a few lines of news: a hard case for any lexical method.

Syndicated copies come from a documented edit generator (fixed seed): a share
``--copies`` of the base articles gets 1 to 3 copies, and each copy gets, each
with its own probability:

=====================  ====  =====================================================
edit                   rate  what
=====================  ====  =====================================================
new headline line      0.5   the copy's text starts with another headline
byline                 0.5   "By Name, Outlet" / "Von Name" line at the top
boilerplate            0.6   1-3 lines: share, cookie, copyright, "Read more", ad
truncated ending       0.3   cut at the paragraph end after 50-90 % of the words
extended ending        0.25  1-2 paragraphs of an article of the other split, or a contributor line
reordered paragraphs   0.2   one paragraph moved elsewhere
typos / OCR noise      0.3   1-4 % of the words get a character edit or OCR swap
=====================  ====  =====================================================

Truth: a base article and its copies form one group; every other pair is
distinct. Base articles are split in two halves by a hash of their id: MinHash's
threshold is tuned on the first half (the tuning split), every method is
reported on the second. storyclust runs its defaults, untuned (and once more
with its semantic stage switched on).

Same event, not a duplicate: ECB+ pairs from one event (``cluster_id``) that
are not real reprints (exact 5-gram containment below 0.5) must not be
flagged; the false-duplicate rate is the share of them a method puts in one
group.

Throughput: documents per second over the reporting split, reading the raw
text, embedding included (storyclust starts each run with an empty embedding
cache); median of three runs, methods alternating.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import statistics
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from datasketch import MinHash, MinHashLSH
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, markdown_table, parser, write_results  # noqa: E402

from storyclust import Article, Embedder  # noqa: E402
from storyclust.dedup import Deduplicator  # noqa: E402
from storyclust.documents import clean_text, split_paragraphs  # noqa: E402

BOILERPLATE = [
    "Share this article", "Share on Facebook | Tweet | Email", "Copyright 2016 The Associated Press. All rights reserved.",
    "This material may not be published, broadcast, rewritten or redistributed.",
    "We use cookies to improve your experience. By continuing you accept our cookie policy.",
    "Read more: Top stories of the day", "Advertisement", "Sign up for our newsletter to get the latest news",
    "Follow us on Twitter", "Click here to read the full story", "Anzeige", "Mehr zum Thema",
]
NAMES = ["Jane Doe", "John Miller", "Maria Garcia", "Tom Becker", "Anna Schmidt", "Li Wei", "Sam Okafor"]
OUTLETS = ["Associated Press", "Reuters", "The Daily Star", "KTVU", "dpa", "Local News 8"]
OCR = [("l", "1"), ("rn", "m"), ("O", "0"), ("e", "c"), ("i", "l"), ("S", "5")]


# ------------------------------------------------------------------ corpus

def load_bases(data: Path) -> list[dict]:
    out, seen = [], set()
    for line in open(data / "gva" / "articles.jsonl", encoding="utf-8"):
        r = json.loads(line)
        if r.get("suspect") or r["doc_id"] in seen:
            continue
        seen.add(r["doc_id"])
        out.append({"id": f"gva:{r['doc_id']}", "text": r["text"], "title": r["title"], "event": None,
                    "url": r["url"]})
    for line in open(data / "ecbplus" / "documents.jsonl", encoding="utf-8"):
        r = json.loads(line)
        out.append({"id": f"ecb:{r['doc_id']}", "text": r["text"], "title": r["title"],
                    "event": r["cluster_id"], "url": None})
    return [r for r in out if len(r["text"].split()) >= 40]


def _exact_shingles(text: str) -> set[str]:
    w = re.sub(r"[\W_]+", " ", text.lower()).split()
    return {" ".join(w[i:i + 5]) for i in range(max(1, len(w) - 4))}


def exact_containment_pairs(texts: list[str], min_containment: float = 0.5) -> dict:
    """{(i, j): containment} for every pair with at least ``min_containment``, counted exactly.

    Texts are cleaned first (site banners out; the raw text when nothing is left), and a 5-gram found in
    more than 20 articles is site furniture of one CMS ("Get email notifications on ... daily!"), not a
    reprinted story, so it is not counted. Texts equal up to case and white space are reprints too.
    """
    sets = [_exact_shingles(clean_text(t).body or t) for t in texts]
    out = {}
    first = {}
    for i, t in enumerate(texts):
        key = " ".join(t.lower().split())
        if key in first:
            out[first[key], i] = 1.0
        else:
            first[key] = i
    post = defaultdict(list)
    for i, s in enumerate(sets):
        for g in s:
            post[g].append(i)
    shared = Counter()
    for docs in post.values():
        if 1 < len(docs) <= 20:
            for a in range(len(docs)):
                for b in range(a + 1, len(docs)):
                    shared[docs[a], docs[b]] += 1
    for (i, j), c in shared.items():
        cont = c / min(len(sets[i]), len(sets[j]))
        if cont >= min_containment:
            out.setdefault((i, j), cont)
    return out


def edit_copy(base: dict, rng: random.Random, others: list[dict]) -> tuple[str, list[str]]:
    """Text of a syndicated copy of ``base`` and the list of edits applied."""
    paras = split_paragraphs(base["text"])
    edits = []
    if rng.random() < 0.3 and len(paras) > 1:
        words = np.cumsum([len(p.split()) for p in paras])
        cut = int(np.searchsorted(words, words[-1] * rng.uniform(0.5, 0.9))) + 1
        paras = paras[:cut]
        edits.append("truncated")
    if rng.random() < 0.25:
        extra = split_paragraphs(rng.choice(others)["text"])[:rng.randint(1, 2)] if rng.random() < 0.5 else [
            f"{rng.choice(OUTLETS)} writer {rng.choice(NAMES)} contributed to this report."]
        paras = paras + extra
        edits.append("extended")
    if rng.random() < 0.2 and len(paras) > 2:
        p = paras.pop(rng.randrange(len(paras)))
        paras.insert(rng.randrange(len(paras) + 1), p)
        edits.append("reordered")
    if rng.random() < 0.3:
        rate = rng.uniform(0.01, 0.04)
        paras = [_noisy(p, rate, rng) for p in paras]
        edits.append(f"typos {rate:.0%}")
    head = []
    if rng.random() < 0.5:
        words = base["title"].split()
        rng.shuffle(words)
        head.append(" ".join(words[:12]).strip() or "Breaking news")
        edits.append("headline")
    if rng.random() < 0.5:
        head.append(f"By {rng.choice(NAMES)}, {rng.choice(OUTLETS)}" if rng.random() < 0.7 else
                    f"Von {rng.choice(NAMES)}")
        edits.append("byline")
    tail = []
    if rng.random() < 0.6:
        tail = rng.sample(BOILERPLATE, rng.randint(1, 3))
        edits.append("boilerplate")
    return "\n\n".join(head + paras + tail), edits


def _noisy(text: str, rate: float, rng: random.Random) -> str:
    words = text.split(" ")
    for i, w in enumerate(words):
        if len(w) < 3 or rng.random() >= rate:
            continue
        op = rng.random()
        a, b = rng.choice(OCR)
        if op < 0.3 and a in w:
            words[i] = w.replace(a, b, 1)
        elif op < 0.55:
            k = rng.randrange(len(w))
            words[i] = w[:k] + w[k + 1:]
        elif op < 0.8:
            k = rng.randrange(len(w) - 1)
            words[i] = w[:k] + w[k + 1] + w[k] + w[k + 2:]
        else:
            k = rng.randrange(len(w))
            words[i] = w[:k] + rng.choice("abcdefghijklmnopqrstuvwxyz") + w[k:]
    return " ".join(words)


def build(bases: list[dict], share: float, seed: int, pool: list[dict]):
    """Articles of one split (bases and their copies, shuffled) and each one's truth group.

    Added paragraphs come from ``pool``, articles of the other split: a paragraph
    taken from an article of this split would make the copy a partial reprint of
    that article too.
    """
    rng = random.Random(seed)
    docs, group = [], {}
    for b in bases:
        docs.append({"id": b["id"], "text": b["text"], "title": b["title"], "edits": []})
        group[b["id"]] = b["id"]
        if rng.random() < share:
            for c in range(rng.randint(1, 3)):
                text, edits = edit_copy(b, rng, pool)
                cid = f"{b['id']}#copy{c}"
                docs.append({"id": cid, "text": text, "title": None, "edits": edits})
                group[cid] = b["id"]
    rng.shuffle(docs)
    return docs, group


# ------------------------------------------------------------------ methods

def _groups_from_pairs(n: int, pairs) -> np.ndarray:
    rows = [i for i, _ in pairs]
    cols = [j for _, j in pairs]
    g = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return connected_components(g, directed=False)[1]


def run_exact(docs) -> np.ndarray:
    first, pairs = {}, []
    for i, d in enumerate(docs):
        h = hashlib.sha1(" ".join(d["text"].lower().split()).encode()).digest()
        if h in first:
            pairs.append((first[h], i))
        else:
            first[h] = i
    return _groups_from_pairs(len(docs), pairs)


def _minhash(text: str) -> MinHash:
    m = MinHash(num_perm=128)
    w = text.lower().split()
    m.update_batch([" ".join(w[i:i + 5]).encode() for i in range(max(1, len(w) - 4))])
    return m


def run_minhash(docs, threshold: float) -> np.ndarray:
    """What a datasketch user writes: word 5-grams, 128 permutations, MinHashLSH, query before insert."""
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    pairs = []
    for i, d in enumerate(docs):
        m = _minhash(d["text"])
        pairs += [(j, i) for j in lsh.query(m)]
        lsh.insert(i, m)
    return _groups_from_pairs(len(docs), pairs)


def run_storyclust(docs, cache_dir, semantic: bool = False) -> tuple[np.ndarray, Counter]:
    dd = Deduplicator(semantic=semantic, embedder=Embedder(cache_dir=cache_dir, show_progress=False),
                      show_progress=False)
    arts = (Article(d["id"], d["text"], title=d["title"]) for d in docs)
    row = {d["id"]: i for i, d in enumerate(docs)}
    pairs, stages = [], Counter()
    for dec in dd.dedup(arts):
        if dec.is_duplicate:
            pairs.append((row[dec.duplicate_of], row[dec.id]))
            stages[dec.stage] += 1
    return _groups_from_pairs(len(docs), pairs), stages


# ------------------------------------------------------------------ scoring

def pair_scores(labels: np.ndarray, docs, group) -> dict:
    truth = [group[d["id"]] for d in docs]
    pred_pairs = _pairs(labels)
    true_pairs = _pairs(truth)
    tp = len(pred_pairs & true_pairs)
    p = tp / len(pred_pairs) if pred_pairs else 1.0
    r = tp / len(true_pairs) if true_pairs else 1.0
    return {"precision": p, "recall": r, "F1": 2 * p * r / (p + r) if p + r else 0.0,
            "pred_pairs": len(pred_pairs), "true_pairs": len(true_pairs)}


def _pairs(labels) -> set:
    by = defaultdict(list)
    for i, lab in enumerate(labels):
        by[lab].append(i)
    return {(a, b) for m in by.values() if len(m) > 1 for k, a in enumerate(m) for b in m[k + 1:]}


def same_event_rate(labels, docs, event_pairs) -> tuple[float, int]:
    row = {d["id"]: i for i, d in enumerate(docs)}
    flagged = sum(labels[row[a]] == labels[row[b]] for a, b in event_pairs)
    return flagged / max(1, len(event_pairs)), flagged


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--copies", type=float, default=0.4, help="share of base articles that get copies")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs", type=int, default=3, help="timed runs per method (median reported)")
    args = p.parse_args()
    data = Path(args.data)

    bases = load_bases(data)
    real = exact_containment_pairs([b["text"] for b in bases])
    reprint_groups = _groups_from_pairs(len(bases), list(real))
    first_of = {}
    for i, g in enumerate(reprint_groups):
        first_of.setdefault(g, i)
    kept = [b for i, b in enumerate(bases) if first_of[reprint_groups[i]] == i]
    print(f"{len(bases)} base articles, {len(real)} real reprint pairs, {len(kept)} bases after keeping one "
          f"per reprint group", file=sys.stderr)
    split = {b["id"]: int(hashlib.sha1(b["id"].encode()).hexdigest(), 16) % 2 for b in kept}
    halves = [[b for b in kept if split[b["id"]] == s] for s in (0, 1)]
    tune_docs, tune_group = build(halves[0], args.copies, args.seed, pool=halves[1])
    test_docs, test_group = build(halves[1], args.copies, args.seed + 1, pool=halves[0])

    # same-event pairs that are not reprints (in the reporting split, bases only)
    ev = defaultdict(list)
    for b in kept:
        if b["event"] and split[b["id"]] == 1:
            ev[b["event"]].append(b["id"])
    event_pairs = [(m[a], m[b]) for m in ev.values() for a in range(len(m)) for b in range(a + 1, len(m))]

    # tune MinHash's threshold on the tuning split
    grid = [round(t, 2) for t in np.arange(0.1, 0.95, 0.05)]
    tuned = []
    for t in grid:
        tuned.append((pair_scores(run_minhash(tune_docs, t), tune_docs, tune_group)["F1"], t))
    best_f1, best_t = max(tuned)
    print(f"MinHashLSH threshold tuned on the tuning split: {best_t} (F1 {best_f1:.3f})", file=sys.stderr)

    times = defaultdict(list)
    results = {}
    for run in range(args.runs):
        with Timer() as t:
            results["exact hash"] = run_exact(test_docs)
        times["exact hash"].append(t.seconds)
        with Timer() as t:
            results[f"datasketch MinHashLSH (t={best_t})"] = run_minhash(test_docs, best_t)
        times[f"datasketch MinHashLSH (t={best_t})"].append(t.seconds)
        with tempfile.TemporaryDirectory() as cache, Timer() as t:
            results["storyclust Deduplicator (defaults)"], _ = run_storyclust(test_docs, cache)
        times["storyclust Deduplicator (defaults)"].append(t.seconds)
        with tempfile.TemporaryDirectory() as cache, Timer() as t:
            results["storyclust Deduplicator(semantic=True)"], stages = run_storyclust(test_docs, cache, True)
        times["storyclust Deduplicator(semantic=True)"].append(t.seconds)

    rows = []
    for name, labels in results.items():
        s = pair_scores(labels, test_docs, test_group)
        rate, flagged = same_event_rate(labels, test_docs, event_pairs)
        sec = statistics.median(times[name])
        rows.append({"method": name, "precision": s["precision"], "recall": s["recall"], "F1": s["F1"],
                     "same-event flagged": f"{flagged}/{len(event_pairs)} ({rate:.1%})",
                     "docs/s": round(len(test_docs) / sec, 1)})
    table = markdown_table(rows, list(rows[0]))

    # recall by edit, storyclust and MinHash
    by_edit = []
    sc = results["storyclust Deduplicator (defaults)"]
    mh = results[f"datasketch MinHashLSH (t={best_t})"]
    row = {d["id"]: i for i, d in enumerate(test_docs)}
    kinds = sorted({e.split(" ")[0] for d in test_docs for e in d["edits"]})
    for k in kinds:
        copies = [d for d in test_docs if any(e.startswith(k) for e in d["edits"])]
        hit = [sc[row[d["id"]]] == sc[row[test_group[d["id"]]]] for d in copies]
        hit_m = [mh[row[d["id"]]] == mh[row[test_group[d["id"]]]] for d in copies]
        by_edit.append({"edit": k, "copies": len(copies), "storyclust": float(np.mean(hit)),
                        "MinHashLSH": float(np.mean(hit_m))})

    samples = sorted(real.items(), key=lambda kv: -kv[1])
    rnd = random.Random(args.seed)
    shown = rnd.sample(samples, min(8, len(samples)))
    sample_rows = [{"containment": c, "article A": _label(bases[i]), "article B": _label(bases[j])}
                   for (i, j), c in sorted(shown, key=lambda kv: -kv[1])]

    n_copies = sum("#copy" in d["id"] for d in test_docs)
    body = "\n\n".join([
        __doc__.split("\n\n", 2)[2].strip(),
        "## Results (reporting split)",
        f"{len(test_docs)} articles ({len(test_docs) - n_copies} base, {n_copies} copies), "
        f"{pair_scores(results['exact hash'], test_docs, test_group)['true_pairs']} true duplicate pairs; "
        f"MinHashLSH threshold {best_t} tuned on the tuning split ({len(tune_docs)} articles, F1 {best_f1:.3f}). "
        f"Same-event pairs: {len(event_pairs)} ECB+ pairs of one event in the reporting split.",
        table,
        f"storyclust with semantic=True, duplicates by deciding stage: {dict(stages)}.",
        "## Recall by edit (copies found with their base article)",
        markdown_table(by_edit, ["edit", "copies", "storyclust", "MinHashLSH"]),
        "## Real reprints in the base corpus",
        f"{len(real)} pairs of base articles (GVA and ECB+) share at least half of the shorter one's cleaned "
        f"5-grams; {len(bases) - len(kept)} articles were set aside so that each reprint group has one base. "
        "A random sample (fixed seed) with the start of each text, to check by eye:",
        markdown_table(sample_rows, ["containment", "article A", "article B"]),
    ])
    print(table)
    print(markdown_table(by_edit, ["edit", "copies", "storyclust", "MinHashLSH"]))
    print(f"wrote {write_results('dedup', args.out, 'Near-duplicate detection', body)}")


def _label(b: dict) -> str:
    where = re.sub(r"^https?://(web\.archive\.org/web/\d+/)?(https?://)?", "", b["url"] or "")[:45]
    start = " ".join(clean_text(b["text"]).body.split())[:140]
    return f"{b['id'][:20]} {where}: “{start}…”".replace("|", "/")


if __name__ == "__main__":
    main()
