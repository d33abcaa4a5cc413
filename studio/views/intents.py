"""The intents pages: every intent with its example count and file; an intent's examples, added, edited, deleted."""

from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from studio.audit import audit
from studio.nlu_files import (
    DuplicateExample,
    NluError,
    add_example,
    check_example,
    clean_example,
    create_intent,
    delete_example,
    edit_example,
    examples,
    intents,
    nlu_files,
)
from studio.views.inbox import training_reminder
from studio.web import current_settings

bp = Blueprint("intents", __name__, url_prefix="/intents")


@bp.get("/")
def index():
    listed = intents(current_settings())
    return render_template("intents/index.html", intents=listed, total=sum(i.count for i in listed))


def _intent_or_404(name: str):
    found = next((i for i in intents(current_settings()) if i.name == name), None)
    if found is None:
        abort(404)
    return found


def _render_intent(name: str, status: int = 200, **state):
    """The intent page; `state`: add (the text being added, its error or findings) or edit (old, new, error, findings)."""
    intent = _intent_or_404(name)
    return (
        render_template(
            "intents/intent.html",
            intent=intent,
            examples=examples(current_settings(), name),
            add=state.get("add") or {},
            edit=state.get("edit") or {},
        ),
        status,
    )


@bp.get("/<name>")
def intent(name: str):
    return _render_intent(name)[0]


@bp.get("/<name>/verifier")
def check(name: str):
    """Warnings for the text being typed (the page shows them before anything is written)."""
    _intent_or_404(name)
    text = request.args.get("texte", "")
    replacing = request.args.get("remplace") or None
    if not text.strip():
        return jsonify(error=None, findings=[])
    try:
        cleaned = clean_example(text, current_settings())
    except NluError as exc:
        return jsonify(error=str(exc), findings=[])
    findings = check_example(current_settings(), name, cleaned, replacing=replacing)
    return jsonify(error=None, findings=[{"message": f.message, "blocking": f.blocking, "kind": f.kind} for f in findings])


@bp.post("/<name>/exemples")
def add(name: str):
    _intent_or_404(name)
    text = request.form.get("text", "")
    confirm = request.form.get("confirm") == "1"
    try:
        added = add_example(current_settings(), name, text, confirm=confirm)
    except DuplicateExample as exc:
        if exc.needs_confirmation:
            return _render_intent(name, add={"text": text, "findings": exc.findings})
        return _render_intent(name, 409, add={"text": text, "error": str(exc)})
    except NluError as exc:
        return _render_intent(name, 400, add={"text": text, "error": str(exc)})
    if not added.added:
        flash(f"« {added.already_there[0]} » est déjà un exemple de cette intention : rien n'a été écrit.", "info")
        return redirect(url_for("intents.intent", name=name))
    audit("exemple ajouté", name, {"fichier": f"nlu_data/{added.file}", "texte": added.added[0]})
    flash(Markup("Exemple « {} » ajouté dans nlu_data/{}.").format(added.added[0], added.file) + training_reminder(), "success")
    return redirect(url_for("intents.intent", name=name))


@bp.post("/<name>/exemples/modifier")
def edit(name: str):
    _intent_or_404(name)
    old = request.form.get("old", "")
    new = request.form.get("text", "")
    confirm = request.form.get("confirm") == "1"
    try:
        file = edit_example(current_settings(), name, old, new, confirm=confirm)
    except DuplicateExample as exc:
        if exc.needs_confirmation:
            return _render_intent(name, edit={"old": old, "text": new, "findings": exc.findings})
        return _render_intent(name, 409, edit={"old": old, "text": new, "error": str(exc)})
    except NluError as exc:
        return _render_intent(name, 400, edit={"old": old, "text": new, "error": str(exc)})
    cleaned = clean_example(new, current_settings())
    audit("exemple modifié", name, {"fichier": f"nlu_data/{file}", "avant": old, "après": cleaned})
    flash(Markup("Exemple modifié dans nlu_data/{} : « {} ».").format(file, cleaned) + training_reminder(), "success")
    return redirect(url_for("intents.intent", name=name))


@bp.post("/<name>/exemples/supprimer")
def delete(name: str):
    _intent_or_404(name)
    text = request.form.get("text", "")
    try:
        file = delete_example(current_settings(), name, text)
    except NluError as exc:
        flash(str(exc), "error")
        return redirect(url_for("intents.intent", name=name))
    audit("exemple supprimé", name, {"fichier": f"nlu_data/{file}", "texte": text})
    flash(Markup("Exemple « {} » supprimé de nlu_data/{}.").format(text, file) + training_reminder(), "success")
    return redirect(url_for("intents.intent", name=name))


def _new_form(values: dict, status: int = 200, error: str | None = None, findings=None):
    files = [path.name for path in nlu_files(current_settings())]
    return render_template("intents/new.html", values=values, files=files, error=error, findings=findings), status


@bp.get("/nouvelle")
def new():
    return _new_form({})[0]


@bp.post("/nouvelle")
def create():
    values = {name: request.form.get(name, "") for name in ("name", "file", "examples", "answer")}
    confirm = request.form.get("confirm") == "1"
    try:
        created = create_intent(
            current_settings(), values["name"], values["file"], values["examples"].splitlines(), values["answer"],
            confirm=confirm, author=current_user.username,
        )  # fmt: skip
    except DuplicateExample as exc:
        if exc.needs_confirmation:
            return _new_form(values, findings=exc.findings)
        return _new_form(values, 409, error=str(exc))
    except NluError as exc:
        return _new_form(values, 400, error=str(exc))
    audit("intention créée", created.name, {"fichiers": list(created.files), "exemples": list(created.examples)})
    flash(Markup("Intention « {} » créée ({}).").format(created.name, ", ".join(created.files)) + training_reminder(), "success")
    return redirect(url_for("intents.intent", name=created.name))
