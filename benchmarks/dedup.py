"""Near-duplicate detection: storyclust against datasketch MinHashLSH and exact hashing, same run.

    pip install -e ".[bench]"       # datasketch, the baseline
    python benchmarks/dedup.py [--data ../shared/data] [--split report|tune] [--copies 0.4] [--seed 0]

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
Pages with fewer than 20 such 5-grams of their own (a subscription notice
around an author's name and nothing else) are templates, not stories: they
are not bases, and the results say how many were set aside.

Syndicated copies come from a documented generator (fixed seed): a share
``--copies`` of the base articles gets 1 to 3 copies, and each copy gets one
kind of damage (``storyclust.evaluation.damage``), drawn at random:

==========  =====================================================================
kind        what
==========  =====================================================================
light       the edits of a web reprint, each with its own rate: another headline
            line (0.5), a byline (0.5), 1-3 lines of boilerplate (0.6), the end
            cut after 50-90 % of the words (0.3), 1-2 paragraphs or a contributor
            line added (0.25), one paragraph moved (0.2), typos in 1-4 % of the
            words (0.3)
ocr         3-6 % of the letters misread (glyph confusions, dropped, doubled
            letters, lost spaces)
abridged    the first third to half of the article, cut at a sentence end,
            sometimes with a line of boilerplate
re-led      the first one or two sentences replaced by another lede
print       held out: lines wrapped with end-of-line hyphens, a running page
            header, 0.5-1.5 % OCR noise
web         held out: HTML entities and mojibake, paragraphs run together or
            split per sentence, "Related" lines
wire        held out: style edits (numbers as words or digits, quotation
            marks, US/UK spelling, "per cent"/"%")
==========  =====================================================================

Every copy but the light ones also gets a headline line (0.5), a byline
(0.5) and boilerplate (0.6). The held-out kinds are only in the reporting
split: nothing was chosen by looking at them.

Truth: a base article and its copies form one group; every other pair is
distinct. Base articles are split in two halves by a hash of their id: the
MinHash baselines' settings (word 5-grams or character n-grams, threshold)
are tuned on the first half (the tuning split, ``--split tune``), every method
is reported on the second. storyclust runs its defaults (and once more with
its semantic stage switched on); its parameters were chosen on the tuning
split (``benchmarks/results/dedup-tune.md``). Per kind, pair F1 is computed
over the base articles and the copies of that kind only.

Same event, not a duplicate: pairs of base articles on one event (ECB+
``cluster_id``, GVA ``incident_id``) that are not real reprints (exact 5-gram
containment below 0.5) must not be flagged; the false-duplicate rate is the
share of them a method puts in one group.

Real reprints: the pairs of real reprints found above (all of them, both
splits), deduplicated as one collection: the share of pairs each method
puts in one group.

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
from storyclust.documents import clean_text, normalize_for_hash, split_paragraphs  # noqa: E402
from storyclust.evaluation.damage import damage  # noqa: E402

BOILERPLATE = [
    "Share this article", "Share on Facebook | Tweet | Email", "Copyright 2016 The Associated Press. All rights reserved.",
    "This material may not be published, broadcast, rewritten or redistributed.",
    "We use cookies to improve your experience. By continuing you accept our cookie policy.",
    "Read more: Top stories of the day", "Advertisement", "Sign up for our newsletter to get the latest news",
    "Follow us on Twitter", "Click here to read the full story", "Anzeige", "Mehr zum Thema",
]
NAMES = ["Jane Doe", "John Miller", "Maria Garcia", "Tom Becker", "Anna Schmidt", "Li Wei", "Sam Okafor"]
OUTLETS = ["Associated Press", "Reuters", "The Daily Star", "KTVU", "dpa", "Local News 8"]
TYPOS = [("l", "1"), ("rn", "m"), ("O", "0"), ("e", "c"), ("i", "l"), ("S", "5")]
MIN_STORY_SHINGLES = 20  # a page with fewer 5-grams of its own is a template, not a story
TUNED_KINDS = ["light", "ocr", "abridged", "re-led"]
HELD_OUT_KINDS = ["print", "web", "wire"]


# ------------------------------------------------------------------ corpus

def load_bases(data: Path) -> list[dict]:
    out, seen = [], set()
    for line in open(data / "gva" / "articles.jsonl", encoding="utf-8"):
        r = json.loads(line)
        if r.get("suspect") or r["doc_id"] in seen:
            continue
        seen.add(r["doc_id"])
        out.append({"id": f"gva:{r['doc_id']}", "text": r["text"], "title": r["title"],
                    "event": f"gva:{r['incident_id']}", "url": r["url"]})
    for line in open(data / "ecbplus" / "documents.jsonl", encoding="utf-8"):
        r = json.loads(line)
        out.append({"id": f"ecb:{r['doc_id']}", "text": r["text"], "title": r["title"],
                    "event": f"ecb:{r['cluster_id']}", "url": None})
    return [r for r in out if len(r["text"].split()) >= 40]


def _exact_shingles(text: str) -> set[str]:
    w = re.sub(r"[\W_]+", " ", text.lower()).split()
    return {" ".join(w[i:i + 5]) for i in range(max(1, len(w) - 4))}


def story_shingles(texts: list[str]) -> list[set[str]]:
    """Each text's distinct word 5-grams (of the cleaned text; the raw text when nothing is left), without site
    furniture: a 5-gram found in more than 20 articles belongs to a CMS ("Get email notifications on ...
    daily!"), not to a story."""
    sets = [_exact_shingles(clean_text(t).body or t) for t in texts]
    df = Counter(g for s in sets for g in s)
    return [{g for g in s if df[g] <= 20} for s in sets]


def exact_containment_pairs(texts: list[str], sets: list[set[str]], min_containment: float = 0.5) -> dict:
    """{(i, j): containment} for every pair with at least ``min_containment`` of the :func:`story_shingles`
    ``sets``, counted exactly. Texts equal up to case and white space are reprints too."""
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
        for a in range(len(docs)):
            for b in range(a + 1, len(docs)):
                shared[docs[a], docs[b]] += 1
    for (i, j), c in shared.items():
        cont = c / max(1, min(len(sets[i]), len(sets[j])))
        if cont >= min_containment:
            out.setdefault((i, j), cont)
    return out


def light_copy(base: dict, rng: random.Random, others: list[dict]) -> tuple[str, list[str]]:
    """Text of a web reprint of ``base`` with light edits, and the list of edits applied."""
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
        paras = [_typos(p, rate, rng) for p in paras]
        edits.append(f"typos {rate:.0%}")
    return "\n\n".join(paras), edits


def make_copy(base: dict, kind: str, rng: random.Random, others: list[dict]) -> tuple[str, list[str]]:
    """Text of a copy of ``base`` with damage ``kind`` and a reprint's wrapping, and the edits applied."""
    if kind == "light":
        text, edits = light_copy(base, rng, others)
    else:
        text, edits = damage(base["text"], kind, rng), []
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
    return "\n\n".join(head + [text] + tail), edits


def _typos(text: str, rate: float, rng: random.Random) -> str:
    words = text.split(" ")
    for i, w in enumerate(words):
        if len(w) < 3 or rng.random() >= rate:
            continue
        op = rng.random()
        a, b = rng.choice(TYPOS)
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


def build(bases: list[dict], share: float, seed: int, pool: list[dict], kinds: list[str]):
    """Articles of one split (bases and their copies, shuffled) and each one's truth group.

    Added paragraphs come from ``pool``, articles of the other split: a paragraph
    taken from an article of this split would make the copy a partial reprint of
    that article too.
    """
    rng = random.Random(seed)
    docs, group = [], {}
    for b in bases:
        docs.append({"id": b["id"], "text": b["text"], "title": b["title"], "kind": None, "edits": []})
        group[b["id"]] = b["id"]
        if rng.random() < share:
            for c in range(rng.randint(1, 3)):
                kind = rng.choice(kinds)
                text, edits = make_copy(b, kind, rng, pool)
                cid = f"{b['id']}#copy{c}"
                docs.append({"id": cid, "text": text, "title": None, "kind": kind, "edits": edits})
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


def shingles(text: str, scheme: str) -> list[bytes]:
    """``"w5"``: word 5-grams of the lower-cased text (datasketch's README); ``"c5"`` etc.: character n-grams
    of the normalised text (lower case, punctuation out, spaces kept)."""
    n = int(scheme[1:])
    if scheme[0] == "w":
        w = text.lower().split()
        return [" ".join(w[i:i + n]).encode() for i in range(max(1, len(w) - n + 1))]
    t = normalize_for_hash(text)
    return list({t[i:i + n].encode() for i in range(max(1, len(t) - n + 1))})


def minhashes(docs, scheme: str) -> list[MinHash]:
    out = []
    for d in docs:
        m = MinHash(num_perm=128)
        m.update_batch(shingles(d["text"], scheme))
        out.append(m)
    return out


def run_minhash(docs, scheme: str, threshold: float, hashes=None) -> np.ndarray:
    """What a datasketch user writes: 128 permutations, MinHashLSH, query before insert."""
    hashes = minhashes(docs, scheme) if hashes is None else hashes
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    pairs = []
    for i, m in enumerate(hashes):
        pairs += [(j, i) for j in lsh.query(m)]
        lsh.insert(i, m)
    return _groups_from_pairs(len(docs), pairs)


def run_storyclust(docs, cache_dir, semantic: bool = False) -> tuple[np.ndarray, Counter]:
    dd = Deduplicator(semantic=semantic, embedder=Embedder(cache_dir=cache_dir, show_progress=False),
                      show_progress=False)
    arts = [Article(d["id"], d["text"], title=d["title"]) for d in docs]
    row = {d["id"]: i for i, d in enumerate(docs)}
    pairs, stages = [], Counter()
    for dec in dd.check_all(arts):
        if dec.is_duplicate:
            pairs.append((row[dec.duplicate_of], row[dec.id]))
            stages[dec.stage] += 1
    return _groups_from_pairs(len(docs), pairs), stages


# ------------------------------------------------------------------ scoring

def pair_scores(labels: np.ndarray, docs, group, keep=None) -> dict:
    """Pair precision, recall and F1; ``keep``: only the documents with these row numbers count."""
    truth = [group[d["id"]] for d in docs]
    pred_pairs, true_pairs = _pairs(labels, keep), _pairs(truth, keep)
    tp = len(pred_pairs & true_pairs)
    p = tp / len(pred_pairs) if pred_pairs else 1.0
    r = tp / len(true_pairs) if true_pairs else 1.0
    return {"precision": p, "recall": r, "F1": 2 * p * r / (p + r) if p + r else 0.0,
            "errors": len(pred_pairs ^ true_pairs), "pred_pairs": len(pred_pairs), "true_pairs": len(true_pairs)}


def _pairs(labels, keep=None) -> set:
    by = defaultdict(list)
    for i, lab in enumerate(labels):
        if keep is None or i in keep:
            by[lab].append(i)
    return {(a, b) for m in by.values() if len(m) > 1 for k, a in enumerate(m) for b in m[k + 1:]}


def same_event_rate(labels, docs, event_pairs) -> tuple[float, int]:
    row = {d["id"]: i for i, d in enumerate(docs)}
    flagged = sum(labels[row[a]] == labels[row[b]] for a, b in event_pairs)
    return flagged / max(1, len(event_pairs)), flagged


def tune_minhash(docs, group) -> list[dict]:
    """F1 of every MinHash setting on ``docs``: shingle scheme × LSH threshold."""
    out = []
    for scheme in ("w5", "c5", "c7", "c9"):
        hashes = minhashes(docs, scheme)
        for t in [round(t, 2) for t in np.arange(0.1, 0.95, 0.05)]:
            s = pair_scores(run_minhash(docs, scheme, t, hashes), docs, group)
            out.append({"scheme": scheme, "threshold": t, "F1": s["F1"], "errors": s["errors"]})
    return out


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--split", choices=("report", "tune"), default="report",
                   help="the split reported (tune: to choose storyclust's parameters; held-out kinds left out)")
    p.add_argument("--copies", type=float, default=0.4, help="share of base articles that get copies")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--runs", type=int, default=3, help="timed runs per method (median reported)")
    args = p.parse_args()
    data = Path(args.data)

    bases = load_bases(data)
    sets = story_shingles([b["text"] for b in bases])
    no_story = [b for b, st in zip(bases, sets) if len(st) < MIN_STORY_SHINGLES]
    bases = [b for b, st in zip(bases, sets) if len(st) >= MIN_STORY_SHINGLES]
    sets = [st for st in sets if len(st) >= MIN_STORY_SHINGLES]
    real = exact_containment_pairs([b["text"] for b in bases], sets)
    reprint_groups = _groups_from_pairs(len(bases), list(real))
    first_of = {}
    for i, g in enumerate(reprint_groups):
        first_of.setdefault(g, i)
    kept = [b for i, b in enumerate(bases) if first_of[reprint_groups[i]] == i]
    print(f"{len(no_story)} pages without a story set aside", file=sys.stderr)
    print(f"{len(bases)} base articles, {len(real)} real reprint pairs, {len(kept)} bases after keeping one "
          f"per reprint group", file=sys.stderr)
    split = {b["id"]: int(hashlib.sha1(b["id"].encode()).hexdigest(), 16) % 2 for b in kept}
    halves = [[b for b in kept if split[b["id"]] == s] for s in (0, 1)]
    tune_docs, tune_group = build(halves[0], args.copies, args.seed, halves[1], TUNED_KINDS)
    if args.split == "report":
        test_docs, test_group = build(halves[1], args.copies, args.seed + 1, halves[0],
                                      TUNED_KINDS + HELD_OUT_KINDS)
        test_half = 1
    else:
        test_docs, test_group, test_half = tune_docs, tune_group, 0

    # same-event pairs that are not reprints (bases of the reported split)
    ev = defaultdict(list)
    for b in kept:
        if split[b["id"]] == test_half:
            ev[b["event"]].append(b["id"])
    event_pairs = [(m[a], m[b]) for m in ev.values() for a in range(len(m)) for b in range(a + 1, len(m))]

    # tune the MinHash baselines on the tuning split
    grid = tune_minhash(tune_docs, tune_group)
    best_mh = {}
    for r in grid:
        if r["F1"] > best_mh.get(r["scheme"], {"F1": -1})["F1"]:
            best_mh[r["scheme"]] = r
    word_mh = best_mh["w5"]
    char_mh = max((r for k, r in best_mh.items() if k != "w5"), key=lambda r: r["F1"])
    for r in (word_mh, char_mh):
        print(f"MinHashLSH tuned on the tuning split: {r}", file=sys.stderr)
    mh_names = {f"datasketch MinHashLSH, word 5-grams (t={word_mh['threshold']})": word_mh,
                f"datasketch MinHashLSH, char {char_mh['scheme'][1:]}-grams (t={char_mh['threshold']})": char_mh}

    times = defaultdict(list)
    results = {}
    for run in range(args.runs):
        with Timer() as t:
            results["exact hash"] = run_exact(test_docs)
        times["exact hash"].append(t.seconds)
        for name, r in mh_names.items():
            with Timer() as t:
                results[name] = run_minhash(test_docs, r["scheme"], r["threshold"])
            times[name].append(t.seconds)
        with tempfile.TemporaryDirectory() as cache, Timer() as t:
            results["storyclust Deduplicator (defaults)"], stages = run_storyclust(test_docs, cache)
        times["storyclust Deduplicator (defaults)"].append(t.seconds)
        with tempfile.TemporaryDirectory() as cache, Timer() as t:
            results["storyclust Deduplicator(semantic=True)"], sem_stages = run_storyclust(test_docs, cache, True)
        times["storyclust Deduplicator(semantic=True)"].append(t.seconds)

    rows = []
    for name, labels in results.items():
        s = pair_scores(labels, test_docs, test_group)
        rate, flagged = same_event_rate(labels, test_docs, event_pairs)
        sec = statistics.median(times[name])
        rows.append({"method": name, "precision": s["precision"], "recall": s["recall"], "F1": s["F1"],
                     "pair errors": s["errors"], "same-event flagged": f"{flagged}/{len(event_pairs)} ({rate:.1%})",
                     "docs/s": round(len(test_docs) / sec, 1)})
    table = markdown_table(rows, list(rows[0]))
    best_errors = min(r["pair errors"] for r in rows if r["method"] in mh_names)
    ours = next(r for r in rows if r["method"] == "storyclust Deduplicator (defaults)")
    fewer = 1 - ours["pair errors"] / max(1, best_errors)

    # pair F1 and recall per kind of damage: the bases and the copies of that kind
    row = {d["id"]: i for i, d in enumerate(test_docs)}
    base_rows = {i for i, d in enumerate(test_docs) if d["kind"] is None}
    by_kind = []
    for k in [k for k in TUNED_KINDS + HELD_OUT_KINDS if any(d["kind"] == k for d in test_docs)]:
        keep = base_rows | {i for i, d in enumerate(test_docs) if d["kind"] == k}
        entry = {"kind": k + (" (held out)" if k in HELD_OUT_KINDS else ""),
                 "copies": sum(d["kind"] == k for d in test_docs)}
        for name, short in [("storyclust Deduplicator (defaults)", "storyclust"),
                            ("storyclust Deduplicator(semantic=True)", "semantic=True")] + \
                           [(n, "MinHash " + r["scheme"]) for n, r in mh_names.items()]:
            entry[f"{short} F1"] = pair_scores(results[name], test_docs, test_group, keep)["F1"]
            labels = results[name]
            entry[f"{short} recall"] = float(np.mean([labels[row[d["id"]]] == labels[row[test_group[d["id"]]]]
                                                      for d in test_docs if d["kind"] == k]))
        by_kind.append(entry)
    kind_cols = list(by_kind[0])

    # the real reprints, all of them, as one collection
    in_real = sorted({i for pair in real for i in pair})
    real_docs = [{"id": bases[i]["id"], "text": bases[i]["text"], "title": bases[i]["title"]} for i in in_real]
    pos = {i: n for n, i in enumerate(in_real)}
    real_rows = []
    with tempfile.TemporaryDirectory() as cache:
        real_results = {"storyclust Deduplicator (defaults)": run_storyclust(real_docs, cache)[0]}
    for name, r in mh_names.items():
        real_results[name] = run_minhash(real_docs, r["scheme"], r["threshold"])
    for name, labels in real_results.items():
        found = np.mean([labels[pos[i]] == labels[pos[j]] for i, j in real])
        real_rows.append({"method": name, "real reprint pairs found": float(found)})

    samples = sorted(real.items(), key=lambda kv: -kv[1])
    rnd = random.Random(args.seed)
    shown = rnd.sample(samples, min(8, len(samples)))
    sample_rows = [{"containment": c, "article A": _label(bases[i]), "article B": _label(bases[j])}
                   for (i, j), c in sorted(shown, key=lambda kv: -kv[1])]

    n_copies = sum(d["kind"] is not None for d in test_docs)
    tuned = markdown_table(sorted(best_mh.values(), key=lambda r: -r["F1"]), ["scheme", "threshold", "F1", "errors"])
    body = "\n\n".join([
        __doc__.split("\n\n", 2)[2].strip(),
        f"## Results ({args.split} split)",
        f"{len(test_docs)} articles ({len(test_docs) - n_copies} base, {n_copies} copies), "
        f"{pair_scores(results['exact hash'], test_docs, test_group)['true_pairs']} true duplicate pairs. "
        f"Same-event pairs: {len(event_pairs)} pairs of base articles on one event (ECB+ and GVA).",
        table,
        f"storyclust's default makes {ours['pair errors']} pair errors, {fewer:.0%} fewer than the best MinHash "
        f"setting ({best_errors}). Duplicates by deciding stage, defaults: {dict(stages)}; semantic=True: "
        f"{dict(sem_stages)}.",
        "MinHash settings tuned on the tuning split (the best threshold of each shingle scheme):",
        tuned,
        "## Pair F1 and recall by kind of damage",
        "F1 over the base articles and the copies of one kind; recall: the share of those copies found with "
        "their base article.",
        markdown_table(by_kind, kind_cols),
        "## Real reprints in the base corpus",
        f"{len(real)} pairs of base articles (GVA and ECB+) share at least half of the shorter one's cleaned "
        f"5-grams; {len(bases) - len(kept)} articles were set aside so that each reprint group has one base "
        f"({len(no_story)} pages without a story of their own were set aside before). "
        f"Deduplicated as one collection ({len(real_docs)} articles), the share of those pairs each method "
        "puts in one group:",
        markdown_table(real_rows, ["method", "real reprint pairs found"]),
        "A random sample (fixed seed) with the start of each text, to check by eye:",
        markdown_table(sample_rows, ["containment", "article A", "article B"]),
    ])
    print(table)
    print(markdown_table(by_kind, kind_cols))
    print(markdown_table(real_rows, ["method", "real reprint pairs found"]))
    name = "dedup" if args.split == "report" else "dedup-tune"
    print(f"wrote {write_results(name, args.out, 'Near-duplicate detection', body)}")


def _label(b: dict) -> str:
    where = re.sub(r"^https?://(web\.archive\.org/web/\d+/)?(https?://)?", "", b["url"] or "")[:45]
    start = " ".join(clean_text(b["text"]).body.split())[:140]
    return f"{b['id'][:20]} {where}: “{start}…”".replace("|", "/")


if __name__ == "__main__":
    main()
