"""MGSM-style answer extraction: pure functions from a model's text to a number, per language.

Two extractors, as in lm-evaluation-harness's MGSM tasks: *strict* reads the number right after the
language's answer phrase (so it also measures whether the model follows the answer format), and
*flexible* reads the last number anywhere. Unlike the harness, both return numbers rather than
strings, so "2,125" equals 2125, "18." equals 18 and "$18" equals 18 without stripping punctuation,
which in the harness turns "−5" into "5". Numbers are read in the language's own grammar (from the
registry): its separators, its native digits, and any of the usual minus signs.
"""

from __future__ import annotations

import functools
import re
import unicodedata

from cltbook.languages import ASCII_DIGITS, get_language

# ASCII hyphen-minus, U+2212 minus sign and U+FF0D full-width hyphen-minus. Dashes (–, —) are not
# signs: "Ответ — 18" is Russian punctuation, not minus eighteen.
_MINUS_SIGNS = "-\u2212\uff0d"

# What a model may put between the answer phrase and the number without changing the answer:
# whitespace, Markdown emphasis, currency signs, and invisible bidi marks around Arabic numbers.
_DECORATION = "[\\s*$€£¥₹＄￥\u200e\u200f\u061c]*"


@functools.cache
def _number_pattern(language: str) -> str:
    """Regex source for one number token in ``language``, with groups sign, integer, fraction.

    Separators count as grouping only between groups of exactly three digits (or the Indian
    pairs), so "3.5" in English stays a decimal and "18." ends a sentence. "." is accepted as a
    decimal point in every language, because models often write "3.5" in, say, Spanish; a "."
    that groups thousands there ("1.500") is read as grouping first.
    """
    grammar = get_language(language).numbers
    digit = f"[{ASCII_DIGITS}{grammar.native_digits or ''}]"
    group = "[" + "".join(re.escape(separator) for separator in grammar.thousands_separators) + "]"
    decimal = f"[{re.escape(grammar.decimal_separator)}.]"
    integer_forms = [f"{digit}{{1,3}}(?:{group}{digit}{{3}})+(?!{digit})"]
    if grammar.indian_grouping:
        integer_forms.append(f"{digit}{{1,2}}(?:{group}{digit}{{2}})+{group}{digit}{{3}}(?!{digit})")
    integer_forms.append(f"{digit}+")
    # A minus right after a digit is subtraction ("74-35"), not a sign.
    return (
        f"(?<!{digit})(?P<sign>[{_MINUS_SIGNS}])?"
        f"(?P<integer>{'|'.join(integer_forms)})"
        f"(?:{decimal}(?P<fraction>{digit}+))?"
    )


@functools.cache
def _number_regex(language: str) -> re.Pattern[str]:
    return re.compile(_number_pattern(language))


@functools.cache
def _strict_regex(language: str) -> re.Pattern[str]:
    """The answer phrase (the template before "{}"), then the number.

    Whitespace inside the phrase is optional (zh models write both "答案是 11" and "答案是11");
    matching ignores case, which only matters for cased scripts.
    """
    phrase = unicodedata.normalize("NFC", get_language(language).answer_template.split("{}")[0])
    phrase_pattern = r"\s*".join(re.escape(word) for word in phrase.split())
    return re.compile(phrase_pattern + _DECORATION + _number_pattern(language), re.IGNORECASE)


def _value(match: re.Match[str], language: str) -> float:
    """The matched number's value; ``float`` itself reads native digits (any Unicode digit)."""
    integer = match["integer"]
    for separator in get_language(language).numbers.thousands_separators:
        integer = integer.replace(separator, "")
    sign = "-" if match["sign"] else ""
    return float(f"{sign}{integer}.{match['fraction'] or '0'}")


def parse_number(text: str, language: str) -> float | None:
    """The first number token in ``text``, read in ``language``'s grammar; None if none."""
    match = _number_regex(language).search(unicodedata.normalize("NFC", text))
    return None if match is None else _value(match, language)


def extract_strict(text: str, language: str) -> float | None:
    """The number right after the first answer phrase followed by a number; None if none.

    Only the phrase before the number is required, so counters and endings after it
    ("答えは39個です。", "Ответ — 18.") do not turn a right answer into a missing one.
    """
    match = _strict_regex(language).search(unicodedata.normalize("NFC", text))
    return None if match is None else _value(match, language)


def extract_flexible(text: str, language: str) -> float | None:
    """The last number anywhere in ``text``; None if there is none."""
    matches = list(_number_regex(language).finditer(unicodedata.normalize("NFC", text)))
    return _value(matches[-1], language) if matches else None


def answers_match(predicted: float | None, gold: float, tolerance: float = 1e-6) -> bool:
    """Numeric equality within ``tolerance``; a missing prediction never matches."""
    return predicted is not None and abs(predicted - gold) <= tolerance


def math_scores(output: str, language: str, answer: float | None) -> dict[str, float]:
    """One output's math metrics, each 0 or 1: strict and flexible accuracy and no-answer rates.
    The language-blind core of every math scorer (world and real data)."""
    strict, flexible = extract_strict(output, language), extract_flexible(output, language)
    gold = float("nan") if answer is None else answer
    return {
        "accuracy_strict": float(answer is not None and answers_match(strict, gold)),
        "accuracy_flexible": float(answer is not None and answers_match(flexible, gold)),
        "no_answer_strict": float(strict is None),
        "no_answer_flexible": float(flexible is None),
    }
