//! The deployment's MAC key (pay-date cursors; the Idempotency-Key MAC).
//!
//! STUB until the secret plumbing lands (Secrets Manager, fetched lazily once per container):
//! the key is a fixed constant. The API below is the one the real module keeps; replace this
//! whole file with it.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::{Arc, OnceLock};

type HmacSha256 = Hmac<Sha256>;

pub struct MacKey {
    bytes: [u8; 32],
}

impl MacKey {
    fn hmac(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.bytes).expect("HMAC takes any key length");
        for part in parts {
            // Each part length-prefixed, so that ("ab", "c") and ("a", "bc") differ.
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }

    /// HMAC-SHA256 over the parts, each length-prefixed.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.hmac(parts).finalize().into_bytes().into()
    }

    /// Whether `tag` is the MAC of the parts, compared in constant time.
    pub fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        self.hmac(parts).verify_slice(tag).is_ok()
    }
}

impl crate::store::Store {
    /// The deployment's MAC key.
    pub async fn mac_key(&self) -> Result<Arc<MacKey>, crate::ApiError> {
        static KEY: OnceLock<Arc<MacKey>> = OnceLock::new();
        Ok(KEY
            .get_or_init(|| {
                Arc::new(MacKey {
                    bytes: *b"tasksuite-local-stub-mac-key-32b",
                })
            })
            .clone())
    }
}
