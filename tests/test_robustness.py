"""Bad and odd input end to end: the cases of benchmarks/robustness.py, each with its expected outcome."""

import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from robustness import cases, run_case  # noqa: E402

CASES = cases()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_is_handled_as_documented(case, tmp_path, embedder):
    o = run_case(case, tmp_path, embedder)
    path = str(tmp_path / case.filename)
    assert o.loaded == case.valid
    assert [(s.where, s.field) for s in o.skipped] == [(path + w, f) for w, f in case.skipped]
    if case.skipped:  # the default mode stops at the first bad record and names it
        where, fld = case.skipped[0]
        assert o.raise_mode.startswith(path + where)
        if fld:
            assert f"field '{fld}'" in o.raise_mode
    else:
        assert o.raise_mode == "loaded"
    assert o.every_id_once and sorted(o.dedup_ids) == sorted(case.valid)
