"""Multi-step math word problems of the world, rendered in parallel in every world language.

A :class:`Problem` is language-independent (people, object and numbers are indices and digits);
:func:`render` tells it in one language with a worked solution whose equations are identical in
every language, followed by the language's answer sentence.

Splits are disjoint by construction: a problem's split is decided by a hash of its signature
(person, object, start and steps: the item without its wording), so an evaluation item can never be
drawn for training whatever counts are asked. :func:`assert_disjoint` still checks it on every
mixture build, so a future change that breaks the construction fails loudly.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Iterable

from cltbook.config import MAX_EVAL_ITEMS, MAX_QUANTITY, MIN_QUANTITY, WorldConfig
from cltbook.languages import WORLD_LANGUAGES, get_language
from cltbook.world.lexicon import OBJECT_KEYS, PEOPLE, TEMPLATES, fill, join_sentences, verb_options

# Quantities are never below MIN_QUANTITY (2), so no sentence needs a singular ("1 apple") or a
# zero. How large numbers and how many steps a problem has are the world's settings
# (WorldConfig: max_start, max_amount, math_steps).
DEFAULT_WORLD = WorldConfig()
MAX_STEPS = 4
SPLITS = ("train", "validation", "eval")
# Hash buckets (of 10) per split: 10% of all possible items are reserved for evaluation, 10% for
# validation, the rest can be trained on.
_BUCKETS = {"eval": frozenset({0}), "validation": frozenset({1}), "train": frozenset(range(2, 10))}


class LeakError(ValueError):
    """A training item shares its underlying item (signature) with a held-out item."""


@dataclass(frozen=True)
class Problem:
    """One word problem: ``person`` starts with ``start`` of ``obj`` and applies ``steps``.

    ``person``/``friend`` index :data:`~cltbook.world.lexicon.PEOPLE`, ``obj`` indexes
    :data:`~cltbook.world.lexicon.OBJECT_KEYS`; ``steps`` are ("add" | "sub", amount) pairs; the
    friend is the giver or recipient when a step is told as receiving or giving.
    """

    item_id: str
    person: int
    friend: int
    obj: int
    start: int
    steps: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.steps) <= MAX_STEPS:
            raise ValueError(f"{self.item_id}: a problem has 1 to {MAX_STEPS} steps, got {len(self.steps)}")
        if any(op not in ("add", "sub") for op, _ in self.steps):
            raise ValueError(f"{self.item_id}: steps must be 'add' or 'sub', got {self.steps}")
        if self.person == self.friend:
            raise ValueError(f"{self.item_id}: the friend must be another person")
        if not all(MIN_QUANTITY <= v <= MAX_QUANTITY for v in self.values):
            raise ValueError(f"{self.item_id}: values {self.values} leave [{MIN_QUANTITY}, {MAX_QUANTITY}]")

    @property
    def values(self) -> tuple[int, ...]:
        """The running quantity: the start, then the value after each step."""
        values = [self.start]
        for op, amount in self.steps:
            values.append(apply(values[-1], op, amount))
        return tuple(values)

    @property
    def answer(self) -> int:
        return self.values[-1]

    @property
    def signature(self) -> tuple:
        """The underlying item (entities and numbers); equal signatures are the same item."""
        return (self.person, self.obj, self.start, self.steps)


@dataclass(frozen=True)
class RenderedProblem:
    item_id: str
    language: str
    question: str
    solution: str
    answer: int


def _digest(*parts: object) -> bytes:
    # sha256 of the repr, not hash(): stable across processes and PYTHONHASHSEED.
    return hashlib.sha256(repr(parts).encode("utf-8")).digest()


def apply(value: int, op: str, amount: int) -> int:
    """The quantity after one step."""
    return value + amount if op == "add" else value - amount


def draw_step(rng: random.Random, value: int, max_amount: int) -> tuple[str, int]:
    """A random ("add" | "sub", amount) step from ``value`` that keeps quantities in range, with
    an amount of at most ``max_amount``."""
    can_sub = value >= 2 * MIN_QUANTITY
    can_add = value + MIN_QUANTITY <= MAX_QUANTITY
    op = "sub" if can_sub and (not can_add or rng.random() < 0.5) else "add"
    limit = min(max_amount, MAX_QUANTITY - value if op == "add" else value - MIN_QUANTITY)
    return op, rng.randint(MIN_QUANTITY, limit)


def equation(value: int, op: str, amount: int) -> str:
    """One worked step, the same in every language: "12 + 5 = 17."."""
    return f"{value} {'+' if op == 'add' else '-'} {amount} = {apply(value, op, amount)}."


def _draw(rng: random.Random, world: WorldConfig) -> tuple[int, int, int, int, tuple[tuple[str, int], ...]]:
    person, obj = rng.randrange(len(PEOPLE)), rng.randrange(len(OBJECT_KEYS))
    friend = rng.choice([i for i in range(len(PEOPLE)) if i != person])
    value = start = rng.randint(MIN_QUANTITY, world.max_start)
    steps = []
    for _ in range(rng.randint(*world.math_steps)):
        op, amount = draw_step(rng, value, world.max_amount)
        steps.append((op, amount))
        value = apply(value, op, amount)
    return person, friend, obj, start, tuple(steps)


def problems(split: str, count: int, world: WorldConfig = DEFAULT_WORLD) -> list[Problem]:
    """The first ``count`` problems of ``split`` ("train", "validation" or "eval") of ``world``
    (its seed and its numbers: max_start, max_amount, math_steps).

    Deterministic and prefix-stable: ``problems(s, k)`` is the first k of ``problems(s, K)`` for
    k <= K. Items are unique within a split, and a split only keeps items whose signature hashes
    into its own buckets, so splits are disjoint for any counts.
    """
    if split not in _BUCKETS:
        raise ValueError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    if count < 0:
        raise ValueError(f"{split}: count must be >= 0, got {count}")
    if split == "eval" and count > MAX_EVAL_ITEMS:
        raise ValueError(f"eval: at most {MAX_EVAL_ITEMS} items (the corpus is guarded against those), got {count}")
    rng = random.Random(f"cltbook-world:{world.seed}:{split}")
    chosen: list[Problem] = []
    seen: set[tuple] = set()
    while len(chosen) < count:
        person, friend, obj, start, steps = _draw(rng, world)
        signature = (person, obj, start, steps)
        if signature in seen or _digest(world.seed, signature)[0] % 10 not in _BUCKETS[split]:
            continue
        seen.add(signature)
        chosen.append(Problem(f"{split}-{len(chosen):05d}", person, friend, obj, start, steps))
    return chosen


def _verbs(problem: Problem) -> list[str]:
    """How each step is told (buys/receives/finds, gives/eats/loses): fixed by the signature, so
    every language tells the same story."""
    digest = _digest(problem.signature)
    obj = OBJECT_KEYS[problem.obj]
    options = [verb_options(op, obj) for op, _ in problem.steps]
    return [choices[digest[i] % len(choices)] for i, choices in enumerate(options)]


def render(problem: Problem, language: str) -> RenderedProblem:
    """The problem told in ``language``: question sentences and a worked solution."""
    answer_template = get_language(language).answer_template
    if language not in WORLD_LANGUAGES:
        raise ValueError(f"{language!r} is not a world language ({', '.join(WORLD_LANGUAGES)})")
    person, friend = PEOPLE[problem.person], PEOPLE[problem.friend]
    obj = OBJECT_KEYS[problem.obj]
    connectors = TEMPLATES[language]["then"]
    sentences = [fill(language, "have", person, obj, n=problem.start)]
    for i, ((_, amount), verb) in enumerate(zip(problem.steps, _verbs(problem))):
        opener = connectors[i - 1] if i else ""
        sentences.append(fill(language, verb, person, obj, other=friend, n=amount, opener=opener))
    sentences.append(fill(language, "question", person, obj))
    worked = [equation(value, op, amount) for value, (op, amount) in zip(problem.values, problem.steps)]
    return RenderedProblem(
        item_id=problem.item_id,
        language=language,
        question=join_sentences(language, sentences),
        solution=" ".join([*worked, answer_template.format(problem.answer)]),
        answer=problem.answer,
    )


def assert_disjoint(train: Iterable[Problem], held_out: Iterable[Problem]) -> None:
    """Raise LeakError naming the items when a training item is also a held-out item."""
    held = {p.signature: p.item_id for p in held_out}
    leaks = sorted({f"{p.item_id} = {held[p.signature]}" for p in train if p.signature in held})
    if leaks:
        shown = ", ".join(leaks[:10]) + (f" and {len(leaks) - 10} more" if len(leaks) > 10 else "")
        raise LeakError(f"{len(leaks)} training item(s) are held-out items: {shown}")
