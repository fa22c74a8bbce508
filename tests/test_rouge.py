"""ROUGE-L with XL-Sum's tokenisation: a per-language token table, hard sanitising cases, the
LCS score, and equality with Google's rouge-score on real English (FLORES) sentence pairs.

What "equal within 1e-6" covers: pairs of texts made only of printable ASCII with no letter next
to a digit ("neutral" text below). There our tokens equal rouge-score's token for token, and
  - with the Porter stemmer (XL-Sum's setting when no language is given) every score is equal;
  - with XL-Sum's English setting (Snowball stemmer) a score is equal whenever the two stemmers
    make the same tokens of the pair match, i.e. the pair's token-match matrices agree.
Outside neutral text the scorers differ by design (shown in ``test_where_rouge_score_differs``).
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import re

import pytest

from cltbook.languages import UnknownLanguageError
from cltbook.scoring.rouge import (
    METRIC_NAME,
    SNOWBALL_LANGUAGES,
    XLSumPipeline,
    lcs_f_measure,
    rouge_l_xlsum,
    sanitise,
    scorer_provenance,
    xlsum_pipeline,
    xlsum_tokens,
)

TOLERANCE = 1e-6

# Chosen so that every stopword is at most 3 characters long or its own stem ("were"): the stems
# below then hold whether or not NLTK's stopword list is installed (see scorer_provenance).
TOKEN_TABLE = [
    # jieba; XL-Sum keeps the " " it returns where the comma was.
    ("zh", "我爱北京天安门，天安门上太阳升。", ["我", "爱", "北京", "天安门", " ", "天安门", "上", "太阳升"]),
    # MeCab + unidic-lite; no stemming.
    (
        "ja",
        "私は東京に住んでいます。今日は3月5日です！",
        ["私", "は", "東京", "に", "住ん", "で", "い", "ます", "今日", "は", "3", "月", "5", "日", "です"],
    ),
    # PyThaiNLP newmm; spaces kept as tokens, as in XL-Sum.
    ("th", "ฉันรักภาษาไทย มากที่สุด, จริงๆ", ["ฉัน", "รัก", "ภาษาไทย", " ", "มาก", "ที่สุด", " ", "จริงๆ"]),
    # Snowball Arabic strips the article and suffixes; "في" is too short to stem.
    ("ar", "الطلاب يدرسون الرياضيات في المدرسة.", ["طلاب", "يدرس", "رياض", "في", "مدرس"]),
    # No segmenter, no stemmer: aggressive mode splits digits from Hangul.
    ("ko", "나는 서울에 살고 있습니다. 3월5일!", ["나는", "서울에", "살고", "있습니다", "3", "월", "5", "일"]),
    ("fr", "Les enfants jouaient au parc, l'été dernier.", ["les", "enfant", "jou", "au", "parc", "l", "été", "derni"]),
    ("es", "Los niños jugaban en los parques, ¿verdad?", ["los", "niñ", "jug", "en", "los", "parqu", "verd"]),
    ("pt", "As crianças brincavam nos jardins públicos.", ["as", "crianc", "brinc", "nos", "jardins", "públic"]),
    # Aggressive mode splits "1960s" and "3D"; Snowball, not Porter: "happily" -> "happili".
    (
        "en",
        "The children were playing happily in the 1960s; it's 3D!",
        ["the", "children", "were", "play", "happili", "in", "the", "1960", "s", "it", "s", "3", "d"],
    ),
]


@pytest.mark.parametrize(("language", "text", "expected"), TOKEN_TABLE)
def test_tokens_per_language(language, text, expected):
    assert xlsum_tokens(text, xlsum_pipeline(language)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("«Bonjour» — dit-il… (ok)", "Bonjour dit il ok"),  # Unicode P* is deleted
        ("x_y ^_^ a`b $5 1+1=2", "x y a b 5 1 1 2"),  # all non-alphanumeric ASCII too
        ("1,5 € 5°C", "1 5 € 5°C"),  # symbols (S*) are not punctuation: the segmenter splits them
        ("a\x00b\u200bc\ufffd d", "abc d"),  # NUL, format characters and U+FFFD vanish
        ("tab\there\nnew\u3000line  ", "tab here new line"),  # every space becomes one " "
        ("北京，上海。", "北京 上海"),
    ],
)
def test_sanitise_deletes_punctuation_and_controls(text, expected):
    assert sanitise(text) == expected


@pytest.mark.parametrize("language", [row[0] for row in TOKEN_TABLE])
def test_identical_texts_score_one_and_disjoint_texts_zero(language):
    text = {row[0]: row[1] for row in TOKEN_TABLE}[language]
    assert rouge_l_xlsum(text, text, language) == 1.0
    assert rouge_l_xlsum(text, "Zyxw0000", language) == 0.0


def test_chinese_and_thai_spaces_match_as_in_xlsum():
    """Not a bug of ours: XL-Sum keeps the " " tokens of jieba and PyThaiNLP, so texts sharing
    no word still share the spaces left by punctuation. Scores stay comparable with XL-Sum's."""
    assert rouge_l_xlsum("北京，上海", "东京。大阪", "zh") == pytest.approx(2 * 1 / 6)
    assert rouge_l_xlsum("ฉันรัก มาก", "เขาไป ไกล", "th") == pytest.approx(2 * 1 / 8)


@pytest.mark.parametrize(
    ("reference", "prediction", "expected"),
    [
        (["a", "b", "c", "d"], ["a", "c", "e"], 2 * 2 / 7),  # LCS "a c"
        (["a", "b", "c"], ["c", "b", "a"], 2 * 1 / 6),  # order matters
        (["a", "a", "b"], ["a", "b", "a", "b"], 2 * 3 / 7),  # repeats count once each
        (["a"], [], 0.0),
        ([], [], 0.0),
    ],
)
def test_lcs_f_measure(reference, prediction, expected):
    assert lcs_f_measure(reference, prediction) == pytest.approx(expected)


def test_text_without_tokens_scores_zero_even_against_itself():
    assert rouge_l_xlsum("!!!", "!!!", "en") == 0.0
    assert rouge_l_xlsum("", "", "zh") == 0.0


def test_stemming_is_language_specific():
    assert rouge_l_xlsum("Les enfants jouaient", "l'enfant joue", "fr") == pytest.approx(2 * 2 / 6)
    # Korean is not stemmed: "살고" and "살았다" share nothing.
    assert rouge_l_xlsum("살고", "살았다", "ko") == 0.0


def test_snowball_languages_are_nltks():
    from nltk.stem.snowball import SnowballStemmer

    assert set(SnowballStemmer.languages) == SNOWBALL_LANGUAGES


def test_languages_without_xlsum_stemmer_or_registry_entry_fail_loudly():
    with pytest.raises(NotImplementedError, match="bengali"):
        rouge_l_xlsum("a", "a", "bn")
    with pytest.raises(UnknownLanguageError):
        rouge_l_xlsum("a", "a", "jp")
    with pytest.raises(ValueError):
        XLSumPipeline(segmenter="spaces", stemmer=None)


def test_provenance_records_segmenters_versions_and_deviations():
    ja = scorer_provenance("ja")
    assert ja["metric"] == METRIC_NAME
    assert ja["segmenter"] == "fugashi-unidic-lite" and ja["stemmer"] is None
    assert set(ja["packages"]) == {"fugashi", "unidic-lite", "pyonmttok"}
    assert any("unidic-lite" in deviation for deviation in ja["deviations"])

    zh = scorer_provenance("zh")
    assert zh["segmenter"] == "jieba" and zh["deviations"] == []

    en = scorer_provenance("en")
    assert en["stemmer"] == "nltk-snowball:english" and "nltk" in en["packages"]
    try:
        from nltk.corpus import stopwords

        stopwords.words("english")
        stopwords_installed = True
    except LookupError:
        stopwords_installed = False
    stopword_deviation = any("stopwords" in deviation for deviation in en["deviations"])
    assert stopword_deviation != stopwords_installed


# --- Equality with Google's rouge-score on FLORES English -------------------------------------


def _is_neutral(text: str) -> bool:
    """Printable ASCII without a letter next to a digit: where both tokenisers must agree."""
    return re.fullmatch(r"[ -~]*", text) is not None and not re.search(r"[A-Za-z][0-9]|[0-9][A-Za-z]", text)


@functools.cache
def _tokens(text: str, pipeline: XLSumPipeline) -> list[str]:
    """Cached: each FLORES sentence occurs in three pairs."""
    return xlsum_tokens(text, pipeline)


def _drop_every_third_word(text: str) -> str:
    return " ".join(word for i, word in enumerate(text.split()) if i % 3 != 1)


@pytest.fixture(scope="module")
def english_pairs(reference):
    """(reference, prediction) pairs: each FLORES sentence against the next one (little overlap)
    and against itself with every third word dropped (much overlap)."""
    sentences = (reference / "flores" / "devtest" / "eng_Latn.devtest").read_text(encoding="utf-8").splitlines()
    return [*itertools.pairwise(sentences), *((s, _drop_every_third_word(s)) for s in sentences)]


@pytest.fixture(scope="module")
def google():
    """Google's rouge-score (XL-Sum's fork installs the same module name, without ``tokenize``)."""
    pytest.importorskip("rouge_score.tokenize", reason="Google's rouge-score is not installed")
    from rouge_score import rouge_scorer, tokenize

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    return tokenize, lambda ref, pred: scorer.score(ref, pred)["rougeL"].fmeasure


def test_neutral_english_tokenises_exactly_like_rouge_score(english_pairs, google):
    tokenize, _ = google
    unstemmed = dataclasses.replace(xlsum_pipeline("en"), stemmer=None)
    neutral = {text for pair in english_pairs for text in pair if _is_neutral(text)}
    assert len(neutral) > 1800
    mismatches = [t for t in neutral if xlsum_tokens(t, unstemmed) != tokenize.tokenize(t, None)]
    assert mismatches == []


def test_porter_setting_equals_rouge_score_on_flores(english_pairs, google):
    _, google_rouge_l = google
    porter = dataclasses.replace(xlsum_pipeline("en"), stemmer="porter")
    covered = [(r, p) for r, p in english_pairs if _is_neutral(r) and _is_neutral(p)]
    print(f"\n{len(covered)} of {len(english_pairs)} FLORES pairs are neutral text")
    assert len(covered) > 1700
    differences = [
        (r, p)
        for r, p in covered
        if abs(lcs_f_measure(_tokens(r, porter), _tokens(p, porter)) - google_rouge_l(r, p)) > TOLERANCE
    ]
    assert differences == []


def _match_matrix(reference: list[str], prediction: list[str]) -> list[list[bool]]:
    """Which tokens of the pair are equal: all that LCS sees of the tokens."""
    return [[r == p for p in prediction] for r in reference]


def test_english_setting_equals_rouge_score_where_stemmers_agree(english_pairs, google):
    """XL-Sum's English (Snowball) scores equal rouge-score's (Porter) on every neutral pair
    whose tokens the two stemmers make match identically; that is nearly all of them."""
    _, google_rouge_l = google
    english = xlsum_pipeline("en")
    porter = dataclasses.replace(english, stemmer="porter")
    covered = [(r, p) for r, p in english_pairs if _is_neutral(r) and _is_neutral(p)]
    agreeing = [
        (r, p)
        for r, p in covered
        if _match_matrix(_tokens(r, english), _tokens(p, english))
        == _match_matrix(_tokens(r, porter), _tokens(p, porter))
    ]
    print(f"\nstemmers agree on {len(agreeing)} of {len(covered)} neutral FLORES pairs")
    assert len(agreeing) > 0.95 * len(covered)
    differences = [(r, p) for r, p in agreeing if abs(rouge_l_xlsum(r, p, "en") - google_rouge_l(r, p)) > TOLERANCE]
    assert differences == []


def test_where_rouge_score_differs(google):
    """The legitimate differences: letters next to digits, non-ASCII letters, the stemmer."""
    tokenize, google_rouge_l = google
    unstemmed = dataclasses.replace(xlsum_pipeline("en"), stemmer=None)
    assert xlsum_tokens("the 1960s", unstemmed) == ["the", "1960", "s"]
    assert tokenize.tokenize("the 1960s", None) == ["the", "1960s"]
    assert xlsum_tokens("café", unstemmed) == ["café"]
    assert tokenize.tokenize("café", None) == ["caf"]
    # Porter conflates "general" and "generic" ("gener"); Snowball does not.
    assert google_rouge_l("general rules", "generic rules") == 1.0
    assert rouge_l_xlsum("general rules", "generic rules", "en") == 0.5
