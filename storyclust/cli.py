"""The ``storyclust`` command: cluster, track, report, dedup, related, index build|query.

Each command reads any input ``load_articles`` reads and writes one JSON line
per input article. Input errors go to stderr with exit status 2, no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from collections import Counter
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from . import __version__
from ._files import atomic_output
from ._words import plural
from .errors import StoryclustError

# Each command imports what it uses, so that `storyclust --help` answers at once.


@contextmanager
def _out(path: str):
    """An output file that is complete or not written (``-``: standard output)."""
    if path == "-":
        yield sys.stdout
        return
    with atomic_output(path) as fh:
        yield fh


def _json_value(v):
    """Dates as ISO 8601 (``2014-01-28T00:00:00``), anything else as its string."""
    return v.isoformat() if isinstance(v, datetime) else str(v)


def _write_jsonl(fh, rows):
    for r in rows:
        fh.write(json.dumps(r, ensure_ascii=False, default=_json_value) + "\n")


def _say(args, *lines):
    """Report on stderr, unless --quiet."""
    if not args.quiet:
        for line in lines:
            print(line, file=sys.stderr)


def _read(args):
    """The input's articles (bad records listed on stderr with --skip-invalid); an input with none is an error."""
    from .documents import ArticleList, iter_articles

    arts = ArticleList()
    arts.extend(iter_articles(args.input,
                              errors="skip" if args.skip_invalid else "raise", skipped=arts.skipped,
                              delimiter=args.delimiter, quotechar=args.quotechar, columns=args.columns))
    for s in arts.skipped:
        print(f"storyclust: skipped {s}", file=sys.stderr)
    if not arts:
        raise StoryclustError(f"every record was skipped ({len(arts.skipped)}); nothing to do" if arts.skipped
                              else f"no articles in {args.input}")
    return arts


def _embedder(args):
    from .embeddings import Embedder

    return Embedder(args.model, cache=not args.no_cache, cache_dir=args.cache_dir,
                    show_progress=False if args.quiet else None)


def _timings(times: dict) -> str:
    return "time: " + ", ".join(f"{stage} {seconds:.1f} s" for stage, seconds in times.items())


def _storylines(args):
    """Read the input, group it into storylines and mark its reprints; the stage timings."""
    from .dedup import find_duplicates
    from .documents import summarize_input
    from .storylines import StoryClusterer

    start = time.perf_counter()
    arts = _read(args)
    times = {"read": time.perf_counter() - start}
    clus = StoryClusterer(min_cluster_size=args.min_cluster_size, linkage=args.linkage, threshold=args.threshold,
                          min_samples=args.min_samples, embedder=_embedder(args),
                          show_progress=False if args.quiet else None)
    embeddings = sketches = None
    if args.engine == "ray":  # embedding, cleaning and dedup sketches on a Ray cluster; the global stages here
        from .engines.ray_engine import prepare_articles

        start = time.perf_counter()
        embeddings, sketches = prepare_articles(arts, args.model, address=args.address, cache=not args.no_cache,
                                                cache_dir=args.cache_dir, show_progress=not args.quiet)
        times["embed (ray)"] = time.perf_counter() - start
    _say(args, f"storyclust: read {summarize_input(arts)}")
    _undated_note(args, arts)
    clus.fit(arts, embeddings=embeddings, term_counts=_archive(args))
    times.update(clus.timings_)
    # reprints from the paragraph vectors the storylines were built from: nothing is embedded twice
    start = time.perf_counter()
    dups = find_duplicates(arts, semantic=True, embedder=clus.embedder_, embeddings=clus.embeddings_,
                           sketches=sketches, show_progress=False)
    times["dedup"] = time.perf_counter() - start
    return arts, clus, dups, times


def _archive(args):
    """The term counts of ``--archive`` (None without it)."""
    if not getattr(args, "archive", None):
        return None
    from .documents import load_articles
    from .storylines import TermCounts

    counts = TermCounts.of(load_articles(args.archive), show_progress=False if args.quiet else None)
    _say(args, f"storyclust: names judged rare or common with {counts.n_documents} archive articles too")
    return counts


def _undated_note(args, arts, extra: str = ""):
    """One line on stderr when articles have no date, and what that means."""
    undated = sum(a.date is None for a in arts)
    if undated:
        which = "all" if undated == len(arts) else f"{undated} of {len(arts)}"
        _say(args, f"storyclust: {which} articles have no date; they are grouped by content alone (names, numbers, "
                   f"headlines), so two reports of one kind of event are kept apart only by what they say{extra}")


def _story_summary(args, arts, clus, dups):
    stories = clus.storylines_
    noise = int((clus.labels_ < 0).sum())
    n_dups = len(arts) - len(dups.kept)
    _say(args, f"{plural(len(arts), 'article')}, {plural(len(stories), 'storyline')}, {noise} in no storyline, "
               f"{plural(n_dups, 'duplicate')} of another article")
    if not stories:
        _say(args, f"  no {args.min_cluster_size} articles report one story (a storyline needs at least "
                   f"--min-cluster-size {args.min_cluster_size}); each article stands alone")


def cmd_cluster(args):
    arts, clus, dups, times = _storylines(args)
    labels = clus.labels_
    start = time.perf_counter()
    with _out(args.output) as fh:
        _write_jsonl(fh, ({"id": a.id, "story_id": (int(lab) if lab >= 0 else None),
                           "duplicate_of": dups.duplicate_of.get(a.id), "title": a.headline,
                           "date": a.date} for a, lab in zip(arts, labels)))
    summary = args.storylines or (None if args.output == "-" else str(Path(args.output).with_suffix("")) +
                                  ".storylines.jsonl")
    stories = clus.storylines_
    if summary:
        with _out(summary) as fh:
            _write_jsonl(fh, (s.to_dict() for s in stories))
    times["write"] = time.perf_counter() - start
    _story_summary(args, arts, clus, dups)
    for s in sorted(stories, key=lambda s: -s.size)[:args.show]:
        span = f"{s.start:%Y-%m-%d}..{s.end:%Y-%m-%d}" if s.start else "-"
        _say(args, f"  story {s.label:>4}  {s.size:>4} articles  {span:<22} {s.headline or ''}"[:150],
             f"{'':>13}keywords: {', '.join(s.keywords)}"[:150])
    if summary:
        _say(args, f"storylines written to {summary}")
    _say(args, _timings(times))


def cmd_track(args):
    from datetime import timedelta

    from .storylines import StoryTracker

    state = Path(args.state)
    if args.input is None and not args.export:
        raise StoryclustError("give an input to track, or --export OUT.jsonl to write the state's assignments")
    if args.input is not None and args.output is None:
        raise StoryclustError("give -o OUT.jsonl for the input's storyline ids")
    embedder = _embedder(args) if args.input is not None else None  # an export reads the state only
    if (state / "tracker.json").exists():
        if args.archive:
            raise StoryclustError(f"--archive starts a new state's term counts; {state} has its own (drop --archive)")
        tracker = StoryTracker.load(state, embedder=embedder, show_progress=False if args.quiet else None)
        _say(args, f"storyclust: {len(tracker)} articles tracked in {state}, {tracker.n_active} active")
        if args.dormant_days is not None:
            tracker.dormant_after = timedelta(days=args.dormant_days)
    elif args.input is None:
        raise StoryclustError(f"no tracker state in {state} to export; track an input first")
    else:
        tracker = StoryTracker(dormant_after=timedelta(days=60 if args.dormant_days is None else args.dormant_days),
                               threshold=args.threshold, embedder=embedder,
                               show_progress=False if args.quiet else None, term_counts=_archive(args))
    if args.input is not None:
        arts = _read(args)
        _undated_note(args, arts, "; arrival order stands for their time")
        if args.batch_size is not None and args.batch_size < 1:
            raise StoryclustError(f"--batch-size must be at least 1, got {args.batch_size}")
        size = args.batch_size or len(arts)
        batches = [arts[k:k + size] for k in range(0, len(arts), size)]
        with _out(args.output) as fh:
            for k, batch in enumerate(batches):
                seen = {a.id for a in batch if a.id in tracker}
                start = time.perf_counter()
                ids = tracker.update(batch, now=args.now)
                seconds = time.perf_counter() - start
                _write_jsonl(fh, ({"id": a.id, "story_id": s, "status": "seen" if a.id in seen else "new",
                                   "title": a.headline, "date": a.date} for a, s in zip(batch, ids)))
                u = tracker.last_update_
                _say(args, f"batch {k + 1}/{len(batches)}: {plural(u['new'], 'new article')}"
                           + (f" ({u['seen']} seen before)" if u["seen"] else "")
                           + f", {u['in_storyline']} in a storyline, {plural(u['new_storylines'], 'new storyline')}; "
                           f"{u['active']} active; {seconds:.1f} s"
                           + (f" ({_timings(tracker.timings_).removeprefix('time: ')})" if tracker.timings_ else ""))
        tracker.save(state)
        _say(args, f"state saved to {state}")
    if args.export:
        with _out(args.export) as fh:
            _write_jsonl(fh, ({"id": i, "story_id": s} for i, s in tracker.assignments().items()))
        _say(args, f"{plural(len(tracker), 'article')} with their storyline ids written to {args.export}")


def cmd_report(args):
    from .report import render_report, write_report

    arts, clus, dups, times = _storylines(args)
    start = time.perf_counter()
    if args.output != "-":
        write_report(args.output, clus, dups, title=args.title)
    else:
        sys.stdout.write(render_report(clus, dups, title=args.title))
    times["report"] = time.perf_counter() - start
    _story_summary(args, arts, clus, dups)
    _say(args, f"report written to {args.output}", _timings(times))


def cmd_dedup(args):
    from .dedup import Deduplicator, find_paragraph_reuse

    start = time.perf_counter()
    articles = _read(args)
    skipped = articles.skipped
    times = {"read": time.perf_counter() - start}
    # only the semantic stage embeds; without it no model is loaded
    embedder = _embedder(args) if args.semantic or args.model else None
    state = Path(args.state) if args.state else None
    if state is not None and (state / "dedup.json").exists():
        dd = Deduplicator.load(state, embedder=embedder)
        _say(args, f"storyclust: checking against {len(dd)} articles kept in {state}")
    else:
        dd = Deduplicator(args.threshold, char_threshold=args.char_threshold, semantic=args.semantic,
                          embedder=embedder)
    dd.show_progress = False if args.quiet else None
    counts = Counter()
    sketches = embeddings = None
    if args.engine == "ray":  # sketches (and paragraph vectors) made on a Ray cluster; the decisions here
        from .engines import ray_engine

        start = time.perf_counter()
        embeddings, sketches = ray_engine.dedup_articles(
            articles, semantic=dd.semantic, model=args.model, address=args.address, cache=not args.no_cache,
            cache_dir=args.cache_dir, num_perm=dd.num_perm, show_progress=not args.quiet)
        times["sketch (ray)"] = time.perf_counter() - start
    # the whole input, checked earliest first (as find_duplicates does), written in input order
    start = time.perf_counter()
    decisions = dd.check_all(articles, embeddings=embeddings, sketches=sketches)
    times["dedup"] = time.perf_counter() - start
    with _out(args.output) as fh:
        for d in decisions:
            counts[d.kind or "kept"] += 1
            if args.keep == "first":
                if not d.is_duplicate:
                    _write_jsonl(fh, [d.article.to_dict()])
            else:
                _write_jsonl(fh, [{"id": d.id, "duplicate_of": d.duplicate_of, "kind": d.kind,
                                   "score": d.score, "stage": d.stage}])
    if state is not None:
        dd.save(state)
    total = sum(counts.values())
    _say(args, f"{plural(total, 'article')}: {counts['kept']} kept, {plural(counts['exact'], 'exact duplicate')}, "
               f"{plural(counts['near'], 'near duplicate')}"
               + (f", {counts['seen']} already seen in {state}" if counts["seen"] else "")
               + (f", {len(skipped)} skipped" if skipped else ""))
    if args.reuse:
        reuse = find_paragraph_reuse(articles)
        with _out(args.reuse) as fh:
            _write_jsonl(fh, (r.to_dict() for r in reuse))
        _say(args, f"{plural(len(reuse), 'reused paragraph')} written to {args.reuse}")
    _say(args, _timings(times))


def _query(args, arts_by_id=None):
    if (args.query is None) == (args.id is None):
        raise StoryclustError("give exactly one of --query TEXT or --id ID")
    if args.query is not None:
        return args.query
    if arts_by_id is None or args.id not in arts_by_id:
        raise StoryclustError(f"id {args.id!r} is not in the input")
    return arts_by_id[args.id]


def _related_rows(hits, duplicate_of=None):
    """Output rows; with ``duplicate_of`` (the input's dedup), each hit's kept article when it is a reprint."""
    for h in hits:
        row = {"id": h.id, "score": round(h.score, 6), "cosine": None if h.cosine is None else round(h.cosine, 6),
               "date": h.date, "title": h.title}
        if duplicate_of is not None:
            row["duplicate_of"] = duplicate_of.get(h.id)
        yield row


def cmd_related(args):
    from .dedup import find_duplicates
    from .index import StoryIndex
    from .related import find_related

    arts = _read(args)
    q = _query(args, {a.id: a for a in arts})  # before the embedding, which is the slow part
    emb = _embedder(args)
    embedded = emb.embed_articles(arts)
    idx = StoryIndex(emb.dim, emb.fingerprint)
    idx.add_articles(arts, emb, embeddings=embedded)
    hits = find_related(idx, q, emb, k=args.k, since=args.since, until=args.until, window_days=args.window_days)
    # reprints among the input, from the paragraph vectors just made: a reprint of the query is not another report
    dups = find_duplicates(arts, semantic=True, embedder=emb, embeddings=embedded, show_progress=False)
    with _out(args.output) as fh:
        _write_jsonl(fh, _related_rows(hits, dups.duplicate_of))


def cmd_index_build(args):
    from .index import StoryIndex

    arts = _read(args)
    emb = _embedder(args)
    idx = StoryIndex(emb.dim, emb.fingerprint, factory=args.factory)
    idx.add_articles(arts, emb)
    idx.save(args.output)
    _say(args, f"indexed {plural(len(idx), 'article')} ({idx.factory_string}, {emb.fingerprint}) in {args.output}")


def cmd_index_query(args):
    from .documents import Article
    from .index import StoryIndex
    from .related import find_related

    if args.query is None and args.id is not None:  # an indexed article: its stored vectors and evidence
        emb = _embedder(args)
        idx = StoryIndex.load(args.index, model=emb.fingerprint)
        if args.id not in idx:
            raise StoryclustError(f"id {args.id!r} is not in the index {args.index}")
        meta = idx.metadata(args.id)
        q = Article(args.id, "", title=meta["title"], date=meta["date"])
    else:
        q = _query(args)
        emb = _embedder(args)
        idx = StoryIndex.load(args.index, model=emb.fingerprint)
    hits = find_related(idx, q, emb, k=args.k, since=args.since, until=args.until)
    with _out(args.output) as fh:
        _write_jsonl(fh, _related_rows(hits))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="storyclust", description="Find the same story across many news articles.")
    p.add_argument("--version", action="version", version=f"storyclust {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp, inp=True, model=True, optional=False):
        sp.add_argument("-q", "--quiet", action="store_true", help="no progress bars, summaries or timings on stderr")
        if inp:
            sp.add_argument("input", nargs="?" if optional else None,
                            help="JSONL, JSON, CSV, Parquet, text or HTML file, a folder of them, or - for "
                                 "JSONL on standard input")
            sp.add_argument("--skip-invalid", action="store_true",
                            help="skip bad records (listed on stderr) instead of stopping at the first")
            sp.add_argument("--delimiter", help="CSV delimiter (default: guessed from the header row)")
            sp.add_argument("--quotechar", default='"', help="CSV quote character (default \")")
            sp.add_argument("--columns", help="column names of a CSV without a header row, comma-separated "
                                              "(e.g. label,text); rows without an id get their line number")
        if model:
            sp.add_argument("--model", default=None,
                            help="sentence-transformers model name or folder (default: bundled multilingual USE v3)")
            sp.add_argument("--no-cache", action="store_true", help="do not use the on-disk embedding cache")
            sp.add_argument("--cache-dir", default=None, help="embedding cache folder")

    def query(sp):
        sp.add_argument("--query", help="free-text query")
        sp.add_argument("--id", help="id of an input article to find related articles for")
        sp.add_argument("-k", type=int, default=10, help="number of results (default 10)")
        sp.add_argument("--since", help="only articles dated on or after (ISO 8601)")
        sp.add_argument("--until", help="only articles dated on or before (ISO 8601)")
        sp.add_argument("-o", "--output", default="-", help="output JSONL (default stdout)")

    def storyline_options(sp):
        sp.add_argument("--min-cluster-size", type=int, default=2,
                        help="the fewest articles a storyline has; smaller groups stay alone (default 2)")
        sp.add_argument("--linkage", choices=("auto", "average", "hdbscan"), default="auto",
                        help="average linkage on the same-story probability (the default) or HDBSCAN on the "
                             "k-NN graph")
        sp.add_argument("--threshold", type=float, default=0.5,
                        help="average same-story probability at which groups merge (default 0.5)")
        sp.add_argument("--min-samples", type=int, default=2, help="HDBSCAN only: neighbours that make a core point")
        archive_option(sp)
        engine_options(sp)

    def archive_option(sp, extra=""):
        sp.add_argument("--archive", help="past articles (a file or folder, as the input) whose names, with the "
                                          "input's, tell a rare name from a common one: an input under 200 "
                                          "articles has no rare names of its own" + extra)

    def engine_options(sp):
        sp.add_argument("--engine", choices=("local", "ray"), default="local",
                        help="where the per-article work (cleaning, embedding, dedup signatures) runs: this process "
                             "(default) or a Ray cluster's workers (pip install 'storyclust[ray]'); the output is "
                             "the same")
        sp.add_argument("--address", help="with --engine ray: the cluster to join (default: a local Ray on this "
                                          "machine's CPUs)")

    c = sub.add_parser("cluster", help="group articles into storylines")
    common(c)
    c.add_argument("-o", "--output", required=True,
                   help="output JSONL: one {id, story_id, duplicate_of, title, date} line per article (- for stdout)")
    c.add_argument("--storylines", help="storyline summary JSONL: {story_id, size, headline, keywords, start, end, "
                                        "article_ids} (default: OUTPUT with .storylines.jsonl)")
    storyline_options(c)
    c.add_argument("--show", type=int, default=10, help="storylines listed on stderr (default 10)")
    c.set_defaults(func=cmd_cluster)

    t = sub.add_parser("track", help="add articles to storylines kept in a state folder (online, stable ids)")
    common(t, optional=True)
    t.add_argument("--state", required=True, help="state folder: loaded when present, created when missing, "
                                                  "saved at the end")
    t.add_argument("-o", "--output", help="output JSONL: one {id, story_id, status, title, date} line per input "
                                          "article (status: new, or seen when already in the state)")
    t.add_argument("--export", help="write every article in the state with its storyline id now (JSONL)")
    t.add_argument("--batch-size", type=int, help="feed the input in batches of this many articles, in order "
                                                  "(default: the whole input is one batch)")
    t.add_argument("--dormant-days", type=float, help="days without a new article after which a storyline goes "
                                                      "dormant (default 60)")
    t.add_argument("--now", help="when this input arrived (ISO 8601, e.g. \"$(date -Iseconds)\"): the time of its "
                                 "undated articles (default: the latest date seen)")
    t.add_argument("--threshold", type=float, default=0.5,
                   help="average same-story probability at which groups merge (default 0.5; new states only)")
    archive_option(t, " (new states only)")
    t.set_defaults(func=cmd_track)

    rep = sub.add_parser("report", help="storylines and duplicates as one self-contained HTML page")
    common(rep)
    rep.add_argument("-o", "--output", required=True, help="the HTML page to write (- for stdout)")
    rep.add_argument("--title", default="Storylines", help="the page's title")
    storyline_options(rep)
    rep.set_defaults(func=cmd_report)

    d = sub.add_parser("dedup", help="mark exact and near-duplicate articles, as a stream")
    common(d)
    d.add_argument("-o", "--output", required=True,
                   help="output JSONL: one {id, duplicate_of, kind, score, stage} line per article, or with "
                        "--keep first the kept records themselves")
    d.add_argument("--keep", choices=("all", "first"), default="all",
                   help="'all' (default): a decision per article; 'first': only the first occurrences")
    d.add_argument("--threshold", type=float, default=0.6,
                   help="share of the shorter text's word 5-grams found in the other (default 0.6)")
    d.add_argument("--char-threshold", type=float, default=0.65,
                   help="share of the shorter text's character 7-grams found in the other: copies with OCR "
                        "noise or typos (default 0.65)")
    d.add_argument("--semantic", action="store_true",
                   help="also embed the first paragraphs and align them (catches reworded reprints; slower)")
    d.add_argument("--state", help="folder of a saved dedup state: loaded when present (check against earlier "
                                   "runs), saved at the end")
    d.add_argument("--reuse", help="also write a paragraph-reuse report (JSONL) here")
    engine_options(d)
    d.set_defaults(func=cmd_dedup)

    r = sub.add_parser("related", help="articles related to a query or an input article")
    common(r)
    query(r)
    r.add_argument("--window-days", type=float, help="with --id: only articles within this many days")
    r.set_defaults(func=cmd_related)

    i = sub.add_parser("index", help="build or query a saved index")
    isub = i.add_subparsers(dest="index_command", required=True)
    b = isub.add_parser("build", help="embed articles and save an index folder")
    common(b)
    b.add_argument("-o", "--output", required=True, help="index folder")
    b.add_argument("--factory", default="auto", help="faiss factory string (default auto: Flat, IVF when large)")
    b.set_defaults(func=cmd_index_build)
    q = isub.add_parser("query", help="query a saved index")
    q.add_argument("index", help="index folder")
    common(q, inp=False)
    query(q)
    q.set_defaults(func=cmd_index_query)
    return p


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"storyclust: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning  # one tidy line, not Python's source excerpt
            args.func(args)
    except StoryclustError as e:
        print(f"storyclust: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"storyclust: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
