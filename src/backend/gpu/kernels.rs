//! The registry of WGSL files and their entry points. Shaders are plain WGSL files under
//! `shaders/`, loaded verbatim; sizes and constants arrive through uniforms.

/// One WGSL file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shader {
    Matmul,
    Attention,
    Bias,
    Activation,
    Gather,
    CrossEntropy,
    Norm,
    Optim,
    Conv,
    Pool,
    Random,
    Clip,
}

impl Shader {
    pub const ALL: [Shader; 12] = [
        Shader::Matmul,
        Shader::Attention,
        Shader::Bias,
        Shader::Activation,
        Shader::Gather,
        Shader::CrossEntropy,
        Shader::Norm,
        Shader::Optim,
        Shader::Conv,
        Shader::Pool,
        Shader::Random,
        Shader::Clip,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Shader::Matmul => "matmul.wgsl",
            Shader::Attention => "attention.wgsl",
            Shader::Bias => "bias.wgsl",
            Shader::Activation => "activation.wgsl",
            Shader::Gather => "gather.wgsl",
            Shader::CrossEntropy => "cross_entropy.wgsl",
            Shader::Norm => "norm.wgsl",
            Shader::Optim => "optim.wgsl",
            Shader::Conv => "conv.wgsl",
            Shader::Pool => "pool.wgsl",
            Shader::Random => "random.wgsl",
            Shader::Clip => "clip.wgsl",
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            Shader::Matmul => include_str!("../../../shaders/matmul.wgsl"),
            Shader::Attention => include_str!("../../../shaders/attention.wgsl"),
            Shader::Bias => include_str!("../../../shaders/bias.wgsl"),
            Shader::Activation => include_str!("../../../shaders/activation.wgsl"),
            Shader::Gather => include_str!("../../../shaders/gather.wgsl"),
            Shader::CrossEntropy => include_str!("../../../shaders/cross_entropy.wgsl"),
            Shader::Norm => include_str!("../../../shaders/norm.wgsl"),
            Shader::Optim => include_str!("../../../shaders/optim.wgsl"),
            Shader::Conv => include_str!("../../../shaders/conv.wgsl"),
            Shader::Pool => include_str!("../../../shaders/pool.wgsl"),
            Shader::Random => include_str!("../../../shaders/random.wgsl"),
            Shader::Clip => include_str!("../../../shaders/clip.wgsl"),
        }
    }
}

/// One compute entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    MatmulTiled,
    AttentionForward,
    AttentionBackwardQuery,
    AttentionBackwardKey,
    BiasGrad,
    ActivationForward,
    ActivationBackward,
    GatherRows,
    GatherBatch,
    CrossEntropyLoss,
    NormStats,
    NormApply,
    NormBackwardStats,
    NormBackwardApply,
    NormParamGrad,
    SgdStep,
    AdamStep,
    ConvForward,
    ConvBackwardInput,
    ConvBackwardWeight,
    PoolForward,
    PoolBackward,
    DropoutForward,
    DropoutBackward,
    ChannelNoiseForward,
    ChannelNoiseBackward,
    ClipPartial,
    ClipFinalize,
    ClipApply,
}

impl Kernel {
    pub const ALL: [Kernel; 29] = [
        Kernel::MatmulTiled,
        Kernel::AttentionForward,
        Kernel::AttentionBackwardQuery,
        Kernel::AttentionBackwardKey,
        Kernel::BiasGrad,
        Kernel::ActivationForward,
        Kernel::ActivationBackward,
        Kernel::GatherRows,
        Kernel::GatherBatch,
        Kernel::CrossEntropyLoss,
        Kernel::NormStats,
        Kernel::NormApply,
        Kernel::NormBackwardStats,
        Kernel::NormBackwardApply,
        Kernel::NormParamGrad,
        Kernel::SgdStep,
        Kernel::AdamStep,
        Kernel::ConvForward,
        Kernel::ConvBackwardInput,
        Kernel::ConvBackwardWeight,
        Kernel::PoolForward,
        Kernel::PoolBackward,
        Kernel::DropoutForward,
        Kernel::DropoutBackward,
        Kernel::ChannelNoiseForward,
        Kernel::ChannelNoiseBackward,
        Kernel::ClipPartial,
        Kernel::ClipFinalize,
        Kernel::ClipApply,
    ];

    pub fn shader(self) -> Shader {
        match self {
            Kernel::MatmulTiled => Shader::Matmul,
            Kernel::AttentionForward | Kernel::AttentionBackwardQuery | Kernel::AttentionBackwardKey => {
                Shader::Attention
            }
            Kernel::BiasGrad => Shader::Bias,
            Kernel::ActivationForward | Kernel::ActivationBackward => Shader::Activation,
            Kernel::GatherRows | Kernel::GatherBatch => Shader::Gather,
            Kernel::CrossEntropyLoss => Shader::CrossEntropy,
            Kernel::NormStats
            | Kernel::NormApply
            | Kernel::NormBackwardStats
            | Kernel::NormBackwardApply
            | Kernel::NormParamGrad => Shader::Norm,
            Kernel::SgdStep | Kernel::AdamStep => Shader::Optim,
            Kernel::ConvForward | Kernel::ConvBackwardInput | Kernel::ConvBackwardWeight => Shader::Conv,
            Kernel::PoolForward | Kernel::PoolBackward => Shader::Pool,
            Kernel::DropoutForward
            | Kernel::DropoutBackward
            | Kernel::ChannelNoiseForward
            | Kernel::ChannelNoiseBackward => Shader::Random,
            Kernel::ClipPartial | Kernel::ClipFinalize | Kernel::ClipApply => Shader::Clip,
        }
    }

    pub fn entry_point(self) -> &'static str {
        match self {
            Kernel::MatmulTiled => "matmul_tiled",
            Kernel::AttentionForward => "attention_forward",
            Kernel::AttentionBackwardQuery => "attention_backward_query",
            Kernel::AttentionBackwardKey => "attention_backward_key",
            Kernel::BiasGrad => "bias_grad",
            Kernel::ActivationForward => "activation_forward",
            Kernel::ActivationBackward => "activation_backward",
            Kernel::GatherRows => "gather_rows",
            Kernel::GatherBatch => "gather_batch",
            Kernel::CrossEntropyLoss => "cross_entropy_loss",
            Kernel::NormStats => "norm_stats",
            Kernel::NormApply => "norm_apply",
            Kernel::NormBackwardStats => "norm_backward_stats",
            Kernel::NormBackwardApply => "norm_backward_apply",
            Kernel::NormParamGrad => "norm_param_grad",
            Kernel::SgdStep => "sgd_step",
            Kernel::AdamStep => "adam_step",
            Kernel::ConvForward => "conv_forward",
            Kernel::ConvBackwardInput => "conv_backward_input",
            Kernel::ConvBackwardWeight => "conv_backward_weight",
            Kernel::PoolForward => "pool_forward",
            Kernel::PoolBackward => "pool_backward",
            Kernel::DropoutForward => "dropout_forward",
            Kernel::DropoutBackward => "dropout_backward",
            Kernel::ChannelNoiseForward => "channel_noise_forward",
            Kernel::ChannelNoiseBackward => "channel_noise_backward",
            Kernel::ClipPartial => "clip_partial",
            Kernel::ClipFinalize => "clip_finalize",
            Kernel::ClipApply => "clip_apply",
        }
    }
}

/// Every pipeline, compiled once per device (see `GpuContext::pipelines`); cloning shares
/// the compiled pipelines.
#[derive(Clone)]
pub struct Pipelines {
    pipelines: Vec<(Kernel, wgpu::ComputePipeline)>,
}

impl Pipelines {
    pub fn new(device: &wgpu::Device) -> Self {
        let modules: Vec<(Shader, wgpu::ShaderModule)> = Shader::ALL
            .iter()
            .map(|&shader| {
                let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                    label: Some(shader.file_name()),
                    source: wgpu::ShaderSource::Wgsl(shader.source().into()),
                });
                (shader, module)
            })
            .collect();
        let pipelines = Kernel::ALL
            .iter()
            .map(|&kernel| {
                let module = &modules.iter().find(|(s, _)| *s == kernel.shader()).expect("every shader is compiled").1;
                let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(kernel.entry_point()),
                    layout: None,
                    module,
                    entry_point: Some(kernel.entry_point()),
                    compilation_options: Default::default(),
                    cache: None,
                });
                (kernel, pipeline)
            })
            .collect();
        Pipelines { pipelines }
    }

    pub fn get(&self, kernel: Kernel) -> &wgpu::ComputePipeline {
        &self.pipelines.iter().find(|(k, _)| *k == kernel).expect("every kernel has a pipeline").1
    }
}
