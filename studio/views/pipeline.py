"""The pipeline page: validate → train → evaluate → compare → gate, then deploy or roll back, as background jobs.

The jobs (studio.jobs) call accueil.deployment; the page shows the production model, the latest job with its
progress (studio/static/pipeline.js polls its JSON every second), its results (per-intent F1 against production,
the confusion matrix, the verdict) and the history of the production model.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from accueil import deployment
from accueil.gate import FIGURE_LABELS, gate, points
from core.settings import Settings
from studio import jobs
from studio.audit import audit, record
from studio.db import session_scope
from studio.web import current_settings

bp = Blueprint("pipeline", __name__, url_prefix="/pipeline")

PIPELINE_KINDS = ("build", "deploy", "rollback")
KIND_LABELS = {"build": "Vérification et entraînement", "deploy": "Déploiement", "rollback": "Retour au modèle précédent"}
STARTED = {"build": "Vérification et entraînement lancés", "deploy": "Déploiement lancé", "rollback": "Retour au modèle précédent lancé"}
CONFUSION_MATRIX = "intent_confusion_matrix.png"


# --- The jobs --------------------------------------------------------------------------------------------


def build_work(context: jobs.JobContext) -> jobs.Outcome:
    """Validate, train (fine-tune or full), evaluate, compare with production, gate."""
    settings = context.settings
    context.step("Validation des données : rasa data validate et contrôles d'Accueil", 1)
    problems = deployment.validate(settings, context)
    if problems:
        error = "Les données d'entraînement ont des problèmes : rien n'a été entraîné."
        return jobs.Outcome({"problems": problems}, status="failed", error=error)
    context.step("Données valides", 5)
    candidate = deployment.build_candidate(settings, context.folder, context)
    context.step("Chiffres du modèle en production", 95)
    production = deployment.production_figures(settings, context.folder / "production", context)
    verdict = gate(candidate.figures, production)
    current = deployment.current(settings)
    stored = deployment.stored_evaluation(settings, candidate.model, deployment.holdout_fingerprint(settings))
    result = deployment.result_summary(candidate, production, verdict)
    result["same_as_production"] = current is not None and current.model.resolve() == candidate.model.resolve()
    result["report_dir"] = stored.report_dir if stored else ""
    context.step("Verdict rendu", 100)
    return jobs.Outcome(result, status="succeeded" if verdict.passed else "refused")


def deploy_work(model: Path, username: str):
    def work(context: jobs.JobContext) -> jobs.Outcome:
        result = deployment.deploy(context.settings, model, username, out_dir=context.folder, progress=context)
        data = {
            "model_name": model.name,
            "deployed": result.deployed,
            "loaded": result.loaded,
            "message": result.message,
            "verdict": result.verdict.as_dict() if result.verdict else None,
        }
        if result.deployed:
            with session_scope(context.settings) as db:
                record(db, username, "modèle déployé", model.name, {"chargé": result.loaded})
        return jobs.Outcome(data, status="succeeded" if result.deployed else "refused")

    return work


def rollback_work(username: str):
    def work(context: jobs.JobContext) -> dict:
        result = deployment.rollback(context.settings, username, progress=context)
        with session_scope(context.settings) as db:
            record(db, username, "retour au modèle précédent", result.deployment.name, {"chargé": result.loaded})
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


def comparison_rows(result: dict) -> list[dict]:
    """The global figures of the candidate against production, formatted for the page."""
    candidate, production = result.get("candidate") or {}, result.get("production") or {}
    helpers = _format_helpers(None)
    rows = []
    for key, label in FIGURE_LABELS:
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


def _production_view(settings: Settings) -> dict:
    production = deployment.current(settings)
    return {
        "production": production,
        "previous": deployment.previous(settings),
        "changed": production is not None and deployment.data_changed_since_deployment(settings),
        "history": deployment.history(settings, limit=50),
    }


def _format_helpers(settings: Settings | None) -> dict:
    def when(moment) -> str:
        return jobs.local_time(settings, moment).strftime("%d/%m/%Y à %H:%M") if moment and settings else ""

    def f1(value) -> str:
        return "—" if value is None else f"{value:.3f}".replace(".", ",")

    def delta(value) -> str:
        return "—" if value is None else points(value)

    return {"when": when, "f1": f1, "delta": delta}


@bp.get("/")
def index():
    settings = current_settings()
    job = jobs.latest_job(settings, PIPELINE_KINDS)
    active = jobs.active_job(settings)
    built = job is not None and job.kind == "build" and bool(job.result) and "candidate" in job.result
    return render_template(
        "pipeline/index.html",
        job=job,
        busy=active is not None,
        kind_labels=KIND_LABELS,
        comparison=comparison_rows(job.result) if built else [],
        rows=intent_rows(job.result) if built else [],
        **_production_view(settings),
        **_format_helpers(settings),
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
    return _start("build", build_work, "Vérification et entraînement en attente", "vérification et entraînement lancés")


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
    work = deploy_work(model, current_user.username)
    return _start("deploy", work, f"Déploiement de {model.name} en attente", "déploiement lancé", model.name)


@bp.get("/retour")
def rollback_confirm():
    settings = current_settings()
    view = _production_view(settings)
    if view["previous"] is None:
        flash("Aucun modèle précédent : il n'y a pas eu de déploiement avant le modèle en production.", "error")
        return redirect(url_for("pipeline.index"))
    return render_template("pipeline/rollback.html", **view, **_format_helpers(settings))


@bp.post("/retour")
def rollback():
    settings = current_settings()
    target = deployment.previous(settings)
    if target is None:
        flash("Aucun modèle précédent : il n'y a pas eu de déploiement avant le modèle en production.", "error")
        return redirect(url_for("pipeline.index"))
    if request.form.get("confirm") != "oui":  # pipeline.js asks in a dialog; without it, a confirmation page
        return redirect(url_for("pipeline.rollback_confirm"))
    work = rollback_work(current_user.username)
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
