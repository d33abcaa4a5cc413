"""The actions behind the dialogues (follow-ups, documents, handover, feedback, voice wording),
run as the action server runs them, against a real SQLite knowledge base and a fixed clock."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions import records
from actions.articles import ActionAnswerArticle
from actions.documents import ActionDocumentAnswer, ValidateDocumentForm
from actions.feedback import ActionRecordRemark, ActionStoreFeedback
from actions.followup import ActionFollowUp
from actions.handover import ActionHandover, ActionSaveCallback, ActionTransfer, ValidateCallbackForm
from actions.opening_hours import ActionOpeningHours
from actions.spoken_numbers import french_phone
from actions.time_expressions import stay_age
from actions.visiting_hours import ActionVisitChildren
from store.engine import session_factory
from tests.action_harness import run, texts, tracker, user

TUESDAY_NIGHT = "2026-11-24T22:00:00"


def rows(db_url: str, model) -> list:
    with session_factory(db_url)() as session:
        return list(session.execute(select(model)).scalars())


# ------------------------------------------------------------------ opening hours on a day
def test_opening_hours_on_the_day_asked(demo_kb, clock) -> None:
    messages, _ = run(ActionOpeningHours(), tracker(user("le labo est ouvert samedi ?", "ask_opening_hours", {"place": "laboratoire", "day": "samedi"})))
    assert "Le samedi, laboratoire d'analyses (prises de sang) : ouvert de 7h30 à 12h." in texts(messages)
    messages, _ = run(ActionOpeningHours(), tracker(user("la radio ouvre le week-end ?", "ask_opening_hours", {"place": "imagerie", "day": "weekend"})))
    assert "Le samedi, service d'imagerie (radiologie, scanner, IRM) : fermé." in texts(messages)
    assert "Le dimanche" in texts(messages)


def test_tomorrow_is_read_from_the_hospital_clock(demo_kb, clock) -> None:
    clock("2026-11-28T10:00:00")  # a Saturday: tomorrow is Sunday
    messages, _ = run(ActionOpeningHours(), tracker(user("l'accueil ouvre demain ?", "ask_opening_hours", {"place": "accueil", "day": "demain"})))
    assert "Le dimanche, accueil principal : fermé." in texts(messages)


# ------------------------------------------------------------------ follow-ups
def test_and_on_saturday_continues_the_opening_hours_question(demo_kb, clock) -> None:
    track = tracker(user("horaires du labo", "ask_opening_hours", {"place": "laboratoire"}), user("et le samedi ?", "inform", {"day": "samedi"}))
    messages, events = run(ActionFollowUp(), track)
    assert "Le samedi, laboratoire d'analyses (prises de sang) : ouvert de 7h30 à 12h." in texts(messages)
    assert events == [SlotSet("pending_question", "feedback")]


def test_another_place_keeps_the_day_asked(demo_kb, clock) -> None:
    track = tracker(user("le labo est ouvert samedi ?", "ask_opening_hours", {"place": "laboratoire", "day": "samedi"}), user("et l'accueil ?", "inform", {"place": "accueil"}))
    messages, _ = run(ActionFollowUp(), track)
    assert "Le samedi, accueil principal : ouvert de 9h à 17h." in texts(messages)


def test_and_for_the_maternity_continues_the_visiting_question(demo_kb, clock) -> None:
    track = tracker(user("horaires de visite en réa", "ask_visiting_hours", {"ward": "reanimation"}), user("et pour la maternité ?", "inform", {"ward": "maternite"}))
    messages, _ = run(ActionFollowUp(), track)
    assert "de 15h à 20h" in texts(messages) and "conjoint" in texts(messages)


def test_and_for_a_child_after_intensive_care_visits(demo_kb, clock) -> None:
    track = tracker(user("visites en réanimation ?", "ask_visiting_hours", {"ward": "reanimation"}), user("et pour un enfant ?", "ask_visit_children"))
    messages, _ = run(ActionVisitChildren(), track)
    assert "pas d'enfants de moins de 15 ans" in texts(messages)


def test_a_document_named_as_a_follow_up_starts_the_form(demo_kb, clock) -> None:
    track = tracker(user("je voudrais un document", "request_document"), user("un certificat", "inform", {"document_type": "certificat_medical"}))
    _, events = run(ActionFollowUp(), track)
    assert events == [FollowupAction("document_form")]


def test_a_fragment_without_context_asks_to_rephrase(demo_kb, clock) -> None:
    messages, _ = run(ActionFollowUp(), tracker(user("et le samedi ?", "inform", {"day": "samedi"})))
    assert messages[0]["response"] == "utter_ask_rephrase"


# ------------------------------------------------------------------ documents
def test_the_form_asks_nothing_more_than_the_document() -> None:
    form = ValidateDocumentForm()
    record = tracker(user("copie de mon dossier", "request_medical_record"), slots={"document_type": "dossier_medical"})
    assert asyncio.run(form.required_slots([], CollectingDispatcher(), record, {})) == ["document_type"]


def _validate(value: str, text: str, intent: str = "request_document"):
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateDocumentForm().validate_document_type(value, dispatcher, tracker(user(text, intent)), {}))
    return result, dispatcher.messages


@pytest.mark.parametrize(
    ("value", "text", "expected"),
    [
        ("compte rendu de mon séjour", "je voudrais le compte rendu de mon séjour", "compte_rendu"),
        ("rapport d'opération", "il me faut le rapport d'opération", "compte_rendu"),
        ("attestation de présence", "une attestation de présence pour mon travail", "bulletin_situation"),
        ("arret maladie", "jvoudrai un arret maladie", "arret_travail"),
        ("résultats de prise de sang", "mes résultats de prise de sang", "resultats"),
        ("bultin de situation", "un bultin de situation svp", "bulletin_situation"),
        ("papier", "le papier pour la cpam, le justificatif", "bulletin_situation"),
    ],
)
def test_a_document_named_in_the_patients_words_is_the_canonical_one(demo_kb, value, text, expected) -> None:
    result, messages = _validate(value, text)
    assert result == {"document_type": expected} and messages == []


def test_an_entity_the_kb_does_not_name_falls_back_on_the_intent(demo_kb) -> None:
    assert _validate("truc", "il me faut le truc de ma sortie", "request_report")[0] == {"document_type": "compte_rendu"}


def test_an_unnamed_document_is_asked_without_an_error_sentence(demo_kb) -> None:
    result, messages = _validate("un papier", "il me faudrait un papier")
    assert result == {"document_type": None} and messages == []  # the form then asks which document, with buttons


def test_a_really_ambiguous_document_asks_between_the_close_ones(demo_kb) -> None:
    result, messages = _validate("certificat ou attestation", "un certificat ou une attestation je sais plus")
    assert result == {"document_type": None}
    assert messages[0]["text"].startswith("Parlez-vous du") and " ou " in messages[0]["text"]
    assert {b["payload"] for b in messages[0]["buttons"]} == {'/inform{"document_type":"bulletin_situation"}', '/inform{"document_type":"certificat_medical"}'}
    assert "connais pas" not in messages[0]["text"]


@pytest.mark.parametrize(
    ("said", "delay", "not_delay"),
    [
        ("J'ai été opérée du genou en 2013, comment je récupère mon dossier ?", "2 mois", "8 jours"),
        ("mon dossier médical de mon accouchement cet été svp", "8 jours", "2 mois"),
        ("euh j'étais hospitalisé il y a trois semaines, je voudrais mon dossier", "8 jours", "2 mois"),
        ("ca remonte a loin vingt ans au moins, je veux mon dossier medical", "2 mois", "8 jours"),
        ("copie dossier medical sejour en deux mille dix", "2 mois", "8 jours"),
    ],
)
def test_the_first_message_dates_the_stay(demo_kb, clock, said, delay, not_delay) -> None:
    track = tracker(user(said, "request_medical_record"), slots={"document_type": "dossier_medical"})
    messages, _ = run(ActionDocumentAnswer(), track)
    assert delay in messages[0]["text"] and not_delay not in messages[0]["text"]
    assert all(m.get("response") != "utter_offer_stay_age" for m in messages)


def test_a_later_message_of_the_request_dates_the_stay(demo_kb, clock) -> None:
    track = tracker(
        user("il me faut un document", "request_document"),
        user("la copie de mon dossier, mon opération date de 2012", "inform", {"document_type": "dossier_medical"}),
        slots={"document_type": "dossier_medical"},
    )
    messages, _ = run(ActionDocumentAnswer(), track)
    assert "2 mois" in messages[0]["text"] and "8 jours" not in messages[0]["text"]


def test_without_the_stay_s_age_both_delays_are_given_and_the_patient_may_say_more(demo_kb, clock) -> None:
    track = tracker(user("comment avoir mon dossier médical ?", "request_medical_record"), slots={"document_type": "dossier_medical"})
    messages, events = run(ActionDocumentAnswer(), track)
    text = texts(messages)
    assert "8 jours" in text and "2 mois" in text and "directeur" in text and "12 avenue des Tilleuls" in text
    assert any(m.get("response") == "utter_offer_stay_age" for m in messages)
    assert SlotSet("pending_question", "feedback") in events


def test_the_age_buttons_after_the_answer_give_that_delay(demo_kb, clock) -> None:
    track = tracker(user("comment avoir mon dossier médical ?", "request_medical_record"), user("/inform", "inform", {"stay_age": "old"}))
    messages, _ = run(ActionFollowUp(), track)
    assert "2 mois" in messages[0]["text"] and "8 jours" not in messages[0]["text"]


@pytest.mark.parametrize(("age", "delay", "not_delay"), [("recent", "8 jours", "2 mois"), ("old", "2 mois", "8 jours")])
def test_medical_record_answer_gives_the_delay_of_the_case_and_where_to_write(demo_kb, clock, age, delay, not_delay) -> None:
    track = tracker(user("plus de cinq ans", "inform"), slots={"document_type": "dossier_medical", "stay_age": age})
    messages, events = run(ActionDocumentAnswer(), track)
    first = messages[0]["text"]
    assert delay in first and not_delay not in first
    assert "demande écrite au directeur" in texts(messages) and "pièce d'identité" in texts(messages)
    assert "12 avenue des Tilleuls, 45000 Valmont" in texts(messages)
    assert SlotSet("document_type", None) in events and SlotSet("pending_question", "feedback") in events


def test_other_documents_get_their_own_article(demo_kb, clock) -> None:
    messages, _ = run(ActionDocumentAnswer(), tracker(user("bulletin", "inform"), slots={"document_type": "bulletin_situation"}))
    assert "bureau des admissions" in texts(messages) and "48 heures" in texts(messages)


# ------------------------------------------------------------------ handover
def test_during_office_hours_the_right_service_is_offered_with_a_summary(demo_kb, clock) -> None:
    track = tracker(
        user("je voudrais une copie de mon dossier médical", "request_medical_record", {"document_type": "dossier_medical"}),
        user("je veux parler à quelqu'un", "request_human"),
        slots={"stay_age": "old"},
    )
    messages, events = run(ActionHandover(), track)
    text = texts(messages)
    assert "bureau des admissions" in text and "ouvert jusqu'à 18h" in text
    assert "motif : copie du dossier médical" in text and "séjour de plus de 5 ans" in text and "Canal site web" in text
    assert SlotSet("office_open", True) in events and SlotSet("pending_question", "transfer") in events


def test_accepted_transfer_is_recorded_and_handed_to_the_channel(demo_kb, clock) -> None:
    track = tracker(user("oui", "affirm"), slots={"handover_service": "facturation", "handover_summary": "Canal rest · motif : paiement d'une facture"})
    messages, _ = run(ActionTransfer(), track)
    handover = next(m["custom"]["handover"] for m in messages if m.get("custom"))
    assert handover["service"] == "facturation" and handover["summary"].endswith("paiement d'une facture")
    [row] = rows(demo_kb, records.HandoverRequest)
    assert row.kind == "transfer" and row.service == "facturation"


def test_outside_office_hours_a_callback_is_taken_and_stored(demo_kb, clock) -> None:
    clock(TUESDAY_NIGHT)
    track = tracker(user("comment payer ma facture", "pay_bill"), user("je veux être rappelé", "request_human"))
    messages, events = run(ActionHandover(), track)
    assert "fermé en ce moment" in texts(messages) and "Il rouvre demain à 9h." in texts(messages)
    assert SlotSet("office_open", False) in events
    summary = next(e["value"] for e in events if e.get("name") == "handover_summary")
    saved = tracker(
        user("pour payer", "out_of_scope"),
        slots={"handover_service": "facturation", "handover_summary": summary, "callback_name": "Jeanne Martin", "callback_phone": "06 12 34 56 78", "callback_reason": "payer ma facture"},
    )
    messages, events = run(ActionSaveCallback(), saved)
    assert "Jeanne Martin" in texts(messages) and "06 12 34 56 78" in texts(messages) and "demain à 9h" in texts(messages)
    [row] = rows(demo_kb, records.HandoverRequest)
    assert (row.kind, row.service, row.phone, row.reason) == ("callback", "facturation", "06 12 34 56 78", "payer ma facture")
    assert "paiement d'une facture" in row.summary and row.callback_at == dt.datetime(2026, 11, 25, 9, 0)
    assert SlotSet("callback_phone", None) in events


@pytest.mark.parametrize(
    ("said", "expected"),
    [
        ("06 12 34 56 78", "06 12 34 56 78"),
        ("0612345678", "06 12 34 56 78"),
        ("+33 6 12 34 56 78", "06 12 34 56 78"),
        ("zéro six douze trente quatre cinquante six soixante dix huit", "06 12 34 56 78"),
        ("mon numéro c'est le 02.38.00.11.00", "02 38 00 11 00"),
        ("12 34 56", None),
        ("00 12 34 56 78", None),
        ("je ne sais pas", None),
    ],
)
def test_french_phone_numbers(said, expected) -> None:
    assert french_phone(said) == expected


def test_callback_form_refuses_a_number_that_is_not_french() -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateCallbackForm().validate_callback_phone("123", dispatcher, tracker(user("123", "out_of_scope")), {})
    assert result == {"callback_phone": None} and dispatcher.messages[0]["response"] == "utter_callback_phone_invalid"
    assert ValidateCallbackForm().validate_callback_name("je m'appelle Jeanne Martin", CollectingDispatcher(), tracker(user("x", "greet")), {}) == {"callback_name": "Jeanne Martin"}


@pytest.mark.parametrize(
    ("said", "expected"),
    [("il y a dix ans", "old"), ("en 2023", "recent"), ("plus de cinq ans", "old"), ("moins de 5 ans", "recent"), ("il y a trois mois", "recent"), ("je ne sais plus", None)],
)
def test_age_of_a_stay(said, expected) -> None:
    assert stay_age(said, dt.date(2026, 11, 24)) == expected


# ------------------------------------------------------------------ feedback and remarks
def test_yes_and_no_to_did_it_help_are_stored(demo_kb, clock) -> None:
    asked = user("je peux fumer avant l'opération ?", "ask_preop_smoking")
    messages, events = run(ActionStoreFeedback(), tracker(asked, user("oui", "affirm")))
    assert messages[0]["response"] == "utter_glad_it_helped" and SlotSet("answer_helpful", True) in events
    messages, events = run(ActionStoreFeedback(), tracker(asked, user("non", "deny")))
    assert messages[0]["response"] == "utter_offer_human" and SlotSet("pending_question", "handover_offer") in events
    stored = rows(demo_kb, records.AnswerFeedback)
    assert [(r.intent, r.helpful, r.sender_id) for r in stored] == [("ask_preop_smoking", True, "patient-1"), ("ask_preop_smoking", False, "patient-1")]


def test_a_remark_on_the_hospital_is_stored(demo_kb, clock) -> None:
    messages, _ = run(ActionRecordRemark(), tracker(user("l'équipe de la maternité a été formidable", "satisfaction_feedback")))
    assert messages[0]["response"] == "utter_remark_recorded"
    [row] = rows(demo_kb, records.AnswerFeedback)
    assert row.comment == "l'équipe de la maternité a été formidable" and row.helpful is None


# ------------------------------------------------------------------ channel-aware wording
def test_voice_answers_have_no_buttons_links_or_lists(demo_kb, clock) -> None:
    web, _ = run(ActionAnswerArticle(), tracker(user("comment payer ma facture", "pay_bill")))
    voice, _ = run(ActionAnswerArticle(), tracker(user("comment payer ma facture", "pay_bill", channel="voice")))
    assert any(m.get("buttons") for m in web) and "\n- " in texts(web)
    assert not any(m.get("buttons") for m in voice)
    assert not any("\n" in (m.get("text") or "") for m in voice)
    assert "À voir aussi" not in texts(voice) and "virement" in texts(voice)
    assert voice[-1]["response"] == "utter_ask_feedback"


def test_links_are_clickable_on_the_web_and_said_by_their_title_on_the_phone(demo_kb, clock) -> None:
    from actions.articles import ActionShowArticle

    message = user("/show_article", "show_article", {"article": "portail-patient"})
    web, _ = run(ActionShowArticle(), tracker(message))
    voice, _ = run(ActionShowArticle(), tracker(user("/show_article", "show_article", {"article": "portail-patient"}, channel="voice")))
    assert "[Mon espace patient](https://patient.ch-valmont.fr)" in texts(web)
    assert "Pour vous connecter : Mon espace patient." in texts(voice) and "http" not in texts(voice)


def test_an_emergency_stops_the_form_and_forgets_what_it_gathered(demo_kb) -> None:
    from rasa_sdk.events import ActiveLoop

    from actions.feedback import ActionStopForm

    _, events = run(ActionStopForm(), tracker(user("il ne respire plus", "emergency"), slots={"document_type": "dossier_medical"}))
    assert events[0] == ActiveLoop(None) and SlotSet("document_type", None) in events and SlotSet("requested_slot", None) in events


def test_an_article_answer_adds_the_hours_of_the_place_it_names(demo_kb, clock) -> None:
    messages, _ = run(ActionAnswerArticle(), tracker(user("je peux régler à la caisse ?", "pay_bill", {"place": "facturation"})))
    assert "Horaires : Service facturation : ouvert du lundi au vendredi de 9h à 16h30" in messages[0]["text"]


def test_a_misunderstood_message_naming_a_place_gets_its_hours(demo_kb, clock) -> None:
    from actions.fallback import ActionFallbackSuggestions

    messages, _ = run(ActionFallbackSuggestions(), tracker(user("passer aux admissions pour mon entree", "nlu_fallback", {"place": "admissions"})))
    assert "du lundi au vendredi de 7h30 à 18h" in texts(messages)


def test_two_documents_asked_together_are_both_answered(demo_kb, clock) -> None:
    said = "je voudrais les résultats de ma prise de sang et le compte rendu de mon hospitalisation"
    result, messages = _validate("résultats", said, "request_results")
    assert result == {"document_type": "resultats"} and messages == []
    track = tracker(user(said, "request_results"), slots={"document_type": "resultats"})
    text = texts(run(ActionDocumentAnswer(), track)[0])
    assert "Mon espace patient" in text and "8 jours" in text and "Pour votre autre demande (compte rendu" in text
