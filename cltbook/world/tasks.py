"""The world's three tasks behind one interface, so the pipeline treats them alike.

``TASKS[name]`` is a :class:`WorldTask` for "math_reasoning", "summarization" and
"instruction_following": ``items(split, count, world)`` draws language-independent items of a
world (:class:`~cltbook.config.WorldConfig`; each item with ``item_id`` and ``signature``; splits
disjoint by signature), ``render(item, language, markers)`` tells one in a language as a
:class:`Example` (the full prompt the model sees and the completion that follows it; ``markers``
is the world's marker style, "shared" Q:/A: or "native"), ``score(example, output)`` gives one
value in [0, 1] per metric for one output.
A metric over a set of items is the mean of its per-item values.

Every task is scored switch-aware: an output that :func:`cltbook.world.langid.identify` does not
identify as the prompt's language (another language, mixed, or undetermined) fails the headline
metric. ``language_match`` and ``language_undetermined`` are reported beside it for every task;
the language-blind variants are kept, so the cost of switching languages shows as a gap.

- math_reasoning: MGSM layout (``"{question_prefix} {question}\\n{answer_prefix}"``, or
  ``"Q: {question}\\nA:"`` with shared markers; target ``" " + worked solution`` ending with the
  language's answer sentence). Metrics: strict and flexible accuracy and no-answer rates
  (:func:`cltbook.scoring.extract.math_scores`, shared with real data), ``first_step_correct`` (the first
  worked equation exactly right, in any language: per-step credit), and
  ``accuracy_strict_switch_aware`` (headline).
- summarization: ``rougeL_char`` (:func:`~cltbook.world.summarization.rougeL_char`) and
  ``rougeL_char_switch_aware`` (headline, 0 off-language).
- instruction_following: ``prompt_strict`` (headline: every instruction followed and the language
  matches), ``instruction_strict`` (the share of instructions followed, 0 off-language), and their
  language-blind ``*_any_language`` variants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from cltbook.config import TRAIN_POOL_SIZE, WorldConfig
from cltbook.example import Example
from cltbook.languages import WORLD_LANGUAGES, format_prompt, get_language
from cltbook.scoring.extract import math_scores
from cltbook.tasks import INSTRUCTION_FOLLOWING, MATH_REASONING, SUMMARIZATION, Task, register_task
from cltbook.world import arithmetic, instructions, summarization
from cltbook.world.arithmetic import LeakError, assert_disjoint
from cltbook.world.langid import UNDETERMINED, identify
from cltbook.world.lexicon import fillings

__all__ = [
    "ALPHABET_SAMPLE",
    "TASKS",
    "TRAIN_POOL_SIZE",
    "LeakError",
    "Example",
    "WorldTask",
    "register_world_task",
    "alphabet_texts",
    "assert_disjoint",
]

# Training items per task and language rendered into :func:`alphabet_texts`, on top of the
# lexicon's exhaustive fillings.
ALPHABET_SAMPLE = 50


@dataclass(frozen=True)
class WorldTask:
    """A task of the world: how to draw items, tell them and score outputs (module docstring);
    its name and metrics are its registered :class:`~cltbook.tasks.Task`'s."""

    task: Task
    items: Callable[..., list[Any]]
    render: Callable[[Any, str], Example]
    score: Callable[[Example, str], dict[str, float]]

    @property
    def name(self) -> str:
        return self.task.name

    @property
    def metrics(self) -> tuple[str, ...]:
        return self.task.metrics

    @property
    def headline(self) -> str:
        return self.task.headline


def _language_scores(example: Example, output: str) -> tuple[bool, dict[str, float]]:
    found = identify(output)
    match = found == example.language
    return match, {"language_match": float(match), "language_undetermined": float(found == UNDETERMINED)}


def _render_math(problem: arithmetic.Problem, language: str, markers: str = "native") -> Example:
    rendered = arithmetic.render(problem, language)
    return Example(
        task="math_reasoning",
        language=language,
        item_id=problem.item_id,
        prompt=format_prompt(language, rendered.question, markers),
        completion=" " + rendered.solution,
        answer=float(rendered.answer),
    )


_EQUATION = re.compile(r"\d+ [+-] \d+ = \d+\.")


def _score_math(example: Example, output: str) -> dict[str, float]:
    scores = math_scores(output, example.language, example.answer)
    match, language = _language_scores(example, output)
    # Per-step credit: the first worked equation exactly right, whatever language surrounds it
    # (errors compound over 2-3 steps, so partial transfer shows here before it shows in accuracy).
    first = _EQUATION.search(output)
    first_step = first is not None and first.group() == _EQUATION.search(example.completion).group()
    return {
        **scores,
        "accuracy_strict_switch_aware": float(scores["accuracy_strict"] and match),
        "first_step_correct": float(first_step),
        **language,
    }


def _render_summary(story: summarization.Story, language: str, markers: str = "native") -> Example:
    rendered = summarization.render(story, language, markers)
    return Example(
        "summarization", language, story.item_id, rendered.prompt, summarization.TARGET_SEPARATOR + rendered.target
    )


def _score_summary(example: Example, output: str) -> dict[str, float]:
    rouge = summarization.rougeL_char(example.completion.strip(), output.strip(), example.language)
    match, language = _language_scores(example, output)
    return {"rougeL_char": rouge, "rougeL_char_switch_aware": rouge if match else 0.0, **language}


def _render_instructions(item: instructions.InstructionItem, language: str, markers: str = "native") -> Example:
    rendered = instructions.render(item, language, markers)
    return Example(
        "instruction_following",
        language,
        item.item_id,
        rendered.prompt,
        instructions.TARGET_SEPARATOR + rendered.target,
        checks=rendered.checks,
    )


def _score_instructions(example: Example, output: str) -> dict[str, float]:
    if not example.checks:
        raise ValueError(f"{example.item_id}: an instruction-following example needs its checks")
    followed = [instructions.passes(check, output) for check in example.checks]
    match, language = _language_scores(example, output)
    share = sum(followed) / len(followed)
    return {
        "prompt_strict": float(all(followed) and match),
        "instruction_strict": share if match else 0.0,
        "prompt_strict_any_language": float(all(followed)),
        "instruction_strict_any_language": share,
        **language,
    }


TASKS: dict[str, WorldTask] = {}


def register_world_task(task: Task, items, render, score) -> WorldTask:
    """Register ``task`` (in :data:`cltbook.tasks.TASKS`) and the world's implementation of it:
    ``items(split, count, world)``, ``render(item, language, markers)``, ``score(example, output)``
    (module docstring). Adding a task to the world is one module and one call of this."""
    register_task(task)
    TASKS[task.name] = WorldTask(task, items, render, score)
    return TASKS[task.name]


register_world_task(MATH_REASONING, arithmetic.problems, _render_math, _score_math)
register_world_task(SUMMARIZATION, summarization.stories, _render_summary, _score_summary)
register_world_task(INSTRUCTION_FOLLOWING, instructions.items, _render_instructions, _score_instructions)


def alphabet_texts(world: WorldConfig = arithmetic.DEFAULT_WORLD) -> Iterator[str]:
    """Texts holding every character a task's prompt or target can contain, in every language:
    printable ASCII and the newline, the lexicon's exhaustive fillings, the registry's prompt
    phrases, and rendered training items of every task (for the code-built joins), with native
    markers (shared markers are ASCII)."""
    yield "".join(chr(code) for code in range(32, 127)) + "\n"
    for code in WORLD_LANGUAGES:
        language = get_language(code)
        yield from fillings(code)
        yield from (language.question_prefix, language.answer_prefix, language.answer_template)
        for task in TASKS.values():
            for item in task.items("train", ALPHABET_SAMPLE, world):
                example = task.render(item, code)
                yield example.prompt
                yield example.completion
