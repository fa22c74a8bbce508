"""Cross-lingual transfer quantities: pure functions on tidy per-language score tables.

The paper this project reproduces (Shimabucoro et al., arXiv:2504.16677) reports every result as
per-language scores and discusses them through a few aggregates: the average over *seen* languages
(in the fine-tuning data), over *unseen* languages (evaluated only), over Latin-script and
non-Latin-script languages, and performance "relative to English". English is the anchor and is
left out of those averages. The paper names these quantities but gives no formulas; this module
fixes one definition per name, and keeps the competing readings of "relative to English" side by
side so that an audit can show how much the choice matters.

Inputs are tidy frames with one row per (group, language) and at least the columns ``language``
and ``value``. Role sets default to the paper's and can be passed for other language mixes; script
groups come from the language registry (:mod:`cltbook.languages`), since they are facts about a
language rather than about an experiment.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from cltbook.languages import PAPER_ANCHOR, PAPER_SEEN, PAPER_UNSEEN, get_language

AVERAGE_COLUMNS = (
    "anchor",
    "seen_avg",
    "unseen_avg",
    "seen_unseen_avg",
    "latin_avg",
    "non_latin_avg",
    "all_avg",
)


def _check_roles(anchor: str, seen: Sequence[str], unseen: Sequence[str]) -> None:
    overlap = (set(seen) & set(unseen)) | ({anchor} & (set(seen) | set(unseen)))
    if overlap:
        raise ValueError(f"a language cannot have two roles: {sorted(overlap)}")
    if not seen or not unseen:
        raise ValueError("both the seen and the unseen language sets need at least one language")


def group_averages(
    df: pd.DataFrame,
    by: Sequence[str],
    anchor: str = PAPER_ANCHOR,
    seen: Sequence[str] = PAPER_SEEN,
    unseen: Sequence[str] = PAPER_UNSEEN,
) -> pd.DataFrame:
    """Per group: the anchor's score and the paper's language averages, one row per group.

    Columns: the ``by`` columns, then ``anchor`` (the anchor language's value), ``seen_avg``,
    ``unseen_avg``, ``seen_unseen_avg`` (all non-anchor languages: what the paper calls the
    "average across languages" when it compares with English), ``latin_avg`` and ``non_latin_avg``
    (non-anchor languages by script group), and ``all_avg`` (every language, anchor included: the
    tables' printed "Avg." row). Every group must hold exactly one value per language of the roles;
    a missing or repeated language raises, because a silently shorter average is a different number.
    """
    _check_roles(anchor, seen, unseen)
    non_anchor = [*seen, *unseen]
    languages = [anchor, *non_anchor]
    by = list(by)
    rows = df[df["language"].isin(languages)]
    repeated = rows.duplicated([*by, "language"])
    if repeated.any():
        first = rows.loc[repeated, [*by, "language"]].iloc[0].to_dict()
        raise ValueError(f"more than one value for one group and language, e.g. {first}")
    wide = rows.pivot(index=by, columns="language", values="value").reindex(columns=languages)
    holes = wide.isna().any()
    if holes.any():
        raise ValueError(f"groups lack a value for languages {list(holes.index[holes])}")
    script = {language: get_language(language).script_group for language in non_anchor}
    latin = [language for language in non_anchor if script[language] == "latin"]
    non_latin = [language for language in non_anchor if script[language] == "non_latin"]
    out = pd.DataFrame(
        {
            "anchor": wide[anchor],
            "seen_avg": wide[list(seen)].mean(axis=1),
            "unseen_avg": wide[list(unseen)].mean(axis=1),
            "seen_unseen_avg": wide[non_anchor].mean(axis=1),
            "latin_avg": wide[latin].mean(axis=1) if latin else np.nan,
            "non_latin_avg": wide[non_latin].mean(axis=1) if non_latin else np.nan,
            "all_avg": wide[languages].mean(axis=1),
        }
    )
    return out.reset_index()


def ratio(avg, anchor):
    """Average over anchor: the plain reading of "performance relative to English"."""
    return avg / anchor


def floor_adjusted_ratio(avg, anchor, floor):
    """(avg − floor) / (anchor − floor): the ratio of gains above the scale's floor.

    On the 1–5 judge scale a score of 1 is the floor (a wrong-language answer also scores 1), so a
    plain ratio credits every model with 1/anchor for free; subtracting the floor removes that
    credit. With ``floor=0`` (ROUGE-L, accuracy) it equals :func:`ratio`.
    """
    return (avg - floor) / (anchor - floor)


def difference(avg, anchor):
    """Anchor minus average, in the metric's own units: the English gap as a distance."""
    return anchor - avg


# Each candidate takes (avg, anchor, floor); only the floor-adjusted ratio uses the floor.
RELATIVE_TO_ANCHOR: dict[str, Callable] = {
    "ratio": lambda avg, anchor, floor: ratio(avg, anchor),
    "floor_adjusted_ratio": floor_adjusted_ratio,
    "difference": lambda avg, anchor, floor: difference(avg, anchor),
}

# The book uses the plain ratio of the non-anchor average to English because it is the one reading
# that reproduces the paper's own "gap to English" figures from its tables, as a change in points
# (6.8, 8.7, 12.3 and 14.7 in claims 1–2; see cltbook.report.published.gap_figure_readings, which a test
# pins); so our "Perf. to EN" stays comparable with the paper's plots.
BOOK_RELATIVE_DEFINITION = "ratio"


@dataclass(frozen=True)
class GapClosed:
    """Three readings of "multilingual data closes the gap to English by x%", all in percent.

    ``points``: change of the (floor-adjusted) ratio to the anchor, in percentage points.
    ``share_of_gap``: that change as a share of the baseline's distance to parity (ratio 1).
    ``relative_improvement``: best average over baseline average, minus one (anchor ignored).
    """

    points: float
    share_of_gap: float
    relative_improvement: float


def gap_closed(
    baseline_avg: float,
    baseline_anchor: float,
    best_avg: float,
    best_anchor: float,
    floor: float = 0.0,
) -> GapClosed:
    """How much a run closes the gap to the anchor compared with a baseline run, three ways.

    The paper's "closes the gap by 6.8%" does not say which; the audit shows all three. Scores are
    measured above ``floor`` (1 for the 1–5 judge scale, 0 for 0–1 metrics).
    """
    before = floor_adjusted_ratio(baseline_avg, baseline_anchor, floor)
    after = floor_adjusted_ratio(best_avg, best_anchor, floor)
    return GapClosed(
        points=100 * (after - before),
        share_of_gap=100 * (after - before) / (1 - before),
        relative_improvement=100 * ((best_avg - floor) / (baseline_avg - floor) - 1),
    )


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman's rho between seen and unseen averages across ``points`` mixture points."""

    rho: float
    p: float
    points: int


def spearman_seen_unseen(
    df_over_n: pd.DataFrame,
    over: str = "n_per_language",
    anchor: str = PAPER_ANCHOR,
    seen: Sequence[str] = PAPER_SEEN,
    unseen: Sequence[str] = PAPER_UNSEEN,
) -> RankCorrelation:
    """Do unseen languages rise where seen languages rise? Spearman across the points of ``over``.

    ``df_over_n`` holds one experiment (one value per language and mixture point). Rank correlation
    is used, as in the paper's Table 2, because only the ordering of runs is compared.
    """
    averages = group_averages(df_over_n, [over], anchor=anchor, seen=seen, unseen=unseen)
    result = stats.spearmanr(averages["seen_avg"], averages["unseen_avg"])
    return RankCorrelation(rho=float(result.statistic), p=float(result.pvalue), points=len(averages))


def samples_to_near_peak(n: Sequence[float], y: Sequence[float], tolerance: float) -> float:
    """The smallest n whose y is within ``tolerance`` of the best y: a model-free plateau point.

    Unlike :func:`samples_to_plateau` it needs no curve, so it also answers for the flat, noisy
    curves of large models; the price is that it depends on ``tolerance`` (in y's units).
    """
    n = np.asarray(n, dtype=float)
    y = np.asarray(y, dtype=float)
    return float(n[y >= y.max() - tolerance].min())


def fitted_change(n: Sequence[float], y: Sequence[float]) -> float:
    """Change of y across the grid, from a straight-line fit of y on log(1 + n).

    The mixture grids are roughly log-spaced (0, 100, 200, 400, …) and gains shrink as n grows, so
    log(1 + n) spreads the points evenly; using the fit rather than the two end points keeps one
    noisy run (a single checkpoint) from deciding the answer.
    """
    x = np.log1p(np.asarray(n, dtype=float))
    slope = np.polyfit(x, np.asarray(y, dtype=float), 1)[0]
    return float(slope * (x.max() - x.min()))


PLATEAU_SHARE = 0.95
# A fitted time constant whose standard error exceeds its value is not a measurement of where the
# curve bends; the data are then as consistent with a plateau at half the n as at twice it.
MAX_RELATIVE_SE_OF_SCALE = 1.0


@dataclass(frozen=True)
class PlateauFit:
    """A fit of y = a − b·exp(−n/c), or a refusal.

    ``n_plateau`` is the n at which the curve reaches ``PLATEAU_SHARE`` of its fitted gain b
    (n = c·ln(1/(1 − share))); it is NaN when the fit is refused, and ``refusal`` says why.
    """

    n_plateau: float
    a: float
    b: float
    c: float
    refusal: str | None = None

    @property
    def identified(self) -> bool:
        return self.refusal is None


def _refuse(reason: str, a: float = math.nan, b: float = math.nan, c: float = math.nan) -> PlateauFit:
    return PlateauFit(n_plateau=math.nan, a=a, b=b, c=c, refusal=reason)


def samples_to_plateau(n: Sequence[float], y: Sequence[float]) -> PlateauFit:
    """Samples per language after which extra data stops paying: a saturating-curve fit.

    Fits y = a − b·exp(−n/c) (a: plateau level, b: total gain, c: scale in samples) and returns
    the n where the fitted gain reaches ``PLATEAU_SHARE``. The fit is refused, with a reason, when
    it does not identify that point: fewer than four distinct n (three parameters leave no
    residual), no convergence, no gain (b ≤ 0), a scale c below the first non-zero n (the rise
    happens before any measured point, so only an upper bound is known) or above the largest n
    (the plateau lies beyond the data), or a scale whose standard error exceeds
    ``MAX_RELATIVE_SE_OF_SCALE`` × c.
    """
    n = np.asarray(n, dtype=float)
    y = np.asarray(y, dtype=float)
    if n.shape != y.shape:
        raise ValueError(f"n and y differ in length: {n.shape} vs {y.shape}")
    if (n < 0).any():
        raise ValueError("n counts samples and cannot be negative")
    if len(np.unique(n)) < 4:
        return _refuse(f"{len(np.unique(n))} distinct n: at least 4 are needed for 3 parameters")
    positive = np.unique(n[n > 0])
    start = (y.max(), y.max() - y[np.argmin(n)], float(np.median(positive)))
    try:
        with warnings.catch_warnings():
            # An inestimable covariance is reported below as an unidentified scale.
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            params, covariance = optimize.curve_fit(
                lambda x, a, b, c: a - b * np.exp(-x / c),
                n,
                y,
                p0=start,
                bounds=([-np.inf, -np.inf, 1e-9], [np.inf, np.inf, np.inf]),
                max_nfev=10_000,
            )
    except RuntimeError as error:
        return _refuse(f"the fit did not converge: {error}")
    a, b, c = (float(value) for value in params)
    if b <= 0:
        return _refuse(f"no gain to saturate: fitted b = {b:.3g} ≤ 0", a, b, c)
    if c < positive.min():
        return _refuse(
            f"scale c = {c:.3g} is below the first non-zero n ({positive.min():g}): the gain "
            "happens before any measured point",
            a,
            b,
            c,
        )
    if c > positive.max():
        return _refuse(f"scale c = {c:.3g} exceeds the largest n ({positive.max():g})", a, b, c)
    se_c = math.sqrt(covariance[2, 2]) if np.isfinite(covariance[2, 2]) else math.inf
    if se_c > MAX_RELATIVE_SE_OF_SCALE * c:
        return _refuse(f"scale c = {c:.3g} has standard error {se_c:.3g}: not identified", a, b, c)
    return PlateauFit(n_plateau=c * math.log(1 / (1 - PLATEAU_SHARE)), a=a, b=b, c=c)


def bootstrap_ci(
    values_by_item,
    statistic: Callable,
    n_boot: int = 2000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Percentile bootstrap (estimate, low, high) that respects how evaluation data are paired.

    ``values_by_item`` is an items × languages table (a DataFrame or a 2-D array) or a
    seeds × items × languages array. Items are resampled as whole rows, so one replicate keeps an
    item's scores in every language together (the test sets are parallel across languages, and
    resampling languages apart would break the correlation that seen-versus-unseen contrasts rely
    on); with a seed axis, seeds are resampled too and the same item rows are used for each seed.
    ``statistic`` maps a table of the input's shape to a number; for a DataFrame it receives a
    DataFrame with the same columns.

    An items × languages table goes through ``scipy.stats.bootstrap`` (percentile method), which
    resamples the item ids; the table's rows follow them. scipy resamples one axis at a time, so a
    table with a seed axis, where seeds and items are drawn independently, is resampled here.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    rng = np.random.default_rng(seed)
    is_frame = isinstance(values_by_item, pd.DataFrame)
    data = values_by_item if is_frame else np.asarray(values_by_item, dtype=float)
    if not is_frame and data.ndim not in (2, 3):
        raise ValueError(f"expected items × languages or seeds × items × languages, got {data.ndim}-D")
    # A numeric frame is resampled through its array (2-3x faster than .iloc, the same rows).
    numeric = is_frame and all(pd.api.types.is_numeric_dtype(dtype) for dtype in data.dtypes)
    values = data.to_numpy(dtype=float) if numeric else None

    def rows(items: np.ndarray) -> object:
        if numeric:
            return pd.DataFrame(values[items], columns=data.columns)
        if is_frame:
            return data.iloc[items].reset_index(drop=True)
        return data[items]

    if is_frame or data.ndim == 2:
        result = stats.bootstrap(
            (np.arange(data.shape[0]),),
            lambda items: statistic(rows(items)),
            n_resamples=n_boot,
            vectorized=False,
            confidence_level=level,
            method="percentile",
            rng=rng,
        )
        low, high = result.confidence_interval
        return float(statistic(data)), float(low), float(high)

    def resample() -> np.ndarray:
        items = rng.integers(0, data.shape[1], data.shape[1])
        seeds = rng.integers(0, data.shape[0], data.shape[0])
        return data[seeds][:, items]

    replicates = np.array([statistic(resample()) for _ in range(n_boot)], dtype=float)
    tail = (1 - level) / 2
    low, high = np.quantile(replicates, [tail, 1 - tail])
    return float(statistic(data)), float(low), float(high)
