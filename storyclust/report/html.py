"""A storyline report as one self-contained HTML page: no network, no external files, works offline.

The page has a timeline (articles per day of the largest storylines), a sortable and searchable table of
storylines (size, headline, keywords, dates, sources, first reporter and lag), a source × storyline view,
and each storyline's articles in time order with their duplicates folded under the article they repeat.
The search and the sort order can be given in the address (``report.html#q=storm&sort=size``), so a view
can be shared as a link.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path
from statistics import median

from .._files import atomic_output
from .._words import plural
from ..documents import Article
from ..errors import InputError

__all__ = ["render_report", "write_report"]

_TIMELINE_ROWS = 30     # storylines drawn on the timeline (the largest)
_MATRIX_SOURCES = 15    # rows of the source × storyline view
_MATRIX_STORIES = 20    # its columns
_ALONE_LISTED = 500     # articles in no storyline listed by name


def render_report(clusterer, duplicates=None, *, title: str = "Storylines") -> str:
    """The report of a :class:`~storyclust.StoryClusterer` fitted on articles, as an HTML string.

    ``duplicates``: a :class:`~storyclust.DedupResult` of the same articles; its duplicates are folded under
    the article they repeat.

    >>> from datetime import datetime
    >>> from storyclust import Article, StoryClusterer
    >>> arts = [Article("a", "Springfield's council passed the 2024 budget on Monday.", date=datetime(2024, 3, 4)),
    ...         Article("b", "Springfield's 2024 budget passed the council on Monday.", date=datetime(2024, 3, 5))]
    >>> page = render_report(StoryClusterer().fit(arts))
    >>> page.startswith("<!DOCTYPE html>") and "https://" not in page and "<script src" not in page
    True
    """
    articles = clusterer.articles_
    if articles is None:
        raise InputError("a report needs a clusterer fitted on articles, not bare vectors", field="clusterer")
    stories = sorted(clusterer.storylines_, key=lambda s: (-s.size, s.label))
    by_id = {a.id: a for a in articles}
    dup_of = dict(duplicates.duplicate_of) if duplicates is not None else {}
    labels = {a.id: int(lab) for a, lab in zip(articles, clusterer.labels_)}
    facts = [_facts(s, by_id) for s in stories]
    alone = [a for a in articles if labels[a.id] < 0 and not dup_of.get(a.id)]
    dated = [a.date for a in articles if a.date]
    n_dups = sum(1 for v in dup_of.values() if v)
    span = f"{min(dated):%Y-%m-%d} to {max(dated):%Y-%m-%d}" if dated else "no dates"
    in_none = sum(1 for a in articles if labels[a.id] < 0)
    summary = (f"{plural(len(articles), 'article')} · {plural(len(stories), 'storyline')} · {in_none} in no "
               f"storyline · {plural(n_dups, 'duplicate')} · {span}")
    parts = [_HEAD.format(title=html.escape(title), css=_CSS),
             f"<header><h1>{html.escape(title)}</h1><p class=summary>{html.escape(summary)}</p>"
             '<input id=q type=search placeholder="Search headlines, keywords, sources, articles" autofocus>'
             "</header><main>",
             _timeline(stories, by_id, len(articles) - len(dated)),
             _table(stories, facts),
             _matrix(stories, by_id),
             _details(stories, facts, by_id, dup_of),
             _alone(alone, dup_of, by_id),
             "</main>",
             f"<script>{_JS}</script></body></html>"]
    return "\n".join(p for p in parts if p)


def write_report(path, clusterer, duplicates=None, *, title: str = "Storylines") -> Path:
    """Write :func:`render_report` to ``path`` (complete or not at all: written beside it, then renamed)."""
    path = Path(path)
    with atomic_output(path) as fh:
        fh.write(render_report(clusterer, duplicates, title=title))
    return path


# ---------------------------------------------------------------- pieces

def _facts(story, by_id) -> dict:
    """First reporter (the site of the earliest dated article) and the median lag of the other sites' first reports."""
    firsts: dict[str, datetime] = {}
    for i in story.article_ids:
        a = by_id[i]
        if a.date and a.site and (a.site not in firsts or a.date < firsts[a.site]):
            firsts[a.site] = a.date
    if not firsts:
        return {"first": story.sources[0] if story.sources else None, "lag_hours": None}
    first = min(firsts, key=lambda s: (firsts[s], s))
    lags = [(t - firsts[first]).total_seconds() / 3600 for s, t in firsts.items() if s != first]
    return {"first": first, "lag_hours": median(lags) if lags else None}


def _lag(hours) -> str:
    if hours is None:
        return ""
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} d"


def _day(d) -> str:
    return f"{d:%Y-%m-%d}" if d else ""


def _search_text(story, by_id) -> str:
    words = [story.headline or "", " ".join(story.keywords), " ".join(story.sources)]
    words += [by_id[i].headline or "" for i in story.article_ids]
    return html.escape(" ".join(words).lower(), quote=True)


def _timeline(stories, by_id, undated: int) -> str:
    rows = [s for s in stories if s.start][:_TIMELINE_ROWS]
    if not rows:
        return "<section id=timeline><h2>Timeline</h2><p>No dated articles: nothing to draw.</p></section>"
    start = min(s.start for s in rows).date()
    end = max(s.end for s in rows).date()
    days = max((end - start).days, 1)
    width, left, row_h = 900, 260, 18
    height = row_h * len(rows) + 30
    out = [f'<svg viewBox="0 0 {width + left + 20} {height}" role=img aria-label="articles per day per storyline">']
    for r, s in enumerate(rows):
        y = 20 + r * row_h
        label = html.escape((s.headline or ", ".join(s.keywords[:3]) or f"storyline {s.label}")[:40])
        out.append(f'<a href="#s{s.label}"><text x=4 y={y + 4} class=lab>{s.label}: {label}</text></a>')
        out.append(f'<line x1={left} x2={left + width} y1={y} y2={y} class=lane />')
        per_day = Counter(by_id[i].date.date() for i in s.article_ids if by_id[i].date)
        for day, n in sorted(per_day.items()):
            x = left + width * (day - start).days / days
            out.append(f'<circle cx={x:.1f} cy={y} r={min(2 + 1.5 * n, 8):.1f}><title>{day}: {n} '
                       f'article{"s" * (n != 1)}</title></circle>')
    out.append(f'<text x={left} y={height - 2} class=axis>{start}</text>'
               f'<text x={left + width} y={height - 2} class=axis text-anchor=end>{end}</text></svg>')
    note = (f"<p class=note>{undated} undated article{'s' * (undated != 1)} not on the timeline.</p>"
            if undated else "")
    more = (f"<p class=note>The {len(rows)} largest dated storylines of {len(stories)}.</p>"
            if len(stories) > len(rows) else "")
    return "<section id=timeline><h2>Timeline: articles per day</h2>" + "".join(out) + more + note + "</section>"


def _table(stories, facts) -> str:
    head = ("<thead><tr><th data-k=n>#</th><th data-k=size data-num>Articles</th><th data-k=headline>Headline</th>"
            "<th data-k=keywords>Keywords</th><th data-k=start>Start</th><th data-k=end>End</th>"
            "<th data-k=sources data-num>Sources</th><th data-k=first>First reporter</th>"
            "<th data-k=lag data-num>Median lag</th><th data-k=lang>Languages</th></tr></thead>")
    rows = []
    for s, f in zip(stories, facts):
        cells = [(s.label, s.label), (s.size, s.size), (s.headline or "", None), (", ".join(s.keywords), None),
                 (_day(s.start), None), (_day(s.end), None), (len(s.sources), len(s.sources)),
                 (f["first"] or "", None), (_lag(f["lag_hours"]), -1 if f["lag_hours"] is None else f["lag_hours"]),
                 (", ".join(s.languages), None)]
        tds = "".join(f"<td{'' if v is None else f' data-v={v}'}>" + (f'<a href="#s{s.label}">{html.escape(str(t))}</a>'
                                                                       if k == 2 else html.escape(str(t))) + "</td>"
                      for k, (t, v) in enumerate(cells))
        rows.append(f"<tr class=story data-s=\"{s.label}\">{tds}</tr>")
    body = "".join(rows) or "<tr><td colspan=10>No storyline: no two articles report one story.</td></tr>"
    return ("<section id=storylines><h2>Storylines</h2><p class=note>Click a column to sort; the search box "
            f"filters.</p><table id=stories>{head}<tbody>{body}</tbody></table></section>")


def _matrix(stories, by_id) -> str:
    counts: dict[str, Counter] = defaultdict(Counter)
    for s in stories:
        for i in s.article_ids:
            counts[by_id[i].site or "(unknown)"][s.label] += 1
    if not stories or not counts:
        return ""
    cols = stories[:_MATRIX_STORIES]
    sources = sorted(counts, key=lambda k: (-sum(counts[k].values()), k))[:_MATRIX_SOURCES]
    top = max(max(c.values()) for c in counts.values())
    head = "<tr><th>Source</th>" + "".join(f'<th><a href="#s{s.label}" title="{html.escape(s.headline or "")}">'
                                           f"{s.label}</a></th>" for s in cols) + "</tr>"
    rows = []
    for src in sources:
        cells = []
        for s in cols:
            n = counts[src][s.label]
            shade = f' style="background:rgba(40,90,160,{0.15 + 0.85 * n / top:.2f});color:#fff"' if n else ""
            cells.append(f"<td{shade}>{n or ''}</td>")
        rows.append(f"<tr><th>{html.escape(src)}</th>{''.join(cells)}</tr>")
    return ("<section id=sources><h2>Sources × storylines</h2><p class=note>Articles per source (rows, the "
            f"{len(sources)} busiest) and storyline (columns, the {len(cols)} largest).</p>"
            f"<table class=matrix>{head}{''.join(rows)}</table></section>")


def _article_line(a: Article) -> str:
    bits = [_day(a.date), a.site or "", a.headline or a.text[:120]]
    link = f' <a href="{html.escape(a.url, quote=True)}">link</a>' if a.url else ""
    return (f"<span class=date>{html.escape(bits[0])}</span> <span class=site>{html.escape(bits[1])}</span> "
            f"{html.escape(bits[2])} <code>{html.escape(a.id)}</code>{link}")


def _articles(ids, by_id, dup_of) -> str:
    copies: dict[str, list] = defaultdict(list)
    kept = []
    for i in sorted(ids, key=lambda i: by_id[i].chronological_key):
        (copies[dup_of[i]] if dup_of.get(i) else kept).append(i)
    items = []
    for i in kept:
        folded = ""
        if copies[i]:
            inner = "".join(f"<li>{_article_line(by_id[c])}</li>" for c in copies[i])
            folded = (f"<details class=dups><summary>{len(copies[i])} duplicate{'s' * (len(copies[i]) != 1)}"
                      f"</summary><ul>{inner}</ul></details>")
        items.append(f"<li>{_article_line(by_id[i])}{folded}</li>")
    # duplicates whose kept article is outside this list stand on their own
    orphans = [c for k, cs in copies.items() if k not in kept for c in cs]
    items += [f"<li>{_article_line(by_id[c])} <em>duplicate of <code>{html.escape(dup_of[c])}</code></em></li>"
              for c in orphans]
    return f"<ol>{''.join(items)}</ol>"


def _details(stories, facts, by_id, dup_of) -> str:
    out = ["<section id=details><h2>Each storyline</h2>"]
    for s, f in zip(stories, facts):
        meta = (f"{s.size} articles · {_day(s.start)}{' – ' + _day(s.end) if s.end and s.end != s.start else ''}"
                f" · {len(s.sources)} sources" + (f" · first: {f['first']}" if f["first"] else "")
                + (f", others after a median {_lag(f['lag_hours'])}" if f["lag_hours"] is not None else ""))
        out.append(f"<details class=story id=s{s.label} data-s=\"{s.label}\" data-text=\"{_search_text(s, by_id)}\">"
                   f"<summary><b>{s.label}</b> {html.escape(s.headline or '')} <span class=meta>"
                   f"{html.escape(meta)}</span></summary><p class=kw>{html.escape(', '.join(s.keywords))}</p>"
                   f"{_articles(s.article_ids, by_id, dup_of)}</details>")
    out.append("</section>")
    return "".join(out)


def _alone(alone, dup_of, by_id) -> str:
    if not alone:
        return ""
    listed = sorted(alone, key=lambda a: a.chronological_key)[:_ALONE_LISTED]
    more = f"<p class=note>And {len(alone) - len(listed)} more.</p>" if len(alone) > len(listed) else ""
    return (f"<section id=alone><details><summary>{len(alone)} article{'s' * (len(alone) != 1)} in no storyline"
            f"</summary>{_articles([a.id for a in listed], by_id, dup_of)}{more}</details></section>")


_HEAD = """<!DOCTYPE html><html lang=en><head><meta charset=utf-8>
<meta name=viewport content="width=device-width, initial-scale=1"><meta name=generator content=storyclust>
<title>{title}</title><style>{css}</style></head><body>"""

_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#222;background:#fafafa}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid #ddd;padding:8px 20px;z-index:1}
h1{font-size:20px;margin:4px 0}h2{font-size:16px;margin:24px 0 8px}
main{padding:0 20px 40px}.summary,.note,.meta,.kw{color:#666}.meta{font-size:12px;margin-left:8px}
#q{width:min(600px,90%);padding:6px 8px;font-size:14px}
table{border-collapse:collapse;background:#fff;width:100%}th,td{border:1px solid #ddd;padding:3px 6px;
text-align:left;vertical-align:top}#stories th{cursor:pointer;background:#f0f0f0;user-select:none}
#stories th.asc::after{content:" ▲"}#stories th.desc::after{content:" ▼"}
.matrix{width:auto}.matrix td{text-align:center;min-width:22px}
svg{width:100%;max-width:1180px;background:#fff;border:1px solid #ddd}svg circle{fill:#285aa0;opacity:.8}
.lane{stroke:#eee}.lab,.axis{font-size:11px;fill:#444}details.story{background:#fff;border:1px solid #ddd;
margin:4px 0;padding:4px 8px}details.dups{margin-left:16px;color:#555}.date{color:#888}.site{color:#285aa0}
code{font-size:11px;color:#999}.hidden{display:none}#stories td:nth-child(5),#stories td:nth-child(6){white-space:nowrap}
"""

_JS = """
(function(){
  var q=document.getElementById('q'), table=document.getElementById('stories');
  var tbody=table.tBodies[0], heads=table.tHead.rows[0].cells;
  function filter(){
    var t=q.value.trim().toLowerCase(), shown=0;
    document.querySelectorAll('details.story').forEach(function(d){
      var hit=!t||d.getAttribute('data-text').indexOf(t)>=0||d.textContent.toLowerCase().indexOf(t)>=0;
      d.classList.toggle('hidden',!hit);
      var row=tbody.querySelector('tr[data-s="'+d.getAttribute('data-s')+'"]');
      if(row){row.classList.toggle('hidden',!hit);} if(hit){shown++;}
    });
    document.body.setAttribute('data-shown',shown); save();
  }
  var sortKey=null, sortDir=1;
  function sortBy(k,dir){
    var col=-1; for(var i=0;i<heads.length;i++){heads[i].className=''; if(heads[i].getAttribute('data-k')===k){col=i;}}
    if(col<0){return;} sortKey=k; sortDir=dir; heads[col].className=dir>0?'asc':'desc';
    var num=heads[col].hasAttribute('data-num')||k==='n';
    var rows=Array.prototype.slice.call(tbody.rows);
    rows.sort(function(a,b){
      var x=a.cells[col], y=b.cells[col];
      var u=x.hasAttribute('data-v')?parseFloat(x.getAttribute('data-v')):x.textContent;
      var v=y.hasAttribute('data-v')?parseFloat(y.getAttribute('data-v')):y.textContent;
      if(!num){u=String(u).toLowerCase(); v=String(v).toLowerCase();}
      return (u<v?-1:u>v?1:0)*dir;
    });
    rows.forEach(function(r){tbody.appendChild(r);}); save();
  }
  function save(){
    var h=[]; if(q.value){h.push('q='+encodeURIComponent(q.value));}
    if(sortKey){h.push('sort='+(sortDir<0?'-':'')+sortKey);}
    history.replaceState(null,'',h.length?'#'+h.join('&'):location.pathname);
  }
  for(var i=0;i<heads.length;i++){(function(h){h.addEventListener('click',function(){
    var k=h.getAttribute('data-k'); sortBy(k,sortKey===k?-sortDir:(h.hasAttribute('data-num')?-1:1));});})(heads[i]);}
  q.addEventListener('input',filter);
  location.hash.replace(/^#/,'').split('&').forEach(function(p){
    var kv=p.split('='); if(kv[0]==='q'){q.value=decodeURIComponent(kv[1]||'');}
    if(kv[0]==='sort'&&kv[1]){var d=kv[1][0]==='-'?-1:1; sortBy(kv[1].replace(/^-/,''),d);}
  });
  filter();
})();
"""
