"""The world's three tasks: parallel evaluation sets disjoint from training and the corpus,
grammatical renderings in every script, targets that pass their own checks, exact language ID,
switch-aware scores, and ROUGE-L on hand-checked cases."""

from __future__ import annotations

import dataclasses
import re

import pytest

from cltbook.config import WorldConfig
from cltbook.languages import WORLD_LANGUAGES
from cltbook.world import (
    DEFAULT_LANGUAGE_SHARES,
    TASKS,
    UNDETERMINED,
    LeakError,
    assert_disjoint,
    corpus,
    identify,
    instructions,
    language_fidelity,
    problems,
    rougeL_char,
    stories,
    summarization,
)
from cltbook.world.lexicon import OBJECT_KEYS, OBJECTS, PEOPLE, join_sentences
from cltbook.world.tasks import alphabet_texts

KANA = re.compile(r"[\u3040-\u30ff]")
HAN = re.compile(r"[\u4e00-\u9fff]")
HANGUL = re.compile(r"[\uac00-\ud7a3]")
ARABIC = re.compile(r"[\u0600-\u06ff]")
NON_LATIN = re.compile(r"[\u0600-\u06ff\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7a3]")
EVAL_ITEMS = 100
TASK_NAMES = ("math_reasoning", "summarization", "instruction_following")
STORY_TASKS = ("summarization", "instruction_following")
WORLD = WorldConfig()


@pytest.fixture(scope="module")
def evaluation():
    """The first EVAL_ITEMS evaluation items of every task, rendered in every language."""
    rendered = {}
    for name, task in TASKS.items():
        items = task.items("eval", EVAL_ITEMS, WORLD)
        rendered[name] = (items, {lang: [task.render(item, lang) for item in items] for lang in WORLD_LANGUAGES})
    return rendered


# ---- registry -----------------------------------------------------------------------------------


def test_registry_has_the_three_tasks_with_headlines_among_their_metrics():
    assert tuple(TASKS) == TASK_NAMES
    for name, task in TASKS.items():
        assert task.name == name and task.headline in task.metrics
    assert TASKS["summarization"].headline == "rougeL_char_switch_aware"
    assert TASKS["instruction_following"].headline == "prompt_strict"


def test_every_task_has_parallel_evaluation_items_in_every_language(evaluation):
    for name, (items, by_language) in evaluation.items():
        assert len({item.item_id for item in items}) == EVAL_ITEMS
        for language, examples in by_language.items():
            assert [ex.item_id for ex in examples] == [item.item_id for item in items]
            assert all(ex.task == name and ex.language == language for ex in examples)
            assert len({ex.prompt for ex in examples}) == EVAL_ITEMS


def test_targets_score_perfectly_in_every_language(evaluation):
    for name, (_, by_language) in evaluation.items():
        task = TASKS[name]
        for language, examples in by_language.items():
            for example in examples:
                scores = task.score(example, example.completion)
                assert set(scores) == set(task.metrics)
                assert all(0.0 <= value <= 1.0 for value in scores.values())
                assert scores[task.headline] == 1.0, (name, language, example.completion, scores)
                assert scores["language_match"] == 1.0


# ---- splits and leaks ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", TASK_NAMES)
def test_items_are_deterministic_and_prefix_stable(name):
    items = TASKS[name].items
    assert items("train", 60, WORLD) == items("train", 60, WORLD)
    assert items("train", 60, WORLD)[:20] == items("train", 20, WORLD)
    assert items("eval", 20, WorldConfig(seed=1)) != items("eval", 20, WORLD)


@pytest.mark.parametrize("name", STORY_TASKS)
def test_splits_are_disjoint_for_large_counts(name):
    items = TASKS[name].items
    train, validation, held_out = (
        items("train", 8000, WORLD),
        items("validation", 500, WORLD),
        items("eval", 1000, WORLD),
    )
    for split in (train, validation, held_out):
        assert len({item.signature for item in split}) == len(split)
    assert_disjoint(train, held_out)
    assert_disjoint(train, validation)
    assert_disjoint(validation, held_out)


def test_story_tasks_share_the_split_scheme():
    """A story held out in one task is never a training story of the other."""
    assert_disjoint(
        TASKS["summarization"].items("train", 3000, WORLD), TASKS["instruction_following"].items("eval", 500, WORLD)
    )
    assert_disjoint(
        TASKS["instruction_following"].items("train", 3000, WORLD), TASKS["summarization"].items("eval", 500, WORLD)
    )


@pytest.mark.parametrize("name", TASK_NAMES)
def test_an_injected_leak_is_caught(name):
    items = TASKS[name].items
    held_out = items("eval", 50, WORLD)
    leaked = dataclasses.replace(held_out[7], item_id="train-leak")
    with pytest.raises(LeakError, match="train-leak = eval-00007"):
        assert_disjoint([*items("train", 200, WORLD), leaked], held_out)


def test_a_story_with_other_wording_is_still_the_same_item():
    story = stories("eval", 1)[0]
    reworded = dataclasses.replace(
        story,
        item_id="train-x",
        start=story.start + 1,
        distractors=(),
        lead=0,
        friend=next(i for i in range(len(PEOPLE)) if i not in (story.person, story.friend)),
    )
    with pytest.raises(LeakError):
        assert_disjoint([reworded], [story])


def test_unknown_split_and_bad_knobs_fail():
    with pytest.raises(ValueError, match="'test'"):
        stories("test", 3)
    with pytest.raises(ValueError, match="events"):
        stories("eval", 3, events=(0, 2))
    with pytest.raises(ValueError, match="instructions"):
        instructions.items("eval", 3, instructions=(1, 9))


def test_difficulty_knobs_set_story_length_and_instruction_count():
    long = stories("train", 50, WorldConfig(story_distractors=(4, 4)), events=(3, 3))
    assert all(len(s.events) == 3 and len(s.distractors) == 4 for s in long)
    bare = stories("train", 50, WorldConfig(story_distractors=(0, 0)), events=(1, 1))
    assert all(len(summarization.story_text(s, "en").split(". ")) == 2 for s in bare)
    many = instructions.items("train", 50, instructions=(3, 3))
    assert all(len(item.instructions) == 3 for item in many)


# ---- disjoint from the pretraining corpus -------------------------------------------------------


def test_evaluation_stories_never_open_a_corpus_story():
    held_out = {name: TASKS[name].items("eval", 1000, WORLD) for name in STORY_TASKS}
    eval_stories = held_out["summarization"] + [item.story for item in held_out["instruction_following"]]
    assert all(story.start > WORLD.max_start for story in eval_stories)  # by construction
    generated = list(corpus._generate(WORLD, 1500, dict(DEFAULT_LANGUAGE_SHARES), corpus.eval_openings(WORLD)))
    told = {event for _, events in generated for event in events}
    assert not {story.first_event for story in eval_stories} & told
    # The same in words: no document tells an evaluation story's possession and first event.
    text = "\n".join(document.text for document, _ in generated)
    for story in eval_stories:
        for language in ("en", "ja", "ko"):
            opening = join_sentences(language, summarization.focal_sentences(story, language)[:2])
            assert opening not in text, opening


# ---- renderings ---------------------------------------------------------------------------------


def _assert_script(language: str, text: str) -> None:
    if language == "ja":
        sentences = [s for s in re.split(r"[。？\n]", text) if HAN.search(s) or KANA.search(s)]
        assert all(KANA.search(s) for s in sentences), text
    elif language == "zh":
        assert HAN.search(text) and not KANA.search(text) and not HANGUL.search(text), text
    elif language == "ko":
        assert HANGUL.search(text) and not KANA.search(text), text
    elif language == "ar":
        assert ARABIC.search(text) and not re.search(r"[A-Za-z]", text.replace("- ", "")), text
    else:
        assert not NON_LATIN.search(text), text


@pytest.mark.parametrize("language", WORLD_LANGUAGES)
def test_story_task_renderings_use_the_languages_script(evaluation, language):
    for name in STORY_TASKS:
        for example in evaluation[name][1][language]:
            _assert_script(language, example.prompt)
            _assert_script(language, example.completion)


def _names(person, language):
    return PEOPLE[person].names[language]


def _mentions(text, word, language):
    """Whole words in Latin script ("Luc" is not in "Lucie"), substrings elsewhere."""
    if language in ("en", "es", "fr", "pt"):
        return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None
    return word in text


@pytest.mark.parametrize("language", WORLD_LANGUAGES)
def test_summaries_are_one_sentence_about_the_focal_events_only(language):
    for story in stories("eval", EVAL_ITEMS):
        rendered = summarization.render(story, language)
        summary = rendered.target
        assert summary.startswith(_names(story.person, language)), summary
        assert summary[-1] in ".。", summary
        assert sum(summary.count(mark) for mark in ".。") == 1, summary
        assert all(str(amount) in summary for _, amount in story.events), summary
        assert rendered.prompt.count("\n") == 2
        # Without the focal object's noun ("marbles" holds "balls" in Arabic).
        # Without its counter either (in Japanese, flowers are counted 本, which is also "books").
        focal = OBJECTS[OBJECT_KEYS[story.obj]][language]
        rest = (
            summary.replace(focal.word, "").replace(focal.counter, "")
            if focal.counter
            else summary.replace(focal.word, "")
        )
        for fact in story.distractors:
            assert not _mentions(summary, _names(fact.person, language), language), (fact, summary)
            if fact.kind == "have":
                assert not _mentions(rest, OBJECTS[OBJECT_KEYS[fact.obj]][language].word, language), (fact, summary)


@pytest.mark.parametrize(
    "language, expected",
    [
        ("en", "Maria buys 5 apples and gives 3 apples to John."),
        ("es", "María compra 5 manzanas y le da 3 manzanas a Juan."),
        ("fr", "Marie achète 5 pommes et donne 3 pommes à Jean."),
        ("pt", "Maria compra 5 maçãs e dá 3 maçãs para João."),
        ("ja", "マリアはりんごを5個買って、ジョンにりんごを3個あげます。"),
        ("zh", "玛丽亚买了5个苹果，然后给了约翰3个苹果。"),
        ("ko", "마리아는 사과를 5개 사고 존에게 사과를 3개 줍니다."),
        ("ar", "ماريا تشتري 5 من التفاح وتعطي 3 من التفاح لجون."),
    ],
)
def test_summary_grammar(language, expected):
    story = summarization.Story(
        "x", person=0, friend=8, obj=0, start=60, events=(("buy", 5), ("give", 3)), distractors=(), lead=0
    )
    assert summarization.summary(story, language) == expected


@pytest.mark.parametrize(
    "language, expected",
    [
        ("en", "John finds 5 eggs, gets 4 eggs from Anna and eats 3 eggs."),
        ("fr", "Jean trouve 5 œufs, reçoit 4 œufs d'Anne et mange 3 œufs."),
        ("ja", "ジョンは卵を5個見つけて、アンナから卵を4個もらって、卵を3個食べます。"),
        ("zh", "约翰找到了5个鸡蛋，从安娜那里得到了4个鸡蛋，然后吃了3个鸡蛋。"),
        ("ko", "존은 달걀을 5개 찾고 안나에게서 달걀을 4개 받고 달걀을 3개 먹습니다."),
        ("ar", "جون يجد 5 من البيض ويحصل من آنا على 4 من البيض ويأكل 3 من البيض."),
    ],
)
def test_three_event_summary_grammar(language, expected):
    story = summarization.Story(
        "x",
        person=8,
        friend=1,
        obj=3,
        start=60,
        events=(("find", 5), ("receive", 4), ("eat", 3)),
        distractors=(),
        lead=0,
    )
    assert summarization.summary(story, language) == expected


# ---- instruction following ----------------------------------------------------------------------


def test_every_instruction_type_and_format_occurs(evaluation):
    items = evaluation["instruction_following"][0]
    names = {instruction.name for item in items for instruction in item.instructions}
    assert names == {"list", "count", "length", "keyword", "quote", "ending"}
    assert {len(item.instructions) for item in items} == {1, 2, 3}


@pytest.mark.parametrize("language", WORLD_LANGUAGES)
def test_instruction_targets_pass_their_own_checks(evaluation, language):
    for item in evaluation["instruction_following"][0]:
        rendered = instructions.render(item, language)
        assert instructions.check(item, language, rendered.target) == [True] * len(item.instructions), rendered
        assert instructions.check(item, language, "\n" + rendered.target + "\n") == [True] * len(item.instructions)


def _item(*instruction_list):
    story = summarization.Story(
        "x", person=0, friend=8, obj=0, start=60, events=(("buy", 5), ("give", 3)), distractors=(), lead=0
    )
    return instructions.InstructionItem("x", story, tuple(instruction_list))


LIST = instructions.Instruction("list", number=2)
COUNT = instructions.Instruction("count", number=2)
LENGTH = instructions.Instruction("length")
KEYWORD = instructions.Instruction("keyword", variant="object")
QUOTE = instructions.Instruction("format", variant="quote")
ENDING = instructions.Instruction("format", variant="ending")


@pytest.mark.parametrize(
    "language, item, expected",
    [
        ("en", _item(LIST, ENDING), "- Maria has 60 apples.\n- She buys 5 more apples.\nThat is all."),
        ("en", _item(COUNT, QUOTE), "“Maria has 60 apples. She buys 5 more apples.”"),
        ("fr", _item(QUOTE), "« Marie a 60 pommes. Elle achète encore 5 pommes. Elle donne 3 pommes à Jean. »"),
        ("ja", _item(COUNT, QUOTE), "「マリアはりんごを60個持っています。りんごをさらに5個買います。」"),
        ("zh", _item(ENDING, KEYWORD), "玛丽亚有60个苹果。她又买了5个苹果。她给了约翰3个苹果。就这些。"),
        ("ar", _item(LIST), "- لدى ماريا 60 من التفاح.\n- تشتري أيضًا 5 من التفاح."),
    ],
)
def test_instruction_targets(language, item, expected):
    assert instructions.render(item, language).target == expected


@pytest.mark.parametrize(
    "language, item, output, verdicts",
    [
        # A third bullet, a missing closing sentence.
        (
            "en",
            _item(LIST, ENDING),
            "- Maria has 60 apples.\n- She buys 5 more apples.\n- She gives 3 apples.",
            [False, False],
        ),
        # Bullets need "- ": "* " and "-" without a space do not count.
        ("en", _item(LIST), "* Maria has 60 apples.\n-She buys 5 more apples.", [False]),
        # Three sentences, ASCII quotes where “ ” were asked.
        (
            "en",
            _item(COUNT, QUOTE),
            '"Maria has 60 apples. She buys 5 more apples. She gives 3 apples to John."',
            [False, False],
        ),
        # Japanese lengths count characters (a number once): 42 of them and three sentences against a
        # bound of 30 and two sentences; then 23 characters in two sentences.
        (
            "ja",
            _item(COUNT, LENGTH),
            "マリアはりんごを60個持っています。りんごをさらに5個買います。ジョンにりんごを3個あげます。",
            [False, False],
        ),
        ("ja", _item(COUNT, LENGTH), "マリアはりんごを持っています。りんごを買います。", [True, True]),
        # Keywords are whole words in Latin script ("apple" is not "apples"), substrings elsewhere.
        ("en", _item(KEYWORD), "Maria has 60 apple.", [False]),
        ("en", _item(KEYWORD), "APPLES!", [True]),
        ("ko", _item(KEYWORD), "마리아는 사과를 샀습니다.", [True]),
        ("ar", _item(KEYWORD), "لدى ماريا كتب.", [False]),
    ],
)
def test_checks_reject_what_does_not_follow(language, item, output, verdicts):
    assert instructions.check(item, language, output) == verdicts


def test_ja_length_bound_counts_characters():
    rendered = instructions.render(_item(COUNT, LENGTH), "ja")
    assert rendered.target == "マリアはりんごを60個持っています。りんごをさらに5個買います。"
    # 16 + 13 characters, "60" counting once, punctuation none: 29, rounded up to 30.
    assert rendered.checks[1] == instructions.Check("length", 30)
    assert "30文字以内で答えてください。" in rendered.prompt


def test_contradictory_instructions_are_rejected():
    with pytest.raises(ValueError, match="contradictory"):
        _item(LIST, COUNT)
    with pytest.raises(ValueError, match="contradictory"):
        _item(COUNT, ENDING)


# ---- switch-aware scoring -----------------------------------------------------------------------


def test_an_english_answer_to_a_spanish_prompt_fails_every_headline(evaluation):
    for name in TASK_NAMES:
        spanish, english = evaluation[name][1]["es"][0], evaluation[name][1]["en"][0]
        task = TASKS[name]
        scores = task.score(spanish, english.completion)
        assert scores[task.headline] == 0.0, (name, scores)
        assert scores["language_match"] == 0.0 and scores["language_undetermined"] == 0.0


def test_switch_aware_summaries_keep_the_language_blind_score_beside():
    example = TASKS["summarization"].render(stories("eval", 1)[0], "es")
    # The Portuguese summary shares words with the Spanish one but is Portuguese.
    portuguese = summarization.summary(stories("eval", 1)[0], "pt")
    scores = TASKS["summarization"].score(example, portuguese)
    assert scores["rougeL_char"] > 0.2 and scores["rougeL_char_switch_aware"] == 0.0


def test_instruction_following_counts_followed_instructions_only_in_the_right_language():
    item = _item(LIST, KEYWORD)
    task = TASKS["instruction_following"]
    example = task.render(item, "es")
    half = task.score(example, "- María tiene 60 manzanas.")
    assert half == {
        "prompt_strict": 0.0,
        "instruction_strict": 0.5,
        "prompt_strict_any_language": 0.0,
        "instruction_strict_any_language": 0.5,
        "language_match": 1.0,
        "language_undetermined": 0.0,
    }
    english = task.score(example, "- Maria has 60 manzanas.\n- She buys 5 more apples.")
    assert english["instruction_strict_any_language"] == 1.0 and english["instruction_strict"] == 0.0
    assert english["language_undetermined"] == 1.0  # English words with a Spanish one: mixed


def test_math_switch_aware_accuracy_needs_the_prompts_language():
    task = TASKS["math_reasoning"]
    example = task.render(problems("eval", 1)[0], "fr")
    answer = example.answer
    right = task.score(example, f" 1 + 1 = 2. La réponse est {answer:g}.")
    assert right["accuracy_strict_switch_aware"] == 1.0
    digits_only = task.score(example, f" {answer:g}")
    assert digits_only["accuracy_flexible"] == 1.0 and digits_only["accuracy_strict_switch_aware"] == 0.0
    assert digits_only["language_undetermined"] == 1.0


# ---- language identification --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Maria buys 5 apples and gives 3 apples to John.", "en"),
        ("María compra 5 manzanas y le da 3 manzanas a Juan.", "es"),
        ("Marie achète 5 pommes et donne 3 pommes à Jean.", "fr"),
        ("Maria compra 5 maçãs e dá 3 maçãs para João.", "pt"),
        ("マリアはりんごを5個買います。", "ja"),
        ("玛丽亚买了5个苹果。", "zh"),
        ("마리아는 사과를 5개 삽니다.", "ko"),
        ("ماريا تشتري 5 من التفاح.", "ar"),
        ("12 + 5 = 17. 17 - 3 = 14.", UNDETERMINED),  # digits only
        ("", UNDETERMINED),
        ("?!。…", UNDETERMINED),  # punctuation only
        ("Maria John", UNDETERMINED),  # names only: Latin
        ("María, Juan.", UNDETERMINED),
        ("マリア", UNDETERMINED),  # names only: katakana, Han, Hangul, Arabic
        ("玛丽亚", UNDETERMINED),
        ("마리아 존", UNDETERMINED),
        ("ماريا", UNDETERMINED),
        ("Maria buys 5 apples y le da 3 manzanas a Juan.", UNDETERMINED),  # mixed Latin languages
        ("Maria has 5 りんご", UNDETERMINED),  # mixed scripts
        ("玛丽亚有5个りんご。", UNDETERMINED),  # kana with Chinese-only characters
        ("사과 apples", UNDETERMINED),
        ("Привет", UNDETERMINED),  # a script outside the world
        ("Hallo Welt", UNDETERMINED),  # Latin words the world does not know
        # Kanji only: decided by the world's lexicon where it can be.
        ("図書館", "ja"),
        ("月曜日", "ja"),
        ("图书馆", "zh"),
        ("星期一", "zh"),
        ("学校", UNDETERMINED),  # both languages write it so
        ("図书", UNDETERMINED),  # Japanese and Chinese evidence at once
        ("答案是14。", "zh"),
        ("答えは14です。", "ja"),
        ("A resposta é 14.", "pt"),
        ("La respuesta es 14.", "es"),
        ("La réponse est 14.", "fr"),
        ("- Marie a 60 pommes.\n- Elle achète encore 5 pommes.\nC'est tout.", "fr"),
    ],
)
def test_identify(text, expected):
    assert identify(text) == expected


def test_identify_recognises_every_rendered_prompt_and_target(evaluation):
    for _, by_language in evaluation.values():
        for language, examples in by_language.items():
            for example in examples[:20]:
                assert identify(example.prompt) == language, example.prompt
                assert identify(example.completion) == language, example.completion


def test_language_fidelity():
    outputs = ["Maria buys 5 apples.", "12", "Maria compra mais 5 maçãs.", "마리아는 사과를 5개 삽니다."]
    assert language_fidelity(outputs, ["en", "es", "es", "ko"]) == (0.5, 0.25)
    with pytest.raises(ValueError, match="align"):
        language_fidelity(outputs, ["en"])


# ---- ROUGE-L ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reference, prediction, language, expected",
    [
        # Words, lower-cased, punctuation deleted: LCS maria/buys/apples = 3 of 4 and 3 tokens.
        ("Maria buys 5 apples.", "maria buys apples", "en", 2 * 3 / 7),
        ("Maria buys 5 apples.", "MARIA BUYS 5 APPLES!", "en", 1.0),
        # Order matters: LCS of (a b c) and (c b a) is 1.
        ("apples buys Maria", "Maria buys apples", "en", 2 * 1 / 6),
        # "d'Anne" splits at the apostrophe into "d" and "anne".
        ("Jean reçoit 5 pommes d'Anne.", "Jean reçoit des pommes", "fr", 2 * 3 / (6 + 4)),
        # Characters in Japanese and Chinese, punctuation dropped: 买了5个苹果 vs 买了苹果 → LCS 4.
        ("玛丽亚买了5个苹果。", "买了苹果", "zh", 2 * 4 / (9 + 4)),
        ("りんごを5個買って、", "りんごを買う", "ja", 2 * 5 / (9 + 6)),
        # Korean words keep their particles.
        ("마리아는 사과를 5개 삽니다.", "마리아는 사과를 삽니다", "ko", 2 * 3 / 7),
        ("Maria buys 5 apples.", "", "en", 0.0),
        ("...", "...", "en", 0.0),
    ],
)
def test_rougeL_char(reference, prediction, language, expected):
    assert rougeL_char(reference, prediction, language) == pytest.approx(expected)


# ---- tokenizer alphabet -------------------------------------------------------------------------


def test_alphabet_covers_every_character_of_every_evaluation_text(evaluation):
    alphabet = set("".join(alphabet_texts(WORLD)))
    for _, by_language in evaluation.values():
        for examples in by_language.values():
            for example in examples:
                missing = set(example.prompt + example.completion) - alphabet
                assert not missing, (example.item_id, missing)
