//! The Terraform functions the evaluated expressions call, as hcl-rs functions.

use hcl::eval::FuncArgs;
use hcl::{Map, Value};

/// Terraform's `merge`: later objects win.
pub(crate) fn merge(args: FuncArgs) -> Result<Value, String> {
    let mut merged = Map::new();
    for arg in args.iter() {
        match arg {
            Value::Object(object) => merged.extend(object.clone()),
            Value::Null => {}
            other => return Err(format!("merge takes objects, got {other}")),
        }
    }
    Ok(Value::Object(merged))
}

/// Terraform's `urlencode`: everything but unreserved characters percent-encoded.
pub(crate) fn urlencode(args: FuncArgs) -> Result<Value, String> {
    let text = args[0].as_str().unwrap_or_default();
    let encoded = text
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect();
    Ok(Value::String(encoded))
}
