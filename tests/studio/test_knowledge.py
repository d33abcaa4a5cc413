"""The knowledge base logic of the studio: history and diffs, dry run then sync, article write-back, on real files and SQLite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from actions.kb_repository import KnowledgeBase
from core.settings import Settings
from kb_sync.sources import FolderSource, export_folder_to_spreadsheet
from studio.article_sources import ArticleEdit, find_article, list_articles, render_edit
from studio.knowledge import (
    SourceNotEditable,
    UnknownVersion,
    article_rows,
    current_version,
    history,
    preview_sync,
    run_sync,
    save_article,
    source_info,
    text_diff,
    version_comparison,
)


def source(settings: Settings) -> Path:
    return Path(settings.kb_source)


def set_maternity_opening(folder: Path, opens: str) -> None:
    path = folder / "wards.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index("slug: maternite")
    path.write_text(text[:start] + text[start:].replace('opens: "15:00"', f'opens: "{opens}"', 1), encoding="utf-8")


def snapshot_of_folder(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def article_body(settings: Settings, slug: str) -> str:
    return KnowledgeBase(settings.db_url).article(slug).body


def edit_of(settings: Settings, name: str, **changes) -> ArticleEdit:
    article = find_article(source(settings), name)
    values = {"title": article.title, "keywords": article.keywords, "body": article.body, **changes}
    return ArticleEdit(**values)


@pytest.fixture
def synced(studio_settings: Settings) -> Settings:
    """The demo sources loaded as version 1."""
    assert run_sync(studio_settings).version == 1
    return studio_settings


# --- history and diffs ------------------------------------------------------------------------


def test_no_version_before_the_first_sync(studio_settings: Settings) -> None:
    assert current_version(studio_settings) is None
    assert history(studio_settings) == []
    with pytest.raises(UnknownVersion):
        version_comparison(studio_settings, 1)


def test_history_newest_first_and_field_diffs(synced: Settings) -> None:
    folder = source(synced)
    set_maternity_opening(folder, "16:00")
    article = folder / "articles" / "preop-jeune.md"
    article.write_text(article.read_text(encoding="utf-8").replace("6 heures", "8 heures"), encoding="utf-8")
    assert run_sync(synced).version == 2

    versions = history(synced)
    assert [v.id for v in versions] == [2, 1]
    current = current_version(synced)
    assert current.id == 2 and current.changed == 2 and current.added == current.removed == 0
    assert current.counts_text == "9 lieux, 4 services, 32 articles"
    assert len(current.checksum) == 64 and current.source.startswith("dossier ")

    first = version_comparison(synced, 1)
    assert first.previous is None and len(first.diff.added) == 1 + 9 + 4 + 32 and not first.diff.changed

    second = version_comparison(synced, 2)
    assert second.previous.id == 1 and not second.diff.added and not second.diff.removed
    by_label = {item.label: item for item in second.diff.changed}
    assert set(by_label) == {"service maternite", "article preop-jeune"}
    assert by_label["service maternite"].name == "maternité"

    rules = by_label["service maternite"].fields
    assert [f.label for f in rules] == ["règles de visite"]
    removed = [line.text for line in rules[0].lines if line.kind == "removed"]
    added = [line.text for line in rules[0].lines if line.kind == "added"]
    assert removed == ["public : visiteurs ; ouverture : 15:00 ; fermeture : 20:00"]
    assert added == ["public : visiteurs ; ouverture : 16:00 ; fermeture : 20:00"]

    body = by_label["article preop-jeune"].fields
    assert [f.label for f in body] == ["texte"]
    changed_words = [s.text for line in body[0].lines for s in line.segments if s.changed]
    assert changed_words == ["6", "8"]  # the word that changed, not the whole line


def test_text_diff_marks_lines_and_leaves_out_far_unchanged_ones() -> None:
    old = "\n".join(f"ligne {i}" for i in range(1, 11))
    new = old.replace("ligne 9", "ligne neuf") + "\nligne 11"
    lines = text_diff(old, new, context=1)
    assert lines[0].kind == "gap"  # lines 1 to 7 left out
    assert [(line.kind, line.text) for line in lines[1:]] == [
        ("same", "ligne 8"),
        ("removed", "ligne 9"),
        ("added", "ligne neuf"),
        ("same", "ligne 10"),
        ("added", "ligne 11"),
    ]
    assert [s.text for s in lines[3].segments if s.changed] == ["neuf"]
    assert text_diff("", "nouveau")[0].kind == "added"


def test_unknown_version(synced: Settings) -> None:
    with pytest.raises(UnknownVersion):
        version_comparison(synced, 99)


# --- dry run, then sync ----------------------------------------------------------------------


def test_dry_run_writes_nothing_then_sync_writes_what_it_showed(studio_settings: Settings) -> None:
    preview = preview_sync(studio_settings)
    assert preview.valid and not preview.unchanged and len(preview.diff.added) == 46
    assert current_version(studio_settings) is None  # the dry run wrote nothing

    outcome = run_sync(studio_settings, preview.checksum)
    assert outcome.version == 1 and not outcome.stale
    assert current_version(studio_settings).checksum == preview.checksum
    assert preview_sync(studio_settings).unchanged

    set_maternity_opening(source(studio_settings), "16:00")
    preview = preview_sync(studio_settings)
    assert [item.label for item in preview.diff.changed] == ["service maternite"]
    assert run_sync(studio_settings, preview.checksum).version == 2


def test_confirming_a_stale_dry_run_writes_nothing(synced: Settings) -> None:
    set_maternity_opening(source(synced), "16:00")
    preview = preview_sync(synced)
    set_maternity_opening(source(synced), "17:00")  # someone edits the sources meanwhile
    outcome = run_sync(synced, preview.checksum)
    assert outcome.stale and outcome.version is None
    assert outcome.preview.checksum != preview.checksum and outcome.preview.diff.changed
    assert current_version(synced).id == 1


def test_invalid_sources_show_french_errors_and_write_nothing(synced: Settings) -> None:
    places = source(synced) / "places.yml"
    places.write_text(places.read_text(encoding="utf-8").replace('opens: "07:30"', 'opens: "25:00"', 1), encoding="utf-8")
    preview = preview_sync(synced)
    assert not preview.valid and not preview.unchanged
    assert any(e.startswith("places.yml, ligne ") and "champ « places[0].hours[0].opens »" in e and "heure « 25:00 » invalide" in e for e in preview.errors), preview.errors
    outcome = run_sync(synced)
    assert outcome.errors and outcome.version is None
    assert current_version(synced).id == 1


# --- articles written back to the editors' files ---------------------------------------------


def test_article_edit_keeps_the_rest_of_the_file_byte_identical(synced: Settings) -> None:
    folder = source(synced)
    path = folder / "articles" / "preop-jeune.md"
    # An editor's comment in the front matter, which an edit must keep.
    original = path.read_bytes().replace(b"title:", b"# relu par le Dr Martin\ntitle:", 1)
    path.write_bytes(original)
    assert run_sync(synced).version is None  # a comment does not change the content
    others = {k: v for k, v in snapshot_of_folder(folder).items() if k != "articles/preop-jeune.md"}
    article = find_article(folder, "preop-jeune")
    new_body = article.body.replace("6 heures", "8 heures") + "\nUne question ? Appelez le 02 38 00 12 34."

    # The browser sends CRLF line ends and may add blank lines around the text.
    typed = "\r\n" + new_body.replace("\n", "\r\n") + "\r\n\r\n"
    result = save_article(synced, "preop-jeune", edit_of(synced, "preop-jeune", title="Être à jeun : les consignes", body=typed), article.fingerprint)

    assert result.saved and result.version == 2 and result.fields == ["titre", "texte"]
    old_body = original.decode().split("---\n", 2)[2]
    expected = (
        original.decode()
        .replace("title: Être à jeun avant une opération\n", "title: 'Être à jeun : les consignes'\n")
        .replace(old_body, new_body + "\n")
    )
    assert path.read_bytes() == expected.encode()
    assert {k: v for k, v in snapshot_of_folder(folder).items() if k != "articles/preop-jeune.md"} == others
    assert article_body(synced, "preop-jeune") == new_body
    assert KnowledgeBase(synced.db_url).article("preop-jeune").title == "Être à jeun : les consignes"
    assert "-title: Être à jeun avant une opération" in result.file_diff and "+title: 'Être à jeun : les consignes'" in result.file_diff


def test_keywords_and_date_edits_keep_the_list_style(synced: Settings) -> None:
    folder = source(synced)
    path = folder / "articles" / "visites-fleurs.md"
    block = path.read_text(encoding="utf-8")
    flow_line = next(line for line in block.splitlines() if line.startswith("keywords:"))
    items = flow_line[len("keywords: [") : -1].split(", ")
    block = block.replace(flow_line, "keywords:\n" + "".join(f"  - {item}\n" for item in items) + "# fin des mots-clés")
    path.write_text(block, encoding="utf-8")
    run_sync(synced)
    article = find_article(folder, "visites-fleurs")
    assert article.keywords == items

    edit = edit_of(synced, "visites-fleurs", keywords=[*items, "gerbe de fleurs"], updated_at=dt.date(2026, 11, 24))
    result = save_article(synced, "visites-fleurs", edit)
    assert result.saved and set(result.fields) == {"mots-clés", "date de mise à jour"}
    text = path.read_text(encoding="utf-8")
    assert "  - gerbe de fleurs\n# fin des mots-clés\n" in text  # block style, indentation and the comment after it kept
    assert "updated_at: 2026-11-24\n" in text
    (item,) = version_comparison(synced, result.version).diff.changed
    assert item.label == "article visites-fleurs" and [f.label for f in item.fields] == ["mots-clés", "date de mise à jour"]
    assert [line.text for line in item.fields[0].lines if line.kind == "added"] == ["gerbe de fleurs"]


def test_unchanged_edit_writes_nothing(synced: Settings) -> None:
    path = source(synced) / "articles" / "preop-jeune.md"
    before = path.read_bytes()
    result = save_article(synced, "preop-jeune", edit_of(synced, "preop-jeune"))
    assert not result.saved and not result.errors and result.version is None
    assert path.read_bytes() == before and current_version(synced).id == 1


def test_invalid_edit_restores_the_file_and_reports_the_error(synced: Settings) -> None:
    path = source(synced) / "articles" / "preop-jeune.md"
    before = path.read_bytes()
    result = save_article(synced, "preop-jeune", edit_of(synced, "preop-jeune", body="  \r\n "))
    assert not result.saved and result.version is None
    assert result.errors == ["articles/preop-jeune.md, ligne 10, champ « body » : ce champ ne peut pas être vide"]
    assert path.read_bytes() == before
    assert current_version(synced).id == 1 and article_body(synced, "preop-jeune").startswith("Avant votre opération")


def test_edit_refused_when_the_file_changed_meanwhile(synced: Settings) -> None:
    path = source(synced) / "articles" / "preop-jeune.md"
    opened = find_article(source(synced), "preop-jeune")
    path.write_text(path.read_text(encoding="utf-8").replace("6 heures", "7 heures"), encoding="utf-8")
    before = path.read_bytes()
    result = save_article(synced, "preop-jeune", edit_of(synced, "preop-jeune", body="Autre texte."), opened.fingerprint)
    assert result.conflict and not result.saved and path.read_bytes() == before


def test_crlf_files_keep_their_line_ends() -> None:
    text = "---\r\nslug: a\r\ntitle: Ancien\r\n---\r\nLigne un.\r\n"
    new = render_edit(text, ArticleEdit(title="Nouveau", keywords=[], body="Ligne un.\nLigne deux."))
    assert new == "---\r\nslug: a\r\ntitle: Nouveau\r\n---\r\nLigne un.\r\nLigne deux.\r\n"


def test_articles_list_from_the_files(studio_settings: Settings) -> None:
    rows = article_rows(studio_settings)
    assert len(rows) == 32 and all(row.file.startswith("articles/") for row in rows)
    row = next(r for r in rows if r.slug == "preop-jeune")
    assert (row.title, row.topic_label, row.name) == ("Être à jeun avant une opération", "Avant une opération", "preop-jeune")
    assert source_info(studio_settings).editable
    assert len(list_articles(source(studio_settings))) == 32


def test_spreadsheet_sources_are_not_edited_in_the_studio(synced: Settings, tmp_path: Path) -> None:
    workbook = tmp_path / "base.xlsx"
    export_folder_to_spreadsheet(FolderSource(source(synced)).read(), workbook)
    settings = synced.copy(update={"kb_source": str(workbook)})
    info = source_info(settings)
    assert not info.editable and info.kind == "classeur Excel"
    rows = article_rows(settings)  # from the current version
    assert len(rows) == 32 and rows[0].file is None and rows[0].name is None
    with pytest.raises(SourceNotEditable):
        save_article(settings, "preop-jeune", edit_of(synced, "preop-jeune", body="Autre."))
