//! Compiles the small C shim for `long double` arithmetic (csrc/ld.c, used by
//! `engine::ldouble`): Redis's INCRBYFLOAT works in x87 extended precision, which Rust cannot
//! express, and its results are observable byte for byte.

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
