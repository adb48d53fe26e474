"""Pure text-cleaning functions for Indonesian complaint texts.

Order matters: personal data is masked first, on the raw text, so that no later step
(and no saved vocabulary, store or log) ever sees a NIK or KK number, a phone number, an e-mail
address (also written "name[at]domain dot com"), a URL or a name a citizen introduces.
``mask_personal_data`` is the project's one masker.
"""

from __future__ import annotations

import html
import re
import unicodedata

from routing_model.text.names import NAME_TOKEN, mask_names

# Placeholders are plain lower-case words so they survive tokenisation as single tokens
# and can never collide with a real Indonesian word.
URL_TOKEN = "xurlx"
EMAIL_TOKEN = "xemailx"
PHONE_TOKEN = "xteleponx"
NIK_TOKEN = "xnikx"
NUMBER_TOKEN = "xnomorx"  # any other long digit run: a 17-digit KK, an account number
MASK_TOKENS = frozenset({URL_TOKEN, EMAIL_TOKEN, PHONE_TOKEN, NIK_TOKEN, NUMBER_TOKEN, NAME_TOKEN})

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w.-]+\.(?:go\.id|co\.id|com|id|net|org)(?:/\S*)?", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
# The patterns below put their look-behind after the first character, where it means the same
# thing: `re` can then skip ahead to a possible first character instead of trying every
# position (2-4x faster on the shared data; tests compare them with the plain forms).
# A NIK is 16 digits; exports sometimes break it with spaces or dots.
_NIK = re.compile(r"\d(?<!\d\d)(?:[ .]?\d){15}(?!\d)")
# Indonesian phone numbers: +62 / 62 / 0 followed by 8-13 digits, with optional separators.
_PHONE = re.compile(r"(?:\+62(?<!\w\+62)|62(?<!\w62)|0(?<!\w0))[\s-]?\d{2,4}(?:[\s.-]?\d{2,4}){2,4}(?!\d)")
# Landlines with the area code in brackets: "(022) 5891234", "(0274) 123-456". Without brackets
# ("022-5891234", "0274 123456") they are phone numbers of the pattern above.
_LANDLINE = re.compile(r"\(\s?0\d{2,3}\s?\)[\s.-]?\d{2,4}(?:[\s.-]?\d{2,4}){1,2}(?!\d)")
# Any other long digit run is an identifier, never a routing signal: 12+ digits with single
# separators, or 10-11 digits in a row (a 17-digit KK number, an account number).
_LONG_DIGITS = re.compile(r"\d(?<!\d\d)(?:[ .-]?\d){11,}(?!\d)|\d(?<!\d\d)\d{9,10}(?!\d)")
# Obfuscated e-mails: "name[at]domain.com", "name (at) domain dot com", "name @ domain . com".
# The plain "name@domain.tld" is _EMAIL's; these forms must end in a known top-level domain.
_AT = r"(?:\s*@\s*|\s*[\[({]\s*(?:at|et)\s*[\])}]\s*)"
_DOT = r"(?:\s*\.\s*|\s*[\[({]\s*(?:dot|titik)\s*[\])}]\s*|\s+(?:dot|titik)\s+)"
_TLD = r"(?:com|net|org|id|info|biz|xyz|io|me|co|go|ac|sch|or|web|my)"
_OBFUSCATED_EMAIL = re.compile(rf"[\w.+-]+{_AT}[\w-]+(?:{_DOT}[\w-]+)*{_DOT}{_TLD}\b", re.I)
_OBFUSCATED_AT_HINT = re.compile(r"[\[({]\s*(?:at|et)\s*[\])}]", re.I).search
# Placeholders already present in the shared, pre-masked data.
_PREMASKED = {"[nik]": NIK_TOKEN, "[telepon]": PHONE_TOKEN, "[email]": EMAIL_TOKEN, "[nama]": NAME_TOKEN}
_PREMASKED_RE = re.compile(r"\[(?:NIK|TELEPON|EMAIL|NAMA)\]", re.I)

# Cheap necessary conditions, tested before the costlier patterns above: each hint matches a
# part of every possible match of its pattern (same flags), so skipping a pattern when its hint
# is absent never changes the result. (~40% of clean()'s time on the shared data.)
_URL_HINT_PATTERN = r"https?://|www\.|\.(?:go\.id|co\.id|com|id|net|org)"
_URL_HINT = re.compile(_URL_HINT_PATTERN, re.I).search
_URL_HINT_LOWER_ASCII = re.compile(_URL_HINT_PATTERN).search  # for text already lower-case ASCII
_DIGIT_HINT = re.compile(r"\d").search  # NIK and phone numbers both need a (Unicode) digit
_KTP_HINT = re.compile(r"ktp", re.I).search

_TAG = re.compile(r"<[^>]{0,200}>")
# Words glued by a lost line break: "BanjirSampai", "parahMohon", "rusak.Mohon".
_GLUED_CASE = re.compile(r"([A-Z])(?<=[a-z][A-Z])(?=[a-z])")
_GLUED_PUNCT = re.compile(r"([.,;:!?)])(?<=[a-z][.,;:!?)])(?=[A-Za-z])")
_E_KTP = re.compile(r"\be[\s-]?ktp\b", re.I)
_TOKEN = re.compile(r"[a-z]+")
_NON_LETTERS_TO_SPACE = bytes(b if 97 <= b <= 122 else 32 for b in range(256))  # keep a-z only


_MASK_ROUNDS = 4


def mask_personal_data(text: str) -> str:
    """Replace URLs, e-mails, NIK/KK and other long numbers, phone numbers and introduced
    names with placeholder words. Idempotent.

    One round masks in a fixed order, and masking one thing can free another: a number glued
    to a name ("Wirabhumi0223204") stands alone once the name is masked, an e-mail glued to a
    number ("x[at]y dot com3204...") once the number is. So rounds repeat until one changes
    nothing (a text without personal data takes one round).
    """
    for _ in range(_MASK_ROUNDS):
        masked = _mask_round(text)
        if masked == text:
            break
        text = masked
    return text


def _mask_round(text: str) -> str:
    """One pass of every mask. E-mails go before URLs: the URL pattern also matches a bare
    domain ("gmail.com") and would leave the mailbox name behind."""
    if "[" in text:
        text = _PREMASKED_RE.sub(lambda m: f" {_PREMASKED[m.group(0).lower()]} ", text)
    if "@" in text:
        text = _EMAIL.sub(f" {EMAIL_TOKEN} ", text)
    if "@" in text or (("[" in text or "(" in text or "{" in text) and _OBFUSCATED_AT_HINT(text)):
        text = _OBFUSCATED_EMAIL.sub(f" {EMAIL_TOKEN} ", text)
    if _may_hold_url(text):
        text = _URL.sub(f" {URL_TOKEN} ", text)
    text = _mask_numbers(text)
    if not text.islower():  # a name needs a capital letter
        text = mask_names(text)
    return text


def _mask_numbers(text: str) -> str:
    """NIK/KK, landlines, phone numbers and other long digit runs as placeholder words."""
    if _DIGIT_HINT(text):
        text = _NIK.sub(f" {NIK_TOKEN} ", text)
        if "(" in text:
            text = _LANDLINE.sub(f" {PHONE_TOKEN} ", text)
        text = _PHONE.sub(f" {PHONE_TOKEN} ", text)
        text = _LONG_DIGITS.sub(f" {NUMBER_TOKEN} ", text)
    return text


def mask_identifier(value: str) -> str:
    """An identifier (complaint id, admin name, idempotency key) with any e-mail, NIK or phone
    number in it masked, by the patterns of ``mask_personal_data``. The long-digit and name
    rules are left out on purpose: they would merge distinct ids ("LAPOR-2023123456")."""
    if "@" in value:
        value = _EMAIL.sub(EMAIL_TOKEN, value)
    if _DIGIT_HINT(value):
        value = _PHONE.sub(PHONE_TOKEN, _NIK.sub(NIK_TOKEN, value))
    return value


def _may_hold_url(text: str) -> bool:
    if text.isascii():  # the same test without case folding in the regex engine: ~3x faster
        return _URL_HINT_LOWER_ASCII(text.lower()) is not None
    return _URL_HINT(text) is not None


def strip_markup(text: str) -> str:
    """Remove HTML tags and entities that web forms and exports leave behind."""
    if "<" in text:
        text = _TAG.sub(" ", text)
    return html.unescape(text) if "&" in text else text


def split_glued_words(text: str) -> str:
    """Re-insert the spaces lost with line breaks ("BanjirSampai" -> "Banjir Sampai",
    "rusak.Mohon" -> "rusak. Mohon")."""
    return _GLUED_PUNCT.sub(r"\1 ", split_glued_case(text))


def split_glued_case(text: str) -> str:
    """Split only at case joints ("BanjirSampai"): enough for tokens, which end at
    punctuation anyway; the character view also needs the punctuation joints."""
    if ("ktp" in text.lower()) if text.isascii() else _KTP_HINT(text):
        text = _E_KTP.sub("ektp", text)  # keep "eKTP" whole: it is one word, not "e" + "KTP"
    if not text.islower():  # an all-lower-case text has no "xY" joint to split
        text = _GLUED_CASE.sub(r" \1", text)
    return text


def fold_to_ascii(text: str) -> str:
    """Lower-case and drop accents so "Pémkab" and "pemkab" are one word."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii").lower()


def clean(text: str) -> str:
    """Raw complaint -> lower-case ASCII text with personal data masked."""
    return fold_to_ascii(split_glued_words(strip_markup(mask_personal_data(text))))


def clean_for_tokens(text: str) -> str:
    """clean() minus the punctuation-joint split, which never changes tokenize()'s output:
    it only adds a space after a punctuation mark, where a token ends already."""
    return fold_to_ascii(split_glued_case(strip_markup(mask_personal_data(text))))


def tokenize(cleaned: str) -> list[str]:
    """Alphabetic tokens; digits and emoji carry no routing signal and are dropped."""
    if cleaned.isascii():  # always, after clean(): bytes.translate + split is ~1.6x findall
        return cleaned.encode("ascii").translate(_NON_LETTERS_TO_SPACE).decode("ascii").split()
    return _TOKEN.findall(cleaned)
