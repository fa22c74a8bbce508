"""The switch-aware LLM judge that scores instruction following, as in the paper.

The paper (arXiv:2504.16677) rates each response to the 200 Aya Dolly200 prompts per language with
GPT-4o as a pointwise 1–5 judge that is "switch-aware": a response in a language other than the
prompt's scores 1. The paper does not print its judge prompt, so ``JUDGE_PROMPT_TEMPLATE`` is ours;
it states the language rule first, names the language (from the registry) rather than leaving the
judge to infer it, and asks for the rating on a fixed last line so that it can be parsed.

Design choices, each for a failure seen in LLM-judge pipelines:

* A reply without a readable rating is a failure (``parsed=False``, ``rating=None``), counted and
  reported by ``summarize_judgements``; it never defaults to a score.
* The API key is read from the environment variable named by ``JudgeConfig.api_key_env`` at the
  moment of each request; it is never a parameter, an attribute, a cache entry or part of a result,
  and it is scrubbed from error messages.
* Replies are cached on disk, one JSON file per request, named by the hash of model + messages.
  Temperature and token limit are constants of this module, so model + messages decide the reply;
  a re-run makes no calls and needs no key. Ratings are parsed again from the cached text, so a
  parser fix applies without re-judging.
* Requests go through the ``openai`` SDK (the ``judge`` extra), which retries 429, 5xx, 408/409
  and connection failures with exponential backoff (0.5 s doubling to 8 s, or the server's
  Retry-After); other HTTP errors are raised at once: retrying a bad key or request cannot help.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cltbook.config import JudgeSettings
from cltbook.files import atomic_write_text
from cltbook.languages import get_language

Messages = list[dict[str, str]]

JUDGE_TEMPERATURE = 0.0
JUDGE_MAX_TOKENS = 512  # room for the few sentences of reasoning the prompt asks for
RATING_SCALE = (1, 5)

JUDGE_SYSTEM_PROMPT = (
    "You are a careful, impartial evaluator of AI assistant responses. You apply the rating "
    "rules you are given exactly, and you are not swayed by a response's length or style."
)

JUDGE_PROMPT_TEMPLATE = """\
Rate how well the AI assistant's response below answers the user's instruction.

The instruction is written in {language}, so the response must be written in {language}.

Step 1 - language. Decide which language the response is written in. If it is not written in \
{language} - for example, it is wholly or mostly in English or in another language, or it \
switches to another language for a substantial part - the rating is 1, however good its content \
is. Names, quotations, code and technical terms kept in their original form do not count against \
the response, and neither does another language that the instruction explicitly asks for.

Step 2 - quality. If the response is written in {language}, rate its helpfulness and correctness:
5 = does exactly what the instruction asks; accurate, complete, clear and natural.
4 = does what the instruction asks, with minor omissions, inaccuracies or awkward wording.
3 = partly does what the instruction asks; useful, but with noticeable errors or gaps.
2 = mostly fails: largely wrong, off-topic or very incomplete.
1 = fails entirely: wrong, nonsensical, empty, or an unjustified refusal.
Judge the content, not the length: a response is not better for being longer.

[Instruction]
{instruction}
[End of instruction]

[Response]
{response}
[End of response]

Explain your judgement in two to four sentences, naming the language the response is written \
in. Then give your rating on the last line, exactly in this form and with nothing after it:
Rating: N
where N is a single whole number from 1 to 5."""


def build_judge_messages(instruction: str, response: str, language: str) -> Messages:
    """The chat messages asking the judge to rate ``response``; ``language`` is a registry code."""
    user = JUDGE_PROMPT_TEMPLATE.format(
        language=get_language(language).name, instruction=instruction, response=response
    )
    return [{"role": "system", "content": JUDGE_SYSTEM_PROMPT}, {"role": "user", "content": user}]


# ---------------------------------------------------------------------------------------------
# Reading the rating

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_VALUE = r"(?P<value>\d+(?:\.\d+)?|one|two|three|four|five)\b"
_AFTER_VALUE = (
    r"(?P<range>\s*(?:-|–|to|or)\s*\d)?"  # "3-4", "3 or 4": no single rating
    r"(?:\s*(?:/|out\s+of)\s*(?P<scale>\d+(?:\.\d+)?))?"
)
# In order of trust; within one pattern the last match wins (a judge may revise itself).
_RATING_PATTERNS = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # "Rating: 4", "Final rating = 4", "rating is 4", JSON "rating": 4, "Rating (1-5): [[4]]"
        r"\b(?:rating|score)\b[\"']?(?:\s*\([^)\n]*\))?\s*(?::|=|\bis\b:?)\s*[\[(\"']*" + _VALUE + _AFTER_VALUE,
        r"\[\[" + _VALUE + r"\]\]",  # MT-Bench style
        r"\brate\s+(?:it|this(?:\s+response)?|the\s+response)\s+(?:as\s+|at\s+|an?\s+)?"
        + _VALUE
        + _AFTER_VALUE,  # "I would rate this a 3 out of 5."
        r"(?<![\d.])" + _VALUE + r"\s*(?:/|out\s+of)\s*(?P<scale>\d+(?:\.\d+)?)",  # "4/5"
        r"^\W*" + _VALUE + r"\W*$",  # the whole reply is the number
    )
)


def _rating_from(match: re.Match[str]) -> int | None:
    groups = match.groupdict()
    if groups.get("range"):
        return None
    scale = groups.get("scale")
    if scale is not None and float(scale) != RATING_SCALE[1]:
        return None  # "8/10" is on another scale; rescaling would invent a judgement
    word = match.group("value").lower()
    value = float(_NUMBER_WORDS.get(word, word))
    if not value.is_integer():
        return None  # "4.5" is between two ratings; rounding either way would invent one
    low, high = RATING_SCALE
    return int(value) if low <= value <= high else None


def parse_rating(text: str | None) -> int | None:
    """The 1–5 rating in a judge's reply, or None when there is no single valid one.

    Tries, in order: a labelled rating ("Rating: 4", "**Rating:** 4/5", JSON ``"rating": 4``), a
    ``[[4]]`` verdict, "I would rate this a 4 (out of 5)", a bare "4/5" or "4 out of 5", and a
    reply that is only a number; the first pattern that matches decides, through its last match.
    Full-width digits are read (NFKC). A decimal rating (4.5), a range (3-4), another scale
    (8/10) or an out-of-range number (7) gives None rather than a guess.
    """
    if not text:
        return None
    normalized = unicodedata.normalize("NFKC", text).replace("*", "").replace("`", "")
    for pattern in _RATING_PATTERNS:
        matches = list(pattern.finditer(normalized.strip()))
        if matches:
            return _rating_from(matches[-1])
    return None


# ---------------------------------------------------------------------------------------------
# Judging


@dataclass(frozen=True)
class JudgeItem:
    """One response to rate: the instruction, the response, and the instruction's language code."""

    instruction: str
    response: str
    language: str


@dataclass(frozen=True)
class JudgeResult:
    rating: int | None
    raw_text: str
    parsed: bool
    cached: bool
    attempts: int  # requests made for this item; 0 when it came from the cache


@dataclass(frozen=True)
class JudgeSummary:
    n_items: int
    n_parsed: int
    n_failed: int
    failure_rate: float  # 0–1
    mean_rating: float  # over parsed ratings, 1–5; NaN when none parsed


def summarize_judgements(results: Sequence[JudgeResult]) -> JudgeSummary:
    """Mean rating over the parsed results, and how many could not be parsed."""
    ratings = [result.rating for result in results if result.rating is not None]
    n_failed = len(results) - len(ratings)
    return JudgeSummary(
        n_items=len(results),
        n_parsed=len(ratings),
        n_failed=n_failed,
        failure_rate=n_failed / len(results) if results else math.nan,
        mean_rating=sum(ratings) / len(ratings) if ratings else math.nan,
    )


class JudgeError(RuntimeError):
    """A judge request that cannot succeed: a missing key, a rejected request, exhausted retries."""


def cache_key(model: str, messages: Messages) -> str:
    """The cache file name for a request: a hash of the model and the messages, nothing else."""
    canonical = json.dumps(
        {"model": model, "messages": messages}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class _CachedJudge:
    """Rates items through ``_complete``, reading and writing the on-disk cache around it."""

    def __init__(self, model: str, cache_dir: str | Path | None) -> None:
        self.model = model
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None

    def _complete(self, messages: Messages) -> tuple[str, int]:
        """The judge's reply text and the number of requests it took."""
        raise NotImplementedError

    def judge(self, items: Iterable[JudgeItem]) -> list[JudgeResult]:
        """One result per item, in order; cached replies are reused without a request.

        All prompts are built before the first request, so a bad language code fails before any
        money is spent; each reply is cached as it arrives, so an interrupted run resumes.
        """
        prompts = [build_judge_messages(item.instruction, item.response, item.language) for item in items]
        results = []
        for messages in prompts:
            text = self._cached_text(messages)
            cached, attempts = text is not None, 0
            if text is None:
                text, attempts = self._complete(messages)
                self._store(messages, text)
            rating = parse_rating(text)
            results.append(
                JudgeResult(rating=rating, raw_text=text, parsed=rating is not None, cached=cached, attempts=attempts)
            )
        return results

    def _cache_path(self, messages: Messages) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / f"{cache_key(self.model, messages)}.json"

    def _cached_text(self, messages: Messages) -> str | None:
        path = self._cache_path(messages)
        if path is None or not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))["text"]
        except (ValueError, KeyError, TypeError) as error:
            raise JudgeError(
                f"unreadable judge cache file {path} ({error!r}); delete it to judge that item again"
            ) from None

    def _store(self, messages: Messages, text: str) -> None:
        path = self._cache_path(messages)
        if path is not None:
            entry = {"model": self.model, "messages": messages, "text": text}
            atomic_write_text(path, json.dumps(entry, ensure_ascii=False, indent=1))


@dataclass(frozen=True)
class JudgeConfig:
    """Where and how to reach an OpenAI-compatible judge. Holds the key's variable name only.

    ``base_url`` ends where the OpenAI SDK's does (".../v1"); requests go to
    ``{base_url}/chat/completions``, at most ``max_attempts`` per item, each waiting at most
    ``timeout_s`` seconds.
    """

    model: str = JudgeSettings.model
    base_url: str = JudgeSettings.base_url
    api_key_env: str = JudgeSettings.api_key_env
    max_attempts: int = 6
    timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts}")
        if self.timeout_s <= 0:
            raise ValueError(f"timeout_s must be > 0, got {self.timeout_s}")
        if not self.api_key_env or not self.api_key_env.isidentifier():
            # The value is not repeated: a key pasted here by mistake must not reach a log.
            raise ValueError("api_key_env must be the NAME of the environment variable that holds the key, not the key")


class JudgeClient(_CachedJudge):
    """The judge behind an OpenAI-compatible ``/v1/chat/completions`` endpoint (the openai SDK)."""

    def __init__(self, config: JudgeConfig | None = None, cache_dir: str | Path | None = None) -> None:
        self.config = config or JudgeConfig()
        super().__init__(self.config.model, cache_dir)

    def _complete(self, messages: Messages) -> tuple[str, int]:
        config = self.config
        key = os.environ.get(config.api_key_env)
        if not key:
            raise JudgeError(f"environment variable {config.api_key_env} (the judge's API key) is not set")
        try:
            import openai  # the judge extra: only a run that calls a remote judge needs it
        except ImportError:
            raise JudgeError("the remote judge needs the openai package: pip install 'cltbook[judge]'") from None
        url = config.base_url.rstrip("/") + "/chat/completions"
        gave_up = f"{url}: no reply after {config.max_attempts} attempts; last error:"
        client = openai.OpenAI(
            api_key=key, base_url=config.base_url, max_retries=config.max_attempts - 1, timeout=config.timeout_s
        )
        try:
            reply = client.chat.completions.with_raw_response.create(
                model=config.model,
                messages=messages,
                temperature=JUDGE_TEMPERATURE,
                max_tokens=JUDGE_MAX_TOKENS,
            )
        except openai.APIStatusError as error:
            detail = error.response.text[:500].replace(key, "***")
            status = f"HTTP {error.status_code}: {detail}"
            if error.status_code in (408, 409, 429) or error.status_code >= 500:  # retried by the SDK
                raise JudgeError(f"{gave_up} {status}") from None
            raise JudgeError(f"{url} answered {status}") from None
        except openai.APIConnectionError as error:
            cause = repr(error.__cause__ or error).replace(key, "***")
            raise JudgeError(f"{gave_up} {cause}") from None
        finally:
            client.close()
        return _reply_text(reply, url), reply.retries_taken + 1


def _reply_text(reply, url: str) -> str:
    """The message text of a chat-completions reply; a null content (a refusal) reads as ""."""
    try:
        return reply.parse().choices[0].message.content or ""
    except (ValueError, AttributeError, IndexError, TypeError):
        raise JudgeError(f"{url} sent a reply that is not a chat completion: {reply.text[:200]!r}") from None


Generate = Callable[[Messages], str]
"""A local judge: chat messages in, reply text out (e.g. a wrapped Hugging Face chat model)."""


class LocalModelJudge(_CachedJudge):
    """A judge backed by any ``generate(messages) -> str``; ``model`` names it in the cache key.

    Model code stays with the caller, so this module needs no ML dependency.
    """

    def __init__(self, generate: Generate, model: str, cache_dir: str | Path | None = None) -> None:
        super().__init__(model, cache_dir)
        self._generate = generate

    def _complete(self, messages: Messages) -> tuple[str, int]:
        return self._generate(messages), 1
