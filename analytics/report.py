"""The monthly report a hospital director reads: the key figures with their definitions, as CSV or self-contained HTML.

`key_figures` is shared with the studio's dashboard so both say the same thing in the same words.
Numbers are written the French way (decimal comma, « % » after a space); the CSV uses `;` so that a
spreadsheet in French opens it in columns.
"""

from __future__ import annotations

import base64
import calendar
import csv
import datetime as dt
import io
from dataclasses import dataclass

from jinja2 import Environment

from analytics.indicators import Indicators
from analytics.labels import reason_label
from analytics.plots import PLOTS, outcome_label, plot_alt, plot_png
from core import catalogue

ALL_CHANNELS = "tous les canaux"


@dataclass(frozen=True)
class KeyFigure:
    """One headline number: its French label, its value as written, and its definition in one sentence."""

    key: str
    label: str
    value: str
    definition: str


def number(value: float, decimals: int = 0) -> str:
    """A number the French way: 1 607 ; 0,5."""
    text = f"{value:,.{decimals}f}".replace(",", " ").replace(".", ",")
    return text


def percent(rate: float | None) -> str:
    """A rate as « 42,9 % », or « — » when it has no denominator."""
    return "—" if rate is None else f"{number(100 * rate, 1)} %"


def channel_label(channel: str | None) -> str:
    """"site web" for the group "web"; "tous les canaux" for none."""
    return catalogue.channel_label(channel) if channel else ALL_CHANNELS


def period_label(ind: Indicators) -> str:
    last = ind.end - dt.timedelta(days=1)
    return f"du {ind.start:%d/%m/%Y} au {last:%d/%m/%Y} inclus"


def key_figures(ind: Indicators) -> list[KeyFigure]:
    """The headline figures, in the order the dashboard and the report show them."""
    return [
        KeyFigure(
            "conversations",
            "Conversations",
            number(ind.conversations),
            "Conversations commencées pendant la période (sur le canal choisi).",
        ),
        KeyFigure(
            "containment",
            "Taux de résolution",
            percent(ind.containment_rate),
            f"Part des conversations avec un motif ({ind.with_reason}) qui ont reçu une réponse, sans transfert ni rappel, "
            "et sans que la personne recontacte pour le même motif dans les 7 jours.",
        ),
        KeyFigure(
            "recontact",
            "Taux de recontact",
            percent(ind.recontact_rate),
            f"Part des conversations avec un motif suivies, dans les 7 jours, d'une autre conversation de la même personne "
            f"pour le même motif ({ind.recontacts} sur {ind.with_reason}).",
        ),
        KeyFigure(
            "fallback",
            "Taux d'incompréhension",
            percent(ind.fallback_rate),
            f"Part des messages des patients que l'assistant n'a pas compris ({ind.fallbacks} sur {ind.turns}).",
        ),
        KeyFigure(
            "handover",
            "Taux de transfert",
            percent(ind.handover_rate),
            "Part des conversations transférées à un humain ou terminées par une demande de rappel "
            f"({ind.handovers} sur {ind.conversations}).",
        ),
        KeyFigure(
            "satisfaction",
            "Satisfaction",
            percent(ind.satisfaction_rate),
            "Part de « oui » à la question « Cette réponse vous a-t-elle aidé ? » "
            f"({ind.satisfaction_yes} oui, {ind.satisfaction_no} non).",
        ),
        KeyFigure(
            "calls_avoided",
            "Appels évités",
            number(ind.calls_avoided),
            "Conversations résolues par l'assistant (voir le taux de résolution) : "
            "autant d'appels que le standard n'a pas eu à traiter.",
        ),
        KeyFigure(
            "etp_saved",
            "ETP économisés",
            number(ind.etp_saved, 4),
            f"Appels évités × {number(ind.handling_minutes, 1)} min de traitement d'un appel = {number(ind.hours_saved, 2)} h, "
            f"divisées par {number(ind.etp_hours)} h de travail par an d'un équivalent temps plein.",
        ),
    ]


def detail_rows(ind: Indicators) -> list[tuple[str, str]]:
    """The detailed indicators as (French label, value) rows, after the key figures."""
    rows: list[tuple[str, str]] = [
        ("Conversations avec un motif", number(ind.with_reason)),
        ("Conversations résolues", number(ind.contained)),
        ("Conversations suivies d'un recontact", number(ind.recontacts)),
        ("Messages des patients", number(ind.turns)),
        ("Messages non compris", number(ind.fallbacks)),
        ("Transferts et demandes de rappel", number(ind.handovers)),
        ("Réponses « oui »", number(ind.satisfaction_yes)),
        ("Réponses « non »", number(ind.satisfaction_no)),
        ("Durée de traitement d'un appel (min)", number(ind.handling_minutes, 1)),
        ("Heures de travail par an d'un ETP", number(ind.etp_hours)),
        ("Heures économisées", number(ind.hours_saved, 2)),
    ]
    rows += [(f"Motif : {reason_label(reason)}", number(n)) for reason, n in ind.top_reasons]
    rows += [(f"Issue : {outcome_label(o)}", number(n)) for o, n in sorted(ind.outcomes.items(), key=lambda item: -item[1])]
    rows += [(f"Transferts vers le service : {s}", number(n)) for s, n in ind.handovers_by_service.items()]
    rows += [(f"Transferts pour le motif : {reason_label(i)}", number(n)) for i, n in ind.handovers_by_intent.items()]
    rows += [(f"Satisfaction du motif : {reason_label(i)}", percent(r)) for i, r in ind.satisfaction_by_intent.items()]
    rows += [
        (
            f"Irritant : {reason_label(i.intent)}",
            f"{i.total} ({i.fallbacks} incompréhensions, {i.negative_answers} « non », "
            f"{i.recontacts} recontacts, {i.handovers} transferts)",
        )
        for i in ind.irritants
    ]
    rows += [(f"Conversations le {day}", number(ind.volume_by_weekday.get(d, 0))) for d, day in enumerate(WEEKDAY_NAMES)]
    rows += [(f"Conversations entre {h} h et {h + 1} h", number(ind.volume_by_hour.get(h, 0))) for h in range(24)]
    return rows


WEEKDAY_NAMES = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]


def report_csv(ind: Indicators) -> str:
    """One indicator per row: « indicateur;valeur;définition », period and channel first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(["indicateur", "valeur", "définition"])
    writer.writerow(["Début de la période", f"{ind.start:%d/%m/%Y}", "Premier jour inclus (heure locale de l'hôpital)."])
    writer.writerow(["Fin de la période", f"{ind.end - dt.timedelta(days=1):%d/%m/%Y}", "Dernier jour inclus."])
    writer.writerow(["Canal", channel_label(ind.channel), ""])
    for figure in key_figures(ind):
        writer.writerow([figure.label, figure.value, figure.definition])
    for label, value in detail_rows(ind):
        writer.writerow([label, value, ""])
    return buffer.getvalue()


HTML = """<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, sans-serif; color: #1d2329; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
.muted { color: #5a636b; }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(13rem, 1fr)); gap: .75rem; margin: 1.5rem 0; }
.figure { border: 1px solid #d5dade; border-radius: 6px; padding: .75rem; }
.figure .label { font-weight: 600; margin: 0; }
.figure .value { font-size: 1.6rem; font-weight: 700; margin: .2rem 0; }
.figure .definition { font-size: .85rem; color: #5a636b; margin: 0; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
caption { text-align: left; font-weight: 600; padding: .4rem 0; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #d5dade; }
td.n { text-align: right; }
img { max-width: 100%; height: auto; display: block; margin: 1rem 0; }
@media print { .figure { break-inside: avoid; } img { break-inside: avoid; } }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="muted">Période {{ period }} · {{ channel }} · rapport produit le {{ generated }}{% if hospital %} · {{ hospital }}{% endif %}</p>
<section class="figures" aria-label="Chiffres clés">
{% for f in figures %}<div class="figure"><p class="label">{{ f.label }}</p><p class="value">{{ f.value }}</p><p class="definition">{{ f.definition }}</p></div>
{% endfor %}</section>
<h2>Volume et motifs</h2>
{% for p in plots %}<img src="data:image/png;base64,{{ p.data }}" alt="{{ p.alt }}">
{% endfor %}
<table>
<caption>Principaux motifs de contact</caption>
<thead><tr><th scope="col">Motif</th><th scope="col">Conversations</th></tr></thead>
<tbody>{% for reason, n in ind.top_reasons %}<tr><td>{{ reason | motif }}</td><td class="n">{{ n }}</td></tr>{% else %}<tr><td colspan="2">Aucune conversation avec un motif.</td></tr>{% endfor %}</tbody>
</table>
<h2>Irritants</h2>
<p class="muted">Motifs classés par total des incompréhensions, des réponses « non », des recontacts et des transferts.</p>
<table>
<caption>Irritants</caption>
<thead><tr><th scope="col">Motif</th><th scope="col">Incompréhensions</th><th scope="col">« Non »</th><th scope="col">Recontacts</th><th scope="col">Transferts</th><th scope="col">Total</th></tr></thead>
<tbody>{% for i in ind.irritants %}<tr><td>{{ i.intent | motif }}</td><td class="n">{{ i.fallbacks }}</td><td class="n">{{ i.negative_answers }}</td><td class="n">{{ i.recontacts }}</td><td class="n">{{ i.handovers }}</td><td class="n">{{ i.total }}</td></tr>{% else %}<tr><td colspan="6">Aucun irritant sur la période.</td></tr>{% endfor %}</tbody>
</table>
<h2>Transferts</h2>
<table>
<caption>Transferts et demandes de rappel par service</caption>
<thead><tr><th scope="col">Service</th><th scope="col">Transferts</th></tr></thead>
<tbody>{% for s, n in ind.handovers_by_service.items() %}<tr><td>{{ s }}</td><td class="n">{{ n }}</td></tr>{% else %}<tr><td colspan="2">Aucun transfert.</td></tr>{% endfor %}</tbody>
</table>
<table>
<caption>Transferts et demandes de rappel par motif</caption>
<thead><tr><th scope="col">Motif</th><th scope="col">Transferts</th></tr></thead>
<tbody>{% for s, n in ind.handovers_by_intent.items() %}<tr><td>{{ s | motif }}</td><td class="n">{{ n }}</td></tr>{% else %}<tr><td colspan="2">Aucun transfert.</td></tr>{% endfor %}</tbody>
</table>
<h2>Détail</h2>
<table>
<caption>Tous les indicateurs</caption>
<thead><tr><th scope="col">Indicateur</th><th scope="col">Valeur</th></tr></thead>
<tbody>{% for label, value in details %}<tr><td>{{ label }}</td><td class="n">{{ value }}</td></tr>{% endfor %}</tbody>
</table>
</body>
</html>
"""

_ENVIRONMENT = Environment(autoescape=True)
_ENVIRONMENT.filters["motif"] = reason_label
_TEMPLATE = _ENVIRONMENT.from_string(HTML)


def report_html(ind: Indicators, *, hospital: str | None = None, generated: dt.datetime | None = None) -> str:
    """A self-contained French HTML page (styles inline, plots as data: URIs, no external resource)."""
    plots = [{"data": base64.b64encode(plot_png(name, ind)).decode("ascii"), "alt": plot_alt(name, ind)} for name in PLOTS]
    return _TEMPLATE.render(
        title="Rapport d'activité de l'assistant Accueil",
        period=period_label(ind),
        channel=channel_label(ind.channel),
        generated=f"{generated or dt.datetime.now():%d/%m/%Y à %H:%M}",
        hospital=hospital,
        figures=key_figures(ind),
        plots=plots,
        ind=ind,
        details=detail_rows(ind),
    )


class PeriodError(ValueError):
    """A period the report cannot cover; its message is French, for the user."""


def parse_day(text: str, option: str) -> dt.datetime:
    """A day written AAAA-MM-JJ, as the local midnight that starts it."""
    try:
        return dt.datetime.combine(dt.date.fromisoformat(text), dt.time())
    except ValueError:
        raise PeriodError(
            f"Date invalide pour {option} : « {text} » (format attendu AAAA-MM-JJ, par exemple 2026-11-01)."
        ) from None


def last_full_month(today: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[first day of the previous month, first day of this month), local midnights."""
    end = dt.datetime(today.year, today.month, 1)
    previous = end - dt.timedelta(days=1)
    return dt.datetime(previous.year, previous.month, 1), end


def _shift_months(day: dt.datetime, months: int) -> dt.datetime:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return day.replace(year=year, month=month + 1, day=min(day.day, calendar.monthrange(year, month + 1)[1]))


def report_period(today: dt.date, start: str | None, end: str | None) -> tuple[dt.datetime, dt.datetime]:
    """The period of `--from`/`--to` (end excluded).

    The last full month by default, or one calendar month from/to the only day given.
    """
    default_start, default_end = last_full_month(today)
    first = parse_day(start, "--from") if start else None
    last = parse_day(end, "--to") if end else None
    if first is None and last is None:
        return default_start, default_end
    if first is None:
        first = _shift_months(last, -1)
    if last is None:
        last = _shift_months(first, 1)
    if last <= first:
        raise PeriodError(f"La fin de la période (--to {last:%Y-%m-%d}) doit être après son début (--from {first:%Y-%m-%d}).")
    return first, last
