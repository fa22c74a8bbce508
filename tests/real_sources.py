"""Small real-text sources in the hub schemas, written at test time from FLORES devtest sentences
(shared/reference/flores): XL-Sum folders, ShareGPT chats and Aya Dolly200 prompts. The text is
real; which sentence serves as article, summary, instruction or response is arbitrary."""

from __future__ import annotations

import json
from pathlib import Path

FLORES_FILES = {
    "en": "eng_Latn",
    "es": "spa_Latn",
    "fr": "fra_Latn",
    "ja": "jpn_Jpan",
    "zh": "zho_Hans",
    "ar": "arb_Arab",
    "ko": "kor_Hang",
    "pt": "por_Latn",
}
XLSUM_FOLDERS = {
    "en": "english",
    "es": "spanish",
    "fr": "french",
    "ja": "japanese",
    "zh": "chinese_simplified",
    "ar": "arabic",
    "ko": "korean",
    "pt": "portuguese",
}
DOLLY_LANGUAGES = {
    "en": ("eng", "Latn"),
    "es": ("spa", "Latn"),
    "fr": ("fra", "Latn"),
    "ja": ("jpn", "Jpan"),
    "zh": ("zho", "Hans"),
    "ar": ("arb", "Arab"),
    "ko": ("kor", "Hang"),
    "pt": ("por", "Latn"),
}


def flores(reference: Path, language: str) -> list[str]:
    path = reference / "flores" / "devtest" / f"{FLORES_FILES[language]}.devtest"
    return path.read_text(encoding="utf-8").splitlines()


def _write_jsonl(path: Path, records: list[dict], bad_line: int | None = None) -> Path:
    lines = [json.dumps(record, ensure_ascii=False) for record in records]
    if bad_line is not None:  # a record cut off mid-string, as in a truncated download
        lines.insert(bad_line - 1, lines[bad_line - 1][: len(lines[bad_line - 1]) // 2])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_xlsum(
    reference: Path, folder: Path, languages: dict[str, tuple[int, int]], bad_line: dict[str, int] | None = None
) -> Path:
    """``languages``: code -> (train records, test records). An article is three consecutive
    sentences and its summary the first; ``bad_line`` puts a malformed line into a train file."""
    for code, (n_train, n_test) in languages.items():
        sentences = flores(reference, code)
        for split, start, count in (("train", 0, n_train), ("test", 600, n_test)):
            records = [
                {
                    "id": f"{XLSUM_FOLDERS[code]}-{split}-{i}",
                    "url": f"https://example.invalid/{i}",
                    "title": sentences[start + 3 * i],
                    "summary": sentences[start + 3 * i],
                    "text": " ".join(sentences[start + 3 * i : start + 3 * i + 3]),
                }
                for i in range(count)
            ]
            bad = (bad_line or {}).get(code) if split == "train" else None
            _write_jsonl(folder / f"{XLSUM_FOLDERS[code]}_{split}.jsonl", records, bad)
    return folder


def write_sharegpt(reference: Path, path: Path, languages: dict[str, int]) -> Path:
    """ShareGPT chats: a sentence as the human turn, the next one as the reply."""
    records = []
    for code, count in languages.items():
        sentences = flores(reference, code)
        records += [
            {
                "id": f"chat-{code}-{i}",
                "language": code,
                "conversations": [
                    {"from": "human", "value": sentences[300 + 2 * i]},
                    {"from": "gpt", "value": sentences[301 + 2 * i]},
                ],
            }
            for i in range(count)
        ]
    return _write_jsonl(path, records)


def write_aya_dolly(reference: Path, path: Path, languages: list[str], count: int) -> Path:
    """Aya Dolly200 rows: prompt i is sentence 900 + i in every language (ids parallel)."""
    records = []
    for code in languages:
        sentences = flores(reference, code)
        iso3, script = DOLLY_LANGUAGES[code]
        records += [
            {
                "id": f"dolly-{i}",
                "inputs": sentences[900 + i],
                "targets": sentences[950 + i],
                "language": iso3,
                "script": script,
            }
            for i in range(count)
        ]
    return _write_jsonl(path, records)
