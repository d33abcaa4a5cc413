"""SpreadsheetSource: CSV folders and .xlsx workbooks, read back equal to the YAML folder, and editor-facing errors."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from kb_sync.errors import ContentInvalid
from kb_sync.sources.spreadsheet import SpreadsheetSource, export_folder_to_spreadsheet


def read_errors(path: Path) -> ContentInvalid:
    with pytest.raises(ContentInvalid) as raised:
        SpreadsheetSource(path).read()
    return raised.value


def edit_csv(path: Path, edit) -> None:
    """Rewrite one exported CSV (UTF-8 with BOM, « ; ») after `edit(rows)`."""
    with path.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.reader(file, delimiter=";"))
    edit(rows)
    with path.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file, delimiter=";").writerows(rows)


@pytest.fixture
def csv_folder(tmp_path: Path, demo_content) -> Path:
    export_folder_to_spreadsheet(demo_content, tmp_path / "tableur")
    return tmp_path / "tableur"


@pytest.fixture
def workbook(tmp_path: Path, demo_content) -> Path:
    export_folder_to_spreadsheet(demo_content, tmp_path / "valmont.xlsx")
    return tmp_path / "valmont.xlsx"


def test_csv_round_trip_equals_folder_content(csv_folder: Path, demo_content) -> None:
    assert sorted(p.name for p in csv_folder.iterdir()) == ["articles.csv", "etablissement.csv", "lieux.csv", "services.csv"]
    raw = (csv_folder / "lieux.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfslug;nom;")  # what French Excel opens directly
    assert SpreadsheetSource(csv_folder).read() == demo_content


def test_csv_with_commas_and_no_bom(tmp_path: Path, demo_content) -> None:
    export_folder_to_spreadsheet(demo_content, tmp_path / "virgules", delimiter=",")
    assert (tmp_path / "virgules" / "lieux.csv").read_bytes().startswith(b"\xef\xbb\xbfslug,nom,")
    for path in (tmp_path / "virgules").glob("*.csv"):
        path.write_bytes(path.read_bytes().removeprefix(b"\xef\xbb\xbf"))
    assert SpreadsheetSource(tmp_path / "virgules").read() == demo_content


def test_xlsx_round_trip_equals_folder_content(workbook: Path, demo_content) -> None:
    assert openpyxl.load_workbook(workbook).sheetnames == ["etablissement", "lieux", "services", "articles"]
    assert SpreadsheetSource(workbook).read() == demo_content


def test_xlsx_typed_cells_as_excel_writes_them(workbook: Path, demo_content) -> None:
    book = openpyxl.load_workbook(workbook)
    places, wards, articles = book["lieux"], book["services"], book["articles"]
    assert places["H2"].value == "07:30" and places["I2"].value == "19:30"
    places["H2"].value, places["H2"].number_format = dt.time(7, 30), "hh:mm"
    places["I2"].value, places["I2"].number_format = dt.datetime(1899, 12, 30, 19, 30), "hh:mm"
    assert wards["J2"].value == 2
    wards["J2"].value = 2.0
    assert isinstance(articles["H2"].value, dt.datetime)
    articles["H3"].value = "02/11/2026"  # as French Excel shows a date typed as text
    book.save(workbook)
    assert SpreadsheetSource(workbook).read() == demo_content


def test_handwritten_csv_semicolons_bom_and_french_headers(tmp_path: Path) -> None:
    folder = tmp_path / "saisie"
    folder.mkdir()
    tables = {
        "etablissement": "Champ;Valeur\nname;Hôpital de Test\nshort_name;HT\naddress;1 rue de la Paix, 75000 Paris\n"
        "switchboard_phone;01 00 00 00 00\nswitchboard_hours;24h/24\npatient_portal;Mon espace\n",
        "lieux": "Slug;Nom;Synonymes;Emplacement;Téléphone;Ouvert 24h;Jours;Ouverture;Fermeture;Remarque\n"
        "accueil;accueil principal;\"accueil ; hall \";;;;lundi-vendredi;7h30;19:30:00;\n"
        "accueil;;;;;;samedi;09:00;17:00;\n"
        "\n"
        "urgences;urgences;urgence;bâtiment B;;Oui;;;;24h/24\n",
        "services": "slug;nom;synonymes;défaut;remarque;public;toute la journée;ouverture;fermeture;visiteurs max;âge min\n"
        "general;hospitalisation;;oui;;visiteurs;;13:00;20:00;2;\n"
        "pediatrie;pédiatrie;;;;les parents;oui;;;;\n"
        "pediatrie;;;;;les autres visiteurs;non;15:00;19:00;;12\n",
        "articles": "slug;thème;titre;texte;mots-clés;liés;source;mis à jour le;afficher date\n"
        'jeun;preoperatoire;À jeun;"Ne mangez pas ;\nbuvez de l\'eau.";jeûne;;Anesthésie;02/11/2026;oui\n',
    }
    for name, text in tables.items():
        (folder / f"{name}.csv").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))

    content = SpreadsheetSource(folder).read()

    assert content.organisation.name == "Hôpital de Test"
    accueil, urgences = content.places
    assert accueil.synonyms == ["accueil", "hall"]
    assert [(h.days, f"{h.opens:%H:%M}", f"{h.closes:%H:%M}") for h in accueil.hours] == [
        ("lundi-vendredi", "07:30", "19:30"),
        ("samedi", "09:00", "17:00"),
    ]
    assert urgences.always_open and urgences.hours == [] and urgences.location == "bâtiment B"
    general, pediatrie = content.wards
    assert general.default and general.rules[0].max_visitors == 2
    assert [(r.audience, r.all_day, r.min_age) for r in pediatrie.rules] == [("les parents", True, None), ("les autres visiteurs", False, 12)]
    (article,) = content.articles
    assert article.body == "Ne mangez pas ;\nbuvez de l'eau."
    assert article.updated_at == dt.date(2026, 11, 2) and article.show_updated_at and article.keywords == ["jeûne"]


def test_bad_time_names_file_row_and_column(csv_folder: Path) -> None:
    # Row 3 is the second opening period of « accueil » (row 2 is its first).
    edit_csv(csv_folder / "lieux.csv", lambda rows: rows[2].__setitem__(8, "25:00"))
    errors = read_errors(csv_folder)
    assert [(e.source, e.line, e.field) for e in errors.errors] == [("lieux.csv", 3, "fermeture")]
    assert "lieux.csv, ligne 3, champ « fermeture » : heure « 25:00 » invalide" in str(errors)


def test_bad_days_on_a_later_row(csv_folder: Path) -> None:
    edited = []

    def edit(rows):
        index = next(i for i, r in enumerate(rows) if r[0] == "cafeteria")
        rows[index][6] = "lundi-dimonche"
        edited.append(index + 1)  # spreadsheet rows count from 1, the header included

    edit_csv(csv_folder / "lieux.csv", edit)
    (error,) = read_errors(csv_folder).errors
    assert (error.source, error.line, error.field) == ("lieux.csv", edited[0], "jours")
    assert "« dimonche » inconnu" in error.message


def test_missing_and_unknown_columns(csv_folder: Path) -> None:
    def edit(rows):
        for row in rows:
            del row[1]  # nom
        rows[0].append("Horaires d'été")

    edit_csv(csv_folder / "lieux.csv", edit)
    errors = read_errors(csv_folder)
    found = {(e.source, e.line, e.field, e.message.split(" (")[0]) for e in errors.errors}
    assert ("lieux.csv", 1, "nom", "colonne obligatoire manquante") in found
    assert ("lieux.csv", 1, "Horaires d'été", "colonne inconnue") in found
    assert "lieux.csv, ligne 1, champ « nom » : colonne obligatoire manquante" in str(errors)


def test_model_messages_speak_of_columns(csv_folder: Path) -> None:
    def edit(rows):
        urgences = next(r for r in rows if r[0] == "urgences")
        urgences[5] = "non"

    edit_csv(csv_folder / "lieux.csv", edit)
    (error,) = read_errors(csv_folder).errors
    assert error.source == "lieux.csv" and "« ouvert_24h : oui »" in error.message and "always_open" not in error.message


def test_following_row_must_not_contradict_the_first(csv_folder: Path) -> None:
    edit_csv(csv_folder / "lieux.csv", lambda rows: rows[2].__setitem__(1, "autre nom"))
    (error,) = read_errors(csv_folder).errors
    assert (error.source, error.line, error.field) == ("lieux.csv", 3, "nom")
    assert "première ligne (2)" in error.message


def test_duplicate_slug_and_missing_table(csv_folder: Path) -> None:
    edit_csv(csv_folder / "services.csv", lambda rows: rows.append(["general", "doublon", "", "oui", "", "visiteurs", "", "10:00", "11:00", "", ""]))
    (csv_folder / "articles.csv").unlink()
    errors = read_errors(csv_folder).errors
    assert any(e.source == "articles.csv" and "fichier manquant" in e.message for e in errors)
    duplicate = next(e for e in errors if e.source == "services.csv")
    assert duplicate.field == "slug" and "déjà utilisé (ligne 2)" in duplicate.message
    assert any(e.source == "services.csv" and e.field == "defaut" for e in errors)  # two default wards


def test_xlsx_error_names_sheet_row_and_column(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)
    book["services"]["J2"].value = "deux"
    del book["articles"]
    book.save(workbook)
    errors = read_errors(workbook)
    assert "valmont.xlsx, feuille « services », ligne 2, champ « visiteurs_max » : un nombre entier est attendu" in str(errors)
    assert any(e.source == "valmont.xlsx" and "feuille « articles » manquante" in e.message for e in errors.errors)


def test_missing_workbook_or_folder(tmp_path: Path) -> None:
    assert "introuvable" in str(read_errors(tmp_path / "absent.xlsx"))
    assert "introuvable" in str(read_errors(tmp_path / "absent"))
