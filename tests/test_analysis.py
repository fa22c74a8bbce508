"""Selections the chapters make from the tidy results table."""

import pandas as pd

from cltbook.report import analysis


def test_run_ids_finds_a_multi_task_run_by_any_of_its_tasks():
    rows = pd.DataFrame(
        {
            "run_id": ["multi", "multi", "multi", "single"],
            "task": ["math_reasoning", "summarization", "instruction_following", "summarization"],
            "n_per_language": [300, 300, 300, 300],
        }
    )
    assert analysis.run_ids(rows, task="summarization") == ["multi", "single"]
    assert analysis.run_ids(rows, task="instruction_following", n_per_language=300) == ["multi"]
    assert analysis.run_ids(rows, task="math_reasoning", n_per_language=0) == []
