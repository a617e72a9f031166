//! Stateless nonces: `base64url(version || expires_at || random || MAC)` where MAC is
//! HMAC-SHA256 (truncated to 24 bytes) under the nonce secret over the bytes before it. Any
//! replica that holds the same secret accepts a nonce another replica issued, without shared
//! state. A nonce proves that this service (or a replica) issued it and that it has not expired;
//! being stateless, it does not stop the same nonce from being used twice before it expires.
//!
//! The encoded nonce is 66 characters, inside EAT's 10–74 character range for `eat_nonce`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

const VERSION: u8 = 1;
const RANDOM_LEN: usize = 16;
const MAC_LEN: usize = 24;
const SIGNED_LEN: usize = 1 + 8 + RANDOM_LEN;
const RAW_LEN: usize = SIGNED_LEN + MAC_LEN;
/// Length of an encoded nonce in characters.
pub const NONCE_CHARS: usize = (RAW_LEN * 4).div_ceil(3);
/// Smallest nonce secret accepted, in bytes.
pub const MIN_SECRET_LEN: usize = 16;

/// Why a nonce was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum NonceError {
    /// Not a nonce of this format.
    #[error("not a nonce issued by this service (malformed)")]
    Malformed,
    /// The MAC does not verify: another service (or another secret) issued it, or it was altered.
    #[error("not a nonce issued by this service")]
    NotIssued,
    /// It expired.
    #[error("the nonce has expired; get a new one from GET /v1/nonce")]
    Expired,
}

/// Issues and checks nonces under one secret.
pub struct NonceKey {
    secret: Zeroizing<Vec<u8>>,
    lifetime: u64,
}

impl std::fmt::Debug for NonceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NonceKey")
            .field("secret", &"(redacted)")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl NonceKey {
    /// A key from `secret` (at least [`MIN_SECRET_LEN`] bytes); nonces live `lifetime` seconds.
    pub fn new(secret: Zeroizing<Vec<u8>>, lifetime: u64) -> Result<Self, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "the nonce secret is {} bytes; at least {MIN_SECRET_LEN} are needed",
                secret.len()
            ));
        }
        Ok(Self { secret, lifetime })
    }

    /// A key with a fresh random secret (nonces are then only accepted by this process).
    pub fn random(lifetime: u64) -> Self {
        let mut s = Zeroizing::new(vec![0u8; 32]);
        rand::rngs::OsRng.fill_bytes(&mut s);
        Self {
            secret: s,
            lifetime,
        }
    }

    /// Nonce lifetime in seconds.
    pub fn lifetime(&self) -> u64 {
        self.lifetime
    }

    fn mac(&self, signed: &[u8]) -> [u8; 32] {
        // HMAC accepts keys of any length.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        m.update(b"kss-serve nonce v1\0");
        m.update(signed);
        m.finalize().into_bytes().into()
    }

    /// A new nonce issued at `now` (Unix seconds) and its expiry time.
    pub fn issue(&self, now: u64) -> (String, u64) {
        let expires_at = now.saturating_add(self.lifetime);
        let mut raw = [0u8; RAW_LEN];
        raw[0] = VERSION;
        raw[1..9].copy_from_slice(&expires_at.to_be_bytes());
        rand::rngs::OsRng.fill_bytes(&mut raw[9..SIGNED_LEN]);
        let mac = self.mac(&raw[..SIGNED_LEN]);
        raw[SIGNED_LEN..].copy_from_slice(&mac[..MAC_LEN]);
        (URL_SAFE_NO_PAD.encode(raw), expires_at)
    }

    /// Checks a nonce at `now`; returns its expiry time.
    pub fn check(&self, nonce: &str, now: u64) -> Result<u64, NonceError> {
        if nonce.len() != NONCE_CHARS {
            return Err(NonceError::Malformed);
        }
        let raw = URL_SAFE_NO_PAD
            .decode(nonce)
            .map_err(|_| NonceError::Malformed)?;
        if raw.len() != RAW_LEN || raw[0] != VERSION {
            return Err(NonceError::Malformed);
        }
        let mac = self.mac(&raw[..SIGNED_LEN]);
        if !bool::from(mac[..MAC_LEN].ct_eq(&raw[SIGNED_LEN..])) {
            return Err(NonceError::NotIssued);
        }
        let mut exp = [0u8; 8];
        exp.copy_from_slice(&raw[1..9]);
        let expires_at = u64::from_be_bytes(exp);
        if now >= expires_at {
            return Err(NonceError::Expired);
        }
        Ok(expires_at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key(s: &[u8]) -> NonceKey {
        NonceKey::new(Zeroizing::new(s.to_vec()), 300).unwrap()
    }

    #[test]
    fn round_trip_expiry_and_other_secret() {
        let k = key(b"0123456789abcdef0123");
        let (n, exp) = k.issue(1000);
        assert_eq!(n.len(), NONCE_CHARS);
        assert!((10..=74).contains(&n.len()));
        assert_eq!(exp, 1300);
        assert_eq!(k.check(&n, 1000), Ok(1300));
        assert_eq!(k.check(&n, 1299), Ok(1300));
        assert_eq!(k.check(&n, 1300), Err(NonceError::Expired));
        // A replica with the same secret accepts it; another secret does not.
        assert_eq!(key(b"0123456789abcdef0123").check(&n, 1000), Ok(1300));
        assert_eq!(
            key(b"another secret, 20 b").check(&n, 1000),
            Err(NonceError::NotIssued)
        );
        // Two nonces differ.
        assert_ne!(k.issue(1000).0, n);
    }

    #[test]
    fn short_secret_refused() {
        assert!(NonceKey::new(Zeroizing::new(b"short".to_vec()), 1).is_err());
    }

    #[test]
    fn altered_expiry_is_not_accepted() {
        let k = key(b"0123456789abcdef0123");
        let (n, _) = k.issue(1000);
        let mut raw = URL_SAFE_NO_PAD.decode(&n).unwrap();
        raw[8] ^= 0xff; // push the expiry far away
        let forged = URL_SAFE_NO_PAD.encode(raw);
        assert_eq!(k.check(&forged, 1000), Err(NonceError::NotIssued));
    }

    proptest! {
        #[test]
        fn arbitrary_text_is_never_accepted_and_never_panics(s in ".{0,100}") {
            let k = key(b"0123456789abcdef0123");
            prop_assert!(k.check(&s, 0).is_err());
        }

        #[test]
        fn any_flipped_bit_is_refused(byte in 0usize..RAW_LEN, bit in 0u8..8) {
            let k = key(b"0123456789abcdef0123");
            let (n, _) = k.issue(1000);
            let mut raw = URL_SAFE_NO_PAD.decode(&n).unwrap();
            raw[byte] ^= 1 << bit;
            prop_assert!(k.check(&URL_SAFE_NO_PAD.encode(raw), 1000).is_err());
        }
    }
}
