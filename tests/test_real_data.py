"""Real data in a run (cltbook.data.real, cltbook.pipeline.evaluate): mixtures for all three tasks from real
files, missing languages and bad records in the reports, k-shot prompts, the real-text scorers
(XL-Sum ROUGE-L, IFEval checks, the judge over HTTP) and the config rules for sources."""

from __future__ import annotations

import dataclasses
import math
import shutil

import pytest
from conftest import KEY_ENV, SECRET
from real_sources import flores, write_sharegpt, write_xlsum

from cltbook.config import ConfigError, load_study, run_config
from cltbook.data.datasets import DataFileError
from cltbook.data.mixture import build_mixture
from cltbook.data.real import RealScoring
from cltbook.pipeline.evaluate import score, score_outputs, scoring_provenance
from cltbook.scoring import ifeval
from cltbook.scoring.ifeval import IFEvalRecord
from cltbook.scoring.judge import build_judge_messages
from cltbook.scoring.rouge import rouge_l_xlsum
from cltbook.world import LeakError


def real_config(tasks, train, evaluation, **overrides):
    data = {"source": "real", "train": train, "evaluation": evaluation, **overrides.pop("data", {})}
    return run_config(
        {
            "study": "real-test",
            "tasks": tasks,
            "seen_languages": ["es"],
            "unseen_languages": ["ja", "ko"],
            "data": data,
            "mixture": {"anchor_examples": 6, "n_per_language": 4},
            "training": {"validation_per_language": 2},
            "evaluation": {"items_per_language": 3},
            **overrides,
        }
    )


# ---------------------------------------------------------------------------------------------
# Mixtures


@pytest.fixture()
def xlsum(reference, tmp_path):
    return write_xlsum(reference, tmp_path / "xlsum", {"en": (10, 4), "es": (10, 4), "ja": (0, 4)}, bad_line={"es": 5})


def summarization_config(xlsum, **data):
    return real_config(
        ["summarization"],
        {"summarization": {"loader": "xlsum", "path": str(xlsum), "split": "train", "max_input_chars": 400}},
        {"summarization": {"loader": "xlsum", "path": str(xlsum), "split": "test"}},
        data=data,
    )


def test_summarization_mixture_reports_missing_languages_and_bad_records(xlsum):
    mixture = build_mixture(summarization_config(xlsum, on_bad_record="skip_and_report", max_bad_fraction=0.2))
    train_report = mixture.reports["train.summarization"]
    [bad] = train_report["bad_records"]
    assert (bad["file"], bad["line"]) == (str(xlsum / "spanish_train.jsonl"), 5)
    assert "invalid JSON" in bad["reason"] and train_report["n_bad_records"] == 1
    evaluation_report = mixture.reports["evaluation.summarization"]
    assert evaluation_report["missing_languages"] == ["ko"]  # no korean_test.jsonl
    assert evaluation_report["rows_per_language"] == {"en": 4, "es": 4, "ja": 4, "ko": 0}
    counts = mixture.counts()
    assert counts["train"] == {"summarization:en": 6, "summarization:es": 4}
    assert counts["evaluation"] == {"summarization:en": 3, "summarization:es": 3, "summarization:ja": 3}
    spanish = next(ex for ex in mixture.evaluation if ex.language == "es")
    assert spanish.prompt.endswith("\nResumen:") and spanish.completion.startswith(" ")
    assert all(len(ex.prompt) <= 400 + len("\nSummary:") for ex in mixture.train)
    assert spanish.checks == (RealScoring(languages=("en", "es", "ja", "ko")),)


def test_a_bad_record_stops_the_run_in_error_mode_naming_file_and_line(xlsum):
    with pytest.raises(DataFileError, match=r"spanish_train\.jsonl:5: invalid JSON"):
        build_mixture(summarization_config(xlsum))
    with pytest.raises(DataFileError, match="max_bad_fraction=0.04"):
        build_mixture(summarization_config(xlsum, on_bad_record="skip_and_report", max_bad_fraction=0.04))


def test_training_on_evaluation_items_is_caught(xlsum):
    source = {"loader": "xlsum", "path": str(xlsum), "split": "train"}
    config = real_config(
        ["summarization"],
        {"summarization": source},
        {"summarization": source},
        data={"on_bad_record": "skip_and_report", "max_bad_fraction": 0.2},
    )
    with pytest.raises(LeakError, match="also training items"):
        build_mixture(config)


def test_mgsm_is_8_shot_where_exemplars_exist_and_missing_languages_are_recorded(reference, tmp_path):
    folder = tmp_path / "mgsm"
    shutil.copytree(reference / "mgsm", folder)
    # a Portuguese evaluation set (English items under another name): MGSM has no pt exemplars
    (folder / "mgsm_pt.tsv").write_text((folder / "mgsm_en.tsv").read_text(encoding="utf-8"), encoding="utf-8")
    source = {"loader": "mgsm", "path": str(folder)}
    config = real_config(
        ["math_reasoning"],
        {"math_reasoning": source},
        {"math_reasoning": source},
        unseen_languages=["ar", "ko", "pt"],
        data={"few_shot": 8, "exemplars": str(folder / "mgsm_exemplars.jsonl"), "allow_eval_in_train": True},
    )
    mixture = build_mixture(config)
    report = mixture.reports["evaluation.math_reasoning"]
    assert report["missing_languages"] == ["ar", "ko"]
    assert report["shots_per_language"] == {"en": 8, "es": 8, "pt": 0}
    by_language = {ex.language: ex for ex in mixture.evaluation}
    assert set(by_language) == {"en", "es", "pt"}
    english = by_language["en"].prompt
    assert english.startswith("Question: Roger has 5 tennis balls.") and english.count("Question:") == 9
    assert english.count("The answer is") == 8 and english.endswith("Step-by-Step Answer:")
    assert by_language["es"].prompt.count("Pregunta:") == 9
    assert by_language["pt"].prompt.count("Question:") == 0  # 0-shot, pt's own question prefix


@pytest.fixture()
def marco(reference):
    return reference / "marco_bench_mif"


def ifeval_config(reference, tmp_path, marco, **data):
    chats = write_sharegpt(reference, tmp_path / "chats.jsonl", {"en": 8, "es": 6})
    return real_config(
        ["instruction_following"],
        {"instruction_following": {"loader": "sharegpt", "path": str(chats)}},
        {
            "instruction_following": {
                "loader": "ifeval",
                "path": str(marco),
                "files": {"es": "es_local.jsonl", "zh": "zh_local.jsonl"},
            }
        },
        unseen_languages=["ja", "zh"],
        data={"on_bad_record": "skip_and_report", **data},
    )


def test_ifeval_prompts_per_language_file_with_their_records(reference, tmp_path, marco, monkeypatch):
    parsed = []
    parse = ifeval._parse_record
    monkeypatch.setattr(ifeval, "_parse_record", lambda line: parsed.append(line) or parse(line))
    mixture = build_mixture(ifeval_config(reference, tmp_path, marco))
    files = [marco / name for name in ("en.jsonl", "es_local.jsonl", "ja.jsonl", "zh_local.jsonl")]
    lines = sum(1 for path in files for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    assert len(parsed) == lines  # each record parsed once per build
    report = mixture.reports["evaluation.instruction_following"]
    # both real defects of Marco-Bench-MIF's local sets, in the order read (en, es, ja, zh)
    assert [(bad["file"], bad["line"]) for bad in report["bad_records"]] == [
        (str(marco / "es_local.jsonl"), 286),
        (str(marco / "zh_local.jsonl"), 15),
    ]
    assert "kwargs has 3 entries for 2 instructions" in report["bad_records"][0]["reason"]
    assert report["n_bad_records"] == 2 and report["missing_languages"] == []
    assert report["rows_per_language"] == {"en": 541, "es": 540, "ja": 541, "zh": 540}
    for example in mixture.evaluation:
        record = example.checks[0].ifeval
        assert example.item_id == f"ifeval-{record.key}" and example.prompt == record.prompt
    assert {ex.language for ex in mixture.evaluation} == {"en", "es", "ja", "zh"}


def test_ifeval_bad_line_stops_an_error_mode_run(reference, tmp_path, marco):
    with pytest.raises(DataFileError, match=r"es_local\.jsonl:286: kwargs has 3 entries"):
        build_mixture(ifeval_config(reference, tmp_path, marco, on_bad_record="error"))


def test_ifeval_language_without_a_file_is_missing(reference, tmp_path, marco):
    config = ifeval_config(reference, tmp_path, marco)
    config = run_config({**config.to_dict(), "unseen_languages": ["ja", "de"]})
    report = build_mixture(config).reports["evaluation.instruction_following"]
    assert report["missing_languages"] == ["de"]


# ---------------------------------------------------------------------------------------------
# Scoring real outputs


LANGUAGES = ("en", "es", "ja", "ko")


def test_summaries_are_scored_with_xlsum_rouge_and_switch_aware(reference):
    spanish, english = flores(reference, "es"), flores(reference, "en")
    example = summary(spanish[10], "es")
    same = score(example, spanish[10])
    assert same["rougeL_xlsum"] == pytest.approx(1.0) and same["rougeL_xlsum_switch_aware"] == pytest.approx(1.0)
    close = score(example, spanish[10].split(",")[0])
    assert close["rougeL_xlsum"] == pytest.approx(rouge_l_xlsum(spanish[10], spanish[10].split(",")[0], "es"))
    assert 0 < close["rougeL_xlsum"] < 1 and close["language_match"] == 1
    wrong = score(example, english[10])
    assert wrong["language_match"] == 0 and wrong["rougeL_xlsum_switch_aware"] == 0
    assert wrong["rougeL_xlsum"] == pytest.approx(rouge_l_xlsum(spanish[10], english[10], "es"))
    japanese = flores(reference, "ja")[10]
    assert score(summary(japanese, "ja"), japanese)["rougeL_xlsum"] == pytest.approx(1.0)


def summary(target, language):
    from cltbook.example import Example

    return Example(
        "summarization",
        language,
        "x-1",
        "article\nResumen:",
        " " + target,
        checks=(RealScoring(LANGUAGES),),
        source="real",
    )


def ifeval_example(language, instruction_id, kwargs):
    from cltbook.example import Example

    record = IFEvalRecord(key=7, prompt="p", instruction_id_list=(instruction_id,), kwargs=(kwargs,))
    return Example(
        "instruction_following",
        language,
        "ifeval-7",
        "p",
        "\n",
        checks=(RealScoring(LANGUAGES, ifeval=record),),
        source="real",
    )


def test_ifeval_scores_are_switch_aware(reference):
    spanish, english = flores(reference, "es")[20], flores(reference, "en")[20]
    no_comma = ifeval_example("es", "punctuation:no_comma", {})
    followed = score(no_comma, spanish.replace(",", ""))
    assert followed["prompt_strict"] == 1 and followed["instruction_strict"] == 1
    assert score(no_comma, spanish.replace(",", "") + ", y más")["prompt_strict"] == 0
    off_language = score(no_comma, english.replace(",", ""))
    assert off_language["prompt_strict_any_language"] == 1 and off_language["prompt_strict"] == 0
    # a language check reads lingua, offered the language the record asks for (de: not in LANGUAGES)
    german = ifeval_example("es", "language:response_language", {"language": "de"})
    german_text = "Die Katze schläft auf dem warmen Sofa, während draußen der Regen fällt."
    assert score(german, german_text)["prompt_strict_any_language"] == 1
    assert score(german, spanish)["prompt_strict_any_language"] == 0
    # an unknown instruction is undecided: NaN, never a pass
    unknown = score(ifeval_example("es", "xx:unknown", {}), spanish)
    assert math.isnan(unknown["prompt_strict_any_language"]) and math.isnan(unknown["instruction_strict_any_language"])


def test_the_judge_gets_the_switch_aware_prompt_and_failures_are_counted(server, monkeypatch, tmp_path):  # noqa: F811
    from cltbook.config import JudgeSettings
    from cltbook.example import Example

    monkeypatch.setenv(KEY_ENV, SECRET)
    judge = JudgeSettings(model="judge-test", base_url=f"http://127.0.0.1:{server.server_port}/v1", api_key_env=KEY_ENV)
    examples = [
        Example(
            "instruction_following",
            language,
            f"d-{i}",
            prompt,
            "\n",
            checks=(RealScoring(LANGUAGES, judge=judge),),
            source="real",
        )
        for i, (language, prompt) in enumerate(
            [("es", "Nombra dos planetas."), ("ja", "惑星を二つ挙げて。"), ("ko", "행성 두 개를 말하세요.")]
        )
    ]
    outputs = ["Marte y Venus.", "Mars and Venus.", "화성과 금성."]
    server.script.extend(
        [
            ("ok", "Spanish, correct.\nRating: 5"),
            ("ok", "English, not Japanese.\nRating: 1"),
            ("ok", "I cannot judge this."),
        ]
    )
    predictions = score_outputs(examples, outputs, cache_dir=tmp_path)
    sent = [request["body"]["messages"] for request in server.recorded]
    assert sent == [build_judge_messages(ex.prompt, out, ex.language) for ex, out in zip(examples, outputs)]
    assert "must be written in Japanese" in sent[1][1]["content"]
    assert predictions["judge_score"].tolist()[:2] == [1.0, 0.0] and math.isnan(predictions["judge_score"].iloc[2])
    assert predictions["judge_unparsed"].tolist() == [0.0, 0.0, 1.0]
    again = score_outputs(examples, outputs, cache_dir=tmp_path)  # cached: no new request
    assert len(server.recorded) == 3 and again["judge_unparsed"].tolist() == [0.0, 0.0, 1.0]
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and all(SECRET not in p.read_text(encoding="utf-8") for p in files)
    assert SECRET not in predictions.to_json()


def test_scoring_provenance_records_rouge_deviations_and_the_judge_key_name(xlsum):
    provenance = scoring_provenance(summarization_config(xlsum))
    assert provenance["language_id"]["languages"] == ["en", "es", "ja", "ko"]
    japanese = provenance["summarization"]["ja"]
    assert japanese["segmenter"] == "fugashi-unidic-lite"
    assert any("unidic-lite" in deviation for deviation in japanese["deviations"])
    assert scoring_provenance(run_config({})) == {}


# ---------------------------------------------------------------------------------------------
# Config rules


@pytest.mark.parametrize(
    ("evaluation", "path", "message"),
    [
        (
            {"loader": "xlsum", "path": "x", "split": "test"},
            "data.evaluation.instruction_following.loader",
            "'xlsum' holds summarization data",
        ),
        ({"loader": "aya_dolly", "path": "x"}, "data.evaluation.instruction_following.judge", "no verifiable checks"),
        (
            {"loader": "ifeval", "path": "x", "judge": {}},
            "data.evaluation.instruction_following.judge",
            "only instruction-following evaluation without verifiable checks",
        ),
        (
            {"loader": "aya_dolly", "path": "x", "judge": {"base_url": "api.example.com"}},
            "data.evaluation.instruction_following.judge.base_url",
            "'api.example.com'",
        ),
        (
            {"loader": "aya_dolly", "path": "x", "files": {"es": "es.jsonl"}, "judge": {}},
            "data.evaluation.instruction_following.files",
            "only for the ifeval loader",
        ),
        (
            {"loader": "ifeval", "path": "x", "files": {"xx": "x.jsonl"}},
            "data.evaluation.instruction_following.files.xx",
            "Unknown language code",
        ),
        (
            {"loader": "ifeval", "path": "x", "max_input_chars": 0},
            "data.evaluation.instruction_following.max_input_chars",
            "must be > 0, got 0",
        ),
    ],
)
def test_bad_sources_fail_naming_the_field(evaluation, path, message):
    with pytest.raises(ConfigError) as error:
        real_config(
            ["instruction_following"],
            {"instruction_following": {"loader": "aya", "path": "x"}},
            {"instruction_following": evaluation},
        )
    assert error.value.path == path and message in str(error.value)


def test_ifeval_files_cannot_train():
    with pytest.raises(ConfigError, match="data.train.instruction_following.loader: 'ifeval' files hold evaluation"):
        real_config(
            ["instruction_following"],
            {"instruction_following": {"loader": "ifeval", "path": "x"}},
            {"instruction_following": {"loader": "ifeval", "path": "x"}},
        )


def test_a_key_in_place_of_its_variable_name_is_refused_without_repeating_it():
    judge = {"api_key_env": SECRET}
    with pytest.raises(ConfigError) as error:
        real_config(
            ["instruction_following"],
            {"instruction_following": {"loader": "aya", "path": "x"}},
            {"instruction_following": {"loader": "aya_dolly", "path": "x", "judge": judge}},
        )
    assert SECRET not in str(error.value) and "NAME of the environment variable" in str(error.value)


def test_the_paper_gpu_preset_covers_three_tasks_single_and_multi_task():
    from conftest import ROOT

    from cltbook.config import load_study

    runs = load_study(ROOT / "studies" / "paper-gpu.yaml").expand()
    single = [c for c in runs if len(c.tasks) == 1]
    assert {c.tasks[0] for c in single} == {"math_reasoning", "summarization", "instruction_following"}
    paper_grid = [0, 100, 200, 400, 800, 1000, 2000, 5000]
    for task in ("math_reasoning", "summarization", "instruction_following"):
        points = sorted(
            c.n_per_language
            for c in single
            if c.tasks == (task,) and c.training.method == "full" and c.base_model.source == "Qwen/Qwen2.5-3B"
        )
        assert points == paper_grid, task
    llama_full = [c for c in single if c.base_model.source == "meta-llama/Llama-3.1-8B" and c.training.method == "full"]
    assert len(llama_full) == 24 and {
        c.training.batch_size // c.training.distributed.processes for c in llama_full
    } == {8}
    multi = [c for c in runs if len(c.tasks) == 3]
    assert sorted(c.n_per_language for c in multi) == [0, 100, 500, 1000, 2000, 3000, 4000, 5000, 6000, 7000]
    assert {c.anchor_count for c in multi} == {5000} and {c.anchor_count for c in single} == {10000}
    for config in runs:
        assert config.data.source == "real" and config.base_model.dtype == "bfloat16"
        assert config.seen_languages == ("es", "fr", "ja", "zh") and config.unseen_languages == ("ar", "ko", "pt")
        judge = config.data.evaluation["instruction_following"].judge
        assert judge is not None and judge.api_key_env == "OPENAI_API_KEY"
        # full fine-tuning of a model larger than one 80 GB GPU holds (3B) is sharded over 8 GPUs
        sharded = config.training.distributed.strategy == "fsdp" and config.training.distributed.processes == 8
        assert config.training.method == "lora" or config.base_model.source == "Qwen/Qwen2.5-3B" or sharded


def test_a_broken_local_file_beside_a_hub_dataset_is_still_refused_before_any_work(tmp_path, monkeypatch):
    from cltbook.sweep.preflight import check_real_data

    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)  # the hub id is then checked by its form only
    broken = tmp_path / "train.jsonl"
    broken.write_text('{"question": "What is 1 + 1?", "answer": "2", "lang-id": "en-1"}\n{"question": \n')
    config = real_config(
        ["math_reasoning"],
        {"math_reasoning": {"loader": "mcot_math", "path": str(broken)}},
        {"math_reasoning": {"loader": "mgsm", "path": "juletxara/mgsm"}},
    )
    with pytest.raises(ConfigError) as error:
        check_real_data(config)
    assert error.value.path == "data.train.math_reasoning.path" and "train.jsonl:2" in str(error.value)


def test_the_preflight_reads_each_local_file_once(xlsum, monkeypatch):
    """check_real_data reads every source and builds the mixture from what it read."""
    from cltbook.data import real
    from cltbook.sweep.preflight import check_real_data

    kind = real.SOURCES["xlsum"]
    calls = []

    def counted(path, languages, **options):
        calls.append(options.get("split"))
        return kind.read(path, languages, **options)

    monkeypatch.setitem(real.SOURCES, "xlsum", dataclasses.replace(kind, read=counted))
    config = summarization_config(xlsum, on_bad_record="skip_and_report", max_bad_fraction=0.5)
    check_real_data(config)
    assert sorted(calls) == ["test", "train"]


def test_a_dry_run_of_the_paper_preset_lists_what_it_cannot_reach_and_a_run_refuses_it(tmp_path, monkeypatch, capsys):
    """Offline, with an empty hub cache: the dry run lists every run and every model and dataset it
    could not reach from here, and exits 0; the run itself stops at the first, before any work."""
    from conftest import ROOT
    from huggingface_hub import constants

    from cltbook import cli

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.chdir(ROOT)
    runs = tmp_path / "runs"
    arguments = ["run", "studies/paper-gpu.yaml", "--runs-dir", str(runs), "--cache-dir", str(tmp_path / "cache")]
    assert cli.main([*arguments, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("\nrun ") + out.startswith("run ") == len(load_study(ROOT / "studies" / "paper-gpu.yaml").expand())
    unreachable = out.split("not reachable from here", 1)[1]
    for source in ("Qwen/Qwen2.5-3B", "meta-llama/Llama-3.1-8B", "juletxara/mgsm", "csebuetnlp/xlsum"):
        assert repr(source) in unreachable, source
    assert "base_model.source" in unreachable and "data.evaluation.math_reasoning.path" in unreachable
    assert cli.main(arguments) == 2
    assert "error: base_model.source: 'Qwen/Qwen2.5-3B' is neither a local path" in capsys.readouterr().err
    assert not runs.exists() and not (tmp_path / "cache").exists()
