"""The language registry: one typed record per language, the single source of per-language facts.

Prompts, answer extraction, data generation and the analysis tables all read language facts from
here, so a language is added in one place. The paper (arXiv:2504.16677) trains on English plus
"seen" languages and evaluates on held-out "unseen" ones; those splits are named constants below.

Prompt prefixes for the MGSM languages are the native chain-of-thought prefixes used by
lm-evaluation-harness (see ``shared/reference/mgsm/LM_EVAL_NOTES.md``) so that our prompts match
the published setup; answer templates are the final sentence of every worked answer.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

ASCII_DIGITS = "0123456789"
# What a language identifier answers when a text is in no language it can name (too short, mixed).
UNDETERMINED = "undetermined"


@dataclass(frozen=True)
class NumberGrammar:
    """How a language writes numbers, so extraction can read them and generators can write them.

    ``thousands_separators`` lists every grouping separator accepted when reading; the first one is
    the CLDR standard, used when writing. ``native_digits`` is the language's own 0-9 in order;
    ASCII digits are always accepted as well, since models and datasets mix both.
    ``indian_grouping`` marks languages that group the digits above the thousands in pairs
    ("1,14,200" for 114200, CLDR pattern "#,##,##0"); without it that reads as "1" and "14,200".
    """

    thousands_separators: tuple[str, ...]
    decimal_separator: str
    native_digits: str | None = None
    indian_grouping: bool = False

    def __post_init__(self) -> None:
        if not self.thousands_separators:
            raise ValueError("a NumberGrammar needs at least one thousands separator")
        if self.decimal_separator in self.thousands_separators:
            raise ValueError(f"decimal separator {self.decimal_separator!r} is also a thousands separator")
        if self.native_digits is not None and len(self.native_digits) != 10:
            raise ValueError(f"native_digits must be 10 characters, got {self.native_digits!r}")


@dataclass(frozen=True)
class Language:
    """One language: identity, typology (for transfer analyses) and MGSM prompt conventions."""

    code: str
    name: str
    script: str
    script_group: str
    family: str
    world_supported: bool
    numbers: NumberGrammar
    question_prefix: str
    answer_prefix: str
    answer_template: str

    def __post_init__(self) -> None:
        if self.script_group not in ("latin", "non_latin"):
            raise ValueError(f"{self.code}: script_group must be 'latin' or 'non_latin'")
        if (self.script == "Latin") != (self.script_group == "latin"):
            raise ValueError(f"{self.code}: script {self.script!r} contradicts {self.script_group!r}")
        if self.answer_template.count("{}") != 1:
            raise ValueError(f"{self.code}: answer_template needs exactly one '{{}}'")
        if not self.answer_template.split("{}")[0].strip():
            # Strict extraction anchors on the phrase before the number.
            raise ValueError(f"{self.code}: answer_template must start with the answer phrase")


class UnknownLanguageError(ValueError):
    """A language code that is not in the registry (a typo must not silently become English)."""


# Reusable grammars. Spaces: "\u00a0" no-break space, "\u202f" narrow no-break space (CLDR's choice
# for French); plain spaces are accepted because MGSM and most web text use them.
_COMMA_GROUPS = NumberGrammar(thousands_separators=(",",), decimal_separator=".")
_DOT_GROUPS = NumberGrammar(thousands_separators=(".", " ", "\u202f", "\u00a0"), decimal_separator=",")
_FULLWIDTH_DIGITS = "０１２３４５６７８９"

_REGISTRY = (
    # The paper's eight languages (world_supported=True).
    Language(
        code="en",
        name="English",
        script="Latin",
        script_group="latin",
        family="Indo-European/Germanic",
        world_supported=True,
        numbers=_COMMA_GROUPS,
        question_prefix="Question:",
        answer_prefix="Step-by-Step Answer:",
        answer_template="The answer is {}.",
    ),
    Language(
        code="es",
        name="Spanish",
        script="Latin",
        script_group="latin",
        family="Indo-European/Romance",
        world_supported=True,
        numbers=_DOT_GROUPS,
        question_prefix="Pregunta:",
        answer_prefix="Respuesta paso a paso:",
        answer_template="La respuesta es {}.",
    ),
    Language(
        code="fr",
        name="French",
        script="Latin",
        script_group="latin",
        family="Indo-European/Romance",
        world_supported=True,
        numbers=NumberGrammar(thousands_separators=("\u202f", "\u00a0", " "), decimal_separator=","),
        question_prefix="Question :",
        answer_prefix="Réponse étape par étape :",
        answer_template="La réponse est {}.",
    ),
    Language(
        code="ja",
        name="Japanese",
        script="Japanese",
        script_group="non_latin",
        family="Japonic",
        world_supported=True,
        numbers=NumberGrammar(thousands_separators=(",",), decimal_separator=".", native_digits=_FULLWIDTH_DIGITS),
        question_prefix="問題：",
        answer_prefix="ステップごとの答え:",
        answer_template="答えは{}です。",
    ),
    Language(
        code="zh",
        name="Chinese",
        script="Han",
        script_group="non_latin",
        family="Sino-Tibetan",
        world_supported=True,
        numbers=NumberGrammar(thousands_separators=(",",), decimal_separator=".", native_digits=_FULLWIDTH_DIGITS),
        question_prefix="问题：",
        answer_prefix="逐步解答:",
        answer_template="答案是{}。",
    ),
    Language(
        code="ar",
        name="Arabic",
        script="Arabic",
        script_group="non_latin",
        family="Afro-Asiatic/Semitic",
        world_supported=True,
        # Arabic thousands "٬" U+066C and decimal "٫" U+066B; "," also groups ASCII-digit numbers.
        numbers=NumberGrammar(
            thousands_separators=("\u066c", ","),
            decimal_separator="\u066b",
            native_digits="٠١٢٣٤٥٦٧٨٩",
        ),
        question_prefix="سؤال:",
        answer_prefix="الإجابة خطوة بخطوة:",
        answer_template="الإجابة هي {}.",
    ),
    Language(
        code="ko",
        name="Korean",
        script="Hangul",
        script_group="non_latin",
        family="Koreanic",
        world_supported=True,
        numbers=_COMMA_GROUPS,
        question_prefix="질문:",
        answer_prefix="단계별 답변:",
        answer_template="답은 {}입니다.",
    ),
    Language(
        code="pt",
        name="Portuguese",
        script="Latin",
        script_group="latin",
        family="Indo-European/Romance",
        world_supported=True,
        numbers=_DOT_GROUPS,
        question_prefix="Pergunta:",
        answer_prefix="Resposta passo a passo:",
        answer_template="A resposta é {}.",
    ),
    # The other MGSM languages.
    Language(
        code="de",
        name="German",
        script="Latin",
        script_group="latin",
        family="Indo-European/Germanic",
        world_supported=False,
        numbers=_DOT_GROUPS,
        question_prefix="Frage:",
        answer_prefix="Schritt-für-Schritt-Antwort:",
        answer_template="Die Antwort lautet {}.",
    ),
    Language(
        code="ru",
        name="Russian",
        script="Cyrillic",
        script_group="non_latin",
        family="Indo-European/Balto-Slavic",
        world_supported=False,
        numbers=NumberGrammar(thousands_separators=("\u00a0", " ", "\u202f"), decimal_separator=","),
        # lm-eval writes "Пошаговоерешение:" (a dropped space); the MGSM exemplars, and we, do not.
        question_prefix="Задача:",
        answer_prefix="Пошаговое решение:",
        answer_template="Ответ — {}.",
    ),
    Language(
        code="th",
        name="Thai",
        script="Thai",
        script_group="non_latin",
        family="Kra-Dai",
        world_supported=False,
        numbers=NumberGrammar(thousands_separators=(",",), decimal_separator=".", native_digits="๐๑๒๓๔๕๖๗๘๙"),
        question_prefix="โจทย์:",
        answer_prefix="คำตอบทีละขั้นตอน:",
        answer_template="คำตอบคือ {}",
    ),
    Language(
        code="sw",
        name="Swahili",
        script="Latin",
        script_group="latin",
        family="Niger-Congo/Bantu",
        world_supported=False,
        numbers=_COMMA_GROUPS,
        question_prefix="Swali:",
        answer_prefix="Jibu la Hatua kwa Hatua:",
        answer_template="Jibu ni {}.",
    ),
    Language(
        code="bn",
        name="Bengali",
        script="Bengali",
        script_group="non_latin",
        family="Indo-European/Indo-Aryan",
        world_supported=False,
        numbers=NumberGrammar(
            thousands_separators=(",",),
            decimal_separator=".",
            native_digits="০১২৩৪৫৬৭৮৯",
            indian_grouping=True,
        ),
        question_prefix="প্রশ্ন:",
        answer_prefix="ধাপে ধাপে উত্তর:",
        answer_template="উত্তর হল {}।",
    ),
    Language(
        code="te",
        name="Telugu",
        script="Telugu",
        script_group="non_latin",
        family="Dravidian",
        world_supported=False,
        numbers=NumberGrammar(
            thousands_separators=(",",),
            decimal_separator=".",
            native_digits="౦౧౨౩౪౫౬౭౮౯",
            indian_grouping=True,
        ),
        question_prefix="ప్రశ్న:",
        answer_prefix="దశలవారీగా సమాధానం:",
        answer_template="సమాధానం {}.",
    ),
    # Beyond MGSM: common targets for real-data mixtures.
    Language(
        code="hi",
        name="Hindi",
        script="Devanagari",
        script_group="non_latin",
        family="Indo-European/Indo-Aryan",
        world_supported=False,
        numbers=NumberGrammar(
            thousands_separators=(",",),
            decimal_separator=".",
            native_digits="०१२३४५६७८९",
            indian_grouping=True,
        ),
        question_prefix="प्रश्न:",
        answer_prefix="चरण-दर-चरण उत्तर:",
        answer_template="उत्तर {} है।",
    ),
    Language(
        code="id",
        name="Indonesian",
        script="Latin",
        script_group="latin",
        family="Austronesian/Malayo-Polynesian",
        world_supported=False,
        numbers=_DOT_GROUPS,
        question_prefix="Pertanyaan:",
        answer_prefix="Jawaban langkah demi langkah:",
        answer_template="Jawabannya adalah {}.",
    ),
    Language(
        code="tr",
        name="Turkish",
        script="Latin",
        script_group="latin",
        family="Turkic",
        world_supported=False,
        numbers=_DOT_GROUPS,
        question_prefix="Soru:",
        answer_prefix="Adım adım cevap:",
        answer_template="Cevap {}.",
    ),
)

LANGUAGES: dict[str, Language] = {language.code: language for language in _REGISTRY}

PAPER_ANCHOR = "en"
PAPER_SEEN = ("es", "fr", "ja", "zh")
PAPER_UNSEEN = ("ar", "ko", "pt")
WORLD_LANGUAGES = ("en", "es", "fr", "ja", "zh", "ar", "ko", "pt")
# The languages of the MGSM benchmark (Shi et al. 2022), in which the paper's MGSM results exist.
MGSM_LANGUAGES = ("bn", "de", "en", "es", "fr", "ja", "ru", "sw", "te", "th", "zh")

# Country codes are the most common wrong guess for a language code.
_COUNTRY_CODE_MISTAKES = {"jp": "ja", "cn": "zh", "kr": "ko", "br": "pt"}


def _suggest(code: str) -> str | None:
    """The registry code a mistyped ``code`` most likely meant, or None."""
    query = code.strip().lower().replace("_", "-").split("-")[0]  # "pt-BR" and "de_DE" -> primary
    if query in LANGUAGES:
        return query
    if query in _COUNTRY_CODE_MISTAKES:
        return _COUNTRY_CODE_MISTAKES[query]
    by_name = {language.name.lower(): language.code for language in LANGUAGES.values()}
    if len(query) >= 2:
        for name, language_code in by_name.items():
            if name.startswith(query):
                return language_code
    close = difflib.get_close_matches(query, [*LANGUAGES, *by_name], n=1, cutoff=0.6)
    if not close:
        return None
    return by_name.get(close[0], close[0])


# The world's shared prompt markers: the same in every language, in its pretraining corpus and in
# fine-tuning, while the question and the answer stay in their own language.
SHARED_MARKERS = ("Q:", "A:")


def format_prompt(language: str, question: str, markers: str = "native") -> str:
    """Question marker, question, answer marker: the language's own MGSM chain-of-thought prefixes
    (``markers="native"``) or :data:`SHARED_MARKERS` (``"shared"``)."""
    lang = get_language(language)
    before, after = SHARED_MARKERS if markers == "shared" else (lang.question_prefix, lang.answer_prefix)
    return f"{before} {question}\n{after}"


def get_language(code: str) -> Language:
    """The registry entry for an ISO 639-1 ``code``; unknown codes fail loudly with a hint."""
    try:
        return LANGUAGES[code]
    except KeyError:
        suggestion = _suggest(code)
        hint = f" Did you mean {suggestion!r} ({LANGUAGES[suggestion].name})?" if suggestion else ""
        known = ", ".join(sorted(LANGUAGES))
        raise UnknownLanguageError(f"Unknown language code {code!r}.{hint} Known codes: {known}.") from None
