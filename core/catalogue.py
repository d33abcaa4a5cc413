"""The catalogue of what the conversations are made of: the names, in the domain (`bot/domain/`), of the intents,
actions and responses the code looks for, Rasa's input channels, the call reasons, the outcomes of a
conversation, their French labels, and when two patient sentences are the same.

The actions, the event broker (`bot/metrics_broker.py`), the analytics and the studio all read it, so
that they agree on what a conversation says; `tests/test_catalogue.py` checks that the names exist in
the domain and that no other module keeps a list of its own.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# Intents.
GREET, GOODBYE, THANK, INSULT = "greet", "goodbye", "thank", "insult"
AFFIRM, DENY = "affirm", "deny"
INFORM = "inform"  # a detail given when asked (a name, a date), not a question
EMERGENCY_INTENT = "emergency"
HUMAN_INTENT = "request_human"
OUT_OF_SCOPE = "out_of_scope"
SATISFACTION_FEEDBACK = "satisfaction_feedback"
REQUEST_DOCUMENT = "request_document"
SHOW_ARTICLE_INTENT = "show_article"  # a button of the fallback suggestions: only ever clicked
FALLBACK_INTENT = "nlu_fallback"  # Rasa's own, set by the FallbackClassifier

# Actions and responses.
FALLBACK_ACTION = "action_fallback_suggestions"
FEEDBACK_RESPONSE = "utter_ask_feedback"
TRANSFER_ACTION = "action_transfer"
CALLBACK_ACTION = "action_save_callback"
SESSION_START_ACTION = "action_session_start"  # Rasa's own
LISTEN_ACTION = "action_listen"  # Rasa's own

# Messages that carry no question of the patient: politeness, yes or no, asking for a human.
SMALL_TALK_INTENTS = frozenset({GREET, GOODBYE, THANK, INSULT, AFFIRM, DENY, HUMAN_INTENT})
# Intents that say nothing of why the person came: never a call reason (the main intent of a conversation
# in the analytics, the reasons a known caller is reminded of).
NOT_A_CALL_REASON = SMALL_TALK_INTENTS | {INFORM, OUT_OF_SCOPE, SATISFACTION_FEEDBACK, FALLBACK_INTENT}
# Messages that answer the assistant rather than ask something: they do not change the topic of the
# conversation (the actions' follow-up questions). An emergency or a chosen suggestion is not a new topic either.
NOT_A_QUESTION = SMALL_TALK_INTENTS | {INFORM, FALLBACK_INTENT, EMERGENCY_INTENT, SHOW_ARTICLE_INTENT}

# Rasa's input channels (`bot/web_channels.py`, `bot/voice_channel.py`) and the groups the analytics,
# the metrics and the studio count them in.
VOICE_CHANNEL = "voice"
WEB_CHANNELS = ("rest", "socketio")
SHELL_CHANNEL = "cmdline"  # `rasa shell`
WEB, VOICE = "web", "voice"
CHANNEL_GROUPS = (WEB, VOICE)
CHANNELS = {**dict.fromkeys(WEB_CHANNELS, WEB), VOICE_CHANNEL: VOICE}
CHANNEL_LABELS = {WEB: "site web", VOICE: "téléphone", SHELL_CHANNEL: "terminal"}


def channel_label(channel: str | None) -> str:
    """The French name of an input channel or of a group ("socketio", "web": "site web"); others as they are."""
    channel = channel or ""
    return CHANNEL_LABELS.get(CHANNELS.get(channel, channel), channel)


# How a conversation ended (the analytics), in French for the dashboard and the report.
ANSWERED, HANDED_OVER, CALLBACK, ABANDONED, EMERGENCY = "answered", "handed_over", "callback", "abandoned", "emergency"
OUTCOME_LABELS = {
    ANSWERED: "répondu",
    HANDED_OVER: "transféré",
    CALLBACK: "rappel demandé",
    ABANDONED: "abandonné",
    EMERGENCY: "urgence",
}
# How a handover is made (the actions' handover requests and contacts, the metrics), in French for the staff.
TRANSFER_KIND, CALLBACK_KIND = "transfer", "callback"
HANDOVER_KIND_LABELS = {CALLBACK_KIND: "Demande de rappel", TRANSFER_KIND: "Transfert"}


@dataclass(frozen=True)
class CallReason:
    label: str  # French, for the handover summary
    service: str  # slug of the place whose staff takes over
    article: str | None = None  # the article that answers it, when the answer is an article
    topic: str = ""  # French, with its article, as said after "au sujet de" ("votre compte rendu d'hospitalisation")


# What each call reason is about. Services are places of the knowledge base (their hours say when a human is
# there to take over); articles are the editors' texts. Both are named by slug only, never by their content.
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

# The French names of the intents that are not call reasons, for the dashboard and the report.
OTHER_INTENT_LABELS = {
    EMERGENCY_INTENT: "urgence vitale",
    HUMAN_INTENT: "demande de conseiller",
    FALLBACK_INTENT: "message non compris",
    GREET: "salutation",
    GOODBYE: "au revoir",
    THANK: "remerciement",
    AFFIRM: "oui",
    DENY: "non",
    INFORM: "précision",
    INSULT: "insulte",
    SHOW_ARTICLE_INTENT: "article choisi parmi les suggestions",
}


def intent_label(intent: str) -> str | None:
    """The French name of an intent ("copie du dossier médical"), None for one without (created in the studio)."""
    return CALL_REASONS[intent].label if intent in CALL_REASONS else OTHER_INTENT_LABELS.get(intent)


def normalise_sentence(text: str) -> str:
    """A sentence reduced to what makes it the sentence it is: lower case, no accents, punctuation or repeated spaces.

    Two sentences with the same normalised text are the same sentence: one training example twice, a held-out
    sentence that is also a training one, two patients' messages that the studio's inbox groups. Patients
    type accents or not, so "ou est l'hopital" is "Où est l'hôpital ?".
    """
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[\W_]+", " ", text).split())
