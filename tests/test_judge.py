"""The switch-aware judge: the rating parser on real-looking replies, and the HTTP client against a
real local server that records what it is sent (prompt, key header, retries, cache)."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest
from conftest import KEY_ENV, SECRET

from cltbook.languages import UnknownLanguageError
from cltbook.scoring.judge import (
    JUDGE_PROMPT_TEMPLATE,
    JudgeClient,
    JudgeConfig,
    JudgeError,
    JudgeItem,
    JudgeResult,
    LocalModelJudge,
    build_judge_messages,
    cache_key,
    parse_rating,
    summarize_judgements,
)

# (judge reply, expected rating)
RATING_CASES = [
    ("The response is in Spanish and answers fully.\nRating: 4", 4),
    ("**Rating:** 4/5", 4),
    ("I would rate this a 3 out of 5.", 3),
    ("Verdict: [[5]]", 5),
    ("Score: 2", 2),
    ('{"rating": 3}', 3),
    ('```json\n{"explanation": "Wrong language.", "rating": 1}\n```', 1),
    ("The answer is correct and written in Japanese.\nRating: ４", 4),
    ("Rating：５", 5),
    ("Rating: 2\n\nOn reflection the list is complete after all.\nRating: 4", 4),
    ("The response lists 3 of the 7 steps and cites 2 sources from 2019.\nRating: 2", 2),
    ("The response is in English although the instruction is in French.\nRating: 1", 1),
    ("Rating: 4.5", None),  # between two ratings: no guess
    ("Rating: 4.0", 4),
    ("Rating: 7", None),
    ("Rating: 0", None),
    ("Rating: 8/10", None),  # another scale
    ("Rating: 3-4", None),
    ("Rating: 3 or 4", None),
    ("I'm sorry, but I can't help with evaluating this content.", None),
    ("", None),
    ("   \n", None),
    ("Rating: N", None),  # the placeholder echoed, no number
    ("Final rating: 5 (excellent, fully in Korean)", 5),
    ("Overall Score = 3", 3),
    ("My rating is 2 because the response is mostly off-topic.", 2),
    ("The rating is: 3", 3),
    ("Rating (1-5): 3", 3),
    ("rating: four", 4),
    ("4", 4),
    ("**5**", 5),
    ("I'd give it 4/5 overall.", 4),
    ("Rating: [[2]]", 2),
    ("The response, written in Arabic, is accurate.\n\n### Rating: 5", 5),
    ("The response has 12 items. 14/5 would be impossible anyway", None),
]


@pytest.mark.parametrize(("reply", "expected"), RATING_CASES)
def test_parse_rating(reply, expected):
    assert parse_rating(reply) == expected


def test_parse_rating_handles_none():
    assert parse_rating(None) is None


def test_prompt_names_the_language_and_the_switch_rule():
    messages = build_judge_messages("Écris un haïku {sur} la mer.", "Des vagues...", "fr")
    assert [m["role"] for m in messages] == ["system", "user"]
    user = messages[1]["content"]
    assert user.count("French") >= 3
    assert "the rating is 1, however good its content is" in user
    assert "Écris un haïku {sur} la mer." in user  # braces in the text survive formatting
    assert user.rstrip().endswith("where N is a single whole number from 1 to 5.")
    assert user == JUDGE_PROMPT_TEMPLATE.format(
        language="French", instruction="Écris un haïku {sur} la mer.", response="Des vagues..."
    )


def test_prompt_rejects_an_unknown_language():
    with pytest.raises(UnknownLanguageError, match="jp"):
        build_judge_messages("x", "y", "jp")


def test_summary_counts_failures_and_averages_parsed_ratings():
    results = [
        JudgeResult(rating=r, raw_text="", parsed=r is not None, cached=False, attempts=1) for r in (4, None, 2, None)
    ]
    summary = summarize_judgements(results)
    assert (summary.n_items, summary.n_parsed, summary.n_failed) == (4, 2, 2)
    assert summary.failure_rate == 0.5 and summary.mean_rating == 3.0
    assert math.isnan(summarize_judgements([]).mean_rating)


# ---------------------------------------------------------------------------------------------
# A real OpenAI-like server on 127.0.0.1

ITEMS = [
    JudgeItem("¿Cuál es la capital de Francia?", "La capital de Francia es París.", "es"),
    JudgeItem("日本の首都は？", "The capital of Japan is Tokyo.", "ja"),
]


@pytest.fixture()
def make_client(server, monkeypatch, tmp_path):
    monkeypatch.setenv(KEY_ENV, SECRET)

    def make(max_attempts=4, cache=True, model="gpt-4o-test"):
        config = JudgeConfig(
            model=model,
            base_url=f"http://127.0.0.1:{server.server_port}/v1/",
            api_key_env=KEY_ENV,
            max_attempts=max_attempts,
            timeout_s=5,
        )
        return JudgeClient(config, cache_dir=tmp_path / "cache" if cache else None)

    return make


def assert_secret_absent(tmp_path, results):
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8", errors="replace"), path
    for result in results:
        assert SECRET not in repr(result)
        assert SECRET not in json.dumps(dataclasses.asdict(result), ensure_ascii=False)


def test_sends_exactly_the_built_messages_with_the_key_from_the_environment(server, make_client, tmp_path):
    server.script.extend([("ok", "Spanish, correct.\nRating: 5"), ("ok", "English.\nRating: 1")])
    results = make_client().judge(ITEMS)
    assert [r.rating for r in results] == [5, 1]
    assert all(r.parsed and not r.cached and r.attempts == 1 for r in results)
    assert len(server.recorded) == 2
    for request, item in zip(server.recorded, ITEMS, strict=True):
        assert request["path"] == "/v1/chat/completions"
        assert request["headers"]["authorization"] == f"Bearer {SECRET}"
        assert request["body"] == {
            "model": "gpt-4o-test",
            "messages": build_judge_messages(item.instruction, item.response, item.language),
            "temperature": 0.0,
            "max_tokens": request["body"]["max_tokens"],
        }
    assert_secret_absent(tmp_path, results)


def test_rate_limit_then_success_is_retried(server, make_client):
    server.script.extend([("status", 429), ("ok", "Rating: 4")])
    [result] = make_client().judge(ITEMS[:1])
    assert (result.rating, result.attempts) == (4, 2)
    assert len(server.recorded) == 2


def test_dropped_connection_and_server_error_are_retried(server, make_client):
    server.script.extend([("drop",), ("status", 503), ("ok", "Rating: 2")])
    [result] = make_client().judge(ITEMS[:1])
    assert (result.rating, result.attempts) == (2, 3)


def test_gives_up_after_max_attempts(server, make_client, tmp_path):
    server.script.extend([("status", 500)] * 3)
    with pytest.raises(JudgeError, match="after 3 attempts") as error:
        make_client(max_attempts=3).judge(ITEMS[:1])
    assert len(server.recorded) == 3
    assert SECRET not in str(error.value)
    assert not list(tmp_path.rglob("*.json"))  # a failure caches nothing


def test_a_rejected_key_is_not_retried_and_not_repeated(server, make_client):
    server.script.append(("status", 401))
    with pytest.raises(JudgeError, match="HTTP 401") as error:
        make_client().judge(ITEMS[:1])
    assert len(server.recorded) == 1
    assert SECRET not in str(error.value) and "***" in str(error.value)


def test_missing_key_fails_before_any_request(server, make_client, monkeypatch):
    client = make_client()
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(JudgeError, match=KEY_ENV):
        client.judge(ITEMS[:1])
    assert server.recorded == []


def test_cache_makes_a_rerun_free_and_keyless(server, make_client, monkeypatch, tmp_path):
    server.script.extend([("ok", "Rating: 5"), ("ok", "Rating: 1")])
    first = make_client().judge(ITEMS)
    monkeypatch.delenv(KEY_ENV)  # a re-run from the cache needs no key
    second = make_client().judge(ITEMS)
    assert len(server.recorded) == 2
    assert [r.rating for r in second] == [r.rating for r in first] == [5, 1]
    assert all(r.cached and r.attempts == 0 for r in second)
    files = sorted((tmp_path / "cache").glob("*.json"))
    expected = sorted(
        cache_key("gpt-4o-test", build_judge_messages(i.instruction, i.response, i.language)) + ".json" for i in ITEMS
    )
    assert [f.name for f in files] == expected
    assert not [f for f in (tmp_path / "cache").iterdir() if not f.name.endswith(".json")]
    assert_secret_absent(tmp_path, first + second)


def test_cache_key_depends_on_model_and_messages_only():
    messages = build_judge_messages("a", "b", "en")
    assert cache_key("m", messages) == cache_key("m", [dict(m) for m in messages])
    assert cache_key("m", messages) != cache_key("other", messages)
    assert cache_key("m", messages) != cache_key("m", build_judge_messages("a", "c", "en"))


def test_unparseable_reply_is_a_counted_failure(server, make_client):
    server.script.append(("ok", "I'm sorry, I can't evaluate this response."))
    [result] = make_client(cache=False).judge(ITEMS[:1])
    assert (result.parsed, result.rating) == (False, None)
    assert result.raw_text == "I'm sorry, I can't evaluate this response."
    assert summarize_judgements([result]).n_failed == 1


def test_local_model_judge_gets_the_same_messages_and_caches(tmp_path):
    seen = []

    def generate(messages):
        seen.append(messages)
        return "Rating: 4"

    judge = LocalModelJudge(generate, model="local/aya-8b", cache_dir=tmp_path)
    assert [r.rating for r in judge.judge(ITEMS)] == [4, 4]
    assert seen == [build_judge_messages(i.instruction, i.response, i.language) for i in ITEMS]
    again = LocalModelJudge(generate, model="local/aya-8b", cache_dir=tmp_path).judge(ITEMS)
    assert len(seen) == 2 and all(r.cached for r in again)


@pytest.mark.parametrize("changes", [{"max_attempts": 0}, {"timeout_s": 0}, {"api_key_env": "sk-abc123"}])
def test_config_rejects_bad_values(changes):
    with pytest.raises(ValueError):
        JudgeConfig(**changes)


def test_a_key_pasted_as_the_variable_name_is_not_repeated():
    with pytest.raises(ValueError) as error:
        JudgeConfig(api_key_env=SECRET)
    assert SECRET not in str(error.value) and "NAME of the environment variable" in str(error.value)


def test_a_corrupt_cache_file_fails_loudly(tmp_path):
    judge = LocalModelJudge(lambda messages: "Rating: 4", model="local", cache_dir=tmp_path)
    judge.judge(ITEMS[:1])
    [path] = tmp_path.glob("*.json")
    path.write_text('{"text": "Rating: 4"', encoding="utf-8")  # cut short by hand
    with pytest.raises(JudgeError, match=path.name):
        judge.judge(ITEMS[:1])
