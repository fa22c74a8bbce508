"""How every figure and table of the book draws the same things the same way.

One colour-blind-safe palette; one label and one colour per language group (English, the seen and
unseen languages of the paper's mix, the paper's script groups), whichever chapter averages over
it; one colour per kind of verdict, shared by the book's three vocabularies of verdicts (the
guidelines', the scorecard's and the published tables' audit), which each map their own words to
these colours beside the function that says them; and the forest plot in which the book shows a
list of estimates with their 95% intervals.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.colors
import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from cltbook.report.analysis import LANGUAGE_GROUPS

PALETTE = "colorblind"  # one colour-blind-safe palette for every figure

_GROUP_NAMES = {
    "seen": "seen",
    "unseen": "unseen",
    "seen+unseen": "seen and unseen",
    "latin": "Latin",
    "non_latin": "non-Latin",
}


def set_style() -> None:
    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook")


def group_label(group: str, languages: Sequence[str]) -> str:
    """ "English" for the anchor, else the group's name and its languages: "seen (es, fr, ja, zh)"."""
    if group == "anchor":
        return "English"
    if group not in _GROUP_NAMES:
        raise ValueError(f"language group {group!r}: expected 'anchor' or one of {sorted(_GROUP_NAMES)}")
    return f"{_GROUP_NAMES[group]} ({', '.join(languages)})"


# The language groups of the paper's mix (keys of analysis.LANGUAGE_GROUPS): English, seen and
# unseen take the palette's first three colours, the order in which every figure lists them; the
# script groups take two that no role's colour resembles (the fourth, vermilion, is close to
# the seen languages' orange).
GROUP_LABELS = {group: group_label(group, languages) for group, languages in LANGUAGE_GROUPS.items()}
_GROUP_PALETTE_INDEX = {"anchor": 0, "seen": 1, "unseen": 2, "latin": 4, "non_latin": 5}
GROUP_COLOURS = {group: sns.color_palette(PALETTE).as_hex()[i] for group, i in _GROUP_PALETTE_INDEX.items()}

# One colour per kind of verdict: the finding holds, fails, holds in part, is open (the interval
# includes 0, or no contrast tests it), or has no evidence at all.
HOLDS, FAILS, PARTLY, OPEN, ABSENT = "#1b7837", "#b2182b", "#e08214", "#7f7f7f", "#bdbdbd"


def tint(colour: str, strength: float = 0.25) -> str:
    """``colour`` mixed with white, ``strength`` of it kept: a table cell's background that reads
    as the colour a figure gives the same verdict."""
    red, green, blue = matplotlib.colors.to_rgb(colour)
    return matplotlib.colors.to_hex([1 - strength * (1 - c) for c in (red, green, blue)])


def verdicts_styled(table: pd.DataFrame, colours: dict[str, str], column: str = "verdict"):
    """``table`` as the book shows verdicts: no index, text left and top, line breaks kept, and the
    ``column`` cells tinted with their verdict's colour (``colours``: verdict -> colour)."""
    unknown = set(table[column]) - set(colours)
    if unknown:
        raise ValueError(f"verdicts {sorted(unknown)} have no colour (known: {sorted(colours)})")
    return (
        table.style.hide(axis="index")
        .map(lambda verdict: f"background-color: {tint(colours[verdict])}", subset=[column])
        .set_properties(**{"text-align": "left", "white-space": "pre-line", "vertical-align": "top"})
    )


FOREST_COLUMNS = ("label", "value", "low", "high", "colour")


def forest(rows: pd.DataFrame, legend: dict[str, str], xlabel: str, separate_by: str | None = None):
    """Estimates with their 95% intervals, a point on a line each, and a line at 0; a row without an
    interval (``low`` or ``high`` NaN) is a cross at 0.

    ``rows`` has the columns :data:`FOREST_COLUMNS`: ``label`` names a line of the figure, from the
    top in the order labels first appear, and rows with the same label share it, side by side
    (such as one contrast on several language groups); ``colour`` draws the row. ``legend`` maps
    each legend entry to its colour. With ``separate_by`` (a column of ``rows``), a dotted line
    separates consecutive lines that differ in it.
    """
    missing = set(FOREST_COLUMNS) - set(rows.columns)
    if missing:
        raise ValueError(f"forest rows lack columns {sorted(missing)}")
    if rows.empty:
        raise ValueError("no estimates to plot: the table is empty")
    rows = rows.reset_index(drop=True)
    labels = list(dict.fromkeys(rows["label"]))
    line = rows["label"].map({label: i for i, label in enumerate(labels)})
    rank, size = rows.groupby(line).cumcount(), line.map(line.value_counts())
    rows = rows.assign(y=line + (rank - (size - 1) / 2) * 0.8 / size)
    fig, ax = plt.subplots(figsize=(9.5, 0.22 * len(rows) + 0.16 * len(labels) + 1.2))
    for row in rows.itertuples():
        if pd.isna(row.low) or pd.isna(row.high):
            ax.plot(0, row.y, marker="x", color=row.colour)
            continue
        ax.plot([row.low, row.high], [row.y, row.y], color=row.colour, linewidth=2)
        ax.plot(row.value, row.y, marker="o", markersize=4, color=row.colour)
    ax.axvline(0, color="black", linewidth=0.8)
    if separate_by is not None:
        first = rows.drop_duplicates("label").reset_index(drop=True)
        for i in range(1, len(first)):
            if first.loc[i, separate_by] != first.loc[i - 1, separate_by]:
                ax.axhline(i - 0.5, color="grey", linewidth=0.6, linestyle=":")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -0.5)  # the first line on top
    ax.grid(False, axis="y")
    ax.set_xlabel(xlabel)
    handles = [
        plt.Line2D([], [], color=colour, marker="o", linestyle="-", label=name) for name, colour in legend.items()
    ]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1))  # never over a row
    fig.tight_layout()
    return fig
