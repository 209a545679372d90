//! JSON out: every body is written the way the seeds print theirs (`{"statusCode": 400, ...}`,
//! a space after every `:` and `,`, keys in the documented order), so that a client that compares
//! bytes with the documentation sees the same bytes.

use serde::Serialize;
use std::io;

/// `serde_json`'s compact output with the seeds' separators: `", "` and `": "`.
struct SeedFormatter;

impl serde_json::ser::Formatter for SeedFormatter {
    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }
}

/// Serialises a response body. Our types serialise infallibly (no maps with non-string keys),
/// so a failure here is a bug and is reported as such rather than hidden.
pub fn to_body<T: Serialize + ?Sized>(value: &T) -> String {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, SeedFormatter);
    value
        .serialize(&mut ser)
        .expect("response bodies are plain JSON data and always serialise");
    String::from_utf8(out).expect("serde_json writes UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_seed_separators() {
        let v = serde_json::json!({"a": [1, 2], "b": {"c": true}, "d": "x, y: z"});
        assert_eq!(
            to_body(&v),
            r#"{"a": [1, 2], "b": {"c": true}, "d": "x, y: z"}"#
        );
    }

    #[test]
    fn empty_containers() {
        let v = serde_json::json!({"a": [], "b": {}});
        assert_eq!(to_body(&v), r#"{"a": [], "b": {}}"#);
    }
}
