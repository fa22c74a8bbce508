"""Language identification on all FLORES devtest sentences of the paper's languages, and on the
texts that must stay undetermined."""

from __future__ import annotations

import pytest

from cltbook.languages import WORLD_LANGUAGES, UnknownLanguageError
from cltbook.scoring.langid import UNDETERMINED, LanguageIdentifier

FLORES_FILES = {
    "en": "eng_Latn",
    "es": "spa_Latn",
    "fr": "fra_Latn",
    "ja": "jpn_Jpan",
    "zh": "zho_Hans",
    "ar": "arb_Arab",
    "ko": "kor_Hang",
    "pt": "por_Latn",
}
MIN_ACCURACY = 0.95


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(WORLD_LANGUAGES)


def test_flores_files_cover_the_paper_languages():
    assert sorted(FLORES_FILES) == sorted(WORLD_LANGUAGES)


def test_accuracy_on_every_flores_devtest_sentence(identifier, reference):
    """Each of the 8 languages, 1,012 sentences each: correct >= 95%; UNDETERMINED counts as
    wrong. The table is printed (``-s``) and repeated in the failure message."""
    rows, failing = [], []
    for code, stem in FLORES_FILES.items():
        sentences = (reference / "flores" / "devtest" / f"{stem}.devtest").read_text(encoding="utf-8").splitlines()
        assert len(sentences) == 1012, stem
        labels = identifier.identify_many(sentences)
        accuracy = sum(label == code for label in labels) / len(labels)
        wrong = {label: labels.count(label) for label in set(labels) - {code}}
        rows.append(f"{code}  {accuracy:.4f}  {sum(wrong.values()):2d} wrong  {wrong}")
        if accuracy < MIN_ACCURACY:
            failing.append(code)
    table = "\n".join(["lang  accuracy  errors (label: count)", *rows])
    print("\n" + table)
    assert not failing, f"accuracy below {MIN_ACCURACY} for {failing}\n{table}"


@pytest.mark.parametrize("text", ["", "   ", "123 456", "!!!", "3.14 + 2,5 = ?", "😀😀"])
def test_texts_without_letters_are_undetermined(identifier, text):
    assert identifier.identify(text) == UNDETERMINED
    assert identifier.identify_many([text]) == [UNDETERMINED]


def test_low_confidence_is_undetermined_unless_the_threshold_allows_it():
    """A lone "a" is Spanish, Portuguese, French or English: no language gets half the mass."""
    assert LanguageIdentifier(WORLD_LANGUAGES).identify("a") == UNDETERMINED
    assert LanguageIdentifier(WORLD_LANGUAGES, min_confidence=0.0).identify("a") in WORLD_LANGUAGES


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("The answer is 42, because each box holds six apples.", "en"),
        ("La respuesta es 42, porque cada caja tiene seis manzanas.", "es"),
        ("La réponse est 42, car chaque boîte contient six pommes.", "fr"),
        ("答えは42です。各箱にはリンゴが6個入っています。", "ja"),
        ("答案是42，因为每个盒子里有六个苹果。", "zh"),
        ("الإجابة هي 42، لأن كل صندوق يحتوي على ست تفاحات.", "ar"),
        ("답은 42입니다. 각 상자에는 사과가 여섯 개 들어 있습니다.", "ko"),
        ("A resposta é 42, porque cada caixa tem seis maçãs.", "pt"),
    ],
)
def test_single_and_batch_identification_agree(identifier, text, code):
    assert identifier.identify(text) == code
    assert identifier.identify_many(["", text]) == [UNDETERMINED, code]


def test_answers_only_among_its_languages():
    """German is not a candidate, so a German sentence cannot come back as "de"."""
    latin = LanguageIdentifier(["en", "es", "fr", "pt"])
    label = latin.identify("Die Antwort lautet 42, weil jede Kiste sechs Äpfel enthält.")
    assert label in {"en", "es", "fr", "pt", UNDETERMINED}
    assert LanguageIdentifier(["de", "en"]).identify("Die Antwort lautet zweiundvierzig.") == "de"


def test_identify_many_of_nothing_is_empty(identifier):
    assert identifier.identify_many([]) == []


@pytest.mark.parametrize(
    ("languages", "min_confidence", "error"),
    [
        (["en", "jp"], 0.5, UnknownLanguageError),
        (["en"], 0.5, ValueError),
        (["en", "es", "en"], 0.5, ValueError),
        (["en", "es"], 1.5, ValueError),
        (["en", "es"], -0.1, ValueError),
    ],
)
def test_bad_construction_fails_loudly(languages, min_confidence, error):
    with pytest.raises(error):
        LanguageIdentifier(languages, min_confidence)
