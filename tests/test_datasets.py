"""Tests for cltbook.data.datasets: real MGSM / IFEval files where the workspace has them, fixtures in
the public schemas elsewhere, and the hub code path with `load_dataset` replaced by a recorder."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import datasets
import pytest

import cltbook.data.datasets as data_module
from cltbook.data.datasets import (
    AYA_EVALUATION_HUB_ID,
    AYA_HUB_ID,
    FRAME_COLUMNS,
    MCOT_MATH_HUB_ID,
    MGSM_HUB_ID,
    XLSUM_HUB_ID,
    ColumnMap,
    ColumnMapError,
    DataFileError,
    language_from_label,
    load_aya,
    load_aya_dolly,
    load_ifeval_prompts,
    load_mcot_math,
    load_mgsm,
    load_sharegpt,
    load_xlsum,
    manifest,
    mgsm_exemplars,
)
from cltbook.languages import LANGUAGES, MGSM_LANGUAGES

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real_data"
PAPER_LANGUAGES = ["en", "es", "fr", "ja", "zh", "ar", "ko", "pt"]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    """A private datasets cache, so tests neither read nor fill the user's."""
    return tmp_path_factory.mktemp("hf_datasets_cache")


@pytest.fixture(scope="module")
def mgsm(reference, cache):
    return load_mgsm(reference / "mgsm", [*MGSM_LANGUAGES, "ar", "ko", "pt"], cache_dir=cache)


def _assert_tidy(loaded) -> None:
    assert tuple(loaded.frame.columns) == FRAME_COLUMNS
    assert loaded.frame["answer"].dtype == "float64"
    json.dumps(loaded.report)  # a run writes the report beside its results


# ---------------------------------------------------------------------------------------------
# MGSM (real files)


def test_mgsm_folder_loads_every_gold_and_records_missing_languages(mgsm, reference):
    _assert_tidy(mgsm)
    frame, report = mgsm.frame, mgsm.report
    assert len(frame) == 250 * 11
    assert report["rows_per_language"] == {**{lang: 250 for lang in MGSM_LANGUAGES}, "ar": 0, "ko": 0, "pt": 0}
    assert report["missing_languages"] == ["ar", "ko", "pt"]
    assert report["path"] == str(reference / "mgsm") and report["hub_id"] is None
    assert len(report["files_read"]) == 11 and report["bad_records"] == []
    assert frame["answer"].notna().all() and (frame["target"] == "").all()
    # Golds checked against the raw files, read independently of the loader.
    for language in MGSM_LANGUAGES:
        lines = (reference / "mgsm" / f"mgsm_{language}.tsv").read_text("utf-8").splitlines()
        expected = [float(line.split("\t")[1].replace(",", "")) for line in lines]
        got = frame[frame["language"] == language]
        assert got["answer"].tolist() == expected
        assert got["input"].tolist() == [line.split("\t")[0] for line in lines]
    # Ids are problem numbers, parallel across languages; comma-grouped golds read in full.
    by_item = frame.groupby("item_id")["answer"].nunique()
    assert len(by_item) == 250 and (by_item == 1).all()
    golds = frame[frame["language"] == "en"].set_index("item_id")["answer"]
    assert {2125.0, 114200.0, 276000.0, 5600.0} <= set(golds)
    assert golds["mgsm-001"] == 18.0 and golds["mgsm-250"] == 5600.0
    assert frame[frame["language"] == "ja"]["item_id"].is_monotonic_increasing  # problem order


def test_mgsm_tsv_with_a_bad_gold_or_field_count_fails_naming_the_line(tmp_path, cache, reference):
    folder = tmp_path / "mgsm"
    folder.mkdir()
    lines = (reference / "mgsm" / "mgsm_en.tsv").read_text("utf-8").splitlines()
    (folder / "mgsm_en.tsv").write_text("\n".join([*lines[:3], "Q?\tabout 5"]) + "\n", "utf-8")
    with pytest.raises(DataFileError, match=r"mgsm_en\.tsv:4: answer 'about 5' is not a number"):
        load_mgsm(folder, ["en"], cache_dir=cache)
    (folder / "mgsm_en.tsv").write_text("\n".join([*lines[:2], "Q?\t5\textra"]) + "\n", "utf-8")
    with pytest.raises(DataFileError, match=r"mgsm_en\.tsv:3: expected 2 .*got 3"):
        load_mgsm(folder, ["en"], cache_dir=cache)


def test_mgsm_exemplars_are_the_eight_in_order(reference, cache):
    path = reference / "mgsm" / "mgsm_exemplars.jsonl"
    japanese = mgsm_exemplars(path, "ja", cache_dir=cache)
    assert [e["idx"] for e in japanese] == list(range(1, 9))
    assert [e["answer_number"] for e in japanese] == [11, 29, 39, 9, 33, 8, 8, 5]
    assert japanese[0]["question"].startswith("問題")
    assert japanese[0]["answer"].startswith("ステップごとの答え")
    assert all(len(mgsm_exemplars(path, lang, cache_dir=cache)) == 8 for lang in ("en", "te"))
    with pytest.raises(ValueError, match=r"no MGSM exemplars for 'ar'; available: bn, de"):
        mgsm_exemplars(path, "ar", cache_dir=cache)


# ---------------------------------------------------------------------------------------------
# Fixture sources (schemas unverified here)


def test_mcot_math_splits_lang_id_into_language_and_parallel_item(cache):
    loaded = load_mcot_math(FIXTURES / "mcot_math.jsonl", ["en", "es", "zh", "ko"], cache_dir=cache)
    _assert_tidy(loaded)
    frame, report = loaded.frame, loaded.report
    assert report["rows_per_language"] == {"en": 3, "es": 2, "zh": 1, "ko": 0}
    assert report["missing_languages"] == ["ko"]
    assert report["rows_other_languages"] == 2  # ja-0 and fr-1: present, not requested
    assert set(frame["task"]) == {"math_reasoning"} and frame["answer"].isna().all()
    item_zero = frame[frame["item_id"] == "mcot-0"]
    assert sorted(item_zero["language"]) == ["en", "es", "zh"]
    assert item_zero.set_index("language").loc["es", "input"].startswith("[sintético] Ana")
    assert item_zero.set_index("language").loc["en", "target"].endswith("The answer is: 7")


def test_mcot_math_rejects_a_lang_id_without_a_number(tmp_path, cache):
    path = tmp_path / "mcot.jsonl"
    path.write_text(json.dumps({"question": "q", "answer": "a", "lang-id": "en"}) + "\n", "utf-8")
    with pytest.raises(DataFileError, match=r"mcot\.jsonl:1: 'lang-id' value 'en' is not"):
        load_mcot_math(path, ["en"], cache_dir=cache)


def test_xlsum_folder_maps_iso_codes_to_xlsum_file_names(cache):
    loaded = load_xlsum(FIXTURES / "xlsum", ["en", "es", "ja", "fr", "de"], "test", cache_dir=cache)
    _assert_tidy(loaded)
    frame, report = loaded.frame, loaded.report
    assert report["rows_per_language"] == {"en": 3, "es": 2, "ja": 1, "fr": 0, "de": 0}
    assert report["missing_languages"] == ["fr", "de"]  # fr: no file here; de: not in XL-Sum
    assert [Path(f).name for f in report["files_read"]] == [
        "english_test.jsonl",
        "spanish_test.jsonl",
        "japanese_test.jsonl",
    ]
    first = frame.iloc[0]
    assert (first["task"], first["language"], first["item_id"]) == ("summarization", "en", "synthetic-en-1")
    assert first["input"].startswith("[synthetic article] The town of Exampleton")
    assert first["target"] == "A small town opened a new library on Monday."
    train = load_xlsum(FIXTURES / "xlsum", ["en"], "train", cache_dir=cache).frame
    assert train["item_id"].tolist() == ["synthetic-en-10"]
    with pytest.raises(ValueError, match="split must be one of"):
        load_xlsum(FIXTURES / "xlsum", ["en"], "dev", cache_dir=cache)


def test_sharegpt_takes_the_first_human_turn_and_the_gpt_reply_after_it(cache):
    loaded = load_sharegpt(FIXTURES / "sharegpt.jsonl", ["en", "es", "fr", "ja"], cache_dir=cache)
    _assert_tidy(loaded)
    frame = loaded.frame.set_index("item_id")
    assert loaded.report["rows_per_language"] == {"en": 2, "es": 1, "fr": 1, "ja": 0}
    assert loaded.report["missing_languages"] == ["ja"]
    assert frame.loc["sg-1", "target"] == "How about Shelly?"  # later turns dropped
    assert frame.loc["sg-2", "input"].startswith("[sintético]")  # system turn skipped
    assert frame.loc["sg-3", "input"].startswith("[synthétique]")  # opening gpt turn skipped
    assert frame.loc["sg-3", "target"] == "Pourquoi pas Carapace ?"
    fixed = load_sharegpt(FIXTURES / "sharegpt.jsonl", ["es"], language="es", cache_dir=cache)
    assert fixed.report["rows_per_language"] == {"es": 4}
    assert fixed.report["fixed_language"] == "es"


def test_aya_maps_iso3_codes_and_reports_dialects_as_unmapped(cache):
    loaded = load_aya(FIXTURES / "aya.jsonl", ["en", "es", "zh", "ar", "ko"], "train", cache_dir=cache)
    _assert_tidy(loaded)
    report = loaded.report
    assert report["rows_per_language"] == {"en": 2, "es": 1, "zh": 1, "ar": 1, "ko": 0}
    assert report["unmapped_language_labels"] == {"ary": 1}
    assert report["rows_other_languages"] == 1  # the Japanese row, not requested
    frame = loaded.frame
    assert frame[frame["language"] == "en"]["item_id"].tolist() == ["aya-train-1", "aya-train-7"]
    assert frame[frame["language"] == "ar"]["target"].tolist() == ["أزرق."]


def test_aya_dolly_maps_names_and_codes_and_keeps_traditional_chinese_out(cache):
    loaded = load_aya_dolly(FIXTURES / "aya_dolly.jsonl", PAPER_LANGUAGES, cache_dir=cache)
    _assert_tidy(loaded)
    report = loaded.report
    assert report["rows_per_language"] == {"en": 2, "es": 0, "fr": 1, "ja": 0, "zh": 1, "ar": 1, "ko": 1, "pt": 1}
    assert report["missing_languages"] == ["es", "ja"]
    assert report["unmapped_language_labels"] == {"zho/Hant": 1}
    zh = loaded.frame[loaded.frame["language"] == "zh"].iloc[0]
    assert zh["input"] == "[合成] 列出回形针的两种用途。" and zh["item_id"] == "d-1"


def test_ifeval_files_load_through_the_ifeval_reader(reference):
    loaded = load_ifeval_prompts(
        {"en": reference / "marco_bench_mif" / "en.jsonl", "ja": reference / "m_ifeval" / "ja_input_data.jsonl"}
    )
    _assert_tidy(loaded)
    assert loaded.report["rows_per_language"] == {"en": 541, "ja": 172}
    assert set(loaded.frame["task"]) == {"instruction_following"}
    assert (loaded.frame["target"] == "").all() and loaded.frame["answer"].isna().all()
    assert loaded.frame["item_id"].iloc[0].startswith("ifeval-")


# ---------------------------------------------------------------------------------------------
# Bad records, encodings, column maps


def test_zh_local_line_15_raises_in_error_mode(reference):
    path = reference / "marco_bench_mif" / "zh_local.jsonl"
    with pytest.raises(DataFileError, match=r"zh_local\.jsonl:15: invalid JSON"):
        load_ifeval_prompts({"zh": path})


def test_zh_local_line_15_is_skipped_and_reported(reference):
    path = reference / "marco_bench_mif" / "zh_local.jsonl"
    loaded = load_ifeval_prompts({"zh": path}, on_bad_record="skip_and_report")
    assert loaded.report["rows_per_language"] == {"zh": 540}
    [bad] = loaded.report["bad_records"]
    assert (bad["file"], bad["line"]) == (str(path), 15) and "invalid JSON" in bad["reason"]
    assert "ifeval-181" not in set(loaded.frame["item_id"])  # key 181 is the broken line
    with pytest.raises(DataFileError, match="max_bad_fraction"):
        load_ifeval_prompts({"zh": path}, on_bad_record="skip_and_report", max_bad_fraction=0.001)


def test_malformed_jsonl_lines_are_named_or_skipped_and_reported(tmp_path, cache):
    lines = (FIXTURES / "sharegpt.jsonl").read_text("utf-8").splitlines()
    no_reply = {"id": "sg-5", "language": "en", "conversations": [{"from": "human", "value": "hello?"}]}
    path = tmp_path / "chats.jsonl"
    path.write_text(
        "\n".join([lines[0], '{"id": "sg-x", "conv', lines[1], "", json.dumps(no_reply), "[1, 2]", *lines[2:]]) + "\n",
        "utf-8",
    )
    with pytest.raises(DataFileError, match=r"chats\.jsonl:2: invalid JSON"):
        load_sharegpt(path, ["en"], cache_dir=cache)
    loaded = load_sharegpt(
        path, ["en", "es", "fr"], on_bad_record="skip_and_report", max_bad_fraction=0.5, cache_dir=cache
    )
    assert loaded.report["rows_per_language"] == {"en": 2, "es": 1, "fr": 1}
    assert [(b["line"], b["reason"][:12]) for b in loaded.report["bad_records"]] == [
        (2, "invalid JSON"),
        (5, "no gpt turn "),
        (6, "expected a J"),
    ]
    assert loaded.frame["item_id"].tolist() == ["sg-1", "sg-2", "sg-3", "sg-4"]


def test_duplicate_item_ids_and_empty_targets_are_bad_records(tmp_path, cache):
    folder = tmp_path / "xlsum"
    folder.mkdir()
    records = [json.loads(line) for line in (FIXTURES / "xlsum" / "english_test.jsonl").read_text("utf-8").splitlines()]
    duplicate = {**records[0], "text": "another article"}
    no_summary = {**records[1], "id": "no-summary", "summary": ""}
    (folder / "english_test.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in [*records, duplicate, no_summary]), "utf-8"
    )
    with pytest.raises(
        DataFileError,
        match=r"english_test\.jsonl:4: duplicate item id "
        r"'synthetic-en-1' for en \(first at .*:1\)",
    ):
        load_xlsum(folder, ["en"], "test", cache_dir=cache)
    loaded = load_xlsum(folder, ["en"], "test", on_bad_record="skip_and_report", max_bad_fraction=0.5, cache_dir=cache)
    assert loaded.frame["item_id"].tolist() == ["synthetic-en-1", "synthetic-en-2", "synthetic-en-3"]
    assert [b["line"] for b in loaded.report["bad_records"]] == [4, 5]
    assert "empty target" in loaded.report["bad_records"][1]["reason"]


def test_bad_records_of_languages_not_asked_for_are_not_validated(tmp_path, cache):
    lines = (FIXTURES / "aya.jsonl").read_text("utf-8").splitlines()
    no_target = {"inputs": "[sintético] ¿Hola?", "targets": "", "language_code": "spa"}
    path = tmp_path / "aya.jsonl"
    path.write_text("\n".join([lines[0], json.dumps(no_target)]) + "\n", "utf-8")
    assert load_aya(path, ["en"], "train", cache_dir=cache).report["rows_other_languages"] == 1
    with pytest.raises(DataFileError, match=r"aya\.jsonl:2: empty target"):
        load_aya(path, ["en", "es"], "train", cache_dir=cache)


def _with_latin1_line(path: Path, lines: list[str]) -> Path:
    body = "\n".join(lines).encode("utf-8").replace("é".encode("utf-8"), "é".encode("latin-1"))
    path.write_bytes(body + b"\n")
    return path


@pytest.mark.parametrize("on_bad_record", ["error", "skip_and_report"])
def test_non_utf8_jsonl_fails_naming_file_and_line_in_both_modes(tmp_path, cache, on_bad_record):
    lines = (FIXTURES / "aya.jsonl").read_text("utf-8").splitlines()
    path = _with_latin1_line(
        tmp_path / "aya_latin1.jsonl",
        [lines[0], json.dumps({"inputs": "café", "targets": "x", "language_code": "fra"}, ensure_ascii=False)],
    )
    with pytest.raises(DataFileError, match=r"aya_latin1\.jsonl:2: not valid UTF-8 \(byte 0xe9"):
        load_aya(path, ["en"], "train", on_bad_record=on_bad_record, cache_dir=cache)


def test_non_utf8_tsv_and_ifeval_files_fail_naming_the_line(tmp_path, cache):
    folder = tmp_path / "mgsm"
    folder.mkdir()
    _with_latin1_line(folder / "mgsm_fr.tsv", ["Combien ?\t3", "Combien de cafés ?\t4"])
    with pytest.raises(DataFileError, match=r"mgsm_fr\.tsv:2: not valid UTF-8"):
        load_mgsm(folder, ["fr"], cache_dir=cache)
    record = {"key": 1, "prompt": "Décrivez un café.", "instruction_id_list": [], "kwargs": []}
    ifeval = _with_latin1_line(tmp_path / "fr.jsonl", [json.dumps(record, ensure_ascii=False)])
    with pytest.raises(DataFileError, match=r"fr\.jsonl:1: not valid UTF-8"):
        load_ifeval_prompts({"fr": ifeval}, on_bad_record="skip_and_report")


def test_a_wrong_column_name_names_the_column_and_the_available_ones(cache):
    columns = ColumnMap(input="article", target="summary", item_id="id")
    with pytest.raises(ColumnMapError) as error:
        load_xlsum(FIXTURES / "xlsum", ["en"], "test", columns=columns, cache_dir=cache)
    message = str(error.value)
    assert "'article' (ColumnMap.input)" in message
    assert "available columns: id, summary, text, title, url" in message
    with pytest.raises(ColumnMapError, match=r"'lang' \(ColumnMap.language\)"):
        load_aya(
            FIXTURES / "aya.jsonl",
            ["en"],
            "train",
            cache_dir=cache,
            columns=ColumnMap(input="inputs", target="targets", language="lang"),
        )


def test_column_map_is_frozen_and_validated():
    with pytest.raises(ValueError, match="ColumnMap.target"):
        ColumnMap(input="question", target="")
    with pytest.raises(AttributeError):
        ColumnMap(input="question").input = "other"  # type: ignore[misc]


def test_a_missing_path_that_is_not_a_hub_id_fails_without_the_hub(tmp_path):
    with pytest.raises(FileNotFoundError, match="neither an existing path nor a hub id"):
        load_mgsm(tmp_path / "no" / "such" / "folder", ["en"])
    with pytest.raises(ValueError, match="on_bad_record"):
        load_aya(FIXTURES / "aya.jsonl", ["en"], "train", on_bad_record="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Unknown language code 'jp'"):
        load_aya(FIXTURES / "aya.jsonl", ["jp"], "train")


@pytest.mark.parametrize(
    "label, script, expected",
    [
        ("es", None, "es"),
        ("spa", None, "es"),
        ("Spanish", None, "es"),
        ("arb", "Arab", "ar"),
        ("Standard Arabic", None, "ar"),
        ("ary", None, None),
        ("Moroccan Arabic", None, None),
        ("zho", "Hans", "zh"),
        ("zho", "Hant", None),
        ("zho_Hans", None, "zh"),
        ("zho_Hant", None, None),
        ("Simplified Chinese", None, "zh"),
        ("kor", "Hang", "ko"),
        ("por", "Latn", "pt"),
        ("por", "Cyrl", None),
        ("klingon", None, None),
    ],
)
def test_language_labels_map_to_iso_639_1(label, script, expected):
    assert language_from_label(label, script) == expected


def test_every_registry_language_has_its_scripts_listed():
    for code in LANGUAGES:
        assert language_from_label(code) == code


# ---------------------------------------------------------------------------------------------
# Offline and hub code paths


def test_local_loads_need_no_network_with_hf_hub_offline(monkeypatch, reference, tmp_path):
    assert os.environ.get("HF_HUB_OFFLINE") == "1"

    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    fresh_cache = tmp_path / "cache"  # nothing cached: datasets must build from the files
    xlsum = load_xlsum(FIXTURES / "xlsum", ["en"], "test", cache_dir=fresh_cache)
    mgsm = load_mgsm(reference / "mgsm", ["sw"], cache_dir=fresh_cache)
    assert len(xlsum.frame) == 3 and len(mgsm.frame) == 250
    assert any(fresh_cache.iterdir())  # it really went through datasets' builders


class _RecordingHub:
    """Stands in for `datasets.load_dataset` on hub ids: serves fixed rows, records each call."""

    def __init__(self, rows_by_config: dict[str | None, list[dict]]):
        self.rows_by_config = rows_by_config
        self.calls: list[tuple] = []

    def __call__(self, path, name=None, *, split, data_files=None, cache_dir=None):
        self.calls.append((path, name, split, data_files))
        return datasets.Dataset.from_list(self.rows_by_config[name])


def test_mgsm_hub_path_asks_one_config_per_mgsm_language(monkeypatch):
    hub = _RecordingHub(
        {
            "en": [
                {"question": "q1", "answer": None, "answer_number": 18},
                {"question": "q2", "answer": None, "answer_number": 3},
            ]
        }
    )
    monkeypatch.setattr(data_module, "load_dataset", hub)
    loaded = load_mgsm(MGSM_HUB_ID, ["en", "ar"])
    assert hub.calls == [("juletxara/mgsm", "en", "test", None)]
    assert loaded.report["hub_id"] == "juletxara/mgsm" and loaded.report["path"] is None
    assert loaded.report["missing_languages"] == ["ar"]
    assert loaded.report["files_read"] == ["juletxara/mgsm[en/test]"]
    assert loaded.frame["item_id"].tolist() == ["mgsm-001", "mgsm-002"]  # as from TSV lines
    assert loaded.frame["answer"].tolist() == [18.0, 3.0]
    exemplar = {
        "question": "Pregunta: ...",
        "answer": "Respuesta paso a paso: ...",
        "answer_number": 11,
        "equation_solution": "5 + 6 = 11.",
    }
    hub = _RecordingHub({"es": [exemplar]})
    monkeypatch.setattr(data_module, "load_dataset", hub)
    assert mgsm_exemplars(MGSM_HUB_ID, "es")[0]["answer_number"] == 11
    assert hub.calls == [("juletxara/mgsm", "es", "train", None)]
    with pytest.raises(ValueError, match="columns.answer is required"):
        load_mgsm(MGSM_HUB_ID, ["en"], columns=ColumnMap(input="question"))


def test_xlsum_and_dolly_hub_paths_use_their_config_names(monkeypatch):
    article = {"id": "a1", "url": "u", "title": "t", "summary": "s", "text": "x"}
    hub = _RecordingHub(
        {
            "chinese_simplified": [article],
            "dolly_human_edited": [
                {"id": "d1", "inputs": "i", "targets": "t", "language": "Spanish", "script": "Latn"}
            ],
        }
    )
    monkeypatch.setattr(data_module, "load_dataset", hub)
    xlsum = load_xlsum(XLSUM_HUB_ID, ["zh", "de"], "validation")
    dolly = load_aya_dolly(AYA_EVALUATION_HUB_ID, ["es"], config="dolly_human_edited")
    assert hub.calls == [
        ("csebuetnlp/xlsum", "chinese_simplified", "validation", None),
        ("CohereForAI/aya_evaluation_suite", "dolly_human_edited", "test", None),
    ]
    assert xlsum.report["missing_languages"] == ["de"]
    assert dolly.frame["language"].tolist() == ["es"]
    assert dolly.report["config"] == "dolly_human_edited"


def test_mcot_hub_path_loads_the_lang_id_file_and_positions_become_ids(monkeypatch):
    hub = _RecordingHub({None: [{"question": "q", "answer": "a", "lang-id": "es-7"}]})
    monkeypatch.setattr(data_module, "load_dataset", hub)
    loaded = load_mcot_math(MCOT_MATH_HUB_ID, ["es"])
    assert hub.calls == [("laihuiyuan/mCoT-MATH", None, "train", "lang-id/mcot-math.json")]
    assert loaded.frame["item_id"].tolist() == ["mcot-7"]
    hub = _RecordingHub({None: [{"inputs": "i", "targets": "t", "language_code": "eng"}] * 2})
    monkeypatch.setattr(data_module, "load_dataset", hub)
    assert load_aya(AYA_HUB_ID, ["en"], "test").frame["item_id"].tolist() == ["aya-test-1", "aya-test-2"]


# ---------------------------------------------------------------------------------------------
# Manifests


def test_manifest(mgsm):
    sample = mgsm.frame[mgsm.frame["language"].isin(["en", "zh"])].groupby("language").head(5)
    table = manifest(sample)
    assert list(table.columns) == ["task", "language", "item_id"] and len(table) == 10


def test_fixture_files_are_marked_synthetic():
    for path in FIXTURES.rglob("*.jsonl"):
        for line in path.read_text("utf-8").splitlines():
            assert "[" in line and any(
                mark in line for mark in ("synthetic", "sintético", "synthétique", "合成", "اصطناعي", "합성")
            ), (path, line)
