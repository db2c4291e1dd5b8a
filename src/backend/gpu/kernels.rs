//! The registry of WGSL files and their entry points. Shaders are plain WGSL files under
//! `shaders/`, loaded verbatim; sizes and constants arrive through uniforms.

/// One WGSL file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Shader {
    Matmul,
    Bias,
    Activation,
    Gather,
    CrossEntropy,
    Norm,
    Optim,
}

impl Shader {
    pub const ALL: [Shader; 7] = [
        Shader::Matmul,
        Shader::Bias,
        Shader::Activation,
        Shader::Gather,
        Shader::CrossEntropy,
        Shader::Norm,
        Shader::Optim,
    ];

    pub fn file_name(self) -> &'static str {
        match self {
            Shader::Matmul => "matmul.wgsl",
            Shader::Bias => "bias.wgsl",
            Shader::Activation => "activation.wgsl",
            Shader::Gather => "gather.wgsl",
            Shader::CrossEntropy => "cross_entropy.wgsl",
            Shader::Norm => "norm.wgsl",
            Shader::Optim => "optim.wgsl",
        }
    }

    pub fn source(self) -> &'static str {
        match self {
            Shader::Matmul => include_str!("../../../shaders/matmul.wgsl"),
            Shader::Bias => include_str!("../../../shaders/bias.wgsl"),
            Shader::Activation => include_str!("../../../shaders/activation.wgsl"),
            Shader::Gather => include_str!("../../../shaders/gather.wgsl"),
            Shader::CrossEntropy => include_str!("../../../shaders/cross_entropy.wgsl"),
            Shader::Norm => include_str!("../../../shaders/norm.wgsl"),
            Shader::Optim => include_str!("../../../shaders/optim.wgsl"),
        }
    }
}

/// One compute entry point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    MatmulTiled,
    BiasAdd,
    BiasGrad,
    ActivationForward,
    ActivationBackward,
    GatherRows,
    CrossEntropyLoss,
    NormStats,
    NormApply,
    NormBackwardStats,
    NormBackwardApply,
    NormParamGrad,
    SgdStep,
    AdamStep,
}

impl Kernel {
    pub const ALL: [Kernel; 14] = [
        Kernel::MatmulTiled,
        Kernel::BiasAdd,
        Kernel::BiasGrad,
        Kernel::ActivationForward,
        Kernel::ActivationBackward,
        Kernel::GatherRows,
        Kernel::CrossEntropyLoss,
        Kernel::NormStats,
        Kernel::NormApply,
        Kernel::NormBackwardStats,
        Kernel::NormBackwardApply,
        Kernel::NormParamGrad,
        Kernel::SgdStep,
        Kernel::AdamStep,
    ];

    pub fn shader(self) -> Shader {
        match self {
            Kernel::MatmulTiled => Shader::Matmul,
            Kernel::BiasAdd | Kernel::BiasGrad => Shader::Bias,
            Kernel::ActivationForward | Kernel::ActivationBackward => Shader::Activation,
            Kernel::GatherRows => Shader::Gather,
            Kernel::CrossEntropyLoss => Shader::CrossEntropy,
            Kernel::NormStats
            | Kernel::NormApply
            | Kernel::NormBackwardStats
            | Kernel::NormBackwardApply
            | Kernel::NormParamGrad => Shader::Norm,
            Kernel::SgdStep | Kernel::AdamStep => Shader::Optim,
        }
    }

    pub fn entry_point(self) -> &'static str {
        match self {
            Kernel::MatmulTiled => "matmul_tiled",
            Kernel::BiasAdd => "bias_add",
            Kernel::BiasGrad => "bias_grad",
            Kernel::ActivationForward => "activation_forward",
            Kernel::ActivationBackward => "activation_backward",
            Kernel::GatherRows => "gather_rows",
            Kernel::CrossEntropyLoss => "cross_entropy_loss",
            Kernel::NormStats => "norm_stats",
            Kernel::NormApply => "norm_apply",
            Kernel::NormBackwardStats => "norm_backward_stats",
            Kernel::NormBackwardApply => "norm_backward_apply",
            Kernel::NormParamGrad => "norm_param_grad",
            Kernel::SgdStep => "sgd_step",
            Kernel::AdamStep => "adam_step",
        }
    }
}

/// Every pipeline, compiled once when the backend is made.
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
