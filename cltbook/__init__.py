"""cltbook: the backing package of a book on cross-lingual transfer in multilingual post-training.

Reproduces and extends Shimabucoro, Üstün, Fadaee and Ruder, "A Post-trainer's Guide to
Multilingual Training Data: Uncovering Cross-lingual Transfer Dynamics" (arXiv:2504.16677).
"""

__version__ = "0.1.0"
