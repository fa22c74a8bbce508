"""Instruction following in the world: retell a story's focal part under verifiable instructions.

An :class:`InstructionItem` is a :class:`~cltbook.world.summarization.Story` plus one to three
:class:`Instruction` s drawn from five types, IFEval-style but stated in the prompt's language:

- ``list``: exactly N bullet points, lines starting with "- " (N in BULLETS);
- ``count``: exactly N sentences (N in SENTENCES);
- ``length``: at most N words; in ja/zh N characters, counted as
  :func:`cltbook.scoring.ifeval.count_words` counts words: every Han or kana character is one, a run of
  other letters or digits (a number) is one, punctuation and spaces are none. N is the target's own
  length rounded up to a multiple of LENGTH_STEP (words) or LENGTH_STEP_CHARACTERS (ja/zh);
- ``keyword``: include a world word in the prompt's language: the object's noun ("apples",
  "りんご") or the focal person's name (as a whole word in Latin script; as a substring in other
  scripts, where particles attach to it: "사과를", "لجون");
- ``format``: ``quote``, wrap the whole answer in the language's quotation marks (“…”, «…»,
  « … », 「…」), or ``ending``, end with the language's closing sentence ("That is all.", "以上です。").

The request is "Retell the story of <focal person>."; the target retells the focal block (the
possession, then each event, as the story tells them but without "Then"), the first N sentences
when a list or a sentence count is asked, and satisfies every instruction, so fine-tuning can teach
the format. Instructions that contradict each other (a list and a sentence count, a quoted list, a
closing sentence inside a sentence count) are never drawn together.

:func:`check` verifies an output against each instruction, pure and per language; the language of
the output itself is checked by the task's score (cltbook.world.tasks), not here.

Difficulty knob: ``instructions``, the (min, max) number of instructions per item (argument of
:func:`items`, default INSTRUCTIONS); the story knobs of :func:`~cltbook.world.summarization.stories`
and the world's settings apply as well. Splits, signatures and disjointness are the stories' (an item's signature is its
story's), drawn from a stream of their own.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import regex

from cltbook.config import WorldConfig
from cltbook.languages import format_prompt
from cltbook.scoring.ifeval import count_sentences, count_words
from cltbook.world.arithmetic import DEFAULT_WORLD
from cltbook.world.lexicon import OBJECT_KEYS, OBJECTS, PEOPLE, UNSPACED, join_sentences, phrase
from cltbook.world.summarization import (
    EVENTS,
    MAX_DISTRACTORS,
    MAX_EVENTS,
    Rendered,
    Story,
    check_world_language,
    checked_bounds,
    draw_story,
    focal_sentences,
    split_items,
    story_text,
)

KINDS = ("list", "count", "length", "keyword", "format")
FORMATS = ("quote", "ending")
KEYWORDS = ("object", "person")
# Difficulty knob: (min, max) instructions per item.
INSTRUCTIONS = (1, 3)
MAX_INSTRUCTIONS = 4  # the most that can be drawn without a contradiction
BULLETS = (2, 3)
SENTENCES = (2, 3)
LENGTH_STEP = 5
LENGTH_STEP_CHARACTERS = 10
# Pairs that contradict each other, by kind or format.
CONFLICTS = frozenset({frozenset({"list", "count"}), frozenset({"list", "quote"}), frozenset({"count", "ending"})})
# What the model sees between the prompt's label and its answer: a list starts on its own line.
TARGET_SEPARATOR = "\n"
_BULLET = regex.compile(r"^[ \t]*- \S", flags=regex.MULTILINE)
_LATIN = regex.compile(r"\p{Latin}")


@dataclass(frozen=True)
class Instruction:
    """One verifiable instruction: ``kind`` in KINDS; ``number`` for list and count; ``variant``
    for keyword (KEYWORDS) and format (FORMATS). A length's bound depends on the language."""

    kind: str
    number: int = 0
    variant: str = ""

    @property
    def name(self) -> str:
        """The kind, or the format's variant: what CONFLICTS and :class:`Check` name."""
        return self.variant if self.kind == "format" else self.kind


@dataclass(frozen=True)
class Check:
    """An instruction resolved in one language: ``kind`` in list, count, length, keyword, quote,
    ending; ``value`` the bullet/sentence count, the word bound, the keyword, the (open, close)
    quotation marks or the closing sentence."""

    kind: str
    value: int | str | tuple[str, str]


@dataclass(frozen=True)
class InstructionItem:
    item_id: str
    story: Story
    instructions: tuple[Instruction, ...]

    def __post_init__(self) -> None:
        names = [instruction.name for instruction in self.instructions]
        if len(set(names)) != len(names) or len({i.kind for i in self.instructions}) != len(names):
            raise ValueError(f"{self.item_id}: one instruction per kind, got {names}")
        clashes = [sorted(pair) for pair in CONFLICTS if pair <= set(names)]
        if clashes:
            raise ValueError(f"{self.item_id}: contradictory instructions {clashes}")
        facts = 1 + len(self.story.events)
        for instruction in self.instructions:
            if instruction.kind in ("list", "count") and not 1 <= instruction.number <= facts:
                raise ValueError(f"{self.item_id}: {instruction.kind} {instruction.number} outside [1, {facts}]")

    @property
    def signature(self) -> tuple:
        return self.story.signature


def _draw_instructions(rng: random.Random, bounds: tuple[int, int], facts: int) -> tuple[Instruction, ...]:
    while True:
        drawn = []
        for kind in rng.sample(KINDS, rng.randint(*bounds)):
            if kind == "list":
                drawn.append(Instruction(kind, number=min(facts, rng.randint(*BULLETS))))
            elif kind == "count":
                drawn.append(Instruction(kind, number=min(facts, rng.randint(*SENTENCES))))
            elif kind == "keyword":
                drawn.append(Instruction(kind, variant=rng.choice(KEYWORDS)))
            elif kind == "format":
                drawn.append(Instruction(kind, variant=rng.choice(FORMATS)))
            else:
                drawn.append(Instruction(kind))
        names = {instruction.name for instruction in drawn}
        if not any(pair <= names for pair in CONFLICTS):
            return tuple(drawn)


def items(
    split: str,
    count: int,
    world: WorldConfig = DEFAULT_WORLD,
    *,
    instructions: tuple[int, int] = INSTRUCTIONS,
    events: tuple[int, int] = EVENTS,
) -> list[InstructionItem]:
    """The first ``count`` items of ``split`` of ``world``; prefix-stable and disjoint across
    splits."""
    instructions = checked_bounds("instructions", instructions, 1, MAX_INSTRUCTIONS)
    events = checked_bounds("events", events, 1, MAX_EVENTS)
    checked_bounds("world.story_distractors", world.story_distractors, 0, MAX_DISTRACTORS)

    def draw(rng: random.Random) -> InstructionItem:
        story = draw_story(rng, world, events)
        return InstructionItem("", story, _draw_instructions(rng, instructions, 1 + len(story.events)))

    return split_items(split, count, world.seed, "instruction_following", draw)


def _keyword(item: InstructionItem, variant: str, language: str) -> str:
    if variant == "person":
        return PEOPLE[item.story.person].names[language]
    return OBJECTS[OBJECT_KEYS[item.story.obj]][language].word


def _response(item: InstructionItem, language: str) -> str:
    """The target without a length bound (which is measured on it)."""
    names = {instruction.name: instruction for instruction in item.instructions}
    facts = focal_sentences(item.story, language, connectors=False)
    shown = names.get("list", names.get("count"))
    facts = facts[: shown.number] if shown else facts
    if "list" in names:
        body = "\n".join("- " + fact for fact in facts)
    else:
        body = join_sentences(language, facts)
    if "quote" in names:
        body = phrase(language, "open_quote") + body + phrase(language, "close_quote")
    if "ending" in names:
        closing = phrase(language, "closing")
        body = body + "\n" + closing if "list" in names else join_sentences(language, [body, closing])
    return body


def length_bound(text: str, language: str) -> int:
    """The bound a length instruction states for a target ``text``: its length rounded up."""
    step = LENGTH_STEP_CHARACTERS if language in UNSPACED else LENGTH_STEP
    return step * max(1, math.ceil(count_words(text) / step))


def _resolve(item: InstructionItem, instruction: Instruction, language: str, response: str) -> Check:
    if instruction.kind in ("list", "count"):
        return Check(instruction.kind, instruction.number)
    if instruction.kind == "length":
        return Check("length", length_bound(response, language))
    if instruction.kind == "keyword":
        return Check("keyword", _keyword(item, instruction.variant, language))
    if instruction.variant == "quote":
        return Check("quote", (phrase(language, "open_quote"), phrase(language, "close_quote")))
    return Check("ending", phrase(language, "closing"))


def _statement(check: Check, language: str) -> str:
    """The instruction as the prompt states it."""
    if check.kind in ("list", "count", "length"):
        return phrase(language, check.kind, n=check.value)
    if check.kind == "keyword":
        return phrase(language, "keyword", word=check.value)
    if check.kind == "ending":
        return phrase(language, "ending", phrase=check.value)
    return phrase(language, "quote")


@dataclass(frozen=True)
class RenderedInstructions(Rendered):
    checks: tuple[Check, ...] = ()


def render(item: InstructionItem, language: str, markers: str = "native") -> RenderedInstructions:
    """The prompt (story, request with its instructions, label), the target and the resolved
    checks, in ``language``; with shared markers the story follows "Q:" and the label is "A:"."""
    check_world_language(language)
    response = _response(item, language)
    checks = tuple(_resolve(item, instruction, language, response) for instruction in item.instructions)
    request = [phrase(language, "retell", PEOPLE[item.story.person])]
    request += [_statement(check, language) for check in checks]
    body = "\n".join([story_text(item.story, language), join_sentences(language, request)])
    prompt = (
        format_prompt(language, body, markers)
        if markers == "shared"
        else f"{body}\n{phrase(language, 'response_label')}"
    )
    return RenderedInstructions(item.item_id, language, prompt, response, checks)


def _contains(text: str, word: str) -> bool:
    """``word`` in ``text``, ignoring case: a whole word in Latin script, a substring otherwise."""
    if not _LATIN.search(word):
        return word in text
    return (
        regex.search(
            r"(?<![\p{L}\p{M}\p{N}])" + regex.escape(word) + r"(?![\p{L}\p{M}\p{N}])", text, flags=regex.IGNORECASE
        )
        is not None
    )


def passes(check: Check, output: str) -> bool:
    """Whether ``output`` (surrounding whitespace ignored) follows one resolved instruction."""
    text = output.strip()
    if check.kind == "list":
        return len(_BULLET.findall(text)) == check.value
    if check.kind == "count":
        return count_sentences(text) == check.value
    if check.kind == "length":
        return count_words(text) <= check.value
    if check.kind == "keyword":
        return _contains(text, check.value)
    if check.kind == "quote":
        opening, closing = (mark.strip() for mark in check.value)
        return len(text) > len(opening) + len(closing) and text.startswith(opening) and text.endswith(closing)
    if check.kind == "ending":
        return text.endswith(check.value)
    raise ValueError(f"unknown check kind {check.kind!r}")


def check(item: InstructionItem, language: str, output: str) -> list[bool]:
    """One verdict per instruction of ``item`` (in order) for ``output`` to its ``language`` prompt."""
    return [passes(c, output) for c in render(item, language).checks]
