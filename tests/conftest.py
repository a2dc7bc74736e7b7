import json
import os
import random
import signal
import time
from pathlib import Path

import pytest

from storyclust import Embedder, load_articles

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def embedder(tmp_path_factory):
    """The default (multilingual) embedder, with a cache private to this test session."""
    return Embedder(cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def ecb_records():
    """ECB+ documents of topics 36-45 (the reporting split): 10 topics, 20 events."""
    path = DATA / "ecbplus" / "documents.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not found")
    rows = [json.loads(line) for line in path.open(encoding="utf-8")]
    return [r for r in rows if r["topic"] >= 36]


@pytest.fixture(scope="session")
def gva_records():
    """Every GVA record (suspect ones too: filter them where it matters), read once per session."""
    path = DATA / "gva" / "articles.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not found")
    return [json.loads(line) for line in path.open(encoding="utf-8")]


@pytest.fixture(scope="session")
def ecb_articles(ecb_records):
    return load_articles(ecb_records)


@pytest.fixture(scope="session")
def ecb_file(ecb_records, tmp_path_factory):
    path = tmp_path_factory.mktemp("ecb") / "ecb.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for r in ecb_records:
            fh.write(json.dumps(r) + "\n")
    return path


@pytest.fixture(scope="session")
def parallel():
    import csv

    with open(FIXTURES / "parallel_news.tsv", encoding="utf-8") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def kill_while_writing(write, *, trials: int = 50, min_sleep: float = 0.0, max_sleep: float = 0.2, seed: int = 0):
    """SIGKILL a writing process at random moments, ``trials`` times; yield the trial number after each kill.

    Each trial forks a child that calls ``write(gen)`` for gen = 1000 * (trial + 1), then + 1, + 2, ... until
    it is killed, after a random delay, in the middle of whatever it was doing.
    """
    rnd = random.Random(seed)
    for trial in range(trials):
        pid = os.fork()
        if pid == 0:
            try:
                gen = 1000 * (trial + 1)
                while True:
                    write(gen)
                    gen += 1
            finally:
                os._exit(0)
        time.sleep(rnd.uniform(min_sleep, max_sleep))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        yield trial
