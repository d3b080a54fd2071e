//! Compiles the C glue around libaom (src/encode/aom/) for wasm builds with the `aom`
//! feature. libaom itself is built by scripts/build.sh; libaom-sys links it.

fn main() {
    println!("cargo:rerun-if-changed=src/encode/aom");
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    if !wasm || std::env::var_os("CARGO_FEATURE_AOM").is_none() {
        return;
    }
    // libaom-sys declares `links = "aom"` and passes its include directory on as DEP_AOM_INCLUDE.
    let include = std::env::var("DEP_AOM_INCLUDE").unwrap_or_else(|_| "target/libaom-wasm32/include".into());
    cc::Build::new()
        .file("src/encode/aom/still.c")
        .file("src/encode/aom/libc.c")
        .include(include)
        .opt_level(2)
        .warnings(true)
        .compile("mediaslim_aom");
}
