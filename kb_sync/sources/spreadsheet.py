"""Spreadsheet source: the knowledge base as four tables, CSV files in a folder or sheets of one .xlsx workbook.

Tables (file `<table>.csv` or sheet `<table>`), with French column headers:
    etablissement   `champ`, `valeur`: one row per organisation field (name, short_name, address…)
    lieux           one row per opening period; a place's following rows repeat its slug
    services        one row per visiting rule; a ward's following rows repeat its slug
    articles        one row per article
Lists (synonymes, mots_cles, lies) are separated by « ; », yes/no columns take oui/non, and an
empty cell means "not given". Errors give rows as the editor sees them (header = row 1).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Iterable, Sequence

from kb_sync.content import ArticleIn, KnowledgeBaseContent, OrganisationIn, PlaceIn, WardIn
from kb_sync.french import strip_accents
from kb_sync.errors import ContentError, ContentInvalid
from kb_sync.sources.base import Source
from kb_sync.validation import Located, Validator
from kb_sync.yaml_lines import LinedDict, LinedList


@dataclass(frozen=True)
class _Table:
    """One table: French column -> model field, the required columns, and the repeated part of multi-row items."""

    columns: dict[str, str]
    required: tuple[str, ...]
    part_key: str | None = None
    part_columns: tuple[str, ...] = ()


TABLES = {
    "etablissement": _Table({"champ": "champ", "valeur": "valeur"}, ("champ", "valeur")),
    "lieux": _Table(
        {"slug": "slug", "nom": "name", "synonymes": "synonyms", "emplacement": "location", "telephone": "phone",
         "ouvert_24h": "always_open", "jours": "days", "ouverture": "opens", "fermeture": "closes", "remarque": "note"},
        ("slug", "nom", "jours", "ouverture", "fermeture"),
        "hours", ("jours", "ouverture", "fermeture"),
    ),
    "services": _Table(
        {"slug": "slug", "nom": "name", "synonymes": "synonyms", "defaut": "default", "remarque": "note",
         "public": "audience", "toute_la_journee": "all_day", "ouverture": "opens", "fermeture": "closes",
         "visiteurs_max": "max_visitors", "age_min": "min_age"},
        ("slug", "nom", "public", "ouverture", "fermeture"),
        "rules", ("public", "toute_la_journee", "ouverture", "fermeture", "visiteurs_max", "age_min"),
    ),
    "articles": _Table(
        {"slug": "slug", "theme": "topic", "titre": "title", "texte": "body", "mots_cles": "keywords", "lies": "related",
         "source": "source", "mis_a_jour_le": "updated_at", "afficher_date": "show_updated_at"},
        ("slug", "theme", "titre", "texte", "source", "mis_a_jour_le"),
    ),
}

_LISTS = {"synonyms", "keywords", "related"}
_BOOLS = {"always_open", "default", "all_day", "show_updated_at"}
_TIMES = {"opens", "closes"}
_INTS = {"max_visitors", "min_age"}
_YES = {"oui", "o", "vrai", "true", "1", "x"}
_NO = {"non", "n", "faux", "false", "0"}
# The models' messages name YAML keys; spreadsheet editors know the French columns.
_MESSAGE_WORDS = {
    "« always_open: true »": "« ouvert_24h : oui »", "« always_open »": "« ouvert_24h »",
    "« hours »": "« jours, ouverture, fermeture »", "« all_day: true »": "« toute_la_journee : oui »",
    "« all_day »": "« toute_la_journee »", "« opens »": "« ouverture »", "« closes »": "« fermeture »",
    "« default: true »": "« defaut : oui »",
}
Rows = list[tuple[int, dict[str, Any]]]


def _fold(text: str) -> str:
    """'Mis à jour le' -> 'mis_a_jour_le': headers and sheet names as staff may type them."""
    plain = strip_accents(str(text).strip().lower())
    return re.sub(r"[\s\-'’]+", "_", plain)


def _clean(cell: Any) -> Any:
    """A cell as read (CSV text or typed Excel value); None when empty."""
    if isinstance(cell, str):
        cell = cell.replace("\r\n", "\n").strip()
        return cell or None
    if isinstance(cell, float) and cell.is_integer():
        return int(cell)
    return cell


def _convert(field: str, value: Any) -> Any:
    """Cell -> model value; what cannot be understood is passed on for pydantic's French error."""
    if field in _LISTS:
        return [part.strip() for part in str(value).split(";") if part.strip()]
    if field in _BOOLS and isinstance(value, str):
        folded = _fold(value)
        return True if folded in _YES else False if folded in _NO else value
    if field in _TIMES:
        if isinstance(value, dt.datetime):
            return value.time()
        if isinstance(value, dt.timedelta):
            minutes = round(value.total_seconds() / 60)
            return f"{minutes // 60:02d}:{minutes % 60:02d}"
        if isinstance(value, str) and (match := re.fullmatch(r"(\d{1,2}:\d{2}):00", value)):
            return match.group(1)  # Excel sometimes writes 07:30:00
    if field == "updated_at":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, str) and (match := re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)):
            day, month, year = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day)  # French Excel CSV: JJ/MM/AAAA
            except ValueError:
                return value
    if field not in _INTS and field not in _BOOLS and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return value


def _fields(table: _Table, values: dict[str, Any], columns: Iterable[str], row: int) -> LinedDict:
    """The model fields given by `columns` in one row, knowing their row for errors."""
    data = LinedDict((table.columns[c], _convert(table.columns[c], values[c])) for c in columns if c in values)
    data.line, data.key_lines = row, {key: row for key in data}
    return data


class _SheetValidator(Validator):
    """Validator whose item errors name the French columns instead of the model fields."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, _Table] = {}

    def item(self, model, data, source, line, prefix=""):
        start = len(self.errors)
        located = super().item(model, data, source, line, prefix)
        self._to_columns(start)
        return located

    def assemble(self, organisation, places, wards, articles) -> KnowledgeBaseContent:
        start = len(self.errors)
        try:
            return super().assemble(organisation, places, wards, articles)
        except ContentInvalid:
            self._to_columns(start)
            raise ContentInvalid(self.errors) from None

    def _to_columns(self, start: int) -> None:
        for index in range(start, len(self.errors)):
            error = self.errors[index]
            field, message = error.field, error.message
            table = self.tables.get(error.source)
            if table and field:
                column = {v: k for k, v in table.columns.items()}
                last = re.sub(r"\[\d+\]", "", field).split(".")[-1]
                field = None if last == table.part_key else column.get(last, last)
            for word, french in _MESSAGE_WORDS.items():
                message = message.replace(word, french)
            self.errors[index] = ContentError(error.source, error.line, field, message)


class SpreadsheetSource(Source):
    """A folder of CSV files, or one .xlsx workbook, holding the tables above."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @property
    def description(self) -> str:
        kind = "classeur" if self.path.suffix.lower() in (".xlsx", ".xlsm") else "dossier CSV"
        return f"{kind} {self.path}"

    def read(self) -> KnowledgeBaseContent:
        check = _SheetValidator()
        tables = self._open_tables(check)
        organisation = self._organisation(check, *tables["etablissement"]) if "etablissement" in tables else None
        places = self._multi_row_items(check, "lieux", PlaceIn, *tables["lieux"]) if "lieux" in tables else []
        wards = self._multi_row_items(check, "services", WardIn, *tables["services"]) if "services" in tables else []
        articles: list[Located] = []
        if "articles" in tables:
            source, rows = tables["articles"]
            located = (check.item(ArticleIn, _fields(TABLES["articles"], values, values, row), source, row) for row, values in rows)
            articles = [a for a in located if a is not None]
        return check.assemble(organisation, places, wards, articles)

    # Reading the tables

    def _open_tables(self, check: _SheetValidator) -> dict[str, tuple[str, Rows]]:
        if self.path.is_dir():
            opened = self._csv_tables(check)
        elif self.path.suffix.lower() in (".xlsx", ".xlsm"):
            opened = self._xlsx_tables(check)
        else:
            check.error(str(self.path), None, None, "dossier de fichiers CSV ou classeur .xlsx introuvable")
            return {}
        tables = {}
        for name, (source, records) in opened.items():
            check.tables[source] = TABLES[name]
            rows = _rows(check, source, TABLES[name], records)
            if rows is not None:
                tables[name] = (source, rows)
        return tables

    def _csv_tables(self, check: Validator) -> dict[str, tuple[str, list[list[str]]]]:
        files = {_fold(path.stem): path for path in sorted(self.path.glob("*.csv"))}
        opened = {}
        for name in TABLES:
            path = files.get(name)
            if path is None:
                check.error(f"{name}.csv", None, None, f"fichier manquant dans le dossier {self.path}")
                continue
            try:
                text = path.read_bytes().decode("utf-8-sig")
            except UnicodeDecodeError:
                check.error(path.name, None, None, "le fichier n'est pas encodé en UTF-8 (dans Excel : « CSV UTF-8 »)")
                continue
            header = text.split("\n", 1)[0]
            delimiter = ";" if header.count(";") > header.count(",") else ","
            opened[name] = (path.name, list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
        return opened

    def _xlsx_tables(self, check: Validator) -> dict[str, tuple[str, list[tuple]]]:
        import openpyxl

        try:
            workbook = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except FileNotFoundError:
            check.error(self.path.name, None, None, "classeur introuvable")
            return {}
        except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
            check.error(self.path.name, None, None, f"classeur illisible ({exc})")
            return {}
        try:
            sheets = {_fold(sheet.title): sheet for sheet in workbook.worksheets}
            opened = {}
            for name in TABLES:
                sheet = sheets.get(name)
                if sheet is None:
                    check.error(self.path.name, None, None, f"feuille « {name} » manquante dans le classeur")
                    continue
                source = f"{self.path.name}, feuille « {sheet.title} »"
                try:  # read_only: a sheet is only unzipped and parsed here
                    opened[name] = (source, list(sheet.iter_rows(values_only=True)))
                except Exception as exc:  # zlib, zipfile or XML errors of a damaged file
                    check.error(source, None, None, f"feuille illisible, le classeur est endommagé ({exc.__class__.__name__})")
            return opened
        finally:
            workbook.close()

    # From rows to items

    def _organisation(self, check: Validator, source: str, rows: Rows) -> Located[OrganisationIn] | None:
        data = LinedDict()
        data.line, data.key_lines = 0, {}
        for row, values in rows:
            key = values.get("champ")
            if key is None:
                check.error(source, row, "champ", "nom du champ manquant")
            elif str(key) in data:
                check.error(source, row, "champ", f"« {key} » est déjà donné ligne {data.key_lines[str(key)]}")
            else:
                data[str(key)] = _convert(str(key), values["valeur"]) if "valeur" in values else None
                data.key_lines[str(key)] = row
        return check.item(OrganisationIn, data, source, None)

    def _multi_row_items(self, check: Validator, name: str, model: type, source: str, rows: Rows) -> list[Located]:
        table = TABLES[name]
        groups: list[Rows] = []
        for row, values in rows:
            if groups and values.get("slug") is not None and groups[-1][0][1].get("slug") == values.get("slug"):
                groups[-1].append((row, values))
            else:
                groups.append([(row, values)])
        located = (self._multi_row_item(check, table, model, source, group) for group in groups)
        return [item for item in located if item is not None]

    def _multi_row_item(self, check: Validator, table: _Table, model: type, source: str, group: Rows) -> Located | None:
        first_row, first = group[0]
        head_columns = [c for c in table.columns if c not in table.part_columns]
        data = _fields(table, first, head_columns, first_row)
        parts = LinedList()
        parts.line, parts.item_lines = first_row, []
        for row, values in group:
            for column in head_columns:
                if row != first_row and column in values and values[column] != first.get(column):
                    check.error(source, row, column, f"cette colonne se remplit sur la première ligne ({first_row}) de « {first['slug']} » : laissez-la vide ou répétez la même valeur")
            part = _fields(table, values, table.part_columns, row)
            if part or table.part_key == "rules":  # a ward's every row is a visiting rule
                parts.append(part)
                parts.item_lines.append(row)
        if parts:
            data[table.part_key] = parts
            data.key_lines[table.part_key] = first_row
        return check.item(model, data, source, first_row)


def _rows(check: Validator, source: str, table: _Table, records: Iterable[Sequence]) -> Rows | None:
    """Check the header row, then give each non-empty row's cells by column; None if the table is unusable."""
    records = iter(records)
    header = next(records, None) or ()
    names = [_fold(cell) if _clean(cell) is not None else "" for cell in header]
    if not any(names):
        check.error(source, 1, None, f"la ligne 1 doit porter les titres des colonnes : {', '.join(table.columns)}")
        return None
    seen: set[str] = set()
    for name, cell in zip(names, header):
        if not name:
            continue
        if name not in table.columns:
            check.error(source, 1, str(cell).strip(), f"colonne inconnue (colonnes permises : {', '.join(table.columns)})")
        elif name in seen:
            check.error(source, 1, name, "colonne en double")
        seen.add(name)
    missing = [column for column in table.required if column not in seen]
    for column in missing:
        check.error(source, 1, column, "colonne obligatoire manquante")
    if missing:
        return None
    rows: Rows = []
    for row, record in enumerate(records, start=2):
        values: dict[str, Any] = {}
        for index, cell in enumerate(record):
            value = _clean(cell)
            name = names[index] if index < len(names) else ""
            if value is not None and not name:
                check.error(source, row, None, f"la valeur « {value} » est dans une colonne sans titre")
            elif value is not None and name in table.columns:
                values.setdefault(name, value)
        if values:
            rows.append((row, values))
    return rows


# Export: a starting spreadsheet for editors, from any content


def export_folder_to_spreadsheet(content: KnowledgeBaseContent, target: Path, *, delimiter: str = ";") -> None:
    """Write `content` as a CSV folder (UTF-8 with BOM, « ; » as French Excel), or as a workbook if `target` ends in .xlsx."""
    target = Path(target)
    tables = {
        "etablissement": [{"champ": key, "valeur": value} for key, value in content.organisation.dict().items()],
        "lieux": _records("lieux", content.places),
        "services": _records("services", content.wards),
        "articles": _records("articles", content.articles),
    }
    if target.suffix.lower() in (".xlsx", ".xlsm"):
        _write_xlsx(tables, target)
    else:
        target.mkdir(parents=True, exist_ok=True)
        for name, records in tables.items():
            with (target / f"{name}.csv").open("w", encoding="utf-8-sig", newline="") as file:
                writer = csv.writer(file, delimiter=delimiter)
                writer.writerow(TABLES[name].columns)
                writer.writerows([_cell(record.get(column), as_text=True) for column in TABLES[name].columns] for record in records)


def _records(name: str, items: list) -> list[dict[str, Any]]:
    """Items -> rows by French column; multi-row items get one row per period or rule."""
    table = TABLES[name]
    column = {field: col for col, field in table.columns.items()}
    records = []
    for item in items:
        data = item.dict()
        parts = data.pop(table.part_key) if table.part_key else []
        head = {column[field]: value for field, value in data.items()}
        for index, part in enumerate(parts or [{}]):
            row = head if index == 0 else {"slug": head["slug"]}
            records.append({**row, **{column[field]: value for field, value in part.items()}})
    return records


def _cell(value: Any, as_text: bool) -> Any:
    if isinstance(value, Enum):
        value = value.value
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        if any(";" in part for part in value):
            raise ValueError(f"« ; » sépare les éléments des listes et ne peut pas figurer dans {value}")
        return "; ".join(value)
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    if value is None:
        return "" if as_text else None
    if isinstance(value, dt.date) and as_text:
        return value.isoformat()
    return str(value) if as_text else value


def _write_xlsx(tables: dict[str, list[dict[str, Any]]], target: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    for name, records in tables.items():
        sheet = workbook.create_sheet(name)
        sheet.append(list(TABLES[name].columns))
        sheet.freeze_panes = "A2"
        for row, record in enumerate(records, start=2):
            for col, column in enumerate(TABLES[name].columns, start=1):
                value = _cell(record.get(column), as_text=False)
                cell = sheet.cell(row=row, column=col, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text, not a formula
                elif isinstance(value, dt.date):
                    cell.number_format = "yyyy-mm-dd"
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)
