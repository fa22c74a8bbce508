"""The pretraining corpus: stories about the world's people and objects, and the world's tasks done,
in every language.

A story document tells one to three events with their outcome ("Maria has 12 apples. She buys 5
more apples. 12 + 5 = 17. Now she has 17 apples."), sometimes with a filler sentence about a day
or a friendship; chained stories sometimes compute every step at the end, as a worked answer does.

A task document shows a task done, as web text has questions with worked answers, stories with
summaries and instructions with responses: a training item of the task (from after the
fine-tuning pool, :data:`~cltbook.world.tasks.TRAIN_POOL_SIZE`) told in one language, prompt and
completion, with the world's markers (shared "Q:"/"A:" by default, the same markers fine-tuning
prompts use). Each task's share of documents is a world setting (``math_task_share``,
``summarization_task_share``, ``instruction_task_share``): with the skill in pretraining in every
language, fine-tuning elicits it; without, fine-tuning teaches it from scratch on the languages it
sees.

No evaluation item can appear in the corpus. Task documents come from the training split, which
is disjoint from the evaluation split by signature. Beyond that, no document opens the way an
evaluation item opens: a story or a task item that begins with the (person, object, start, first
step) of any of the first :data:`~cltbook.world.arithmetic.MAX_EVAL_ITEMS` evaluation items of any task
is skipped (another is drawn).
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Iterator, Mapping

from cltbook.config import ANCHOR_SHARES, MIN_QUANTITY, TASK_SHARES, WorldConfig
from cltbook.languages import WORLD_LANGUAGES, get_language
from cltbook.world.arithmetic import MAX_EVAL_ITEMS, apply, draw_step, equation
from cltbook.world.lexicon import (
    DAYS,
    OBJECT_KEYS,
    OBJECTS,
    PEOPLE,
    PLACES,
    TEMPLATES,
    UNSPACED,
    fill,
    join_sentences,
    verb_options,
)
from cltbook.world.tasks import TASKS, TRAIN_POOL_SIZE

# Resource level is not script: Chinese is better resourced than French, Portuguese less than
# Arabic or Korean in this world.
DEFAULT_LANGUAGE_SHARES: Mapping[str, float] = MappingProxyType(
    {
        "en": 0.30,
        "es": 0.15,
        "zh": 0.13,
        "fr": 0.12,
        "ja": 0.10,
        "ar": 0.07,
        "ko": 0.07,
        "pt": 0.06,
    }
)
MAX_SENTENCES = 8

# A step as the guard compares it: (person, object, start, (op, amount)).
Event = tuple[int, int, int, tuple[str, int]]
# A sentence before its language is chosen; parallel documents render the same plan twice.
Sentence = Callable[[str], str]


@dataclass(frozen=True)
class Document:
    """``language`` is a code; "en+xx" for a parallel document (English, newline, xx); "en~xx" for
    a code-switched one (each sentence in English or xx); "en=xx" for a glossary. ``parts`` are
    its (language, text) pieces, for counting tokens per language; ``task`` names the task a task
    document shows done ("" for every other document)."""

    language: str
    text: str
    parts: tuple[tuple[str, str], ...] = ()
    task: str = ""


GLOSSARY_ENTRIES = (3, 6)


def _mixed_text(pieces: list[tuple[str, str]]) -> str:
    """Sentences of several languages as running text: no space after a ja/zh sentence unless it
    ends in ASCII "." (as :func:`join_sentences`)."""
    text = ""
    for language, sentence in pieces:
        if text and not (text.endswith(tuple("。！？")) and language in UNSPACED):
            text += " "
        text += sentence
    return text


def _glossary(rng: random.Random, partner: str) -> Document:
    """Entries "word = translation" for objects and people, one per line: the lexicon's anchors."""
    entries = []
    for _ in range(rng.randint(*GLOSSARY_ENTRIES)):
        if rng.random() < 0.5:
            noun = OBJECTS[rng.choice(OBJECT_KEYS)]
            entries.append((noun["en"].word, noun[partner].word))
        else:
            person = rng.choice(PEOPLE)
            entries.append((person.names["en"], person.names[partner]))
    parts = tuple(part for en, other in entries for part in (("en", en), (partner, other)))
    return Document(f"en={partner}", "\n".join(f"{en} = {other}" for en, other in entries), parts)


def _checked_shares(language_shares: Mapping[str, float]) -> dict[str, float]:
    for code, share in language_shares.items():
        get_language(code)  # unknown codes fail with a suggestion
        if code not in WORLD_LANGUAGES:
            raise ValueError(f"language_shares: {code!r} is not a world language ({', '.join(WORLD_LANGUAGES)})")
        if not (share >= 0 and math.isfinite(share)):
            raise ValueError(f"language_shares[{code!r}] must be a finite number >= 0, got {share}")
    total = sum(language_shares.values())
    if abs(total - 1) > 1e-6:
        raise ValueError(f"language_shares must sum to 1, got {total:g}")
    return {code: share for code, share in language_shares.items() if share > 0}


def _item_settings(world: WorldConfig) -> WorldConfig:
    """The world's settings that decide its task items, alone: a hashable cache key."""
    return WorldConfig(
        seed=world.seed,
        max_start=world.max_start,
        max_amount=world.max_amount,
        math_steps=world.math_steps,
        story_distractors=world.story_distractors,
    )


def opening(item) -> Event | None:
    """How a math problem, a story or an instruction item's story opens: (person, object, start,
    first step); None for an item of a task that tells no story (the corpus cannot echo it)."""
    story = getattr(item, "story", item)
    if not all(hasattr(story, name) for name in ("person", "obj", "start", "steps")):
        return None
    return (story.person, story.obj, story.start, story.steps[0])


@functools.lru_cache(maxsize=8)
def _eval_openings(settings: WorldConfig) -> frozenset[Event]:
    openings = (opening(item) for task in TASKS.values() for item in task.items("eval", MAX_EVAL_ITEMS, settings))
    return frozenset(event for event in openings if event is not None)


def eval_openings(world: WorldConfig) -> frozenset[Event]:
    """How the first :data:`MAX_EVAL_ITEMS` evaluation items of every task of ``world`` open: the
    guard. No corpus document opens like one."""
    return _eval_openings(_item_settings(world))


@functools.lru_cache(maxsize=12)
def _training_items(task: str, settings: WorldConfig, count: int) -> tuple:
    return tuple(TASKS[task].items("train", count, settings))


# Share of stories that chain 2 or more events about one person (up to the world's most steps per
# problem). Half of those tell all events first and compute afterwards, so the model must fetch
# numbers from several sentences back — the skill a worked solution needs; one-step stories alone
# teach only copying from the previous sentence.
CHAIN_SHARE = 0.6


def _event_sentence(verb: str, subject, obj: str, other, amount: int, position: int) -> Sentence:
    """The `position`-th event of a story; later events open with a connector ("Then ...")."""

    def sentence(language: str) -> str:
        connectors = TEMPLATES[language]["then"]
        opener = connectors[(position - 1) % len(connectors)] if position else ""
        return fill(language, verb, subject, obj, other=other, n=amount, opener=opener)

    return sentence


def _story(rng: random.Random, person: int, other: int, world: WorldConfig) -> tuple[list[Sentence], Event]:
    """Possession, one or more events with their equations, the outcome."""
    obj_index = rng.randrange(len(OBJECT_KEYS))
    obj = OBJECT_KEYS[obj_index]
    start = rng.randint(MIN_QUANTITY, world.max_start)
    longest = max(2, world.math_steps[1])
    n_steps = rng.randint(2, longest) if rng.random() < CHAIN_SHARE else 1
    steps, values = [], [start]
    for _ in range(n_steps):
        op, amount = draw_step(rng, values[-1], world.max_amount)
        steps.append((op, amount))
        values.append(apply(values[-1], op, amount))
    subject, other_person = PEOPLE[person], PEOPLE[other]
    equations = [equation(value, op, amount) for value, (op, amount) in zip(values, steps)]
    compute_at_end = n_steps > 1 and rng.random() < 0.5
    sentences: list[Sentence] = [functools.partial(fill, key="have", subject=subject, obj=obj, n=start)]
    for position, ((op, amount), worked) in enumerate(zip(steps, equations)):
        verb = rng.choice(verb_options(op, obj))
        sentences.append(_event_sentence(verb, subject, obj, other_person, amount, position))
        if not compute_at_end and rng.random() < 0.7:
            sentences.append(lambda language, worked=worked: worked)
    if compute_at_end:
        sentences += [lambda language, worked=worked: worked for worked in equations]
    sentences.append(functools.partial(fill, key="now", subject=subject, obj=obj, n=values[-1]))
    return sentences, (person, obj_index, start, steps[0])


def _plan(rng: random.Random, world: WorldConfig) -> tuple[list[Sentence], list[Event]]:
    """A document's sentences (3 to MAX_SENTENCES) and the events it tells."""
    person, friend = rng.sample(range(len(PEOPLE)), 2)
    sentences, event = _story(rng, person, friend, world)
    events = [event]
    if len(sentences) <= 4 and rng.random() < 0.35:  # a one-step story, then the friend's own
        more, event = _story(rng, friend, person, world)
        sentences += more
        events.append(event)
    fillers = [
        functools.partial(
            fill,
            key="day",
            subject=PEOPLE[person],
            day=rng.randrange(len(DAYS["en"])),
            place=rng.randrange(len(PLACES["en"])),
        ),
        functools.partial(fill, key="friend", subject=PEOPLE[friend], other=PEOPLE[person]),
    ]
    room = max(0, MAX_SENTENCES - len(sentences))
    sentences = [*rng.sample(fillers, rng.randint(0, 2))[:room], *sentences]
    return sentences, events


class _TaskItems:
    """Training items of one task after the fine-tuning pool, in order, drawn as they are needed
    (item lists are prefix-stable, so a longer draw extends a shorter one); an item that opens
    like an evaluation item is passed over."""

    def __init__(self, task: str, world: WorldConfig, expected: int, guarded: frozenset[Event]):
        self.task, self.settings, self.guarded = TASKS[task], _item_settings(world), guarded
        self.items: tuple = ()
        self.used = 0
        self._draw(max(16, expected))

    def _draw(self, count: int) -> None:
        self.items = _training_items(self.task.name, self.settings, TRAIN_POOL_SIZE + count)[TRAIN_POOL_SIZE:]

    def next(self):
        while True:
            if self.used == len(self.items):
                self._draw(2 * len(self.items))
            self.used += 1
            item = self.items[self.used - 1]
            if opening(item) not in self.guarded:
                return item


def _task_document(task: _TaskItems, language: str, markers: str) -> Document:
    example = task.task.render(task.next(), language, markers)
    text = example.prompt + example.completion
    return Document(language, text, ((language, text),), task=task.task.name)


def _generate(
    world: WorldConfig,
    n_documents: int,
    shares: Mapping[str, float],
    guarded: frozenset[Event],
    stream: str = "corpus",
    mixed: bool = True,
) -> Iterator[tuple[Document, list[Event]]]:
    """Documents of ``world``; ``mixed=False`` gives story documents alone (no task documents, no
    cross-lingual anchors), as the held-out sets of the world card."""
    rng = random.Random(f"cltbook-world:{world.seed}:{stream}")
    codes, weights = list(shares), list(shares.values())
    partners = [c for c in codes if c != "en"]
    partner_weights = [shares[c] for c in partners]
    parallel_share, code_switch_share, glossary_share = (
        (getattr(world, name) for name in ANCHOR_SHARES) if mixed else (0.0, 0.0, 0.0)
    )
    anchors = parallel_share + code_switch_share + glossary_share
    task_shares = [(task, getattr(world, name)) for task, name in TASK_SHARES.items()] if mixed else []
    task_items = {
        task: _TaskItems(task, world, round(1.1 * share * n_documents), guarded)
        for task, share in task_shares
        if share > 0
    }
    made = 0
    while made < n_documents:
        kind = rng.random()
        if kind < anchors:
            partner = rng.choices(partners, partner_weights)[0]
            if kind >= parallel_share + code_switch_share:
                made += 1
                yield _glossary(rng, partner), []
                continue
            languages = ("en", partner)
        else:
            language = rng.choices(codes, weights)[0]
            bound = anchors
            task = None
            for name, share in task_shares:
                bound += share
                if kind < bound:
                    task = name
                    break
            if task is not None:
                made += 1
                yield _task_document(task_items[task], language, world.markers), []
                continue
            languages = (language,)
        sentences, events = _plan(rng, world)
        if any(event in guarded for event in events):
            continue
        if len(languages) == 2 and kind >= parallel_share:  # code-switched, sentence by sentence
            pieces = [(lang, s(lang)) for s in sentences for lang in [rng.choice(languages)]]
            made += 1
            yield Document(f"en~{partner}", _mixed_text(pieces), tuple(pieces)), events
            continue
        parts = tuple((lang, join_sentences(lang, [s(lang) for s in sentences])) for lang in languages)
        made += 1
        yield Document("+".join(languages), "\n".join(text for _, text in parts), parts), events


def pretraining_documents(world: WorldConfig) -> list[Document]:
    """``world.corpus_documents`` documents, deterministic from ``world.seed``.

    ``world.language_shares`` (code -> share, summing to 1; missing codes get none; None for
    :data:`DEFAULT_LANGUAGE_SHARES`) are the expected shares of documents per language, not of
    tokens: a first approximation, since sentence lengths differ by language. Of the documents,
    ``parallel_share`` are parallel: English followed by the same story in another language drawn
    by the shares of the non-English languages (English text appears in them even if English has
    no share of its own); ``code_switch_share`` tell one story switching between English and such
    a language sentence by sentence; ``glossary_share`` are short glossaries ("apples = manzanas")
    of objects and names: the world's cross-lingual anchors (:data:`~cltbook.config.ANCHOR_SHARES`).
    Each task's share (:data:`~cltbook.config.TASK_SHARES`) are task documents (module docstring),
    in a language drawn by the language shares. The rest are stories in one language.
    """
    if world.corpus_documents < 0:
        raise ValueError(f"corpus_documents must be >= 0, got {world.corpus_documents}")
    shares = _checked_shares(world.language_shares or DEFAULT_LANGUAGE_SHARES)
    knobs = {name: getattr(world, name) for name in (*ANCHOR_SHARES, *TASK_SHARES.values())}
    for name, value in knobs.items():
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    if sum(knobs.values()) > 1:
        raise ValueError(f"anchor and task document shares sum to {sum(knobs.values()):g} > 1")
    if sum(getattr(world, name) for name in ANCHOR_SHARES) > 0 and not set(shares) - {"en"}:
        raise ValueError("cross-lingual documents need a non-English language with a positive share")
    return [doc for doc, _ in _generate(world, world.corpus_documents, shares, eval_openings(world))]


def held_out_documents(
    language: str, count: int, world: WorldConfig, exclude: frozenset[str] = frozenset()
) -> list[Document]:
    """``count`` story documents in one language from the corpus's own distribution but a stream
    of their own, for held-out loss; texts in ``exclude`` (the training corpus) are skipped."""
    shares = _checked_shares({language: 1.0})
    out: list[Document] = []
    stream = _generate(world, 10**9, shares, eval_openings(world), stream=f"heldout:{language}", mixed=False)
    for document, _ in stream:
        if document.text not in exclude:
            out.append(document)
        if len(out) == count:
            break
    return out
