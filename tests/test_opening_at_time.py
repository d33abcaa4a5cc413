"""A time in the question gets yes or no for that place (issue 16, class 5): the pure verdict on hours, then
the answers of the actions against the demo knowledge base, on Tuesday 24 November 2026 at 10:00 (`clock`)."""

from __future__ import annotations

import datetime as dt

import pytest
from rasa_sdk.events import SlotSet

from actions.articles import ActionAnswerArticle
from actions.french_text import noun_phrase
from actions.kb_repository import get_knowledge_base
from actions.office_hours import ALL_DAY, open_at
from actions.opening_at_time import time_verdict
from actions.opening_hours import ActionOpeningHours
from actions.time_expressions import time_asked
from tests.action_harness import run, texts, tracker, user

T = dt.time
TUESDAY, SATURDAY, SUNDAY = 1, 5, 6
LABORATORY = [(day, T(7, 30), T(12)) for day in range(6)]
SPLIT = [(TUESDAY, T(8), T(12)), (TUESDAY, T(14), T(17))]


# ------------------------------------------------------------------ open_at: hours, a day, a time
def test_a_moment_inside_a_period_is_open_until_its_end() -> None:
    verdict = open_at(LABORATORY, TUESDAY, T(10))
    assert verdict.open and verdict.whole and verdict.until == T(12) and verdict.periods == ((T(7, 30), T(12)),)


def test_opening_is_included_closing_is_not() -> None:
    assert open_at(LABORATORY, TUESDAY, T(7, 30)).open
    assert not open_at(LABORATORY, TUESDAY, T(12)).open
    assert not open_at(LABORATORY, TUESDAY, T(14)).open


def test_a_day_without_period_is_closed_all_day() -> None:
    verdict = open_at(LABORATORY, SUNDAY, T(10))
    assert not verdict.open and verdict.closed_all_day and verdict.until is None


def test_a_span_open_all_along_part_of_it_or_not_at_all() -> None:
    assert open_at(LABORATORY, TUESDAY, (T(8), T(12))).whole
    partly = open_at(LABORATORY, TUESDAY, (T(7), T(9)))
    assert partly.open and not partly.whole and partly.meeting == ((T(7, 30), T(12)),)
    assert not open_at(LABORATORY, TUESDAY, (T(12), T(14))).open  # a span that starts at closing time


def test_a_span_over_two_periods() -> None:
    verdict = open_at(SPLIT, TUESDAY, (T(11), T(15)))
    assert verdict.open and not verdict.whole and verdict.meeting == ((T(8), T(12)), (T(14), T(17))) and verdict.until == T(17)
    assert not open_at(SPLIT, TUESDAY, T(13)).open and not verdict.closed_all_day


def test_always_open_covers_the_whole_day_and_the_night() -> None:
    assert open_at(ALL_DAY, SUNDAY, T(3)).open
    assert open_at(ALL_DAY, SUNDAY, T(23, 59, 30)).open
    assert open_at(ALL_DAY, SUNDAY, (T(22), T(23, 59))).whole


def test_visiting_rules_fit_the_same_verdict() -> None:
    """A ward's visiting hours (every day 13h-20h) are hours like a place's."""
    visits = [(day, T(13), T(20)) for day in range(7)]
    assert not open_at(visits, SUNDAY, T(11)).open and open_at(visits, SUNDAY, T(19, 30)).open


# ------------------------------------------------------------------ the answer, on the demo knowledge base
@pytest.fixture
def places(demo_kb, clock):
    return {place.slug: place for place in get_knowledge_base().places()}


NOW = dt.datetime(2026, 11, 24, 10, 0)  # Tuesday


@pytest.mark.parametrize(
    ("slug", "question", "day", "expected"),
    [
        (
            "laboratoire",
            "le labo est encore ouvert à 14h ?",
            None,
            "Non, à 14h le laboratoire d'analyses est fermé : il est ouvert du lundi au samedi de 7h30 à 12h, fermé le dimanche. "
            "Il rouvre demain à 7h30.",
        ),
        ("laboratoire", "le labo est ouvert samedi à 10h ?", "samedi", "Oui, samedi à 10h le laboratoire d'analyses est ouvert (de 7h30 à 12h)."),
        ("admissions", "les admissions sont ouvertes à 17h ?", None, "Oui, à 17h le bureau des admissions est ouvert (de 7h30 à 18h)."),
        ("facturation", "en fin d'après-midi", None, "Non, en fin d'après-midi le service facturation est fermé : il est ouvert du lundi au vendredi de 9h à 16h30, fermé le week-end. Il rouvre demain à 9h."),
        ("cafeteria", "la cafet est ouverte à 19h ?", None, "Non, à 19h la cafétéria est fermée : elle est ouverte tous les jours de 8h à 18h. Elle rouvre demain à 8h."),
        ("urgences", "les urgences à 3h du matin ?", None, "Oui, à 3h le service des urgences est ouvert : 24h/24, 7 jours sur 7."),
        ("urgences", "dimanche soir", "dimanche", "Oui, dimanche soir le service des urgences est ouvert : 24h/24, 7 jours sur 7."),
        (
            "accueil",
            "l'accueil est ouvert dimanche matin ?",
            "dimanche",
            "Non, dimanche l'accueil principal est fermé toute la journée : il est ouvert du lundi au vendredi de 7h30 à 19h30, "
            "le samedi de 9h à 17h, fermé le dimanche. Il rouvre lundi 30 novembre 2026 à 7h30.",
        ),
        ("laboratoire", "à 7h", None, "Non, à 7h le laboratoire d'analyses est fermé : il est ouvert du lundi au samedi de 7h30 à 12h, fermé le dimanche. Il ouvre à 7h30."),
        ("laboratoire", "ça ferme à 12h ?", None, "À midi le laboratoire d'analyses ferme : il est ouvert de 7h30 à 12h."),
        ("laboratoire", "tôt le matin", None, "Oui, tôt le matin le laboratoire d'analyses est ouvert de 7h30 à 12h."),
        ("laboratoire", "Le laboratoire est-il ouvert le samedi matin ?", "samedi", "Oui, samedi matin le laboratoire d'analyses est ouvert de 7h30 à 12h."),
        ("admissions", "en fin d'après-midi", None, "Oui, en fin d'après-midi le bureau des admissions est ouvert de 7h30 à 18h."),
        ("consultations", "l'après-midi", None, "Oui, l'après-midi les consultations externes sont ouvertes de 8h30 à 17h30."),
        ("accueil", "ce soir", None, "Oui, ce soir l'accueil principal est ouvert de 7h30 à 19h30."),
        ("cafeteria", "la nuit", "samedi", "Non, dans la nuit de samedi la cafétéria est fermée : elle est ouverte tous les jours de 8h à 18h. Elle rouvre dimanche 29 novembre 2026 à 8h."),
        ("urgences", "la nuit et le week-end", "weekend", "Oui, la nuit le service des urgences est ouvert : 24h/24, 7 jours sur 7."),
        ("imagerie", "demain à 9h", "demain", "Oui, demain à 9h le service d'imagerie est ouvert (de 8h à 18h)."),
    ],
)
def test_yes_or_no_for_the_time_asked(places, slug, question, day, expected) -> None:
    asked = time_asked(question)
    assert asked is not None
    assert time_verdict(places[slug], asked, day, NOW) == expected


def test_a_weekend_gets_one_answer_a_day(places) -> None:
    answer = time_verdict(places["laboratoire"], time_asked("le matin"), "weekend", NOW)
    assert answer.splitlines() == [
        "Oui, samedi matin le laboratoire d'analyses est ouvert de 7h30 à 12h.",
        "Non, dimanche le laboratoire d'analyses est fermé toute la journée : il est ouvert du lundi au samedi de 7h30 à 12h, "
        "fermé le dimanche. Il rouvre lundi 30 novembre 2026 à 7h30.",
    ]


def test_on_sunday_the_reception_is_closed_today(places) -> None:
    sunday = dt.datetime(2026, 11, 29, 11, 0)
    answer = time_verdict(places["accueil"], time_asked("à 15h"), None, sunday)
    assert answer.startswith("Non, aujourd'hui l'accueil principal est fermé toute la journée") and answer.endswith("Il rouvre demain à 7h30.")


@pytest.mark.parametrize(
    ("name", "subject", "opened"),
    [
        ("bureau des admissions", "le bureau des admissions", "ouvert"),
        ("accueil principal", "l'accueil principal", "ouvert"),
        ("cafétéria", "la cafétéria", "ouverte"),
        ("consultations externes", "les consultations externes", "ouvertes"),
        ("laboratoire d'analyses (prises de sang)", "le laboratoire d'analyses", "ouvert"),
        ("hall B", "le hall B", "ouvert"),
        ("pharmacie", "la pharmacie", "ouverte"),
    ],
)
def test_place_names_take_their_article_and_agreement(name, subject, opened) -> None:
    phrase = noun_phrase(name)
    assert (phrase.text, phrase.agree("ouvert")) == (subject, opened)


# ------------------------------------------------------------------ the actions
def test_the_opening_hours_action_answers_yes_or_no(demo_kb, clock) -> None:
    messages, events = run(ActionOpeningHours(), tracker(user("le labo est encore ouvert à 14h ?", "ask_opening_hours", {"place": "laboratoire"})))
    assert messages[0]["text"].startswith("Non, à 14h le laboratoire d'analyses est fermé") and "Il rouvre demain à 7h30." in messages[0]["text"]
    assert events == [SlotSet("pending_question", "feedback")]


def test_the_day_entity_and_the_place_in_the_words(demo_kb, clock) -> None:
    messages, _ = run(ActionOpeningHours(), tracker(user("le labo est ouvert samedi à 10h ?", "ask_opening_hours", {"day": "samedi"})))
    assert messages[0]["text"] == "Oui, samedi à 10h le laboratoire d'analyses est ouvert (de 7h30 à 12h)."


def test_the_day_in_the_words_when_the_nlu_missed_it(demo_kb, clock) -> None:
    messages, _ = run(ActionOpeningHours(), tracker(user("accueil ouvert dimanche a 10h ?", "ask_opening_hours", {"place": "accueil"})))
    assert messages[0]["text"].startswith("Non, dimanche l'accueil principal est fermé toute la journée")


def test_a_follow_up_on_the_same_place_with_a_time(demo_kb, clock) -> None:
    first = user("horaires du labo", "ask_opening_hours", {"place": "laboratoire"})
    messages, _ = run(ActionOpeningHours(), tracker(first, user("et il est ouvert à 11h ?", "ask_opening_hours")))
    assert messages[0]["text"] == "Oui, à 11h le laboratoire d'analyses est ouvert (de 7h30 à 12h)."


def test_without_a_time_the_hours_are_unchanged(demo_kb, clock) -> None:
    messages, _ = run(ActionOpeningHours(), tracker(user("horaires du labo samedi", "ask_opening_hours", {"place": "laboratoire", "day": "samedi"})))
    assert "Le samedi, laboratoire d'analyses (prises de sang) : ouvert de 7h30 à 12h." in texts(messages)


def test_without_a_place_the_general_answer_stays(demo_kb, clock) -> None:
    messages, _ = run(ActionOpeningHours(), tracker(user("vous êtes ouverts à 14h ?", "ask_opening_hours")))
    assert "Pour un autre lieu, lequel ?" in texts(messages)


def test_an_article_answer_says_whether_the_place_it_names_is_open_then(demo_kb, clock) -> None:
    said = "je peux régler ma facture sur place en fin d'après-midi ?"
    messages, _ = run(ActionAnswerArticle(), tracker(user(said, "pay_bill", {"place": "facturation"})))
    assert messages[0]["text"].endswith(
        "Non, en fin d'après-midi le service facturation est fermé : il est ouvert du lundi au vendredi de 9h à 16h30, fermé le week-end. "
        "Il rouvre demain à 9h."
    )
    assert "Horaires :" not in messages[0]["text"]


def test_an_article_answer_without_a_time_keeps_the_place_hours(demo_kb, clock) -> None:
    messages, _ = run(ActionAnswerArticle(), tracker(user("je peux régler à la caisse ?", "pay_bill", {"place": "facturation"})))
    assert "Horaires : Service facturation : ouvert du lundi au vendredi de 9h à 16h30" in messages[0]["text"]


def test_an_article_answer_at_an_open_time(demo_kb, clock) -> None:
    messages, _ = run(ActionAnswerArticle(), tracker(user("je peux payer à la caisse demain à 10h ?", "pay_bill", {"place": "facturation", "day": "demain"})))
    assert messages[0]["text"].endswith("Oui, demain à 10h le service facturation est ouvert (de 9h à 16h30).")


# ------------------------------------------------------------------ visits and follow-ups at a time
def test_visiting_the_maternity_at_11h_is_no_for_visitors_yes_for_the_partner(demo_kb, clock) -> None:
    from actions.visiting_hours import ActionVisitingHours

    track = tracker(user("je peux venir voir ma femme à la maternité à 11h ?", "ask_visiting_hours", {"ward": "maternite"}))
    text = texts(run(ActionVisitingHours(), track)[0])
    assert "À 11h, en maternité" in text
    assert "Visiteurs : non (de 15h à 20h)" in text and "Le conjoint ou la conjointe : oui (de 9h à 21h)" in text


def test_a_time_alone_after_opening_hours_continues_them(demo_kb, clock) -> None:
    from actions.followup import ActionFollowUp

    track = tracker(user("le labo ouvre quand ?", "ask_opening_hours", {"place": "laboratoire"}), user("et à 14h ?", "inform"))
    text = texts(run(ActionFollowUp(), track)[0])
    assert text.startswith("Non") and "12h" in text


def test_two_places_named_get_both_hours(demo_kb, clock) -> None:
    track = tracker(user("à quelle heure ouvre le labo et la cafétéria ?", "ask_opening_hours", {"place": "laboratoire"}))
    text = texts(run(ActionOpeningHours(), track)[0])
    assert "7h30" in text and "Cafétéria" in text and "8h" in text


def test_hours_asked_after_a_question_naming_a_place_are_that_place_s(demo_kb, clock) -> None:
    track = tracker(user("le numéro de la radio pour un scanner", "book_appointment", {"place": "imagerie"}), user("et c'est ouvert jusqu'à quelle heure ?", "ask_opening_hours"))
    text = texts(run(ActionOpeningHours(), track)[0])
    assert "imagerie" in text and "18h" in text and "Accueil principal" not in text


def test_a_place_and_a_time_under_a_visiting_intent_get_the_place_s_hours(demo_kb, clock) -> None:
    from actions.visiting_hours import ActionVisitingHours

    track = tracker(user("ben mon IRM, je pourrais la faire vers 18h30 en sortant du travail ?", "ask_visiting_hours"))
    text = texts(run(ActionVisitingHours(), track)[0])
    assert text.startswith("Non") and "18h" in text


def test_now_is_the_hospital_s_clock(demo_kb, clock) -> None:
    clock("2026-11-24T22:00:00")
    text = texts(run(ActionAnswerArticle(), tracker(user("jpeux appeler pr prendre un rdv la maintenant ?", "book_appointment")))[0])
    assert "Non, en ce moment les consultations externes sont fermées" in text and "demain à 8h30" in text
