"""Exact language identification for the world's text: script first, then the world's lexicon.

The world's eight languages are told apart without statistics (for real text see
:mod:`cltbook.scoring.langid`):

1. Person names are removed first: they occur in several languages' texts (Maria is English and
   Portuguese; transliterations follow the script, not the language), so a name is no evidence.
   Latin names go as whole words, ignoring case; others as substrings, since particles attach to
   them ("マリアは", "마리아는", "لجون").
2. Every remaining letter has a script. Hangul → ko; Arabic → ar; kana (with or without Han) → ja;
   Latin → en/es/fr/pt by lexicon (3); Han alone → ja/zh by lexicon (4). Letters of two of those
   scripts (Latin with kana, Hangul with Han, ...) or of any other script are mixed output.
3. Latin: each word (a run of letters, lower-cased) the world's lexicon knows narrows the candidates
   to the languages whose texts contain it; words no language uses are ignored. One candidate left
   is the answer; none means the words come from different languages (mixed); several, that
   nothing tells them apart.
4. Han: a character only the Japanese lexicon uses (図, 買, 持) is Japanese evidence, one only the
   Chinese lexicon uses (图, 买, 有) Chinese. Kanji-only text is Japanese or Chinese when all its
   evidence agrees, undetermined when there is none (学校 is both) or it conflicts. Kana text with a
   Chinese-only character is mixed.

A text with no letters left (digits, equations, punctuation, names only), mixed, or undecided is
:data:`UNDETERMINED`, which a switch-aware score counts as off-language.

The lexicon is every text the world can produce: :func:`cltbook.world.lexicon.fillings` (corpus,
math and task templates and phrases, filled for every person and object) and the registry's MGSM
prompt phrases. Built once per process (well under a second).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence

import regex

from cltbook.languages import UNDETERMINED, WORLD_LANGUAGES, get_language
from cltbook.world.lexicon import PEOPLE, fillings

LATIN_LANGUAGES = tuple(code for code in WORLD_LANGUAGES if get_language(code).script == "Latin")

_LETTER_RUN = regex.compile(r"[\p{L}\p{M}]+")
_SCRIPTS = (
    ("latin", regex.compile(r"\p{scx=Latin}")),
    ("kana", regex.compile(r"[\p{scx=Hiragana}\p{scx=Katakana}]")),
    ("han", regex.compile(r"\p{scx=Han}")),
    ("hangul", regex.compile(r"\p{scx=Hangul}")),
    ("arabic", regex.compile(r"\p{scx=Arabic}")),
)
_BY_SCRIPT = {"hangul": "ko", "arabic": "ar"}


def _script(char: str) -> str:
    for name, pattern in _SCRIPTS:
        if pattern.match(char):
            return name
    return "other"


@functools.cache
def _name_patterns() -> tuple[regex.Pattern[str], regex.Pattern[str]]:
    """(Latin names as whole words, other names as substrings), longest first."""
    names = sorted({name for person in PEOPLE for name in person.names.values()}, key=len, reverse=True)
    latin = [regex.escape(n) for n in names if regex.search(r"\p{Latin}", n)]
    other = [regex.escape(n) for n in names if not regex.search(r"\p{Latin}", n)]
    return (
        regex.compile(r"(?<![\p{L}\p{M}])(?:" + "|".join(latin) + r")(?![\p{L}\p{M}])", regex.IGNORECASE),
        regex.compile("|".join(other)),
    )


def _without_names(text: str) -> str:
    latin, other = _name_patterns()
    return other.sub(" ", latin.sub(" ", unicodedata.normalize("NFC", text)))


def _letters(text: str) -> list[str]:
    return [char for char in text if unicodedata.category(char).startswith("L")]


@functools.cache
def _lexicon() -> tuple[dict[str, frozenset[str]], frozenset[str], frozenset[str]]:
    """(word -> Latin languages using it, Han characters of ja only, Han characters of zh only)."""
    texts: dict[str, list[str]] = {}
    for code in WORLD_LANGUAGES:
        language = get_language(code)
        registry = [language.question_prefix, language.answer_prefix, language.answer_template]
        texts[code] = [_without_names(text) for text in [*fillings(code), *registry]]
    users: dict[str, set[str]] = {}
    for code in LATIN_LANGUAGES:
        for text in texts[code]:
            for word in _LETTER_RUN.findall(text.lower()):
                users.setdefault(word, set()).add(code)
    han = {code: {c for text in texts[code] for c in text if _script(c) == "han"} for code in ("ja", "zh")}
    return (
        {word: frozenset(codes) for word, codes in users.items()},
        frozenset(han["ja"] - han["zh"]),
        frozenset(han["zh"] - han["ja"]),
    )


def _latin_language(text: str) -> str:
    users, _, _ = _lexicon()
    candidates = set(LATIN_LANGUAGES)
    known = False
    for word in _LETTER_RUN.findall(text.lower()):
        if word in users:
            known = True
            candidates &= users[word]
    return candidates.pop() if known and len(candidates) == 1 else UNDETERMINED


def identify(text: str) -> str:
    """The world language ``text`` is written in, or :data:`UNDETERMINED` (module docstring)."""
    remaining = _without_names(text)
    letters = _letters(remaining)
    scripts = {_script(char) for char in letters}
    if not scripts or "other" in scripts:
        return UNDETERMINED
    _, ja_only, zh_only = _lexicon()
    if scripts <= {"kana", "han"}:
        if "kana" in scripts:
            return UNDETERMINED if zh_only.intersection(letters) else "ja"
        japanese, chinese = bool(ja_only.intersection(letters)), bool(zh_only.intersection(letters))
        return "ja" if japanese and not chinese else "zh" if chinese and not japanese else UNDETERMINED
    if len(scripts) > 1:
        return UNDETERMINED
    (script,) = scripts
    if script == "latin":
        return _latin_language(remaining)
    return _BY_SCRIPT[script]


def language_fidelity(outputs: Sequence[str], languages: Sequence[str]) -> tuple[float, float]:
    """(share of outputs identified as their expected language, share undetermined)."""
    if len(outputs) != len(languages):
        raise ValueError(f"{len(outputs)} outputs but {len(languages)} languages: they must align")
    if not outputs:
        raise ValueError("language fidelity of no outputs is undefined")
    found = [identify(output) for output in outputs]
    matched = sum(f == expected for f, expected in zip(found, languages))
    undetermined = sum(f == UNDETERMINED for f in found)
    return matched / len(found), undetermined / len(found)
