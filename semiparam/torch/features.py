"""Features computed by a causal language model, as a scikit-learn transformer.

:class:`LMFeatures` turns a column of texts (or of prompt/response pairs) into a numeric
design that the single-index estimators and the policy learners take as regressors:

``kind="hidden"``
    The hidden states of layer ``layer`` (0 = embeddings, -1 = last), pooled over the
    tokens: ``"mean"`` (over the attention mask) or ``"last"`` (the final token, the one a
    causal model has read the whole text by).  Shape (n, hidden_size).
``kind="logprob"``
    Log-probability summaries of the text (tokens 2..T) or of the response given the
    prompt: ``[sum, mean, min, n_tokens]`` of ``log pi(y_s | y_<s)``; the sum is the
    quantity a DPO margin is built from (:func:`~semiparam.torch.sequence_logps`).

Composition
-----------
- ``Pipeline([("lm", LMFeatures(model=m, tokenizer=tok)), ("sim", IsotonicIndexClassifier())])``
  fits a single-index model on a column of texts (a ``PCA`` between the two keeps the index
  low-dimensional when the hidden size is large).
- Per-action features for :mod:`semiparam.policy`: embed the action texts once,
  ``KroneckerFeatures(LMFeatures(...).fit_transform(action_texts))`` gives
  ``phi(x, a) = v_a (x) [1, x]`` with ``v_a`` the LM embedding of action ``a``; for a map
  that needs the context text too, wrap :meth:`LMFeatures.transform` in
  ``CallableFeatures``.

Cache
-----
With ``cache_dir`` set, every row's feature vector is stored as ``<cache_dir>/<settings
key>/<text key>.npy``: the settings key hashes the model fingerprint (``model_id`` when
given, else a SHA-256 of the model's class, config and parameters) with ``kind``,
``layer``, ``pooling`` and ``max_length``; the text key hashes the text (or prompt and
response).  A notebook that transforms the same texts again reads them back instead of
running the model; a different model, layer or setting never reads another's entries.

Everything runs under :func:`torch.no_grad` in eval mode, ``batch_size`` rows at a time,
on ``device`` (the model is moved there).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from .logps import token_logps

__all__ = ["LMFeatures", "model_fingerprint"]

_KINDS = ("hidden", "logprob")
_POOLINGS = ("mean", "last")


def model_fingerprint(model) -> str:
    """SHA-256 of a model's class, config and parameter values (hex, 16 characters)."""
    h = hashlib.sha256(type(model).__name__.encode())
    config = getattr(model, "config", None)
    if config is not None and hasattr(config, "to_json_string"):
        h.update(config.to_json_string(use_diff=False).encode())
    with torch.no_grad():
        for name, p in model.state_dict().items():
            h.update(name.encode())
            h.update(p.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _as_rows(X):
    """Texts (n,) or prompt/response pairs (n, 2) as a list of tuples of str."""
    if hasattr(X, "to_numpy"):  # pandas Series / DataFrame
        X = X.to_numpy()
    if isinstance(X, str):
        raise ValueError("X must be a sequence of texts, not a single string.")
    arr = np.asarray(X, dtype=object)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim == 1:
        rows = [(x,) for x in arr]
    elif arr.ndim == 2 and arr.shape[1] == 2:
        rows = [tuple(r) for r in arr]
    else:
        raise ValueError(
            f"X must hold texts (shape (n,) or (n, 1)) or prompt/response pairs (n, 2); "
            f"got shape {arr.shape}.")
    if len(rows) == 0:
        raise ValueError("X is empty.")
    for r in rows:
        for x in r:
            if not isinstance(x, str):
                raise ValueError(f"X must contain strings; found {type(x).__name__}.")
    return rows


class LMFeatures(TransformerMixin, BaseEstimator):
    """Pooled hidden states or log-probability summaries of a causal LM, per text.

    Parameters
    ----------
    model : PreTrainedModel or "smollm2"
        A Hugging Face causal LM (``*ForCausalLM``), or ``"smollm2"`` to load
        SmolLM2-135M-Instruct offline (:func:`semiparam.torch.lm.load_smollm2`, once per
        process).
    tokenizer : PreTrainedTokenizerBase, default=None
        Required with a model object; ignored with ``"smollm2"``.
    kind : {"hidden", "logprob"}, default="hidden"
    layer : int, default=-1
        Hidden layer for ``kind="hidden"`` (index into ``hidden_states``).
    pooling : {"mean", "last"}, default="mean"
    batch_size : int, default=16
    max_length : int, default=256
        Tokens kept per text (the start; for pairs, the prompt is cut first).
    device : str, default="cpu"
    cache_dir : str or Path, default=None
        On-disk cache (module docstring); None disables it.
    model_id : str, default=None
        Name used in the cache key instead of the parameter fingerprint (set it when the
        model is a known checkpoint: fingerprinting a 135M model takes about a second).

    Attributes
    ----------
    model_key_ : str
        The fingerprint the cache is keyed by.
    n_features_out_ : int
    input_kind_ : {"text", "pair"}
    n_cache_hits_, n_computed_ : int
        Rows read from the cache and computed by the model in the last ``transform``.
    """

    def __init__(self, *, model=None, tokenizer=None, kind="hidden", layer=-1, pooling="mean",
                 batch_size=16, max_length=256, device="cpu", cache_dir=None, model_id=None):
        self.model = model
        self.tokenizer = tokenizer
        self.kind = kind
        self.layer = layer
        self.pooling = pooling
        self.batch_size = batch_size
        self.max_length = max_length
        self.device = device
        self.cache_dir = cache_dir
        self.model_id = model_id

    # -- set-up ---------------------------------------------------------------------------
    def _resolve(self):
        if self.kind not in _KINDS:
            raise ValueError(f"kind must be one of {list(_KINDS)}; got {self.kind!r}.")
        if self.pooling not in _POOLINGS:
            raise ValueError(f"pooling must be one of {list(_POOLINGS)}; got {self.pooling!r}.")
        for name in ("batch_size", "max_length"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer; got {v!r}.")
        if isinstance(self.layer, bool) or not isinstance(self.layer, (int, np.integer)):
            raise ValueError(f"layer must be an integer; got {self.layer!r}.")
        if isinstance(self.model, str):
            if self.model != "smollm2":
                raise ValueError(f"model must be a causal LM or 'smollm2'; got {self.model!r}.")
            return _smollm2()
        if self.model is None or not callable(self.model):
            raise ValueError("model must be a causal language model (or 'smollm2').")
        if self.tokenizer is None:
            raise ValueError("tokenizer is required with a model object.")
        return self.model, self.tokenizer

    def fit(self, X, y=None):
        """Check the settings and the input, fingerprint the model; returns ``self``."""
        model, _ = self._resolve()
        rows = _as_rows(X)
        self.input_kind_ = "text" if len(rows[0]) == 1 else "pair"
        if self.model_id is not None:
            self.model_key_ = str(self.model_id)
        elif isinstance(self.model, str):
            self.model_key_ = self.model
        else:
            self.model_key_ = model_fingerprint(model)
        self.n_features_out_ = self._width(model)
        return self

    def _width(self, model):
        if self.kind == "logprob":
            return 4
        return int(model.config.get_text_config().hidden_size)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self, "model_key_")
        if self.kind == "logprob":
            return np.array(["logp_sum", "logp_mean", "logp_min", "n_tokens"], dtype=object)
        return np.array([f"h{self.layer}_{j}" for j in range(self.n_features_out_)],
                        dtype=object)

    # -- cache ----------------------------------------------------------------------------
    def _settings_key(self):
        s = json.dumps([self.model_key_, self.kind, int(self.layer), self.pooling,
                        int(self.max_length)])
        return hashlib.sha256(s.encode()).hexdigest()[:16]

    @staticmethod
    def _row_key(row):
        return hashlib.sha256("\x00".join(row).encode()).hexdigest()[:32]

    # -- transform --------------------------------------------------------------------------
    def transform(self, X):
        """Feature matrix, shape (n, ``n_features_out_``), float64."""
        check_is_fitted(self, "model_key_")
        model, tokenizer = self._resolve()
        rows = _as_rows(X)
        kind = "text" if len(rows[0]) == 1 else "pair"
        if kind != self.input_kind_:
            raise ValueError(f"fitted on {self.input_kind_} input; got {kind} input.")
        if kind == "pair" and self.kind == "hidden":
            rows = [(p + r,) for p, r in rows]
        out = np.full((len(rows), self.n_features_out_), np.nan)
        folder = None
        todo = list(range(len(rows)))
        if self.cache_dir is not None:
            folder = Path(self.cache_dir) / self._settings_key()
            folder.mkdir(parents=True, exist_ok=True)
            todo = []
            for i, row in enumerate(rows):
                f = folder / f"{self._row_key(row)}.npy"
                if f.is_file():
                    out[i] = np.load(f)
                else:
                    todo.append(i)
        self.n_cache_hits_ = len(rows) - len(todo)
        self.n_computed_ = len(todo)
        if todo:
            was_training = model.training
            model.eval()
            model.to(self.device)
            try:
                for lo in range(0, len(todo), self.batch_size):
                    idx = todo[lo:lo + self.batch_size]
                    out[idx] = self._batch(model, tokenizer, [rows[i] for i in idx])
            finally:
                model.train(was_training)
            if folder is not None:
                for i in todo:
                    np.save(folder / f"{self._row_key(rows[i])}.npy", out[i])
        return out

    def _encode(self, tokenizer, rows):
        """Right-padded ids, attention mask and scored-token mask of a batch."""
        seqs, scored = [], []
        for row in rows:
            if len(row) == 1:
                ids = tokenizer(row[0], add_special_tokens=True)["input_ids"][:self.max_length]
                mask = [0] + [1] * (len(ids) - 1)
            else:
                p = tokenizer(row[0], add_special_tokens=True)["input_ids"]
                r = tokenizer(row[1], add_special_tokens=False)["input_ids"]
                keep_p = max(self.max_length - len(r), 1)
                p = p[-keep_p:]
                ids = (p + r)[:self.max_length]
                mask = ([0] * len(p) + [1] * len(r))[:self.max_length]
            if len(ids) == 0:
                raise ValueError("a text tokenised to no tokens.")
            seqs.append(ids)
            scored.append(mask)
        T = max(len(s) for s in seqs)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        ids = torch.full((len(seqs), T), pad, dtype=torch.long)
        att = torch.zeros((len(seqs), T), dtype=torch.long)
        sc = torch.zeros((len(seqs), T), dtype=torch.long)
        for i, (s, m) in enumerate(zip(seqs, scored)):
            ids[i, :len(s)] = torch.tensor(s)
            att[i, :len(s)] = 1
            sc[i, :len(m)] = torch.tensor(m)
        return ids.to(self.device), att.to(self.device), sc.to(self.device)

    @torch.no_grad()
    def _batch(self, model, tokenizer, rows):
        ids, att, scored = self._encode(tokenizer, rows)
        if self.kind == "hidden":
            out = model(input_ids=ids, attention_mask=att, output_hidden_states=True,
                        use_cache=False)
            H = out.hidden_states[self.layer].float()
            if self.pooling == "mean":
                m = att.unsqueeze(-1).to(H.dtype)
                feats = (H * m).sum(dim=1) / m.sum(dim=1).clamp(min=1.0)
            else:
                last = att.sum(dim=1) - 1
                feats = H[torch.arange(H.shape[0], device=H.device), last]
            return feats.double().cpu().numpy()
        lp = token_logps(model, ids, att)
        mask = scored[:, 1:].to(lp.dtype)
        n = mask.sum(dim=1)
        total = (lp * mask).sum(dim=1)
        lo = torch.where(mask > 0, lp, torch.full_like(lp, float("inf"))).min(dim=1).values
        lo = torch.where(n > 0, lo, torch.zeros_like(lo))
        feats = torch.stack([total, total / n.clamp(min=1.0), lo, n], dim=1)
        return feats.double().cpu().numpy()


_SMOLLM2 = {}


def _smollm2():
    if "pair" not in _SMOLLM2:
        from .lm import load_smollm2

        _SMOLLM2["pair"] = load_smollm2()
    return _SMOLLM2["pair"]
