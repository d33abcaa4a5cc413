"""Personal data in patient messages is masked; times, rooms, years and prices are not."""

from __future__ import annotations

import pytest

from core.masking import (
    BIRTH_DATE_LABEL,
    EMAIL_LABEL,
    NAME_LABEL,
    NUMBER_LABEL,
    PATIENT_NUMBER_LABEL,
    PHONE_LABEL,
    SOCIAL_SECURITY_LABEL,
    mask_personal_data,
)


@pytest.mark.parametrize(
    "number",
    [
        "06 12 34 56 78",
        "0612345678",
        "06.12.34.56.78",
        "06-12-34-56-78",
        "01 23 45 67 89",
        "09.87.65.43.21",
        "+33 6 12 34 56 78",
        "+33612345678",
        "+33 (0)6 12 34 56 78",
        "0033 6 12 34 56 78",
        "0033612345678",
        "07\u00a012\u00a034\u00a056\u00a078",
    ],
)
def test_french_phone_numbers_are_masked(number: str) -> None:
    assert mask_personal_data(f"rappelez-moi au {number} svp") == f"rappelez-moi au {PHONE_LABEL} svp"


@pytest.mark.parametrize(
    "address",
    ["jean.dupont@gmail.com", "marie-claire.o'neil+hopital@orange.fr", "J.Martin@CH-Valmont.FR", "élodie.leroy@laposte.net"],
)
def test_email_addresses_are_masked(address: str) -> None:
    assert mask_personal_data(f"mon mail c'est {address}, merci") == f"mon mail c'est {EMAIL_LABEL}, merci"


@pytest.mark.parametrize(
    "nir",
    ["1 85 05 78 006 084 36", "185057800608436", "2 91 12 2A 004 123 55", "2.91.12.2B.004.123.55", "1 85 05 78 006 084"],
)
def test_social_security_numbers_are_masked_whole(nir: str) -> None:
    masked = mask_personal_data(f"mon numéro de sécu est {nir} voilà")
    assert masked == f"mon numéro de sécu est {SOCIAL_SECURITY_LABEL} voilà"


def test_several_kinds_in_one_message() -> None:
    text = "Je suis Mme X, sécu 2 91 12 75 004 123 55, tel 07 11 22 33 44 ou x@y.fr"
    assert mask_personal_data(text) == f"Je suis Mme {NAME_LABEL}, sécu {SOCIAL_SECURITY_LABEL}, tel {PHONE_LABEL} ou {EMAIL_LABEL}"


@pytest.mark.parametrize(
    "text",
    [
        "le rendez-vous est à 14h30",
        "le labo ouvre de 7h30 à 18h",
        "ma mère est en chambre 212, bâtiment B",
        "je suis venue en 2024 et en 2019",
        "la chambre seule coûte 15 euros, le forfait 20,00 €",
        "rendez-vous le 12/05/2025 à 09:15",
        "code postal 75013 Paris",
        "mon dossier n° 123456",
        "il a 06 ans et pèse 12 kg",
        "j'ai pris 20 cachets de doliprane 1000",
        "numéro de facture 2024-000123",
        "le bus 12 ou le 34",
        "",
    ],
)
def test_ordinary_numbers_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text


def test_a_longer_run_of_digits_is_not_cut_into_a_phone_number() -> None:
    assert mask_personal_data("référence 1234567890123456789") == "référence 1234567890123456789"
    assert mask_personal_data("commande 90612345678") == "commande 90612345678"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("je m'appelle Jean Dupont et je voudrais un rendez-vous", f"je m'appelle {NAME_LABEL} et je voudrais un rendez-vous"),
        ("je m'appelle jean dupont je voudrais un rendez-vous", f"je m'appelle {NAME_LABEL} je voudrais un rendez-vous"),  # voice
        ("Je m’appelle Jean-Pierre O'Neil, merci", f"Je m’appelle {NAME_LABEL}, merci"),
        ("nom : Martin", f"nom : {NAME_LABEL}"),
        ("Nom et prénom : Le Goff Anne", f"Nom et prénom : {NAME_LABEL}"),
        ("mon nom est de La Fontaine", f"mon nom est {NAME_LABEL}"),
        ("mon prénom c'est Élodie", f"mon prénom c'est {NAME_LABEL}"),
        ("je suis Jean Dupont, le fils de la patiente", f"je suis {NAME_LABEL}, le fils de la patiente"),
        ("je viens voir Madame Martin en chambre 212", f"je viens voir Madame {NAME_LABEL} en chambre 212"),
        ("Monsieur Dupont est sorti ?", f"Monsieur {NAME_LABEL} est sorti ?"),
        ("des nouvelles de Mme Benali svp", f"des nouvelles de Mme {NAME_LABEL} svp"),
        ("M. Durand-Lefèvre", f"M. {NAME_LABEL}"),
    ],
)
def test_names_people_give_are_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("né le 12/03/1984", f"né le {BIRTH_DATE_LABEL}"),
        ("ma fille née le 3 mars 2019 est aux urgences", f"ma fille née le {BIRTH_DATE_LABEL} est aux urgences"),
        ("née le 1er janvier 1950", f"née le {BIRTH_DATE_LABEL}"),
        ("date de naissance : 12-03-84", f"date de naissance : {BIRTH_DATE_LABEL}"),
        ("ddn 12.03.1984", f"ddn {BIRTH_DATE_LABEL}"),
        ("mon père, 12 mars 1984", f"mon père, {BIRTH_DATE_LABEL}"),  # a full date long past
        ("il est né en 1947", f"il est né en {BIRTH_DATE_LABEL}"),
    ],
)
def test_birth_dates_are_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("IPP 123456789", f"IPP {PATIENT_NUMBER_LABEL}"),
        ("mon IPP : 000123456 merci", f"mon IPP : {PATIENT_NUMBER_LABEL} merci"),
        ("n° patient 4567 8910", f"n° patient {PATIENT_NUMBER_LABEL}"),
        ("numéro de patient est 20240042", f"numéro de patient est {PATIENT_NUMBER_LABEL}"),
        ("le numéro 12345678 sur mon bracelet", f"le numéro {NUMBER_LABEL} sur mon bracelet"),  # 7 to 10 digits
        ("carte 1234567", f"carte {NUMBER_LABEL}"),
    ],
)
def test_patient_numbers_and_long_digit_runs_are_masked(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "number", ["+44 20 7946 0958", "0044 20 7946 0958", "+447946095812", "+32 2 123 45 67", "+41 (0)22 123 45 67", "+1 514 555 0199"]
)
def test_foreign_phone_numbers_are_masked(number: str) -> None:
    assert mask_personal_data(f"appelez-moi au {number} svp") == f"appelez-moi au {PHONE_LABEL} svp"


@pytest.mark.parametrize(
    "spoken",
    [
        "zéro six douze trente-quatre cinquante-six soixante-dix-huit",
        "zéro six douze trente quatre cinquante six soixante dix huit",  # Vosk writes no hyphens
        "zero sept quatre-vingt-dix-neuf onze vingt et un quatre-vingts",
        "un quatre-vingt-cinq zéro cinq soixante-dix-huit zéro zéro six",  # a NIR read aloud
    ],
)
def test_spelled_out_digit_runs_from_voice_are_masked(spoken: str) -> None:
    assert mask_personal_data(f"mon numéro c'est le {spoken} merci") == f"mon numéro c'est le {NUMBER_LABEL} merci"


@pytest.mark.parametrize(
    "text",
    [
        "est-ce que c'est ouvert le 12 mars ?",
        "le rendez-vous est le 12 mars 2026 à 14h30",
        "rendez-vous le 12/05/2025 à 9h",
        "je suis perdue, je suis aux urgences",
        "Je suis enceinte de trois mois",
        "bonjour madame je voudrais un renseignement",
        "Madame, je voudrais savoir",
        "j'ai vingt et un ans et deux enfants",
        "chambre deux cent douze",
        "quatre-vingt-dix-neuf euros",
        "il faut deux ou trois jours",
        "le nom du médecin ?",
        "quel est le numéro du service ?",
        "ouvert de 8h à 18h30, 7 jours sur 7",
        "le 14h30 c'est possible",
    ],
)
def test_ordinary_words_hours_and_dates_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text


def test_the_staff_who_call_back_keep_the_phone_numbers() -> None:
    text = "Jeanne, IPP 123456789, rappeler au 06 12 34 56 78 ou +44 20 7946 0958 ; je m'appelle Jeanne Martin"
    assert mask_personal_data(text, keep_phones=True) == (
        f"Jeanne, IPP {PATIENT_NUMBER_LABEL}, rappeler au 06 12 34 56 78 ou +44 20 7946 0958 ; je m'appelle {NAME_LABEL}"
    )
    spoken = "zéro six douze trente-quatre cinquante-six soixante-dix-huit"
    assert mask_personal_data(spoken, keep_phones=True) == spoken


@pytest.mark.parametrize(
    "unit", ["a", "é", "1", "+1", "a-", "a@", "x@a.", "1/", "1 ", "00", "Jean-", "M. Jean ", "je suis Jean ", "IPP 1", "zéro-", "vingt et "]
)
def test_masking_takes_linear_time_on_long_repetitive_text(unit: str) -> None:
    """Masking runs on every log line too: a long run of one pattern must not take quadratic time."""
    import time

    text = unit * (20_000 // len(unit))
    started = time.monotonic()
    mask_personal_data(text)
    mask_personal_data(text, keep_phones=True)
    assert time.monotonic() - started < 0.5


def test_a_huge_message_is_masked_whole() -> None:
    text = ("Je m'appelle Jean " + "Dupont " * 2000 + "zéro six " * 2000 + "1" * 5000 + " né le 12/03/1984 ") * 5
    masked = mask_personal_data(text)
    assert BIRTH_DATE_LABEL in masked and NAME_LABEL in masked and "12/03/1984" not in masked and "zéro six zéro" not in masked
