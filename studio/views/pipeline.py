"""The pipeline page: validate → train → evaluate → compare → gate, then deploy or roll back, as background jobs.

The jobs (studio.jobs) run the steps of the deployment flow the app was given (studio/flow.py, owned by
accueil/release.py); the page shows the production model, the latest job with its
progress (studio/static/pipeline.js polls its JSON every second), its results (per-intent F1 against production,
the confusion matrix, the verdict) and the history of the production model.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from core.settings import Settings
from studio import jobs
from studio.audit import audit
from studio.flow import DeploymentFlow, current_flow
from studio.web import current_settings

bp = Blueprint("pipeline", __name__, url_prefix="/pipeline")

PIPELINE_KINDS = ("build", "deploy", "rollback")
KIND_LABELS = {"build": "Vérification et entraînement", "deploy": "Déploiement", "rollback": "Retour au modèle précédent"}
STARTED = {"build": "Vérification et entraînement lancés", "deploy": "Déploiement lancé", "rollback": "Retour au modèle précédent lancé"}
PROBLEMS = "Les données d'entraînement ont des problèmes : rien n'a été entraîné."
CONFUSION_MATRIX = "intent_confusion_matrix.png"


# --- The jobs --------------------------------------------------------------------------------------------


def build_work(flow: DeploymentFlow):
    """Validate, train (fine-tune or full), evaluate, compare with production, gate."""

    def work(context: jobs.JobContext) -> jobs.Outcome:
        built = flow.build(context.settings, context.folder, context)
        if built.problems:
            return jobs.Outcome(built.as_dict(), status="failed", error=PROBLEMS)
        return jobs.Outcome(built.as_dict(), status="succeeded" if built.passed else "refused")

    return work


def deploy_work(flow: DeploymentFlow, model: Path, username: str):
    def work(context: jobs.JobContext) -> jobs.Outcome:
        result = flow.deploy(context.settings, model, username, out_dir=context.folder, progress=context)
        data = {
            "model_name": model.name,
            "deployed": result.deployed,
            "loaded": result.loaded,
            "message": result.message,
            "verdict": result.verdict.as_dict() if result.verdict else None,
        }
        return jobs.Outcome(data, status="succeeded" if result.deployed else "refused")

    return work


def rollback_work(flow: DeploymentFlow, username: str):
    def work(context: jobs.JobContext) -> dict:
        result = flow.rollback(context.settings, username, progress=context)
        return {"model_name": result.deployment.name, "deployed": True, "loaded": result.loaded, "message": result.message}

    return work


# --- What the page shows ---------------------------------------------------------------------------------


def intent_rows(result: dict) -> list[dict]:
    """The per-intent F1 table: candidate against production, drops of more than a point first."""
    candidate = (result.get("candidate") or {}).get("per_intent_f1") or {}
    production = (result.get("production") or {}).get("per_intent_f1") or {}
    rows = []
    for intent in sorted(set(candidate) | set(production)):
        new, old = candidate.get(intent), production.get(intent)
        delta = None if new is None or old is None else new - old
        rows.append({"intent": intent, "production": old, "candidate": new, "delta": delta, "drop": delta is not None and delta < -0.01})
    return sorted(rows, key=lambda row: (not row["drop"], row["intent"]))


def comparison_rows(result: dict, flow: DeploymentFlow) -> list[dict]:
    """The global figures of the candidate against production, formatted for the page."""
    candidate, production = result.get("candidate") or {}, result.get("production") or {}
    helpers = _format_helpers(None, flow)
    rows = []
    for key, label in flow.figure_labels:
        new, old = candidate.get(key), production.get(key)
        rows.append(
            {
                "label": label[0].upper() + label[1:],
                "production": helpers["f1"](old),
                "candidate": helpers["f1"](new),
                "delta": helpers["delta"](None if new is None or old is None else new - old),
            }
        )
    misses, checked = candidate.get("emergency_misses"), candidate.get("emergency_checked")
    recognised = "—" if misses is None else f"{checked - len(misses)} sur {checked}"
    rows.append({"label": "Phrases d'urgence vitale reconnues", "production": "—", "candidate": recognised, "delta": ""})

    def conversations(figures: dict) -> str:
        return "—" if figures.get("conversations") is None else f"{figures['conversations_ok']} sur {figures['conversations']}"

    rows.append({"label": "Conversations de test réussies", "production": conversations(production), "candidate": conversations(candidate), "delta": ""})
    return rows


def _production_view(settings: Settings, flow: DeploymentFlow) -> dict:
    production = flow.current(settings)
    return {
        "production": production,
        "previous": flow.previous(settings),
        "changed": production is not None and flow.data_changed(settings),
        "history": flow.history(settings, limit=50),
    }


def _format_helpers(settings: Settings | None, flow: DeploymentFlow) -> dict:
    def when(moment) -> str:
        return jobs.local_time(settings, moment).strftime("%d/%m/%Y à %H:%M") if moment and settings else ""

    def f1(value) -> str:
        return "—" if value is None else f"{value:.3f}".replace(".", ",")

    def delta(value) -> str:
        return "—" if value is None else flow.points(value)

    return {"when": when, "f1": f1, "delta": delta}


@bp.before_request
def require_flow():
    current_flow()  # 404 on a studio made without the deployment flow


@bp.get("/")
def index():
    settings, flow = current_settings(), current_flow()
    job = jobs.latest_job(settings, PIPELINE_KINDS)
    active = jobs.active_job(settings)
    built = job is not None and job.kind == "build" and bool(job.result) and "candidate" in job.result
    return render_template(
        "pipeline/index.html",
        job=job,
        busy=active is not None,
        kind_labels=KIND_LABELS,
        comparison=comparison_rows(job.result, flow) if built else [],
        rows=intent_rows(job.result) if built else [],
        **_production_view(settings, flow),
        **_format_helpers(settings, flow),
    )


def _start(kind: str, work, label: str, audit_action: str, target: str = ""):
    settings = current_settings()
    try:
        job = jobs.start_job(settings, kind, current_user.username, work, label=label)
    except jobs.JobBusy as exc:
        flash(str(exc), "error")
        return redirect(url_for("pipeline.index"))
    audit(audit_action, target, {"tâche": job.id})
    flash(f"{STARTED[kind]} (tâche n° {job.id}) : suivez l'avancement ci-dessous.", "info")
    return redirect(url_for("pipeline.index") + "#tache")


@bp.post("/entrainer")
def build():
    return _start("build", build_work(current_flow()), "Vérification et entraînement en attente", "vérification et entraînement lancés")


@bp.post("/deployer")
def deploy():
    settings = current_settings()
    job_id = request.form.get("job", type=int) or 0
    job = jobs.get_job(settings, job_id) if 0 < job_id < 2**31 else None
    result = job.result if job is not None else None
    if job is None or job.kind != "build" or job.status != "succeeded" or not result or not result.get("verdict", {}).get("passed"):
        flash("Seul un modèle accepté par le contrôle peut être déployé : lancez d'abord « Vérifier et entraîner ».", "error")
        return redirect(url_for("pipeline.index"))
    model = Path(result["model"])
    if result.get("same_as_production"):
        flash(f"Le modèle {model.name} est déjà en production.", "info")
        return redirect(url_for("pipeline.index"))
    if not model.exists():
        flash(f"Le fichier du modèle {model.name} a disparu : relancez « Vérifier et entraîner ».", "error")
        return redirect(url_for("pipeline.index"))
    work = deploy_work(current_flow(), model, current_user.username)
    return _start("deploy", work, f"Déploiement de {model.name} en attente", "déploiement lancé", model.name)


@bp.get("/retour")
def rollback_confirm():
    settings, flow = current_settings(), current_flow()
    view = _production_view(settings, flow)
    if view["previous"] is None:
        flash("Aucun modèle précédent : il n'y a pas eu de déploiement avant le modèle en production.", "error")
        return redirect(url_for("pipeline.index"))
    return render_template("pipeline/rollback.html", **view, **_format_helpers(settings, flow))


@bp.post("/retour")
def rollback():
    settings, flow = current_settings(), current_flow()
    target = flow.previous(settings)
    if target is None:
        flash("Aucun modèle précédent : il n'y a pas eu de déploiement avant le modèle en production.", "error")
        return redirect(url_for("pipeline.index"))
    if request.form.get("confirm") != "oui":  # pipeline.js asks in a dialog; without it, a confirmation page
        return redirect(url_for("pipeline.rollback_confirm"))
    work = rollback_work(flow, current_user.username)
    return _start("rollback", work, f"Retour à {target.name} en attente", "retour au modèle précédent lancé", target.name)


@bp.get("/taches/<int(max=2147483647):job_id>.json")
def job_status(job_id: int):
    job = jobs.get_job(current_settings(), job_id)
    if job is None or job.kind not in PIPELINE_KINDS:
        abort(404)
    return jsonify(job.as_dict())


@bp.get("/taches/<int(max=2147483647):job_id>/matrice.png")
def confusion_matrix(job_id: int):
    job = jobs.get_job(current_settings(), job_id)
    report_dir = (job.result or {}).get("report_dir") if job is not None and job.kind == "build" else None
    if not report_dir or not (Path(report_dir) / CONFUSION_MATRIX).is_file():
        abort(404)
    return send_file(Path(report_dir) / CONFUSION_MATRIX, mimetype="image/png", max_age=0)
