"""The dashboard's and the monthly report's plots: matplotlib figures (Agg, no pyplot) rendered as PNG bytes.

Each plot has a French title, French axis labels and a French text alternative (`alt`), and uses the
colour-blind-safe Okabe-Ito palette with the values written on the bars.
"""

from __future__ import annotations

import io
from typing import Callable

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from analytics.indicators import Indicators  # noqa: E402
from analytics.labels import reason_label  # noqa: E402
from core.catalogue import ABANDONED, ANSWERED, CALLBACK, EMERGENCY, HANDED_OVER, OUTCOME_LABELS  # noqa: E402

BLUE, ORANGE, GREEN, VERMILION, SKY, PURPLE, GREY = "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#6B747D"
WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
OUTCOME_COLOURS = {ANSWERED: GREEN, HANDED_OVER: BLUE, CALLBACK: SKY, ABANDONED: GREY, EMERGENCY: VERMILION}


def outcome_label(outcome: str) -> str:
    return OUTCOME_LABELS.get(outcome, outcome)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return buffer.getvalue()


def _figure(title: str, width: float = 7.5, height: float = 3.2):
    figure = Figure(figsize=(width, height))
    axes = figure.add_subplot()
    axes.set_title(title, fontsize=12, loc="left")
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _columns(title: str, labels: list[str], values: list[float], colour: str, ylabel: str, *, xlabel: str | None = None) -> bytes:
    figure, axes = _figure(title)
    bars = axes.bar(range(len(labels)), values, color=colour)
    axes.set_xticks(range(len(labels)), labels, fontsize=9)
    if xlabel:
        axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.bar_label(bars, labels=[str(v) if v else "" for v in values], fontsize=8)
    return _png(figure)


def _rows(
    title: str,
    labels: list[str],
    values: list[float],
    colours,
    xlabel: str,
    texts: list[str] | None = None,
    limit: float | None = None,
) -> bytes:
    figure, axes = _figure(title, height=max(1.6, 0.45 * len(labels) + 1))
    if not labels:
        axes.text(0.5, 0.5, "Aucune donnée sur la période", ha="center", va="center", transform=axes.transAxes)
        axes.set_axis_off()
        return _png(figure)
    positions = range(len(labels))
    bars = axes.barh(positions, values, color=colours)
    axes.set_yticks(positions, labels, fontsize=9)
    axes.invert_yaxis()
    axes.set_xlabel(xlabel)
    if limit is not None:
        axes.set_xlim(0, limit)
    else:
        axes.xaxis.get_major_locator().set_params(integer=True)
    axes.bar_label(bars, labels=texts or [str(v) for v in values], fontsize=8, padding=2)
    return _png(figure)


def volume_by_hour(ind: Indicators) -> bytes:
    hours = list(range(24))
    return _columns(
        "Conversations par heure de la journée (heure de début)",
        [str(h) for h in hours],
        [ind.volume_by_hour.get(h, 0) for h in hours],
        BLUE,
        "conversations",
        xlabel="heure (h)",
    )


def volume_by_weekday(ind: Indicators) -> bytes:
    values = [ind.volume_by_weekday.get(d, 0) for d in range(7)]
    return _columns("Conversations par jour de la semaine", WEEKDAYS, values, BLUE, "conversations")


def top_reasons(ind: Indicators) -> bytes:
    labels = [reason_label(reason) for reason, _ in ind.top_reasons]
    return _rows("Principaux motifs de contact", labels, [n for _, n in ind.top_reasons], ORANGE, "conversations")


def outcomes(ind: Indicators) -> bytes:
    items = sorted(ind.outcomes.items(), key=lambda item: -item[1])
    labels = [outcome_label(o) for o, _ in items]
    colours = [OUTCOME_COLOURS.get(o, PURPLE) for o, _ in items]
    return _rows("Issue des conversations", labels, [n for _, n in items], colours, "conversations")


def satisfaction(ind: Indicators) -> bytes:
    items = list(ind.satisfaction_by_intent.items())
    values = [round(100 * rate) for _, rate in items]
    figure_png = _rows(
        "Satisfaction par motif (part de « oui »)",
        [reason_label(intent) for intent, _ in items],
        values,
        [GREEN if v >= 50 else VERMILION for v in values],
        "% de « oui »",
        texts=[f"{v} %" for v in values],
        limit=110,
    )
    return figure_png


def _describe(counts: list[tuple[str, int]]) -> str:
    shown = [f"{label} : {n}" for label, n in counts if n]
    return " ; ".join(shown) if shown else "aucune donnée"


PLOTS: dict[str, tuple[Callable[[Indicators], bytes], Callable[[Indicators], str]]] = {
    "heures": (
        volume_by_hour,
        lambda ind: (
            "Histogramme des conversations par heure. "
            + _describe([(f"{h} h", n) for h, n in sorted(ind.volume_by_hour.items())])
        ),
    ),
    "jours": (
        volume_by_weekday,
        lambda ind: (
            "Histogramme des conversations par jour de la semaine. "
            + _describe([(WEEKDAYS[d], n) for d, n in sorted(ind.volume_by_weekday.items())])
        ),
    ),
    "motifs": (
        top_reasons,
        lambda ind: "Barres des principaux motifs de contact. " + _describe([(reason_label(r), n) for r, n in ind.top_reasons]),
    ),
    "issues": (
        outcomes,
        lambda ind: "Barres des issues des conversations. " + _describe([(outcome_label(o), n) for o, n in ind.outcomes.items()]),
    ),
    "satisfaction": (
        satisfaction,
        lambda ind: (
            "Barres de la part de « oui » par motif. "
            + (" ; ".join(f"{reason_label(i)} : {round(100 * r)} %" for i, r in ind.satisfaction_by_intent.items()) or "aucune réponse")
        ),
    ),
}


def plot_png(name: str, ind: Indicators) -> bytes:
    """The PNG of the plot `name` (a key of PLOTS); KeyError if unknown."""
    return PLOTS[name][0](ind)


def plot_alt(name: str, ind: Indicators) -> str:
    """The French text alternative of the plot `name`: what it shows, with its values."""
    return PLOTS[name][1](ind)
