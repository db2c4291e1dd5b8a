//! Every WGSL file, parsed and validated with naga (the compiler inside wgpu), with no GPU.
//! A shader that fails here would fail at pipeline creation on every device.

use std::collections::BTreeSet;

use naga::valid::{Capabilities, ValidationFlags, Validator};
use normlab::backend::gpu::kernels::{Kernel, Shader};

fn parse_and_validate(shader: Shader) -> naga::Module {
    let source = shader.source();
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{} does not parse:\n{}", shader.file_name(), e.emit_to_string(source)));
    Validator::new(ValidationFlags::all(), Capabilities::default())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{} does not validate:\n{}", shader.file_name(), e.emit_to_string(source)));
    module
}

fn entry_points(module: &naga::Module) -> BTreeSet<&str> {
    module.entry_points.iter().map(|e| e.name.as_str()).collect()
}

#[test]
fn every_shader_parses_and_validates() {
    for shader in Shader::ALL {
        let module = parse_and_validate(shader);
        assert!(!module.entry_points.is_empty(), "{} has no entry point", shader.file_name());
        for entry in &module.entry_points {
            assert_eq!(
                entry.stage,
                naga::ShaderStage::Compute,
                "{}: {} is not a compute entry",
                shader.file_name(),
                entry.name
            );
        }
    }
}

#[test]
fn every_shader_is_registered_once() {
    let names: BTreeSet<&str> = Shader::ALL.iter().map(|s| s.file_name()).collect();
    assert_eq!(names.len(), Shader::ALL.len(), "two shaders share a file name");
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/shaders");
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
        .expect("the shaders folder")
        .map(|e| e.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wgsl"))
        .collect();
    let registered: BTreeSet<String> = names.iter().map(|s| s.to_string()).collect();
    assert_eq!(on_disk, registered, "every shaders/*.wgsl is in Shader::ALL and nothing else");
    for shader in Shader::ALL {
        let first = shader.source().lines().next().unwrap_or_default();
        assert!(
            first.starts_with(&format!("// {} ", shader.file_name())),
            "{} starts with a header naming itself, found {first:?}",
            shader.file_name()
        );
    }
}

#[test]
fn every_kernel_entry_point_exists_and_every_entry_point_is_a_kernel() {
    for shader in Shader::ALL {
        let module = parse_and_validate(shader);
        let in_module = entry_points(&module);
        let registered: BTreeSet<&str> =
            Kernel::ALL.iter().filter(|k| k.shader() == shader).map(|k| k.entry_point()).collect();
        for name in &registered {
            assert!(in_module.contains(name), "{} has no entry point {name}; it has {in_module:?}", shader.file_name());
        }
        assert_eq!(in_module, registered, "{}: entry points without a Kernel", shader.file_name());
    }
}

#[test]
fn uniform_blocks_have_the_sizes_of_their_rust_twins() {
    // The Rust structs (`#[repr(C)]`, Pod) have unit tests pinning these same sizes, so the
    // two sides of every "keep in sync" pair are checked against one number.
    let expected: [(Shader, &[(u32, u32)]); 11] = [
        (Shader::Matmul, &[(0, 32)]),
        (Shader::Bias, &[(0, 16)]),
        (Shader::Activation, &[(0, 16)]),
        (Shader::Gather, &[(0, 16)]),
        (Shader::CrossEntropy, &[(0, 16)]),
        (Shader::Norm, &[(0, 80)]),
        (Shader::Optim, &[(0, 32), (1, 16)]),
        (Shader::Conv, &[(0, 64)]),
        (Shader::Pool, &[(0, 48)]),
        (Shader::Random, &[(0, 32), (1, 16)]),
        (Shader::Clip, &[(0, 48)]),
    ];
    for (shader, sizes) in expected {
        let module = parse_and_validate(shader);
        let uniforms: Vec<(u32, u32)> = module
            .global_variables
            .iter()
            .filter(|(_, g)| g.space == naga::AddressSpace::Uniform)
            .map(|(_, g)| {
                let binding = g.binding.as_ref().expect("a uniform has a binding");
                assert_eq!(binding.group, 0, "{}: everything is in group 0", shader.file_name());
                (binding.binding, module.types[g.ty].inner.size(module.to_ctx()))
            })
            .collect();
        assert_eq!(uniforms, sizes, "{}: (binding, bytes) of the uniform blocks", shader.file_name());
    }
}
