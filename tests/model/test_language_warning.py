"""The "not Indonesian" warning: never on informal Indonesian, always on English (issue 12)."""

from __future__ import annotations

import pandas as pd
import pytest
from model_helpers import KAI_CSV, LAPOR_CSV

from routing_model.text.language import not_indonesian

ENGLISH = [
    "The road near my house is broken, please fix it as soon as possible",
    "I have been waiting for my ID card for three months and nobody answers",
    "Please help, the street lights in our neighbourhood have been off for a week",
]


def test_informal_indonesian_is_not_flagged():
    assert not not_indonesian("jln di desa jelekong kec baleendah rusak bnyk lobang tlg diperbaiki")
    assert not not_indonesian("min gmn caranya refund tiket kereta yg batal, udh 2 minggu blm masuk")


@pytest.mark.parametrize("text", ENGLISH)
def test_english_is_flagged(text):
    assert not_indonesian(text)


def test_false_alarm_rate_on_the_shared_texts(shared_data):
    """Real LAPOR! complaints: no false alarm; KAI121 tweets (slang, mixed): under 1 %, and those are English."""
    lapor = pd.read_csv(LAPOR_CSV, dtype=str, keep_default_na=False)["text"]
    assert sum(map(not_indonesian, lapor)) == 0
    kai = pd.read_csv(KAI_CSV, dtype=str, keep_default_na=False)["text"]
    flagged = [t for t in kai if not_indonesian(t)]
    assert len(flagged) / len(kai) < 0.01, len(flagged)
    assert any("thank you" in t for t in flagged)
