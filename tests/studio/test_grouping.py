"""Grouping similar patient messages with spaCy's French vectors (the real fr_core_news_md model)."""

from __future__ import annotations

import datetime as dt

from studio import grouping
from studio.conversations import FlaggedMessage
from studio.grouping import group_messages, similarity


def message(index: int, text: str, suggestions: list[tuple[str, float]] | None = None) -> FlaggedMessage:
    return FlaggedMessage(f"c{index}:{index}", f"c{index}", index, text, dt.datetime(2026, 11, 20, 10, index), "socketio", None, 0.4, suggestions or [])


def texts_of(groups) -> list[list[str]]:
    return [[m.text for m in group.messages] for group in groups]


def test_paraphrases_are_grouped_and_other_topics_kept_apart() -> None:
    texts = [
        "je voudrais les horaires de visite en maternité",
        "quels sont les horaires de la cafétéria",
        "horaires visite maternité",
        "combien coûte le parking",
        "c'est quoi les horaires des visites à la maternité",
        "horaires de la cafétéria svp",
        "je peux venir avec mon fils de 5 ans",
    ]
    groups = group_messages([message(i, t) for i, t in enumerate(texts)])
    assert texts_of(groups) == [
        [
            "je voudrais les horaires de visite en maternité",
            "horaires visite maternité",
            "c'est quoi les horaires des visites à la maternité",
        ],
        ["quels sont les horaires de la cafétéria", "horaires de la cafétéria svp"],
        ["combien coûte le parking"],
        ["je peux venir avec mon fils de 5 ans"],
    ]
    assert groups[0].keys == ["c0:0", "c2:2", "c4:4"] and groups[0].key == "c0:0"


def test_the_same_normalised_text_shares_a_group_even_without_vectors() -> None:
    groups = group_messages([message(0, "Bonjour !"), message(1, "azerty"), message(2, "bonjour"), message(3, "AZERTY ?")])
    assert texts_of(groups) == [["Bonjour !", "bonjour"], ["azerty", "AZERTY ?"]]


def test_masking_labels_do_not_make_messages_alike() -> None:
    assert similarity("rappelez moi au [téléphone]", "mon numéro est le [téléphone]") < grouping.SIMILARITY_THRESHOLD
    groups = group_messages([message(0, "rappelez moi au [téléphone]"), message(1, "envoyez les résultats à [e-mail]")])
    assert len(groups) == 2


def test_similarity_is_a_cosine_of_spacy_vectors() -> None:
    assert similarity("horaires de la cafétéria", "horaires de la cafétéria") > 0.99
    assert similarity("horaires de la cafétéria", "horaires de la cafétéria svp") > 0.99  # fillers left out
    assert similarity("horaires de la cafétéria", "mon mari ne respire plus") < 0.5
    assert similarity("", "horaires") == 0.0


def test_a_group_suggests_the_intents_most_often_in_its_messages_top_3() -> None:
    groups = group_messages(
        [
            message(0, "horaires cafétéria", [("ask_opening_hours", 0.4), ("ask_visiting_hours", 0.3), ("greet", 0.1)]),
            message(1, "horaires cafétéria svp", [("ask_visiting_hours", 0.5), ("ask_opening_hours", 0.2), ("thank", 0.1)]),
            message(2, "Horaires cafétéria !", [("ask_opening_hours", 0.3), ("ask_parking", 0.3)]),
        ]
    )
    [group] = groups
    assert group.suggestions == ["ask_opening_hours", "ask_visiting_hours", "ask_parking"]


def test_reasons_of_a_group_are_those_of_its_messages() -> None:
    first, second = message(0, "horaires cafétéria"), message(1, "horaires de la cafétéria")
    first.reasons, second.reasons = ["confiance faible"], ["réponse jugée inutile", "confiance faible"]
    [group] = group_messages([first, second])
    assert group.reasons == ["confiance faible", "réponse jugée inutile"]


def test_the_spacy_model_is_loaded_once() -> None:
    group_messages([message(0, "horaires du laboratoire")])
    group_messages([message(1, "horaires de l'accueil")])
    assert grouping._load.cache_info().currsize == 1
    assert grouping.nlp() is grouping.nlp()
