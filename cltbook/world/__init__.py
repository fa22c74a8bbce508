"""The miniature multilingual world: people, objects, math word problems and a pretraining corpus.

Everything is generated, deterministic from a seed, and written in the paper's eight languages
(en; seen es fr ja zh; unseen ar ko pt) with real words in real scripts.
"""

from cltbook.world.corpus import DEFAULT_LANGUAGE_SHARES, Document, pretraining_documents
from cltbook.world.math import (
    MAX_EVAL_ITEMS, SPLITS, LeakError, Problem, RenderedProblem, assert_disjoint, problems, render,
)

__all__ = [
    "DEFAULT_LANGUAGE_SHARES", "Document", "LeakError", "MAX_EVAL_ITEMS", "Problem",
    "RenderedProblem", "SPLITS", "assert_disjoint", "pretraining_documents", "problems", "render",
]
