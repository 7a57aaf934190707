"""The ranking signals (minister, period, compound parts), the reranker and the confidence model."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from rag import Answer, Settings, ask, open_index
from rag.question import minister_subjects, named_ministers, named_period
from rag.rank import CONFIDENCE_FEATURES, FEATURES, LinearModel, candidates, probability, rerank
from rag.web.render import answer_messages

KRAG = "004_7ee536a8ed030cbd.txt"  # Astrid Krag, social- og ældreminister, 22-04-2022
THEIL_391 = "002_95e6a3818805a982.txt"  # Pernille Rosenkrantz-Theil, 30-04-2024
HAESTORP_687 = "000_34fc68001cd04834.txt"  # Sophie Hæstorp Andersen, 20-10-2024


@pytest.mark.parametrize("title, subjects", [
    ("Social- og boligministeren", {"social", "bolig"}),
    ("ministeren for fødevarer, landbrug og fiskeri", {"fødevarer", "landbrug", "fiskeri"}),
    ("Statsministeren (Mette Frederiksen)", {"stats"}),
    ("beskæftigelsesministerens", {"beskæftigelse"}),
    ("ministeren", set()),
    (None, set()),
])
def test_minister_subjects(title: str | None, subjects: set[str]) -> None:
    assert minister_subjects(title) == subjects


def test_named_ministers_ignores_a_bare_ministeren() -> None:
    assert named_ministers("Hvad har social- og ældreministeren sagt?") == [frozenset({"social", "ældre"})]
    assert named_ministers("Hvad har ministeren sagt om det?") == []


@pytest.mark.parametrize("question, period", [
    ("Hvad blev der svaret i januar 2023?", (date(2023, 1, 1), date(2023, 1, 31))),
    ("svar fra oktober 2024 om plejefamilier", (date(2024, 10, 1), date(2024, 10, 31))),
    ("Hvad sagde ministeren i foråret 2022?", (date(2022, 3, 1), date(2022, 5, 31))),
    ("vinteren 2023", (date(2022, 12, 1), date(2023, 2, 28))),
    ("Hvad skete der i 2021?", (date(2021, 1, 1), date(2021, 12, 31))),
    ("Hvor mange fik 2021-puljen?", None),  # a year in a name, not a period
    ("Hvad koster 2000 pladser?", None),  # a number, not a year asked about
])
def test_named_period(question: str, period: tuple | None) -> None:
    assert named_period(question) == period


def _features(index_dir: Path, question: str) -> dict[str, dict[str, float]]:
    index = open_index(index_dir)
    files = sorted(index.documents)
    c = candidates(index, None, index.lexical.scores(question, len(index.passages)), question, files, None)
    return {Path(f).name: dict(zip(FEATURES, c.x[i].tolist(), strict=False)) for i, f in enumerate(files)}


def test_minister_signal_by_name_and_by_title(hashing_index: Path) -> None:
    by_name = _features(hashing_index, "Hvad har Astrid Krag svaret om plejefamilier?")
    assert by_name[KRAG]["minister"] == 1.0 and by_name[THEIL_391]["minister"] == 0.0
    by_title = _features(hashing_index, "Hvad har social- og ældreministeren svaret om plejefamilier?")
    assert by_title[KRAG]["minister"] == 1.0
    assert by_title[THEIL_391]["minister"] == -1.0, "another minister named: a signal against"


def test_period_signal(hashing_index: Path) -> None:
    f = _features(hashing_index, "Hvad blev der svaret i april 2024 om puljen?")
    assert f[THEIL_391]["period"] == 1.0 and f[HAESTORP_687]["period"] == -1.0


def test_parts_of_compounds_count_where_whole_words_do_not(hashing_index: Path) -> None:
    # "kvalitetsrammeaftalen" is in no letter, but its parts are in those about "kvalitetsrammen"
    f = _features(hashing_index, "kvalitetsrammeaftalen")
    assert max(v["coverage"] for v in f.values()) == 0.0
    assert max(v["parts"] for v in f.values()) > 0.5


def test_rerank_follows_the_weights(hashing_index: Path) -> None:
    index = open_index(hashing_index)
    question = "Hvad har Astrid Krag svaret?"
    files = sorted(index.documents)
    c = candidates(index, None, index.lexical.scores(question, len(index.passages)), question, files, None)
    order, scores = rerank(c, (("minister", 1.0),))
    assert Path(order[0]).name == KRAG and list(scores) == sorted(scores, reverse=True)


def test_a_model_refuses_features_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="nonsense"):
        LinearModel((("nonsense", 1.0),)).score(np.zeros((1, len(FEATURES))), FEATURES)


def test_probability_rises_with_a_positive_weight() -> None:
    model = LinearModel((("cos_max", 10.0),), bias=-8.0)
    low, high = np.zeros(len(CONFIDENCE_FEATURES)), np.zeros(len(CONFIDENCE_FEATURES))
    low[CONFIDENCE_FEATURES.index("cos_max")] = 0.7
    high[CONFIDENCE_FEATURES.index("cos_max")] = 0.9
    assert 0 < probability(model, low) < 0.5 < probability(model, high) < 1


def test_the_bundled_models_calibration_names_only_known_features() -> None:
    from rag.answer import CALIBRATIONS

    for calibration in CALIBRATIONS.values():
        assert {n for n, _ in calibration.weights} <= set(CONFIDENCE_FEATURES)
        assert 0 < calibration.abstain_below <= calibration.unsure_below < 1
    assert {n for n, _ in Settings().search.ranking} <= set(FEATURES)


def test_an_unsure_answer_says_so_above_its_quotes(hashing_index: Path) -> None:
    answer = ask("puljen til kommuner", settings=Settings(index_dir=hashing_index))
    unsure = Answer(question=answer.question, hits=answer.hits, confidence=0.5, unsure=True,
                    message="Måske relevant: jeg er ikke sikker på, at disse passager svarer på spørgsmålet.")
    messages = answer_messages(unsure)
    assert "Måske relevant" in messages[0] and len(messages) == len(answer.hits) + 1
    assert all("Måske relevant" not in m for m in answer_messages(answer)), "a sure answer has no such note"
