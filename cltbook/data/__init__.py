"""What goes into fine-tuning, validation and evaluation: mixtures, from the world or real data.

`sampling` holds the seeded orders and the `Mixture` every source fills; `mixture.build_mixture`
builds one run's examples from the miniature world or, through `real` and the loaders in
`datasets`, from real datasets. Imports the ground modules, `scoring` and `world`.
"""
