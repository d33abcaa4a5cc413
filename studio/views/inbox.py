"""The inbox page: misunderstood patient messages, grouped, each turned into an example, a new intent, or set aside."""

from __future__ import annotations

import threading

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from studio.audit import audit
from studio.grouping import nlp
from studio.inbox import KINDS, Decision, decide, find_pending, inbox_groups
from studio.nlu_files import DuplicateExample, NluError, intent_names, nlu_files
from studio.web import current_settings

bp = Blueprint("inbox", __name__, url_prefix="/inbox")


@bp.record_once
def _warm_up(_state) -> None:
    """Loads spaCy's French model in the background when the studio starts: the first inbox page then opens at once."""
    threading.Thread(target=nlp, name="spacy-warm-up", daemon=True).start()


GROUPS_PER_PAGE = 25
AUDIT_ACTIONS = {
    "assigned": "message attribué",
    "new_intent": "intention créée depuis la boîte",
    "out_of_scope": "message hors sujet",
    "ignored": "message ignoré",
}


def _page_number() -> int:
    try:
        return max(1, int(request.values.get("page", 1)))
    except ValueError:
        return 1


def _render_index(status: int = 200, *, error: str | None = None, pending: dict | None = None):
    """The inbox; `pending` is a decision waiting for the editor's confirmation (near-duplicate warnings)."""
    settings = current_settings()
    groups = inbox_groups(settings)
    pages = max(1, -(-len(groups) // GROUPS_PER_PAGE))
    page = min(_page_number(), pages)
    shown = groups[(page - 1) * GROUPS_PER_PAGE : page * GROUPS_PER_PAGE]
    return (
        render_template(
            "inbox/index.html",
            groups=shown,
            first_number=(page - 1) * GROUPS_PER_PAGE,
            group_count=len(groups),
            message_count=sum(len(g.messages) for g in groups),
            page=page,
            pages=pages,
            intents=intent_names(settings),
            error=error,
            pending=pending,
        ),
        status,
    )


@bp.get("/")
def index():
    return _render_index()[0]


def training_reminder() -> Markup:
    return Markup(" Un entraînement est nécessaire pour que l'assistant en tienne compte : <a href=\"{}\">Entraînement et déploiement</a>.").format(
        url_for("pipeline.index")
    )


def _success_message(decision: Decision) -> Markup:
    """The flash after a decision (escaped by Markup.format), with a link to the training page when files changed."""
    several = len(decision.keys) > 1
    who = f"{len(decision.keys)} messages" if several else "1 message"
    plural = "s" if several else ""
    if decision.kind == "ignored":
        return Markup("{} ignoré{} : il{} ne reviendra pas dans la boîte.").format(who, plural, plural)
    if decision.kind == "new_intent":
        return Markup("Intention « {} » créée ({}).").format(decision.intent, ", ".join(decision.files)) + training_reminder()
    if decision.kind == "out_of_scope":
        done = f"marqué{plural} hors sujet"
    else:
        done = f"rattaché{plural} à l'intention « {decision.intent} »"
    if not decision.added:
        return Markup("{} {} : c'était déjà un exemple de cette intention, rien n'a été écrit.").format(who, done)
    examples = "exemple ajouté" if len(decision.added) == 1 else f"{len(decision.added)} exemples ajoutés"
    return Markup("{} {} : {} dans {}.").format(who, done, examples, decision.file) + training_reminder()


def _audit(decision: Decision) -> None:
    audit(
        AUDIT_ACTIONS[decision.kind],
        ", ".join(decision.keys),
        {"décision": KINDS[decision.kind], "intention": decision.intent, "fichier": decision.file, "exemples": list(decision.added)},
    )


@bp.post("/decision")
def decision():
    keys = request.form.getlist("key")
    kind = request.form.get("decision", "")
    intent = request.form.get("intent") or None
    confirm = request.form.get("confirm") == "1"
    if not keys or kind not in KINDS or kind == "new_intent":
        return _render_index(400, error="Décision incomplète : choisissez un message et une action.")
    try:
        result = decide(current_settings(), keys, kind, current_user.username, intent=intent, confirm=confirm)
    except DuplicateExample as exc:
        if exc.needs_confirmation:
            return _render_index(200, pending={"keys": keys, "decision": kind, "intent": intent, "findings": exc.findings})
        return _render_index(409, error=str(exc))
    except NluError as exc:
        return _render_index(400, error=str(exc))
    _audit(result)
    flash(_success_message(result), "success")
    return redirect(url_for("inbox.index", page=_page_number()))


def _new_intent_form(keys: list[str], values: dict, status: int = 200, error: str | None = None, findings=None):
    settings = current_settings()
    messages = find_pending(settings, keys)
    if not messages:
        flash("Ces messages ont déjà été traités, ou n'existent plus.", "warning")
        return redirect(url_for("inbox.index"))
    values.setdefault("examples", "\n".join(dict.fromkeys(m.text for m in messages)))
    files = [path.name for path in nlu_files(settings)]
    return (
        render_template("inbox/new_intent.html", messages=messages, keys=keys, values=values, files=files, error=error, findings=findings),
        status,
    )


@bp.get("/nouvelle-intention")
def new_intent():
    keys = request.args.getlist("key")
    if not keys:
        abort(404)
    return _new_intent_form(keys, {})


@bp.post("/nouvelle-intention")
def create_intent():
    keys = request.form.getlist("key")
    values = {name: request.form.get(name, "") for name in ("name", "file", "examples", "answer")}
    spec = {
        "name": values["name"].strip(),
        "file": values["file"],
        "examples": [line for line in values["examples"].splitlines() if line.strip()],
        "answer": values["answer"],
    }
    confirm = request.form.get("confirm") == "1"
    try:
        result = decide(current_settings(), keys, "new_intent", current_user.username, confirm=confirm, new_intent=spec)
    except DuplicateExample as exc:
        if exc.needs_confirmation:
            return _new_intent_form(keys, values, 200, findings=exc.findings)
        return _new_intent_form(keys, values, 409, error=str(exc))
    except NluError as exc:
        return _new_intent_form(keys, values, 400, error=str(exc))
    _audit(result)
    flash(_success_message(result), "success")
    return redirect(url_for("inbox.index"))
