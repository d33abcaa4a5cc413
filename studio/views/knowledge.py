"""The knowledge base pages: current version, history and diffs, dry run then sync, article editing."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from studio.article_sources import ArticleEdit, ArticleFile
from studio.audit import audit
from studio.knowledge import (
    TOPIC_LABELS,
    ArticleNotFound,
    ContentDiff,
    SourceNotEditable,
    SyncPreview,
    UnknownVersion,
    article_rows,
    current_version,
    editable_article,
    history,
    preview_sync,
    run_sync,
    save_article,
    source_info,
    version_comparison,
)
from studio.web import current_settings

bp = Blueprint("knowledge", __name__, url_prefix="/knowledge")

AUDIT_DIFF_CHARS = 4000  # the file diff kept in the audit log, enough for a short edit


@bp.get("/")
def index():
    settings = current_settings()
    return render_template(
        "knowledge/index.html",
        source=source_info(settings),
        current=current_version(settings),
        versions=history(settings),
        articles=article_rows(settings),
    )


@bp.get("/versions/<int(max=2147483647):version_id>")
def version(version_id: int):
    try:
        comparison = version_comparison(current_settings(), version_id)
    except UnknownVersion:
        abort(404)
    return render_template("knowledge/version.html", comparison=comparison)


# --- « Synchroniser maintenant »: the dry run, then the confirmed sync -------------------------


@bp.get("/synchronisation")
def sync_preview():
    settings = current_settings()
    return render_template("knowledge/sync.html", preview=preview_sync(settings), source=source_info(settings), stale=False)


def _labels(diff: ContentDiff) -> dict[str, list[str]]:
    return {
        "ajouts": [item.label for item in diff.added],
        "modifications": [item.label for item in diff.changed],
        "suppressions": [item.label for item in diff.removed],
    }


@bp.post("/synchronisation")
def sync_confirm():
    settings = current_settings()
    expected = request.form.get("checksum") or None
    source = source_info(settings)
    audit("synchronisation demandée", source.description, {"empreinte de la simulation": (expected or "")[:12]})
    outcome = run_sync(settings, expected)
    preview: SyncPreview = outcome.preview
    if outcome.errors:
        audit("synchronisation refusée : sources invalides", source.description, {"erreurs": outcome.errors[:50]})
        flash("Les sources contiennent des erreurs : rien n'a été synchronisé, la version actuelle reste en service.", "error")
        return render_template("knowledge/sync.html", preview=preview, source=source, stale=False), 422
    if outcome.stale:
        audit("synchronisation annulée : sources modifiées depuis la simulation", source.description, _labels(preview.diff))
        flash(
            "Les sources ont changé depuis la simulation : rien n'a été synchronisé. Vérifiez les changements ci-dessous, puis confirmez.",
            "warning",
        )
        return render_template("knowledge/sync.html", preview=preview, source=source, stale=True), 409
    if outcome.version is None:
        audit("synchronisation sans changement", source.description)
        flash("Aucun changement : la base de connaissances est déjà à jour.", "info")
        return redirect(url_for("knowledge.index"))
    audit("base de connaissances synchronisée", f"version {outcome.version}", {"source": source.description, **_labels(preview.diff)})
    flash(f"Base de connaissances synchronisée : version {outcome.version} ({preview.diff.summary()}).", "success")
    return redirect(url_for("knowledge.version", version_id=outcome.version))


# --- articles ----------------------------------------------------------------------------------


def _form_from(article: ArticleFile) -> dict:
    return {"title": article.title, "keywords": "\n".join(article.keywords), "body": article.body, "touch_date": False}


def _typed_form() -> dict:
    return {
        "title": request.form.get("title", ""),
        "keywords": request.form.get("keywords", ""),
        "body": request.form.get("body", ""),
        "touch_date": request.form.get("touch_date") == "1",
    }


def _form_errors(form: dict) -> dict[str, str]:
    errors = {}
    if not form["title"].strip():
        errors["title"] = "Le titre est obligatoire."
    elif "\n" in form["title"] or "\r" in form["title"]:
        errors["title"] = "Le titre doit tenir sur une ligne."
    if not form["body"].strip():
        errors["body"] = "Le texte de l'article est obligatoire."
    return errors


def _article_or_redirect(name: str):
    try:
        return editable_article(current_settings(), name), None
    except SourceNotEditable:
        flash("Les articles de cette source se modifient dans la source elle-même, pas dans le studio.", "warning")
        return None, redirect(url_for("knowledge.index"))
    except ArticleNotFound:
        abort(404)


def _render_article(
    article: ArticleFile,
    form: dict,
    status: int = 200,
    errors: dict | None = None,
    save_errors: list[str] | None = None,
    fingerprint: str | None = None,
    conflict: bool = False,
):
    """The edit form; `article` is the file as it is now, `form` what the editor typed."""
    page = render_template(
        "knowledge/article.html",
        article=article,
        form=form,
        errors=errors or {},
        save_errors=save_errors or [],
        fingerprint=fingerprint or article.fingerprint,
        conflict=conflict,
        topic_label=TOPIC_LABELS.get(article.topic, article.topic),
        today=current_settings().now().date(),
    )
    return page, status


@bp.get("/articles/<name>")
def article(name: str):
    article, response = _article_or_redirect(name)
    if response is not None:
        return response
    return _render_article(article, _form_from(article))


@bp.post("/articles/<name>")
def article_save(name: str):
    article, response = _article_or_redirect(name)
    if response is not None:
        return response
    if article.problem:
        return _render_article(article, _form_from(article), 422)
    form = _typed_form()
    errors = _form_errors(form)
    if errors:
        flash("Le formulaire contient des erreurs : rien n'a été enregistré.", "error")
        return _render_article(article, form, 422, errors=errors, fingerprint=request.form.get("fingerprint"))
    settings = current_settings()
    edit = ArticleEdit(
        title=form["title"],
        keywords=[line for line in form["keywords"].splitlines() if line.strip()],
        body=form["body"],
        updated_at=settings.now().date() if form["touch_date"] else None,
    )
    result = save_article(settings, name, edit, request.form.get("fingerprint") or None)
    if result.conflict:
        flash(
            "Ce fichier a été modifié ailleurs depuis l'ouverture du formulaire : rien n'a été enregistré. "
            "Le texte actuel du fichier est rappelé sous le formulaire ; vérifiez vos modifications puis enregistrez de nouveau.",
            "warning",
        )
        return _render_article(result.article, form, 409, conflict=True)
    if result.errors:
        audit("modification d'article refusée", article.relative_path, {"article": article.slug, "erreurs": result.errors[:50]})
        flash("La synchronisation a trouvé des erreurs : le fichier a été remis comme avant, rien n'a été enregistré.", "error")
        return _render_article(article, form, 422, save_errors=result.errors, fingerprint=request.form.get("fingerprint"))
    if not result.saved:
        flash("Aucune modification à enregistrer.", "info")
        return redirect(url_for("knowledge.article", name=name))
    audit(
        "article modifié",
        article.relative_path,
        {"article": article.slug, "champs": result.fields, "version": result.version, "diff": result.file_diff[:AUDIT_DIFF_CHARS]},
    )
    where = f"version {result.version}" if result.version else "aucune nouvelle version"
    flash(f"Article « {result.article.title} » enregistré dans {article.relative_path} et synchronisé ({where}).", "success")
    if result.version:
        return redirect(url_for("knowledge.version", version_id=result.version))
    return redirect(url_for("knowledge.article", name=name))
