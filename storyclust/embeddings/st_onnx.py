"""A sentence-transformers model run by ONNX Runtime with int8 weights (``Embedder(model, backend="onnx")``).

The model's transformer is exported to ONNX once, from the loaded model (nothing is downloaded), its weights
quantized to int8 (ONNX Runtime's dynamic quantization, per channel) and the file kept in a folder beside the embedding
cache. Sentence-transformers' own ONNX backend needs ``optimum``, whose releases pin an older
``transformers`` than sentence-transformers does; exporting with ``torch.onnx`` avoids that pin.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["OnnxEncoder"]

_FILE = "model.int8.onnx"
_POOLING = ("mean", "cls")


class OnnxEncoder:
    """Encodes as ``SentenceTransformer.encode`` does, for models made of a Transformer, a mean or CLS
    Pooling and optionally a Normalize module, with the transformer in ONNX Runtime at int8 weights.

    ``folder``: where the int8 model is written the first time and read after. ``threads``: ONNX
    Runtime's threads. Vectors are not normalised (the :class:`~storyclust.Embedder` does that).
    """

    def __init__(self, st, folder: Path, threads: int):
        try:
            import onnxruntime as ort
        except ImportError:
            raise InputError("backend='onnx' needs ONNX Runtime: pip install 'storyclust[onnx]'",
                             field="backend") from None
        self._pooling = _pooling_mode(st)
        self._tokenizer = st.tokenizer
        self._max_length = st.max_seq_length
        folder = Path(folder)
        path = folder / _FILE
        if not path.exists():
            _export(st, folder, path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """One text per call: dynamic quantization scales a call's activations together, so a text batched
        with others would get a vector that depends on them (and on padding); one at a time is also faster
        here (``benchmarks/embed_speed.py`` times it). ``batch_size`` is not used."""
        out = []
        for text in texts:
            enc = self._tokenizer([text], truncation=True, max_length=self._max_length, return_tensors="np")
            hidden = self._session.run(None, {n: enc[n].astype(np.int64) for n in self._inputs})[0][0]
            out.append(hidden[0] if self._pooling == "cls" else hidden.mean(axis=0))
        return np.asarray(out, dtype=np.float32)


def _pooling_mode(st) -> str:
    """The model's pooling, refused unless the model is Transformer → Pooling (mean or CLS) [→ Normalize]."""
    kinds = [type(m).__name__ for m in st]
    mode = getattr(st[1], "pooling_mode", None) if len(kinds) > 1 else None
    if isinstance(mode, (list, tuple)):
        mode = mode[0] if len(mode) == 1 else None
    if (kinds[:2] != ["Transformer", "Pooling"] or any(k != "Normalize" for k in kinds[2:])
            or mode not in _POOLING):
        raise InputError(f"backend='onnx' runs models made of Transformer, Pooling (mean or cls) and Normalize; "
                         f"this one is {' → '.join(kinds)} (pooling {mode!r}); use the default backend",
                         field="backend")
    return mode


def _export(st, folder: Path, path: Path) -> None:
    """Export the transformer to ONNX and quantize its weights to int8; the file appears whole or not at all."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    folder.mkdir(parents=True, exist_ok=True)
    model = st[0].auto_model.eval()
    sample = st.tokenizer(["a first sample text", "a second"], padding=True, return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Hidden(torch.nn.Module):  # positional inputs in, the last hidden state out
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs))).last_hidden_state

    tag = uuid.uuid4().hex
    plain, quantized = folder / f".{tag}.onnx", folder / f".{tag}.int8.onnx"
    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    try:
        with torch.no_grad():
            torch.onnx.export(Hidden(), tuple(sample[n] for n in names), str(plain), input_names=names,
                              output_names=["last_hidden_state"], dynamic_axes=axes, opset_version=17,
                              dynamo=False)
        # per output channel: one scale per tensor costs the vectors several points of cosine
        quantize_dynamic(str(plain), str(quantized), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
        os.replace(quantized, path)
    finally:
        plain.unlink(missing_ok=True)
        quantized.unlink(missing_ok=True)
