"""A short follow-up on another aspect of the previous topic is answered from that topic, whatever intent the NLU gave it."""

from __future__ import annotations

import pytest

from actions.articles import ActionAnswerArticle
from actions.aspects import asked_aspects
from actions.fallback import ActionFallbackSuggestions
from actions.followup import ActionFollowUp
from actions.visiting_hours import ActionVisitingHours
from tests.action_harness import run, texts, tracker, user

RECORD = user("je voudrais une copie de mon dossier médical", "request_medical_record", {"document_type": "dossier_medical"})
RESULTS = user("comment j'ai mes résultats de prise de sang ?", "request_results", {"document_type": "resultats"})
MATERNITY = user("les visites à la maternité c'est quand ?", "ask_visiting_hours", {"ward": "maternite"})
PREOP_DOCUMENTS = user("qu'est-ce que je dois apporter le jour de l'opération ?", "ask_preop_what_to_bring")


@pytest.mark.parametrize(
    ("first", "follow_up", "intent", "action", "expected", "not_expected"),
    [
        (RECORD, "ça coûte quelque chose ?", "ask_daily_fee", ActionAnswerArticle, ["gratuit"], ["20 €"]),
        (RECORD, "et l'adresse pour le courrier ?", "ask_address", ActionAnswerArticle, ["direction", "12 avenue des Tilleuls"], ["bus"]),
        (RECORD, "il faut une copie de ma carte d'identité ?", "ask_admission_documents", ActionAnswerArticle, ["pièce d'identité"], ["carte Vitale"]),
        (RECORD, "je peux le demander sur internet ?", "nlu_fallback", ActionFallbackSuggestions, ["formulaire en ligne"], []),
        (RECORD, "c'est adressé à qui ?", "ask_service_contact", ActionAnswerArticle, ["directeur"], ["02 38 00 11 00"]),
        (RECORD, "ça remonte à 2013", "inform", ActionFollowUp, ["2 mois"], ["8 jours"]),
        (RESULTS, "je les aurai dans combien de temps ?", "nlu_fallback", ActionFallbackSuggestions, ["48 heures"], []),
        (MATERNITY, "mon mari peut rester le matin ?", "ask_single_room", ActionAnswerArticle, ["de 9h à 21h"], ["70 €"]),
        (PREOP_DOCUMENTS, "mon fils a 16 ans ça change quoi", "ask_visit_children", ActionVisitingHours, ["deux parents", "livret de famille"], []),
    ],
)
def test_a_follow_up_gets_that_aspect_of_the_previous_topic(demo_kb, clock, first, follow_up, intent, action, expected, not_expected) -> None:
    messages, _ = run(action(), tracker(first, user(follow_up, intent)))
    text = texts(messages)
    assert all(e in text for e in expected), text
    assert not any(n in text for n in not_expected), text


def test_a_question_that_names_its_own_topic_is_not_a_follow_up(demo_kb, clock) -> None:
    messages, _ = run(ActionAnswerArticle(), tracker(MATERNITY, user("et le parking c'est payant ?", "ask_parking")))
    assert "1,50 €" in texts(messages)


def test_without_a_previous_topic_the_intent_answers(demo_kb, clock) -> None:
    messages, _ = run(ActionAnswerArticle(), tracker(user("ça coûte combien par jour ?", "ask_daily_fee")))
    assert "20 €" in texts(messages)


def test_a_long_message_is_a_question_of_its_own(demo_kb, clock) -> None:
    long = "bonjour je voulais savoir combien coûte une chambre individuelle pour mon séjour en chirurgie la semaine prochaine svp"
    messages, _ = run(ActionAnswerArticle(), tracker(RECORD, user(long, "ask_single_room")))
    assert "70 €" in texts(messages)


@pytest.mark.parametrize(
    ("text", "aspects"),
    [
        ("c'est gratuit ?", {"cost"}),
        ("ça prend combien de temps ?", {"delay"}),
        ("je l'envoie à quelle adresse", {"address"}),
        ("pour ma fille de 12 ans", {"minor"}),
        ("je peux faire ça en ligne ?", {"online"}),
    ],
)
def test_aspects_asked(text, aspects) -> None:
    assert aspects <= {a.name for a in asked_aspects(text)}


def _ranked(text: str, intent: str, *others: str) -> dict:
    turn = user(text, intent)
    turn["parse_data"]["intent_ranking"] = [{"name": intent, "confidence": 0.6}] + [{"name": o, "confidence": 0.1} for o in others]
    return turn


@pytest.mark.parametrize(
    ("text", "intent", "others", "action", "expected"),
    [
        ("on peut venir voir ma mère à quelle heure, et c'est payant le parking ?", "ask_visiting_hours", ("ask_parking",), ActionVisitingHours, ["13h", "1,50 €"]),
        ("on peut venir voir ma mère à quelle heure, et c'est payant le parking ?", "ask_parking", ("ask_visiting_hours",), ActionAnswerArticle, ["13h", "1,50 €"]),
        ("je dois être à jeun combien de temps et je peux fumer la veille ?", "ask_preop_fasting", ("ask_preop_smoking",), ActionAnswerArticle, ["6 heures", "minuit"]),
        ("c'est où l'hôpital et y a un bus ?", "ask_address", ("ask_transport", "ask_parking"), ActionAnswerArticle, ["12 avenue des Tilleuls", "ligne 3"]),
    ],
)
def test_two_questions_in_one_message_get_both_answers(demo_kb, clock, text, intent, others, action, expected) -> None:
    messages, _ = run(action(), tracker(_ranked(text, intent, *others)))
    assert all(e in texts(messages) for e in expected), texts(messages)
    assert all(m.get("response") != "utter_ask_feedback" for m in messages[:-1])


def test_a_runner_up_the_message_does_not_name_adds_nothing(demo_kb, clock) -> None:
    messages, _ = run(ActionAnswerArticle(), tracker(_ranked("c'est combien le parking, pour une journée ?", "ask_parking", "ask_daily_fee")))
    assert "autre question" not in texts(messages)


def test_a_second_question_on_a_place_s_hours(demo_kb, clock) -> None:
    turn = _ranked("je dois faire ma pré-admission, et le bureau des admissions ouvre à quelle heure ?", "ask_admission", "ask_opening_hours")
    text = texts(run(ActionAnswerArticle(), tracker(turn))[0])
    assert "7 jours" in text and "Pour votre autre question : Bureau des admissions" in text


def test_a_second_follow_up_stays_on_the_same_topic(demo_kb, clock) -> None:
    from rasa_sdk.events import SlotSet

    first_follow_up = user("ça coûte quelque chose ?", "ask_daily_fee")
    messages, events = run(ActionAnswerArticle(), tracker(RECORD, first_follow_up))
    assert SlotSet("answered_topic", "request_medical_record") in events
    track = tracker(RECORD, first_follow_up, user("et ça prend combien de temps ?", "ask_preop_arrival_time"))
    track.events.insert(-1, {"event": "slot", "name": "answered_topic", "value": "request_medical_record"})
    text = texts(run(ActionAnswerArticle(), track)[0])
    assert "8 jours" in text and "2 mois" in text and "SMS" not in text


@pytest.mark.parametrize(
    ("question", "expected", "not_expected"),
    [
        ("c koi le num des admissions svp", ["02 38 00 10 10", "admissions@ch-valmont.example"], ["02 38 00 10 20"]),
        ("quel est le mail de la maternité ?", ["maternite@ch-valmont.example"], ["imagerie@"]),
        ("le numéro de la radio pour un scanner", ["02 38 00 13 00"], ["02 38 00 14 00"]),
        ("quels sont les numéros de l'hôpital ?", ["02 38 00 00 00", "02 38 00 12 34", "contact@ch-valmont.example"], []),
    ],
)
def test_a_service_named_in_a_contact_question_gets_its_own_line(demo_kb, clock, question, expected, not_expected) -> None:
    text = texts(run(ActionAnswerArticle(), tracker(user(question, "ask_service_contact")))[0])
    assert all(e in text for e in expected) and not any(n in text for n in not_expected), text


def test_a_time_with_no_place_is_checked_against_the_reason_s_service(demo_kb, clock) -> None:
    text = texts(run(ActionAnswerArticle(), tracker(user("Puis-je régler ma facture sur place vers 17h ?", "pay_bill")))[0])
    assert "16h30" in text and "Non" in text


def test_who_to_call_after_a_topic_is_its_service_s_contact(demo_kb, clock) -> None:
    paying = user("comment je peux payer ma facture ?", "pay_bill")
    text = texts(run(ActionFallbackSuggestions(), tracker(paying, user("et si j'ai une question sur le montant, j'appelle qui ?", "nlu_fallback")))[0])
    assert "02 38 00 10 20" in text and "facturation@ch-valmont.example" in text


def test_the_hospital_s_own_mailbox_for_a_complaint(demo_kb, clock) -> None:
    question = "Je suis sortie de cardiologie, à quelle adresse e-mail puis-je écrire une réclamation à l'hôpital ?"
    text = texts(run(ActionAnswerArticle(), tracker(user(question, "ask_service_contact")))[0])
    assert "contact@ch-valmont.example" in text and "imagerie@" not in text


def test_an_appointment_with_a_service_named_gets_its_phone(demo_kb, clock) -> None:
    track = tracker(user("c koi le num de la radio pr un rdv scanner", "book_appointment", {"place": "imagerie"}))
    text = texts(run(ActionAnswerArticle(), track)[0])
    assert "Mon espace patient" in text and "02 38 00 13 00" in text


def test_how_many_after_a_ward_s_visits(demo_kb, clock) -> None:
    icu = user("les visites en réa c'est quand ?", "ask_visiting_hours", {"ward": "reanimation"})
    text = texts(run(ActionFallbackSuggestions(), tracker(icu, user("on est 3 ca passe ?", "nlu_fallback")))[0])
    assert "2 visiteurs au maximum" in text


def test_asking_for_it_by_e_mail_gets_the_service_s_address(demo_kb, clock) -> None:
    bulletin = user("il me faut un bulletin de situation", "request_hospitalisation_certificate", {"document_type": "bulletin_situation"})
    text = texts(run(ActionFallbackSuggestions(), tracker(bulletin, user("jpeux le demander par mail ?", "nlu_fallback")))[0])
    assert "48 heures" in text and "admissions@ch-valmont.example" in text


def test_a_second_question_in_its_own_sentence(demo_kb, clock) -> None:
    said = "Bonjour, j'accompagne mon père à une consultation. Quelle est l'adresse exacte de l'hôpital, pour mon GPS ?"
    turn = _ranked(said, "ask_admission", "ask_address")
    assert "12 avenue des Tilleuls" in texts(run(ActionAnswerArticle(), tracker(turn))[0])


@pytest.mark.parametrize(
    ("first", "follow_up", "expected"),
    [
        (user("une chambre seule c'est combien ?", "ask_single_room"), "est-ce que ma mutuelle peut la prendre en charge ?", "mutuelle"),
        (user("il me faut un bulletin de situation", "request_hospitalisation_certificate", {"document_type": "bulletin_situation"}), "et si je passe direct au guichet ?", "jour même"),
    ],
)
def test_cost_and_place_follow_ups(demo_kb, clock, first, follow_up, expected) -> None:
    assert expected in texts(run(ActionFallbackSuggestions(), tracker(first, user(follow_up, "nlu_fallback")))[0])


def test_the_stay_s_date_after_a_medical_record_answer_even_with_a_stay_type(demo_kb, clock) -> None:
    dated = user("mon hospitalisation date d'il y a dix ans", "inform", {"stay_type": "hospitalisation"})
    messages, _ = run(ActionFollowUp(), tracker(RECORD, dated))
    assert "2 mois" in messages[0]["text"] and "8 jours" not in messages[0]["text"]
