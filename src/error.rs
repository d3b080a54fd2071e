//! One error type for the whole core. Every variant has a stable `code()` that the JS
//! layer exposes as `MediaslimError.code`; messages name the input and the limit.

use std::fmt;

/// What a `TOO_LARGE` error was measuring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    Pixels,
    Bytes,
    Width,
    Height,
    Frames,
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Budget::Pixels => "pixels",
            Budget::Bytes => "bytes",
            Budget::Width => "width",
            Budget::Height => "height",
            Budget::Frames => "frames",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unsupported format: {what}")]
    UnsupportedFormat { what: String },

    #[error("corrupt {format} input: {detail}")]
    CorruptInput { format: &'static str, detail: String },

    #[error("input too large: {detail}")]
    TooLarge { budget: Budget, detail: String },

    #[error("invalid option `{name}`: {detail}")]
    InvalidOption { name: String, detail: String },

    #[error("{format} encoding failed: {detail}")]
    EncodeFailed { format: &'static str, detail: String },

    /// A part of the core this build leaves out (the small wasm module); js/ reruns the
    /// job in the module that has it, so this never reaches a JS caller.
    #[error("{what} is not in this build (cargo feature `{feature}`)")]
    NotBuilt { what: &'static str, feature: &'static str },
}

// The probe-only build (no `pixels`) parses no options and encodes nothing.
#[cfg_attr(not(feature = "pixels"), allow(dead_code))]
impl Error {
    /// The stable machine-readable code (see DESIGN.md, "Errors").
    pub fn code(&self) -> &'static str {
        match self {
            Error::UnsupportedFormat { .. } => "UNSUPPORTED_FORMAT",
            Error::CorruptInput { .. } => "CORRUPT_INPUT",
            Error::TooLarge { .. } => "TOO_LARGE",
            Error::InvalidOption { .. } => "INVALID_OPTION",
            Error::EncodeFailed { .. } => "ENCODE_FAILED",
            Error::NotBuilt { .. } => "NOT_BUILT",
        }
    }

    pub(crate) fn corrupt(format: &'static str, detail: impl fmt::Display) -> Self {
        Error::CorruptInput { format, detail: detail.to_string() }
    }

    pub(crate) fn encode(format: &'static str, detail: impl fmt::Display) -> Self {
        Error::EncodeFailed { format, detail: detail.to_string() }
    }

    /// Options parsed from JSON, refused with `INVALID_OPTION` naming the offending field
    /// (serde_json's " at line 1 column N" suffix dropped: noise for an options object).
    pub(crate) fn options_from_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T> {
        parse_options(json).map_err(|(path, detail)| Error::option(path, detail))
    }
    #[allow(dead_code)] // used only in builds without some features
    pub(crate) fn not_built(what: &'static str, feature: &'static str) -> Self {
        Error::NotBuilt { what, feature }
    }

    pub(crate) fn option(name: impl Into<String>, detail: impl Into<String>) -> Self {
        Error::InvalidOption { name: name.into(), detail: detail.into() }
    }

    /// `actual` of `budget` is over `limit`, set by the option named `option`.
    pub(crate) fn too_large(budget: Budget, actual: u64, limit: u64, option: &str) -> Self {
        Error::TooLarge {
            budget,
            detail: format!("{actual} {budget} exceeds the limit of {limit} (option `{option}`)"),
        }
    }

    /// Maps an `image` crate error for input of `format`. Limit errors keep their meaning.
    pub(crate) fn from_image(format: &'static str, err: image::ImageError) -> Self {
        use image::ImageError as E;
        match err {
            E::Unsupported(u) => Error::UnsupportedFormat { what: format!("{format}: {u}") },
            E::Limits(l) => Error::TooLarge {
                budget: Budget::Bytes,
                detail: format!("the {format} decoder would exceed its memory budget ({l})"),
            },
            other => Error::corrupt(format, other),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Deserializes an options object from JSON; on error returns the path of the offending
/// field (`width`, `accept[1]`; `.` for the object itself) and serde's message.
///
/// Why not serde_path_to_error: its tracking wrappers around serde_json's parser cost the
/// core module 5.8 KiB gzip, 22 KB raw (measured). Our options objects are flat and every
/// field has a default, so the field at fault is found after the fact: the one that fails
/// alone, with the same message.
#[cfg(not(target_arch = "wasm32"))]
pub(crate) fn parse_options<T: serde::de::DeserializeOwned>(json: &str) -> std::result::Result<T, (String, String)> {
    use serde_json::Value;
    let message = |e: serde_json::Error| e.to_string().split(" at line ").next().unwrap_or_default().to_string();
    let value: Value = serde_json::from_str(json).map_err(|e| (".".to_string(), message(e)))?;
    let err = match T::deserialize(&value) {
        Ok(options) => return Ok(options),
        Err(e) => message(e),
    };
    let fails_alone = |key: &str, v: &Value| {
        let alone = Value::Object(serde_json::Map::from_iter([(key.to_string(), v.clone())]));
        T::deserialize(&alone).err().map(message).is_some_and(|m| m == err)
    };
    let Value::Object(fields) = &value else { return Err((".".to_string(), err)) };
    let path = fields.iter().find(|&(k, v)| fails_alone(k, v)).map(|(k, v)| match v {
        Value::Array(items) => items
            .iter()
            .position(|item| fails_alone(k, &Value::Array(vec![item.clone()])))
            .map_or_else(|| k.clone(), |i| format!("{k}[{i}]")),
        _ => k.clone(),
    });
    Err((path.unwrap_or_else(|| ".".to_string()), err))
}

/// In wasm the host parses the JSON (`JSON.parse`) and serde-wasm-bindgen reads the value:
/// serde_json's parser and its deserializers cost the core module 31.6 KB gzip, 59 KB raw (measured); the error
/// path is found the same way as natively.
#[cfg(target_arch = "wasm32")]
pub(crate) fn parse_options<T: serde::de::DeserializeOwned>(json: &str) -> std::result::Result<T, (String, String)> {
    let value = js_sys::JSON::parse(json).map_err(|e| (".".to_string(), js_message(&e)))?;
    options_from_value(&value)
}

/// [`parse_options`] for an already parsed JS value.
#[cfg(target_arch = "wasm32")]
pub(crate) fn options_from_value<T: serde::de::DeserializeOwned>(
    value: &wasm_bindgen::JsValue,
) -> std::result::Result<T, (String, String)> {
    use js_sys::{Array, Object, Reflect};
    use wasm_bindgen::JsCast;
    // serde-wasm-bindgen calls JSON null a "unit value": say null, as serde_json does.
    let read = |v: &wasm_bindgen::JsValue| {
        serde_wasm_bindgen::from_value::<T>(v.clone()).map_err(|e| js_message(&e.into()).replace("unit value", "null"))
    };
    let check = |v: &wasm_bindgen::JsValue| read(v).and_then(|options| unknown_field::<T>(v).map_or(Ok(options), Err));
    let err = match check(value) {
        Ok(options) => return Ok(options),
        Err(e) => e,
    };
    let fails_alone = |key: &wasm_bindgen::JsValue, v: &wasm_bindgen::JsValue| {
        let alone = Object::new();
        Reflect::set(&alone, key, v).is_ok() && check(&alone).err().is_some_and(|m| m == err)
    };
    let Some(fields) = value.dyn_ref::<Object>().filter(|_| !Array::is_array(value)) else {
        return Err((".".to_string(), err));
    };
    for entry in Object::entries(fields).iter() {
        let entry: Array = entry.unchecked_into();
        let (key, v) = (entry.get(0), entry.get(1));
        if !fails_alone(&key, &v) {
            continue;
        }
        let name = key.as_string().unwrap_or_default();
        let item =
            v.dyn_ref::<Array>().and_then(|items| items.iter().position(|item| fails_alone(&key, &Array::of1(&item))));
        return Err((item.map_or(name.clone(), |i| format!("{name}[{i}]")), err));
    }
    Err((".".to_string(), err))
}

/// serde-wasm-bindgen reads a struct's declared fields and ignores the others, so a typo
/// (`widht`) would pass silently. Each key `T` does not declare is put to `T` alone, as
/// serde_json would: an error (serde's own message) only where `T` denies unknown fields.
#[cfg(target_arch = "wasm32")]
fn unknown_field<T: serde::de::DeserializeOwned>(value: &wasm_bindgen::JsValue) -> Option<String> {
    use serde::de::value::{Error, MapDeserializer};
    use wasm_bindgen::JsCast;
    let fields = struct_fields::<T>()?;
    let keys = js_sys::Object::keys(value.dyn_ref::<js_sys::Object>()?);
    keys.iter().filter_map(|k| k.as_string()).filter(|k| !fields.contains(&k.as_str())).find_map(|key| {
        let alone = MapDeserializer::<_, Error>::new(std::iter::once((key.as_str(), ())));
        T::deserialize(alone).err().map(|e| e.to_string())
    })
}

/// The field names a derived `Deserialize` struct declares (`None` for anything else), read by
/// a deserializer that only records what `deserialize_struct` is asked for.
#[cfg(target_arch = "wasm32")]
fn struct_fields<T: serde::de::DeserializeOwned>() -> Option<&'static [&'static str]> {
    use serde::de::{Error as _, Visitor, value::Error};
    struct Fields(std::cell::Cell<Option<&'static [&'static str]>>);
    impl<'de> serde::Deserializer<'de> for &Fields {
        type Error = Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> std::result::Result<V::Value, Error> {
            Err(Error::custom("not a struct"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> std::result::Result<V::Value, Error> {
            self.0.set(Some(fields));
            Err(Error::custom("fields recorded"))
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
            unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
        }
    }
    let probe = Fields(std::cell::Cell::new(None));
    let _ = T::deserialize(&probe);
    probe.0.get()
}

/// A thrown JS value's message: an Error's `message`, else the value as a string.
#[cfg(target_arch = "wasm32")]
fn js_message(e: &wasm_bindgen::JsValue) -> String {
    use wasm_bindgen::JsCast;
    match e.dyn_ref::<js_sys::Error>() {
        Some(error) => String::from(error.message()),
        None => e.as_string().unwrap_or_else(|| "not valid JSON".to_string()),
    }
}
