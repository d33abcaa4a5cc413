"""The pipeline page with the Flask test client: production model and history, jobs started from the page,
their live JSON, the verdict, deploying, rolling back, CSRF and a second job refused; a studio made without the
deployment flow."""

from __future__ import annotations

import re
import threading

import pytest
from sqlalchemy import select

from accueil import deployment
from accueil.gate import EmergencyMiss, ModelFigures, gate
from accueil.release import studio_flow
from studio import jobs
from studio.accounts import create_user
from studio.app import create_app
from studio.audit import AuditEntry
from studio.db import session_scope
from studio.views.pipeline import deploy_work
from tests.conftest import free_port
from tests.studio.conftest import PASSWORDS, csrf_from, login, settings_on_copies


@pytest.fixture
def settings(studio_settings, studio_app):
    """The app's settings, with a Rasa address where nothing listens (loading is then left to the next start)."""
    studio_settings = studio_app.extensions["accueil_settings"] = studio_settings.copy(
        update={"rasa_port": free_port(), "rasa_replica_port": free_port(), "rasa_api_token": "jeton"}
    )
    return studio_settings


def model_file(settings, name: str):
    path = settings.rasa_models_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"model")
    return path


def figures(model, f1: float, per_intent: dict, misses=()) -> ModelFigures:
    return ModelFigures(model.name, f1, 0.92, f1, per_intent, emergency_checked=83, emergency_misses=misses)


def matrix_png(folder) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    plt.figure(figsize=(1, 1))
    plt.savefig(folder / "intent_confusion_matrix.png")
    plt.close()


def finished_build(settings, candidate_figures: ModelFigures, production_figures: ModelFigures | None) -> jobs.Job:
    """A build job whose function gives the result the real one gives for these figures (no training here)."""
    model = settings.rasa_models_dir / candidate_figures.model
    report = settings.var_dir / "reports" / model.name
    matrix_png(report)
    deployment.store_evaluation(settings, candidate_figures, deployment.holdout_fingerprint(settings), report)

    def work(context: jobs.JobContext) -> jobs.Outcome:
        verdict = gate(candidate_figures, production_figures)
        candidate = deployment.Candidate(model, "finetune", "Ajustement du modèle en production.", 95.0, candidate_figures)
        result = deployment.result_summary(candidate, production_figures, verdict)
        result.update(same_as_production=False, report_dir=str(report))
        return jobs.Outcome(result, status="succeeded" if verdict.passed else "refused")

    return jobs.wait(settings, jobs.start_job(settings, "build", "redactrice", work).id)


def page(client) -> str:
    response = client.get("/pipeline/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def status_of(html: str) -> str:
    return re.search(r'id="job-status"[^>]*>([^<]+)<', html).group(1)


def test_the_page_without_production_model_offers_the_first_check(settings, editor_client) -> None:
    html = page(editor_client)
    assert "Aucun modèle n'a encore été mis en production" in html
    assert ">Vérifier et entraîner</button>" in html and "Revenir au modèle précédent" not in html
    assert 'src="/static/pipeline.js"' in html and "pipeline.css" in html
    assert not re.search(r"<script>|<script [^>]*>[^<]", html) and " style=" not in html and "onclick" not in html


def test_the_production_model_its_figures_and_history_are_shown(settings, editor_client) -> None:
    holdout = deployment.holdout_fingerprint(settings)
    old, new = model_file(settings, "accueil-ancien.tar.gz"), model_file(settings, "accueil-nouveau.tar.gz")
    deployment.record(settings, old, "initial", "accueil run", loaded=True)
    deployment.record(settings, new, "deploy", "marie", figures=figures(new, 0.9612, {}), holdout=holdout, loaded=True)
    html = page(editor_client)
    assert "<code>accueil-nouveau.tar.gz</code>" in html and "par marie (déploiement)" in html
    assert "0,961" in html and "toutes reconnues" in html
    assert "premier modèle" in html and "accueil-ancien.tar.gz" in html
    assert re.search(r'<form method="post" action="/pipeline/retour" class="row"\s+data-confirm="Remettre en production le modèle '
                     r'précédent, accueil-ancien.tar.gz \? Il remplacera accueil-nouveau.tar.gz.">', html)
    assert ">Revenir au modèle précédent</button>" in html
    assert "Les exemples ont changé depuis ce modèle" in html  # its name is not the fingerprint of the data


def test_starting_a_job_needs_the_csrf_token(settings, editor_client) -> None:
    assert editor_client.post("/pipeline/entrainer").status_code == 400
    assert jobs.latest_job(settings) is None


@pytest.mark.slow
def test_invalid_training_data_fail_the_check_with_french_problems(settings, editor_client) -> None:
    """The real job: `rasa data validate` and Accueil's checks on a copy where an editor made a new intent."""
    with open(settings.nlu_dir / "conversation.yml", "a", encoding="utf-8") as handle:
        handle.write("- intent: ask_wifi\n  examples: |\n    - le code du wifi\n")
    response = editor_client.post("/pipeline/entrainer", data={"csrf_token": csrf_from(page(editor_client))})
    assert response.status_code == 302 and response.headers["Location"].endswith("/pipeline/#tache")
    job = jobs.wait(settings, jobs.latest_job(settings).id, timeout=120)
    assert job.status == "failed" and job.result["problems"]
    html = page(editor_client)
    assert status_of(html) == "Échoué"
    assert "Les données d&#39;entraînement ont des problèmes : rien n&#39;a été entraîné." in html
    assert "L&#39;intention « ask_wifi » a des exemples mais n&#39;est pas déclarée dans le domaine" in html
    assert "L&#39;intention « ask_wifi » n&#39;a que 1 exemple d&#39;entraînement" in html
    with session_scope(settings) as db:
        entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "vérification et entraînement lancés")).one()
        assert (entry.username, entry.detail) == ("redactrice", {"tâche": job.id})


def test_a_passed_check_shows_the_comparison_the_verdict_and_deploys(settings, editor_client) -> None:
    production = model_file(settings, "accueil-prod.tar.gz")
    candidate = model_file(settings, "accueil-cand-ft.tar.gz")
    production_figures = figures(production, 0.95, {"greet": 0.98, "ask_parking": 0.95})
    deployment.record(settings, production, "deploy", "marie", figures=production_figures, holdout=deployment.holdout_fingerprint(settings))
    job = finished_build(settings, figures(candidate, 0.955, {"greet": 0.96, "ask_parking": 0.99}), production_figures)

    html = page(editor_client)
    assert status_of(html) == "Réussi"
    verdict = html[html.index('id="verdict"') :]
    assert "modèle accepté" in verdict and "0,950 en production → 0,955 pour le nouveau modèle, +0,5 point" in verdict
    rows = re.findall(r"<tr[^>]*><th scope=\"row\">(\w+)</th>", html)
    assert rows[:2] == ["greet", "ask_parking"]  # the drop of 2 points first
    assert "-2,0 points" in html and ">baisse</span>" in html
    assert "83 sur 83" in html
    image = editor_client.get(f"/pipeline/taches/{job.id}/matrice.png")
    assert image.status_code == 200 and image.mimetype == "image/png" and image.data.startswith(b"\x89PNG")

    response = editor_client.post("/pipeline/deployer", data={"csrf_token": csrf_from(html), "job": job.id})
    assert response.status_code == 302
    deployed = jobs.wait(settings, jobs.latest_job(settings).id)
    assert (deployed.kind, deployed.status) == ("deploy", "succeeded"), deployed.error
    html = page(editor_client)
    assert status_of(html) == "Réussi" and "sera servi au prochain « accueil run »" in html
    assert deployment.current(settings).name == candidate.name and deployment.current(settings).by == "redactrice"
    with session_scope(settings) as db:
        actions = [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions[-2:] == ["déploiement lancé", "modèle déployé"]


def test_a_refused_check_explains_why_and_offers_no_deployment(settings, editor_client) -> None:
    candidate = model_file(settings, "accueil-cand.tar.gz")
    miss = (EmergencyMiss("Mon bébé ne respire plus !", "nlu_fallback", "test réservé"),)
    job = finished_build(settings, figures(candidate, 0.97, {"emergency": 0.9}, miss), None)
    html = page(editor_client)
    assert status_of(html) == "Refusé"
    verdict = html[html.index('id="verdict"') :]
    assert "modèle refusé" in verdict and "« Mon bébé ne respire plus ! »" in verdict
    assert ">Déployer</button>" not in html
    editor_client.post("/pipeline/deployer", data={"csrf_token": csrf_from(html), "job": job.id})
    assert "Seul un modèle accepté par le contrôle peut être déployé" in page(editor_client)
    assert jobs.latest_job(settings).id == job.id and deployment.current(settings) is None


def test_rolling_back_asks_for_confirmation_then_brings_the_previous_model_back(settings, editor_client) -> None:
    old, new = model_file(settings, "accueil-ancien.tar.gz"), model_file(settings, "accueil-nouveau.tar.gz")
    deployment.record(settings, old, "initial", "accueil run", loaded=True)
    deployment.record(settings, new, "deploy", "marie", loaded=True)
    # Without the dialog of pipeline.js (no confirm=oui), the server asks on a page of its own.
    response = editor_client.post("/pipeline/retour", data={"csrf_token": csrf_from(page(editor_client))})
    assert response.status_code == 302 and response.headers["Location"].endswith("/pipeline/retour")
    confirmation = editor_client.get("/pipeline/retour").get_data(as_text=True)
    assert "sera remplacé par" in confirmation and "<code>accueil-ancien.tar.gz</code>" in confirmation
    assert ">Confirmer le retour au modèle précédent</button>" in confirmation
    assert deployment.current(settings).name == new.name and jobs.latest_job(settings) is None

    editor_client.post("/pipeline/retour", data={"csrf_token": csrf_from(confirmation), "confirm": "oui"})
    job = jobs.wait(settings, jobs.latest_job(settings).id)
    assert (job.kind, job.status) == ("rollback", "succeeded"), job.error
    current = deployment.current(settings)
    assert (current.kind, current.name, current.by) == ("rollback", old.name, "redactrice")
    html = page(editor_client)
    assert "Retour au modèle précédent" in html and status_of(html) == "Réussi"
    assert "Revenir au modèle précédent</button>" not in html  # nothing before the first model
    assert editor_client.get("/pipeline/retour").status_code == 302


def test_a_second_job_is_refused_while_one_runs_and_the_page_follows_it(settings, editor_client) -> None:
    release = threading.Event()

    def slow(context: jobs.JobContext) -> dict:
        context.step("Entraînement : époque 3/14", 40)
        release.wait(10)
        return {}

    running = jobs.start_job(settings, "build", "admin", slow)
    try:
        html = page(editor_client)
        assert 'data-finished="false"' in html and f'data-status-url="/pipeline/taches/{running.id}.json"' in html
        assert re.search(r"<button[^>]*disabled[^>]*>Vérifier et entraîner</button>", html)
        editor_client.post("/pipeline/entrainer", data={"csrf_token": csrf_from(html)})
        assert "Une tâche est déjà en cours" in page(editor_client)
        for _ in range(100):
            data = editor_client.get(f"/pipeline/taches/{running.id}.json").get_json()
            if data["step"] == "Entraînement : époque 3/14":
                break
        assert (data["status_label"], data["percent"], data["finished"], data["kind"]) == ("En cours", 40, False, "build")
    finally:
        release.set()
    jobs.wait(settings, running.id)
    assert editor_client.get(f"/pipeline/taches/{running.id}.json").get_json()["status_label"] == "Réussi"
    assert editor_client.get("/pipeline/taches/999.json").status_code == 404


def test_a_deploy_job_for_a_vanished_model_fails_in_french(settings) -> None:
    work = deploy_work(studio_flow(), settings.rasa_models_dir / "absent.tar.gz", "marie")
    job = jobs.wait(settings, jobs.start_job(settings, "deploy", "marie", work).id)
    assert job.status == "failed" and job.error.startswith("Le modèle ") and job.error.endswith("n'existe pas.")


def test_a_studio_made_without_the_deployment_flow_serves_its_other_pages(tmp_path) -> None:
    settings = settings_on_copies(tmp_path)
    app = create_app(settings)  # no flow: what tests of other pages may build
    with session_scope(settings) as db:
        create_user(db, "redactrice", PASSWORDS["editor"], "editor")
    client = app.test_client()
    assert login(client, "redactrice", PASSWORDS["editor"]).status_code == 302
    assert client.get("/intents/").status_code == 200
    assert client.get("/pipeline/").status_code == 404
    assert client.post("/pipeline/entrainer", data={"csrf_token": csrf_from(client.get("/intents/").get_data(as_text=True))}).status_code == 404
    assert jobs.latest_job(settings) is None
