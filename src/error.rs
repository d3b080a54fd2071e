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
