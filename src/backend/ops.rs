//! The shapes of the element-wise, matrix, convolution and pooling ops: what a caller
//! tells a backend about the tensors it names.

use super::TensorId;

/// Element-wise nonlinearities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Tanh,
}

impl Activation {
    /// The code the shader's `kind` uniform uses.
    pub(crate) fn shader_code(self) -> u32 {
        match self {
            Activation::Relu => 0,
            Activation::Tanh => 1,
        }
    }
}

/// `out[m, n] = op(a)[m, k] · op(b)[k, n]`, where `op` transposes when asked.
///
/// A linear layer `y = x Wᵀ` (W stored `[out, in]` as in PyTorch) is `trans_b`;
/// its input gradient `dx = dy W` is plain; its weight gradient `dW = dyᵀ x` is `trans_a`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MatmulShape {
    pub m: usize,
    pub k: usize,
    pub n: usize,
    /// `a` is stored `[k, m]` and used transposed.
    pub trans_a: bool,
    /// `b` is stored `[n, k]` and used transposed.
    pub trans_b: bool,
}

/// A 2-D convolution with a square kernel on NCHW tensors (nn.Conv2d, dilation 1, groups 1).
///
/// `x` is `[batch, in_channels, height, width]`, the weight `[out_channels, in_channels,
/// kernel, kernel]` (PyTorch's layout) and `y` `[batch, out_channels, out_height,
/// out_width]`. The border is padded with `padding` zeros on every side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvShape {
    pub batch: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

/// Output positions of a window of `kernel` sliding by `stride` over `size` (padding
/// included): ⌊(size − kernel) / stride⌋ + 1, or 0 when the window does not fit once.
fn windows(size: usize, kernel: usize, stride: usize) -> usize {
    if size < kernel {
        0
    } else {
        (size - kernel) / stride + 1
    }
}

impl ConvShape {
    /// ⌊(H + 2·padding − kernel) / stride⌋ + 1.
    pub fn out_height(&self) -> usize {
        windows(self.height + 2 * self.padding, self.kernel, self.stride)
    }
    /// ⌊(W + 2·padding − kernel) / stride⌋ + 1.
    pub fn out_width(&self) -> usize {
        windows(self.width + 2 * self.padding, self.kernel, self.stride)
    }
    /// Length of `x` (and `dx`).
    pub fn input_len(&self) -> usize {
        self.batch * self.in_channels * self.height * self.width
    }
    /// Length of `y` (and `dy`).
    pub fn output_len(&self) -> usize {
        self.batch * self.out_channels * self.out_height() * self.out_width()
    }
    /// Length of the weight (and its gradient): out_channels · in_channels · kernel².
    pub fn weight_len(&self) -> usize {
        self.out_channels * self.in_channels * self.kernel * self.kernel
    }
}

/// Which statistic a pooling window keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PoolKind {
    /// nn.MaxPool2d: the largest value of the window.
    Max,
    /// nn.AvgPool2d: the mean of the window.
    Avg,
}

impl PoolKind {
    /// The code the shader's `kind` uniform uses.
    pub(crate) fn shader_code(self) -> u32 {
        match self {
            PoolKind::Max => 0,
            PoolKind::Avg => 1,
        }
    }
}

/// 2-D pooling of NCHW tensors with a square window, no padding and floor mode
/// (nn.MaxPool2d / nn.AvgPool2d defaults apart from the stride): rows and columns that no
/// whole window reaches are dropped, and their gradient is 0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PoolShape {
    pub kind: PoolKind,
    pub batch: usize,
    pub channels: usize,
    pub height: usize,
    pub width: usize,
    pub kernel: usize,
    pub stride: usize,
}

impl PoolShape {
    /// ⌊(H − kernel) / stride⌋ + 1.
    pub fn out_height(&self) -> usize {
        windows(self.height, self.kernel, self.stride)
    }
    /// ⌊(W − kernel) / stride⌋ + 1.
    pub fn out_width(&self) -> usize {
        windows(self.width, self.kernel, self.stride)
    }
    /// Length of `x` (and `dx`).
    pub fn input_len(&self) -> usize {
        self.batch * self.channels * self.height * self.width
    }
    /// Length of `y`, `dy` and `argmax`.
    pub fn output_len(&self) -> usize {
        self.batch * self.channels * self.out_height() * self.out_width()
    }
}

/// What a matrix product adds to each value as it stores it (its epilogue), so that a
/// layer's bias, a learned position embedding or a residual connection costs no pass of
/// its own: `out[m, n] = Σ_k op(a)[m, k]·op(b)[k, n] + bias[m mod bias_rows, n] + residual[m, n]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Epilogue {
    /// `[bias_rows, n]`: one row for a linear layer's bias; T rows for a position
    /// embedding added to `[N·T, n]` token rows.
    pub bias: Option<TensorId>,
    pub bias_rows: usize,
    /// `[m, n]`: the skip path of a residual connection (forward), or the gradient that
    /// arrives along it (backward).
    pub residual: Option<TensorId>,
}

impl Epilogue {
    /// Nothing added.
    pub const NONE: Epilogue = Epilogue { bias: None, bias_rows: 1, residual: None };

    /// A linear layer's bias, `bias[n]`.
    pub fn bias(bias: TensorId) -> Epilogue {
        Epilogue { bias: Some(bias), ..Epilogue::NONE }
    }

    /// `bias` when given, else nothing.
    pub fn maybe_bias(bias: Option<TensorId>) -> Epilogue {
        Epilogue { bias, ..Epilogue::NONE }
    }

    /// A table of `rows` rows added to row m as row `m mod rows` (position embeddings).
    pub fn positions(table: TensorId, rows: usize) -> Epilogue {
        Epilogue { bias: Some(table), bias_rows: rows, residual: None }
    }

    /// The same, plus `residual`.
    pub fn plus(self, residual: Option<TensorId>) -> Epilogue {
        Epilogue { residual, ..self }
    }
}

/// Multi-head causal self-attention on `[N, T, ·]` token rows (the part of
/// `nn.MultiheadAttention` between its input and output projections, with a causal mask).
///
/// `qkv` is `[N, T, 3·d]`: each token's query, key and value, each `d = heads · head_dim`
/// values with head h at `h·head_dim ..`; the attention `att` (and its gradient's scratch)
/// is `[N, heads, T, T]`, 0 above the diagonal; `out` is `[N, T, d]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttentionShape {
    pub batch: usize,
    pub seq_len: usize,
    pub heads: usize,
    pub head_dim: usize,
}

impl AttentionShape {
    /// d = heads · head_dim.
    pub fn model_dim(&self) -> usize {
        self.heads * self.head_dim
    }
    /// 1/√head_dim, the scores' scale.
    pub fn scale(&self) -> f32 {
        1.0 / (self.head_dim as f32).sqrt()
    }
    /// Length of `qkv` (and `dqkv`).
    pub fn qkv_len(&self) -> usize {
        self.batch * self.seq_len * 3 * self.model_dim()
    }
    /// Length of `att` (and the backward scratch).
    pub fn att_len(&self) -> usize {
        self.batch * self.heads * self.seq_len * self.seq_len
    }
    /// Length of `out` (and `dout`).
    pub fn out_len(&self) -> usize {
        self.batch * self.seq_len * self.model_dim()
    }
}
