//! API keys: `Authorization: Bearer <key>`. Keys are stored only as SHA-256 hashes (a key is 32
//! random bytes, so a fast hash is enough), looked up by hash, compared in constant time, and
//! never logged or echoed. Every failure is the same 401.

use crate::error::{ApiError, Redacted};
use crate::store::{now_rfc3339, store_error, Store};
use aws_sdk_dynamodb::types::AttributeValue;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// Keys longer than this are refused without a lookup.
const MAX_KEY_LEN: usize = 256;

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A new key: `tsk_` and 32 random bytes in hex.
pub fn generate_key() -> Redacted<String> {
    let mut bytes = [0u8; 32];
    getrandom::getrandom(&mut bytes).expect("the operating system's random source is available");
    Redacted(format!("tsk_{}", hex::encode(bytes)))
}

/// The short id shown by `list-keys` and used by `revoke-key`: the first 12 hex digits of the
/// hash, which identify a key without revealing it.
pub fn key_id(hash: &str) -> &str {
    &hash[..12.min(hash.len())]
}

/// The key of an `Authorization` header value, if it is a well-formed Bearer credential.
fn bearer(header: Option<&str>) -> Option<&str> {
    let value = header?;
    let (scheme, key) = value.split_once(' ')?;
    let key = key.trim();
    (scheme.eq_ignore_ascii_case("bearer")
        && !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.bytes().all(|c| c.is_ascii_graphic()))
    .then_some(key)
}

/// The caller a valid key names: its id (for logs and the audit trail) and its hash (which
/// scopes its Idempotency-Keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub key_id: String,
    pub key_hash: String,
}

/// The longest a container trusts a key it looked up: a revoked key stops working within this.
pub const MAX_KEY_CACHE: Duration = Duration::from_secs(60);

/// Keys accepted in the last `ttl`, by hash. Only acceptances are kept: a refusal is looked up
/// again every time, so a key registered a moment ago works at once, and nothing unknown is
/// ever remembered as good.
pub struct KeyCache {
    ttl: Duration,
    accepted: Mutex<HashMap<String, Instant>>,
}

impl Default for KeyCache {
    fn default() -> Self {
        KeyCache::new(MAX_KEY_CACHE)
    }
}

impl KeyCache {
    /// At most [`MAX_KEY_CACHE`]; zero keeps nothing.
    pub fn new(ttl: Duration) -> KeyCache {
        KeyCache {
            ttl: ttl.min(MAX_KEY_CACHE),
            accepted: Mutex::new(HashMap::new()),
        }
    }

    fn holds(&self, hash: &str) -> bool {
        let map = self.accepted.lock().unwrap_or_else(|e| e.into_inner());
        map.get(hash).is_some_and(|at| at.elapsed() < self.ttl)
    }

    fn accept(&self, hash: &str) {
        if self.ttl.is_zero() {
            return;
        }
        let mut map = self.accepted.lock().unwrap_or_else(|e| e.into_inner());
        // Only valid keys get here, so the map stays as small as the set of keys; still, drop
        // the expired ones now and then.
        if map.len() >= 1024 {
            let ttl = self.ttl;
            map.retain(|_, at| at.elapsed() < ttl);
        }
        map.insert(hash.to_string(), Instant::now());
    }
}

impl Store {
    /// Accepts the request only if it carries a stored, unrevoked key, and names its caller.
    /// A key accepted less than a minute ago (see [`KeyCache`]) is not looked up again. A store
    /// failure is a 503, not a 401: an outage must not look like a revoked key.
    pub async fn authenticate(&self, authorization: Option<&str>) -> Result<Caller, ApiError> {
        let key = bearer(authorization).ok_or(ApiError::Unauthorized)?;
        let hash = hash_key(key);
        let caller = Caller {
            key_id: key_id(&hash).to_string(),
            key_hash: hash.clone(),
        };
        if self.keys.api_keys.holds(&hash) {
            return Ok(caller);
        }
        let out = self
            .client
            .get_item()
            .table_name(&self.tables.api_keys)
            .key("keyHash", AttributeValue::S(hash.clone()))
            .send()
            .await
            .map_err(store_error)?;
        let Some(item) = out.item else {
            return Err(ApiError::Unauthorized);
        };
        let stored = match item.get("keyHash") {
            Some(AttributeValue::S(s)) => s.as_bytes(),
            _ => return Err(ApiError::Unauthorized),
        };
        let matches: bool = stored.ct_eq(hash.as_bytes()).into();
        if !matches || item.contains_key("revokedAt") {
            return Err(ApiError::Unauthorized);
        }
        self.keys.api_keys.accept(&hash);
        Ok(caller)
    }

    /// Stores a key's hash with a name and a creation time. Refuses to overwrite.
    pub async fn register_key(&self, key: &str, name: &str) -> Result<String, ApiError> {
        let hash = hash_key(key);
        self.client
            .put_item()
            .table_name(&self.tables.api_keys)
            .item("keyHash", AttributeValue::S(hash.clone()))
            .item("keyId", AttributeValue::S(key_id(&hash).to_string()))
            .item("name", AttributeValue::S(name.to_string()))
            .item("createdAt", AttributeValue::S(now_rfc3339()))
            .condition_expression("attribute_not_exists(keyHash)")
            .send()
            .await
            .map_err(|e| {
                if e.as_service_error()
                    .is_some_and(|s| s.is_conditional_check_failed_exception())
                {
                    ApiError::Conflict("that key is already registered".into())
                } else {
                    store_error(e)
                }
            })?;
        Ok(key_id(&hash).to_string())
    }

    /// Every key's id, name, creation and revocation time. For the admin tool only (a Scan).
    pub async fn list_keys(&self) -> Result<Vec<ApiKeyInfo>, ApiError> {
        let mut keys = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .scan()
                .table_name(&self.tables.api_keys)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(store_error)?;
            for item in out.items.unwrap_or_default() {
                let s = |k: &str| match item.get(k) {
                    Some(AttributeValue::S(s)) => Some(s.clone()),
                    _ => None,
                };
                let hash = s("keyHash").unwrap_or_default();
                keys.push(ApiKeyInfo {
                    key_id: key_id(&hash).to_string(),
                    key_hash: hash,
                    name: s("name").unwrap_or_default(),
                    created_at: s("createdAt").unwrap_or_default(),
                    revoked_at: s("revokedAt"),
                });
            }
            start = out.last_evaluated_key;
            if start.is_none() {
                break;
            }
        }
        keys.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(keys)
    }

    /// Revokes the key whose id (or hash) starts with `id_prefix`; it must name exactly one key.
    pub async fn revoke_key(&self, id_prefix: &str) -> Result<ApiKeyInfo, ApiError> {
        let matching: Vec<ApiKeyInfo> = self
            .list_keys()
            .await?
            .into_iter()
            .filter(|k| !id_prefix.is_empty() && k.key_hash.starts_with(id_prefix))
            .collect();
        let [key] = <[ApiKeyInfo; 1]>::try_from(matching).map_err(|m| {
            ApiError::bad_request(format!(
                "'{id_prefix}' matches {} keys; give a key id from list-keys",
                m.len()
            ))
        })?;
        self.client
            .update_item()
            .table_name(&self.tables.api_keys)
            .key("keyHash", AttributeValue::S(key.key_hash.clone()))
            .update_expression("SET revokedAt = if_not_exists(revokedAt, :now)")
            .expression_attribute_values(":now", AttributeValue::S(now_rfc3339()))
            .send()
            .await
            .map_err(store_error)?;
        Ok(key)
    }
}

#[derive(Debug, Clone)]
pub struct ApiKeyInfo {
    pub key_id: String,
    pub key_hash: String,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer(Some("Bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("bearer abc")), Some("abc"));
        for bad in [
            None,
            Some(""),
            Some("Bearer"),
            Some("Bearer "),
            Some("Basic abc"),
            Some("abc"),
            Some("Bearer a b"),
            Some("Token abc"),
        ] {
            assert_eq!(bearer(bad), None, "{bad:?}");
        }
        let long = format!("Bearer {}", "a".repeat(MAX_KEY_LEN + 1));
        assert_eq!(bearer(Some(&long)), None);
    }

    #[test]
    fn the_key_cache_keeps_acceptances_for_its_ttl_only() {
        let cache = KeyCache::new(Duration::from_millis(50));
        assert!(!cache.holds("h"));
        cache.accept("h");
        assert!(cache.holds("h") && !cache.holds("other"));
        std::thread::sleep(Duration::from_millis(60));
        assert!(!cache.holds("h"), "expired");
        let off = KeyCache::new(Duration::ZERO);
        off.accept("h");
        assert!(!off.holds("h"));
        assert_eq!(KeyCache::new(Duration::from_secs(3600)).ttl, MAX_KEY_CACHE);
    }

    #[test]
    fn generated_keys_are_random_and_hashed() {
        let (a, b) = (generate_key(), generate_key());
        assert_ne!(a.0, b.0);
        assert!(a.0.starts_with("tsk_") && a.0.len() == 68);
        assert_eq!(
            hash_key("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(format!("{a:?}"), "***");
    }
}
