"""Every suggestion of the shared-data model, for every shared text, is bit for bit what it was when the golden
digests were written (before the issue 16 restructure): a refactor that changes a prediction fails here.

A deliberate change of the model regenerates the digests (``python tests/model/golden_suggestions.py MODEL_DIR``)
and says so, with the quality figures before and after, in its commit.
"""

from __future__ import annotations

import json

import pytest
from golden_suggestions import GOLDEN, digests, libraries

from routing_model.artifact import persistence

pytestmark = pytest.mark.slow


def test_shared_texts_get_the_same_suggestions_as_before(lapor_xlsx_training):
    proc, out = lapor_xlsx_training
    assert proc.returncode == 0, proc.stderr
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    now = digests(persistence.load_served(out))
    changed = {
        name: [
            f"texts {i * golden['block']}..{(i + 1) * golden['block'] - 1}"
            for i, (a, b) in enumerate(zip(golden["digests"][name], blocks))
            if a != b
        ]
        for name, blocks in now.items()
    }
    assert {k: len(v) for k, v in now.items()} == {k: len(v) for k, v in golden["digests"].items()}
    assert not any(changed.values()), (
        f"suggestions changed in {changed}; golden written with {golden['libraries']}, now {libraries()}"
    )
