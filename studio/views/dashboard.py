"""The dashboard: the indicators of a period and channel (key figures, plots, tables) and the report download."""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field

from flask import Blueprint, Response, abort, render_template, request, url_for
from sqlalchemy.exc import SQLAlchemyError

from analytics.indicators import Indicators, indicators
from analytics.labels import reason_label
from analytics.plots import PLOTS, outcome_label, plot_alt, plot_png
from analytics.projection import project, projected_up_to
from analytics.report import channel_label, key_figures, period_label, report_csv, report_html
from core.catalogue import CHANNEL_GROUPS
from studio.web import current_settings

bp = Blueprint("dashboard", __name__, url_prefix="/tableau-de-bord")
bp.add_app_template_filter(reason_label, "motif")

DEFAULT_DAYS = 30
CHANNEL_CHOICES = {"": "Tous les canaux"} | {group: channel_label(group).capitalize() for group in CHANNEL_GROUPS}
PLOT_TITLES = {
    "heures": "Volume par heure",
    "jours": "Volume par jour de la semaine",
    "motifs": "Principaux motifs",
    "issues": "Issue des conversations",
    "satisfaction": "Satisfaction par motif",
}
DATABASE_ERROR = (
    "Les conversations n'ont pas pu être lues (erreur de base de données). Réessayez ou prévenez l'équipe informatique."
)


@dataclass
class DashboardQuery:
    """The form's values as typed (kept on error), and once valid the period [start, end) and parameters."""

    values: dict[str, str]
    errors: dict[str, str] = field(default_factory=dict)
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    channel: str | None = None
    handling_minutes: float | None = None
    etp_hours: float | None = None

    def params(self) -> dict[str, str]:
        """The query string that gives the same indicators (for the plots and the report links)."""
        return {name: value for name, value in self.values.items() if value}


def _positive(text: str, label: str, errors: dict[str, str], name: str) -> float | None:
    try:
        value = float(text.replace(",", ".").strip())
    except ValueError:
        errors[name] = f"{label} : « {text} » n'est pas un nombre."
        return None
    if not value > 0 or value != value or value == float("inf"):
        errors[name] = f"{label} doit être un nombre positif."
        return None
    return value


def read_query(args, today: dt.date, settings) -> DashboardQuery:
    """The dashboard's parameters from the query string; the last 30 days and the configured ETP values by default."""
    values = {
        "du": args.get("du", (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat()),
        "au": args.get("au", today.isoformat()),
        "canal": args.get("canal", ""),
        "duree": args.get("duree", _plain(settings.analytics_handling_minutes)),
        "etp": args.get("etp", _plain(settings.analytics_etp_hours)),
    }
    query = DashboardQuery(values)
    days = {}
    for name, label in (("du", "Date de début"), ("au", "Date de fin")):
        try:
            days[name] = dt.date.fromisoformat(values[name].strip())
        except ValueError:
            query.errors[name] = f"{label} : « {values[name]} » n'est pas une date (format attendu AAAA-MM-JJ)."
    if len(days) == 2 and days["au"] < days["du"]:
        query.errors["au"] = "La date de fin doit être le même jour ou après la date de début."
    if values["canal"] not in CHANNEL_CHOICES:
        query.errors["canal"] = f"Canal inconnu : « {values['canal']} »."
    query.handling_minutes = _positive(values["duree"], "Durée moyenne d'un appel", query.errors, "duree")
    query.etp_hours = _positive(values["etp"], "Heures annuelles d'un ETP", query.errors, "etp")
    if not query.errors:
        query.start = dt.datetime.combine(days["du"], dt.time())
        query.end = dt.datetime.combine(days["au"] + dt.timedelta(days=1), dt.time())
        query.channel = values["canal"] or None
    return query


def _plain(value: float) -> str:
    return f"{value:g}"


# The page and its five plots ask for the same indicators within a second: computed once, kept until new
# conversations are projected or for CACHE_SECONDS (a purge run elsewhere leaves the projection's mark as it is).
CACHE_SECONDS = 60
_cache: dict[tuple, tuple[float, Indicators]] = {}
_cache_lock = threading.Lock()


def _compute(query: DashboardQuery) -> Indicators:
    settings = current_settings()
    project(settings)
    up_to = projected_up_to(settings)
    key = (settings.db_url, query.start, query.end, query.channel, query.handling_minutes, query.etp_hours, up_to)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
    result = indicators(
        settings, query.start, query.end, query.channel, handling_minutes=query.handling_minutes, etp_hours=query.etp_hours
    )
    with _cache_lock:
        for stale in [k for k, (at, _) in _cache.items() if now - at >= CACHE_SECONDS]:
            del _cache[stale]
        _cache[key] = (now, result)
    return result


def _valid_query() -> DashboardQuery:
    settings = current_settings()
    query = read_query(request.args, settings.now().date(), settings)
    if query.errors:
        abort(400)
    return query


@bp.get("/")
def index():
    settings = current_settings()
    query = read_query(request.args, settings.now().date(), settings)
    result, problem = None, None
    if not query.errors:
        try:
            result = _compute(query)
        except SQLAlchemyError:
            problem = DATABASE_ERROR
    status = 400 if query.errors else (500 if problem else 200)
    plots = []
    if result is not None:
        plots = [
            {
                "title": PLOT_TITLES[name],
                "src": url_for("dashboard.plot", name=name, **query.params()),
                "alt": plot_alt(name, result),
            }
            for name in PLOTS
        ]
    return (
        render_template(
            "dashboard/index.html",
            query=query,
            channels=CHANNEL_CHOICES,
            result=result,
            problem=problem,
            figures=key_figures(result) if result else [],
            period=period_label(result) if result else "",
            channel=channel_label(result.channel) if result else "",
            plots=plots,
            outcome_label=outcome_label,
            html_url=url_for("dashboard.report", fmt="html", **query.params()),
            csv_url=url_for("dashboard.report", fmt="csv", **query.params()),
        ),
        status,
    )


@bp.get("/graphique/<name>.png")
def plot(name: str):
    if name not in PLOTS:
        abort(404)
    try:
        png = plot_png(name, _compute(_valid_query()))
    except SQLAlchemyError:
        abort(500)
    return Response(png, mimetype="image/png", headers={"Cache-Control": "no-store"})


@bp.get("/rapport.<fmt>")
def report(fmt: str):
    if fmt not in ("html", "csv"):
        abort(404)
    query = _valid_query()
    try:
        result = _compute(query)
    except SQLAlchemyError:
        abort(500)
    name = f"rapport-accueil-{query.start:%Y-%m-%d}-{query.end - dt.timedelta(days=1):%Y-%m-%d}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    if fmt == "csv":
        return Response("\ufeff" + report_csv(result), mimetype="text/csv", headers=headers)
    # The report is self-contained: its styles are inline and its plots are data: URIs; it runs no script.
    headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return Response(report_html(result, generated=current_settings().now()), mimetype="text/html", headers=headers)
