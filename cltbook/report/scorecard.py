"""The paper's claims beside the world's estimates: one row per claim, with a verdict.

The world's estimates are the contrasts of the guidelines chapter: the paper's advice turned into
differences of this study's runs, each with a 95% bootstrap interval over evaluation items
(resampled jointly across languages and run sets, seeds averaged per item first) or the reason it
has none. :func:`guideline_contrasts` computes them from a study's collected results and
:func:`guidelines_table` words them for the guidelines chapter, each with the verdict of
:func:`guideline_verdict`; :data:`CLAIM_TESTS` says which contrast tests which of the paper's
claims, and why; and :func:`scorecard` sets each claim's evidence in the paper's tables
(:func:`cltbook.report.published.claims_table`) beside the world's estimate, with a verdict by the rule
of :func:`contrast_verdict`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from cltbook.config import MODEL_SIZES
from cltbook.languages import PAPER_UNSEEN
from cltbook.report import analysis, calibration
from cltbook.report.estimate import Estimate, fmt
from cltbook.report.metrics import bootstrap_ci
from cltbook.report.style import ABSENT, FAILS, HOLDS, OPEN, verdicts_styled

N_BOOT = 2000  # bootstrap replicates per interval
PAPER_TASKS = ("math_reasoning", "summarization", "instruction_following")  # the paper's three, in its order
SEEN = analysis.DEFAULT_SEEN
NON_ENGLISH = (*SEEN, *PAPER_UNSEEN)
DEFAULT_MIX = ",".join(SEEN)
CONTRAST_COLUMNS = (
    "guideline",
    "advice",
    "task",
    "evidence",
    "needs",
    "value",
    "low",
    "high",
    "reason",
)
# The side of 0 a guideline's advice needs; "either": a difference matters in whichever direction;
# "not below": advice that only a loss contradicts.
NEEDS = ("above", "below", "not below", "either")

# The advice of each contrast, as the guidelines chapter words it; CLAIM_TESTS refers to these.
SERVED_LANGUAGES = "add data in the languages you serve"
UNSEEN_TRANSFER = "unseen languages gain through transfer"
SEEN_OVER_UNSEEN = "seen languages gain more than unseen ones"
ENGLISH_KEPT = "English does not pay for the added languages"
SWITCH_AWARE = "score switch-aware"
LARGER_MODEL = "a larger model needs less multilingual data"
MULTI_TASK_COST = "multi-task training costs the task"
TARGET_SCRIPT = "add data in the target's script"
REPLICATE = "replicate: seeds differ"

NO_DESIGN = "the study has no n = 0 run and a larger n for this task"


# ---------------------------------------------------------------------------------------------
# The world's contrasts


def _no_estimate(reason: str) -> Estimate:
    return Estimate(math.nan, reason=reason)


def _none(reason: str) -> Callable[[], Estimate]:
    return lambda: _no_estimate(reason)


def _ns_of(frame: pd.DataFrame, task: str, **where) -> list[int]:
    rows = frame[frame["task"] == task]
    for column, value in where.items():
        rows = rows[rows[column] == value]
    return sorted(int(n) for n in rows["n_per_language"].unique())


@dataclass(frozen=True)
class _Study:
    """The runs and per-item predictions the contrasts are computed from."""

    results: pd.DataFrame
    predictions: pd.DataFrame
    n_boot: int

    @cached_property
    def augmented(self) -> pd.DataFrame:
        return analysis.fine_tuned_runs(self.results)

    @cached_property
    def single(self) -> pd.DataFrame:
        """The paper's design: single-task runs with its language mix on one base model."""
        return analysis.single_task_runs(self.results)

    @cached_property
    def designed(self) -> pd.DataFrame:
        """Single-task runs with the paper's language mix on every base model."""
        rows = self.augmented
        return rows[(rows["setting"] == "single") & (rows["seen_languages"] == DEFAULT_MIX)]

    def contrast(self, task: str, terms) -> Callable[[], Estimate]:
        """Sum of sign × (mean of the task's headline over languages) over ``terms`` [(sign, run
        ids, languages), ...], items paired across all run sets; deferred, as the bootstrap is
        the slow part."""
        if any(not ids for _, ids, _ in terms):
            return _none("the study lacks runs for one side of the contrast")
        return lambda: analysis.contrast_estimate(
            self.predictions, task, calibration.headline(task), terms, n_boot=self.n_boot
        )

    def design_ns(self, task: str) -> tuple[int, int] | None:
        """n = 0 and the largest n of the paper's design for ``task``, or None."""
        ns = _ns_of(self.single, task)
        return (0, ns[-1]) if len(ns) >= 2 and ns[0] == 0 else None

    def gain_terms(self, task: str, languages, sign: int = +1) -> list:
        base, top = self.design_ns(task)
        return [
            (sign, analysis.run_ids(self.single, task=task, n_per_language=top), languages),
            (-sign, analysis.run_ids(self.single, task=task, n_per_language=base), languages),
        ]


def _top_n(ns: tuple[int, int] | None) -> str:
    return f"n = {ns[1]}" if ns else "the largest n"


def _served(study: _Study, task: str):
    """Guideline 1: the seen gain from n = 0 to the largest n of the paper's design."""
    ns = study.design_ns(task)
    estimate = study.contrast(task, study.gain_terms(task, SEEN)) if ns else _none(NO_DESIGN)
    yield 1, SERVED_LANGUAGES, f"seen average, {_top_n(ns)} minus n = 0", estimate, "above"


def _transfer(study: _Study, task: str):
    """Guideline 2: the unseen gain, the seen gain over it, and English's change."""
    ns = study.design_ns(task)
    top = _top_n(ns)
    checks = [
        (UNSEEN_TRANSFER, f"unseen average, {top} minus n = 0", lambda: study.gain_terms(task, PAPER_UNSEEN), "above"),
        (
            SEEN_OVER_UNSEEN,
            f"seen gain minus unseen gain, {top} against n = 0",
            lambda: study.gain_terms(task, SEEN) + study.gain_terms(task, PAPER_UNSEEN, sign=-1),
            "above",
        ),
        (ENGLISH_KEPT, f"English, {top} minus n = 0", lambda: study.gain_terms(task, ("en",)), "not below"),
    ]
    for advice, evidence, terms, needs in checks:
        estimate = study.contrast(task, terms()) if ns else _none(NO_DESIGN)
        yield 2, advice, evidence, estimate, needs


def _switch_credit(study: _Study, task: str):
    """Guideline 3: the credit a language-blind metric hands out after English-only training."""
    blind, metric = calibration.language_blind(task), calibration.headline(task)
    base = analysis.run_ids(study.single, task=task, n_per_language=0)

    def credit() -> Estimate:
        scored = study.predictions.assign(wrong_language_credit=study.predictions[blind] - study.predictions[metric])
        table = analysis.item_table(scored, base, task, "wrong_language_credit")
        return Estimate(
            *bootstrap_ci(table[list(NON_ENGLISH)], lambda t: float(t.to_numpy().mean()), n_boot=study.n_boot)
        )

    estimate = credit if base else _none("the study has no English-only run for this task")
    yield 3, SWITCH_AWARE, f"`{blind}` minus `{metric}`, non-English, n = 0", estimate, "above"


def _model_size(study: _Study, task: str):
    """Guideline 4: the seen gain on the largest base model minus the same on the smallest."""
    designed = study.designed
    task_sizes = set(designed.loc[designed["task"] == task, "model_size"])
    sizes = [size for size in MODEL_SIZES if size in task_sizes]  # smallest first
    shared = (
        sorted(set.intersection(*[set(_ns_of(designed, task, model_size=size)) for size in sizes])) if sizes else []
    )
    evidence = "gain, largest minus smallest model"
    if len(sizes) < 2:
        estimate = _none("the study has one base model size for this task")
    elif len(shared) < 2 or shared[0] != 0:
        estimate = _none("the sizes share no n = 0 run and a larger n")
    else:
        small, large, top = sizes[0], sizes[-1], shared[-1]
        ids = {
            (size, n): analysis.run_ids(designed, task=task, model_size=size, n_per_language=n)
            for size in (small, large)
            for n in (0, top)
        }
        estimate = study.contrast(
            task,
            [
                (+1, ids[large, top], SEEN),
                (-1, ids[large, 0], SEEN),
                (-1, ids[small, top], SEEN),
                (+1, ids[small, 0], SEEN),
            ],
        )
        evidence = f"seen gain n = 0 to {top}: {large} minus {small}"
    yield 4, LARGER_MODEL, evidence, estimate, "below"


def _at_largest_n(
    study: _Study, task: str, pairs, plus: pd.DataFrame, minus: pd.DataFrame, languages
) -> tuple[str, int, Callable[[], Estimate]]:
    """The runs of ``plus`` minus those of ``minus`` (rows of the task's runs) on the average over
    ``languages``, at the (base model, n) of ``pairs`` with the largest n: that base model, n and
    the deferred estimate."""
    size, n = max(pairs, key=lambda pair: pair[1])
    ids = [analysis.run_ids(rows, model_size=size, n_per_language=n) for rows in (plus, minus)]
    return size, n, study.contrast(task, [(+1, ids[0], languages), (-1, ids[1], languages)])


def _multi_task(study: _Study, task: str):
    """Guideline 5: multi-task minus single-task, same base model and n."""
    augmented, designed = study.augmented, study.designed
    multi = augmented[(augmented["setting"] == "multi") & (augmented["seen_languages"] == DEFAULT_MIX)]
    pairs = [
        (size, n)
        for size in sorted(set(multi.loc[multi["task"] == task, "model_size"]))
        for n in _ns_of(multi, task, model_size=size)
        if n in _ns_of(designed, task, model_size=size)
    ]
    if not pairs:
        yield (
            5,
            MULTI_TASK_COST,
            "seen average, multi minus single",
            _none("the study has no multi-task run with a single-task counterpart"),
            "below",
        )
        return
    size, n, estimate = _at_largest_n(
        study, task, pairs, multi[multi["task"] == task], designed[designed["task"] == task], SEEN
    )
    evidence = f"seen average, multi minus single, {size}, n = {n}"
    yield 5, MULTI_TASK_COST, evidence, estimate, "below"


def _script(study: _Study, task: str):
    """Guideline 6: the non-Latin average after a non-Latin mix minus after a Latin-only one."""
    mixes = study.augmented[study.augmented["setting"] == "single"]
    latin, non_latin = (mixes[(mixes["task"] == task) & (mixes["seen_languages"] == mix)] for mix in ("es,fr", "ja,zh"))
    pairs = [
        (size, n)
        for size in sorted(set(latin["model_size"]) & set(non_latin["model_size"]))
        for n in sorted(set(_ns_of(latin, task, model_size=size)) & set(_ns_of(non_latin, task, model_size=size)))
        if n > 0
    ]
    if not pairs:
        yield (
            6,
            TARGET_SCRIPT,
            "non-Latin average, ja,zh mix minus es,fr mix",
            _none("the study has no pair of Latin-only and non-Latin-only mixes"),
            "above",
        )
        return
    size, n, estimate = _at_largest_n(study, task, pairs, non_latin, latin, analysis.NON_LATIN)
    evidence = f"non-Latin average, ja,zh minus es,fr, {size}, n = {n}"
    yield 6, TARGET_SCRIPT, evidence, estimate, "above"


def _replicates(study: _Study, task: str):
    """Guideline 7: two seeds of one setting, the replicated setting with the largest n."""
    rows = study.single[study.single["task"] == task]
    seeds = rows.groupby("n_per_language")["seed"].nunique()
    replicated = sorted(int(n) for n in seeds[seeds >= 2].index)
    if not replicated:
        yield (
            7,
            REPLICATE,
            "seen average, second seed minus first",
            _none("one seed per setting in this study"),
            "either",
        )
        return
    n = replicated[-1]
    first, second = sorted(rows.loc[rows["n_per_language"] == n, "seed"].unique())[:2]
    estimate = study.contrast(
        task,
        [
            (+1, analysis.run_ids(rows, n_per_language=n, seed=second), SEEN),
            (-1, analysis.run_ids(rows, n_per_language=n, seed=first), SEEN),
        ],
    )
    evidence = f"seen average, seed {second} minus seed {first}, n = {n}"
    yield 7, REPLICATE, evidence, estimate, "either"


_GUIDELINES = (_served, _transfer, _switch_credit, _model_size, _multi_task, _script, _replicates)


def guideline_contrasts(
    results: pd.DataFrame,
    predictions: pd.DataFrame,
    n_boot: int = N_BOOT,
    only: Collection[tuple[str, str]] | None = None,
) -> pd.DataFrame:
    """The guidelines' contrasts of a study's runs: one row per guideline, advice and task.

    ``results`` and ``predictions`` are a study's collected tables (``book.load_results`` and
    ``book.load_table("predictions")``). Columns: :data:`CONTRAST_COLUMNS`, where ``needs`` is the
    side of 0 the advice needs (:data:`NEEDS`), ``value``, ``low`` and ``high`` the estimate and
    its 95% interval on the task's headline metric, and ``reason`` why there is no interval (else
    empty).
    Tasks are those with augmentation runs. ``only`` keeps the (advice, task) pairs listed, such
    as :data:`TESTED_CONTRASTS`, and skips the others' bootstraps.
    """
    study = _Study(results, predictions, n_boot)
    tasks = [task for task in PAPER_TASKS if task in set(study.augmented["task"])]
    rows = []
    for guideline in _GUIDELINES:
        for task in tasks:
            for number, advice, evidence, deferred, needs in guideline(study, task):
                if only is not None and (advice, task) not in only:
                    continue
                estimate = deferred()
                rows.append(
                    {
                        "guideline": number,
                        "advice": advice,
                        "task": task,
                        "evidence": evidence,
                        "needs": needs,
                        "value": estimate.value,
                        "low": math.nan if estimate.low is None else estimate.low,
                        "high": math.nan if estimate.high is None else estimate.high,
                        "reason": estimate.reason or "",
                    }
                )
    return pd.DataFrame(rows, columns=list(CONTRAST_COLUMNS))


def row_estimate(row: pd.Series) -> Estimate:
    """The estimate of one row of :func:`guideline_contrasts`: with its interval, or with none and
    the reason."""
    if pd.isna(row["low"]) or pd.isna(row["high"]):
        return _no_estimate(row["reason"] or "the contrast has no interval")
    return Estimate(row["value"], row["low"], row["high"])


def guideline_verdict(estimate: Estimate, needs: str) -> str:
    """A guideline's verdict: *supported* when the 95% interval lies on the side of 0 the advice
    ``needs`` (:data:`NEEDS`; for "either", on any side), *contradicted* when it lies on the other,
    *not shown* when it includes 0 (*not contradicted* for advice that only a loss contradicts),
    and *no evidence* without an interval."""
    if needs not in NEEDS:
        raise ValueError(f"needs {needs!r}: expected one of {NEEDS}")
    if estimate.low is None:
        return "no evidence"
    if not estimate.excludes_zero:
        if needs == "not below":
            return "not contradicted (interval includes 0)"
        return "not shown (interval includes 0)"
    if needs == "either":
        return "supported"
    on_needed_side = (estimate.value > 0) == (needs in ("above", "not below"))
    return "supported" if on_needed_side else "contradicted"


# The colour of each verdict of guideline_verdict wherever the book shows it.
GUIDELINE_VERDICT_COLOURS = {
    "supported": HOLDS,
    "contradicted": FAILS,
    "not shown (interval includes 0)": OPEN,
    "not contradicted (interval includes 0)": OPEN,
    "no evidence": ABSENT,
}


def guidelines_table(contrasts: pd.DataFrame) -> pd.DataFrame:
    """The guidelines chapter's table of :func:`guideline_contrasts`: per row its guideline,
    advice, task and evidence, the estimate with its 95% interval (or why it has none) as text, and
    the :func:`guideline_verdict`."""
    estimates = [row_estimate(row) for _, row in contrasts.iterrows()]
    described = ("guideline", "advice", "task", "evidence")
    return pd.DataFrame(
        {
            **{column: list(contrasts[column]) for column in described},
            "estimate (95% CI)": [fmt(estimate) for estimate in estimates],
            "verdict": [guideline_verdict(estimate, needs) for estimate, needs in zip(estimates, contrasts["needs"])],
        }
    )


# ---------------------------------------------------------------------------------------------
# Which contrast tests which claim


AGREE, DISAGREE, NOT_IDENTIFIABLE = "agree", "disagree", "not identifiable"
VERDICTS = (AGREE, DISAGREE, NOT_IDENTIFIABLE)
VERDICT_COLOURS = dict(zip(VERDICTS, (HOLDS, FAILS, OPEN), strict=True))
DIRECTIONS = ("above", "below", "zero")


@dataclass(frozen=True)
class ClaimTest:
    """A claim in short, and the world contrast that tests it.

    ``advice`` names the contrast (a guideline's advice); ``tasks`` are the tasks the claim covers;
    ``direction`` is the side of 0 on which the paper's finding puts the contrast ("zero": the
    paper finds no change); ``reason`` says why this contrast tests the claim. A claim no contrast
    can test has ``advice`` None, and ``reason`` says why.
    """

    claim: str
    advice: str | None
    tasks: tuple[str, ...]
    direction: str | None
    reason: str


CLAIM_TESTS: dict[int, ClaimTest] = {
    1: ClaimTest(
        "Aya 23 7B: multilingual data closes part of the gap to English",
        SERVED_LANGUAGES,
        PAPER_TASKS,
        "above",
        "the seen languages' gain from n = 0 to the largest n is the direction of the claim; the "
        "paper's figure is a ratio to English of one model, so only the sign is compared",
    ),
    2: ClaimTest(
        "Llama 3.1 8B: multilingual data closes part of the gap to English",
        SERVED_LANGUAGES,
        PAPER_TASKS,
        "above",
        "the world has one model family, so the same seen-language gain as claim 1 tests the "
        "direction for a second base model",
    ),
    3: ClaimTest(
        "Aya 23 35B: a larger model plateaus early; English-only is close to its best",
        LARGER_MODEL,
        PAPER_TASKS,
        "below",
        "a model that needs little multilingual data gains less from it: the seen gain on the "
        "largest base model minus that on the smallest",
    ),
    4: ClaimTest(
        "Seen and unseen averages rise together during training (Table 2)",
        None,
        (),
        None,
        "the guidelines hold no contrast over checkpoints during training",
    ),
    5: ClaimTest(
        "The seen–unseen gap stays constant as multilingual data is added",
        SEEN_OVER_UNSEEN,
        PAPER_TASKS,
        "zero",
        "a constant gap is a seen gain equal to the unseen gain: their difference is 0",
    ),
    6: ClaimTest(
        "Multi-task training costs Aya 23 7B about 8% on MGSM",
        MULTI_TASK_COST,
        ("math_reasoning",),
        "below",
        "the claim's measured effect is the math task, multi-task minus single-task training",
    ),
    7: ClaimTest(
        "Multi-task 35B: unseen languages score slightly above seen ones (IF, MR)",
        None,
        (),
        None,
        "the guidelines hold no unseen-minus-seen contrast after multi-task training",
    ),
    8: ClaimTest(
        "IF and SM lift non-Latin languages only with non-Latin data",
        TARGET_SCRIPT,
        ("instruction_following", "summarization"),
        "above",
        "the non-Latin average after a non-Latin mix minus after a Latin-only mix, for the two "
        "tasks the claim names (its MGSM part compares peak averages, which no contrast holds)",
    ),
    9: ClaimTest(
        "Up to 75k samples per run and 12 languages",
        None,
        (),
        None,
        "a statement of the paper's design, not an effect a run can measure",
    ),
}

# The (advice, task) pairs some claim is tested on: all a scorecard needs of guideline_contrasts.
TESTED_CONTRASTS = frozenset((test.advice, task) for test in CLAIM_TESTS.values() if test.advice for task in test.tasks)


def contrast_verdict(row: pd.Series | None, direction: str) -> tuple[str, str]:
    """The verdict of one world contrast on a claim whose finding lies ``direction`` of 0.

    ``row`` is a row of :func:`guideline_contrasts` (None: the world has none for the task). The
    rule: with no interval, *not identifiable* (the contrast's reason); for a claimed direction,
    *agree* when the 95% interval excludes 0 on that side, *disagree* when it excludes 0 on the
    other, *not identifiable* when it includes 0; for a claim of no change ("zero"), *disagree*
    when the interval excludes 0 and *not identifiable* otherwise, because an interval that
    includes 0 shows no change only within a margin the paper does not state.
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction {direction!r}: expected one of {DIRECTIONS}")
    if row is None:
        return NOT_IDENTIFIABLE, "the study has no contrast for this task"
    estimate = row_estimate(row)
    if estimate.low is None:
        return NOT_IDENTIFIABLE, estimate.reason
    side = "above" if row["low"] > 0 else "below" if row["high"] < 0 else None
    if side is None:
        if direction == "zero":
            return NOT_IDENTIFIABLE, (
                "the interval includes 0, as no change would, but the paper states no margin "
                "within which a change counts as none"
            )
        return NOT_IDENTIFIABLE, "the interval includes 0"
    if direction == "zero":
        return DISAGREE, f"the interval lies {side} 0, where the paper finds no change"
    if side == direction:
        return AGREE, f"the interval lies {side} 0, as the paper finds"
    return DISAGREE, f"the interval lies {side} 0, against the paper"


def _combined(verdicts: list[str]) -> str:
    """A claim over several tasks: disagree if any task disagrees, agree if every task agrees."""
    if DISAGREE in verdicts:
        return DISAGREE
    return AGREE if verdicts and all(verdict == AGREE for verdict in verdicts) else NOT_IDENTIFIABLE


CLAIM_ESTIMATE_COLUMNS = ("claim", "says", "task", "value", "low", "high", "estimate", "verdict", "reason")


def claim_estimates(contrasts: pd.DataFrame) -> pd.DataFrame:
    """The world's estimate for each claim of :data:`CLAIM_TESTS` and each task it covers, with the
    verdict of :func:`contrast_verdict`: one row per claim and task, claims in order.

    ``contrasts`` is :func:`guideline_contrasts`'s frame. Columns: :data:`CLAIM_ESTIMATE_COLUMNS`,
    where ``value``, ``low`` and ``high`` are the contrast's (NaN without an interval), ``estimate``
    is it in words (empty where the study has no contrast for the task), and ``reason`` says why the
    verdict. A claim no contrast can test has one row, with an empty ``task``.
    """
    missing = set(CONTRAST_COLUMNS) - set(contrasts.columns)
    if missing:
        raise ValueError(f"contrasts lack columns {sorted(missing)} (see guideline_contrasts)")
    rows = []
    for number, test in sorted(CLAIM_TESTS.items()):
        claim = {"claim": number, "says": test.claim}
        if test.advice is None:
            rows.append({**claim, "task": "", "estimate": "", "verdict": NOT_IDENTIFIABLE, "reason": test.reason})
            continue
        tested = contrasts[contrasts["advice"] == test.advice].set_index("task")
        for task in test.tasks:
            contrast = tested.loc[task] if task in tested.index else None
            verdict, why = contrast_verdict(contrast, test.direction)
            interval = {} if contrast is None else {column: contrast[column] for column in ("value", "low", "high")}
            estimate = "" if contrast is None else fmt(row_estimate(contrast))
            rows.append({**claim, "task": task, **interval, "estimate": estimate, "verdict": verdict, "reason": why})
    return pd.DataFrame(rows, columns=list(CLAIM_ESTIMATE_COLUMNS))


def scorecard(contrasts: pd.DataFrame, claims: pd.DataFrame) -> pd.DataFrame:
    """One row per claim of the paper: its evidence in the paper's tables and in the world.

    ``contrasts`` is :func:`guideline_contrasts`'s frame (the guidelines chapter's contrasts);
    ``claims`` is :func:`cltbook.report.published.claims_table`. Columns: ``claim``, ``says`` (short),
    ``paper_verdict`` and ``paper_evidence`` (the claims audit's verdict and computed parts),
    ``world_contrast`` (the advice tested, or "none"), ``world_estimate`` (per task, with its 95%
    interval or the reason for none), ``verdict`` (:data:`VERDICTS`) and ``reason``. Per task the
    verdict is that of :func:`claim_estimates`; a claim covering several tasks disagrees when any
    task disagrees, agrees when every task agrees, and is otherwise not identifiable.
    """
    if sorted(claims["claim"]) != sorted(CLAIM_TESTS):
        raise ValueError(
            f"claims {sorted(claims['claim'])} do not match the claims mapped in CLAIM_TESTS {sorted(CLAIM_TESTS)}"
        )
    per_task = claim_estimates(contrasts)
    rows = []
    for _, claim in claims.sort_values("claim").iterrows():
        test = CLAIM_TESTS[claim["claim"]]
        tasks = per_task[per_task["claim"] == claim["claim"]]
        row = {
            "claim": claim["claim"],
            "says": test.claim,
            "paper_verdict": claim["verdict"],
            "paper_evidence": claim["computed"],
        }
        if test.advice is None:
            rows.append(
                {
                    **row,
                    "world_contrast": "none",
                    "world_estimate": "",
                    "verdict": NOT_IDENTIFIABLE,
                    "reason": test.reason,
                }
            )
            continue
        estimates = [f"{r.task}: {r.estimate}" for r in tasks.itertuples() if r.estimate]
        rows.append(
            {
                **row,
                "world_contrast": f"{test.advice} ({test.reason})",
                "world_estimate": "; ".join(estimates) or "none",
                "verdict": _combined(list(tasks["verdict"])),
                "reason": "; ".join(f"{r.task}: {r.verdict} ({r.reason})" for r in tasks.itertuples()),
            }
        )
    return pd.DataFrame(rows)


def verdict_counts(card: pd.DataFrame) -> str:
    """ "3 agree, 2 disagree, ..." for a :func:`scorecard` frame."""
    return ", ".join(f"{count} {verdict}" for verdict, count in card["verdict"].value_counts().items())


def styled(card: pd.DataFrame):
    """A :func:`scorecard` frame (or a selection of its columns) as the book shows it: the paper's
    evidence one part per line, the verdict coloured."""
    card = card.assign(paper_evidence=card["paper_evidence"].str.replace(" | ", "\n", regex=False))
    return verdicts_styled(card, VERDICT_COLOURS)
