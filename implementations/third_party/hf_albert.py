"""Document-04 contract over Hugging Face transformers' Flax ALBERT (4.47.1). No maths here.

- TransformerBlock(d, h, d_ff)            -> FlaxAlbertLayer
- UnsharedTransformer(L, d, h, d_ff)      -> FlaxAlbertLayerGroups, num_hidden_groups=L (one group per layer)
- SharedTransformer(L, d, h, d_ff, "all") -> FlaxAlbertLayerGroups, num_hidden_groups=1 (ALBERT)

ALBERT's layer is post-LN (LN(x + dense(attn)) then LN(h + ffn_output(gelu(ffn(h))))), with
hidden_act="gelu" = exact erf GELU in HF's Flax ACT2FN. Dropout is off (rates 0, deterministic).
No attention mask (None: every position attends to every position). Weights are never
downloaded: every model is built from an AlbertConfig.

The HF modules are attached with nn.share_scope, so that their parameters sit at the top of the
wrapper's tree (a block's params are FlaxAlbertLayer's own: attention/{query,key,value,dense,
LayerNorm}, ffn, ffn_output, full_layer_layer_norm), and the shared model's tree holds exactly
one block-shaped subtree.
"""

from __future__ import annotations

import flax.linen as nn
from transformers.models.albert.configuration_albert import AlbertConfig
from transformers.models.albert.modeling_flax_albert import FlaxAlbertLayer, FlaxAlbertLayerGroups

__all__ = ["SHARE_MODES", "SharedTransformer", "TransformerBlock", "UnsharedTransformer"]

SHARE_MODES = ("all",)  # HF ALBERT shares whole layer groups only: no FFN-only / attention-only mode
LAYER_NORM_EPS = 1e-5


def albert_config(d_model, num_heads, d_ff, num_layers=1, num_groups=1) -> AlbertConfig:
    return AlbertConfig(
        hidden_size=int(d_model),
        embedding_size=int(d_model),
        num_attention_heads=int(num_heads),
        intermediate_size=int(d_ff),
        num_hidden_layers=int(num_layers),
        num_hidden_groups=int(num_groups),
        inner_group_num=1,
        hidden_act="gelu",
        layer_norm_eps=LAYER_NORM_EPS,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
        classifier_dropout_prob=0.0,
    )


class TransformerBlock(nn.Module):
    d_model: int
    num_heads: int
    d_ff: int

    def setup(self):
        self.layer = FlaxAlbertLayer(albert_config(self.d_model, self.num_heads, self.d_ff))
        nn.share_scope(self, self.layer)

    def __call__(self, x):
        return self.layer(x, None, deterministic=True)[0]


def _layer_groups(module: nn.Module, num_groups: int) -> FlaxAlbertLayerGroups:
    cfg = albert_config(module.d_model, module.num_heads, module.d_ff, module.num_layers, num_groups)
    return FlaxAlbertLayerGroups(cfg)


class UnsharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int

    def setup(self):
        self.groups = _layer_groups(self, num_groups=self.num_layers)  # one group (own params) per layer
        nn.share_scope(self, self.groups)

    def __call__(self, x):
        return self.groups(x, None, deterministic=True, return_dict=False)[0]


class SharedTransformer(nn.Module):
    num_layers: int
    d_model: int
    num_heads: int
    d_ff: int
    share: str = "all"

    def setup(self):
        if self.share not in SHARE_MODES:
            raise ValueError(
                f"share must be one of {SHARE_MODES} (Hugging Face ALBERT shares whole layers only), got {self.share!r}"
            )
        self.groups = _layer_groups(self, num_groups=1)  # one group, applied num_layers times
        nn.share_scope(self, self.groups)

    def __call__(self, x):
        return self.groups(x, None, deterministic=True, return_dict=False)[0]
