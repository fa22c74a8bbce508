"""The task registry: every task declared once, with the metrics that score it.

A :class:`Task` names a task, the metrics its scorer writes for one output, its headline metric
(switch-aware: an answer in another language than the prompt's fails it) and that metric's
language-blind twin (the gap between them is answers in the wrong language). Configs validate
``tasks`` against this registry; the book's chapters take each task's headline from it; the
miniature world implements each task (``cltbook.world.tasks``) and the real-data loaders say
which task their data serves.

Adding a task (see "Extending cltbook" in the README): one module in ``cltbook/world/`` that draws,
renders and scores its items, and one registry line there
(``register_world_task(Task(...), items, render, score)``), which also registers the Task here.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SOURCE_TASKS", "TASKS", "Task", "register_task"]


@dataclass(frozen=True)
class Task:
    name: str
    metrics: tuple[str, ...]  # every value the scorer writes for one output, each in [0, 1]
    headline: str  # the metric the book reports (switch-aware)
    language_blind: str  # the headline's twin without the language check

    def __post_init__(self) -> None:
        for role in ("headline", "language_blind"):
            if getattr(self, role) not in self.metrics:
                raise ValueError(f"task {self.name!r}: {role} {getattr(self, role)!r} is not among {self.metrics}")


TASKS: dict[str, Task] = {}


def register_task(task: Task) -> Task:
    """Add ``task`` to the registry (the same declaration twice is one; a different one under a
    taken name is refused)."""
    if TASKS.get(task.name, task) != task:
        raise ValueError(f"a different task is already registered as {task.name!r}")
    TASKS[task.name] = task
    return task


# The task each kind of real dataset serves (``data.<part>.<task>.loader`` in a config): the names
# configs are validated against. ``cltbook.data.real.register_source`` adds a new kind here with
# its loader; ifeval files hold prompts only (evaluation).
SOURCE_TASKS: dict[str, str] = {
    "mgsm": "math_reasoning",
    "mcot_math": "math_reasoning",
    "xlsum": "summarization",
    "sharegpt": "instruction_following",
    "aya": "instruction_following",
    "aya_dolly": "instruction_following",
    "ifeval": "instruction_following",
}

LANGUAGE_METRICS = ("language_match", "language_undetermined")

MATH_REASONING = register_task(
    Task(
        "math_reasoning",
        metrics=(
            "accuracy_strict",
            "accuracy_flexible",
            "no_answer_strict",
            "no_answer_flexible",
            "accuracy_strict_switch_aware",
            "first_step_correct",
            *LANGUAGE_METRICS,
        ),
        headline="accuracy_strict_switch_aware",
        language_blind="accuracy_flexible",
    )
)
SUMMARIZATION = register_task(
    Task(
        "summarization",
        metrics=("rougeL_char", "rougeL_char_switch_aware", *LANGUAGE_METRICS),
        headline="rougeL_char_switch_aware",
        language_blind="rougeL_char",
    )
)
INSTRUCTION_FOLLOWING = register_task(
    Task(
        "instruction_following",
        metrics=(
            "prompt_strict",
            "instruction_strict",
            "prompt_strict_any_language",
            "instruction_strict_any_language",
            *LANGUAGE_METRICS,
        ),
        headline="prompt_strict",
        language_blind="prompt_strict_any_language",
    )
)
