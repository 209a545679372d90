//! Envelope encryption of SSNs and EINs before they reach DynamoDB.
//!
//! A container asks KMS for one AES-256 data key (`GenerateDataKey` under the PII key,
//! `PII_KEY_ID`) on the first write that needs it, and reuses it for its life. Each value is
//! sealed with AES-256-GCM under a fresh 96-bit random nonce; the associated data binds the
//! record's `giggleId` and the field's name, so a ciphertext moved to another record or field
//! no longer opens. Each stored value carries the data key in its KMS-wrapped form: only a
//! principal allowed `kms:Decrypt` on the PII key (an operator, never a function) can open it.

use crate::customer::GiggleId;
use crate::error::ApiError;
use crate::store::{store_error, Store};
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce};
use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;
use std::sync::Arc;

/// The sealed fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Ssn,
    Ein,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::Ssn => "ssn",
            Field::Ein => "ein",
        }
    }
}

/// The format of a sealed value; a later scheme gets a new number.
const FORMAT: &str = "1";

/// What binds a ciphertext to its record and field.
fn associated_data(id: GiggleId, field: Field) -> Vec<u8> {
    format!("tasksuite/customer/{id}/{}", field.name()).into_bytes()
}

/// A sealed SSN or EIN as stored: the wrapped data key, the nonce and the ciphertext (with its
/// GCM tag). Nothing in it reveals the value without `kms:Decrypt` on the PII key.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub wrapped_key: Vec<u8>,
    pub nonce: [u8; 12],
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealed(***)")
    }
}

impl Sealed {
    /// As a DynamoDB map attribute: `{"v": "1", "k": B, "n": B, "c": B}`.
    pub fn to_attribute(&self) -> AttributeValue {
        AttributeValue::M(HashMap::from([
            ("v".to_string(), AttributeValue::S(FORMAT.into())),
            (
                "k".to_string(),
                AttributeValue::B(Blob::new(self.wrapped_key.clone())),
            ),
            (
                "n".to_string(),
                AttributeValue::B(Blob::new(self.nonce.to_vec())),
            ),
            (
                "c".to_string(),
                AttributeValue::B(Blob::new(self.ciphertext.clone())),
            ),
        ]))
    }

    /// From a map written by [`Sealed::to_attribute`]; `None` for anything else.
    pub fn from_attribute(av: &AttributeValue) -> Option<Sealed> {
        let m = av.as_m().ok()?;
        if m.get("v")?.as_s().ok()? != FORMAT {
            return None;
        }
        let blob = |k: &str| m.get(k).and_then(|v| v.as_b().ok()).map(|b| b.as_ref());
        Some(Sealed {
            wrapped_key: blob("k")?.to_vec(),
            nonce: blob("n")?.try_into().ok()?,
            ciphertext: blob("c")?.to_vec(),
        })
    }
}

/// A customer's SSN or EIN: nine digits in clear only between the request and the encryption;
/// as stored, sealed, with its last four digits beside it (GET shows those, and never decrypts).
/// Its `Debug` is `***`, so it cannot reach a log through a formatted record.
#[derive(Clone, PartialEq, Eq)]
pub enum Sensitive {
    /// Nine digits, as validated from a request (or read from a record written before field
    /// encryption; the next write of that record seals it).
    Clear(String),
    /// As stored.
    Sealed { last4: String, sealed: Sealed },
}

impl std::fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl Sensitive {
    /// A validated value: nine digits.
    pub fn clear(digits: String) -> Sensitive {
        debug_assert!(digits.len() == 9 && digits.bytes().all(|c| c.is_ascii_digit()));
        Sensitive::Clear(digits)
    }

    pub fn last4(&self) -> &str {
        match self {
            Sensitive::Clear(d) => &d[d.len().saturating_sub(4)..],
            Sensitive::Sealed { last4, .. } => last4,
        }
    }

    /// The stored form: sealed with the container's data key if it is still clear.
    pub async fn sealed(
        self,
        store: &Store,
        id: GiggleId,
        field: Field,
    ) -> Result<Sensitive, ApiError> {
        match self {
            Sensitive::Clear(digits) => {
                let sealed = store.seal(id, field, &digits).await?;
                Ok(Sensitive::Sealed {
                    last4: digits[digits.len() - 4..].to_string(),
                    sealed,
                })
            }
            sealed => Ok(sealed),
        }
    }
}

/// A container's data key: the cipher, and the key as KMS wrapped it (stored with every value).
pub struct DataKey {
    cipher: Aes256Gcm,
    wrapped: Vec<u8>,
}

impl DataKey {
    /// From the plaintext key and its wrapped form (as `GenerateDataKey` or `Decrypt` give them).
    pub fn new(plaintext: &[u8], wrapped: Vec<u8>) -> Result<DataKey, ApiError> {
        if plaintext.len() != 32 {
            return Err(ApiError::Internal(format!(
                "a data key is 32 bytes, not {}",
                plaintext.len()
            )));
        }
        Ok(DataKey {
            cipher: Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(plaintext)),
            wrapped,
        })
    }

    /// Seals `clear` for this record and field under a fresh random nonce.
    pub fn seal(&self, id: GiggleId, field: Field, clear: &str) -> Result<Sealed, ApiError> {
        let mut nonce = [0u8; 12];
        getrandom::getrandom(&mut nonce)
            .map_err(|e| ApiError::Internal(format!("no random nonce: {e}")))?;
        let aad = associated_data(id, field);
        let ciphertext = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: clear.as_bytes(),
                    aad: &aad,
                },
            )
            .map_err(|_| ApiError::Internal("encryption failed".into()))?;
        Ok(Sealed {
            wrapped_key: self.wrapped.clone(),
            nonce,
            ciphertext,
        })
    }

    /// Opens a value sealed for this record and field. Fails if it was sealed for another
    /// record or field, or altered.
    pub fn open(&self, id: GiggleId, field: Field, sealed: &Sealed) -> Result<String, ApiError> {
        let aad = associated_data(id, field);
        let clear = self
            .cipher
            .decrypt(
                Nonce::from_slice(&sealed.nonce),
                Payload {
                    msg: &sealed.ciphertext,
                    aad: &aad,
                },
            )
            .map_err(|_| {
                ApiError::Internal(format!(
                    "the stored {} of {id} does not open: altered, or moved from another record",
                    field.name()
                ))
            })?;
        String::from_utf8(clear).map_err(|_| ApiError::Internal("not UTF-8".into()))
    }
}

impl Store {
    /// The container's data key: generated under the PII key on first use, then reused.
    pub async fn data_key(&self) -> Result<Arc<DataKey>, ApiError> {
        let key = self
            .keys
            .data_key
            .get_or_try_init(|| async {
                let key_id = self
                    .keys
                    .pii_key_id
                    .as_deref()
                    .ok_or_else(|| ApiError::Internal("PII_KEY_ID is not set".into()))?;
                let out = self
                    .kms
                    .generate_data_key()
                    .key_id(key_id)
                    .key_spec(aws_sdk_kms::types::DataKeySpec::Aes256)
                    .send()
                    .await
                    .map_err(store_error)?;
                let plaintext = out.plaintext().ok_or_else(|| {
                    ApiError::Internal("GenerateDataKey returned no plaintext".into())
                })?;
                let wrapped = out.ciphertext_blob().ok_or_else(|| {
                    ApiError::Internal("GenerateDataKey returned no wrapped key".into())
                })?;
                DataKey::new(plaintext.as_ref(), wrapped.as_ref().to_vec()).map(Arc::new)
            })
            .await?;
        Ok(key.clone())
    }

    /// Seals a value with the container's data key.
    pub async fn seal(&self, id: GiggleId, field: Field, clear: &str) -> Result<Sealed, ApiError> {
        self.data_key().await?.seal(id, field, clear)
    }

    /// Opens a sealed value: unwraps its data key with `kms:Decrypt` (the operator's
    /// credentials; no function is granted it) and decrypts. For the admin tool only.
    pub async fn unseal(
        &self,
        id: GiggleId,
        field: Field,
        sealed: &Sealed,
    ) -> Result<String, ApiError> {
        let out = self
            .kms
            .decrypt()
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(
                sealed.wrapped_key.clone(),
            ))
            .send()
            .await
            .map_err(store_error)?;
        let plaintext = out
            .plaintext()
            .ok_or_else(|| ApiError::Internal("Decrypt returned no plaintext".into()))?;
        DataKey::new(plaintext.as_ref(), sealed.wrapped_key.clone())?.open(id, field, sealed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::new(&[7u8; 32], b"wrapped".to_vec()).unwrap()
    }

    fn id(n: u64) -> GiggleId {
        GiggleId::new(n).unwrap()
    }

    #[test]
    fn sealed_values_open_only_for_their_record_and_field() {
        let k = key();
        let s = k.seal(id(1), Field::Ssn, "123456789").unwrap();
        assert!(!s.ciphertext.windows(9).any(|w| w == b"123456789"));
        assert_eq!(k.open(id(1), Field::Ssn, &s).unwrap(), "123456789");
        assert!(
            k.open(id(2), Field::Ssn, &s).is_err(),
            "moved to another record"
        );
        assert!(
            k.open(id(1), Field::Ein, &s).is_err(),
            "moved to another field"
        );
        let mut altered = s.clone();
        altered.ciphertext[0] ^= 1;
        assert!(k.open(id(1), Field::Ssn, &altered).is_err());
        let other = DataKey::new(&[8u8; 32], vec![]).unwrap();
        assert!(other.open(id(1), Field::Ssn, &s).is_err());
    }

    #[test]
    fn nonces_are_fresh_and_the_attribute_round_trips() {
        let k = key();
        let a = k.seal(id(1), Field::Ssn, "123456789").unwrap();
        let b = k.seal(id(1), Field::Ssn, "123456789").unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(Sealed::from_attribute(&a.to_attribute()), Some(a.clone()));
        assert_eq!(
            Sealed::from_attribute(&AttributeValue::S("123456789".into())),
            None
        );
        assert_eq!(format!("{a:?}"), "Sealed(***)");
    }

    #[test]
    fn a_data_key_is_32_bytes() {
        assert!(DataKey::new(&[0u8; 16], vec![]).is_err());
    }
}
