//! The wasm-bindgen adapter: JS values in, the pipeline, JS values out. Nothing else.
//! Errors cross as plain `{ code, message }` objects that js/ turns into MediaslimError.

use tsify::Ts;
use wasm_bindgen::prelude::*;

use crate::error::Error;
use crate::limits::Limits;
use crate::pipeline::{self, OptimizeOptions, Optimized};
use crate::{Placeholder, ProbeInfo};

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

/// Decodes once and renders each options object of `options_json_array` (a JSON array).
/// Returns one `{ ok: true, value }` or `{ ok: false, code, message }` per entry.
#[wasm_bindgen(js_name = optimizeMany)]
pub fn optimize_many(input: &[u8], options_json_array: &str) -> Result<js_sys::Array, JsValue> {
    let list: Vec<serde_json::Value> = serde_json::from_str(options_json_array)
        .map_err(|e| js_error(Error::option("outputs", format!("must be an array of option objects: {e}"))))?;
    let options = list
        .iter()
        .map(|v| OptimizeOptions::from_json(&v.to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(js_error)?;
    let results = pipeline::optimize_many(input, &options, &performance_now).map_err(js_error)?;
    let out = js_sys::Array::new();
    for result in results {
        let entry = js_sys::Object::new();
        match result {
            Ok(o) => {
                let value = Ts::from_rust(&o).map_err(|e| JsValue::from_str(&e.to_string()))?;
                let _ = js_sys::Reflect::set(&entry, &"ok".into(), &true.into());
                let _ = js_sys::Reflect::set(&entry, &"value".into(), &value.into());
            }
            Err(e) => {
                let _ = js_sys::Reflect::set(&entry, &"ok".into(), &false.into());
                let _ = js_sys::Reflect::set(&entry, &"code".into(), &e.code().into());
                let _ = js_sys::Reflect::set(&entry, &"message".into(), &e.to_string().into());
            }
        }
        out.push(&entry);
    }
    Ok(out)
}

/// SSIMULACRA2 of `distorted` against `reference` (resized to match first).
#[wasm_bindgen]
pub fn compare(reference: &[u8], distorted: &[u8]) -> Result<f64, JsValue> {
    pipeline::compare(reference, distorted, &Limits::default()).map_err(js_error)
}

/// A ThumbHash placeholder, its preview PNG and the average colour.
#[wasm_bindgen]
pub fn placeholder(input: &[u8]) -> Result<Ts<Placeholder>, JsValue> {
    let source = pipeline::Source::decode(input, &Limits::default(), &performance_now).map_err(js_error)?;
    let p = crate::placeholder::placeholder(&source).map_err(js_error)?;
    Ts::from_rust(&p).map_err(|e| JsValue::from_str(&e.to_string()))
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

/// MP4/MOV fast start: `moov` moved in front of `mdat`, sample data untouched. Returns
/// `{ bytes, changed, notes }`.
#[wasm_bindgen]
pub fn remux(input: &[u8], options_json: &str) -> Result<Ts<crate::video::Remuxed>, JsValue> {
    let options = crate::video::RemuxOptions::from_json(options_json).map_err(js_error)?;
    let out = crate::video::remux(input, &options).map_err(js_error)?;
    Ts::from_rust(&out).map_err(|e| JsValue::from_str(&e.to_string()))
}
