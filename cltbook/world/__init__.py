"""The miniature multilingual world: people, objects, three tasks and a pretraining corpus.

Everything is generated, deterministic from a seed, and written in the paper's eight languages
(en; seen es fr ja zh; unseen ar ko pt) with real words in real scripts.
"""

from cltbook.world.arithmetic import (
    MAX_EVAL_ITEMS,
    SPLITS,
    LeakError,
    Problem,
    RenderedProblem,
    assert_disjoint,
    problems,
    render,
)
from cltbook.world.corpus import DEFAULT_LANGUAGE_SHARES, Document, pretraining_documents
from cltbook.world.instructions import InstructionItem
from cltbook.world.langid import UNDETERMINED, identify, language_fidelity
from cltbook.world.summarization import Story, rougeL_char, stories
from cltbook.world.tasks import TASKS, WorldTask, alphabet_texts

__all__ = [
    "DEFAULT_LANGUAGE_SHARES",
    "Document",
    "InstructionItem",
    "LeakError",
    "MAX_EVAL_ITEMS",
    "Problem",
    "RenderedProblem",
    "SPLITS",
    "Story",
    "TASKS",
    "UNDETERMINED",
    "WorldTask",
    "alphabet_texts",
    "assert_disjoint",
    "identify",
    "language_fidelity",
    "pretraining_documents",
    "problems",
    "render",
    "rougeL_char",
    "stories",
]
