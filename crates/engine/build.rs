//! Compiles the small C shim (csrc/ld.c) for `long double` arithmetic (`engine::ldouble`:
//! Redis's INCRBYFLOAT and blocking timeouts work in x87 extended precision, which Rust
//! cannot express) and for C's `strtod` (`engine::util::strtod`), whose exact rules Redis's
//! number parsing exposes byte for byte.

fn main() {
    println!("cargo:rerun-if-changed=csrc/ld.c");
    cc::Build::new()
        .file("csrc/ld.c")
        .flag_if_supported("-std=c11")
        // Exact IEEE/x87 semantics are the point of this shim: never let a toolchain default
        // (or CFLAGS) enable value-changing float optimisations.
        .flag_if_supported("-fno-fast-math")
        .warnings(true)
        .compile("ringkv_ld");
}
