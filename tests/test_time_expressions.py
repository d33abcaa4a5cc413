"""Times in patients' messages, in the four styles (written, oral, SMS, voice transcript): when a stay was, and
the time of day a question is about. Dates are relative to Tuesday 24 November 2026."""

from __future__ import annotations

import datetime as dt

import pytest

from actions.time_expressions import RECENT_YEARS, day_named, stay_age, stay_date, stay_reading, time_asked, time_of_day

TODAY = dt.date(2026, 11, 24)
D = dt.date
T = dt.time


# ------------------------------------------------------------------ the date of a stay
@pytest.mark.parametrize(
    ("said", "date"),
    [
        # explicit dates: the middle of a year, a month, a season
        ("J'ai été hospitalisé en 2013.", D(2013, 7, 2)),
        ("euh c'était en deux mille treize je crois", D(2013, 7, 2)),
        ("deux mille treize", D(2013, 7, 2)),
        ("Mon séjour date de mars 2022.", D(2022, 3, 16)),
        ("en mars dernier", D(2026, 3, 16)),
        ("mars dernier", D(2026, 3, 16)),
        ("en janvier", D(2026, 1, 16)),
        ("en decembre", D(2025, 12, 16)),
        ("Je suis sortie le 3 mai 2019.", D(2019, 5, 3)),
        ("le trois mai deux mille dix neuf", D(2019, 5, 3)),
        ("le 1er février 2024", D(2024, 2, 1)),
        ("hospitalise le 03/05/2019", D(2019, 5, 3)),
        ("cet été", D(2026, 8, 6)),
        ("cet ete", D(2026, 8, 6)),
        ("l'été dernier", D(2026, 8, 6)),
        ("l ete dernier", D(2026, 8, 6)),
        ("l'hiver dernier", D(2026, 2, 3)),
        ("au printemps 2020", D(2020, 5, 5)),
        # relative
        ("hier", D(2026, 11, 23)),
        ("avant-hier", D(2026, 11, 22)),
        ("le mois dernier", D(2026, 10, 16)),
        ("l'année dernière", D(2025, 7, 2)),
        ("annee derniere", D(2025, 7, 2)),
        ("l'an dernier", D(2025, 7, 2)),
        ("la semaine dernière", D(2026, 11, 19)),
        # durations that a duration word introduces
        ("il y a trois semaines", D(2026, 11, 3)),
        ("Il y a 3 semaines.", D(2026, 11, 3)),
        ("il y a 8 ans", D(2018, 11, 24)),
        ("à la naissance de mon fils il y a huit ans", D(2018, 11, 24)),
        ("ya 8 ans", D(2018, 11, 24)),
        ("ça fait deux ans", D(2024, 11, 24)),
        ("il y a un an et demi", D(2025, 5, 26)),
        ("il y a une dizaine d'années", D(2016, 11, 24)),
        ("il y a quinze jours", D(2026, 11, 9)),
        ("ça remonte à loin, vingt ans au moins", D(2006, 11, 24)),
        ("ça date de deux mille douze", D(2012, 7, 1)),
    ],
)
def test_date_of_a_stay(said, date) -> None:
    assert stay_date(said, TODAY) == date


@pytest.mark.parametrize(
    "said",
    [
        "mon fils a 16 ans",
        "j'ai 45 ans",
        "ma mère de 80 ans a été opérée",
        "mon fils a plus de 16 ans",
        "je voudrais mon dossier médical",
        "j'ai été hospitalisé",  # "été" is no summer
        "je ne sais plus",
        "ça fait longtemps",
    ],
)
def test_no_stay_date_in_ages_and_other_words(said) -> None:
    assert stay_date(said, TODAY) is None


@pytest.mark.parametrize(
    ("said", "age"),
    [
        # written
        ("J'ai été hospitalisé en 2013.", "old"),
        ("Mon séjour date de mars 2022.", "recent"),
        ("Il y a plus de 5 ans.", "old"),
        ("Moins de cinq ans.", "recent"),
        ("Je suis sortie le 3 mai 2019.", "old"),
        ("L'été dernier.", "recent"),
        ("Récemment.", "recent"),
        ("en 2023", "recent"),
        ("plus de cinq ans", "old"),
        ("moins de 5 ans", "recent"),
        ("il y a trois mois", "recent"),
        ("il y a dix ans", "old"),
        # oral
        ("euh ben c'était à la naissance de mon fils il y a huit ans", "old"),
        ("ouh là ça remonte à loin, vingt ans au moins", "old"),
        ("bah ça fait longtemps", "old"),
        ("euh ça fait pas longtemps en fait", "recent"),
        ("hier en fait", "recent"),
        ("euh le mois dernier", "recent"),
        ("euh il y a quelques mois", "recent"),
        # SMS
        ("cet ete", "recent"),
        ("annee derniere", "recent"),
        ("ya 8 ans", "old"),
        ("en janvier", "recent"),
        ("c recent", "recent"),
        ("sa fait 6 ans", "old"),
        # voice transcripts
        ("deux mille treize", "old"),
        ("il y a trois semaines", "recent"),
        ("il y a plus de cinq ans", "old"),
        ("le trois mai deux mille dix neuf", "old"),
        ("en deux mille vingt deux", "recent"),
        # the 5 years are counted on the date, not the year
        ("il y a 5 ans", "old"),
        ("il y a quatre ans et demi", "recent"),
        ("en décembre 2021", "recent"),
        ("en octobre 2021", "old"),
    ],
)
def test_age_of_a_stay(said, age) -> None:
    assert stay_age(said, TODAY) == age


@pytest.mark.parametrize(
    "said",
    [
        "mon fils a 16 ans",  # an age, not a stay
        "j'ai 45 ans",
        "je ne sais plus",
        "en 2021",  # from January (old) to December (recent)
        "plus de 3 ans",  # 4 or 10 years?
        "il y a quelques années",
    ],
)
def test_age_of_a_stay_unknown(said) -> None:
    assert stay_age(said, TODAY) is None


def test_bounds_of_a_stay() -> None:
    assert RECENT_YEARS == 5
    more = stay_reading("il y a plus de 5 ans", TODAY)
    assert more is not None and more.latest == D(2021, 11, 24) and more.earliest == D.min
    year = stay_reading("en 2013", TODAY)
    assert year is not None and (year.earliest, year.latest) == (D(2013, 1, 1), D(2013, 12, 31))
    this_year = stay_reading("cette année", TODAY)
    assert this_year is not None and this_year.latest == TODAY


def test_a_leap_day_five_years_back() -> None:
    assert stay_age("il y a 5 ans", D(2028, 2, 29)) == "old"


# ------------------------------------------------------------------ the time of day of a question
@pytest.mark.parametrize(
    ("said", "value"),
    [
        # written
        ("Le labo est encore ouvert à 14h ?", T(14)),
        ("Le bureau des admissions est ouvert à 17 h ?", T(17)),
        ("Je peux passer à 8h30 ?", T(8, 30)),
        ("Vous êtes ouverts à 7h ?", T(7)),
        ("Rendez-vous à 14:30", T(14, 30)),
        ("La cafétéria est ouverte vers midi ?", T(12)),
        ("Les urgences à 3h du matin ?", T(3)),
        ("à 2h de l'après-midi", T(14)),
        ("vers 7 heures du soir", T(19)),
        ("à 15h moins le quart", T(14, 45)),
        # oral
        ("euh le labo euh il ouvre à sept heures et demie ?", T(7, 30)),
        ("ben je voulais savoir si c'est ouvert à 14 heures", T(14)),
        ("euh vers midi et demi", T(12, 30)),
        # SMS
        ("le labo c ouvert a 14h", T(14)),
        ("est ce que c ouvert a 17h", T(17)),
        ("rdv 14h30", T(14, 30)),
        # voice transcripts
        ("est ce que le laboratoire est ouvert à quatorze heures", T(14)),
        ("quatorze heures trente", T(14, 30)),
        ("à quatorze heures et demie", T(14, 30)),
        ("à huit heures", T(8)),
    ],
)
def test_moment_asked(said, value) -> None:
    assert time_of_day(said) == value


@pytest.mark.parametrize(
    ("said", "value", "words"),
    [
        ("Je peux régler ma facture sur place en fin d'après-midi ?", (T(17), T(18)), "en fin d'après-midi"),
        ("en fin d aprem", (T(17), T(18)), "en fin d'après-midi"),
        ("Le labo est ouvert en fin de matinée ?", (T(11), T(12)), "en fin de matinée"),
        ("c'est ouvert le matin ?", (T(8), T(12)), "le matin"),
        ("euh samedi matin", (T(8), T(12)), "le matin"),
        ("l'après-midi", (T(14), T(18)), "l'après-midi"),
        ("cet aprem", (T(14), T(18)), "cet après-midi"),
        ("ce soir", (T(18), T(22)), "ce soir"),
        ("euh tôt le matin", (T(7), T(9)), "tôt le matin"),
        ("tot le matin", (T(7), T(9)), "tôt le matin"),
        ("entre midi et deux", (T(12), T(14)), "entre midi et 14h"),
        ("la nuit", (T(22), T(23, 59)), "la nuit"),
        ("entre 14h et 16h", (T(14), T(16)), "entre 14h et 16h"),
        ("de huit heures à dix heures", (T(8), T(10)), "entre 8h et 10h"),
        ("14h-16h", (T(14), T(16)), "entre 14h et 16h"),
        ("avant 14h", (T(0), T(14)), "avant 14h"),
        ("après 17h", (T(17), T(23, 59)), "après 17h"),
        ("à partir de 17h", (T(17), T(23, 59)), "à partir de 17h"),
    ],
)
def test_span_asked(said, value, words) -> None:
    asked = time_asked(said)
    assert asked is not None and asked.value == value and asked.words == words


@pytest.mark.parametrize(
    "said",
    [
        "les résultats en 48 heures",
        "48h",
        "les urgences sont ouvertes 24h/24 ?",
        "vingt-quatre heures sur vingt-quatre",
        "il y a 2 heures",
        "j'attends depuis 2 heures",
        "ça fait 3 heures que j'attends",
        "je peux boire jusqu'à 2 heures avant ?",
        "il faut arriver 1h avant",
        "6 heures à jeun",
        "ça prend 2 heures",
        "pendant 2 heures",
        "c koi les horaires",
        "le labo ouvre à quelle heure",
        "deux hôpitaux",
    ],
)
def test_durations_are_no_time_of_day(said) -> None:
    assert time_of_day(said) is None


@pytest.mark.parametrize(
    ("said", "day"),
    [("l'accueil est ouvert dimanche ?", "dimanche"), ("demain matin à 8h", "demain"), ("ce soir", "aujourdhui"), ("ce week-end", "weekend"), ("à 14h", None), ("après-demain", None)],
)
def test_day_named(said, day) -> None:
    assert day_named(said) == day
