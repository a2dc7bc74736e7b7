"""Online storylines: StoryTracker fed batch by batch against StoryClusterer on the whole input, same run.

GVA in date order, one batch per day (dated; and with the dates removed, each day's batch arriving at that day);
ECB+ 36-45 in random batches (undated, as ECB+ is). Scores: BCubed F1 of the tracker's final assignment against
the batch clusterer's, BCubed per 7-day window (as SCStory reports it), id churn; cost: seconds per article as the
stream grows, its growth exponent, the active window and resident memory. ``dormant_after`` is chosen on the
tuning part of GVA (up to 2015) and reported on 2016-17.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, load_ecb, load_gva, markdown_table, parser, write_results  # noqa: E402

from storyclust import Embedder, StoryClusterer, StoryTracker  # noqa: E402
from storyclust.storylines import TermCounts  # noqa: E402
from storyclust.evaluation import (clustering_scores, daily_batches, growth_exponent, id_churn,  # noqa: E402
                                   moves_that_mend, random_batches, replay, windowed_bcubed, without_dates)

DORMANT_GRID = (14, 30, 60, 90)  # days, tried on the tuning part
ECB_BATCHES = 10


def subset(arts, gold, mask):
    return [a for a, m in zip(arts, mask) if m], gold[mask]


def labels_of(final: dict, arts) -> np.ndarray:
    return np.array([-1 if final[a.id] is None else final[a.id] for a in arts])


def batch_run(arts, gold, embedder, days):
    with Timer() as t:
        labels = StoryClusterer(embedder=embedder, random_state=0).fit(arts).labels_
    s = clustering_scores(gold, labels)
    return {"method": "StoryClusterer (whole input at once)", "bcubed_p": s["bcubed_p"], "bcubed_r": s["bcubed_r"],
            "bcubed_f1": s["bcubed_f1"], "7-day bcubed_f1": windowed_bcubed(gold, labels, days),
            "seconds": round(t.seconds, 1)}


def online_run(arts, gold, embedder, batches, days, arrivals=None, dormant_days=60, term_counts=None):
    tracker = StoryTracker(embedder=embedder, dormant_after=timedelta(days=dormant_days), show_progress=False,
                           term_counts=term_counts)
    rec = replay(tracker, batches, arrivals)
    labels = labels_of(rec.final, arts)
    s = clustering_scores(gold, labels)
    churn = id_churn(rec.first, rec.final, tracker.resolve)
    n = sum(rec.batch_sizes)
    archive = "" if term_counts is None else f", starting from {term_counts.n_documents} archive articles' counts"
    row = {"method": f"StoryTracker (dormant_after={dormant_days} days, {len(batches)} batches{archive})",
           "bcubed_p": s["bcubed_p"], "bcubed_r": s["bcubed_r"], "bcubed_f1": s["bcubed_f1"],
           "7-day bcubed_f1": windowed_bcubed(gold, labels, days), "seconds": round(sum(rec.seconds), 1),
           "ms per article": round(1000 * sum(rec.seconds) / n, 1),
           "growth exponent": round(growth_exponent(rec.batch_sizes, rec.seconds), 3),
           "id churn": churn["churn"],
           "moves that mend": moves_that_mend(rec.first, rec.final, dict(zip((a.id for a in arts), gold)),
                                              tracker.resolve),
           "first alone, joined later": churn["joined_later"],
           "max active": max(rec.active), "peak RSS MiB": round(max(rec.rss_mb))}
    return row, rec


def day_numbers(arts):
    return np.array([a.date.timestamp() / 86400 if a.date else np.nan for a in arts])


def cost_by_quarter(batches, rec) -> list[dict]:
    """Seconds per article, active window and memory per calendar quarter of the stream."""
    rows: dict = {}
    for batch, sec, active, rss in zip(batches, rec.seconds, rec.active, rec.rss_mb):
        d = batch[0].date
        key = f"{d.year} Q{(d.month - 1) // 3 + 1}"
        r = rows.setdefault(key, {"quarter": key, "articles": 0, "seconds": 0.0, "max active": 0, "RSS MiB": 0})
        r["articles"] += len(batch)
        r["seconds"] += sec
        r["max active"] = max(r["max active"], active)
        r["RSS MiB"] = round(max(r["RSS MiB"], rss))
    for r in rows.values():
        r["ms per article"] = round(1000 * r["seconds"] / max(r["articles"], 1), 1)
        r["seconds"] = round(r["seconds"], 1)
    return list(rows.values())


def main():
    p = parser(__doc__.splitlines()[0])
    args = p.parse_args()
    data = Path(args.data)
    embedder = Embedder(show_progress=False)
    gva, gva_gold, gva_splits, notes = load_gva(data)
    ecb, ecb_gold, ecb_splits = load_ecb(data)
    with Timer() as t:
        embedder.embed_articles(gva + ecb)  # into the embedding cache: the runs below read vectors from it
    print(f"embedded {len(gva) + len(ecb)} articles in {t.seconds:.0f} s", file=sys.stderr)
    cols = ["method", "bcubed_p", "bcubed_r", "bcubed_f1", "7-day bcubed_f1", "seconds", "ms per article",
            "growth exponent", "id churn", "moves that mend", "first alone, joined later", "max active",
            "peak RSS MiB"]
    out = [f"GVA: {notes}. Vectors come from the embedding cache (filled first), so the seconds are the "
           "trackers' and the clusterer's own. `id churn`: among articles given a storyline id when they arrived, "
           "the share whose id at the end is another (after mapping merged ids to the surviving one); `moves that "
           "mend`: of those, the share now in a storyline holding more of their own event than the one they "
           "left; `first alone, "
           "joined later`: the share of articles given no storyline on arrival that a later report joined (an "
           "online method cannot know the second report before it comes). `growth exponent`: b in cumulative "
           "seconds ~ (cumulative articles)^b after the first tenth of the stream (1: flat cost per article). "
           "7-day BCubed: mean BCubed F1 over consecutive 7-day windows of the articles' dates.\n"]

    # ---- tuning: the quiet period, on GVA up to 2015
    arts, gold = subset(gva, gva_gold, gva_splits["tune"])
    days = day_numbers(arts)
    batches = daily_batches(arts)
    rows = [batch_run(arts, gold, embedder, days)]
    for d in DORMANT_GRID:
        print(f"tuning: dormant_after={d} days", file=sys.stderr)
        rows.append(online_run(arts, gold, embedder, batches, days, dormant_days=d)[0])
    out += [f"## Tuning: the quiet period (GVA up to 2015, {len(arts)} articles, one batch per day)\n",
            markdown_table(rows, cols), ""]

    # ---- reporting; a second tracker starts from the tuning part's names (an archive), not from nothing
    archive = TermCounts.of(arts)
    results, seeded = [], {}
    arts, gold = subset(gva, gva_gold, gva_splits["report"])
    days = day_numbers(arts)
    batches = daily_batches(arts)
    print("GVA 2016-17 dated", file=sys.stderr)
    b = batch_run(arts, gold, embedder, days)
    o, rec = online_run(arts, gold, embedder, batches, days)
    results.append(("GVA 2016–17, dated, one batch per day", b, o))
    seeded[results[-1][0]] = online_run(arts, gold, embedder, batches, days, term_counts=archive)[0]
    quarters = cost_by_quarter(batches, rec)

    print("GVA 2016-17 undated", file=sys.stderr)
    undated = without_dates(arts)
    by_id = {a.id: a for a in undated}
    ubatches = [[by_id[a.id] for a in batch] for batch in batches]
    arrivals = [datetime.combine(batch[0].date.date(), datetime.min.time()) for batch in batches]
    b = batch_run(undated, gold, embedder, days)  # 7-day windows by the dates the copies no longer carry
    o, _ = online_run(undated, gold, embedder, ubatches, days, arrivals=arrivals)
    results.append(("GVA 2016–17, dates removed, one batch per day arriving that day (`now=`)", b, o))
    seeded[results[-1][0]] = online_run(undated, gold, embedder, ubatches, days, arrivals=arrivals,
                                        term_counts=archive)[0]

    print("ECB+ 36-45", file=sys.stderr)
    arts, gold = subset(ecb, ecb_gold, ecb_splits["report"])
    batches = random_batches(arts, ECB_BATCHES, random_state=0)
    days = day_numbers(arts)
    b = batch_run(arts, gold, embedder, days)
    o, _ = online_run(arts, gold, embedder, batches, days)
    results.append((f"ECB+ 36–45 (undated), {ECB_BATCHES} random batches", b, o))

    print("GVA 2013-17 whole stream", file=sys.stderr)
    whole = daily_batches(gva)
    tracker = StoryTracker(embedder=embedder, show_progress=False)
    whole_rec = replay(tracker, whole)
    whole_growth = growth_exponent(whole_rec.batch_sizes, whole_rec.seconds)
    # a year once the window is full: 2016 of the stream that began in 2013 (the cold start is not the stream growing)
    year = [k for k, batch in enumerate(whole) if batch[0].date.year == 2016]
    year_growth = growth_exponent([whole_rec.batch_sizes[k] for k in year], [whole_rec.seconds[k] for k in year],
                                  skip=0.0)

    # ---- targets
    target_rows = []
    for name, b, o in results:
        gap = round(b["bcubed_f1"] - o["bcubed_f1"], 3)
        target_rows.append({"input": name, "batch F1": b["bcubed_f1"], "tracker F1": o["bcubed_f1"], "gap": gap,
                            "gap ≤ 0.01": "yes" if gap <= 0.01 else "no", "id churn": o["id churn"],
                            "churn ≤ 5%": "yes" if o["id churn"] <= 0.05 else "no"})
    body = ["## Targets\n",
            markdown_table(target_rows, ["input", "batch F1", "tracker F1", "gap", "gap ≤ 0.01", "id churn",
                                         "churn ≤ 5%"]), "",
            f"- Cost per article as the stream grows: growth exponent {year_growth:.3f} over 2016, a year of GVA "
            f"({sum(whole_rec.batch_sizes[k] for k in year)} articles in {len(year)} daily batches, the stream "
            f"running since 2013 so that the window is full); target ≤ 1.1: "
            f"{'met' if year_growth <= 1.1 else 'not met'}. Over all of GVA 2013–2017 from an empty state "
            f"({sum(whole_rec.batch_sizes)} articles, {len(whole)} daily batches): {whole_growth:.3f}; it includes "
            "the window filling up and GVA's articles per day growing about tenfold from 2013 to 2017 (the "
            "quarter tables below: the cost per article follows the active window, which follows the rate).",
            "- The state survives SIGKILL during save: "
            "`tests/test_tracker.py::test_state_save_killed_at_random_moments_leaves_old_or_new_state` "
            "(50 kills at random moments; each time the old or the new state loads whole).", ""]
    body += out
    body += ["## Reporting parts\n",
             "Where a second tracker row is given, it started from the GVA tuning part's entity-term counts "
             "(`StoryTracker(term_counts=TermCounts.of(tuning articles))`), so that names are judged rare or "
             "common from the first day instead of once the stream holds a few hundred articles.\n"]
    for name, b, o in results:
        body += [f"### {name}\n", markdown_table([b, o] + ([seeded[name]] if name in seeded else []), cols), ""]
    body += ["## Cost as the stream grows (GVA 2016–17, dated, by quarter)\n",
             markdown_table(quarters, ["quarter", "articles", "seconds", "ms per article", "max active",
                                       "RSS MiB"]), "",
             "## Cost over all of GVA 2013–2017 (by quarter)\n",
             markdown_table(cost_by_quarter(whole, whole_rec), ["quarter", "articles", "seconds", "ms per article",
                                                                "max active", "RSS MiB"]), ""]
    path = write_results("online", args.out, "Online storylines: StoryTracker against StoryClusterer", "\n".join(body))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
