"""report_job.params is kept in clear (docs/SECURITY.md §2), so the queue takes structure only:
known keys, and dates, codes, ids and switches as values; never free text."""

from __future__ import annotations

import pytest

from dialogue.reports import jobs


@pytest.mark.parametrize("params", [
    {},
    {"from": "2026-01-01", "to": "2026-03-31", "sector": ["semiconductors", "chemicals"], "region": ["kanto"],
     "include_classified": True, "appendix": True},
    {"company_id": "3f0c5a6e-1111-2222-3333-444455556666"},
])
def test_what_the_forms_send_is_taken(params):
    jobs.check_params(params)


@pytest.mark.parametrize("params", [
    {"note": "x"},  # an unknown key
    {"from": "取扱注意の件について"},  # text, not a date
    {"sector": ["semiconductors", "a value with spaces"]},
    {"company_id": "x" * 65},
    {"region": [{"nested": "dict"}]},
])
def test_anything_else_is_refused_without_quoting_it(params):
    with pytest.raises(jobs.JobRefused) as info:
        jobs.check_params(params)
    assert "取扱注意" not in str(info.value) and "spaces" not in str(info.value)
