"""One fine-tuning or evaluation example, the unit every stage passes on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Example:
    """One item told in one language: ``prompt`` is the whole text the model sees, ``completion``
    what should follow it (starting with the task's separator). ``item_id`` names the underlying,
    language-independent item. ``answer`` is the number of a math item; ``checks`` are the
    instructions of a world instruction-following item, resolved in ``language``. ``source`` says
    which scorer reads outputs: "world" (exact world language identification, switch-aware) or
    "real"."""

    task: str
    language: str
    item_id: str
    prompt: str
    completion: str
    answer: float | None = None
    checks: tuple[Any, ...] = ()
    source: str = "world"
