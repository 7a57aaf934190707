"""End-to-end with the real bundled multilingual model on the real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import Settings, ask

pytestmark = pytest.mark.real_model


def test_pool_question_finds_the_answer_to_spm_391(real_index: Path) -> None:
    answer = ask("Hvor mange kommuner fik penge fra puljen til kommuner med mange børnesager?",
                 settings=Settings(index_dir=real_index))
    top = answer.hits[0]
    assert top.document.spm_nr == 391, [h.citation for h in answer.hits]
    assert top.passage.kind == "answer"
    assert "Puljen på i alt 14,3 mio. kr. blev udmøntet til ni kommuner" in " ".join(
        p.text for p in top.passages)
    assert top.citation == "Sagsnr. 2024 - 2715 · SOU alm. del spm. 391 · 30-04-2024 · Social- og boligministeren"


def test_kvalitetsramme_question_finds_both_letters_about_it(real_index: Path) -> None:
    # Spm. 238 and spm. 687 both answer this; both must come before the other letters.
    answer = ask("Hvad har ministeren sagt om kvalitetsrammen og uddannelsesløft på opholdssteder?", k=3,
                 settings=Settings(index_dir=real_index))
    assert {h.document.spm_nr for h in answer.hits[:2]} == {238, 687}, [h.citation for h in answer.hits]


@pytest.mark.parametrize("question, spm_nr", [
    ("Hvad kan der gøres for Langeland Kommunes børnesager?", 246),
    ("Socialrådgivere der dropper møder om børns trivsel på Fyn", 338),
])
def test_paraphrased_questions_find_their_letter(real_index: Path, question: str, spm_nr: int) -> None:
    answer = ask(question, k=3, settings=Settings(index_dir=real_index))
    assert answer.hits and answer.hits[0].document.spm_nr == spm_nr, [h.citation for h in answer.hits]


def test_unrelated_question_is_not_answered(real_index: Path) -> None:
    answer = ask("Hvordan får man sprød svær på flæskestegen?", settings=Settings(index_dir=real_index))
    assert answer.abstained and answer.message == "Jeg fandt ingen svar, der handler om det."
