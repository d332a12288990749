"""Verbatims as vectors, on the CPU of this machine.

Two backends with one interface (``embed(texts) -> unit-length rows``):

- ``words`` (the base install): the stems of the words and their pairs, hashed (scikit-learn's
  HashingVectorizer, no vocabulary to fit or store). Texts are alike when they share words.
- ``wordllama`` (the optional AI extra, ``requirements-ai.txt``): WordLlama's static token
  embeddings (MIT; the 256-dimension "l2_supercat" weights ship inside the PyPI wheel), pooled per
  text. Texts are alike when they mean alike things with different words. The weights are read
  from the installed package; nothing is downloaded, ever.

``INSIGHTS_EMBEDDINGS`` chooses: "auto" (wordllama when installed, else words), "words" or
"wordllama".
"""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

import numpy as np
from django.conf import settings

from .text import content_stems, guess_language

logger = logging.getLogger(__name__)


def analyzer(text: str) -> list[str]:
    """The terms of a text for TF-IDF and hashing: content stems and adjacent pairs of them."""
    stems = content_stems(text, guess_language(text))
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False)]


class WordsBackend:
    name = "words"
    label = "word stems (TF-IDF)"

    def __init__(self):
        from sklearn.feature_extraction.text import HashingVectorizer

        self._hasher = HashingVectorizer(analyzer=analyzer, n_features=2**18, alternate_sign=False, norm="l2")

    def embed(self, texts: list[str]):
        """Sparse rows, unit length (an empty text is a zero row)."""
        return self._hasher.transform(texts)


class WordLlamaBackend:
    name = "wordllama"
    label = "WordLlama embeddings (AI extra)"

    def __init__(self):
        import wordllama
        from safetensors import safe_open
        from wordllama import WordLlama
        from wordllama.inference import WordLlamaInference

        # Built from the wheel's own files: WordLlama.load() would look for the tokenizer in a
        # folder the wheel does not have and then try to download it.
        root = Path(wordllama.__file__).parent
        tokenizer = WordLlama.load_tokenizer(root / "tokenizers" / "l2_supercat_tokenizer_config.json")
        with safe_open(root / "weights" / "l2_supercat_256.safetensors", framework="np", device="cpu") as f:
            weights = f.get_tensor("embedding.weight")
        self._model = WordLlamaInference(weights, tokenizer)

    def embed(self, texts: list[str]):
        if not texts:
            return np.zeros((0, 256), dtype=np.float32)
        vectors = self._model.embed([t or " " for t in texts], norm=True)
        return np.nan_to_num(vectors)


def ai_available() -> bool:
    try:
        import wordllama  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def _backend(name: str):
    if name == "wordllama" or (name == "auto" and ai_available()):
        try:
            return WordLlamaBackend()
        except Exception:  # a damaged install: say so, and still work
            logger.exception("The AI extra (wordllama) could not be loaded; using word stems.")
    return WordsBackend()


def backend(name: str | None = None):
    return _backend(name or getattr(settings, "INSIGHTS_EMBEDDINGS", "auto"))


def similarities(a, b) -> np.ndarray:
    """Cosine similarities of unit rows (dense or sparse) as a dense array."""
    product = a @ b.T
    return product.toarray() if hasattr(product, "toarray") else np.asarray(product)
