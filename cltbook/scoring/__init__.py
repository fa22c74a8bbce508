"""Scoring one item: per-item scorers that turn a model's answer into numbers.

Answer extraction for math (`extract`), multilingual ROUGE (`rouge`), verifiable instructions
(`ifeval`), language identification (`langid`) and the optional LLM judge (`judge`). Each works on
text alone: no model, no run folder. Imports only the ground modules (`languages`, `config`,
`files`).
"""
