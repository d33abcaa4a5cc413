"""Errors an editor can read: which file, which line, which field, what is wrong (in French)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# pydantic v1 error types, in the editors' language.
_FRENCH_MESSAGES = {
    "value_error.missing": "champ obligatoire manquant",
    "value_error.extra": "champ inconnu",
    "type_error.none.not_allowed": "ce champ ne peut pas être vide",
    "type_error.str": "un texte est attendu",
    "type_error.integer": "un nombre entier est attendu",
    "type_error.bool": "oui/non (true/false) est attendu",
    "type_error.list": "une liste est attendue",
    "type_error.dict": "une rubrique (clé: valeur) est attendue",
    "value_error.date": "date invalide (format attendu : AAAA-MM-JJ)",
    "value_error.time": "heure invalide (format attendu : HH:MM)",
    "type_error.time": "heure invalide (format attendu : HH:MM)",
    "value_error.any_str.min_length": "ce champ ne peut pas être vide",
    "type_error.enum": "valeur non autorisée",
    "value_error.number.not_gt": "la valeur doit être positive",
}


def french_message(error_type: str, message: str) -> str:
    """Our own validators already speak French; pydantic's built-in ones are translated."""
    if error_type in ("value_error", "assertion_error"):
        return message
    if error_type == "type_error.enum":
        return message.replace("value is not a valid enumeration member; permitted:", "valeur non autorisée ; valeurs permises :")
    return _FRENCH_MESSAGES.get(error_type, message)


@dataclass(frozen=True)
class ContentError:
    """One problem found in an editor's source."""

    source: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.source
        if self.line is not None:
            where += f", ligne {self.line}"
        if self.field:
            where += f", champ « {self.field} »"
        return f"{where} : {self.message}"


class ContentInvalid(Exception):
    """The sources hold errors: nothing was written, the previous knowledge base keeps serving."""

    def __init__(self, errors: list[ContentError]):
        self.errors = errors
        super().__init__(self.describe())

    def describe(self) -> str:
        lines = [f"{len(self.errors)} erreur(s) dans la base de connaissances, rien n'a été écrit :"]
        lines += [f"  - {error}" for error in self.errors]
        return "\n".join(lines)


def display_path(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)
