"""Deployments: the history table, the gate before loading, rollback, what `accueil run` serves, fine-tune or full
training, Rasa's training output as progress, Rasa's API token."""

from __future__ import annotations

import json
import os
import shutil
import stat
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from accueil import deployment, rasa_api
from accueil.evaluation import Evaluation
from accueil.gate import EmergencyMiss, ModelFigures
from accueil.training import (
    FINETUNED_SUFFIX,
    TrainingProgress,
    finetune_decision,
    finetuned_model_path,
    fingerprint,
    is_finetune_refusal,
    is_progress_bar,
    model_fingerprint,
    model_path,
    model_signature,
    signature_path,
    training_signature,
    write_signature,
)
from core.settings import PROJECT_ROOT, Settings
from tests.conftest import free_port, free_port_run

RASA_OUTPUT = Path(__file__).parent / "rasa_output"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A copy of the project's training files, its own database, and a Rasa address where nothing listens."""
    for folder in ("bot", "nlu_data"):
        shutil.copytree(PROJECT_ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return Settings(
        db_url=f"sqlite:///{tmp_path / 'var' / 'accueil.db'}",
        var_dir=tmp_path / "var",
        bot_dir=tmp_path / "bot",
        nlu_dir=tmp_path / "nlu_data",
        models_dir=tmp_path / "models",
        rasa_port=free_port(), rasa_replica_port=free_port_run(2),
        rasa_api_token="jeton-de-test",
    )


def model_file(settings: Settings, name: str) -> Path:
    path = settings.rasa_models_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"not a real model: only its name and existence matter here")
    return path


def figures(model: Path, f1: float, misses: tuple = ()) -> ModelFigures:
    return ModelFigures(
        model=model.name,
        intent_macro_f1=f1,
        entity_macro_f1=0.92,
        intent_accuracy=f1,
        per_intent_f1={"emergency": 1.0, "greet": f1},
        emergency_checked=83,
        emergency_misses=misses,
    )


# --- The history table ---------------------------------------------------------------------------------


def test_the_production_model_is_the_latest_row_and_rollbacks_unwind_the_history(settings: Settings) -> None:
    first, second, third = (model_file(settings, f"accueil-{n}.tar.gz") for n in ("a", "b", "c"))
    assert deployment.current(settings) is None and deployment.previous(settings) is None
    deployment.record(settings, first, "initial", "accueil run", loaded=True)
    deployment.record(settings, second, "deploy", "marie", figures=figures(second, 0.95), holdout="h1")
    deployment.record(settings, third, "deploy", "paul", figures=figures(third, 0.96), holdout="h1")
    assert (deployment.current(settings).name, deployment.previous(settings).name) == (third.name, second.name)

    result = deployment.rollback(settings, "marie")
    assert result.deployed and not result.loaded
    assert "ne répond pas" in result.message and "prochain « accueil run »" in result.message
    row = deployment.current(settings)
    assert (row.kind, row.name, row.by, row.intent_macro_f1, row.emergency_ok) == ("rollback", second.name, "marie", 0.95, True)
    assert deployment.previous(settings).name == first.name

    deployment.rollback(settings, "marie")
    assert deployment.current(settings).name == first.name and deployment.previous(settings) is None
    with pytest.raises(deployment.DeploymentError, match="Aucun modèle précédent"):
        deployment.rollback(settings, "marie")
    assert [r.kind for r in deployment.history(settings)] == ["rollback", "rollback", "deploy", "deploy", "initial"]
    assert deployment.history(settings)[0].kind_label == "retour en arrière"


def test_a_rollback_needs_the_previous_model_file(settings: Settings) -> None:
    first, second = model_file(settings, "accueil-a.tar.gz"), model_file(settings, "accueil-b.tar.gz")
    deployment.record(settings, first, "initial", "accueil run")
    deployment.record(settings, second, "deploy", "marie")
    first.unlink()
    with pytest.raises(deployment.DeploymentError, match="a disparu"):
        deployment.rollback(settings, "marie")
    assert deployment.current(settings).name == second.name


# --- Deploying: the gate first, then Rasa ------------------------------------------------------------------


def test_deploy_refuses_a_worse_model_records_nothing_and_force_overrides(settings: Settings) -> None:
    holdout = deployment.holdout_fingerprint(settings)
    production, worse = model_file(settings, "accueil-prod.tar.gz"), model_file(settings, "accueil-worse.tar.gz")
    deployment.record(settings, production, "deploy", "marie", figures=figures(production, 0.96), holdout=holdout, loaded=True)
    deployment.store_evaluation(settings, figures(worse, 0.93), holdout)

    refused = deployment.deploy(settings, worse, "paul")
    assert not refused.deployed and not refused.verdict.passed
    assert "Déploiement refusé" in refused.message and "-3,0 points" in refused.message
    assert deployment.current(settings).name == production.name

    forced = deployment.deploy(settings, worse, "paul", force=True)
    assert forced.deployed and not forced.loaded
    row = deployment.current(settings)
    assert (row.name, row.forced, row.by, row.intent_macro_f1) == (worse.name, True, "paul", 0.93)
    assert row.note.startswith("Déploiement forcé malgré le contrôle.")


def test_deploy_refuses_a_model_that_misses_an_emergency(settings: Settings) -> None:
    holdout = deployment.holdout_fingerprint(settings)
    candidate = model_file(settings, "accueil-new.tar.gz")
    deployment.store_evaluation(settings, figures(candidate, 0.99, (EmergencyMiss("Je veux en finir.", "deny", "entraînement"),)), holdout)
    result = deployment.deploy(settings, candidate, "paul")  # first deployment: only the emergency rule
    assert not result.deployed and "« Je veux en finir. »" in result.message
    assert deployment.current(settings) is None


class FakeRasa(BaseHTTPRequestHandler):
    """Rasa's model API as Accueil calls it: `PUT /model?token=` with the model's absolute path, `GET /status`."""

    token = "jeton-de-test"
    loaded: list[str] = []

    def _authorised(self) -> bool:
        if parse_qs(urlparse(self.path).query).get("token") != [self.token]:
            self.send_response(401)
            self.end_headers()
            return False
        return True

    def do_PUT(self) -> None:
        if self._authorised():
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.loaded.append(body["model_file"])
            self.send_response(204)
            self.end_headers()

    def do_GET(self) -> None:
        if self._authorised():
            payload = json.dumps({"model_file": self.loaded[-1] if self.loaded else None}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def rasa_api_server(settings: Settings):
    """One Rasa server running, of the two: on the address they share and on its own port."""
    FakeRasa.loaded = []
    servers = [HTTPServer(("127.0.0.1", port), FakeRasa) for port in (settings.rasa_port, settings.rasa_replica_port)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    yield FakeRasa
    for server in servers:
        server.shutdown()
        server.server_close()


def test_deploy_loads_the_model_through_rasa_api_with_the_token(settings: Settings, rasa_api_server) -> None:
    holdout = deployment.holdout_fingerprint(settings)
    candidate = model_file(settings, "accueil-new.tar.gz")
    deployment.store_evaluation(settings, figures(candidate, 0.97), holdout)
    result = deployment.deploy(settings, candidate, "paul")
    assert result.deployed and result.loaded and "les conversations en cours continuent" in result.message
    assert rasa_api_server.loaded == [str(candidate.resolve())]
    assert rasa_api.loaded_model(settings) == candidate.name
    assert deployment.current(settings).loaded

    wrong = settings.copy(update={"rasa_api_token": "un-autre-jeton"})
    with pytest.raises(deployment.DeploymentError, match="refuse le jeton"):
        deployment.deploy(wrong, candidate, "paul")


def test_the_token_generated_by_accueil_run_is_private_and_read_back(settings: Settings) -> None:
    unset = settings.copy(update={"rasa_api_token": None})
    assert rasa_api.api_token(unset) is None
    with pytest.raises(rasa_api.RasaNotRunning, match="Aucun jeton"):
        rasa_api.status(unset)
    token = rasa_api.new_api_token(unset)
    assert stat.S_IMODE(unset.rasa_api_token_file.stat().st_mode) == 0o600
    assert rasa_api.api_token(unset) == token and rasa_api.new_api_token(unset) != token
    assert rasa_api.api_token(settings) == "jeton-de-test"  # ACCUEIL_RASA_API_TOKEN wins


# --- What `accueil run` serves ----------------------------------------------------------------------------


def test_accueil_run_serves_the_production_model_else_the_up_to_date_one_recorded_as_initial(settings: Settings) -> None:
    up_to_date = model_file(settings, model_path(settings).name)
    assert deployment.model_to_serve(settings) == up_to_date
    row = deployment.current(settings)
    assert (row.kind, row.by, row.loaded) == ("initial", "accueil run", True)
    assert not deployment.data_changed_since_deployment(settings)

    deployed = model_file(settings, "accueil-0123456789abcdef-ft.tar.gz")
    deployment.record(settings, deployed, "deploy", "marie")
    assert deployment.model_to_serve(settings) == deployed.resolve()
    assert deployment.data_changed_since_deployment(settings)

    deployed.unlink()
    assert deployment.model_to_serve(settings) == up_to_date
    assert "a disparu" in deployment.current(settings).note


# --- Fine-tuning or full training --------------------------------------------------------------------------


def test_fine_tune_only_when_examples_of_existing_intents_changed(settings: Settings) -> None:
    production = training_signature(settings)
    with open(settings.nlu_dir / "conversation.yml", "a", encoding="utf-8") as handle:
        handle.write("    - coucou la compagnie\n")
    after_example = training_signature(settings)
    assert after_example["fingerprint"] != production["fingerprint"]
    decision = finetune_decision(production, after_example, 0.2)
    assert decision.finetune and "20 %" in decision.reason

    with open(settings.nlu_dir / "conversation.yml", "a", encoding="utf-8") as handle:
        handle.write("- intent: ask_wifi\n  examples: |\n    - le code du wifi\n")
    decision = finetune_decision(production, training_signature(settings), 0.2)
    assert not decision.finetune and decision.reason == "Entraînement complet : intention ajoutée : ask_wifi."

    config = settings.bot_dir / "config.yml"
    config.write_text(config.read_text().replace("epochs: 70", "epochs: 80"), encoding="utf-8")
    assert "configuration" in finetune_decision(production, training_signature(settings), 0.2).reason
    assert not finetune_decision(None, after_example, 0.2).finetune


def test_a_domain_or_story_change_means_a_full_training(settings: Settings) -> None:
    production = training_signature(settings)
    with open(settings.bot_dir / "data" / "rules.yml", "a", encoding="utf-8") as handle:
        handle.write("\n# a comment changes the rules file\n")
    assert "histoires ou les règles" in finetune_decision(production, training_signature(settings), 0.2).reason
    with open(settings.bot_dir / "domain" / "conversation.yml", "a", encoding="utf-8") as handle:
        handle.write("\n# and the domain\n")
    assert "domaine" in finetune_decision(production, training_signature(settings), 0.2).reason


def test_a_copy_of_the_nlu_data_elsewhere_has_the_same_fingerprint(settings: Settings, tmp_path: Path) -> None:
    elsewhere = tmp_path / "studio-copy" / "nlu_data"
    shutil.copytree(settings.nlu_dir, elsewhere)
    copy = settings.copy(update={"nlu_dir": elsewhere})
    assert fingerprint(copy) == fingerprint(settings)
    with open(elsewhere / "conversation.yml", "a", encoding="utf-8") as handle:
        handle.write("    - coucou la compagnie\n")
    assert fingerprint(copy) != fingerprint(settings)


def test_a_model_signature_comes_from_its_file_or_from_the_current_inputs(settings: Settings) -> None:
    current = model_file(settings, model_path(settings).name)
    assert model_fingerprint(current) == fingerprint(settings)
    assert model_fingerprint(finetuned_model_path(settings)) == fingerprint(settings)
    assert finetuned_model_path(settings).name.endswith(f"{FINETUNED_SUFFIX}.tar.gz")
    assert model_signature(settings, current) == training_signature(settings)
    old = model_file(settings, "accueil-0000000000000000.tar.gz")
    assert model_signature(settings, old) is None
    write_signature(old, {"config": "x"})
    assert signature_path(old).name == "accueil-0000000000000000.inputs.json"
    assert model_signature(settings, old) == {"config": "x"}


class Steps:
    def __init__(self) -> None:
        self.steps: list[tuple[str, float | None]] = []

    def step(self, text: str, percent: float | None = None) -> None:
        self.steps.append((text, percent))

    def log(self, line: str) -> None:
        pass


def test_the_candidate_reuses_an_up_to_date_model_or_fine_tuned_one_without_training(settings: Settings) -> None:
    full = model_file(settings, model_path(settings).name)
    result, kind, reason = deployment.train_candidate(settings, Steps())
    assert (result.model, result.trained, kind) == (full, False, "reused") and "existe déjà" in reason

    full.unlink()
    production = model_file(settings, "accueil-prod.tar.gz")
    write_signature(production, training_signature(settings))
    deployment.record(settings, production, "deploy", "marie")
    with open(settings.nlu_dir / "conversation.yml", "a", encoding="utf-8") as handle:
        handle.write("    - coucou la compagnie\n")
    finetuned = model_file(settings, finetuned_model_path(settings).name)
    result, kind, reason = deployment.train_candidate(settings, Steps())
    assert (result.model, result.trained, result.finetuned, kind) == (finetuned, False, True, "reused")
    assert "modèle ajusté" in reason


def test_emergency_check_from_the_predictions_of_the_loaded_model(settings: Settings) -> None:
    sentences = deployment.emergency_sentences(settings)
    assert len(sentences) > 60 and {source for _, source in sentences} == {"entraînement", "test réservé"}
    predictions = [{"text": text, "intent": "emergency", "confidence": 0.99} for text, _ in sentences]
    predictions[3]["intent"] = "nlu_fallback"
    evaluation = Evaluation(
        summary={"model": "accueil-x.tar.gz", "intent_macro_f1": 0.96, "entity_macro_f1": 0.91, "intent_accuracy": 0.97},
        out_dir=settings.var_dir,
        per_intent={"emergency": {"f1-score": 0.98765, "support": 15}},
        predictions=predictions,
    )
    result = deployment.figures_from_evaluation(evaluation, sentences)
    assert result.emergency_checked == len(sentences)
    assert result.emergency_misses == (EmergencyMiss(sentences[3][0], "nlu_fallback", sentences[3][1]),)
    assert result.per_intent_f1 == {"emergency": 0.9877}


# --- Rasa's training output as progress (captured from real `rasa train` runs) --------------------------------


def feed(name: str) -> tuple[TrainingProgress, list[tuple[str, float]]]:
    progress, seen = TrainingProgress(), []
    text = (RASA_OUTPUT / name).read_text(encoding="utf-8")
    for line in text.replace("\r", "\n").splitlines():
        if progress.feed(line):
            seen.append((progress.step, progress.percent))
    return progress, seen


def test_full_training_output_becomes_a_rising_percentage_with_french_steps() -> None:
    progress, seen = feed("train_full.txt")
    percents = [percent for _, percent in seen]
    assert percents == sorted(percents) and percents[-1] == 100
    steps = [step for step, _ in seen]
    assert "validation du domaine et des données" in steps
    assert "apprentissage des intentions et des entités (DIET) : époque 10/10" in steps
    assert any(step.startswith("apprentissage des dialogues (TED)") for step in steps)
    assert dict(seen)["apprentissage des intentions et des entités (DIET) : époque 5/10"] == pytest.approx(49.0)


def test_accueil_full_training_output_from_spacy_to_the_cached_policies() -> None:
    """Captured from `rasa train` of Accueil's real config and data (DIET 70 epochs; the policies from the cache)."""
    progress, seen = feed("train_accueil_full.txt")
    steps = dict(seen)
    assert steps["apprentissage des intentions et des entités (DIET) : époque 35/70"] == pytest.approx(49.0)
    assert "apprentissage des intentions et des entités (DIET) : époque 70/70" in steps
    assert "règles de dialogue (repris du cache)" in steps and "vocabulaire des exemples" in steps
    assert [percent for _, percent in seen] == sorted(percent for _, percent in seen) and progress.percent == 100


def test_fine_tuning_output_has_its_fraction_of_the_epochs() -> None:
    progress, seen = feed("train_finetune.txt")
    assert "apprentissage des intentions et des entités (DIET) : époque 4/4" in [step for step, _ in seen]
    assert progress.percent == 100


def test_a_refused_fine_tuning_is_recognised() -> None:
    assert is_finetune_refusal((RASA_OUTPUT / "train_finetune_refused.txt").read_text(encoding="utf-8"))
    assert not is_finetune_refusal((RASA_OUTPUT / "train_finetune.txt").read_text(encoding="utf-8"))


def test_progress_bars_stay_out_of_the_log() -> None:
    assert is_progress_bar("Epochs:  40%|████      | 4/10 [00:05<00:05,  1.04it/s, t_loss=7, i_acc=0.267]")
    assert is_progress_bar("Processed trackers: 100%|██████████| 3/3 [00:00<00:00, 5847.08it/s, # action=7]")
    assert not is_progress_bar("2026-11-24 13:05:04 INFO     rasa.engine.training.hooks  - Starting to train component 'DIETClassifier'.")


# --- The command line ---------------------------------------------------------------------------------------


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The `accueil` command on the test's settings."""
    from core.settings import get_settings

    for name, value in settings.as_environment().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


@pytest.mark.slow
def test_accueil_deploy_prints_the_comparison_and_exits_2_when_the_gate_refuses(cli_settings: Settings, capsys) -> None:
    from accueil import cli

    holdout = deployment.holdout_fingerprint(cli_settings)
    production = model_file(cli_settings, "accueil-prod.tar.gz")
    deployment.record(cli_settings, production, "deploy", "marie", figures=figures(production, 0.96), holdout=holdout)
    candidate = model_file(cli_settings, model_path(cli_settings).name)  # up to date: reused, not trained
    deployment.store_evaluation(cli_settings, figures(candidate, 0.90), holdout)
    assert cli.main(["deploy"]) == 2
    out = capsys.readouterr().out
    assert "Aucun entraînement : un modèle entraîné en entier sur ces mêmes données existe déjà." in out
    assert "F1 macro des intentions" in out and "0,960" in out and "0,900" in out and "-6,0 points" in out
    assert "Déploiement refusé." in out and deployment.current(cli_settings).name == production.name


def test_accueil_rollback_puts_the_previous_model_back_and_is_audited(cli_settings: Settings, capsys) -> None:
    from accueil import cli
    from studio.audit import recent
    from studio.db import session_scope

    first, second = model_file(cli_settings, "accueil-a.tar.gz"), model_file(cli_settings, "accueil-b.tar.gz")
    deployment.record(cli_settings, first, "initial", "accueil run")
    deployment.record(cli_settings, second, "deploy", "marie")
    assert cli.main(["rollback"]) == 0
    out = capsys.readouterr().out
    assert "Modèle précédent remis en production : accueil-a.tar.gz." in out and "prochain « accueil run »" in out
    assert deployment.current(cli_settings).by.startswith("ligne de commande (")
    with session_scope(cli_settings) as db:
        entry = recent(db, limit=1)[0]
        assert (entry.action, entry.target) == ("retour au modèle précédent", "accueil-a.tar.gz")
    assert cli.main(["rollback"]) == 1
    assert "Aucun modèle précédent" in capsys.readouterr().out


def test_a_stored_evaluation_is_dropped_when_its_model_file_is_rewritten(settings: Settings) -> None:
    holdout = deployment.holdout_fingerprint(settings)
    model = model_file(settings, "accueil-prod.tar.gz")
    deployment.store_evaluation(settings, figures(model, 0.96), holdout)
    assert deployment.stored_evaluation(settings, model, holdout).figures["intent_macro_f1"] == 0.96
    later = model.stat().st_mtime + 60  # `accueil train --force` rewrote the file under the same name
    os.utime(model, (later, later))
    assert deployment.stored_evaluation(settings, model, holdout) is None


def test_the_evaluation_undoes_a_fallback_without_copying_the_spacy_document(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa's evaluation deep-copies each prediction the fallback took over; a spaCy document (vocabulary and
    vectors: a second a copy) must not be copied, the intents and tokens must come out as Rasa gives them."""
    from rasa.nlu.classifiers import fallback_classifier

    from accueil.evaluation import _undo_fallback_without_documents

    class Document:
        def __deepcopy__(self, memo):
            raise AssertionError("the spaCy document was copied")

    monkeypatch.setattr(fallback_classifier, "undo_fallback_prediction", fallback_classifier.undo_fallback_prediction)  # put back after
    document = Document()
    ranking = [{"name": "nlu_fallback", "confidence": 0.7}, {"name": "ask_visiting_hours", "confidence": 0.4}]
    prediction = {"text": "faire la causette", "intent": ranking[0], "intent_ranking": ranking, "text_tokens": ["faire"], "text_spacy_doc": document}
    _undo_fallback_without_documents()
    _undo_fallback_without_documents()  # once only, however often the worker asks
    undone = fallback_classifier.undo_fallback_prediction(prediction)
    assert undone["intent"]["name"] == "ask_visiting_hours" and undone["intent_ranking"] == ranking[1:]
    assert undone["text_tokens"] == ["faire"] and "text_spacy_doc" not in undone
    assert prediction["intent"]["name"] == "nlu_fallback" and prediction["text_spacy_doc"] is document


def test_figures_measured_with_the_conversations_serve_a_gate_that_leaves_them_out(settings: Settings, tmp_path: Path) -> None:
    """The same NLU held-out set: turning the conversation rule off (ACCUEIL_GATE_CONVERSATIONS=false) measures
    the production model nothing again; the model file here is no model, so a new measure would fail."""
    from dataclasses import replace

    model = model_file(settings, "accueil-prod.tar.gz")
    measured = replace(figures(model, 0.96), conversations=153, conversations_ok=150)
    with_rule = settings.copy(update={"gate_conversations": True})
    without_rule = settings.copy(update={"gate_conversations": False})
    deployment._store_measured(with_rule, measured, deployment.holdout_fingerprint(with_rule), tmp_path / "eval")
    assert deployment.evaluate_model(with_rule, model, tmp_path / "again") == measured
    reused = deployment.evaluate_model(without_rule, model, tmp_path / "again", check_emergencies=False)
    assert reused == replace(measured, conversations=None, conversations_ok=None)
    assert deployment.holdout_fingerprint(with_rule) != deployment.holdout_fingerprint(without_rule)
