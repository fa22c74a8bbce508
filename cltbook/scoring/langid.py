"""Language identification of real text, restricted to the languages a study works with.

The paper's judge scores a response written in the wrong language as 1 ("switch-aware"), and a
model that answers in English when asked in Korean is a transfer failure that task metrics hide;
both need the language of a model's output. We use lingua (PyPI ``lingua-language-detector``),
which is accurate on single sentences, and restrict it to the study's languages: the question is
"which of these languages is it?", and a restricted detector errs less and loads fewer models.

A text gets :data:`UNDETERMINED` rather than a guess when lingua has no evidence (empty text,
digits or punctuation only) or when no language holds at least ``min_confidence`` of lingua's
confidence mass. lingua's confidences over the candidate languages sum to 1, so the default 0.5
means "more likely this language than all the others together". On the 8 x 1,012 FLORES devtest
sentences of the paper's languages, lingua's top guess was wrong three times (confidence 0.43,
0.49, 0.84) and right with confidence >= 0.41; the 0.5 threshold turns two of the errors and two
right Portuguese guesses into UNDETERMINED, leaving one error, a Japanese sentence read as
English for its "10:00～11:00pm MDT" (``tests/test_langid.py`` prints the table).

Language models are loaded lazily, on first use, and kept for the process by lingua.
Preloading them (``with_preloaded_language_models``) did not pay off: for those 8,096 sentences
it moved about one second from the first call into construction, for the same total of ~2 s.
"""

from __future__ import annotations

from collections.abc import Sequence

from lingua import ConfidenceValue, IsoCode639_1, LanguageDetectorBuilder

from cltbook.languages import UNDETERMINED, get_language

DEFAULT_MIN_CONFIDENCE = 0.5


def _lingua_code(code: str) -> IsoCode639_1:
    """lingua's ISO code for a registry code; fails loudly for a language lingua lacks."""
    get_language(code)  # unknown or mistyped codes fail here, with a suggestion
    try:
        return IsoCode639_1.from_str(code)
    except ValueError:
        raise ValueError(f"lingua has no model for {code!r}") from None


def lingua_supports(code: str) -> bool:
    """Whether lingua has a model for the ISO 639-1 ``code``."""
    try:
        IsoCode639_1.from_str(code)
    except ValueError:
        return False
    return True


class LanguageIdentifier:
    """Identifies which of ``languages`` (ISO 639-1 codes) a text is written in.

    Construct one per study and reuse it: it holds the lingua detector.
    """

    def __init__(self, languages: Sequence[str], min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> None:
        if len(set(languages)) != len(languages):
            raise ValueError(f"duplicate languages in {list(languages)}")
        if len(languages) < 2:
            raise ValueError("identification needs at least two languages to choose from")
        if not 0.0 <= min_confidence <= 1.0:
            raise ValueError(f"min_confidence must be within [0, 1], got {min_confidence}")
        self.languages = tuple(languages)
        self.min_confidence = min_confidence
        codes = [_lingua_code(code) for code in self.languages]
        self._detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()

    def _decide(self, confidences: list[ConfidenceValue]) -> str:
        """The most confident language, or UNDETERMINED without enough evidence.

        lingua gives every language confidence 0 when a text has no letters to judge.
        """
        best = confidences[0]  # lingua sorts them, most confident first
        if best.value == 0.0 or best.value < self.min_confidence:
            return UNDETERMINED
        return best.language.iso_code_639_1.name.lower()

    def identify(self, text: str) -> str:
        """The language code of ``text``, or :data:`UNDETERMINED`."""
        return self._decide(self._detector.compute_language_confidence_values(text))

    def identify_many(self, texts: Sequence[str]) -> list[str]:
        """:meth:`identify` for many texts, using lingua's multi-threaded batch API."""
        batch = self._detector.compute_language_confidence_values_in_parallel(list(texts))
        return [self._decide(confidences) for confidences in batch]
