"""Each custom action, run as the action server runs it, against a real SQLite knowledge base."""

from __future__ import annotations

import pytest
from rasa_sdk.events import FollowupAction, SlotSet, UserUtteranceReverted

from actions.articles import ActionAnswerArticle, ActionShowArticle
from actions.conversation import ActionGreet
from actions.fallback import ActionFallbackSuggestions, ActionOutOfScope
from actions.opening_hours import ActionOpeningHours
from actions.visiting_hours import ActionVisitingHours
from tests.action_harness import run as run_action
from tests.action_harness import texts, tracker, user


def run(action, text: str, intent: str, entities: dict[str, str] | None = None):
    """One message, one action."""
    return run_action(action, tracker(user(text, intent, entities)))


@pytest.mark.parametrize(
    ("entity", "message", "expected"),
    [
        ("accueil", "horaires de l'accueil", ["hall A", "du lundi au vendredi de 7h30 à 19h30", "le samedi de 9h à 17h", "fermé le dimanche"]),
        ("admissions", "bureau des admissions", ["du lundi au vendredi de 7h30 à 18h"]),
        ("consultations", "consultations", ["du lundi au vendredi de 8h30 à 17h30"]),
        ("laboratoire", "labo", ["du lundi au samedi de 7h30 à 12h", "sans rendez-vous"]),
        ("imagerie", "scanner", ["du lundi au vendredi de 8h à 18h", "uniquement sur rendez-vous"]),
        ("urgences", "urgences", ["24h/24, 7 jours sur 7"]),
        ("cafeteria", "cafet", ["tous les jours de 8h à 18h"]),
        ("facturation", "facturation", ["du lundi au vendredi de 9h à 16h30"]),
        ("standard", "standard", ["24h/24", "02 38 00 00 00"]),
    ],
)
def test_opening_hours_of_each_place(demo_kb, entity, message, expected) -> None:
    messages, events = run(ActionOpeningHours(), message, "ask_opening_hours", {"place": entity})
    assert events == [SlotSet("pending_question", "feedback")]
    assert messages[-1]["response"] == "utter_ask_feedback"
    for fragment in expected:
        assert fragment in texts(messages)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("c koi les horaires de la cafet", "tous les jours de 8h à 18h"),
        ("le labo ouvre a quelle heure", "du lundi au samedi de 7h30 à 12h"),
        ("horaires de la radiologie", "du lundi au vendredi de 8h à 18h"),
    ],
)
def test_place_found_from_knowledge_base_synonyms_without_entity(demo_kb, message, expected) -> None:
    messages, _ = run(ActionOpeningHours(), message, "ask_opening_hours")
    assert expected in texts(messages)


def test_opening_hours_without_place_gives_reception_and_offers_the_others(demo_kb) -> None:
    messages, _ = run(ActionOpeningHours(), "vous ouvrez quand ?", "ask_opening_hours")
    assert "7h30 à 19h30" in texts(messages) and "24h/24" in texts(messages)
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert '/ask_opening_hours{"place":"laboratoire"}' in payloads
    assert len(payloads) == 7


@pytest.mark.parametrize(
    ("ward", "expected"),
    [
        ("general", ["tous les jours de 13h à 20h", "2 visiteurs au maximum"]),
        ("reanimation", ["de 14h à 19h", "2 visiteurs au maximum", "moins de 15 ans", "fleurs"]),
        ("maternite", ["de 15h à 20h", "conjoint", "de 9h à 21h"]),
        ("pediatrie", ["parents : 24h/24", "de 15h à 19h"]),
    ],
)
def test_visiting_hours_of_each_ward(demo_kb, ward, expected) -> None:
    messages, _ = run(ActionVisitingHours(), "visites", "ask_visiting_hours", {"ward": ward})
    for fragment in expected:
        assert fragment in texts(messages)


def test_visiting_hours_without_ward_gives_general_rules_and_offers_the_others(demo_kb) -> None:
    messages, _ = run(ActionVisitingHours(), "c est quoi les horaires de visite", "ask_visiting_hours")
    assert "13h à 20h" in texts(messages)
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        '/ask_visiting_hours{"ward":"reanimation"}',
        '/ask_visiting_hours{"ward":"maternite"}',
        '/ask_visiting_hours{"ward":"pediatrie"}',
    ]


def test_unaccented_entity_value_is_resolved(demo_kb) -> None:
    messages, _ = run(ActionVisitingHours(), "visite en rea", "ask_visiting_hours", {"ward": "Réa"})
    assert "de 14h à 19h" in texts(messages)


def test_fasting_answer_comes_from_the_article_with_its_date(demo_kb) -> None:
    messages, _ = run(ActionAnswerArticle(), "je dois etre a jeun ?", "ask_preop_fasting")
    answer = texts(messages)
    assert "6 heures" in answer and "2 heures" in answer and "chewing-gum" in answer
    assert "Information mise à jour le 2 novembre 2026." in answer


def test_greeting_names_the_hospital_and_suggests_topics(demo_kb) -> None:
    messages, _ = run(ActionGreet(), "bonjour", "greet")
    assert "Centre hospitalier de Valmont" in messages[0]["text"]
    assert messages[1]["response"] == "utter_suggestions"


def test_fallback_answers_with_the_article_a_search_finds_far_ahead(demo_kb) -> None:
    messages, events = run(ActionFallbackSuggestions(), "combien coûte une chambre individuelle", "nlu_fallback")
    assert "70 €" in messages[0]["text"] and messages[-1]["response"] == "utter_ask_feedback"
    assert SlotSet("answered_topic", "ask_single_room") in events


def test_fallback_offers_the_articles_a_search_finds(demo_kb) -> None:
    messages, events = run(ActionFallbackSuggestions(), "est-ce que la mutuelle prend en charge ?", "nlu_fallback")
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert 1 <= len(payloads) <= 3
    assert payloads[0] == '/show_article{"article":"admission-chambre-individuelle"}'
    assert "02 38 00 00 00" in texts(messages)
    assert events == [UserUtteranceReverted()]


def test_fallback_without_search_result_suggests_topics_offers_a_human_and_forgets_the_message(demo_kb) -> None:
    messages, events = run(ActionFallbackSuggestions(), "blorp", "nlu_fallback")
    assert "pas bien compris" in texts(messages) and "02 38 00 00 00" in texts(messages)
    assert messages[-1]["response"] == "utter_suggestions"
    assert events == [UserUtteranceReverted()]


def test_on_the_phone_the_fallback_offers_no_buttons_nor_a_number_to_dial(demo_kb) -> None:
    messages, _ = run_action(ActionFallbackSuggestions(), tracker(user("blorp", "nlu_fallback", channel="voice")))
    said = texts(messages)
    assert "pas bien compris" in said and "touche zéro" in said
    assert "ci-dessous" not in said and "02 38 00 00 00" not in said


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("le service factu il ferme a kel heure", "du lundi au vendredi de 9h à 16h30"),
        ("la cafetaria ouvre quand", "tous les jours de 8h à 18h"),
        ("horaires des consult", "du lundi au vendredi de 8h30 à 17h30"),
    ],
)
def test_shortened_or_mistyped_place_is_understood(demo_kb, message, expected) -> None:
    messages, _ = run(ActionOpeningHours(), message, "ask_opening_hours")
    assert expected in texts(messages)


def test_word_shared_by_several_places_does_not_pick_one(demo_kb) -> None:
    messages, _ = run(ActionOpeningHours(), "le service ouvre quand", "ask_opening_hours")
    assert "Pour un autre lieu" in texts(messages)


def test_maternity_is_found_from_a_birth(demo_kb) -> None:
    messages, _ = run(ActionVisitingHours(), "ma femme vient d'accoucher, je peux venir quand", "ask_visiting_hours")
    assert "de 9h à 21h" in texts(messages)


def test_general_hours_answer_also_offers_a_clearly_matching_article(demo_kb) -> None:
    messages, _ = run(ActionOpeningHours(), "je cherche le prix d'une chambre individuelle", "ask_opening_hours")
    assert messages[-1]["buttons"][0]["payload"] == '/show_article{"article":"admission-chambre-individuelle"}'
    plain, _ = run(ActionOpeningHours(), "vous ouvrez quand ?", "ask_opening_hours")
    assert len(plain) == 1


def test_out_of_scope_offers_articles_when_the_search_finds_some(demo_kb) -> None:
    messages, _ = run(ActionOutOfScope(), "je cherche où garer ma voiture, le parking est payant ?", "out_of_scope")
    assert messages[0]["response"] == "utter_out_of_scope"
    assert '/show_article{"article":"acces-parking"}' in [b["payload"] for b in messages[1]["buttons"]]


def test_out_of_scope_without_search_result_suggests_topics(demo_kb) -> None:
    messages, _ = run(ActionOutOfScope(), "quel temps fait-il demain", "out_of_scope")
    assert [m["response"] for m in messages] == ["utter_out_of_scope", "utter_suggestions"]


def test_article_button_shows_the_article_and_its_related_ones(demo_kb) -> None:
    messages, _ = run(ActionShowArticle(), '/show_article{"article":"admission-chambre-individuelle"}', "show_article", {"article": "admission-chambre-individuelle"})
    assert "70 €" in messages[0]["text"] and "Information mise à jour le" in messages[0]["text"]
    assert messages[1]["buttons"]


def test_article_that_no_longer_exists_gets_a_polite_answer(demo_kb) -> None:
    messages, _ = run(ActionShowArticle(), "x", "show_article", {"article": "retire-en-2025"})
    assert "Je ne retrouve pas cette fiche" in texts(messages)


def test_unreachable_database_gets_a_polite_french_answer(use_db, tmp_path) -> None:
    use_db(f"sqlite:///{tmp_path / 'empty.db'}")
    messages, events = run(ActionVisitingHours(), "visites", "ask_visiting_hours")
    assert [m["utter_action"] for m in messages] == ["utter_service_unavailable"]
    assert "momentanément indisponible" in messages[0]["text"]
    assert events == [FollowupAction("action_listen")]  # nothing else changes, Rasa listens
