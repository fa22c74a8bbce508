"""IFEval checks on hand cases (each passing and failing, several languages), loose scoring,
and the loader on every Marco-Bench-MIF and M-IFEval reference file."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Sequence

import pandas as pd
import pytest

from cltbook.scoring.ifeval import (
    SUPPORTED_INSTRUCTIONS,
    IFEvalRecord,
    MalformedIFEvalFile,
    count_sentences,
    count_words,
    load_ifeval_jsonl,
    resolve_instruction,
    score_ifeval,
)

# ---------------------------------------------------------------------------------------------
# Summaries over many prompts, as lm-evaluation-harness reports them (for the checks below)


def instruction_coverage(records: Sequence[IFEvalRecord]) -> pd.DataFrame:
    """One row per instruction id in ``records``: how often it occurs and whether it is checked."""
    counts = Counter(i for record in records for i in record.instruction_id_list)
    rows = [
        {"instruction_id": i, "n": n, "supported": resolve_instruction(i) is not None}
        for i, n in sorted(counts.items())
    ]
    return pd.DataFrame(rows, columns=["instruction_id", "n", "supported"])


def instruction_results(scores: pd.DataFrame) -> pd.DataFrame:
    """``score_ifeval``'s output with one row per instruction (for per-type breakdowns)."""
    rows = [
        {
            "key": row.key,
            "instruction_id": instruction_id,
            "strict": strict,
            "loose": loose,
            "supported": resolve_instruction(instruction_id) is not None,
        }
        for row in scores.itertuples(index=False)
        for instruction_id, strict, loose in zip(row.instruction_id_list, row.strict, row.loose, strict=True)
    ]
    frame = pd.DataFrame(rows, columns=["key", "instruction_id", "strict", "loose", "supported"])
    for column in ("strict", "loose"):
        frame[column] = frame[column].astype("boolean")
    return frame


def _decided_mean(outcomes: pd.Series) -> float:
    return float(outcomes.mean()) if outcomes.notna().any() else float("nan")


def summarize_ifeval(scores: pd.DataFrame) -> dict[str, float | int]:
    """The four IFEval accuracies (0–1) over decided outcomes, with the counts left out of them.

    Names follow lm-evaluation-harness. Accuracies are NaN when nothing was decided.
    """
    per_instruction = instruction_results(scores)
    summary: dict[str, float | int] = {"n_prompts": len(scores), "n_instructions": len(per_instruction)}
    for level in ("strict", "loose"):
        prompt_level = scores[f"prompt_{level}"]
        instruction_level = per_instruction[level]
        summary[f"prompt_level_{level}_acc"] = _decided_mean(prompt_level)
        summary[f"inst_level_{level}_acc"] = _decided_mean(instruction_level)
        summary[f"n_prompts_undecided_{level}"] = int(prompt_level.isna().sum())
        summary[f"n_instructions_undecided_{level}"] = int(instruction_level.isna().sum())
    summary["n_instructions_unknown"] = int((~per_instruction["supported"]).sum())
    return summary


def outcome(instruction_id, kwargs, response, identify=None, prompt="p"):
    """(strict, loose) outcome of one instruction on one response."""
    record = IFEvalRecord(key=1, prompt=prompt, instruction_id_list=(instruction_id,), kwargs=(kwargs,))
    row = score_ifeval([record], [response], identify=identify).iloc[0]
    return row.strict[0], row.loose[0]


def always(code):
    return lambda text: code


AT_LEAST, LESS_THAN = "at least", "less than"

# (instruction id, kwargs, response, expected strict outcome)
CASES = [
    ("keywords:existence", {"keywords": ["banana", "apple"]}, "Apples and BANANAS.", True),
    ("keywords:existence", {"keywords": ["banana", "apple"]}, "Only apples.", False),
    ("keywords:existence", {"keywords": ["故事"]}, "这是一个好故事。", True),
    ("keywords:existence", {"keywords": ["C++"]}, "I write c++ daily.", True),
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": AT_LEAST}, "Cat, cat, dog.", True),
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": AT_LEAST}, "cat dog", False),
    ("keywords:frequency", {"keyword": "cat", "frequency": 2, "relation": LESS_THAN}, "cat CAT", False),
    ("keywords:frequency", {"keyword": "和平", "frequency": 2, "relation": AT_LEAST}, "和平，和平。", True),
    ("keywords:forbidden_words", {"forbidden_words": ["cat"]}, "A category of dogs.", True),
    ("keywords:forbidden_words", {"forbidden_words": ["cat"]}, "My Cat sleeps.", False),
    ("keywords:forbidden_words", {"forbidden_words": ["战争"]}, "和平与战争时期", False),
    ("keywords:forbidden_words", {"forbidden_words": ["战争"]}, "和平时期", True),
    # A vowel sign continues a Devanagari word: "कि" does not contain the word "क".
    ("keywords:forbidden_words", {"forbidden_words": ["क"]}, "कि", True),
    ("keywords:letter_frequency", {"letter": "a", "let_frequency": 4, "let_relation": AT_LEAST}, "A banana", True),
    ("keywords:letter_frequency", {"letter": "a", "let_frequency": 4, "let_relation": AT_LEAST}, "bob", False),
    ("keywords:letter_frequency", {"letter": "ل", "let_frequency": 2, "let_relation": LESS_THAN}, "سلام", True),
    (
        "keywords:letter_frequency",
        {"letter": "!", "let_frequency": 2, "let_relation": AT_LEAST},
        "すごい！本当！",
        True,
    ),  # full-width "！" counts as "!"
    # The name of a letter, not a letter: the reference would draw a random one instead.
    ("keywords:letter_frequency", {"letter": "الألف", "let_frequency": 3, "let_relation": LESS_THAN}, "نص", None),
    ("length_constraints:number_words", {"num_words": 5, "relation": AT_LEAST}, "one two three four five", True),
    ("length_constraints:number_words", {"num_words": 5, "relation": AT_LEAST}, "one two", False),
    ("length_constraints:number_words", {"num_words": 5, "relation": LESS_THAN}, "我喜欢猫", True),
    ("length_constraints:number_words", {"num_words": 5, "relation": LESS_THAN}, "我非常喜欢猫", False),
    ("length_constraints:number_sentences", {"num_sentences": 2, "relation": AT_LEAST}, "One. Two.", True),
    ("length_constraints:number_sentences", {"num_sentences": 2, "relation": AT_LEAST}, "Only 3.5 apples.", False),
    (
        "length_constraints:number_sentences",
        {"num_sentences": 3, "relation": AT_LEAST},
        "一つ目。二つ目！三つ目？",
        True,
    ),
    ("length_constraints:number_sentences", {"num_sentences": 2, "relation": LESS_THAN}, "一つ目。二つ目。", False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "A\n***\nB", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "***\nA\n***\nB\n***", True),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "A\n***\n \n***\nB", False),
    ("length_constraints:number_paragraphs", {"num_paragraphs": 2}, "A and B", False),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "First part.\n\nThen, the second.",
        True,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "First part.\n\nThenceforth the second.",
        False,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "then"},
        "First.\n\nThen two.\n\nThree.",
        False,
    ),  # three paragraphs, not two
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 2, "first_word": "太白金星"},
        "第一段。\n\n太白金星来了。",
        True,
    ),
    (
        "length_constraints:nth_paragraph_first_word",
        {"num_paragraphs": 2, "nth_paragraph": 1, "first_word": "then"},
        '"Then" he said.\n\nMore.',
        True,
    ),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name], at [address].", True),
    ("detectable_content:number_placeholders", {"num_placeholders": 2}, "Dear [name].", False),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Body.\n\nP.S. Bye", True),
    ("detectable_content:postscript", {"postscript_marker": "P.S."}, "Body only.", False),
    ("detectable_content:postscript", {"postscript_marker": "P.P.S"}, "Body\nP.P.S more", True),
    ("detectable_content:postscript", {"postscript_marker": "Nota"}, "Texto\nNota: adiós", True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* a\n* b", True),
    ("detectable_format:number_bullet_lists", {"num_bullets": 2}, "* a\n* b\n- c", False),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and **two**", True),
    ("detectable_format:number_highlighted_sections", {"num_highlights": 2}, "*one* and ** **", False),
    ("detectable_format:title", {}, "<<My Title>>\nText", True),
    ("detectable_format:title", {}, "<< >> text", False),
    ("detectable_format:json_format", {}, '```json\n{"a": 1}\n```', True),
    ("detectable_format:json_format", {}, 'Here: {"a": 1}', False),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "Section", "num_sections": 2},
        "Section 1\nA\nSection 2\nB",
        True,
    ),
    ("detectable_format:multiple_sections", {"section_spliter": "Section", "num_sections": 2}, "Section 1\nA", False),
    (
        "detectable_format:multiple_sections",
        {"section_spliter": "セクション ", "num_sections": 2},
        "セクション 1\n内容\nセクション 2\n内容",
        True,
    ),
    ("detectable_format:constrained_response", {}, "My answer is yes.", True),
    ("detectable_format:constrained_response", {}, "Yes.", False),
    ("change_case:capital_word_frequency", {"capital_frequency": 2, "capital_relation": AT_LEAST}, "THE BIG dog", True),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": AT_LEAST},
        "The big DOG",
        False,
    ),
    (
        "change_case:capital_word_frequency",
        {"capital_frequency": 2, "capital_relation": AT_LEAST},
        "这是AI和NLP",
        True,
    ),  # Latin runs inside Chinese are words of their own
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, 'Text. Any other questions?"', True),
    ("startend:end_checker", {"end_phrase": "Any other questions?"}, "Any other questions? Yes.", False),
    ("startend:end_checker", {"end_phrase": "ありますか?"}, "他にありますか？", True),
    ("startend:quotation", {}, '"quoted"', True),
    ("startend:quotation", {}, 'not "quoted"', False),
    ("startend:quotation", {}, "«cité»", True),
    ("startend:quotation", {}, "「引用」", True),
    ("punctuation:no_comma", {}, "No commas here.", True),
    ("punctuation:no_comma", {}, "a, b", False),
    ("punctuation:no_comma", {}, "甲，乙", False),
    ("punctuation:no_comma", {}, "أ، ب", False),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a poem."}, "write a poem. Here it is", True),
    ("combination:repeat_prompt", {"prompt_to_repeat": "Write a poem."}, "Sure! Write a poem.", False),
    ("combination:two_responses", {}, "A\n******\nB", True),
    ("combination:two_responses", {}, "A\n******\nA", False),
    ("combination:two_responses", {}, "A\n******\n\n******\nB", False),
]


@pytest.mark.parametrize(("instruction_id", "kwargs", "response", "expected"), CASES)
def test_checker_hand_cases(instruction_id, kwargs, response, expected):
    assert outcome(instruction_id, kwargs, response)[0] is expected


def test_every_checker_has_a_passing_and_a_failing_case():
    passing = {case[0] for case in CASES if case[3] is True}
    failing = {case[0] for case in CASES if case[3] is False}
    untested = set(SUPPORTED_INSTRUCTIONS) - {
        "language:response_language",
        "change_case:english_capital",
        "change_case:english_lowercase",
    }
    assert untested <= passing and untested <= failing
    assert len(SUPPORTED_INSTRUCTIONS) == 25


@pytest.mark.parametrize(
    ("expected", "detected", "result"),
    [
        ("es", "es", True),
        ("es", "pt", False),
        ("zh-cn", "zh", True),  # an identifier without regions
        ("zh-cn", "zh-tw", False),  # both regions given: they must agree
        ("es", None, None),  # the identifier cannot tell
    ],
)
def test_response_language_uses_the_injected_identifier(expected, detected, result):
    kwargs = {"language": expected}
    assert outcome("language:response_language", kwargs, "Texto", identify=always(detected))[0] is result


def test_language_checks_are_unverifiable_without_an_identifier():
    assert outcome("language:response_language", {"language": "es"}, "Hola")[0] is None
    assert outcome("change_case:english_capital", {}, "HELLO WORLD")[0] is None
    # The case half still fails on its own.
    assert outcome("change_case:english_capital", {}, "Hello World")[0] is False


@pytest.mark.parametrize(
    ("instruction_id", "response", "detected", "expected"),
    [
        ("change_case:english_capital", "HELLO WORLD", "en", True),
        ("change_case:english_capital", "HOLA MUNDO", "es", False),
        ("change_case:english_lowercase", "hello world", "en", True),
        ("change_case:english_lowercase", "Hello world", "en", False),
    ],
)
def test_english_case_checks(instruction_id, response, detected, expected):
    assert outcome(instruction_id, {}, response, identify=always(detected))[0] is expected


@pytest.mark.parametrize(
    ("text", "n_words"),
    [
        ("The quick brown fox's tail.", 6),  # an apostrophe splits, as \w+ does
        ("我喜欢猫。", 4),
        ("コーヒーを飲む", 7),
        ("हिन्दी भाषा", 2),  # vowel signs and viramas stay inside the word
        ("مَرْحَبًا بالعالم", 2),  # so do Arabic vowel marks
        ("안녕하세요 세계", 2),
        ("", 0),
    ],
)
def test_count_words(text, n_words):
    assert count_words(text) == n_words


@pytest.mark.parametrize(
    ("text", "n_sentences"),
    [
        ("Hello world. It costs 3.5 euros! Really?", 3),
        ('He said "stop." Then left.', 2),
        ("我喜欢猫。你呢？好的", 3),
        ("مرحبا؟ نعم.", 2),
        ("यह एक वाक्य है। दूसरा।", 2),
        ("No terminator at all", 1),
        ("...", 0),
    ],
)
def test_count_sentences(text, n_sentences):
    assert count_sentences(text) == n_sentences


def test_empty_response_follows_nothing():
    assert outcome("punctuation:no_comma", {}, "  \n") == (False, False)
    assert outcome("language:response_language", {"language": "en"}, "") == (False, False)


@pytest.mark.parametrize(
    ("instruction_id", "kwargs", "response"),
    [
        ("punctuation:no_comma", {}, "Sure, here it is:\nNo commas in the body"),  # first line
        ("startend:quotation", {}, '*"quoted"*'),  # markdown stars
        ("startend:end_checker", {"end_phrase": "Bye."}, "Text. Bye.\nHope this helps, friend!"),
    ],
)
def test_loose_forgives_what_strict_does_not(instruction_id, kwargs, response):
    assert outcome(instruction_id, kwargs, response) == (False, True)


def test_prompt_level_is_decided_by_any_failure_and_undecided_otherwise():
    ids = ("punctuation:no_comma", "language:response_language")
    kwargs = ({}, {"language": "fr"})
    records = [IFEvalRecord(key=k, prompt="p", instruction_id_list=ids, kwargs=kwargs) for k in range(3)]
    responses = ["Oui, bien sûr.", "Oui bien sûr.", "Oui bien sûr."]
    without = score_ifeval(records[:2], responses[:2])  # the language cannot be checked
    assert without.prompt_strict.tolist() == [False, pd.NA]
    with_identifier = score_ifeval(records, responses, identify=always("fr"))
    assert with_identifier.prompt_strict.tolist() == [False, True, True]
    summary = summarize_ifeval(with_identifier)
    assert summary["prompt_level_strict_acc"] == pytest.approx(2 / 3)
    assert summary["inst_level_strict_acc"] == pytest.approx(5 / 6)
    assert summary["n_prompts_undecided_strict"] == 0


def test_unknown_instruction_ids_are_reported_not_dropped():
    record = IFEvalRecord(
        key=7, prompt="p", instruction_id_list=("ja:letters:furigana", "en:punctuation:no_comma"), kwargs=({}, {})
    )
    row = score_ifeval([record], ["テキスト"]).iloc[0]
    assert row.unknown_instructions == ["ja:letters:furigana"]
    assert row.strict == [None, True]  # the "en:" alias of M-IFEval is checked
    assert row.prompt_strict is pd.NA
    summary = summarize_ifeval(score_ifeval([record], ["テキスト"]))
    assert summary["n_instructions_unknown"] == 1
    assert summary["inst_level_strict_acc"] == 1.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_words": 5}, "relation"),  # a missing argument
        ({"num_words": 5, "relation": "au moins"}, "au moins"),  # a relation the reference lacks
        ({"num_words": 5, "relation": AT_LEAST, "extra": 1}, "extra"),
    ],
)
def test_invalid_kwargs_fail_loudly_naming_the_record(kwargs, message):
    record = IFEvalRecord(
        key=42, prompt="p", instruction_id_list=("length_constraints:number_words",), kwargs=(kwargs,)
    )
    with pytest.raises(ValueError, match="record 42") as error:
        score_ifeval([record], ["text"])
    assert message in str(error.value)


def test_responses_must_align_with_records():
    record = IFEvalRecord(key=1, prompt="p", instruction_id_list=(), kwargs=())
    with pytest.raises(ValueError, match="1 records but 2 responses"):
        score_ifeval([record], ["a", "b"])


# ---------------------------------------------------------------------------------------------
# Loading


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = json.dumps({"key": 1, "prompt": "Say hi.", "instruction_id_list": ["punctuation:no_comma"], "kwargs": [{}]})


def test_loader_drops_null_kwargs_and_blank_lines(tmp_path):
    hf_style = json.dumps(
        {
            "key": 2,
            "prompt": "p",
            "instruction_id_list": ["length_constraints:number_words"],
            "kwargs": [{"num_words": 5, "relation": AT_LEAST, "keywords": None}],
        }
    )
    records, report = load_ifeval_jsonl(write_lines(tmp_path / "a.jsonl", [GOOD, "", hf_style]))
    assert [r.key for r in records] == [1, 2]
    assert records[1].kwargs == ({"num_words": 5, "relation": AT_LEAST},)
    assert (report.n_lines, report.n_loaded, report.n_bad) == (2, 2, 0)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"key": 1, "prompt": "p", "instruction_id_list": ["a"], "kwargs": [{}]', "invalid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"key": 1, "prompt": "p", "instruction_id_list": ["a"]}', "missing field"),
        ('{"key": "1", "prompt": "p", "instruction_id_list": [], "kwargs": []}', "key"),
        ('{"key": 1, "prompt": "p", "instruction_id_list": ["a"], "kwargs": [{}, {}]}', "2 entries for 1 instructions"),
        ('{"key": 1, "prompt": "p", "instruction_id_list": ["a"], "kwargs": [3]}', "object or null"),
    ],
)
def test_loader_names_file_line_and_reason(tmp_path, line, reason):
    path = write_lines(tmp_path / "bad.jsonl", [GOOD, line])
    with pytest.raises(MalformedIFEvalFile, match=f"bad.jsonl:2: .*{reason}"):
        load_ifeval_jsonl(path)


def test_skip_and_report_still_fails_a_mostly_broken_file(tmp_path):
    path = write_lines(tmp_path / "broken.jsonl", [GOOD, "{", "{"])
    with pytest.raises(MalformedIFEvalFile, match=r"2 of 3 lines are bad.*broken\.jsonl:2: .*broken\.jsonl:3: "):
        load_ifeval_jsonl(path, on_bad_record="skip_and_report", max_bad_fraction=0.5)
    _, report = load_ifeval_jsonl(path, on_bad_record="skip_and_report", max_bad_fraction=0.7)
    assert [b.line for b in report.bad_lines] == [2, 3]


def test_loader_rejects_an_unknown_mode(tmp_path):
    with pytest.raises(ValueError, match="on_bad_record"):
        load_ifeval_jsonl(write_lines(tmp_path / "a.jsonl", [GOOD]), on_bad_record="skip")


def test_zh_local_line_15_in_both_modes(reference):
    path = reference / "marco_bench_mif" / "zh_local.jsonl"
    with pytest.raises(MalformedIFEvalFile, match=r"zh_local\.jsonl:15: invalid JSON"):
        load_ifeval_jsonl(path, on_bad_record="error")
    records, report = load_ifeval_jsonl(path, on_bad_record="skip_and_report")
    assert report.file == str(path)
    assert [bad.line for bad in report.bad_lines] == [15]
    assert (report.n_lines, report.n_loaded, len(records)) == (541, 540, 540)
    assert 181 not in {record.key for record in records}  # line 15 holds key 181


# Per reference file: (malformed lines, supported instructions, unsupported instructions).
# es_local:286 and es_mt:22 carry one kwargs entry more than they have instructions.
REFERENCE_FILES = {
    "marco_bench_mif/ar_local.jsonl": ([], 1344, 0),
    "marco_bench_mif/ar_mt.jsonl": ([], 1345, 0),
    "marco_bench_mif/en.jsonl": ([], 927, 0),
    "marco_bench_mif/es_local.jsonl": ([286], 1342, 0),
    "marco_bench_mif/es_mt.jsonl": ([22], 925, 0),
    "marco_bench_mif/fr.jsonl": ([], 1349, 0),
    "marco_bench_mif/ja.jsonl": ([], 1349, 0),
    "marco_bench_mif/ko.jsonl": ([], 1349, 0),
    "marco_bench_mif/pt.jsonl": ([], 1349, 0),
    "marco_bench_mif/zh_local.jsonl": ([15], 1345, 0),
    "marco_bench_mif/zh_mt.jsonl": ([], 1349, 0),
    "m_ifeval/en_input_data.jsonl": ([], 834, 0),
    "m_ifeval/es_input_data.jsonl": ([], 0, 137),
    "m_ifeval/fr_input_data.jsonl": ([], 0, 345),
    "m_ifeval/ja_input_data.jsonl": ([], 0, 226),
}


@pytest.mark.parametrize("name", sorted(REFERENCE_FILES))
def test_reference_file_loads_and_scores(reference, name):
    path = reference / name
    if not path.exists():
        pytest.skip(f"{path} not present")
    bad_lines, n_supported, n_unsupported = REFERENCE_FILES[name]
    records, report = load_ifeval_jsonl(path, on_bad_record="skip_and_report")
    assert [bad.line for bad in report.bad_lines] == bad_lines
    coverage = instruction_coverage(records)
    assert coverage.loc[coverage.supported, "n"].sum() == n_supported
    assert coverage.loc[~coverage.supported, "n"].sum() == n_unsupported
    # Every real kwargs set is accepted by its checker (a prompt is a harmless stand-in response).
    summary = summarize_ifeval(score_ifeval(records, [r.prompt for r in records]))
    assert summary["n_instructions_unknown"] == n_unsupported
    assert summary["n_instructions"] == n_supported + n_unsupported
    if n_supported:
        assert 0 < summary["inst_level_loose_acc"] < 1
    else:
        assert math.isnan(summary["inst_level_strict_acc"])
