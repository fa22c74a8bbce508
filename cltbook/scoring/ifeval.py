"""Verifiable instruction following (IFEval) for multilingual prompt sets, checked offline.

The paper scores instruction following with a GPT-4o judge (``cltbook.scoring.judge``); this module is the
offline, deterministic alternative: the 25 instruction types of IFEval (Zhou et al. 2023,
arXiv:2311.07911), which Marco-Bench-MIF and M-IFEval translate into other languages. Behaviour
follows google-research ``instruction_following_eval`` as summarised in
``shared/reference/IFEVAL_NOTES.md``; it was re-implemented, not copied, so that the checks that
assume English could be made multilingual. On plain-ASCII English text the changes below leave
the reference's behaviour unchanged except for sentence splitting (no NLTK punkt model), the tokens
of ``change_case:capital_word_frequency`` and blank paragraphs in ``nth_paragraph_first_word``, so
English scores stay close to, not identical with, published IFEval numbers.

Multilingual rules (the pitfalls listed in IFEVAL_NOTES.md, and what is done about each):

* Words: a Han, Hiragana or Katakana character is one word (Chinese and Japanese write no spaces,
  and Marco-Bench-MIF's zh prompts state lengths in 字, characters); elsewhere a word is a maximal
  run of letters, combining marks, digits and ``_`` (the reference's ``\\w+`` without splitting
  Devanagari or Arabic words at their vowel signs). Thai, Lao, Khmer and Burmese runs still count
  as one word each: segmenting them needs a dictionary.
* Sentences: a sentence ends at ``. ! ? … ؟ । ॥ ۔`` (optionally followed by closing quotes or
  brackets) before whitespace or the end, or at ``。！？`` anywhere; a piece counts when it holds
  a word character. The reference uses NLTK's English punkt model, which knows abbreviations:
  "Mr. Smith" is one sentence there and two here. Thai marks sentences with spaces only, so a Thai
  text is one sentence, as in the reference.
* ``change_case:capital_word_frequency`` counts upper-case words under the word rule above (the
  reference counts NLTK tokens, so "U.S." is one word there and two here).
* Strings from kwargs (keywords, end phrases, first words, letters, postscript markers) are
  compared after NFKC normalisation and lower-casing of both sides, so a full-width "？" in a
  response matches the "?" in a Japanese end phrase. Keywords are literals (the reference passes
  them to ``re`` unescaped, so "C++" would crash it).
* Forbidden words need a word boundary on each side, except beside a Han/Kana character, where
  Chinese and Japanese have no boundaries to find.
* ``punctuation:no_comma`` also rejects the full-width "，", ideographic "、" and Arabic "،".
* ``startend:quotation`` also accepts the typographic pairs “…”, „…“, „…”, «…», 「…」, 『…』, ＂…＂.
* ``length_constraints:nth_paragraph_first_word`` counts paragraph n among the non-empty ones (the
  reference indexes the raw split, so a stray blank paragraph shifts it); a first word written in
  Han/Kana only has to start the paragraph, since nothing separates it from the next word.
* ``language:response_language`` and the language half of ``change_case:english_*`` need a
  language identifier, injected as ``identify(text) -> code``: script-based guessing cannot tell
  Spanish from Portuguese. Without one, or when it returns None, those instructions are
  *unverifiable* (None), never passed. Codes match when equal or, when either side has no region
  ("zh" against "zh-cn"), when their primary subtags are equal.
* ``keywords:letter_frequency`` with a "letter" of several characters (Marco-Bench-MIF ar has
  "الألف", the letter's name) is unverifiable: the reference silently draws a random letter.

Language-bound checks kept as in the reference: ``detectable_format:constrained_response`` looks
for the English phrases "My answer is yes./no./maybe." although translated sets ask for localized
ones in the prompt (the kwargs do not carry them), and ``change_case:*`` needs a cased script.
M-IFEval's language-prefixed ids ("es:…", "fr:…", "ja:…") have language-specific semantics (French
titles are ``##…##``, Japanese quotations 「…」) and are reported as unknown; its "en:" ids are the
original English IFEval and are accepted.
"""

from __future__ import annotations

import inspect
import json
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import regex

from cltbook.records import DEFAULT_MAX_BAD_FRACTION, BadRecord, BadRecords, OnBadRecord

Identify = Callable[[str], str | None]
"""A language identifier: text -> ISO 639-1 code (optionally with a region, "zh-cn") or None."""

# ---------------------------------------------------------------------------------------------
# Multilingual text units

_CONTINUOUS = r"\p{Han}\p{Hiragana}\p{Katakana}"
_WORD_CHAR = r"\p{L}\p{M}\p{N}_"
_WORD = regex.compile("[" + _CONTINUOUS + "]|(?:(?![" + _CONTINUOUS + "])[" + _WORD_CHAR + "])+")
_HAS_WORD_CHAR = regex.compile("[" + _WORD_CHAR + "]")
_IS_CONTINUOUS = regex.compile("[" + _CONTINUOUS + "]")
_SENTENCE_END = regex.compile(r"[.!?…؟।॥۔]+[\"'”’»)\]」』）]*(?=\s|$)|[。！？｡]+[\"'”’」』）)]*")
_COMMAS = ",，、،﹐﹑"
_QUOTE_PAIRS = (('"', '"'), ("“", "”"), ("„", "“"), ("„", "”"), ("«", "»"), ("「", "」"), ("『", "』"), ("＂", "＂"))
_LEADING_QUOTES = "'\"“‘„«「『"
# Where a first word ends: the reference's cut characters, their CJK/Arabic counterparts, and
# whitespace (the reference takes the first whitespace-separated token).
_FIRST_WORD_END = ".,?!'\"。，、？！،؟"
_CONSTRAINED_OPTIONS = ("My answer is yes.", "My answer is no.", "My answer is maybe.")


def words(text: str) -> list[str]:
    """The words of ``text`` under the multilingual rule in the module docstring."""
    return _WORD.findall(text)


def count_words(text: str) -> int:
    """How many words ``text`` has (one per Han/Kana character, one per letter run elsewhere)."""
    return len(words(text))


def count_sentences(text: str) -> int:
    """How many sentences ``text`` has under the multilingual rule in the module docstring."""
    return sum(1 for piece in _SENTENCE_END.split(text) if _HAS_WORD_CHAR.search(piece))


def _fold(text: str) -> str:
    """The comparison form of a string: NFKC (full-width -> ASCII forms), lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _compare(actual: float, relation: str, threshold: float) -> bool:
    if relation == "less than":
        return actual < threshold
    if relation == "at least":
        return actual >= threshold
    raise ValueError(f"relation must be 'less than' or 'at least', got {relation!r}")


def _same_language(detected: str, expected: str) -> bool:
    detected_tag = _fold(detected).replace("_", "-")
    expected_tag = _fold(expected).replace("_", "-")
    if detected_tag == expected_tag:
        return True
    if "-" in detected_tag and "-" in expected_tag:
        return False  # both carry a region ("zh-tw" vs "zh-cn"): the region was asked for
    return detected_tag.split("-")[0] == expected_tag.split("-")[0]


def _contains_word(text: str, word: str) -> bool:
    """Whether ``word`` occurs in ``text`` as a whole word (both already folded)."""
    before = "" if _IS_CONTINUOUS.match(word[0]) else "(?<![" + _WORD_CHAR + "])"
    after = "" if _IS_CONTINUOUS.match(word[-1]) else "(?![" + _WORD_CHAR + "])"
    return regex.search(before + regex.escape(word) + after, text) is not None


# ---------------------------------------------------------------------------------------------
# The checkers: one function per instruction id, keyword arguments named as in the data's kwargs.
# Each returns True (followed), False (not followed) or None (cannot be decided, see docstring).


@dataclass(frozen=True)
class _Context:
    identify: Identify | None


Checker = Callable[..., bool | None]
_CHECKERS: dict[str, Checker] = {}


def _checker(instruction_id: str) -> Callable[[Checker], Checker]:
    def register(function: Checker) -> Checker:
        _CHECKERS[instruction_id] = function
        return function

    return register


@_checker("keywords:existence")
def _keywords_existence(response: str, context: _Context, *, keywords: Sequence[str]) -> bool:
    text = _fold(response)
    return all(_fold(keyword.strip()) in text for keyword in keywords)


@_checker("keywords:frequency")
def _keywords_frequency(response: str, context: _Context, *, keyword: str, frequency: int, relation: str) -> bool:
    return _compare(_fold(response).count(_fold(keyword.strip())), relation, frequency)


@_checker("keywords:forbidden_words")
def _keywords_forbidden(response: str, context: _Context, *, forbidden_words: Sequence[str]) -> bool:
    text = _fold(response)
    return not any(_contains_word(text, _fold(word.strip())) for word in forbidden_words if word.strip())


@_checker("keywords:letter_frequency")
def _letter_frequency(
    response: str, context: _Context, *, letter: str, let_frequency: int, let_relation: str
) -> bool | None:
    folded_letter = _fold(letter.strip())
    if len(folded_letter) != 1:
        return None
    return _compare(_fold(response).count(folded_letter), let_relation, let_frequency)


@_checker("language:response_language")
def _response_language(response: str, context: _Context, *, language: str) -> bool | None:
    if context.identify is None:
        return None
    detected = context.identify(response)
    return None if detected is None else _same_language(detected, language)


@_checker("length_constraints:number_words")
def _number_words(response: str, context: _Context, *, num_words: int, relation: str) -> bool:
    return _compare(count_words(response), relation, num_words)


@_checker("length_constraints:number_sentences")
def _number_sentences(response: str, context: _Context, *, num_sentences: int, relation: str) -> bool:
    return _compare(count_sentences(response), relation, num_sentences)


@_checker("length_constraints:number_paragraphs")
def _number_paragraphs(response: str, context: _Context, *, num_paragraphs: int) -> bool:
    paragraphs = regex.split(r"\s?\*\*\*\s?", response)
    last = len(paragraphs) - 1
    if any(not piece.strip() for piece in paragraphs[1:last]):
        return False  # an empty paragraph between two dividers
    return sum(1 for piece in paragraphs if piece.strip()) == num_paragraphs


@_checker("length_constraints:nth_paragraph_first_word")
def _nth_paragraph_first_word(
    response: str, context: _Context, *, num_paragraphs: int, nth_paragraph: int, first_word: str
) -> bool:
    paragraphs = [piece.strip() for piece in response.split("\n\n") if piece.strip()]
    if len(paragraphs) != num_paragraphs or not 1 <= nth_paragraph <= len(paragraphs):
        return False
    text = _fold(paragraphs[nth_paragraph - 1].lstrip(_LEADING_QUOTES))
    word = _fold(first_word.strip())
    if not word or not text.startswith(word):
        return False
    if _IS_CONTINUOUS.match(word[-1]):
        return True
    rest = text[len(word) :]
    return not rest or rest[0].isspace() or rest[0] in _FIRST_WORD_END


@_checker("detectable_content:number_placeholders")
def _number_placeholders(response: str, context: _Context, *, num_placeholders: int) -> bool:
    return len(regex.findall(r"\[.*?\]", response)) >= num_placeholders


@_checker("detectable_content:postscript")
def _postscript(response: str, context: _Context, *, postscript_marker: str) -> bool:
    marker = postscript_marker.strip()
    if marker == "P.P.S":
        pattern = r"\s*p\.\s?p\.\s?s.*$"
    elif marker == "P.S.":
        pattern = r"\s*p\.\s?s\..*$"
    else:
        pattern = r"\s*" + regex.escape(_fold(marker)) + r".*$"
    return regex.search(pattern, _fold(response), flags=regex.MULTILINE) is not None


@_checker("detectable_format:number_bullet_lists")
def _number_bullet_lists(response: str, context: _Context, *, num_bullets: int) -> bool:
    stars = regex.findall(r"^\s*\*[^\*].*$", response, flags=regex.MULTILINE)
    dashes = regex.findall(r"^\s*-.*$", response, flags=regex.MULTILINE)
    return len(stars) + len(dashes) == num_bullets


@_checker("detectable_format:number_highlighted_sections")
def _number_highlighted_sections(response: str, context: _Context, *, num_highlights: int) -> bool:
    single = [h for h in regex.findall(r"\*[^\n\*]*\*", response) if h.strip("*").strip()]
    double = [h for h in regex.findall(r"\*\*[^\n\*]*\*\*", response) if h[2:-2].strip()]
    return len(single) + len(double) >= num_highlights


@_checker("detectable_format:title")
def _title(response: str, context: _Context) -> bool:
    return any(title[2:-2].strip() for title in regex.findall(r"<<[^\n]+>>", response))


@_checker("detectable_format:json_format")
def _json_format(response: str, context: _Context) -> bool:
    text = response.strip()
    for fence in ("```json", "```Json", "```JSON", "```"):
        if text.startswith(fence):
            text = text[len(fence) :]
            break
    text = text.removesuffix("```").strip()
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@_checker("detectable_format:multiple_sections")
def _multiple_sections(response: str, context: _Context, *, section_spliter: str, num_sections: int) -> bool:
    pattern = r"\s?" + regex.escape(section_spliter.strip()) + r"\s?\d+\s?"
    return len(regex.split(pattern, response)) - 1 >= num_sections


@_checker("detectable_format:constrained_response")
def _constrained_response(response: str, context: _Context) -> bool:
    text = response.strip()
    return any(option in text for option in _CONSTRAINED_OPTIONS)


@_checker("change_case:english_capital")
def _english_capital(response: str, context: _Context) -> bool | None:
    if not response.isupper():
        return False
    return _response_language(response, context, language="en")


@_checker("change_case:english_lowercase")
def _english_lowercase(response: str, context: _Context) -> bool | None:
    if not response.islower():
        return False
    return _response_language(response, context, language="en")


@_checker("change_case:capital_word_frequency")
def _capital_word_frequency(response: str, context: _Context, *, capital_frequency: int, capital_relation: str) -> bool:
    capitalized = sum(1 for word in words(response) if word.isupper())
    return _compare(capitalized, capital_relation, capital_frequency)


@_checker("startend:end_checker")
def _end_checker(response: str, context: _Context, *, end_phrase: str) -> bool:
    return _fold(response.strip().strip('"')).endswith(_fold(end_phrase.strip()))


@_checker("startend:quotation")
def _quotation(response: str, context: _Context) -> bool:
    text = response.strip()
    return len(text) > 1 and any(
        text.startswith(opening) and text.endswith(closing) for opening, closing in _QUOTE_PAIRS
    )


@_checker("punctuation:no_comma")
def _no_comma(response: str, context: _Context) -> bool:
    return not any(comma in response for comma in _COMMAS)


@_checker("combination:repeat_prompt")
def _repeat_prompt(response: str, context: _Context, *, prompt_to_repeat: str) -> bool:
    return _fold(response.strip()).startswith(_fold(prompt_to_repeat.strip()))


@_checker("combination:two_responses")
def _two_responses(response: str, context: _Context) -> bool:
    pieces = response.split("******")
    last = len(pieces) - 1
    if any(not piece.strip() for piece in pieces[1:last]):
        return False
    answers = [piece.strip() for piece in pieces if piece.strip()]
    return len(answers) == 2 and answers[0] != answers[1]


SUPPORTED_INSTRUCTIONS: tuple[str, ...] = tuple(sorted(_CHECKERS))
# M-IFEval prefixes its ids with the language; its "en:" set is the original English IFEval.
_ALIAS_PREFIXES = ("en:",)


def resolve_instruction(instruction_id: str) -> str | None:
    """The registered checker id for ``instruction_id``, or None when it is not supported."""
    for prefix in _ALIAS_PREFIXES:
        instruction_id = instruction_id.removeprefix(prefix)
    return instruction_id if instruction_id in _CHECKERS else None


# ---------------------------------------------------------------------------------------------
# Loading


@dataclass(frozen=True)
class IFEvalRecord:
    """One prompt: its instructions and, aligned with them, each instruction's kwargs."""

    key: int
    prompt: str
    instruction_id_list: tuple[str, ...]
    kwargs: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class LoadReport:
    """What a load read and what it skipped: malformed lines are reported, never hidden."""

    file: str
    n_lines: int
    n_loaded: int
    bad_lines: tuple[BadRecord, ...]

    @property
    def n_bad(self) -> int:
        return len(self.bad_lines)


class MalformedIFEvalFile(ValueError):
    """A JSONL line that is not an IFEval record, or too many of them."""


class _RecordError(ValueError):
    """What is wrong with one line; the loader adds the file and line number."""


def _parse_record(line: str) -> IFEvalRecord:
    """One IFEval record from a JSONL line; _RecordError says what is wrong with it."""
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as error:
        raise _RecordError(f"invalid JSON ({error})") from None
    if not isinstance(raw, dict):
        raise _RecordError(f"expected a JSON object, got {type(raw).__name__}")
    missing = {"key", "prompt", "instruction_id_list", "kwargs"} - raw.keys()
    if missing:
        raise _RecordError(f"missing field(s) {sorted(missing)}")
    key, prompt, ids, kwargs = (raw[name] for name in ("key", "prompt", "instruction_id_list", "kwargs"))
    if not isinstance(key, int) or isinstance(key, bool):
        raise _RecordError(f"key must be an integer, got {key!r}")
    if not isinstance(prompt, str):
        raise _RecordError("prompt must be a string")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        raise _RecordError("instruction_id_list must be a list of strings")
    if not isinstance(kwargs, list):
        raise _RecordError("kwargs must be a list")
    if len(kwargs) != len(ids):
        raise _RecordError(f"kwargs has {len(kwargs)} entries for {len(ids)} instructions")
    if not all(entry is None or isinstance(entry, dict) for entry in kwargs):
        raise _RecordError("each kwargs entry must be an object or null")
    # HF's google/IFEval writes every possible argument, unused ones as null.
    cleaned = tuple({k: v for k, v in (entry or {}).items() if v is not None} for entry in kwargs)
    return IFEvalRecord(key=key, prompt=prompt, instruction_id_list=tuple(ids), kwargs=cleaned)


def load_ifeval_jsonl(
    path: str | Path, on_bad_record: OnBadRecord = "error", max_bad_fraction: float = DEFAULT_MAX_BAD_FRACTION
) -> tuple[list[IFEvalRecord], LoadReport]:
    """Read an IFEval-format JSONL file (google IFEval, Marco-Bench-MIF, M-IFEval).

    ``on_bad_record="error"`` raises on the first malformed line, naming file and line;
    ``"skip_and_report"`` skips malformed lines and lists them in the report, but still raises when
    more than ``max_bad_fraction`` of the lines are malformed, since then the file, not a record,
    is broken. Blank lines are ignored.
    """
    bad = BadRecords(on_bad_record, max_bad_fraction, error=MalformedIFEvalFile)
    path = Path(path)
    records: list[IFEvalRecord] = []
    n_lines = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            n_lines += 1
            try:
                records.append(_parse_record(line))
            except _RecordError as error:
                bad.reject(BadRecord(file=str(path), line=number, row=None, reason=str(error)))
    bad.check(n_lines, what="lines")
    report = LoadReport(file=str(path), n_lines=n_lines, n_loaded=len(records), bad_lines=tuple(bad.records))
    return records, report


# ---------------------------------------------------------------------------------------------
# Scoring


def _loose_variants(response: str) -> list[str]:
    """The reference's eight loose readings: as is, without a first/last line, without ``*``."""
    lines = response.split("\n")
    trimmed = [response, "\n".join(lines[1:]).strip(), "\n".join(lines[:-1]).strip(), "\n".join(lines[1:-1]).strip()]
    return trimmed + [text.replace("*", "") for text in trimmed]


def _any_followed(outcomes: Sequence[bool | None]) -> bool | None:
    """Followed if any outcome is; undecided if none is but some could not be decided."""
    if any(outcome is True for outcome in outcomes):
        return True
    return None if any(outcome is None for outcome in outcomes) else False


def _all_followed(outcomes: Sequence[bool | None]) -> bool | None:
    """A prompt fails on any failed instruction; it passes only when every one is decided."""
    if any(outcome is False for outcome in outcomes):
        return False
    return None if any(outcome is None for outcome in outcomes) else True


def _check(checker: Checker, response: str, context: _Context, kwargs: Mapping[str, Any]) -> bool | None:
    # An empty response follows nothing (as in the reference), whatever the checker would say.
    return checker(response, context, **kwargs) if response.strip() else False


def score_ifeval(
    records: Sequence[IFEvalRecord], responses: Sequence[str], identify: Identify | None = None
) -> pd.DataFrame:
    """One row per prompt: each instruction's strict and loose outcome and the prompt's pass.

    ``responses[i]`` answers ``records[i]``. Outcomes are True, False or None (undecidable, e.g.
    a language check without ``identify``; or an unknown instruction id, also listed in
    ``unknown_instructions``). ``prompt_strict``/``prompt_loose`` are False when any instruction
    failed, True when all passed, and missing otherwise. Invalid kwargs raise, naming the record.
    """
    if len(records) != len(responses):
        raise ValueError(f"{len(records)} records but {len(responses)} responses")
    context = _Context(identify=identify)
    rows = []
    for record, response in zip(records, responses, strict=True):
        strict: list[bool | None] = []
        loose: list[bool | None] = []
        unknown: list[str] = []
        variants = _loose_variants(response)
        for instruction_id, kwargs in zip(record.instruction_id_list, record.kwargs, strict=True):
            resolved = resolve_instruction(instruction_id)
            if resolved is None:
                unknown.append(instruction_id)
                strict.append(None)
                loose.append(None)
                continue
            checker = _CHECKERS[resolved]
            try:
                inspect.signature(checker).bind(response, context, **kwargs)
                strict.append(_check(checker, response, context, kwargs))
                loose.append(_any_followed([_check(checker, v, context, kwargs) for v in variants]))
            except (TypeError, ValueError) as error:
                raise ValueError(f"record {record.key}: {instruction_id} with kwargs {dict(kwargs)}: {error}") from None
        rows.append(
            {
                "key": record.key,
                "prompt": record.prompt,
                "response": response,
                "instruction_id_list": list(record.instruction_id_list),
                "strict": strict,
                "loose": loose,
                "unknown_instructions": unknown,
                "prompt_strict": _all_followed(strict),
                "prompt_loose": _all_followed(loose),
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "key",
            "prompt",
            "response",
            "instruction_id_list",
            "strict",
            "loose",
            "unknown_instructions",
            "prompt_strict",
            "prompt_loose",
        ],
    )
    for column in ("prompt_strict", "prompt_loose"):
        frame[column] = frame[column].astype("boolean")
    return frame
