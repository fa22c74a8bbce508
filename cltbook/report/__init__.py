"""From results to the book: tables, estimates, regressions, audits and the rendered report.

`analysis` selects and shapes the collected tables; `estimate` and `metrics` give estimates with
bootstrap intervals; `regression` fits the interaction models; `calibration`, `published`,
`scorecard` and `ablation` judge the world against the paper; `findings` draws the landing page's
and the guidelines' figures; `world_scale` reads the GPU measurements; `book` renders the Jupyter
Book. Imports every layer below; nothing imports it but the command line.
"""
