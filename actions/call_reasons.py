"""What each call reason is about: its French label, the article that answers it, the service that takes over.

Services are places of the knowledge base (their hours say when a human is
there to take over); articles are the editors' texts. Both are named here by
slug only, never by their content.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CallReason:
    label: str  # French, for the handover summary
    service: str  # slug of the place whose staff takes over
    article: str | None = None  # the article that answers it, when the answer is an article
    topic: str = ""  # French, with its article, as said after "au sujet de" ("votre compte rendu d'hospitalisation")


@dataclass(frozen=True)
class DocumentKind:
    label: str
    article: str
    service: str


CALL_REASONS: dict[str, CallReason] = {
    "ask_opening_hours": CallReason("horaires d'ouverture", "accueil", topic="les horaires d'ouverture"),
    "ask_visiting_hours": CallReason("horaires de visite", "accueil", topic="les horaires de visite"),
    "ask_visit_children": CallReason("visite des enfants", "accueil", "visites-enfants", topic="la visite des enfants"),
    "ask_visit_flowers": CallReason("fleurs et plantes en visite", "accueil", "visites-fleurs", topic="les fleurs et les plantes en visite"),
    "ask_visit_number": CallReason("nombre de visiteurs", "accueil", topic="le nombre de visiteurs"),
    "ask_preop_fasting": CallReason("jeûne avant l'opération", "consultations", "preop-jeune", topic="le jeûne avant votre opération"),
    "ask_preop_clear_liquids": CallReason("boissons avant l'opération", "consultations", "preop-jeune", topic="les boissons avant votre opération"),
    "ask_preop_smoking": CallReason("tabac avant l'opération", "consultations", "preop-tabac", topic="le tabac avant votre opération"),
    "ask_preop_shower": CallReason("douches avant l'opération", "consultations", "preop-hygiene", topic="la douche avant votre opération"),
    "ask_preop_jewellery": CallReason("bijoux et vernis avant l'opération", "consultations", "preop-hygiene", topic="les bijoux et le vernis avant votre opération"),
    "ask_preop_shaving": CallReason("rasage avant l'opération", "consultations", "preop-hygiene", topic="le rasage avant votre opération"),
    "ask_preop_medication": CallReason("médicaments avant l'opération", "consultations", "preop-medicaments", topic="vos médicaments avant l'opération"),
    "ask_preop_arrival_time": CallReason("heure d'arrivée le jour de l'opération", "consultations", "preop-heure-arrivee", topic="votre heure d'arrivée le jour de l'opération"),
    "ask_preop_day_surgery_return": CallReason("retour à domicile après l'ambulatoire", "consultations", "preop-ambulatoire", topic="votre retour à domicile après l'ambulatoire"),
    "ask_preop_what_to_bring": CallReason("documents à apporter le jour de l'opération", "consultations", "preop-documents", topic="les documents à apporter le jour de l'opération"),
    "ask_preop_minor": CallReason("opération d'un mineur", "consultations", "preop-documents", topic="l'opération d'un mineur"),
    "ask_preop_anaesthesia": CallReason("consultation d'anesthésie", "consultations", "preop-consultation-anesthesie", topic="la consultation d'anesthésie"),
    "ask_admission": CallReason("pré-admission", "admissions", "admission-preadmission", topic="votre pré-admission"),
    "ask_admission_documents": CallReason("documents pour l'admission", "admissions", "admission-documents", topic="les documents pour l'admission"),
    "ask_single_room": CallReason("chambre individuelle", "admissions", "admission-chambre-individuelle", topic="la chambre individuelle"),
    "ask_daily_fee": CallReason("forfait journalier", "facturation", "admission-forfait-journalier", topic="le forfait journalier"),
    "pay_bill": CallReason("paiement d'une facture", "facturation", "facturation-payer", topic="le paiement d'une facture"),
    "request_document": CallReason("demande de document", "admissions", topic="une demande de document"),
    "request_medical_record": CallReason("copie du dossier médical", "admissions", topic="la copie de votre dossier médical"),
    "request_hospitalisation_certificate": CallReason("bulletin de situation", "admissions", topic="votre bulletin de situation"),
    "request_report": CallReason("compte rendu d'hospitalisation", "accueil", topic="votre compte rendu d'hospitalisation"),
    "request_medical_certificate": CallReason("certificat médical", "accueil", topic="un certificat médical"),
    "request_sick_leave": CallReason("arrêt de travail", "accueil", topic="un arrêt de travail"),
    "request_results": CallReason("résultats d'examens", "accueil", topic="vos résultats d'examens"),
    "request_bill": CallReason("facture", "facturation", topic="une facture"),
    "book_appointment": CallReason("prise de rendez-vous", "consultations", "rdv-prendre", topic="une prise de rendez-vous"),
    "move_appointment": CallReason("déplacement d'un rendez-vous", "consultations", "rdv-annuler-deplacer", topic="le déplacement d'un rendez-vous"),
    "cancel_appointment": CallReason("annulation d'un rendez-vous", "consultations", "rdv-annuler-deplacer", topic="l'annulation d'un rendez-vous"),
    "ask_address": CallReason("adresse de l'hôpital", "accueil", "acces-adresse", topic="l'adresse de l'hôpital"),
    "ask_transport": CallReason("venir en transports en commun", "accueil", "acces-transports", topic="l'accès en transports en commun"),
    "ask_parking": CallReason("parking", "accueil", "acces-parking", topic="le parking"),
    "ask_service_contact": CallReason("joindre un service", "standard", "contacts-telephones", topic="le numéro d'un service"),
    "satisfaction_feedback": CallReason("remarque sur l'hôpital", "accueil", topic="une remarque sur l'hôpital"),
    "out_of_scope": CallReason("question hors du champ de l'assistant", "accueil", topic="une question hors du champ de l'assistant"),
}

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

# Messages that answer the assistant rather than ask something: they do not change the topic.
NOT_A_QUESTION = {"greet", "goodbye", "thank", "affirm", "deny", "inform", "insult", "emergency", "request_human", "nlu_fallback", "show_article"}
