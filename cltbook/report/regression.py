"""Regression models of the tidy results: which variables, and which of their interactions, move
cross-lingual transfer.

The paper's central claim is that transfer "cannot be explained by isolated variables": it depends
on task × data amount × model size × training setting × language group. That is a claim about
interaction terms, so this module fits models that contain them and tests them, with three
safeguards a descriptive table lacks:

* **Identification first.** A study grid with an empty cell (say, no multi-task summarisation run)
  makes some interaction coefficient inestimable; statsmodels would still print a number for it
  (a pseudo-inverse fit). :func:`check_identified` refuses such a design and names the term.
* **Errors clustered by run.** Every language of a run shares one checkpoint, one data draw and one
  seed, so the rows of a run are not independent. Standard errors are clustered by run with the
  CRV3 (leave-one-run-out jackknife) variance and t intervals with G − 1 degrees of freedom
  (G = number of runs); see :data:`CLUSTER_COVARIANCE` for why.
* **Warnings are results.** Convergence, collinearity and few-cluster problems are collected into
  :attr:`FitResult.diagnostics`, which the book prints beside each table; nothing is swallowed.

Term names are the formula engine's (patsy by default), e.g. ``log1p_n:C(role)[T.unseen]``.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import statsmodels.api as sm
import statsmodels.formula.api as smf
from scipy import stats

# statsmodels' own switch between its formula engines (patsy, formulaic); it is what statsmodels
# uses to rebuild a design for new data, so grids and term slices match the fitted columns exactly.
# The module is private, which is acceptable because constraints.txt pins statsmodels.
from statsmodels.formula._manager import FormulaManager
from statsmodels.iolib.summary2 import Summary, summary_col
from statsmodels.stats.diagnostic import het_breuschpagan
from statsmodels.stats.stattools import jarque_bera

from cltbook.report.analysis import ROLE_ORDER
from cltbook.report.style import GROUP_COLOURS, GROUP_LABELS, PALETTE

Response = Literal["standardised", "ratio_to_anchor"]
RESPONSES: tuple[str, ...] = ("standardised", "ratio_to_anchor")
RESPONSE_LABELS = {
    "standardised": "standardised score (SD within task)",
    "ratio_to_anchor": "score ÷ same run's anchor score (ratio)",
}
# Reference level first: single-task training is the baseline the paper compares against.
SETTING_ORDER = ("single", "multi")
SCRIPT_GROUP_ORDER = ("latin", "non_latin")
PREPARED_COLUMNS = (
    "run_id",
    "task",
    "metric",
    "setting",
    "model_size",
    "seed",
    "n_per_language",
    "log1p_n",
    "language",
    "role",
    "script_group",
)

# Why CRV3 with t(G − 1). The simulated study of tests/test_regression.py, run longer (2,000
# datasets per cell): coverage of the 95% interval of the log(1+n) × role interaction, then the
# false-positive rate of its test at α = 0.05 when there is no interaction.
#                                            12 runs          60 runs
#   CRV1, no small-sample factor, normal     0.853 / 0.135    0.921 / 0.069
#   CRV1 + G/(G−1)·(N−1)/(N−K), t(G − 1)     0.911 / 0.089    0.933 / 0.063
#   CRV3 (MacKinnon, Nielsen & Webb), t(G−1) 0.937 / 0.058    0.945 / 0.058
# The plain sandwich fails with the study's few runs; statsmodels' default correction only just
# reaches 0.9; CRV3 is close to nominal at both sizes. statsmodels has CRV3 for linear models only,
# so the item-level logit keeps CRV1 with the factor and t(G − 1).
CLUSTER_COVARIANCE = "cluster-crv3"
# The smallest number of runs at which the tests check interval coverage; below it the clustered
# intervals are unverified here and are flagged.
FEW_CLUSTERS = 12
# Condition index of the design with columns scaled to unit length: above 30 Belsley, Kuh & Welsch
# (1980) speak of moderate, above 100 of strong dependence. Full interaction models of an uncentred
# log(1 + n) sit near 50 by construction, so 100 is the threshold that flags a real problem.
COLLINEARITY_CONDITION_INDEX = 100.0
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class NotIdentified(ValueError):
    """The design does not identify every coefficient; the message names the terms."""


@dataclass(frozen=True)
class ResidualChecks:
    """Descriptive checks of OLS residuals.

    Clustered errors do not assume equal variances or normal errors, so these do not invalidate a
    fit; they say how far the data are from the textbook case: a small Breusch–Pagan p means the
    residual variance changes with the covariates, a small Jarque–Bera p means skewed or heavy-
    tailed residuals, where few-cluster t intervals are least trustworthy. ``condition_number`` is
    statsmodels' (of the raw design, unit-dependent); ``scaled_condition_number`` is of the design
    with unit-length columns, the one compared with :data:`COLLINEARITY_CONDITION_INDEX`.
    """

    breusch_pagan_lm: float
    breusch_pagan_p: float
    jarque_bera: float
    jarque_bera_p: float
    condition_number: float
    scaled_condition_number: float


@dataclass(frozen=True)
class FitResult:
    """A fitted model with what the book must show beside it.

    ``fitted`` is the statsmodels results object; ``errors`` describes how its standard errors were
    computed; ``n_groups`` counts clusters (OLS, logit) or random-effect groups (mixed model);
    ``diagnostics`` holds every warning raised while fitting plus this module's own checks.
    """

    fitted: Any
    formula: str
    method: Literal["ols", "mixed", "item_logit"]
    errors: str
    n_obs: int
    n_groups: int
    diagnostics: tuple[str, ...]
    residual_checks: ResidualChecks | None = None

    def coefficients(self, level: float = 0.95) -> pd.DataFrame:
        """One row per coefficient: estimate, standard error, statistic, p and the interval."""
        fitted = self.fitted
        interval = np.asarray(fitted.conf_int(alpha=1 - level))
        return pd.DataFrame(
            {
                "term": list(fitted.params.index),
                "estimate": np.asarray(fitted.params),
                "se": np.asarray(fitted.bse),
                "statistic": np.asarray(fitted.tvalues),
                "p": np.asarray(fitted.pvalues),
                "ci_low": interval[:, 0],
                "ci_high": interval[:, 1],
            }
        )


# --------------------------------------------------------------------------------------------
# Data


def _with_design_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Add log(1 + n) and fix reference levels: the anchor role, single-task, Latin script.

    log(1 + n) because the mixture grids are roughly log-spaced and gains shrink with n (the same
    scale as :func:`cltbook.report.metrics.fitted_change`).
    """
    out = frame.copy()
    out["log1p_n"] = np.log1p(out["n_per_language"].astype(float))
    for column, order in (
        ("role", ROLE_ORDER),
        ("setting", SETTING_ORDER),
        ("script_group", SCRIPT_GROUP_ORDER),
    ):
        unknown = set(out[column]) - set(order)
        if unknown:
            raise ValueError(f"unknown {column} values {sorted(unknown)}; known: {list(order)}")
        present = set(out[column])
        out[column] = pd.Categorical(out[column], categories=[v for v in order if v in present])
    return out


def prepare(results: pd.DataFrame, metric_by_task: Mapping[str, str], response: Response) -> pd.DataFrame:
    """One row per run × task × language, with a response that is comparable across tasks.

    ``metric_by_task`` picks one metric per task (tasks not named are left out): tasks are scored
    in different metrics, and a raw accuracy and a raw ROUGE-L must never share one axis.

    ``response="standardised"``: the value minus its task's mean, over its task's standard
    deviation (all rows of the task, anchor included), so coefficients read in SDs of that task.
    ``response="ratio_to_anchor"``: the value over the same run's anchor-language value for the
    task — the paper's "performance relative to English" per run; anchor rows are dropped, as their
    ratio is 1 by definition.

    Raises ValueError for a named task without rows, repeated rows, a task without spread, or a
    run whose anchor value is missing, repeated or zero: each would give a silently wrong number.
    """
    if response not in RESPONSES:
        raise ValueError(f"response must be one of {RESPONSES}, got {response!r}")
    chosen = pd.Series(metric_by_task, name="metric").rename_axis("task").reset_index()
    rows = results.merge(chosen, on=["task", "metric"], how="inner")
    missing = sorted(set(chosen["task"]) - set(rows["task"]))
    if missing:
        pairs = ", ".join(f"{task}/{metric_by_task[task]}" for task in missing)
        raise ValueError(f"no rows for task/metric {pairs}")
    key = ["run_id", "task", "metric", "language"]
    repeated = rows.duplicated(key)
    if repeated.any():
        example = rows.loc[repeated, key].iloc[0].to_dict()
        raise ValueError(f"more than one value per {key}, e.g. {example}")
    rows = rows.reset_index(drop=True)
    if response == "standardised":
        spread = rows.groupby("task")["value"].std()
        flat = spread[~(spread > 0)]
        if not flat.empty:
            raise ValueError(f"no spread to standardise by in tasks {list(flat.index)}")
        by_task = rows.groupby("task")["value"]
        rows[response] = (rows["value"] - by_task.transform("mean")) / by_task.transform("std")
    else:
        anchors = rows[rows["role"] == "anchor"]
        per_run = anchors.groupby(["run_id", "task"]).size()
        runs = rows[["run_id", "task"]].drop_duplicates().set_index(["run_id", "task"]).index
        counts = per_run.reindex(runs, fill_value=0)
        if (counts != 1).any():
            raise ValueError(f"runs need exactly one anchor row per task: {list(counts[counts != 1].index)}")
        anchor_value = anchors.set_index(["run_id", "task"])["value"]
        if (anchor_value == 0).any():
            raise ValueError(f"anchor value 0, ratio undefined: {list(anchor_value.index[anchor_value == 0])}")
        rows = rows[rows["role"] != "anchor"].reset_index(drop=True)
        denominator = anchor_value.reindex(pd.MultiIndex.from_frame(rows[["run_id", "task"]]))
        rows[response] = rows["value"].to_numpy() / denominator.to_numpy()
    rows = _with_design_columns(rows)
    return rows[[*PREPARED_COLUMNS, response]]


def item_frame(predictions: pd.DataFrame, results: pd.DataFrame) -> pd.DataFrame:
    """Per-item predictions with their run's design columns, the input of :func:`fit_item_logit`.

    The run columns (setting, model size, seed, n, role, script group) come from the tidy results
    table; a prediction whose run, task and language have no results row raises, since it would
    otherwise be dropped from the model unnoticed.
    """
    run_columns = ["setting", "model_size", "seed", "n_per_language", "role", "script_group"]
    key = ["run_id", "task", "language"]
    design = results[key + run_columns].drop_duplicates(key)
    out = predictions.merge(design, on=key, how="left", validate="many_to_one", indicator=True)
    unmatched = out["_merge"] != "both"
    if unmatched.any():
        raise ValueError(
            f"{int(unmatched.sum())} predictions have no results row, e.g. {out.loc[unmatched, key].iloc[0].to_dict()}"
        )
    return _with_design_columns(out.drop(columns="_merge"))


# --------------------------------------------------------------------------------------------
# Identification


def _model_frame(frame: pd.DataFrame, formula: str) -> pd.DataFrame:
    """The frame as the formula engine should see it.

    Categories with no rows are dropped: a subset of a prepared frame keeps its categories, and an
    empty level would enter the design as an all-zero column that is a selection, not a hole. A
    boolean response becomes 0/1, which the engines would otherwise expand into two columns.
    """
    out = frame.copy()
    for column in out.columns:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].cat.remove_unused_categories()
    response = formula.split("~", 1)[0].strip()
    if response in out.columns and out[response].dtype == bool:
        out[response] = out[response].astype(int)
    return out


def _dependent_columns(design: np.ndarray, names: Sequence[str]) -> list[str]:
    """Why the design is rank-deficient, one phrase per offending column (empty if full rank).

    Columns are scaled to unit length so that units do not decide; each column is then kept if it
    adds rank to the columns kept before it, so a dependent column is reported against earlier
    (lower-order) terms, which is how a formula is read.
    """
    problems = []
    present = np.any(design != 0, axis=0)
    problems += [f"{names[j]} has no observations" for j in np.flatnonzero(~present)]
    scaled = design[:, present] / np.linalg.norm(design[:, present], axis=0)
    present_names = [name for name, keep in zip(names, present, strict=True) if keep]
    triangle = np.linalg.qr(scaled, mode="r")  # same column space, k × k instead of n × k
    singular = np.linalg.svd(triangle, compute_uv=False)
    tolerance = singular.max() * max(scaled.shape) * np.finfo(float).eps
    if (singular > tolerance).sum() == scaled.shape[1]:
        return problems
    kept: list[int] = []
    for j in range(scaled.shape[1]):
        candidate = triangle[:, [*kept, j]]
        if np.linalg.matrix_rank(candidate, tol=tolerance) > len(kept):
            kept.append(j)
            continue
        weights = np.linalg.lstsq(triangle[:, kept], triangle[:, j], rcond=None)[0]
        partners = [present_names[kept[i]] for i in np.flatnonzero(np.abs(weights) > 1e-8)]
        problems.append(f"{present_names[j]} is a linear combination of {', '.join(partners)}")
    return problems


def _raise_if_not_identified(design: np.ndarray, names: Sequence[str]) -> None:
    problems = _dependent_columns(np.asarray(design, dtype=float), names)
    if problems:
        raise NotIdentified("the design does not identify every coefficient: " + "; ".join(problems))


def check_identified(frame: pd.DataFrame, formula: str) -> None:
    """Raise :class:`NotIdentified`, naming the terms, unless every coefficient is estimable.

    An interaction whose cell has no runs (e.g. ``C(setting)[T.multi]:C(task)[T.summarization]``)
    is an all-zero column; a term fully determined by others is a linear dependence. Either way
    statsmodels would print an arbitrary number for it. The design is built by the same formula
    machinery that fits the model, so the columns checked are the columns fitted.
    """
    model = smf.ols(formula, data=_model_frame(frame, formula), missing="raise")
    _raise_if_not_identified(model.exog, model.exog_names)


# --------------------------------------------------------------------------------------------
# Fitting


@contextmanager
def _recorded_warnings() -> Iterator[list[warnings.WarningMessage]]:
    """Record every warning, repeated ones included, so that none is lost or printed unseen."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def _warning_texts(caught: Sequence[warnings.WarningMessage]) -> list[str]:
    texts = (f"{w.category.__name__}: {w.message}" for w in caught)
    return list(dict.fromkeys(texts))  # MixedLM repeats itself once per optimiser it retries


def _cluster_diagnostics(n_clusters: int, n_params: int, cluster: str) -> list[str]:
    out = []
    if n_clusters < FEW_CLUSTERS:
        out.append(
            f"only {n_clusters} {cluster} clusters: below {FEW_CLUSTERS}, the fewest at which "
            "this project has checked the coverage of clustered intervals"
        )
    if n_clusters <= n_params:
        out.append(
            f"{n_clusters} clusters for {n_params} coefficients: the clustered covariance is "
            "singular, so joint tests of many coefficients at once are not valid"
        )
    return out


def _scaled_condition_number(design: np.ndarray) -> float:
    return float(np.linalg.cond(design / np.linalg.norm(design, axis=0)))


def _collinearity_diagnostics(design: np.ndarray) -> list[str]:
    index = _scaled_condition_number(design)
    if index <= COLLINEARITY_CONDITION_INDEX:
        return []
    return [
        f"condition index {index:.0f} of the column-scaled design exceeds "
        f"{COLLINEARITY_CONDITION_INDEX:g}: some coefficients are nearly collinear and imprecise "
        "(centring log1p_n helps when interactions cause it)"
    ]


def _cluster_codes(frame: pd.DataFrame, cluster: str) -> np.ndarray:
    if cluster not in frame.columns:
        raise KeyError(f"cluster column {cluster!r} is not in the frame")
    return pd.factorize(frame[cluster])[0]


def _leave_one_cluster_out_problem(
    design: np.ndarray, names: Sequence[str], groups: np.ndarray, labels: pd.Series
) -> str | None:
    """The first cluster without which the design loses rank, and what it leaves unidentified."""
    for code in np.unique(groups):
        problems = _dependent_columns(design[groups != code], names)
        if problems:
            label = labels[groups == code].iloc[0]
            return f"without cluster {label!r}: " + "; ".join(problems)
    return None


def _residual_checks(fitted: Any, design: np.ndarray) -> ResidualChecks:
    """Breusch–Pagan on the design's columns (on the fitted values if the design has no constant
    column, as the test's auxiliary regression needs one), Jarque–Bera, condition numbers."""
    has_constant = bool(np.any((np.ptp(design, axis=0) == 0) & (design[0] != 0)))
    regressors = design if has_constant else sm.add_constant(np.asarray(fitted.fittedvalues))
    bp_lm, bp_p, _, _ = het_breuschpagan(fitted.resid, regressors)
    jb, jb_p, _, _ = jarque_bera(fitted.resid)
    return ResidualChecks(
        breusch_pagan_lm=float(bp_lm),
        breusch_pagan_p=float(bp_p),
        jarque_bera=float(jb),
        jarque_bera_p=float(jb_p),
        condition_number=float(fitted.condition_number),
        scaled_condition_number=_scaled_condition_number(design),
    )


def fit_clustered(model: sm.OLS, groups: Sequence[Any] | np.ndarray) -> Any:
    """Fit ``model`` with the errors this module reports: CRV3 clustered by ``groups``, t(G − 1).

    :func:`fit_ols` calls it once the design is built and checked. Call it directly to refit one
    design many times (a simulation, a bootstrap), where rebuilding the formula each time would
    cost more than the fit; the tests check coverage through it for that reason.
    """
    codes = pd.factorize(np.asarray(groups))[0]
    return model.fit(cov_type=CLUSTER_COVARIANCE, cov_kwds={"groups": codes}, use_t=True)


def fit_ols(frame: pd.DataFrame, formula: str, cluster: str = "run_id") -> FitResult:
    """OLS with errors clustered by ``cluster`` (CRV3, t with G − 1 df), after an identification
    check.

    CRV3 also needs every coefficient to be estimable without any one cluster: a coefficient that
    rests on a single run has no cluster-robust standard error, and :class:`NotIdentified` names it.
    """
    data = _model_frame(frame, formula)
    model = smf.ols(formula, data=data, missing="raise")
    design = np.asarray(model.exog, dtype=float)
    _raise_if_not_identified(design, model.exog_names)
    groups = _cluster_codes(data, cluster)
    with _recorded_warnings() as caught:
        try:
            fitted = fit_clustered(model, groups)
        except ValueError as error:  # statsmodels' CRV3 refusal: a leave-one-out design is singular
            problem = _leave_one_cluster_out_problem(design, model.exog_names, groups, data[cluster]) or str(error)
            raise NotIdentified(
                f"errors clustered by {cluster} need every coefficient without any one cluster; {problem}"
            ) from error
        checks = _residual_checks(fitted, design)
    n_clusters = len(np.unique(groups))
    return FitResult(
        fitted=fitted,
        formula=formula,
        method="ols",
        errors=f"clustered by {cluster} (CRV3), t({n_clusters - 1})",
        n_obs=int(fitted.nobs),
        n_groups=n_clusters,
        diagnostics=tuple(
            _warning_texts(caught)
            + _cluster_diagnostics(n_clusters, design.shape[1], cluster)
            + _collinearity_diagnostics(design)
        ),
        residual_checks=checks,
    )


def fit_mixed(frame: pd.DataFrame, formula: str, group: str = "language") -> FitResult:
    """Linear mixed model with a random intercept per ``group`` (REML), for the same formulas.

    Where :func:`fit_ols` treats language differences as fixed (through role and script group), this
    lets each language have its own level and reports how large that spread is ("Group Var"). Its
    standard errors are model-based, not clustered by run, so for covariates that vary only between
    runs (n, model size, setting) they ignore the shared noise of a run's languages; read the OLS
    fit for those.
    """
    data = _model_frame(frame, formula)
    model = smf.mixedlm(formula, data=data, groups=data[group], missing="raise")
    design = np.asarray(model.exog, dtype=float)
    _raise_if_not_identified(design, model.exog_names)
    with _recorded_warnings() as caught:
        fitted = model.fit(reml=True)
    diagnostics = _warning_texts(caught) + _collinearity_diagnostics(design)
    if not fitted.converged:
        diagnostics.append("MixedLM did not converge: estimates are the optimiser's last point")
    return FitResult(
        fitted=fitted,
        formula=formula,
        method="mixed",
        errors=f"model-based, random intercept per {group} (REML)",
        n_obs=int(fitted.nobs),
        n_groups=int(model.n_groups),
        diagnostics=tuple(diagnostics),
    )


def _separation_diagnostics(fitted: Any, edge: float = 1e-6) -> list[str]:
    """Quasi-complete separation, which statsmodels does not always warn about: rows fitted with a
    probability of (almost exactly) 0 or 1, e.g. a group in which no item is ever right. The
    coefficients that separate them run off towards infinity and their errors mean nothing."""
    probability = np.asarray(fitted.fittedvalues, dtype=float)
    stuck = int(((probability < edge) | (probability > 1 - edge)).sum())
    if not stuck:
        return []
    return [
        f"quasi-complete separation: {stuck} of {len(probability)} items are fitted with probability "
        f"0 or 1 (a group whose outcome never varies); the coefficients separating them are not estimable"
    ]


def fit_item_logit(predictions_with_run_columns: pd.DataFrame, formula: str, cluster: str = "run_id") -> FitResult:
    """Item-level logistic regression of correctness (GLM Binomial), errors clustered by run.

    Accuracy is a mean of 0/1 outcomes; modelling the items keeps each run's number of items and
    the 0–1 bounds, which a regression on accuracies ignores. A boolean response (e.g.
    ``correct_strict``) is used as 0/1. Errors: CRV1 with the small-sample factor and t(G − 1),
    since statsmodels has CRV3 for linear models only. Perfect separation and non-convergence
    arrive as diagnostics.
    """
    data = _model_frame(predictions_with_run_columns, formula)
    model = smf.glm(formula, data=data, family=sm.families.Binomial(), missing="raise")
    design = np.asarray(model.exog, dtype=float)
    _raise_if_not_identified(design, model.exog_names)
    groups = _cluster_codes(data, cluster)
    with _recorded_warnings() as caught:
        fitted = model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)
    n_clusters = len(np.unique(groups))
    diagnostics = (
        _warning_texts(caught)
        + _cluster_diagnostics(n_clusters, design.shape[1], cluster)
        + _collinearity_diagnostics(design)
    )
    if not fitted.converged:
        diagnostics.append("the logistic fit did not converge")
    diagnostics += _separation_diagnostics(fitted)
    return FitResult(
        fitted=fitted,
        formula=formula,
        method="item_logit",
        errors=f"clustered by {cluster} (CRV1, small-sample factor), t({n_clusters - 1})",
        n_obs=int(fitted.nobs),
        n_groups=n_clusters,
        diagnostics=tuple(diagnostics),
    )


# --------------------------------------------------------------------------------------------
# Tests and tables


def interaction_tests(result: FitResult, terms: Sequence[str] | None = None, pattern: str = ":") -> pd.DataFrame:
    """Joint Wald test of each term's coefficients: does this interaction matter at all?

    statsmodels' term tests (``wald_test_terms``): a term such as ``log1p_n:C(role)`` has one
    coefficient per non-reference level and is tested as a whole (F with the fit's G − 1
    denominator df when the fit uses t, else χ²). Give ``terms`` by name, or a regular expression
    ``pattern`` (default: every interaction, i.e. names with ":"). Returns columns term,
    statistic, df (numerator), df_denom (NaN for χ²), p, test, diagnostic (warnings raised while
    testing, e.g. a singular constraint covariance; statsmodels tests every term in one call, so
    a warning is listed on every row).
    """
    with _recorded_warnings() as caught:
        table = result.fitted.wald_test_terms(scalar=True).summary_frame()
    if terms is None:
        chosen = [term for term in table.index if re.search(pattern, term)]
    else:
        unknown = [term for term in terms if term not in table.index]
        if unknown:
            raise KeyError(f"terms {unknown} are not in the model; its terms: {list(table.index)}")
        chosen = list(terms)
    is_f = "F" in table.columns
    rows = table.loc[chosen]
    return pd.DataFrame(
        {
            "term": chosen,
            "statistic": rows["F" if is_f else "chi2"].to_numpy(dtype=float),
            "df": rows["df constraint"].to_numpy(dtype=int),
            "df_denom": rows["df denom"].to_numpy(dtype=float) if is_f else np.nan,
            "p": rows["P>F" if is_f else "P>chi2"].to_numpy(dtype=float),
            "test": "F" if is_f else "chi2",
            "diagnostic": "; ".join(_warning_texts(caught)),
        },
        columns=["term", "statistic", "df", "df_denom", "p", "test", "diagnostic"],
    )


def side_by_side(results: Mapping[str, FitResult], stars: bool = True) -> Summary:
    """Models in columns (statsmodels ``summary_col``) with N, groups, R² and the error type.

    R² is OLS's; the logit gets McFadden's pseudo R² on its own row, since the two are not the same
    quantity; the mixed model has neither.
    """
    by_fitted = {id(result.fitted): result for result in results.values()}

    def r_squared(fitted: Any) -> str:
        return f"{fitted.rsquared:.3f}" if by_fitted[id(fitted)].method == "ols" else ""

    def pseudo_r_squared(fitted: Any) -> str:
        if by_fitted[id(fitted)].method != "item_logit":
            return ""
        return f"{fitted.pseudo_rsquared(kind='mcf'):.3f}"

    return summary_col(
        [result.fitted for result in results.values()],
        model_names=list(results),
        stars=stars,
        float_format="%.3f",
        include_r2=False,
        info_dict={
            "N": lambda fitted: f"{int(fitted.nobs)}",
            "clusters / groups": lambda fitted: f"{by_fitted[id(fitted)].n_groups}",
            "R²": r_squared,
            "pseudo R² (McFadden)": pseudo_r_squared,
            "errors": lambda fitted: by_fitted[id(fitted)].errors,
        },
    )


# --------------------------------------------------------------------------------------------
# Marginal effects and figures


def _average_probability(
    fitted: Any, cell: pd.DataFrame, weights: np.ndarray, alpha: float
) -> tuple[float, float, float]:
    """Weighted mean predicted probability over ``cell``'s rows, with its delta-method interval."""
    # The rows go in as data, not as a design: statsmodels 0.15's averaging path ignores
    # `transform=False`. It averages prediction × weight, so the weights must have mean one.
    prediction = fitted.get_prediction(exog=cell, which="mean", average=True, agg_weights=weights / weights.mean())
    low, high = np.asarray(prediction.conf_int(alpha=alpha)).ravel()
    return float(prediction.predicted), float(low), float(high)


def _average_linear_prediction(
    fitted: Any, design: np.ndarray, weights: np.ndarray, alpha: float
) -> tuple[float, float, float]:
    """Weighted mean prediction over ``design``'s rows: the mean row times the fixed effects (which
    MixedLM lists before its variance parameters), with the fit's own covariance and quantiles."""
    mean_row = weights @ design / weights.sum()
    k = len(mean_row)
    estimate = float(mean_row @ np.asarray(fitted.params)[:k])
    se = float(np.sqrt(mean_row @ np.asarray(fitted.cov_params())[:k, :k] @ mean_row))
    quantile = stats.t.isf(alpha / 2, fitted.df_resid_inference) if fitted.use_t else stats.norm.isf(alpha / 2)
    return estimate, estimate - quantile * se, estimate + quantile * se


def marginal_effect_of_n(
    result: FitResult,
    frame: pd.DataFrame,
    by: Sequence[str] = ("role",),
    points: int = 25,
    level: float = 0.95,
) -> pd.DataFrame:
    """Predicted response against log(1 + n) per level of ``by``, with ``level`` intervals.

    Every other covariate keeps its observed mix within each ``by`` group (an average predictive
    margin): the prediction at n is the weighted mean over the group's rows of ``frame`` with n set
    to that value. OLS and mixed fits: the mean design row times the coefficients, its variance
    from the fit's covariance (clustered for OLS) and the fit's own quantiles — t(G − 1) for a
    clustered OLS, where ``get_prediction`` would use N − K df; a mixed fit gives the population
    line (random intercepts at zero). Logit: ``get_prediction`` with ``average=True``, the mean
    probability with its delta-method interval.

    Returns the ``by`` columns, log1p_n, n_per_language, estimate, ci_low, ci_high, level.
    """
    rhs = result.formula.split("~", 1)[1]
    used = [c for c in dict.fromkeys(_IDENTIFIER.findall(rhs)) if c in frame.columns]
    if "log1p_n" not in used:
        raise ValueError(f"the formula {result.formula!r} has no log1p_n term to vary")
    keep = list(dict.fromkeys([*by, *(c for c in used if c != "log1p_n")]))
    mix = _model_frame(frame, result.formula).groupby(keep, observed=True).size()
    grid = np.linspace(frame["log1p_n"].min(), frame["log1p_n"].max(), points)
    stacked = mix.rename("weight").reset_index().merge(pd.DataFrame({"log1p_n": grid}), how="cross")
    fitted = result.fitted
    design = None
    if result.method != "item_logit":
        spec = fitted.model.data.model_spec
        design = FormulaManager().get_matrices(spec, stacked, pandas=True, prediction=True)
        design = np.asarray(design, dtype=float)
    rows = []
    for key, cell in stacked.groupby([*by, "log1p_n"], observed=True, sort=True):
        weights = cell["weight"].to_numpy(dtype=float)
        if design is None:
            interval = _average_probability(fitted, cell, weights, 1 - level)
        else:
            interval = _average_linear_prediction(fitted, design[cell.index], weights, 1 - level)
        rows.append([*key, *interval])
    out = pd.DataFrame(rows, columns=[*by, "log1p_n", "estimate", "ci_low", "ci_high"])
    out.insert(len(by) + 1, "n_per_language", np.expm1(out["log1p_n"]))
    out["level"] = level
    return out


def _response_label(response: str) -> str:
    """The axis label of a response column, with its unit."""
    if response in RESPONSE_LABELS:
        return RESPONSE_LABELS[response]
    return f"P({response}) (0–1)" if response.startswith("correct") else response


def _log1p_axis(ax: plt.Axes) -> None:
    """An x-axis in log(1 + n): the model is linear there, so fitted lines are straight."""
    ax.set_xscale("function", functions=(np.log1p, np.expm1))
    ax.set_xlabel("examples added per seen language (n, log(1+n) scale)")


def plot_marginal_effects(
    effects: pd.DataFrame,
    response: str,
    hue: str = "role",
    col: str | None = None,
) -> plt.Figure:
    """Lines with shaded intervals from :func:`marginal_effect_of_n`: one colour per ``hue``
    level, one panel per ``col`` level; ``response`` (the formula's response) labels the y-axis.
    Language roles take the label and colour they have in every figure of the book."""
    panels = list(effects[col].drop_duplicates()) if col else [None]
    levels = list(effects[hue].drop_duplicates())
    if hue == "role":
        colours = {level: GROUP_COLOURS[level] for level in levels}
        names = {level: GROUP_LABELS[level] for level in levels}
    else:
        colours = dict(zip(levels, sns.color_palette(PALETTE, len(levels)), strict=True))
        names = {level: str(level) for level in levels}
    figure, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.6), sharey=True, squeeze=False)
    for ax, panel in zip(axes[0], panels, strict=True):
        rows = effects if panel is None else effects[effects[col] == panel]
        for level_name in levels:
            line = rows[rows[hue] == level_name].sort_values("n_per_language")
            colour = colours[level_name]
            ax.plot(line["n_per_language"], line["estimate"], color=colour, label=names[level_name])
            ax.fill_between(line["n_per_language"], line["ci_low"], line["ci_high"], color=colour, alpha=0.2)
        _log1p_axis(ax)
        ax.set_xlim(0, effects["n_per_language"].max())  # autoscale margins would reach n < 0
        if panel is not None:
            ax.set_title(f"{col} = {panel}")
    axes[0, 0].set_ylabel(f"predicted {_response_label(response)}")
    band = f"{effects['level'].iloc[0]:.0%} CI"
    axes[0, -1].legend(title=f"{hue} ({band})", loc="best", fontsize="small")
    figure.tight_layout()
    return figure


def plot_residuals(result: FitResult) -> plt.Figure:
    """Residuals against fitted values, and their normal Q–Q plot (Pearson residuals for the logit).

    The first panel shows unequal spread or curvature the model misses; the second, heavy tails.
    """
    fitted = result.fitted
    response = _response_label(fitted.model.endog_names)
    if result.method == "item_logit":
        residuals = np.asarray(fitted.resid_pearson)
        unit = "Pearson residual (SD units)"
    else:
        residuals = np.asarray(fitted.resid)
        unit = f"residual ({response})"
    colour = sns.color_palette(PALETTE, 1)[0]
    figure, (spread, qq) = plt.subplots(1, 2, figsize=(9, 3.6))
    spread.scatter(np.asarray(fitted.fittedvalues), residuals, s=8, alpha=0.5, color=colour)
    spread.axhline(0, color="grey", linewidth=1)
    spread.set_xlabel(f"fitted value ({response})")
    spread.set_ylabel(unit)
    (theoretical, ordered), _ = stats.probplot(residuals, dist="norm")
    qq.scatter(theoretical, ordered, s=8, alpha=0.5, color=colour)
    qq.axline((0, float(np.mean(residuals))), slope=float(np.std(residuals, ddof=1)), color="grey")
    qq.set_xlabel("normal quantile (SD units)")
    qq.set_ylabel(unit)
    figure.tight_layout()
    return figure
