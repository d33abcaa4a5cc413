"""Accueil's own checks of the training data, beyond `rasa data validate`, with French messages.

Run by the studio's validation step and `accueil deploy` before any training, and by the tests:
  * every intent has enough training examples, and enough held-out examples to be evaluated;
  * no held-out sentence is also a training sentence (the held-out set must stay unseen);
  * every call reason with an article is answered by the article rule, and its article exists.
Each check returns the problems it found (an empty list when all is well).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import yaml

from accueil.nlu_reading import read_nlu
from core.catalogue import CALL_REASONS, SHOW_ARTICLE_INTENT, normalise_sentence
from core.settings import Settings

MIN_TRAINING_EXAMPLES = 25
MIN_HELD_OUT_EXAMPLES = 10
# Intents that only ever come from buttons: no patient types them, so they have no held-out sentences.
BUTTON_ONLY_INTENTS = frozenset({SHOW_ARTICLE_INTENT})
ARTICLE_ACTION = "action_answer_article"


def load_examples(folder: Path) -> list[tuple[str, str]]:
    """The (intent, text) pairs of a folder of Rasa NLU files, as Rasa reads them (annotations removed)."""
    return [(message.get("intent"), message.get("text")) for message in read_nlu(folder).intent_examples]


def check_example_counts(training: list[tuple[str, str]], held_out: list[tuple[str, str]]) -> list[str]:
    problems = []
    trained = Counter(intent for intent, _ in training)
    tested = Counter(intent for intent, _ in held_out)
    for intent, count in sorted(trained.items()):
        if count < MIN_TRAINING_EXAMPLES:
            problems.append(
                f"L'intention « {intent} » n'a que {count} exemple{'s' if count > 1 else ''} d'entraînement : "
                f"il en faut au moins {MIN_TRAINING_EXAMPLES}."
            )
        if intent in BUTTON_ONLY_INTENTS:
            continue
        if tested[intent] < MIN_HELD_OUT_EXAMPLES:
            problems.append(
                f"L'intention « {intent} » a {tested[intent]} phrase{'s' if tested[intent] > 1 else ''} dans le jeu de test réservé : "
                f"il en faut au moins {MIN_HELD_OUT_EXAMPLES} pour l'évaluer."
            )
    for intent in sorted(set(tested) - set(trained)):
        problems.append(f"L'intention « {intent} » du jeu de test réservé n'a aucun exemple d'entraînement.")
    return problems


def check_held_out_never_trained(training: list[tuple[str, str]], held_out: list[tuple[str, str]]) -> list[str]:
    trained = {normalise_sentence(text) for _, text in training}
    return [
        f"La phrase « {text} » ({intent}) est à la fois dans le jeu de test réservé et dans les exemples d'entraînement : "
        "retirez-la de l'un des deux."
        for intent, text in held_out
        if normalise_sentence(text) in trained
    ]


def check_article_rules(settings: Settings) -> list[str]:
    """Every intent answered by an article has the article rule, and every article named exists in the sources."""
    from actions.call_reasons import ARTICLE_INTENTS
    from kb_sync.errors import ContentInvalid
    from kb_sync.sources import configured_source

    problems = []
    rules_file = settings.bot_dir / "data" / "rules.yml"
    rules = (yaml.safe_load(rules_file.read_text(encoding="utf-8")) or {}).get("rules", [])
    rule = next((r for r in rules if r.get("steps") and r["steps"][-1] == {"action": ARTICLE_ACTION}), None)
    if rule is None:
        problems.append(f"Aucune règle de {rules_file.name} ne se termine par {ARTICLE_ACTION}.")
    else:
        first = rule["steps"][0]
        answered = {step["intent"] for step in first.get("or", [first]) if "intent" in step}
        for intent in sorted(set(ARTICLE_INTENTS) - answered):
            problems.append(f"L'intention « {intent} » renvoie à un article mais la règle « {rule.get('rule')} » ne la contient pas.")
        for intent in sorted(answered - set(ARTICLE_INTENTS)):
            problems.append(f"La règle « {rule.get('rule')} » contient « {intent} », qui ne renvoie à aucun article.")
    try:
        slugs = {article.slug for article in configured_source(settings).read().articles}
    except ContentInvalid as exc:
        return problems + [f"Les sources de la base de connaissances sont invalides : {exc.describe()}"]
    for intent, reason in sorted(CALL_REASONS.items()):
        if reason.article and reason.article not in slugs:
            problems.append(f"L'intention « {intent} » renvoie à l'article « {reason.article} », absent de la base de connaissances.")
    return problems


MIN_SENTENCE_WORDS = 5


def check_conversations_never_trained(training: list[tuple[str, str]], conversations: list[dict]) -> list[str]:
    """The held-out conversations measure sentences the model never saw: none may be a training example
    (but short fragments such as "et le samedi ?", which any two writers share)."""
    trained = {normalise_sentence(text) for _, text in training}
    return [
        f"La phrase « {turn['user']} » de la conversation de test « {conversation['id']} » est aussi un exemple "
        "d'entraînement : retirez-la des exemples."
        for conversation in conversations
        for turn in conversation["turns"]
        if len(normalise_sentence(turn["user"]).split()) >= MIN_SENTENCE_WORDS and normalise_sentence(turn["user"]) in trained
    ]


def run_checks(settings: Settings) -> list[str]:
    """All of Accueil's own checks on the settings' NLU data, held-out set, rules and knowledge base sources."""
    training = load_examples(settings.nlu_dir)
    held_out = load_examples(settings.nlu_holdout_dir)
    from accueil.conversations import load

    return (
        check_example_counts(training, held_out)
        + check_held_out_never_trained(training, held_out)
        + check_conversations_never_trained(training, load())
        + check_article_rules(settings)
    )
