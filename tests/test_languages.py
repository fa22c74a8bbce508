"""The language registry: the paper's language split, prompt conventions and loud lookups."""

from __future__ import annotations

import dataclasses
import re

import pytest
from conftest import REFERENCE

from cltbook.languages import (
    LANGUAGES,
    MGSM_LANGUAGES,
    PAPER_ANCHOR,
    PAPER_SEEN,
    PAPER_UNSEEN,
    WORLD_LANGUAGES,
    UnknownLanguageError,
    get_language,
)

LM_EVAL_NOTES = REFERENCE / "mgsm" / "LM_EVAL_NOTES.md"

# The generated training data ends every worked answer with these sentences; changing one
# silently changes what strict extraction looks for, so they are pinned here.
ANSWER_TEMPLATES = {
    "en": "The answer is {}.",
    "es": "La respuesta es {}.",
    "fr": "La réponse est {}.",
    "pt": "A resposta é {}.",
    "ja": "答えは{}です。",
    "zh": "答案是{}。",
    "ko": "답은 {}입니다.",
    "ar": "الإجابة هي {}.",
    "de": "Die Antwort lautet {}.",
    "ru": "Ответ \u2014 {}.",
    "th": "คำตอบคือ {}",
    "sw": "Jibu ni {}.",
    "bn": "উত্তর হল {}।",
    "te": "సమాధానం {}.",
}


def test_paper_split_is_the_eight_world_languages() -> None:
    assert WORLD_LANGUAGES == (PAPER_ANCHOR, *PAPER_SEEN, *PAPER_UNSEEN)
    assert {code for code, language in LANGUAGES.items() if language.world_supported} == set(WORLD_LANGUAGES)


@pytest.mark.parametrize(
    ("code", "script_group"),
    [
        ("en", "latin"),
        ("es", "latin"),
        ("fr", "latin"),
        ("pt", "latin"),
        ("ja", "non_latin"),
        ("zh", "non_latin"),
        ("ko", "non_latin"),
        ("ar", "non_latin"),
    ],
)
def test_paper_languages_have_their_script_group(code: str, script_group: str) -> None:
    assert get_language(code).script_group == script_group


def test_every_mgsm_language_is_registered() -> None:
    assert set(MGSM_LANGUAGES) <= set(LANGUAGES)


def test_registry_keys_are_the_codes() -> None:
    assert all(code == language.code for code, language in LANGUAGES.items())


@pytest.mark.parametrize(("code", "template"), ANSWER_TEMPLATES.items())
def test_answer_templates_are_the_generated_data_sentences(code: str, template: str) -> None:
    assert get_language(code).answer_template == template


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_answer_template_has_one_slot(code: str) -> None:
    assert get_language(code).answer_template.count("{}") == 1


@pytest.mark.parametrize(
    ("code", "digits"),
    [
        ("ar", "٠١٢٣٤٥٦٧٨٩"),
        ("ja", "０１２３４５６７８９"),
        ("zh", "０１２３４５６７８９"),
        ("bn", "০১২৩৪৫৬৭৮৯"),
        ("te", "౦౧౨౩౪౫౬౭౮౯"),
        ("th", "๐๑๒๓๔๕๖๗๘๙"),
        ("en", None),
        ("es", None),
        ("fr", None),
        ("ru", None),
    ],
)
def test_native_digits(code: str, digits: str | None) -> None:
    assert get_language(code).numbers.native_digits == digits


@pytest.mark.parametrize(
    ("code", "thousands", "decimal"),
    [
        ("en", ",", "."),
        ("es", ".", ","),
        ("pt", ".", ","),
        ("de", ".", ","),
        ("fr", "\u202f", ","),
        ("ru", "\u00a0", ","),
        ("ar", "\u066c", "\u066b"),
    ],
)
def test_number_conventions(code: str, thousands: str, decimal: str) -> None:
    numbers = get_language(code).numbers
    assert numbers.thousands_separators[0] == thousands
    assert numbers.decimal_separator == decimal


def _lm_eval_prefixes() -> dict[str, tuple[str, str]]:
    """(question prefix, native CoT answer prefix) per language from the notes' table."""
    prefixes = {}
    for row in LM_EVAL_NOTES.read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        if len(cells) == 6 and cells[0] in MGSM_LANGUAGES:
            question, answer = (re.sub(r"`([^`]*)`.*", r"\1", cells[i]) for i in (1, 3))
            prefixes[cells[0]] = (question, answer)
    return prefixes


def test_mgsm_prompt_prefixes_match_lm_eval() -> None:
    if not LM_EVAL_NOTES.exists():
        pytest.skip(f"reference notes not found at {LM_EVAL_NOTES}")
    prefixes = _lm_eval_prefixes()
    assert set(prefixes) == set(MGSM_LANGUAGES)
    # lm-eval's Russian answer prefix drops a space ("Пошаговоерешение:"); we keep the exemplars'.
    prefixes["ru"] = (prefixes["ru"][0], "Пошаговое решение:")
    ours = {code: (get_language(code).question_prefix, get_language(code).answer_prefix) for code in MGSM_LANGUAGES}
    assert ours == prefixes


@pytest.mark.parametrize(("bad", "hint"), [("sp", "es"), ("jp", "ja"), ("EN", "en"), ("pt-BR", "pt"), ("german", "de")])
def test_unknown_code_names_it_and_suggests(bad: str, hint: str) -> None:
    with pytest.raises(UnknownLanguageError) as caught:
        get_language(bad)
    message = str(caught.value)
    assert repr(bad) in message
    assert f"Did you mean {hint!r}" in message
    assert ", ".join(sorted(LANGUAGES)) in message


def test_unknown_code_without_close_match_lists_known_codes() -> None:
    with pytest.raises(ValueError, match=r"Unknown language code 'xx'\. Known codes: ar, "):
        get_language("xx")


@pytest.mark.parametrize(
    "change",
    [
        {"answer_template": "The answer is {} or {}."},
        {"answer_template": "The answer is N."},
        {"answer_template": "{} is the answer."},
        {"script_group": "latin"},
    ],
)
def test_inconsistent_language_is_rejected(change: dict[str, str]) -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(get_language("ja"), **change)


def test_number_grammar_rejects_a_separator_used_twice() -> None:
    with pytest.raises(ValueError):
        dataclasses.replace(get_language("es").numbers, decimal_separator=".")
