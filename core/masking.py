"""Masking of personal data in patient messages before an editor sees them or they become training examples.

E-mail addresses, French social security numbers (NIR), French and foreign phone numbers, birth
dates, hospital patient numbers (IPP), other long runs of digits, runs of spelled-out numbers from
voice transcripts (« zéro six douze trente-quatre… ») and the names people give (« je m'appelle… »,
« Madame Martin ») are replaced by labels such as « [téléphone] » or « [nom] ». The order matters:
the NIR is masked before phone numbers, whose pattern would otherwise take part of its digits.
"""

from __future__ import annotations

import datetime as dt
import re

SOCIAL_SECURITY_LABEL = "[n° de sécurité sociale]"
PHONE_LABEL = "[téléphone]"
EMAIL_LABEL = "[e-mail]"
NAME_LABEL = "[nom]"
BIRTH_DATE_LABEL = "[date de naissance]"
PATIENT_NUMBER_LABEL = "[n° patient]"
NUMBER_LABEL = "[numéro]"
LABELS = (SOCIAL_SECURITY_LABEL, PHONE_LABEL, EMAIL_LABEL, NAME_LABEL, BIRTH_DATE_LABEL, PATIENT_NUMBER_LABEL, NUMBER_LABEL)

# Separators people type between groups of digits.
_SEP = r"[ \u00a0.\-]?"

# The lookbehind starts a match only where a run of address characters starts: otherwise a long run
# without « @ » would be scanned again from each of its characters (quadratic time).
EMAIL = re.compile(r"(?<![\w.!#$%&'*+/=?^`{|}~-])[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}", re.UNICODE)

# NIR: sex (1 or 2), year (2 digits), month (2), department (2 digits, or 2A/2B for Corsica),
# commune (3), order number (3), then the 2-digit key: 15 characters, with or without separators.
SOCIAL_SECURITY = re.compile(
    rf"(?<![\dA-Za-z])[12]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}(?:\d{{2}}|2[ABab]){_SEP}\d{{3}}{_SEP}\d{{3}}(?:{_SEP}\d{{2}})?(?!\d)"
)

# French numbers: 0 then 9 digits, or +33 / 0033 (optionally "(0)") then 9 digits; digits grouped by two
# (or not at all) with spaces, dots or dashes.
PHONE = re.compile(
    rf"(?<![\w+])(?:(?:\+|00)33{_SEP}(?:\(0\){_SEP})?[1-9]|0[1-9])(?:{_SEP}\d{{2}}){{4}}(?!\d)"
)


# Foreign numbers: + or 00, a country code, then 6 to 13 more digits (an optional "(0)" inside).
FOREIGN_PHONE = re.compile(rf"(?<![\w+])(?:\+|00)[1-9](?:{_SEP}(?:\(0\){_SEP})?\d){{6,13}}(?!\d)")

_MONTHS = r"(?:janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[ûu]t|septembre|octobre|novembre|d[ée]cembre)"
_NUMERIC_DATE = r"\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})(?!\d)"
_WRITTEN_DATE = rf"(?:1er|\d{{1,2}})[ \u00a0]+{_MONTHS}(?:[ \u00a0]+\d{{4}}(?!\d))?"
# A date after « né le », « date de naissance », « DDN »…: the cue stays, the date goes.
BIRTH_DATE = re.compile(
    rf"(?i)(\bn[ée]e?s?(?:\(e\))?[ \u00a0]+(?:le[ \u00a0]+)?|\bdate[ \u00a0]+de[ \u00a0]+naissance[ \u00a0]*:?[ \u00a0]*(?:(?:le|est|c'est)[ \u00a0]+)?"
    rf"|\bddn[ \u00a0]*:?[ \u00a0]*|\bnaissance[ \u00a0]*:[ \u00a0]*)(?:{_NUMERIC_DATE}|{_WRITTEN_DATE})"
)
BIRTH_YEAR = re.compile(r"(?i)(\bn[ée]e?s?(?:\(e\))?[ \u00a0]+en[ \u00a0]+)(?:19|20)\d{2}(?!\d)")
# A full date (with its year) long past is taken for a birth date; « le 12 mars », « le 12/05/2025 » are kept.
FULL_DATE = re.compile(
    rf"(?i)(?<![\d/.\-])(?:\d{{1,2}}[/.\-]\d{{1,2}}[/.\-](?P<year>\d{{4}})|(?:1er|\d{{1,2}})[ \u00a0]+{_MONTHS}[ \u00a0]+(?P<written_year>\d{{4}}))(?!\d)"
)
PAST_YEARS = 10  # a full date at least this many years ago is masked

# Hospital patient numbers: digits after « IPP », « NIP », « n° patient », « numéro de patient »…
PATIENT_NUMBER = re.compile(
    r"(?i)(\b(?:IPP|NIP|identifiant[ \u00a0]+patient|(?:n°|no|num[ée]ro)[ \u00a0]*(?:d['’ ][ \u00a0]*)?(?:de[ \u00a0]+)?(?:patient|IPP|dossier[ \u00a0]+patient))"
    r"[ \u00a0]*(?:(?::|n°|est|c'est)[ \u00a0]*)?)\d(?:[ \u00a0.]?\d){3,14}(?!\d)"
)
# Any other run of 7 to 10 digits (an IPP given without its name, a card number…); not amounts nor references.
DIGIT_RUN = re.compile(r"(?<![\w.,/-])\d{7,10}(?![\w/-]|[.,]\d)")

_UNITS = {"zéro", "zero", "un", "une", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"}
_TEENS = {"dix", "onze", "douze", "treize", "quatorze", "quinze", "seize"}
_TENS = {"vingt", "vingts", "trente", "quarante", "cinquante", "soixante", "septante", "huitante", "octante", "nonante"}
_NUMBER_WORD = "|".join(sorted(_UNITS | _TEENS | _TENS, key=len, reverse=True))
# Number words (0 to 99) in a row, as speech recognition writes digits read aloud.
SPELLED_RUN = re.compile(
    rf"(?i)(?<![\w-])(?:{_NUMBER_WORD})(?:[\s,\-]+(?:et[\s\-]+)?(?:{_NUMBER_WORD}))+(?![\w-])"
)
MIN_SPELLED_NUMBERS = 4  # « zéro six douze trente-quatre… » is 6; « vingt et un ans », « deux ou trois » are kept

_UPPER = "A-ZÀ-ÖØ-Þ"
_CAPITALISED = rf"[{_UPPER}][{_UPPER}a-zà-öø-ÿ]*(?:['’\-][{_UPPER}a-zà-öø-ÿ]+)*"
_PARTICLE = r"(?:de|du|des|le|la|van|von|ben|el)"
_CAPITALISED_NAME = rf"(?:d['’])?{_CAPITALISED}(?:[ \u00a0]+(?:{_PARTICLE}[ \u00a0]+|d['’])?{_CAPITALISED}){{0,3}}"
_TITLE = r"(?:[Mm]adame|[Mm]onsieur|[Mm]ademoiselle|Mme|Mlle|Mr|M\.?)"
_STOP = (
    r"(?:et|ou|je|j|mais|pour|car|donc|qui|que|suis|ai|est|c|ne|né|née|mon|ma|mes|votre|vous|il|elle|on|avec|sans|merci"
    r"|bonjour|svp|s|voudrais|veux|voulais|souhaite|appelle|rappeler|rappelez|numéro|téléphone|tel|à|au|aux|en|dans|sur)"
)
_ANY_WORD = r"[^\W\d_]+(?:['’\-][^\W\d_]+)*"
# After « je m'appelle », « mon nom est », « nom : »: up to four words in any case (voice transcripts are lower case).
NAME_AFTER_CUE = re.compile(
    r"(?i)(\b(?:je[ \u00a0]+m['’][ \u00a0]*appelle|je[ \u00a0]+me[ \u00a0]+nomme|mon[ \u00a0]+(?:nom|prénom)(?:[ \u00a0]+de[ \u00a0]+famille)?[ \u00a0]+(?:est|c['’]est)"
    r"|(?<!\w)(?:nom|prénom|nom[ \u00a0]+et[ \u00a0]+prénom|nom[ \u00a0]+de[ \u00a0]+famille)[ \u00a0]*:)[ \u00a0]*)"
    rf"(?!{_STOP}\b){_ANY_WORD}(?:[ \u00a0]+(?!{_STOP}\b){_ANY_WORD}){{0,3}}"
)
# « Madame Martin », « M. Dupont »: the title stays, the capitalised name goes.
NAME_AFTER_TITLE = re.compile(rf"((?<![\w.])(?:{_TITLE})[ \u00a0]+)(?!(?:{_TITLE})\b){_CAPITALISED_NAME}")
# « je suis Jean Dupont » (capitalised only: « je suis perdue » is kept).
NAME_AFTER_JE_SUIS = re.compile(rf"(\b[Jj]e[ \u00a0]+suis[ \u00a0]+)(?!(?:{_TITLE})(?:\W|$)){_CAPITALISED_NAME}")


def _count_spelled_numbers(run: str) -> int:
    """How many numbers (0 to 99) a run of number words says: « soixante-dix-huit » is one, « zéro six » two."""
    words = [w for w in re.split(r"[\s,\-]+", run.lower()) if w and w != "et"]
    count = i = 0

    def next_in(options: set[str]) -> bool:
        return i < len(words) and words[i] in options

    while i < len(words):
        word = words[i]
        i += 1
        count += 1
        if word == "quatre" and next_in({"vingt", "vingts"}):
            i += 1
            word = "quatre-vingt"
        if word in ("soixante", "quatre-vingt") and next_in(_TEENS):
            i += 1
            if words[i - 1] == "dix" and next_in({"sept", "huit", "neuf"}):
                i += 1
        elif word in _TENS or word == "quatre-vingt":
            if next_in(_UNITS - {"zéro", "zero"}):
                i += 1
        elif word == "dix" and next_in({"sept", "huit", "neuf"}):
            i += 1
    return count


def _mask_old_date(match: re.Match) -> str:
    year = int(match.group("year") or match.group("written_year"))
    return BIRTH_DATE_LABEL if 1900 <= year <= dt.date.today().year - PAST_YEARS else match.group(0)


def _mask_spelled_run(match: re.Match) -> str:
    return NUMBER_LABEL if _count_spelled_numbers(match.group(0)) >= MIN_SPELLED_NUMBERS else match.group(0)


def mask_personal_data(text: str, *, keep_phones: bool = False) -> str:
    """`text` with its personal data replaced by labels.

    `keep_phones` leaves phone numbers (written or spelled out) for the staff who call patients back.
    """
    if not text:
        return text
    text = EMAIL.sub(EMAIL_LABEL, text)
    text = SOCIAL_SECURITY.sub(SOCIAL_SECURITY_LABEL, text)
    if not keep_phones:
        text = PHONE.sub(PHONE_LABEL, text)
        text = FOREIGN_PHONE.sub(PHONE_LABEL, text)
    text = BIRTH_DATE.sub(lambda m: m.group(1) + BIRTH_DATE_LABEL, text)
    text = BIRTH_YEAR.sub(lambda m: m.group(1) + BIRTH_DATE_LABEL, text)
    text = FULL_DATE.sub(_mask_old_date, text)
    text = PATIENT_NUMBER.sub(lambda m: m.group(1) + PATIENT_NUMBER_LABEL, text)
    if keep_phones:
        # Keep the phone numbers out of reach of the digit-run rule.
        kept: list[str] = []
        text = _stash(PHONE, text.replace("\x00", ""), kept)
        text = _stash(FOREIGN_PHONE, text, kept)
        text = DIGIT_RUN.sub(NUMBER_LABEL, text)
        text = re.sub(r"\x00(\d+)\x00", lambda m: kept[int(m.group(1))], text)
    else:
        text = DIGIT_RUN.sub(NUMBER_LABEL, text)
        text = SPELLED_RUN.sub(_mask_spelled_run, text)
    text = NAME_AFTER_CUE.sub(lambda m: m.group(1) + NAME_LABEL, text)
    text = NAME_AFTER_TITLE.sub(lambda m: m.group(1) + NAME_LABEL, text)
    return NAME_AFTER_JE_SUIS.sub(lambda m: m.group(1) + NAME_LABEL, text)


def _stash(pattern: re.Pattern, text: str, kept: list[str]) -> str:
    def put_aside(match: re.Match) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    return pattern.sub(put_aside, text)
