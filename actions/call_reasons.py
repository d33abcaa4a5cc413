"""The answers of the call reasons (`core.catalogue.CALL_REASONS`) that the actions give: the intents answered by
their article alone, and the documents a patient may ask for, with their articles and services.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.catalogue import CALL_REASONS


@dataclass(frozen=True)
class DocumentKind:
    label: str
    article: str
    service: str


# Intents whose answer is exactly the article (the others have actions of their own).
ARTICLE_INTENTS = [
    intent
    for intent, reason in CALL_REASONS.items()
    if reason.article and intent != "ask_visit_children"
]

DOCUMENTS: dict[str, DocumentKind] = {
    "dossier_medical": DocumentKind("copie du dossier médical", "documents-dossier-medical", "admissions"),
    "bulletin_situation": DocumentKind("bulletin de situation", "documents-bulletin-situation", "admissions"),
    "compte_rendu": DocumentKind("compte rendu d'hospitalisation ou d'opération", "documents-compte-rendu", "accueil"),
    "certificat_medical": DocumentKind("certificat médical", "documents-certificat-medical", "accueil"),
    "arret_travail": DocumentKind("arrêt de travail", "documents-arret-travail", "accueil"),
    "resultats": DocumentKind("résultats d'examens", "documents-resultats", "accueil"),
    "facture": DocumentKind("facture", "documents-facture", "facturation"),
}

DOCUMENT_INTENTS: dict[str, str] = {
    "request_medical_record": "dossier_medical",
    "request_hospitalisation_certificate": "bulletin_situation",
    "request_report": "compte_rendu",
    "request_medical_certificate": "certificat_medical",
    "request_sick_leave": "arret_travail",
    "request_results": "resultats",
    "request_bill": "facture",
}

# The medical record's delay depends on the age of the stay: one article per case.
RECORD_DELAY_ARTICLES = {"recent": "documents-dossier-medical-recent", "old": "documents-dossier-medical-ancien"}
