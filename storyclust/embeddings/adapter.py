"""Low-rank updates to multilingual-e5-small's top layers, fitted on article pairs that people graded.

An off-the-shelf sentence model puts two articles on one topic close together
whether or not they report one story. :class:`E5Adapter` learns, from pairs
graded by people (SemEval-2022 Task 8), small low-rank updates (LoRA) to the
last transformer layers so that the cosine of two articles follows the grade.
The lower layers stay frozen, so their outputs are computed once per text
(:meth:`E5Adapter.lower_states`) however many epochs or folds read them.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import InputError

__all__ = ["E5Adapter"]

_MATRICES = ("qkv", "ao", "fi", "fo")  # attention in and out, feed-forward in and out


def _float_model():
    """multilingual-e5-small with float32 weights (gradients need them), on the CPUs this process may use."""
    from .backends import usable_cpus

    return _loaded(usable_cpus())


@functools.cache
def _loaded(threads: int):
    from .e5_torch import TorchE5

    return TorchE5(bfloat16=False, threads=threads)


class E5Adapter:
    """LoRA updates to the top ``layers`` of multilingual-e5-small, fitted so that cosine follows people's grades.

    The loss is CoSENT: over the pairs of a batch, every pair graded more
    similar than another should have the higher cosine. Texts are read as
    passages, their first ``max_tokens`` tokens (the lead of a news article).

    Parameters
    ----------
    layers : int, default 2
        How many of the last transformer layers get updates.
    rank : int, default 8
        Rank of each update.
    epochs : int, default 3
    learning_rate : float, default 5e-4
    max_tokens : int, default 256
    batch_pairs : int, default 16
    random_state : int, default 0

    Attributes
    ----------
    weights_ : dict
        ``{(layer, matrix): (a, b)}`` float32 arrays; the update of a matrix is ``b @ a``.

    Examples
    --------
    >>> texts = ["Erdbeben in Japan: Stärke 6,1 vor Fukushima.", "Earthquake off Fukushima, magnitude 6.1.",
    ...          "Die Zentralbank hebt die Zinsen an.", "Flooding closes roads in Bavaria."]
    >>> adapter = E5Adapter(epochs=1).fit(texts, [0, 0, 2], [1, 2, 3], [3.0, 0.0, 0.5])
    >>> adapter.encode(texts).shape
    (4, 384)
    """

    def __init__(self, layers: int = 2, rank: int = 8, epochs: int = 3, learning_rate: float = 5e-4,
                 max_tokens: int = 256, batch_pairs: int = 16, random_state: int = 0):
        self.layers = layers
        self.rank = rank
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.max_tokens = max_tokens
        self.batch_pairs = batch_pairs
        self.random_state = random_state

    def _check(self) -> None:
        for name in ("layers", "rank", "epochs", "max_tokens", "batch_pairs"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise InputError(f"{name} must be a positive integer, got {value!r}", field=name)
        if not 1 <= self.layers <= 12:
            raise InputError(f"layers must be 1 to 12 (the model has 12), got {self.layers}", field="layers")
        if not isinstance(self.learning_rate, (int, float)) or self.learning_rate <= 0:
            raise InputError(f"learning_rate must be a positive number, got {self.learning_rate!r}",
                             field="learning_rate")

    @property
    def first_layer(self) -> int:
        """The first layer with updates (the layers below it are frozen)."""
        return 12 - self.layers

    def lora(self, layer: int) -> dict | None:
        """The updates of transformer layer ``layer`` as torch tensors, or ``None`` when it has none."""
        if not hasattr(self, "weights_"):
            raise InputError("fit or load the E5Adapter before using it", field="adapter")
        if layer < self.first_layer:
            return None
        tensors = self.__dict__.setdefault("_tensors", {})
        if layer not in tensors:
            import torch

            tensors[layer] = {m: tuple(torch.from_numpy(w) for w in self.weights_[(layer, m)]) for m in _MATRICES}
        return tensors[layer]

    def lower_states(self, texts: Sequence[str], model=None, show_progress: bool | None = None) -> list:
        """The frozen layers' output for each text's first ``max_tokens`` tokens (bfloat16 tensors, one per text):
        what :meth:`fit` trains on, computed once."""
        import torch
        from tqdm.auto import tqdm

        from .use_torch import torch_threads

        self._check()
        model = model or _float_model()
        windows = [ids[:self.max_tokens] for ids in model.tokenize(["passage: " + t for t in texts])]
        order = sorted(range(len(windows)), key=lambda i: -len(windows[i]))
        states = [None] * len(windows)
        disable = None if show_progress is None else not show_progress
        with torch_threads(model.threads), torch.inference_mode():
            for s in tqdm(range(0, len(order), 16), desc="e5 lower layers", disable=disable, leave=False):
                batch = order[s:s + 16]
                x, mask = model.embed_tokens([windows[i] for i in batch])
                x = model.layers(x, mask, 0, self.first_layer)
                for j, i in enumerate(batch):
                    states[i] = x[j, :int(mask[j].sum())].to(torch.bfloat16).clone()
        return states

    def _top(self, model, states: list, batch: Sequence[int], lora_of):
        import torch
        import torch.nn.functional as F

        length = max(len(states[i]) for i in batch)
        x = torch.zeros(len(batch), length, model.dim)
        mask = torch.zeros(len(batch), length, dtype=torch.bool)
        for j, i in enumerate(batch):
            x[j, :len(states[i])] = states[i].float()
            mask[j, :len(states[i])] = True
        for k in range(self.first_layer, 12):
            x = model.layer(x, mask, k, lora_of(k))
        return F.normalize(model.pool(x, mask), dim=-1)

    def fit(self, texts: Sequence[str], left, right, similarity, states: list | None = None,
            show_progress: bool | None = None) -> "E5Adapter":
        """Fit on pairs ``(texts[left[t]], texts[right[t]])`` graded ``similarity[t]`` (higher: more alike).

        ``states``: :meth:`lower_states` of ``texts``, when already computed (they depend on
        ``layers`` and ``max_tokens`` only, not on the pairs).
        """
        import torch
        from tqdm.auto import tqdm

        from .use_torch import torch_threads

        self._check()
        left, right = np.asarray(left, dtype=np.int64), np.asarray(right, dtype=np.int64)
        grade = np.asarray(similarity, dtype=np.float64)
        if not len(left) == len(right) == len(grade):
            raise InputError(f"{len(left)} left, {len(right)} right and {len(grade)} grades: one each per pair",
                             field="similarity")
        if len(left) and max(left.max(), right.max()) >= len(texts):
            raise InputError(f"a pair names text {max(left.max(), right.max())} of {len(texts)}", field="left")
        model = _float_model()
        states = states if states is not None else self.lower_states(texts, model, show_progress)
        if len(states) != len(texts):
            raise InputError(f"{len(states)} states for {len(texts)} texts", field="states")
        gen = torch.Generator().manual_seed(int(self.random_state))
        shapes = {"qkv": (3 * model.dim, model.dim), "ao": (model.dim, model.dim),
                  "fi": (model.config["FF"], model.dim), "fo": (model.dim, model.config["FF"])}
        params = {(k, m): (torch.randn(self.rank, i, generator=gen) / np.sqrt(i), torch.zeros(o, self.rank))
                  for k in range(self.first_layer, 12) for m, (o, i) in shapes.items()}
        for a, b in params.values():
            a.requires_grad_(True)
            b.requires_grad_(True)
        opt = torch.optim.AdamW([p for ab in params.values() for p in ab], lr=self.learning_rate,
                                weight_decay=0.01)
        rng = np.random.default_rng(self.random_state)
        disable = None if show_progress is None else not show_progress
        steps = self.epochs * int(np.ceil(len(left) / self.batch_pairs))
        with torch_threads(model.threads), tqdm(total=steps, desc="e5 adapter", disable=disable, leave=False) as bar:
            for _ in range(self.epochs):
                order = rng.permutation(len(left))
                for s in range(0, len(order), self.batch_pairs):
                    b = order[s:s + self.batch_pairs]
                    ids = np.unique(np.r_[left[b], right[b]])
                    at = {int(t): j for j, t in enumerate(ids)}
                    v = self._top(model, states, ids.tolist(), lambda k: {m: params[(k, m)] for m in _MATRICES})
                    cos = (v[[at[int(t)] for t in left[b]]] * v[[at[int(t)] for t in right[b]]]).sum(1)
                    loss = _cosent(cos, torch.from_numpy(grade[b]))
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
                    bar.update()
        self.weights_ = {key: (a.detach().numpy().copy(), b.detach().numpy().copy()) for key, (a, b) in params.items()}
        self.__dict__.pop("_tensors", None)
        return self

    def vectors(self, states: list, batch: int = 32) -> np.ndarray:
        """Unit vectors from :meth:`lower_states`, through the adapted top layers."""
        import torch

        from .use_torch import torch_threads

        model = _float_model()
        out = np.zeros((len(states), model.dim), dtype=np.float32)
        order = sorted(range(len(states)), key=lambda i: -len(states[i]))
        with torch_threads(model.threads), torch.inference_mode():
            for s in range(0, len(order), batch):
                b = order[s:s + batch]
                out[b] = self._top(model, states, b, self.lora).numpy()
        return out

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of ``texts`` read as passages through the adapted model (float32 weights)."""
        model = _float_model()
        return model.encode(["passage: " + t for t in texts], adapter=self)

    def save(self, path) -> None:
        """Write the parameters and updates to ``path`` (an ``.npz``; float16, a few hundred kilobytes)."""
        arrays = {f"l{k}.{m}.{part}": w.astype(np.float16) for (k, m), ab in self.weights_.items()
                  for part, w in zip("ab", ab)}
        params = np.array([self.layers, self.rank, self.epochs, self.max_tokens, self.batch_pairs, self.random_state])
        with open(path, "wb") as fh:
            np.savez_compressed(fh, params=params, learning_rate=np.array(self.learning_rate), **arrays)

    @classmethod
    def load(cls, path) -> "E5Adapter":
        """The adapter :meth:`save` wrote to ``path``."""
        with np.load(Path(path), allow_pickle=False) as z:
            layers, rank, epochs, max_tokens, batch_pairs, random_state = (int(v) for v in z["params"])
            adapter = cls(layers, rank, epochs, float(z["learning_rate"]), max_tokens, batch_pairs, random_state)
            adapter.weights_ = {(k, m): (z[f"l{k}.{m}.a"].astype(np.float32), z[f"l{k}.{m}.b"].astype(np.float32))
                                for k in range(adapter.first_layer, 12) for m in _MATRICES}
        return adapter


def _cosent(cos, grade, scale: float = 20.0):
    """CoSENT loss: ``log(1 + sum exp(scale * (cos_j - cos_i)))`` over the pairs ``i`` graded above ``j``."""
    import torch

    diff = (cos[None, :] - cos[:, None]) * scale
    ranked = diff[grade[:, None] > grade[None, :]]
    return torch.logsumexp(torch.cat([torch.zeros(1, dtype=ranked.dtype), ranked]), 0)
