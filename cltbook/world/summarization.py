"""Summarization in the world: a short story with distractors, summarized in one sentence.

A :class:`Story` is language-independent. Its *focal* person has some objects and then acts on them
(buys, receives, finds; gives, eats, loses); around that block, *distractor* sentences state facts
about other people (another person has other objects, goes somewhere on a day, is someone's
friend). The summary is one sentence that tells the focal person's events and nothing else:

    story    On Friday, Peter goes to the park. Maria has 60 apples. She buys 5 more apples.
             Then she gives 3 apples to John. Anna has 7 cups.
    summary  Maria buys 5 apples and gives 3 apples to John.

So a model must find the person who acts, drop the static facts and the starting quantity, and
join the events into one clause chain: in Japanese with て-forms (買って、…あげます), in Korean
with -고 (사고 … 줍니다), in Chinese with ，然后, in Arabic with و and verbs that agree with the
subject.

Difficulty knobs: ``events``, the (min, max) number of focal events, which sets the summary's
length (an argument of :func:`stories`, default EVENTS); the world's ``story_distractors``, the
(min, max) number of distractor sentences. A story has 1 + events + distractors sentences. Its
numbers are the world's (``max_start``, ``max_amount``).

Splits use the hash buckets of :mod:`cltbook.world.arithmetic` over the story's signature, so they are
disjoint for any counts and prefix-stable. The signature is deliberately coarse: (person, object,
(operation, amount) of each event). Verbs, the friend, the starting quantity and the distractors are
left out, so two stories that differ only there, whose summaries would be near-identical, count as
the same item and can never sit in two splits.

Disjoint from the pretraining corpus's stories by construction: a story's starting quantity is
drawn from :func:`story_starts`, above the corpus's (and math's) largest start (the world's
``max_start``), so no corpus story opens the way an evaluation story opens ("Maria has 60 apples.
She buys 5 more apples."); the corpus's task documents come from the training split.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import Callable, TypeVar

from cltbook.config import MAX_QUANTITY, MIN_QUANTITY, STORY_START_SPAN, WorldConfig
from cltbook.languages import WORLD_LANGUAGES, format_prompt
from cltbook.scoring.rouge import lcs_f_measure, sanitise
from cltbook.world.arithmetic import _BUCKETS, DEFAULT_WORLD, SPLITS, _digest, draw_step
from cltbook.world.lexicon import (
    ADD_VERBS,
    DAYS,
    OBJECT_KEYS,
    PEOPLE,
    PLACES,
    SUB_VERBS,
    TASK_PHRASES,
    TEMPLATES,
    UNSPACED,
    fill,
    join_sentences,
    phrase,
    verb_options,
)

# Difficulty knob: (min, max) focal events per story.
EVENTS = (2, 3)
MAX_EVENTS = 4
MAX_DISTRACTORS = len(PEOPLE) - 2  # each distractor is about its own person, not focal or friend
# Distractor facts: another person's possessions, a trip on some day, a friendship.
FACT_KINDS = ("have", "day", "friend")
# What the model sees between the prompt's label and its summary.
TARGET_SEPARATOR = " "

_OPERATION = {**dict.fromkeys(ADD_VERBS, "add"), **dict.fromkeys(SUB_VERBS, "sub")}

Item = TypeVar("Item")


@dataclass(frozen=True)
class Fact:
    """A distractor sentence about ``person``: "have" (``n`` of ``obj``), "day" (goes to ``place``
    on ``day``) or "friend" (is the friend of ``other``). Indices into the lexicon's tables."""

    kind: str
    person: int
    other: int = 0
    obj: int = 0
    n: int = 0
    day: int = 0
    place: int = 0

    def sentence(self, language: str) -> str:
        subject = PEOPLE[self.person]
        if self.kind == "have":
            return fill(language, "have", subject, OBJECT_KEYS[self.obj], n=self.n)
        if self.kind == "day":
            return fill(language, "day", subject, day=self.day, place=self.place)
        return fill(language, "friend", subject, other=PEOPLE[self.other])


@dataclass(frozen=True)
class Story:
    """The focal ``person`` has ``start`` of ``obj``, then ``events`` happen to them: (verb, amount)
    pairs, the verbs of :data:`~cltbook.world.lexicon.ADD_VERBS`/``SUB_VERBS``; ``friend`` gives
    or receives where a verb needs another person. ``distractors`` are told ``lead`` of them before
    the focal block and the rest after it."""

    item_id: str
    person: int
    friend: int
    obj: int
    start: int
    events: tuple[tuple[str, int], ...]
    distractors: tuple[Fact, ...]
    lead: int

    def __post_init__(self) -> None:
        if not 1 <= len(self.events) <= MAX_EVENTS:
            raise ValueError(f"{self.item_id}: a story has 1 to {MAX_EVENTS} events, got {len(self.events)}")
        if any(verb not in _OPERATION for verb, _ in self.events):
            raise ValueError(f"{self.item_id}: unknown verb in {self.events}")
        if not all(MIN_QUANTITY <= v <= MAX_QUANTITY for v in self.values):
            raise ValueError(f"{self.item_id}: values {self.values} leave [{MIN_QUANTITY}, {MAX_QUANTITY}]")
        if self.person == self.friend or {self.person, self.friend} & {f.person for f in self.distractors}:
            raise ValueError(f"{self.item_id}: distractors must be about people other than the focal two")
        if not 0 <= self.lead <= len(self.distractors):
            raise ValueError(f"{self.item_id}: lead {self.lead} outside [0, {len(self.distractors)}]")

    @property
    def steps(self) -> tuple[tuple[str, int], ...]:
        """The events as ("add" | "sub", amount)."""
        return tuple((_OPERATION[verb], amount) for verb, amount in self.events)

    @property
    def values(self) -> tuple[int, ...]:
        """The focal person's quantity: the start, then after each event."""
        values = [self.start]
        for op, amount in self.steps:
            values.append(values[-1] + amount if op == "add" else values[-1] - amount)
        return tuple(values)

    @property
    def signature(self) -> tuple:
        """The underlying item (module docstring): equal signatures are the same item."""
        return (self.person, self.obj, self.steps)

    @property
    def first_event(self) -> tuple[int, int, int, tuple[str, int]]:
        """(person, object, start, first step): how the corpus's guard names a story's opening."""
        return (self.person, self.obj, self.start, self.steps[0])


@dataclass(frozen=True)
class Rendered:
    """One item told in one language: the full prompt (ending with its label) and the target
    without the separator that follows the label."""

    item_id: str
    language: str
    prompt: str
    target: str


def split_items(
    split: str, count: int, world_seed: int, stream: str, draw: Callable[[random.Random], Item]
) -> list[Item]:
    """The first ``count`` items of ``split`` drawn by ``draw`` from a seeded random stream.

    Math's split scheme for any item with a ``signature`` and an ``item_id``: an item is kept when
    its signature hashes into the split's buckets and is new to the split, so splits are disjoint
    and the list is prefix-stable. ``stream`` names the task, so that tasks draw different items.
    """
    if split not in _BUCKETS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    if count < 0:
        raise ValueError(f"{split}: count must be >= 0, got {count}")
    rng = random.Random(f"cltbook-world:{world_seed}:{stream}:{split}")
    chosen: list = []
    seen: set[tuple] = set()
    while len(chosen) < count:
        item = draw(rng)
        signature = item.signature
        if signature in seen or _digest(world_seed, signature)[0] % 10 not in _BUCKETS[split]:
            continue
        seen.add(signature)
        chosen.append(dataclasses.replace(item, item_id=f"{split}-{len(chosen):05d}"))
    return chosen


def checked_bounds(name: str, bounds: tuple[int, int], low: int, high: int) -> tuple[int, int]:
    if not (len(bounds) == 2 and low <= bounds[0] <= bounds[1] <= high):
        raise ValueError(f"{name} must be (min, max) with {low} <= min <= max <= {high}, got {bounds}")
    return bounds


def story_starts(world: WorldConfig) -> tuple[int, int]:
    """The focal person's starting quantities: above every start of the corpus and of math."""
    return world.max_start + 1, world.max_start + STORY_START_SPAN


def _draw_fact(rng: random.Random, person: int, focal_obj: int, world: WorldConfig) -> Fact:
    kind = rng.choice(FACT_KINDS)
    if kind == "have":
        obj = rng.choice([i for i in range(len(OBJECT_KEYS)) if i != focal_obj])
        return Fact("have", person, obj=obj, n=rng.randint(MIN_QUANTITY, world.max_start))
    if kind == "day":
        return Fact("day", person, day=rng.randrange(len(DAYS["en"])), place=rng.randrange(len(PLACES["en"])))
    return Fact("friend", person, other=rng.choice([i for i in range(len(PEOPLE)) if i != person]))


def draw_story(rng: random.Random, world: WorldConfig, events: tuple[int, int] = EVENTS) -> Story:
    """One random story of ``world`` (item_id empty; :func:`split_items` names it)."""
    person, friend = rng.sample(range(len(PEOPLE)), 2)
    obj = rng.randrange(len(OBJECT_KEYS))
    value = start = rng.randint(*story_starts(world))
    told = []
    for _ in range(rng.randint(*events)):
        op, amount = draw_step(rng, value, world.max_amount)
        told.append((rng.choice(verb_options(op, OBJECT_KEYS[obj])), amount))
        value = value + amount if op == "add" else value - amount
    others = rng.sample(
        [i for i in range(len(PEOPLE)) if i not in (person, friend)], rng.randint(*world.story_distractors)
    )
    facts = tuple(_draw_fact(rng, other, obj, world) for other in others)
    return Story("", person, friend, obj, start, tuple(told), facts, rng.randint(0, len(facts)))


def stories(
    split: str, count: int, world: WorldConfig = DEFAULT_WORLD, *, events: tuple[int, int] = EVENTS
) -> list[Story]:
    """The first ``count`` stories of ``split`` ("train", "validation" or "eval") of ``world``.

    Deterministic and prefix-stable; disjoint across splits for any counts (module docstring).
    ``events`` is a difficulty knob, (min, max); the world sets the distractors and numbers.
    """
    events = checked_bounds("events", events, 1, MAX_EVENTS)
    checked_bounds("world.story_distractors", world.story_distractors, 0, MAX_DISTRACTORS)
    return split_items(split, count, world.seed, "summarization", lambda rng: draw_story(rng, world, events))


def check_world_language(language: str) -> None:
    if language not in WORLD_LANGUAGES:
        raise ValueError(f"{language!r} is not a world language ({', '.join(WORLD_LANGUAGES)})")


def focal_sentences(story: Story, language: str, connectors: bool = True) -> list[str]:
    """The focal block: the person's possessions, then one sentence per event (with "Then ..."
    openers from the second event on when ``connectors``, as a math problem tells its steps)."""
    check_world_language(language)
    subject, obj, friend = PEOPLE[story.person], OBJECT_KEYS[story.obj], PEOPLE[story.friend]
    openers = TEMPLATES[language]["then"]
    sentences = [fill(language, "have", subject, obj, n=story.start)]
    for i, (verb, amount) in enumerate(story.events):
        opener = openers[(i - 1) % len(openers)] if i and connectors else ""
        sentences.append(fill(language, verb, subject, obj, other=friend, n=amount, opener=opener))
    return sentences


def story_text(story: Story, language: str) -> str:
    """The story as running text: leading distractors, the focal block, the other distractors."""
    facts = [fact.sentence(language) for fact in story.distractors]
    return join_sentences(language, [*facts[: story.lead], *focal_sentences(story, language), *facts[story.lead :]])


def summary(story: Story, language: str) -> str:
    """The one-sentence summary: the focal person's events, nothing else."""
    check_world_language(language)
    subject, obj, friend = PEOPLE[story.person], OBJECT_KEYS[story.obj], PEOPLE[story.friend]
    phrases = TASK_PHRASES[language]
    clauses = []
    for i, (verb, amount) in enumerate(story.events):
        last = i == len(story.events) - 1
        key = f"{verb}_last" if last and f"{verb}_last" in phrases else f"{verb}_clause"
        if clauses:
            clauses.append(phrases["and"] if last else phrases["comma"])
        clauses.append(phrase(language, key, subject, obj, other=friend, n=amount))
    return phrase(language, "summary", subject, clauses="".join(clauses))


def render(story: Story, language: str, markers: str = "native") -> Rendered:
    """The prompt (instruction, story, label) and the summary, in ``language``; with shared
    markers the instruction follows "Q:" and the label is "A:"."""
    body = "\n".join([phrase(language, "summarize"), story_text(story, language)])
    prompt = (
        format_prompt(language, body, markers)
        if markers == "shared"
        else f"{body}\n{phrase(language, 'summary_label')}"
    )
    return Rendered(story.item_id, language, prompt, summary(story, language))


def rouge_tokens(text: str, language: str) -> list[str]:
    """What :func:`rougeL_char` compares: lower-cased text with punctuation deleted (BERT's rule,
    :func:`cltbook.scoring.rouge.sanitise`), then characters in ja/zh and space-separated words elsewhere
    (Korean words keep their particles: no segmenter)."""
    cleaned = sanitise(text.lower())
    if language in UNSPACED:
        return [char for char in cleaned if not char.isspace()]
    return cleaned.split()


def rougeL_char(reference: str, prediction: str, language: str) -> float:
    """ROUGE-L F1 (0-1) on characters for ja/zh and on words elsewhere; 0 if either side has no
    tokens. The world's own tokenisation: no stemming, no dictionaries (cf. cltbook.scoring.rouge)."""
    return lcs_f_measure(rouge_tokens(reference, language), rouge_tokens(prediction, language))
