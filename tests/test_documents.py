import json
from datetime import datetime

import pandas as pd
import pytest

from storyclust import Article, InputError, clean_text, load_articles
from storyclust.documents import split_paragraphs

from conftest import DATA, SEEDS

RECORDS = [
    {"id": "a", "text": "First story.\n\nSecond paragraph.", "title": "Headline A", "date": "2024-11-29",
     "lang": "en", "url": "http://x/a", "source": "X", "section": "world"},
    {"id": 7, "text": "Zweite Geschichte.", "date": "2024-11-30T10:00:00+02:00"},
]


def _check(arts):
    assert [a.id for a in arts] == ["a", "7"]
    assert arts[0].title == "Headline A" and arts[0].lang == "en" and arts[0].source == "X"
    assert arts[0].date == datetime(2024, 11, 29)
    assert arts[1].date == datetime(2024, 11, 30, 8, 0)  # converted to UTC
    assert arts[0].extra.get("section") == "world"


def test_every_source_gives_the_same_articles(tmp_path):
    _check(load_articles(RECORDS))
    _check(load_articles(pd.DataFrame(RECORDS)))
    jl = tmp_path / "a.jsonl"
    jl.write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n", encoding="utf-8")
    _check(load_articles(jl))
    pd.DataFrame(RECORDS).astype({"id": str}).to_parquet(tmp_path / "a.parquet")
    _check(load_articles(tmp_path / "a.parquet"))
    pd.DataFrame(RECORDS).to_csv(tmp_path / "b.csv", index=False)
    _check(load_articles(tmp_path / "b.csv"))


def test_text_file_and_folder(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "one.txt").write_text("Ein Artikel.", encoding="utf-8")
    (tmp_path / "two.jsonl").write_text(json.dumps({"id": "x", "text": "t"}) + "\n", encoding="utf-8")
    arts = load_articles(tmp_path)
    assert sorted(a.id for a in arts) == ["sub/one", "x"]
    seed = load_articles(SEEDS)
    assert [a.id for a in seed] == ["000_282555f14cda5028"]


def test_csv_with_embedded_newlines_and_quotes(tmp_path):
    p = tmp_path / "q.csv"
    pd.DataFrame([{"id": "q", "text": 'He said "no".\n\nThen, he left.'}]).to_csv(p, index=False)
    (a,) = load_articles(p)
    assert a.text == 'He said "no".\n\nThen, he left.'


def test_title_only_article_is_valid():
    (a,) = load_articles([{"id": "t", "text": "", "title": "Esther Williams dies at 91."}])
    assert a.cleaned.full == "Esther Williams dies at 91."


@pytest.mark.parametrize("content, where, field, words", [
    ('{"id": "a", "text": "ok"}\n{"id": "b", "text": \n', ":2", None, "broken JSON"),
    ('{"text": "no id"}\n', ":1", "id", "missing id"),
    ('{"id": "a", "text": "x"}\n{"id": "a", "text": "y"}\n', ":2", "id", "duplicate id 'a' (first seen at"),
    ('{"id": "a", "text": "x", "date": "last tuesday"}\n', ":1 (id 'a')", "date", "ISO 8601"),
    ('{"id": "a", "text": "   "}\n', ":1 (id 'a')", "text", "empty text"),
    ('{"id": "a", "text": 5}\n', ":1 (id 'a')", "text", "expected a string"),
    ('[1, 2]\n', ":1", None, "expected a JSON object"),
])
def test_bad_records_name_file_line_and_field(tmp_path, content, where, field, words):
    p = tmp_path / "in.jsonl"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputError) as e:
        load_articles(p)
    msg = str(e.value)
    assert f"{p}{where}" in msg and words in msg
    assert e.value.field == field
    if field:
        assert f"field '{field}'" in msg


def test_invalid_utf8_names_the_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_bytes(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "caf\xe9"}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2.*invalid UTF-8"):
        load_articles(p)


def test_skip_mode_keeps_every_valid_record_and_reports_the_rest(tmp_path):
    p = tmp_path / "mixed.jsonl"
    p.write_text('{"id": "a", "text": "x"}\n{broken\n{"id": "b", "text": "y"}\n{"text": "no id"}\n'
                 '{"id": "a", "text": "again"}\n', encoding="utf-8")
    with pytest.warns(UserWarning, match="skipped 3"):
        arts = load_articles(p, errors="skip")
    assert [a.id for a in arts] == ["a", "b"]
    assert [s.where for s in arts.skipped] == [f"{p}:2", f"{p}:4", f"{p}:5"]
    assert arts.skipped[2].field == "id"


def test_unsupported_inputs_are_refused(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        load_articles(tmp_path / "missing.jsonl")
    (tmp_path / "x.xml").write_text("<a/>")
    with pytest.raises(InputError, match="unsupported file type"):
        load_articles(tmp_path / "x.xml")
    with pytest.raises(InputError, match="cannot read articles from a int"):
        load_articles(5)


def test_field_mapping():
    (a,) = load_articles([{"key": "k1", "body": "Text."}], fields={"id": "key"})
    assert a.id == "k1" and a.text == "Text."
    (b,) = load_articles([{"doc_id": "d1", "text": "Text."}])
    assert b.id == "d1"


# ------------------------------------------------------------------ cleaning

def test_seed_caption_and_trailing_headline_are_removed():
    (seed,) = load_articles(SEEDS)
    c = seed.cleaned
    assert "Bildnachweis" not in c.body
    assert c.title.startswith("Der russische Verteidigungsminister besucht Nordkorea")
    assert c.title not in c.body
    assert c.paragraphs[0].startswith("SEOUL: Russischer Verteidigungsminister")
    assert {r.reason for r in c.removed} == {"caption", "headline"}
    assert seed.text.endswith("Andrei Belousov (Bildnachweis: Reuters)")  # original kept


def test_scraped_noise_is_removed_and_story_kept():
    text = (
        "You must enter the characters with black color that stand out from the other characters\n\n"
        "Message: * A friend wanted you to see this item from WRAL.com: http://wral.com/1\n\n"
        "Teen shot at basketball court\n\n"
        "By JANE DOE and JOHN ROE, Associated Press\n\n"
        "A 12-year-old was in critical condition Tuesday after he was shot.\n\n"
        "The victims were treated at Nash General Hospital. (AP Photo/John Smith)\n\n"
        "We use cookies to improve your experience. By continuing you accept our cookie policy.\n\n"
        "Copyright 2014 WMC-TV. All rights reserved.\n\n"
        "Police said the shooter fled in a blue SUV and asked the public for tips."
    )
    c = clean_text(text, title="Teen shot at basketball court")
    assert c.paragraphs == [
        "A 12-year-old was in critical condition Tuesday after he was shot.",
        "Police said the shooter fled in a blue SUV and asked the public for tips.",
    ]
    reasons = [r.reason for r in c.removed]
    assert reasons.count("banner") == 4 and "headline" in reasons and "byline" in reasons
    assert "caption" in reasons


def test_long_paragraph_that_mentions_cookies_is_kept():
    para = ("The bakery sold cookies " + "and bread to hundreds of customers every day " * 6).strip() + "."
    assert clean_text(para + "\n\nSecond paragraph.").paragraphs[0] == para


def test_split_paragraphs():
    assert split_paragraphs("a\r\nb\r\n\r\nc") == ["a\nb", "c"]
    assert split_paragraphs("a\nb\n") == ["a", "b"]
    assert split_paragraphs("  \n ") == []


def test_article_keeps_text_and_exposes_headline():
    a = Article("x", "Body.\n\nBody two.", title="T")
    assert a.headline == "T" and a.text == "Body.\n\nBody two."


def test_a_mistyped_text_field_is_named_with_a_suggestion():
    with pytest.raises(InputError) as e:
        load_articles([{"id": 1, "txt": "The council approved the budget.", "title": "Budget passes"}])
    msg = str(e.value)
    assert "no 'text' field" in msg and "'txt'" in msg and "fields={'text': 'txt'}" in msg
    (a,) = load_articles([{"id": 1, "txt": "The council approved the budget.", "title": "B"}], fields={"text": "txt"})
    assert a.text == "The council approved the budget."


@pytest.mark.parametrize("value, expected", [("13/04/2015", "2015-04-13"), ("04/13/2015", "2015-04-13"),
                                             ("03/03/2015", "2015-03-03"), ("03.04.2015", "2015-04-03")])
def test_slash_dates_are_read_when_unambiguous(value, expected):
    from storyclust.documents import parse_date

    assert parse_date(value).date().isoformat() == expected


def test_an_ambiguous_slash_date_is_called_ambiguous():
    with pytest.raises(InputError, match="ambiguous.*2015-04-03 or 2015-03-04") as e:
        load_articles([{"id": "a", "text": "x", "date": "03/04/2015"}])
    assert e.value.field == "date"


def test_csv_delimiter_is_guessed_from_the_header_or_given(tmp_path):
    p = tmp_path / "semi.csv"
    p.write_text("id;title;text\n1;Budget;The council approved the budget, after a debate.\n", encoding="utf-8")
    (a,) = load_articles(p)
    assert (a.id, a.title, a.text) == ("1", "Budget", "The council approved the budget, after a debate.")
    assert load_articles(p, delimiter=";")[0].text == a.text
    with pytest.raises(InputError, match="more columns than the header.*delimiter"):
        load_articles(p, delimiter=",")


def test_headerless_csv_with_columns_gets_line_numbers_as_ids():
    path = DATA / "gnad10k" / "test.csv"
    if not path.exists():
        pytest.skip(f"{path} not found")
    arts = load_articles(path, delimiter=";", quotechar="'", columns=["label", "text"])
    assert len(arts) > 1000 and arts[0].id == "1" and arts[1].id == "2"
    assert arts[0].extra["label"] == "Wirtschaft" and arts[0].text.startswith("Die Gewerkschaft")


HTML_PAGE = """<html><head><title>Storm closes harbour | Daily Post</title>
<meta property="og:site_name" content="Daily Post"><meta name="date" content="2024-03-10"></head>
<body><nav>Home | News | Sport | Weather</nav><article><h1>Storm closes harbour</h1>
<p>A storm closed the harbour for two days and ferries to the islands were cancelled, officials said on Sunday.</p>
<p>The coast guard said waves reached six metres, and two fishing boats were damaged at their moorings.</p>
</article><footer>Copyright 2024 Daily Post. All rights reserved.</footer></body></html>"""


def test_html_files_folders_and_fields_are_extracted(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "storm.html").write_text(HTML_PAGE, encoding="utf-8")
    for source in (tmp_path / "site", tmp_path / "site" / "storm.html", [{"id": "storm", "html": HTML_PAGE}]):
        (a,) = load_articles(source)
        assert a.id == "storm" and a.title == "Storm closes harbour" and a.source == "Daily Post"
        assert a.date.date().isoformat() == "2024-03-10"
        assert a.text.split("\n\n")[0].startswith("A storm closed the harbour")
        assert "Copyright" not in a.text and "Weather" not in a.text
    # fields the record gives win over the page's
    (a,) = load_articles([{"id": "s", "html": HTML_PAGE, "title": "Given title"}])
    assert a.title == "Given title"
    with pytest.raises(InputError, match="no article text"):
        load_articles([{"id": "e", "html": "<html><body></body></html>"}])


def test_jsonl_on_standard_input(monkeypatch):
    import io

    data = b'{"id": "a", "text": "First."}\n{"id": "b", "text": "Second."}\n'
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert [a.id for a in load_articles("-")] == ["a", "b"]
