"""The miniature world: deterministic, disjoint splits; grammatical parallel renderings; a corpus
that teaches the languages and shows each task done at its share, but never an evaluation item."""

from __future__ import annotations

import dataclasses
import re
from collections import Counter

import pytest

from cltbook.config import MAX_QUANTITY, MIN_QUANTITY, WorldConfig
from cltbook.languages import SHARED_MARKERS, WORLD_LANGUAGES, get_language
from cltbook.world import (
    DEFAULT_LANGUAGE_SHARES,
    MAX_EVAL_ITEMS,
    TASKS,
    LeakError,
    assert_disjoint,
    corpus,
    pretraining_documents,
    problems,
    render,
)
from cltbook.world.lexicon import OBJECTS, PEOPLE, fill

NO_TASKS = dict(math_task_share=0.0, summarization_task_share=0.0, instruction_task_share=0.0)


def world(documents: int = 2000, **settings) -> WorldConfig:
    """A world with a small corpus; ``settings`` override WorldConfig's defaults."""
    return WorldConfig(corpus_documents=documents, **settings)


KANA = re.compile(r"[\u3040-\u30ff]")
HAN = re.compile(r"[\u4e00-\u9fff]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ARABIC = re.compile(r"[\u0600-\u06ff]")
NON_LATIN = re.compile(r"[\u0600-\u06ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7a3]")
LATIN_LANGUAGES = ("en", "es", "fr", "pt")


@pytest.fixture(scope="module")
def splits():
    return {"train": problems("train", 2000), "validation": problems("validation", 200), "eval": problems("eval", 200)}


# ---- problems -----------------------------------------------------------------------------------


@pytest.mark.parametrize("split", ["train", "validation", "eval"])
def test_problems_are_deterministic_and_prefix_stable(split):
    assert problems(split, 150) == problems(split, 150)
    assert problems(split, 150)[:40] == problems(split, 40)
    assert problems(split, 40, WorldConfig(seed=1)) != problems(split, 40)


def test_splits_are_disjoint_and_unique(splits):
    signatures = {name: [p.signature for p in items] for name, items in splits.items()}
    for name, sigs in signatures.items():
        assert len(set(sigs)) == len(sigs), f"duplicate items within {name}"
    assert not set(signatures["train"]) & set(signatures["eval"])
    assert not set(signatures["train"]) & set(signatures["validation"])
    assert not set(signatures["validation"]) & set(signatures["eval"])
    assert_disjoint(splits["train"], splits["eval"])
    assert_disjoint(splits["train"], splits["validation"])


def test_an_injected_leak_is_caught(splits):
    leaked = dataclasses.replace(splits["eval"][7], item_id="train-leak")
    with pytest.raises(LeakError, match="train-leak = eval-00007"):
        assert_disjoint([*splits["train"], leaked], splits["eval"])


def test_unknown_split_and_oversized_eval_fail():
    with pytest.raises(ValueError, match="'test'"):
        problems("test", 3)
    with pytest.raises(ValueError, match="eval"):
        problems("eval", MAX_EVAL_ITEMS + 1)


def test_steps_stay_in_range(splits):
    defaults = WorldConfig()
    for p in splits["train"] + splits["eval"]:
        assert defaults.math_steps[0] <= len(p.steps) <= defaults.math_steps[1]
        assert MIN_QUANTITY <= p.start <= defaults.max_start
        assert all(MIN_QUANTITY <= v <= MAX_QUANTITY for v in p.values)
        assert all(MIN_QUANTITY <= amount <= defaults.max_amount for _, amount in p.steps)
        assert p.answer == p.values[-1]


def test_the_worlds_numbers_set_the_problems():
    hard = WorldConfig(max_start=50, max_amount=30, math_steps=(3, 4))
    drawn = problems("train", 300, hard)
    assert {len(p.steps) for p in drawn} == {3, 4}
    assert max(p.start for p in drawn) > 40 and max(a for p in drawn for _, a in p.steps) > 20
    assert all(MIN_QUANTITY <= v <= MAX_QUANTITY for p in drawn for v in p.values)


# ---- rendering ----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", WORLD_LANGUAGES)
def test_renderings_end_with_the_answer_sentence_and_use_the_right_script(splits, language):
    template = get_language(language).answer_template
    for p in splits["eval"][:100]:
        r = render(p, language)
        assert (r.item_id, r.language, r.answer) == (p.item_id, language, p.answer)
        assert r.solution.endswith(template.format(p.answer))
        assert str(p.start) in r.question
        assert r.question[-1] in "?？؟"
        if language == "ja":
            sentences = [s for s in re.split(r"[。？]", r.question) if s]
            assert all(KANA.search(s) for s in sentences), r.question
        elif language == "zh":
            assert HAN.search(r.question) and not KANA.search(r.question)
        elif language == "ko":
            assert HANGUL.search(r.question)
        elif language == "ar":
            assert ARABIC.search(r.question)
        else:
            assert not NON_LATIN.search(r.question), r.question


def test_worked_equations_are_shared_across_languages(splits):
    for p in splits["eval"][:50]:
        solutions = {
            lang: render(p, lang).solution.removesuffix(get_language(lang).answer_template.format(p.answer))
            for lang in WORLD_LANGUAGES
        }
        assert len(set(solutions.values())) == 1, solutions
        assert solutions["en"].count("=") == len(p.steps)


def test_render_rejects_languages_outside_the_world(splits):
    with pytest.raises(ValueError, match="world"):
        render(splits["eval"][0], "de")
    with pytest.raises(ValueError):
        render(splits["eval"][0], "xx")


def _person(name_en):
    return next(p for p in PEOPLE if p.names["en"] == name_en)


MARIA, JOHN, ANNA = _person("Maria"), _person("John"), _person("Anna")


@pytest.mark.parametrize(
    "language, key, subject, obj, other, expected",
    [
        # Korean particles by batchim of the last syllable.
        ("ko", "have", MARIA, "apple", None, "마리아는 사과를 5개 가지고 있습니다."),
        ("ko", "have", JOHN, "book", None, "존은 책을 5권 가지고 있습니다."),
        # French elision of "de" and gendered pronouns in the inverted question.
        ("fr", "question", MARIA, "egg", None, "Combien d'œufs Marie a-t-elle maintenant ?"),
        ("fr", "receive", JOHN, "apple", ANNA, "Il reçoit 5 pommes d'Anne."),
        # Spanish/Portuguese "how many" agrees with the noun.
        ("es", "question", JOHN, "book", None, "¿Cuántos libros tiene Juan ahora?"),
        ("pt", "question", JOHN, "apple", None, "Quantas maçãs João tem agora?"),
        # Arabic verbs agree with the subject's gender.
        ("ar", "buy", MARIA, "apple", None, "تشتري أيضًا 5 من التفاح."),
        ("ar", "buy", JOHN, "apple", None, "يشتري أيضًا 5 من التفاح."),
        # Japanese and Chinese counters.
        ("ja", "give", MARIA, "pen", JOHN, "ジョンにペンを5本あげます。"),
        ("zh", "give", MARIA, "flower", JOHN, "她给了约翰5朵花。"),
    ],
)
def test_grammar_hard_cases(language, key, subject, obj, other, expected):
    assert fill(language, key, subject, obj, other=other, n=5) == expected


def test_lexicon_covers_every_world_language():
    for person in PEOPLE:
        assert set(person.names) == set(WORLD_LANGUAGES)
    for forms in OBJECTS.values():
        assert set(forms) == set(WORLD_LANGUAGES)
        assert all(forms[lang].counter for lang in ("ja", "zh", "ko", "ar"))


# ---- pretraining corpus -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def documents():
    return pretraining_documents(world())


def test_corpus_is_deterministic(documents):
    assert pretraining_documents(world()) == documents
    assert len(documents) == 2000


def test_only_task_documents_show_a_task_format(documents):
    prefixes = [get_language(lang).answer_template.split("{}")[0] for lang in WORLD_LANGUAGES]
    for doc in documents:
        shows_format = any(mark in doc.text for mark in "?？؟") or any(prefix in doc.text for prefix in prefixes)
        assert not shows_format or doc.task == "math_reasoning", doc.text
    without = pretraining_documents(world(1000, **NO_TASKS))
    assert not any(doc.task for doc in without)
    assert not any(SHARED_MARKERS[0] in doc.text or any(mark in doc.text for mark in "?？؟") for doc in without)


def test_task_documents_follow_their_shares_in_every_language_with_the_worlds_markers(documents):
    defaults = WorldConfig()
    counts = Counter(doc.task for doc in documents)
    for task, share in (
        ("math_reasoning", defaults.math_task_share),
        ("summarization", defaults.summarization_task_share),
        ("instruction_following", defaults.instruction_task_share),
    ):
        assert abs(counts[task] / len(documents) - share) < 0.02, (task, counts[task])
        shown = [doc for doc in documents if doc.task == task]
        assert {doc.language for doc in shown} == set(WORLD_LANGUAGES)
        assert all(
            doc.text.startswith(SHARED_MARKERS[0] + " ") and f"\n{SHARED_MARKERS[1]}" in doc.text for doc in shown
        )
    math_documents = [doc for doc in documents if doc.task == "math_reasoning"]
    for doc in math_documents[:50]:  # the answer sentence is in the document's own language
        assert get_language(doc.language).answer_template.split("{}")[0] in doc.text, doc.text
    native = pretraining_documents(world(300, markers="native"))
    spanish = next(doc for doc in native if doc.task == "math_reasoning" and doc.language == "es")
    assert spanish.text.startswith(get_language("es").question_prefix)


def test_task_documents_are_training_items_after_the_fine_tuning_pool(documents):
    from cltbook.world.tasks import TRAIN_POOL_SIZE

    defaults = WorldConfig()
    pool = problems("train", TRAIN_POOL_SIZE, defaults)
    pool_texts = {TASKS["math_reasoning"].render(p, "en", defaults.markers).prompt for p in pool}
    english = [doc.text for doc in documents if doc.task == "math_reasoning" and doc.language == "en"]
    assert english and not any(text.split("\nA:")[0] + "\nA:" in pool_texts for text in english)


@pytest.mark.parametrize("task", list(TASKS))
def test_no_evaluation_item_appears_in_the_corpus_in_any_language(documents, task):
    defaults = WorldConfig()
    text = "\n".join(doc.text for doc in documents)
    for item in TASKS[task].items("eval", 200, defaults):
        for language in WORLD_LANGUAGES:
            example = TASKS[task].render(item, language, defaults.markers)
            body = example.prompt.split("\n", 1)[0] if task == "math_reasoning" else example.prompt
            assert body not in text, (task, language, body)


def test_corpus_language_mix_follows_the_shares():
    docs = pretraining_documents(world(parallel_share=0.0))
    counts = Counter(doc.language for doc in docs)
    for lang, share in DEFAULT_LANGUAGE_SHARES.items():
        assert abs(counts[lang] / 2000 - share) < 0.03, (lang, counts[lang])


def test_parallel_documents_pair_english_with_one_language(documents):
    parallel = [doc for doc in documents if "+" in doc.language]
    assert 40 <= len(parallel) <= 160
    for doc in parallel:
        first, second = doc.language.split("+")
        assert first == "en" and second in WORLD_LANGUAGES and second != "en"
        english, other = doc.text.split("\n")
        assert english.count("=") == other.count("=")


@pytest.mark.parametrize(
    "shares, message",
    [
        ({"en": 0.5, "es": 0.6, "fr": -0.1}, "'fr'"),
        ({"en": 0.5, "es": 0.4}, "sum to 1"),
        ({"en": 0.5, "xx": 0.5}, "xx"),
        ({"en": 0.5, "de": 0.5}, "'de' is not a world language"),
    ],
)
def test_corpus_share_errors(shares, message):
    with pytest.raises(ValueError, match=message):
        pretraining_documents(world(10, language_shares=shares, parallel_share=0.0))


def test_parallel_documents_need_a_partner_language():
    with pytest.raises(ValueError, match="non-English"):
        pretraining_documents(world(10, language_shares={"en": 1.0}, parallel_share=0.1))
    assert len(pretraining_documents(world(10, language_shares={"en": 1.0}, parallel_share=0.0))) == 10


def test_corpus_skips_first_steps_of_evaluation_problems():
    shares = dict(DEFAULT_LANGUAGE_SHARES)
    guarded = corpus.eval_openings(WorldConfig())
    first_steps = {(p.person, p.obj, p.start, p.steps[0]) for p in problems("eval", MAX_EVAL_ITEMS)}
    story_openings = {
        corpus.opening(item)
        for task in ("summarization", "instruction_following")
        for item in TASKS[task].items("eval", MAX_EVAL_ITEMS, WorldConfig())
    }
    assert guarded == first_steps | story_openings
    told = [e for _, events in corpus._generate(WorldConfig(), 2000, shares, guarded) for e in events]
    assert not set(told) & guarded
    # Guarding the events of an unguarded run forces those documents to be skipped.
    unguarded = [e for _, events in corpus._generate(WorldConfig(), 300, shares, frozenset()) for e in events]
    forbidden = frozenset(unguarded[::3])
    rerun = list(corpus._generate(WorldConfig(), 300, shares, forbidden))
    assert len(rerun) == 300
    assert not {e for _, events in rerun for e in events} & forbidden


# ---- cross-lingual anchors ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def anchored():
    return pretraining_documents(world(3000, code_switch_share=0.2, glossary_share=0.05))


def test_knob_shares_are_met(anchored):
    kinds = Counter(
        "+" if "+" in d.language else "~" if "~" in d.language else "=" if "=" in d.language else "mono"
        for d in anchored
    )
    assert abs(kinds["~"] / 3000 - 0.2) < 0.03 and abs(kinds["="] / 3000 - 0.05) < 0.015
    assert abs(kinds["+"] / 3000 - 0.05) < 0.015


def test_code_switched_documents_tell_one_story_in_two_languages(anchored):
    from cltbook.world import identify

    switched = [d for d in anchored if "~" in d.language]
    mixed = 0
    for doc in switched:
        en, partner = doc.language.split("~")
        assert en == "en" and partner in WORLD_LANGUAGES
        for language, sentence in doc.parts:
            assert language in (en, partner) and sentence in doc.text
            if not re.fullmatch(r"[\d +=\-.]+", sentence):  # equations belong to every language
                assert identify(sentence) == language, (sentence, language)
        mixed += len({language for language, _ in doc.parts}) == 2
    assert mixed / len(switched) > 0.5


def test_glossaries_pair_a_word_with_its_own_translation(anchored):
    glossaries = [d for d in anchored if "=" in d.language]
    translations = {(noun["en"].word, noun[lang].word) for noun in OBJECTS.values() for lang in WORLD_LANGUAGES}
    translations |= {(p.names["en"], p.names[lang]) for p in PEOPLE for lang in WORLD_LANGUAGES}
    for doc in glossaries:
        for line in doc.text.split("\n"):
            assert tuple(line.split(" = ")) in translations, line


def test_knobs_at_zero_leave_the_corpus_unchanged(documents):
    assert pretraining_documents(world(code_switch_share=0.0, glossary_share=0.0)) == documents


def test_knob_errors_name_the_knob():
    with pytest.raises(ValueError, match="code_switch_share must be in"):
        pretraining_documents(world(5, parallel_share=0.0, code_switch_share=1.5))
    with pytest.raises(ValueError, match="sum to 1.41"):
        pretraining_documents(world(5, parallel_share=0.6, code_switch_share=0.6))


def test_held_out_documents_are_stories_in_one_language_and_never_training_text(documents):
    training = frozenset(d.text for d in documents)
    held_out = corpus.held_out_documents("es", 300, WorldConfig(), exclude=training)
    assert len(held_out) == 300 and {d.language for d in held_out} == {"es"}
    assert not any(d.task for d in held_out)
    assert not training & {d.text for d in held_out}
    assert held_out == corpus.held_out_documents("es", 300, WorldConfig(), exclude=training)
