"""The pretraining corpus: short stories about the world's people and objects, in every language.

A document tells a story of one to three events with their outcome ("Maria has 12 apples. She buys 5
more apples. 12 + 5 = 17. Now she has 17 apples."), sometimes with a filler sentence about a day
or a friendship; chained stories sometimes compute every step at the end, as a worked answer does. It teaches the languages and the arithmetic, but NOT the task format: there are
no questions and no answer sentences, which only fine-tuning shows.

No evaluation problem can appear in the corpus: a document whose story begins with the
(person, object, start, first step) of any of the first
:data:`~cltbook.world.math.MAX_EVAL_ITEMS` evaluation problems is skipped (another is drawn).
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass
from types import MappingProxyType
from typing import Callable, Iterator, Mapping

from cltbook.languages import WORLD_LANGUAGES, get_language
from cltbook.world.lexicon import (
    DAYS, OBJECT_KEYS, OBJECTS, PEOPLE, PLACES, TEMPLATES, UNSPACED, fill, join_sentences, verb_options,
)
from cltbook.world.math import (
    MAX_EVAL_ITEMS, MAX_START, MIN_QUANTITY, apply, draw_step, equation, problems,
)

# Resource level is not script: Chinese is better resourced than French, Portuguese less than
# Arabic or Korean in this world.
DEFAULT_LANGUAGE_SHARES: Mapping[str, float] = MappingProxyType({
    "en": 0.30, "es": 0.15, "zh": 0.13, "fr": 0.12, "ja": 0.10, "ar": 0.07, "ko": 0.07, "pt": 0.06,
})
MAX_SENTENCES = 8

# A step as the guard compares it: (person, object, start, (op, amount)).
Event = tuple[int, int, int, tuple[str, int]]
# A sentence before its language is chosen; parallel documents render the same plan twice.
Sentence = Callable[[str], str]


@dataclass(frozen=True)
class Document:
    """``language`` is a code; "en+xx" for a parallel document (English, newline, xx); "en~xx" for
    a code-switched one (each sentence in English or xx); "en=xx" for a glossary. ``parts`` are
    its (language, text) pieces, for counting tokens per language."""

    language: str
    text: str
    parts: tuple[tuple[str, str], ...] = ()


# Knobs for cross-lingual anchors, as shares of documents (``pretraining_documents``).
KNOBS = ("parallel_share", "code_switch_share", "glossary_share")
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


@functools.lru_cache(maxsize=8)
def _eval_first_steps(world_seed: int) -> frozenset[Event]:
    return frozenset(
        (p.person, p.obj, p.start, p.steps[0]) for p in problems("eval", MAX_EVAL_ITEMS, world_seed)
    )


# Share of stories that chain 2-3 events about one person. Half of those tell all events first and
# compute afterwards, so the model must fetch numbers from several sentences back — the skill a
# worked solution needs; one-step stories alone teach only copying from the previous sentence.
CHAIN_SHARE = 0.6
MAX_CHAIN_STEPS = 3


def _event_sentence(verb: str, subject, obj: str, other, amount: int, position: int) -> Sentence:
    """The `position`-th event of a story; later events open with a connector ("Then ...")."""

    def sentence(language: str) -> str:
        connectors = TEMPLATES[language]["then"]
        opener = connectors[(position - 1) % len(connectors)] if position else ""
        return fill(language, verb, subject, obj, other=other, n=amount, opener=opener)

    return sentence


def _story(rng: random.Random, person: int, other: int) -> tuple[list[Sentence], Event]:
    """Possession, one to three events with their equations, the outcome."""
    obj_index = rng.randrange(len(OBJECT_KEYS))
    obj = OBJECT_KEYS[obj_index]
    start = rng.randint(MIN_QUANTITY, MAX_START)
    n_steps = rng.randint(2, MAX_CHAIN_STEPS) if rng.random() < CHAIN_SHARE else 1
    steps, values = [], [start]
    for _ in range(n_steps):
        op, amount = draw_step(rng, values[-1])
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


def _plan(rng: random.Random) -> tuple[list[Sentence], list[Event]]:
    """A document's sentences (3 to MAX_SENTENCES) and the events it tells."""
    person, friend = rng.sample(range(len(PEOPLE)), 2)
    sentences, event = _story(rng, person, friend)
    events = [event]
    if len(sentences) <= 4 and rng.random() < 0.35:  # a one-step story, then the friend's own
        more, event = _story(rng, friend, person)
        sentences += more
        events.append(event)
    fillers = [
        functools.partial(fill, key="day", subject=PEOPLE[person],
                          day=rng.randrange(len(DAYS["en"])), place=rng.randrange(len(PLACES["en"]))),
        functools.partial(fill, key="friend", subject=PEOPLE[friend], other=PEOPLE[person]),
    ]
    room = max(0, MAX_SENTENCES - len(sentences))
    sentences = [*rng.sample(fillers, rng.randint(0, 2))[:room], *sentences]
    return sentences, events


def _generate(n_documents: int, shares: Mapping[str, float], parallel_share: float,
              world_seed: int, guarded: frozenset[Event], stream: str = "corpus",
              code_switch_share: float = 0.0, glossary_share: float = 0.0,
              ) -> Iterator[tuple[Document, list[Event]]]:
    rng = random.Random(f"cltbook-world:{world_seed}:{stream}")
    codes, weights = list(shares), list(shares.values())
    partners = [c for c in codes if c != "en"]
    partner_weights = [shares[c] for c in partners]
    made = 0
    while made < n_documents:
        kind = rng.random()
        if kind < parallel_share + code_switch_share + glossary_share:
            partner = rng.choices(partners, partner_weights)[0]
            if kind >= parallel_share + code_switch_share:
                made += 1
                yield _glossary(rng, partner), []
                continue
            languages = ("en", partner)
        else:
            languages = (rng.choices(codes, weights)[0],)
        sentences, events = _plan(rng)
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


def pretraining_documents(n_documents: int, language_shares: Mapping[str, float],
                          parallel_share: float, world_seed: int = 0, *,
                          code_switch_share: float = 0.0, glossary_share: float = 0.0) -> list[Document]:
    """``n_documents`` short stories, deterministic from ``world_seed``.

    ``language_shares`` (code -> share, summing to 1; missing codes get none) are the expected
    shares of documents per language, not of tokens: a first approximation, since sentence lengths
    differ by language. ``parallel_share`` of the documents are parallel: English followed by the
    same story in another language drawn by the shares of the non-English languages (English text
    appears in them even if English has no share of its own). ``code_switch_share`` of them tell
    one story switching between English and such a language sentence by sentence;
    ``glossary_share`` are short glossaries ("apples = manzanas") of objects and names. The three
    knobs are the world's cross-lingual anchors (:data:`KNOBS`); their sum is at most 1.
    """
    if n_documents < 0:
        raise ValueError(f"n_documents must be >= 0, got {n_documents}")
    shares = _checked_shares(language_shares)
    knobs = {"parallel_share": parallel_share, "code_switch_share": code_switch_share,
             "glossary_share": glossary_share}
    for name, value in knobs.items():
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be in [0, 1], got {value}")
    if sum(knobs.values()) > 1:
        raise ValueError(f"parallel, code-switched and glossary shares sum to {sum(knobs.values()):g} > 1")
    if sum(knobs.values()) > 0 and not set(shares) - {"en"}:
        raise ValueError("cross-lingual documents need a non-English language with a positive share")
    guarded = _eval_first_steps(world_seed)
    return [doc for doc, _ in _generate(n_documents, shares, parallel_share, world_seed, guarded,
                                        code_switch_share=code_switch_share, glossary_share=glossary_share)]


def held_out_documents(language: str, count: int, world_seed: int = 0,
                       exclude: frozenset[str] = frozenset()) -> list[Document]:
    """``count`` documents in one language from the corpus's own distribution but a stream of
    their own, for held-out loss; texts in ``exclude`` (the training corpus) are skipped."""
    shares = _checked_shares({language: 1.0})
    guarded = _eval_first_steps(world_seed)
    out: list[Document] = []
    stream = _generate(10 ** 9, shares, 0.0, world_seed, guarded, stream=f"heldout:{language}")
    for document, _ in stream:
        if document.text not in exclude:
            out.append(document)
        if len(out) == count:
            break
    return out
