//! The part of the wasm-bindgen adapter every module has: the panic hook, errors as plain
//! `{ code, message }` objects (js/ turns them into MediaslimError) and `probe`. The probe-only
//! module (`mediaslim_probe`, built without `pixels`) is this file and nothing else.

use tsify::Ts;
use wasm_bindgen::prelude::*;

use crate::ProbeInfo;
use crate::error::Error;
use crate::limits::Limits;

#[wasm_bindgen(start)]
fn start() {
    console_error_panic_hook::set_once();
}

pub(crate) fn js_error(e: Error) -> JsValue {
    let obj = js_sys::Object::new();
    set_error(&obj, &e);
    obj.into()
}

/// `code` and `message` on `obj`, and for NOT_BUILT the cargo `feature` that has what is
/// missing (js/core.ts picks the module to rerun the job in by it).
pub(crate) fn set_error(obj: &js_sys::Object, e: &Error) {
    let _ = js_sys::Reflect::set(obj, &"code".into(), &e.code().into());
    let _ = js_sys::Reflect::set(obj, &"message".into(), &e.to_string().into());
    if let Error::NotBuilt { feature, .. } = e {
        let _ = js_sys::Reflect::set(obj, &"feature".into(), &(*feature).into());
    }
}

/// Reads format, size, orientation, alpha and animation from headers only.
#[wasm_bindgen]
pub fn probe(input: &[u8]) -> Result<Ts<ProbeInfo>, JsValue> {
    let info = crate::decode::probe(input, &Limits::default()).map_err(js_error)?;
    Ts::from_rust(&info).map_err(|e| JsValue::from_str(&e.to_string()))
}
