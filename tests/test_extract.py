"""Answer extraction on tables of hard cases per language, and on every MGSM gold answer."""

from __future__ import annotations

import functools
import json

import pytest
from conftest import REFERENCE

from cltbook.languages import (
    ASCII_DIGITS,
    LANGUAGES,
    MGSM_LANGUAGES,
    UnknownLanguageError,
    get_language,
)
from cltbook.scoring.extract import answers_match, extract_flexible, extract_strict, parse_number

MGSM = REFERENCE / "mgsm"


def write_number(value: float, language: str, *, native: bool = False) -> str:
    """``value`` as the language writes it: its grouping, decimal separator and optionally digits.

    An independent writer, so that the reader in ``cltbook.scoring.extract`` is checked against the
    registry's conventions rather than against itself.
    """
    grammar = get_language(language).numbers
    magnitude = abs(value)
    text = str(int(magnitude)) if float(magnitude).is_integer() else repr(magnitude)
    integer, _, fraction = text.partition(".")
    group_size = 2 if grammar.indian_grouping else 3
    groups, rest = [integer[-3:]], integer[:-3]
    while rest:
        groups.insert(0, rest[-group_size:])
        rest = rest[:-group_size]
    written = ("-" if value < 0 else "") + grammar.thousands_separators[0].join(groups)
    if fraction:
        written += grammar.decimal_separator + fraction
    if native and grammar.native_digits:
        written = written.translate(str.maketrans(ASCII_DIGITS, grammar.native_digits))
    return written


# (language, model text, strict, flexible)
HARD_CASES = [
    ("en", "The answer is 2,125.", 2125, 2125),
    ("en", "The answer is 3.5.", 3.5, 3.5),
    ("en", "The answer is 1,000.5", 1000.5, 1000.5),
    ("en", "The answer is 12,34.", 12, 34),  # not a group of three: two numbers
    ("en", "The answer is -5.", -5, -5),
    ("en", "The answer is \u22125.", -5, -5),
    ("en", "the answer is **$18**.", 18, 18),
    ("en", "The answer is 18. Check: 16 - 3 - 4 = 9 eggs.", 18, 9),
    ("en", "So 74-35=39 chocolates remain.", None, 39),  # "-" after a digit subtracts
    ("en", "The answer is 20-12", 20, 12),
    ("en", "The  answer\nis 18", 18, 18),
    ("en", "She makes $18 every day.", None, 18),
    ("en", "Answer: 18", None, 18),
    ("en", "I cannot tell.", None, None),
    ("en", "", None, None),
    ("es", "La respuesta es 1.234,5.", 1234.5, 1234.5),
    ("es", "La respuesta es 2.125.", 2125, 2125),
    ("es", "La respuesta es 50 000.", 50000, 50000),
    ("es", "La respuesta es 3,5.", 3.5, 3.5),
    ("es", "La respuesta es 18.00 dólares.", 18, 18),  # a "." that cannot group is a decimal point
    ("es", "Gana 18€ al día.", None, 18),
    ("fr", "La réponse est 3,5.", 3.5, 3.5),
    ("fr", "La réponse est 1\u202f000,5 €.", 1000.5, 1000.5),
    ("fr", "La réponse est 2\u00a0125.", 2125, 2125),
    ("fr", "La Réponse Est 18", 18, 18),
    ("fr", "La re\u0301ponse est 18.", 18, 18),  # decomposed é
    ("pt", "A resposta é 1.000.", 1000, 1000),
    ("pt", "A resposta é \u22125.", -5, -5),
    ("de", "Die Antwort lautet 5.600.", 5600, 5600),
    ("de", "Die Antwort lautet 18kg.", 18, 18),
    ("de", "Die Antwort ist 11.", None, 11),  # MGSM de exemplar 1 uses "ist"
    ("ru", "Ответ — 18.", 18, 18),  # the em dash is punctuation, not a minus
    ("ru", "ответ —18", 18, 18),
    ("ru", "Ответ—18", 18, 18),
    ("ru", "Ответ — \u221218.", -18, -18),
    ("ru", "Ответ — 276\u00a0000.", 276000, 276000),
    ("ru", "Ответ: 18.", None, 18),
    ("ja", "答えは39個です。", 39, 39),
    ("ja", "答えは39個。", 39, 39),
    ("ja", "答えは３９です。", 39, 39),
    ("ja", "答えは－５です。", -5, -5),
    ("ja", "答えは1,000円です。", 1000, 1000),
    ("ja", "74-35=39個のチョコレートが残っている。", None, 39),
    ("ja", "答えはわかりません。", None, None),
    ("zh", "答案是 11。", 11, 11),
    ("zh", "答案是11。", 11, 11),
    ("zh", "答案是１１。", 11, 11),
    ("zh", "所以她每天赚 18 美元。", None, 18),
    ("ar", "الإجابة هي ١٨.", 18, 18),
    ("ar", "الإجابة هي ١٬٠٠٠.", 1000, 1000),
    ("ar", "الإجابة هي ٣٫٥.", 3.5, 3.5),
    ("ar", "الإجابة هي 18.", 18, 18),
    ("ar", "الإجابة هي \u200f١٨.", 18, 18),  # right-to-left mark before the number
    ("ko", "답은 18입니다.", 18, 18),
    ("ko", "답은 2,125입니다.", 2125, 2125),
    ("ko", "답: 18", None, 18),
    ("th", "คำตอบคือ ๑๘", 18, 18),
    ("th", "คำตอบคือ 2,125", 2125, 2125),
    ("sw", "jibu ni -5.", -5, -5),
    ("bn", "উত্তর হল ১৮।", 18, 18),
    ("bn", "উত্তর হল 1,14,200।", 114200, 114200),  # Indian grouping
    ("bn", "The answer is 18.", None, 18),  # lm-eval's bn strict regex is English; ours is not
    ("te", "సమాధానం 39.చాక్లెట్\u200cలు", 39, 39),  # MGSM te exemplar 3
    ("te", "సమాధానం ౧౮.", 18, 18),
    ("te", "దశలవారీగా సమాధానం: 5 + 6 = 11", None, 11),  # the answer prefix is not the phrase
    ("hi", "उत्तर १८ है।", 18, 18),
    ("id", "Jawabannya adalah 2.125.", 2125, 2125),
    ("tr", "Cevap 3,5.", 3.5, 3.5),
]


@pytest.mark.parametrize(("language", "text", "strict", "flexible"), HARD_CASES)
def test_hard_cases(language: str, text: str, strict: float | None, flexible: float | None) -> None:
    assert (extract_strict(text, language), extract_flexible(text, language)) == (strict, flexible)


@pytest.mark.parametrize(
    ("text", "language", "value"),
    [
        ("2,125", "en", 2125),
        ("1.234,5", "es", 1234.5),
        ("3.5", "en", 3.5),
        ("3,5", "fr", 3.5),
        ("1.500", "es", 1500),
        ("1.500", "en", 1.5),
        ("-5", "en", -5),
        ("\u22125", "en", -5),
        ("－5", "ja", -5),
        ("18.", "en", 18),
        ("18。", "ja", 18),
        ("$18", "en", 18),
        ("18€", "fr", 18),
        ("18kg", "de", 18),
        ("١٢٣", "ar", 123),
        ("১,১৪,২০০", "bn", 114200),
        ("1,14,200", "en", 1),  # Indian grouping only where the language uses it
        ("twelve", "en", None),
        ("", "en", None),
    ],
)
def test_parse_number(text: str, language: str, value: float | None) -> None:
    assert parse_number(text, language) == value


def test_unknown_language_fails_loudly() -> None:
    with pytest.raises(UnknownLanguageError, match="'xx'"):
        extract_flexible("18", "xx")


@pytest.mark.parametrize(
    ("predicted", "gold", "tolerance", "expected"),
    [
        (18.0, 18, 1e-6, True),
        (18.0000001, 18, 1e-6, True),
        (18.5, 18, 1e-6, False),
        (-5.0, 5, 1e-6, False),
        (None, 0, 1e-6, False),
        (18.4, 18, 0.5, True),
    ],
)
def test_answers_match(predicted: float | None, gold: float, tolerance: float, expected: bool) -> None:
    assert answers_match(predicted, gold, tolerance) is expected


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("value", [0, 7, -5, 3.5, -0.25, 2125, 114200, 1234567.5])
def test_answer_sentence_round_trips_in_every_language(language: str, value: float) -> None:
    template = get_language(language).answer_template
    for native in (False, True):
        sentence = template.format(write_number(value, language, native=native))
        assert extract_strict(sentence, language) == value, sentence
        assert extract_flexible(sentence, language) == value, sentence


def _mgsm_golds(language: str) -> list[tuple[int, str]]:
    """(line number, answer column) of one MGSM test file; skips when the reference is absent."""
    path = MGSM / f"mgsm_{language}.tsv"
    if not path.exists():
        pytest.skip(f"MGSM reference data not found at {path}")
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
    assert all(len(row) == 2 for row in rows), f"{path} is not question<TAB>answer"
    return [(number, answer) for number, (_, answer) in enumerate(rows, start=1)]


@pytest.mark.parametrize("language", MGSM_LANGUAGES)
def test_mgsm_gold_answers_parse_like_the_hf_loader(language: str) -> None:
    golds = _mgsm_golds(language)
    assert len(golds) == 250
    for line, answer in golds:
        assert parse_number(answer, "en") == int(answer.replace(",", "")), (language, line)


@pytest.mark.parametrize("language", MGSM_LANGUAGES)
def test_every_mgsm_gold_answer_is_extracted(language: str) -> None:
    """Each gold, written in the language's convention, in the answer sentence, after a worked
    answer, and after phrases that are not the answer phrase."""
    spec = get_language(language)
    failures = []
    for line, answer in _mgsm_golds(language):
        gold = parse_number(answer, "en")
        for native in (False, True):
            w = functools.partial(write_number, language=language, native=native)
            sentence = spec.answer_template.format(w(gold))
            worked = f"{w(3)} + {w(4)} = {w(7)}. {w(7)} * {w(2)} = {w(14)}. {sentence}"
            cases = {
                "answer sentence": (sentence, gold, gold),
                "worked answer": (worked, gold, gold),
                "wrong phrase": (f"I think it is {w(gold)}", None, gold),
                "answer prefix": (f"{spec.answer_prefix} {w(gold)}", None, gold),
            }
            for case, (text, strict, flexible) in cases.items():
                got = (extract_strict(text, language), extract_flexible(text, language))
                if got != (strict, flexible):
                    want = (strict, flexible)
                    failures.append(f"line {line} {case}: {text!r} -> {got}, want {want}")
    assert not failures, f"{language}: {len(failures)} failures, e.g.\n" + "\n".join(failures[:10])


def test_mgsm_exemplar_answers_are_extracted() -> None:
    """The 88 human-written chain-of-thought exemplars: real answer sentences, counters included."""
    path = MGSM / "mgsm_exemplars.jsonl"
    if not path.exists():
        pytest.skip(f"MGSM exemplars not found at {path}")
    strict_misses = {("de", 1)}  # "Die Antwort ist 11." is not the template's "lautet"
    failures = []
    for row in map(json.loads, path.read_text(encoding="utf-8").splitlines()):
        language, gold = row["lang"], row["answer_number"]
        strict = None if (language, row["idx"]) in strict_misses else gold
        got = (extract_strict(row["answer"], language), extract_flexible(row["answer"], language))
        if got != (strict, gold):
            failures.append(f"{language} #{row['idx']}: {row['answer'][-40:]!r} -> {got}")
    assert not failures, "\n".join(failures)
