"""What one run does, step by step, as the run notebook calls it.

Base models (`models`: build, pretrain and load), fine-tuning (`train`), generation and scoring
(`evaluate`), the world card of a base model (`worldcard`) and the run folder it all writes
(`store`: records, predictions, metrics, and collecting a study's runs into tables). Imports only
the layers below: ground, `scoring`, `world`, `data`.
"""
