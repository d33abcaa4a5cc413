"""Times in a patient's French message: when a hospital stay was, and the time of day a question is about.

Numbers said in words are first written as digits (`spoken_numbers.digits_of`: "deux mille treize" ->
2013), then the text is matched without accents, so SMS spellings ("ete", "annee derniere") read the
same. Dates and relative phrases are computed by `dateparser` (French only, offline: its language
data ship with the package). A number of years counts as a stay's age only when a duration word
introduces it ("il y a", "ça fait", "remonte à", "depuis", "plus de"…): "mon fils a 16 ans" is no stay.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

import dateparser

from actions.french_text import END_OF_DAY, fold, format_time
from actions.spoken_numbers import digits_of
from kb_sync.french import strip_accents

# A stay under this many years old (by its date) gets its medical record copy within the short delay.
RECENT_YEARS = 5

MONTHS = ["janvier", "fevrier", "mars", "avril", "mai", "juin", "juillet", "aout", "septembre", "octobre", "novembre", "decembre"]
SMALL_NUMBERS = {"un": 1, "une": 1, "deux": 2, "dizaine": 10, "quinzaine": 15, "vingtaine": 20, "trentaine": 30, "quarantaine": 40}
UNITS = {"an": "ans", "ans": "ans", "annee": "ans", "annees": "ans", "mois": "mois",
         "semaine": "semaines", "semaines": "semaines", "jour": "jours", "jours": "jours"}
# (first month, first day), (last month, last day) of each season; winter runs over the new year.
SEASONS = {"printemps": ((3, 20), (6, 20)), "ete": ((6, 21), (9, 22)), "automne": ((9, 23), (12, 20)), "hiver": ((12, 21), (3, 19))}

# Vague words, read when no date is said; the recent ones first ("pas longtemps" is recent).
RECENT_WORDS = ("recemment", "recent", "dernierement", "tout juste", "il y a peu", "ces derniers", "pas longtemps", "pas si longtemps",
                "pas tres longtemps", "pas bien longtemps", "pas ancien", "pas tres ancien")
OLD_WORDS = ("longtemps", "ancien", "tres vieux", "des annees", "des lustres", "une eternite", "ca remonte", "remonte a loin")


# ------------------------------------------------------------------ the date of a stay
@dataclass(frozen=True)
class StayDate:
    """When a stay was: `date` is the best guess, the stay lies between `earliest` and `latest`."""

    date: dt.date
    earliest: dt.date
    latest: dt.date


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _parse(phrase: str, today: dt.date) -> dt.date | None:
    """`dateparser` on a French phrase, dates preferred in the past of `today`."""
    settings = {"PREFER_DATES_FROM": "past", "RELATIVE_BASE": dt.datetime.combine(today, dt.time(12)), "PREFER_DAY_OF_MONTH": "first"}
    found = dateparser.parse(phrase, languages=["fr"], settings=settings)
    return found.date() if found else None


def _period(start: dt.date, end: dt.date, today: dt.date) -> StayDate:
    """A stay somewhere in [start, end] (cut at today): its middle as the guess."""
    end = min(end, today)
    start = min(start, end)
    return StayDate(start + (end - start) / 2, start, end)


def _exact(day: dt.date) -> StayDate:
    return StayDate(day, day, day)


def _spoken(text: str) -> str:
    """Folded text with numbers as digits: ' ca remonte a loin 20 ans au moins '."""
    return fold(digits_of(text))


def _number(amount: str) -> int:
    """'8' -> 8, 'une' -> 1, 'une dizaine d' -> 10."""
    word = [w for w in amount.split() if w.isdigit() or w in SMALL_NUMBERS][-1]
    return int(word) if word.isdigit() else SMALL_NUMBERS[word]


NUMBER = r"(\d+|un|une|deux|quelques|plusieurs|une (?:dizaine|quinzaine|vingtaine|trentaine|quarantaine)(?: d| de)?)"
UNIT = r"(ans?|annees?|mois|semaines?|jours?)"
INTRODUCER = r"(?:il y a|y a|ya|ca fait|sa fait|cela fait|ca va faire|ca remonte a|remonte a|ca date de|date de|depuis|voila)"
FILLER = r"(?:(?:de ca|euh|ben|bah|bien|deja|genre|loin|facilement|facile|quoi|a peu pres|environ|presque|pres de|pas loin de|peut etre|au moins|plus de|moins de) )*"
DURATION = re.compile(rf" {INTRODUCER} ({FILLER}){NUMBER} {UNIT}( et demie?)?( au moins| minimum| ou plus| et plus| voire plus)? ")
# "plus de cinq ans" said alone; not "mon fils a plus de 16 ans" (an age).
BOUND = re.compile(rf"(?<! a)(?<! ai)(?<! as)(?<! avait)(?<! age)(?<! agee) (plus|moins) de {NUMBER} {UNIT}( et demie?)? ")


def _ago(count: int, unit: str, today: dt.date) -> dt.date:
    if unit == "ans":
        return _years_before(today, count)
    return _parse(f"il y a {count} {unit}", today) or today


def _duration(spoken: str, today: dt.date) -> StayDate | None:
    """'il y a 8 ans', 'ça remonte à loin, vingt ans au moins', 'il y a plus de 5 ans', 'moins de cinq ans'."""
    match = DURATION.search(spoken)
    if match:
        fillers, amount, unit, half, after = match.groups()
        bound = "moins" if "moins de" in fillers else "plus" if ("plus de" in fillers or "au moins" in fillers or after) else None
    else:
        match = BOUND.search(spoken)
        if not match:
            return None
        bound, amount, unit, half = match.groups()
    unit = UNITS[unit]
    if amount in ("quelques", "plusieurs"):  # a few: 2 to 9 of them
        return _period(_ago(9, unit, today), _ago(2, unit, today), today)
    when = _ago(_number(amount), unit, today)
    if half:
        when -= (today - _ago(1, unit, today)) / 2
    if bound == "plus":
        return StayDate(when, dt.date.min, when)
    if bound == "moins":
        return StayDate(when + dt.timedelta(days=1), when + dt.timedelta(days=1), today)
    return _exact(when)


NUMERIC_DATE = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2}|\d{4})\b")
MONTH_DATE = re.compile(rf"(?: le)?(?: (1er|premier|\d{{1,2}}))? ({'|'.join(MONTHS)})(?: (dernier|passe))?(?: (\d{{4}}))? ")
YEAR = re.compile(r" (19[5-9]\d|20\d\d) ")


def _month(spoken: str, today: dt.date) -> StayDate | None:
    """'le 3 mai 2019', 'en mars 2022', 'en janvier', 'mars dernier'."""
    match = MONTH_DATE.search(spoken)
    if not match:
        return None
    day, month, last, year = match.groups()
    number = MONTHS.index(month) + 1
    if year is None and last:  # "mars dernier": the latest March before this month
        year = str(today.year if number < today.month else today.year - 1)
    if day:
        found = _parse(f"{1 if day in ('1er', 'premier') else day} {month} {year or ''}".strip(), today)
        return _exact(found) if found else None
    found = _parse(f"{month} {year or ''}".strip(), today)
    if found is None:
        return None
    return _period(found, found.replace(day=calendar.monthrange(found.year, found.month)[1]), today)


def _season(spoken: str, today: dt.date) -> StayDate | None:
    """'cet été', "l'été dernier", 'au printemps 2020' (a determiner first: 'j'ai été' is no summer)."""
    match = re.search(r" (?:cet|ce|cette|l|en|au|pendant l|durant l) (printemps|ete|automne|hiver)(?: (dernier|passe))?(?: (\d{4}))? ", spoken)
    if not match:
        return None
    name, last, year = match.groups()
    (m1, d1), (m2, d2) = SEASONS[name]

    def occurrence(start_year: int) -> tuple[dt.date, dt.date]:
        return dt.date(start_year, m1, d1), dt.date(start_year + (m2 < m1), m2, d2)

    if year:
        return _period(*occurrence(int(year)), today)
    start_year = today.year
    # "cet été": the latest one begun; "l'été dernier": the latest one over.
    while (occurrence(start_year)[1] >= today) if last else (occurrence(start_year)[0] > today):
        start_year -= 1
    return _period(*occurrence(start_year), today)


def _relative(spoken: str, today: dt.date) -> StayDate | None:
    """'hier', 'la semaine dernière', 'le mois dernier', "l'année dernière", 'cette année'."""
    if " avant hier " in spoken:
        return _exact(_parse("avant-hier", today) or today)
    if " hier " in spoken:
        return _exact(_parse("hier", today) or today)
    if re.search(r" (?:aujourd hui|ce matin) ", spoken):
        return _exact(today)
    if re.search(r" la semaine (?:derniere|passee) ", spoken):
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return _period(monday, monday + dt.timedelta(days=6), today)
    if " cette semaine " in spoken:
        return _period(today - dt.timedelta(days=today.weekday()), today, today)
    if re.search(r" (?:le|au|du) mois (?:dernier|passe) ", spoken):
        last = today.replace(day=1) - dt.timedelta(days=1)
        return _period(last.replace(day=1), last, today)
    if " ce mois " in spoken:
        return _period(today.replace(day=1), today, today)
    if re.search(r" (?:l )?annee (?:derniere|passee) | l an (?:dernier|passe) ", spoken):
        return _period(dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31), today)
    if " cette annee " in spoken:
        return _period(dt.date(today.year, 1, 1), today, today)
    return None


def stay_reading(text: str, today: dt.date) -> StayDate | None:
    """When the stay the message speaks of was, or None when it does not say (vague words aside)."""
    spoken = _spoken(text)
    numeric = NUMERIC_DATE.search(digits_of(text))
    if numeric:
        found = _parse(numeric.group(0).replace(".", "/"), today)
        if found:
            return _exact(found)
    for reader in (_month, _season):
        found = reader(spoken, today)
        if found:
            return found
    year = YEAR.search(spoken)
    if year:
        return _period(dt.date(int(year.group(1)), 1, 1), dt.date(int(year.group(1)), 12, 31), today)
    return _duration(spoken, today) or _relative(spoken, today)


def stay_date(text: str, today: dt.date) -> dt.date | None:
    """The date (or approximate date: the middle of a month, a season, a year) of the stay the message speaks of."""
    found = stay_reading(text, today)
    return found.date if found else None


def stay_age(text: str, today: dt.date) -> str | None:
    """'recent' (the stay dates from under 5 years ago), 'old', or None when the text does not say
    or the stay may be either ("en 2021" on 24 November 2026)."""
    found = stay_reading(text, today)
    if found:
        limit = _years_before(today, RECENT_YEARS)
        if found.earliest > limit:
            return "recent"
        if found.latest <= limit:
            return "old"
        return None
    spoken = _spoken(text)
    if any(f" {word}" in spoken for word in RECENT_WORDS):
        return "recent"
    if any(f" {word}" in spoken for word in OLD_WORDS):
        return "old"
    return None


# ------------------------------------------------------------------ the time of day of a question
@dataclass(frozen=True)
class TimeAsked:
    """A moment (`end` None) or a span of the day a question is about, and how to say it back."""

    start: dt.time
    end: dt.time | None
    words: str  # "à 14h", "en fin d'après-midi", "entre 14h et 16h"

    @property
    def value(self) -> dt.time | tuple[dt.time, dt.time]:
        return self.start if self.end is None else (self.start, self.end)


def _t(hour: int, minute: int = 0) -> dt.time:
    return dt.time(hour, minute)


# Spans of the day, most specific first: (pattern on the plain text, start, end, words to say it back).
SPANS = [
    (r"tot le matin|de bon matin|de bonne heure|tres tot|a la premiere heure|en debut de matinee", _t(7), _t(9), "tôt le matin"),
    (r"fin de matinee|fin de matin", _t(11), _t(12), "en fin de matinée"),
    (r"debut d apres midi|debut d aprem", _t(13), _t(15), "en début d'après-midi"),
    (r"fin d apres midi|fin d aprem", _t(17), _t(18), "en fin d'après-midi"),
    (r"fin de journee", _t(17), _t(19), "en fin de journée"),
    (r"matin|matinee", _t(8), _t(12), "le matin"),
    (r"apres midi|aprem", _t(14), _t(18), "l'après-midi"),
    (r"soir|soiree", _t(18), _t(22), "le soir"),
    (r"(?:la|cette|de|en pleine|dans la) nuit", _t(22), END_OF_DAY, "la nuit"),
]

HOUR = r"(\d{1,2}|une|deux)"
# A time of day: "14h", "14 h 30", "14 heures et demie", "14:30", "midi et quart", "2h de l'après-midi".
CLOCK = (
    rf"(?:{HOUR} ?(?:h|heures?) ?(\d{{2}}|et quart|et demie?|moins le quart|moins quart)?(?![a-z])"
    r"|(\d{1,2}) ?: ?(\d{2})|(?<!apres )(midi|minuit)(?: (et quart|et demie?|\d{2}))?)( du matin| de l apres midi| de l aprem| du soir)?"
)
CLOCK_RE = re.compile(CLOCK)
BETWEEN_RE = re.compile(
    rf" (?:entre|de) (?P<first>{CLOCK}) (?:et|a|jusqu a) (?P<second>{CLOCK})| (?P<dashed>{CLOCK}) ?- ?(?P<dashed_end>{CLOCK})"
)
BOUND_RE = re.compile(rf" (?P<word>avant|apres(?! midi)|a partir de) (?P<moment>{CLOCK})")
# Durations and frequencies, not a time of day: "48 heures", "24h/24", "il y a 2 heures", "2 heures avant".
NOT_BEFORE = re.compile(
    r" (?:il y a|y a|fait|faire|depuis|pendant|durant|dans|en|sous|toutes les|tous les|plus de|moins de|au moins|environ|pres de|"
    r"au bout de|delai de|dure|duree|prend|prendre|compter|attendre|attendu|attends|attend|les|par|de plus de) $"
)
NOT_AFTER = re.compile(
    r"^ ?(?:/|sur \d|avant|apres|plus tard|d affilee|de suite|a jeun|de route|de trajet|d attente|de queue|de temps|"
    r"max|maximum|minimum|par jour|environ|de plus|de moins|de delai|d avance)"
)
LUNCH = (
    r"entre midi et (?:2|deux|14 ?h)|pause (?:de )?midi|pause dejeuner|(?:sur le|au) temps de midi|le midi|heure du dejeuner",
    _t(12), _t(14), "entre midi et 14h",
)


SAID_HOURS = {_t(0): "minuit", _t(12): "midi", _t(12, 30): "midi et demi"}


def _plain(text: str) -> str:
    """Lowercase, no accents, numbers as digits, padded with spaces; ':' '/' and the '-' of '14h-16h' kept (unlike `fold`)."""
    written = strip_accents(digits_of(text)).lower()
    written = re.sub(r"(?<=[a-z])-(?=[a-z])", " ", written)
    written = re.sub(r"[^\w:/-]+|_", " ", written)
    return f" {' '.join(written.split())} "


def _clock(groups: tuple[str | None, ...]) -> dt.time | None:
    """The time one CLOCK match says (its 7 groups), or None when it is no hour of the day."""
    hour, extra, colon_hour, colon_minute, named, named_extra, part = groups
    if named:
        hour, extra = ("12" if named == "midi" else "0"), named_extra
    elif colon_hour:
        hour, extra = colon_hour, colon_minute
    value, minute = (SMALL_NUMBERS[hour] if hour in SMALL_NUMBERS else int(hour)), 0
    if extra and extra.startswith("et quart"):
        minute = 15
    elif extra and extra.startswith("et demi"):
        minute = 30
    elif extra and "moins" in extra:
        value, minute = value - 1, 45
    elif extra:
        minute = int(extra)
    if part and part != " du matin" and value < 12:
        value += 12
    return _t(value, minute) if 0 <= value <= 23 and minute <= 59 else None


def _clock_of(words: str) -> dt.time | None:
    match = CLOCK_RE.fullmatch(words)
    return _clock(match.groups()) if match else None


# "à 17h, après le boulot", "vers 18h": a preposition of the time of day says it is not a duration.
AT_TIME = re.compile(r"(?<! y)(?<!jusqu) (?:a|vers|des) $")


def _is_duration(plain: str, start: int, end: int) -> bool:
    if NOT_BEFORE.search(plain[: start + 1]):
        return True
    return not AT_TIME.search(plain[: start + 1]) and bool(NOT_AFTER.search(plain[end:]))


def _range(plain: str) -> TimeAsked | None:
    """'entre 14h et 16h', 'de 8h à 10h', '14h-16h', 'avant 14h', 'après 17h', 'à partir de 17h'."""
    for match in BETWEEN_RE.finditer(plain):
        start = _clock_of(match.group("first") or match.group("dashed"))
        end = _clock_of(match.group("second") or match.group("dashed_end"))
        if start and end and start < end:
            return TimeAsked(start, end, f"entre {format_time(start)} et {format_time(end)}")
    for match in BOUND_RE.finditer(plain):
        moment = _clock_of(match.group("moment"))
        if moment is None or NOT_AFTER.search(plain[match.end() :]):
            continue
        if match.group("word") == "avant":
            return TimeAsked(_t(0), moment, f"avant {format_time(moment)}")
        return TimeAsked(moment, END_OF_DAY, f"{'après' if match.group('word') == 'apres' else 'à partir de'} {format_time(moment)}")
    return None


def _moment(plain: str) -> TimeAsked | None:
    """'à 14h', '14 heures', '8h30', 'vers midi', "2h de l'après-midi"; not '48 heures', '2 heures avant'."""
    for match in CLOCK_RE.finditer(plain):
        if plain[match.start() - 1] != " " or _is_duration(plain, match.start() - 1, match.end()):
            continue
        moment = _clock(match.groups())
        if moment is not None:
            return TimeAsked(moment, None, f"à {SAID_HOURS.get(moment) or format_time(moment)}")
    return None


# "ce soir" is said back as such, not "le soir".
THIS_SPAN = {"le matin": "ce matin", "l'après-midi": "cet après-midi", "le soir": "ce soir", "la nuit": "cette nuit"}


def _span(plain: str, spans: list[tuple[str, dt.time, dt.time, str]]) -> TimeAsked | None:
    for pattern, start, end, words in spans:
        match = re.search(rf" (?:{pattern}) ", plain)
        if match:
            this = re.search(r" (?:ce|cet|cette) $", plain[: match.start() + 1]) or match.group(0).startswith(" cette ")
            return TimeAsked(start, end, THIS_SPAN.get(words, words) if this else words)
    return None


# "c'est ouvert là maintenant ?": the moment of the question, on the hospital's clock.
NOW = re.compile(r" (?:maintenant|en ce moment|actuellement|a cette heure ci|a cette heure la|la tout de suite|tout de suite) ")


def time_asked(text: str, now: dt.datetime | None = None) -> TimeAsked | None:
    """The time of day a question is about: a span between two times, a moment, a span it names, `now` when it
    says "maintenant", or None."""
    plain = _plain(text)
    lunch = _span(plain, [LUNCH])  # "entre midi et deux" is not "à midi"
    found = _range(plain) or lunch or _moment(plain) or _span(plain, SPANS)
    if found is None and now is not None and NOW.search(plain):
        return TimeAsked(now.time().replace(second=0, microsecond=0), None, "en ce moment")
    return found


def time_of_day(text: str) -> dt.time | tuple[dt.time, dt.time] | None:
    """A moment ("à 14h" -> 14:00) or a span ("en fin d'après-midi" -> (17:00, 18:00)) the question is about."""
    found = time_asked(text)
    return found.value if found else None


# ------------------------------------------------------------------ the day of a question
DAY_WORDS = {
    "aujourd hui": "aujourdhui", "ce soir": "aujourdhui", "ce matin": "aujourdhui", "cet apres midi": "aujourdhui",
    "demain": "demain", "week end": "weekend", "weekend": "weekend",
    **{day: day for day in ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")},
}


def day_named(text: str) -> str | None:
    """The day a message names, as the NLU's `day` entity values it ('samedi', 'demain', 'aujourdhui', 'weekend')."""
    spoken = fold(text)
    if " apres demain " in spoken:
        return None
    found = [(spoken.find(f" {words} "), value) for words, value in DAY_WORDS.items() if f" {words} " in spoken]
    return min(found)[1] if found else None
