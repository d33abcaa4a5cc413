"""Personal data in patient messages is masked; times, rooms, years and prices are not."""

from __future__ import annotations

import pytest

from studio.masking import EMAIL_LABEL, PHONE_LABEL, SOCIAL_SECURITY_LABEL, mask_personal_data


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
    assert mask_personal_data(text) == f"Je suis Mme X, sécu {SOCIAL_SECURITY_LABEL}, tel {PHONE_LABEL} ou {EMAIL_LABEL}"


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
