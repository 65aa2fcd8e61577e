//! Response and tool-call ids, and the `created` timestamp.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::toolcall::Format;

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn random_alnum(len: usize) -> String {
    (0..len).map(|_| char::from(ALPHANUMERIC[fastrand::usize(..ALPHANUMERIC.len())])).collect()
}

/// `chatcmpl-…`, as OpenAI names a chat completion.
pub fn completion_id() -> String {
    format!("chatcmpl-{}", random_alnum(24))
}

/// `call_…`: 24 random alphanumerics (62^24 ≈ 2^143, so ids in one response never collide).
pub fn call_id() -> String {
    format!("call_{}", random_alnum(24))
}

/// A tool-call id in the shape the model family's chat template accepts: exactly
/// [`Format::call_id_len`] alphanumerics where the family constrains it (Mistral: 9,
/// 62^9 ≈ 2^53, so ids in one response do not collide in practice), else [`call_id`].
pub fn call_id_for(format: Format) -> String {
    format.call_id_len().map_or_else(call_id, random_alnum)
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_the_openai_shape() {
        let id = call_id();
        assert!(
            id.starts_with("call_") && id.len() == 29 && id[5..].bytes().all(|b| b.is_ascii_alphanumeric())
        );
        assert!(completion_id().starts_with("chatcmpl-"));
        assert_ne!(call_id(), call_id());
    }

    #[test]
    fn call_ids_follow_the_format() {
        let id = call_id_for(Format::Mistral);
        assert!(id.len() == 9 && id.bytes().all(|b| b.is_ascii_alphanumeric()), "{id}");
        assert_ne!(call_id_for(Format::Mistral), call_id_for(Format::Mistral));
        for &format in Format::ALL {
            if format != Format::Mistral {
                assert!(call_id_for(format).starts_with("call_"), "{format}");
            }
        }
    }
}
