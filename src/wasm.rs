//! The wasm-bindgen adapter: JS values in, the pipeline, JS values out. Nothing else.
//! Errors cross as plain `{ code, message }` objects that js/ turns into MediaslimError.

use tsify::Ts;
use wasm_bindgen::prelude::*;

use crate::ProbeInfo;
use crate::error::Error;
use crate::limits::Limits;
use crate::pipeline::{self, OptimizeOptions, Optimized};

#[wasm_bindgen]
extern "C" {
    // Present in browsers, workers, Node >= 16, Deno and Bun.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

fn js_error(e: Error) -> JsValue {
    let obj = js_sys::Object::new();
    let _ = js_sys::Reflect::set(&obj, &"code".into(), &e.code().into());
    let _ = js_sys::Reflect::set(&obj, &"message".into(), &e.to_string().into());
    obj.into()
}

/// Decodes, resizes and re-encodes `input` as `options_json` (an OptimizeOptions as JSON) say.
#[wasm_bindgen]
pub fn optimize(input: &[u8], options_json: &str) -> Result<Ts<Optimized>, JsValue> {
    let options = OptimizeOptions::from_json(options_json).map_err(js_error)?;
    let out = pipeline::optimize(input, &options, &performance_now).map_err(js_error)?;
    Ts::from_rust(&out).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Reads format, size, orientation, alpha and animation from headers only.
#[wasm_bindgen]
pub fn probe(input: &[u8]) -> Result<Ts<ProbeInfo>, JsValue> {
    let info = crate::decode::probe(input, &Limits::default()).map_err(js_error)?;
    Ts::from_rust(&info).map_err(|e| JsValue::from_str(&e.to_string()))
}

/// Test hook: traps the instance the way a decoder bug would, so the JS layer's
/// recovery (a fresh instance, the error reported as WORKER_CRASHED) can be tested.
#[wasm_bindgen(js_name = "__trapForTests")]
pub fn trap_for_tests() {
    panic!("deliberate trap (test hook)");
}
