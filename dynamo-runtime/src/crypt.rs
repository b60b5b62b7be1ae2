//! Field-level encryption (`encrypted = true` in a schema, OneTable's
//! `crypt`): AES-256-GCM with keys the app provides.
//!
//! A value is stored as a binary attribute (`B`): a format byte (`1`), the
//! key id's length (one byte) and the key id, a random 96-bit nonce, then
//! the ciphertext with its 16-byte tag. The format byte and key id are the
//! associated data, so they cannot be changed without the value failing
//! to decrypt. The key id names the key a value was sealed with, so a
//! keyring can hold older keys for reading while new writes use the
//! current one (rotation: each item is sealed again with the current key
//! at its next write).
//!
//! The ciphertext is not bound to its item or attribute: a data migration
//! that renames an attribute or moves an item to a new key keeps the value
//! readable. Whoever can write the table could move a value from one item
//! to another; encryption here keeps values secret from readers of the
//! table (backups, exports, other clients), it does not authenticate
//! writers.

use std::{
    borrow::Cow,
    fmt,
    sync::{Arc, RwLock},
};

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, Generate, KeyInit, Payload},
};

/// The format byte of stored values.
const FORMAT: u8 = 1;
/// The nonce's length in bytes.
const NONCE: usize = 12;
/// The authentication tag's length in bytes.
const TAG: usize = 16;

/// Why a value could not be encrypted or decrypted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptError {
    /// No [`Keyring`] was installed.
    #[error("no keyring is installed: call `Keyring::install` at start-up")]
    NoKeyring,
    /// The stored value names a key the keyring does not hold.
    #[error(
        "the keyring has no key `{key_id}` (add it with `Keyring::with_key` to read values sealed with it)"
    )]
    UnknownKey {
        /// The key id stored with the value.
        key_id: String,
    },
    /// The stored value is not an encrypted value of this format (not
    /// binary, too short, or another format).
    #[error("the stored value is not an encrypted value (format 1)")]
    Malformed,
    /// Authentication failed: the key of that id is not the one the value
    /// was sealed with, or the stored bytes changed.
    #[error(
        "the value does not decrypt with key `{key_id}`: another key under that id, or the stored bytes changed"
    )]
    Failed {
        /// The key id stored with the value.
        key_id: String,
    },
    /// A decrypted `string` field is not UTF-8.
    #[error("the decrypted value is not UTF-8 text")]
    NotText,
    /// A key id that cannot be stored: 1 to 255 bytes.
    #[error("invalid key id {key_id:?}: a key id is 1 to 255 bytes")]
    InvalidKeyId {
        /// The key id given.
        key_id: String,
    },
}

/// The keys of encrypted fields: AES-256 keys by id, and the one new
/// values are sealed with. Install one at start-up with
/// [`Keyring::install`]; every encrypted field of every item type uses it.
///
/// ```
/// use dynamo_runtime::Keyring;
/// # let (current, old) = ([7u8; 32], [9u8; 32]);
/// // Keys come from the app's secret store, never from the schema.
/// Keyring::new("2026-11", current)?
///     .with_key("2025-01", old)? // still read, never written
///     .install();
/// # Ok::<(), dynamo_runtime::CryptError>(())
/// ```
#[derive(Clone)]
pub struct Keyring {
    current: String,
    keys: Vec<(String, Aes256Gcm)>,
}

impl fmt::Debug for Keyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Key ids only: keys never reach logs.
        f.debug_struct("Keyring")
            .field("current", &self.current)
            .field(
                "keys",
                &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

static INSTALLED: RwLock<Option<Arc<Keyring>>> = RwLock::new(None);

impl Keyring {
    /// A keyring whose current key, `key`, is stored as `id`.
    pub fn new(id: impl Into<String>, key: [u8; 32]) -> Result<Self, CryptError> {
        let id = checked(id.into())?;
        Ok(Keyring {
            keys: vec![(id.clone(), Aes256Gcm::new(&key.into()))],
            current: id,
        })
    }

    /// The keyring with another key, which values sealed with it are read
    /// with (an earlier key, kept while items still hold values sealed
    /// with it). Replaces a key of the same id.
    pub fn with_key(mut self, id: impl Into<String>, key: [u8; 32]) -> Result<Self, CryptError> {
        let id = checked(id.into())?;
        let cipher = Aes256Gcm::new(&key.into());
        match self.keys.iter_mut().find(|(k, _)| *k == id) {
            Some(entry) => entry.1 = cipher,
            None => self.keys.push((id, cipher)),
        }
        Ok(self)
    }

    /// The id new values are sealed with.
    pub fn current(&self) -> &str {
        &self.current
    }

    /// Makes this the keyring of the process, replacing an earlier one:
    /// writes from now on seal with its current key.
    pub fn install(self) {
        let mut installed = INSTALLED.write().unwrap_or_else(|e| e.into_inner());
        *installed = Some(Arc::new(self));
    }

    /// The keyring of the process, if one is installed.
    pub fn installed() -> Option<Arc<Keyring>> {
        INSTALLED.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Seals `plain` with the current key: the stored bytes.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let cipher = &self.keys[0].1;
        let header = header(&self.current);
        let nonce = Nonce::generate();
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: &header,
                },
            )
            // AES-GCM fails only past 64 GiB of plaintext, far beyond an
            // item's 400 KB.
            .unwrap_or_default();
        let mut out = header;
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        out
    }

    /// Opens stored bytes with the key they name.
    pub fn open(&self, stored: &[u8]) -> Result<Vec<u8>, CryptError> {
        let key_id = stored_key_id(stored).ok_or(CryptError::Malformed)?;
        let header_len = 2 + key_id.len();
        let rest = &stored[header_len..];
        if rest.len() < NONCE + TAG {
            return Err(CryptError::Malformed);
        }
        let Some((_, cipher)) = self.keys.iter().find(|(id, _)| id == key_id) else {
            return Err(CryptError::UnknownKey {
                key_id: key_id.to_owned(),
            });
        };
        let (nonce, sealed) = rest.split_at(NONCE);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptError::Malformed)?;
        cipher
            .decrypt(
                &nonce,
                Payload {
                    msg: sealed,
                    aad: &stored[..header_len],
                },
            )
            .map_err(|_| CryptError::Failed {
                key_id: key_id.to_owned(),
            })
    }
}

/// The key id a stored encrypted value names, or `None` when the bytes
/// are not an encrypted value of this format (what a rotation check
/// reads).
pub fn stored_key_id(stored: &[u8]) -> Option<&str> {
    let (&format, rest) = stored.split_first()?;
    let (&len, rest) = rest.split_first()?;
    if format != FORMAT || len == 0 || rest.len() < usize::from(len) {
        return None;
    }
    std::str::from_utf8(&rest[..usize::from(len)]).ok()
}

fn checked(id: String) -> Result<String, CryptError> {
    if id.is_empty() || id.len() > 255 {
        return Err(CryptError::InvalidKeyId { key_id: id });
    }
    Ok(id)
}

fn header(id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + id.len() + NONCE + TAG + 64);
    out.push(FORMAT);
    // `checked` keeps ids within a byte's count.
    out.push(u8::try_from(id.len()).unwrap_or(u8::MAX));
    out.extend_from_slice(id.as_bytes());
    out
}

/// A field type that can be stored encrypted: its plaintext bytes.
pub trait Sealable: Sized {
    /// The bytes to seal.
    fn plain(&self) -> Cow<'_, [u8]>;
    /// The value from opened bytes.
    fn from_plain(bytes: Vec<u8>) -> Result<Self, CryptError>;
}

impl Sealable for String {
    fn plain(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(self.as_bytes())
    }

    fn from_plain(bytes: Vec<u8>) -> Result<Self, CryptError> {
        String::from_utf8(bytes).map_err(|_| CryptError::NotText)
    }
}

impl Sealable for crate::Bytes {
    fn plain(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.0)
    }

    fn from_plain(bytes: Vec<u8>) -> Result<Self, CryptError> {
        Ok(crate::Bytes(bytes))
    }
}

/// Seals `value` with the installed keyring, as the stored attribute.
pub(crate) fn seal<T: Sealable>(
    value: &T,
) -> Result<aws_sdk_dynamodb::types::AttributeValue, CryptError> {
    let keyring = Keyring::installed().ok_or(CryptError::NoKeyring)?;
    Ok(aws_sdk_dynamodb::types::AttributeValue::B(
        aws_sdk_dynamodb::primitives::Blob::new(keyring.seal(&value.plain())),
    ))
}

/// Opens a stored attribute with the installed keyring.
pub(crate) fn open<T: Sealable>(
    value: aws_sdk_dynamodb::types::AttributeValue,
) -> Result<T, CryptError> {
    let aws_sdk_dynamodb::types::AttributeValue::B(blob) = value else {
        return Err(CryptError::Malformed);
    };
    let keyring = Keyring::installed().ok_or(CryptError::NoKeyring)?;
    T::from_plain(keyring.open(blob.as_ref())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_with_the_named_key() {
        let old = Keyring::new("old", [1; 32]).unwrap();
        let sealed = old.seal(b"secret");
        assert_eq!(stored_key_id(&sealed), Some("old"));
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        // Two seals of one value differ (a fresh nonce each).
        assert_ne!(old.seal(b"secret"), sealed);

        let rotated = Keyring::new("new", [2; 32])
            .unwrap()
            .with_key("old", [1; 32])
            .unwrap();
        assert_eq!(rotated.open(&sealed).unwrap(), b"secret");
        assert_eq!(stored_key_id(&rotated.seal(b"x")), Some("new"));

        let without = Keyring::new("new", [2; 32]).unwrap();
        assert_eq!(
            without.open(&sealed),
            Err(CryptError::UnknownKey {
                key_id: "old".into()
            })
        );
        let wrong = Keyring::new("old", [3; 32]).unwrap();
        assert_eq!(
            wrong.open(&sealed),
            Err(CryptError::Failed {
                key_id: "old".into()
            })
        );
    }

    #[test]
    fn without_a_keyring_nothing_is_sealed_or_opened() {
        // No test of this crate installs a keyring.
        assert_eq!(seal(&"x".to_owned()), Err(CryptError::NoKeyring));
        let sealed = Keyring::new("k", [5; 32]).unwrap().seal(b"x");
        let stored = aws_sdk_dynamodb::types::AttributeValue::B(
            aws_sdk_dynamodb::primitives::Blob::new(sealed),
        );
        assert_eq!(open::<String>(stored), Err(CryptError::NoKeyring));
        let text = aws_sdk_dynamodb::types::AttributeValue::S("plain".into());
        assert_eq!(open::<String>(text), Err(CryptError::Malformed));
    }

    #[test]
    fn changed_bytes_do_not_open() {
        let keyring = Keyring::new("k", [5; 32]).unwrap();
        let sealed = keyring.seal(b"value");
        for i in 0..sealed.len() {
            let mut changed = sealed.clone();
            changed[i] ^= 1;
            assert!(keyring.open(&changed).is_err(), "byte {i}");
        }
        assert_eq!(keyring.open(&sealed[..10]), Err(CryptError::Malformed));
        assert_eq!(keyring.open(b""), Err(CryptError::Malformed));
        assert!(Keyring::new("", [0; 32]).is_err());
        assert!(Keyring::new("x".repeat(256), [0; 32]).is_err());
        assert!(!format!("{keyring:?}").contains('5'));
    }
}
