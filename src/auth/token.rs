//! Bearer tokens: HS256 JWTs carrying identity only (RULES §6).

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::config::Secret;

pub use crate::domain::validate::JWT_SECRET_MIN_BYTES as MIN_SECRET_BYTES;

/// What a token says. `ver` must equal the user's current token version, which a
/// password change, `revokeTokens` or a re-created user replaces, so older tokens
/// fail. `sst` is when the session began (RULES §8): the login that started the
/// chain of refreshed tokens; a token without it (issued before sessions) counts
/// its `iat`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub ver: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sst: Option<u64>,
}

impl Claims {
    /// When the session this token belongs to began (Unix seconds).
    pub fn session_start(&self) -> u64 {
        self.sst.unwrap_or(self.iat)
    }
}

/// A token handed out by a login or a refresh.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub access_token: String,
    /// How long this token lives, in seconds.
    pub expires_in: u64,
}

/// Signs and checks tokens with one HS256 key.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: u64,
    /// The longest a session lives, counted from its login (RULES §8).
    session_max_secs: u64,
    /// Tokens already verified, with their claims: a client sends the same token with
    /// every request, and decoding and checking it is a good part of a small request.
    /// Only tokens that verified are kept; expiry is checked on every use. Bounded,
    /// evicting the least used (S3-FIFO): past its size a rotation of callers loses
    /// some entries, never all of them at once.
    verified: quick_cache::sync::Cache<String, Claims>,
}

/// Why a key was refused.
#[derive(Debug, thiserror::Error)]
#[error("the JWT secret must be at least {MIN_SECRET_BYTES} bytes")]
pub struct SecretTooShort;

impl TokenKeys {
    /// Keys from the configured secret; `None` means a random key for this process.
    /// `verified_capacity` bounds the tokens remembered as verified.
    pub fn new(
        secret: Option<&Secret>,
        ttl_secs: u32,
        session_max_secs: u32,
        verified_capacity: usize,
    ) -> Result<Self, SecretTooShort> {
        let bytes = match secret {
            Some(secret) if secret.expose().len() < MIN_SECRET_BYTES => return Err(SecretTooShort),
            Some(secret) => secret.expose().as_bytes().to_vec(),
            None => {
                let mut random = vec![0u8; 64];
                rand::rng().fill_bytes(&mut random);
                random
            }
        };
        // Only HS256, `exp` checked with no leeway, and every claim we rely on required.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp", "iat", "sub"]);
        Ok(TokenKeys {
            encoding: EncodingKey::from_secret(&bytes),
            decoding: DecodingKey::from_secret(&bytes),
            validation,
            ttl_secs: u64::from(ttl_secs),
            session_max_secs: u64::from(session_max_secs),
            verified: quick_cache::sync::Cache::new(verified_capacity.max(1)),
        })
    }

    /// The first token of a new session for `username` at its token version.
    pub fn issue(&self, username: &str, version: &str) -> anyhow::Result<IssuedToken> {
        let now = now_secs();
        self.issue_in_session(username, version, now, now).map(|issued| issued.expect("a new session has time left"))
    }

    /// A new token in the session of `claims` (a refresh): it lives the token
    /// lifetime, but never past the session's end; `None` when the session has less
    /// than a second left.
    pub fn refresh(&self, claims: &Claims) -> anyhow::Result<Option<IssuedToken>> {
        self.issue_in_session(&claims.sub, &claims.ver, claims.session_start(), now_secs())
    }

    fn issue_in_session(
        &self,
        username: &str,
        version: &str,
        session_start: u64,
        now: u64,
    ) -> anyhow::Result<Option<IssuedToken>> {
        let session_end = session_start.saturating_add(self.session_max_secs);
        if session_end <= now {
            return Ok(None);
        }
        let exp = (now + self.ttl_secs).min(session_end);
        let claims =
            Claims { sub: username.to_owned(), iat: now, exp, ver: version.to_owned(), sst: Some(session_start) };
        let access_token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?;
        Ok(Some(IssuedToken { access_token, expires_in: exp - now }))
    }

    /// The claims of a well-formed, correctly signed, unexpired token; `None` otherwise.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        if let Some(claims) = self.verified.get(token) {
            return (claims.exp > now_secs()).then_some(claims);
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).ok()?.claims;
        self.verified.insert(token.to_owned(), claims.clone());
        Some(claims)
    }
}

/// A fresh random token version: 128 bits, hex.
pub fn new_version() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(secret: &str) -> TokenKeys {
        TokenKeys::new(Some(&Secret::new(secret)), 60, 3600, 100).unwrap()
    }

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn issued_tokens_verify_with_the_same_key_only() {
        let token = keys(SECRET).issue("ann", "v1").unwrap().access_token;
        let claims = keys(SECRET).verify(&token).unwrap();
        assert_eq!((claims.sub.as_str(), claims.ver.as_str()), ("ann", "v1"));
        assert_eq!(claims.exp - claims.iat, 60);
        assert!(keys("another-secret-of-thirty-two-bytes!").verify(&token).is_none());
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TokenKeys::new(Some(&Secret::new("x".repeat(31))), 60, 3600, 100).is_err());
        assert!(TokenKeys::new(Some(&Secret::new("x".repeat(32))), 60, 3600, 100).is_ok());
        assert!(TokenKeys::new(None, 60, 3600, 100).is_ok());
    }

    #[test]
    fn expired_and_string_exp_tokens_are_refused() {
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        let header = Header::new(Algorithm::HS256);
        let expired = serde_json::json!({"sub": "ann", "iat": 1, "exp": 2, "ver": "v"});
        let string_exp = serde_json::json!({"sub": "ann", "iat": 1, "exp": "99999999999", "ver": "v"});
        let no_exp = serde_json::json!({"sub": "ann", "iat": 1, "ver": "v"});
        for claims in [expired, string_exp, no_exp] {
            let token = jsonwebtoken::encode(&header, &claims, &key).unwrap();
            assert!(keys(SECRET).verify(&token).is_none(), "{claims}");
        }
    }

    #[test]
    fn other_algorithms_are_refused() {
        let claims = serde_json::json!({"sub": "ann", "iat": now_secs(), "exp": now_secs() + 60, "ver": "v"});
        let key = EncodingKey::from_secret(SECRET.as_bytes());
        let hs512 = jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &key).unwrap();
        assert!(keys(SECRET).verify(&hs512).is_none());
        // alg "none": header and claims with an empty signature.
        let b64 = |v: &serde_json::Value| {
            use base64::Engine;
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        let none = format!("{}.{}.", b64(&serde_json::json!({"alg": "none", "typ": "JWT"})), b64(&claims));
        assert!(keys(SECRET).verify(&none).is_none());
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let keys = TokenKeys::new(Some(&Secret::new(SECRET)), 60, 3600, 100).unwrap();
        let claims = serde_json::json!({"sub": "ann", "iat": now_secs(), "exp": now_secs() + 60, "ver": "v"});
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET.as_bytes()))
                .unwrap();
        assert!(keys.verify(&token).is_some());
        // As if the clock had moved past exp: the remembered claims are refused too.
        let mut remembered = keys.verified.get(token.as_str()).unwrap();
        remembered.exp = now_secs() - 1;
        keys.verified.insert(token.clone(), remembered);
        assert!(keys.verify(&token).is_none());
    }

    #[test]
    fn past_its_capacity_the_verified_cache_still_verifies_every_token() {
        let keys = TokenKeys::new(Some(&Secret::new(SECRET)), 60, 3600, 10).unwrap();
        let tokens: Vec<String> = (0..50).map(|i| keys.issue(&format!("user{i}"), "v").unwrap().access_token).collect();
        for _ in 0..3 {
            for (i, token) in tokens.iter().enumerate() {
                assert_eq!(keys.verify(token).map(|claims| claims.sub), Some(format!("user{i}")));
            }
        }
        assert!(keys.verified.len() <= 12, "bounded: {} remembered", keys.verified.len());
        let forged = format!("{}x", tokens[0]);
        assert!(keys.verify(&forged).is_none(), "a bad signature is never taken from the cache");
    }

    #[test]
    fn a_session_ends_its_tokens_whatever_their_lifetime() {
        let keys = TokenKeys::new(Some(&Secret::new(SECRET)), 60, 100, 100).unwrap();
        let now = now_secs();
        let claims =
            |sst: Option<u64>, iat: u64| Claims { sub: "ann".into(), iat, exp: iat + 60, ver: "v".into(), sst };
        // Early in the session: a whole lifetime.
        let issued = keys.refresh(&claims(Some(now - 10), now - 10)).unwrap().unwrap();
        assert_eq!(issued.expires_in, 60);
        let refreshed = keys.verify(&issued.access_token).unwrap();
        assert_eq!(refreshed.sst, Some(now - 10), "the session start carries over");
        // Near the end: until the end only.
        assert_eq!(keys.refresh(&claims(Some(now - 70), now - 5)).unwrap().unwrap().expires_in, 30);
        // Past it, or with under a second left: none.
        assert!(keys.refresh(&claims(Some(now - 100), now - 1)).unwrap().is_none());
        // A token from before sessions counts its iat as the start.
        assert!(keys.refresh(&claims(None, now - 100)).unwrap().is_none());
        assert!(keys.refresh(&claims(None, now - 50)).unwrap().is_some());
    }

    #[test]
    fn a_session_shorter_than_the_lifetime_shortens_the_first_token() {
        let keys = TokenKeys::new(Some(&Secret::new(SECRET)), 7200, 30, 100).unwrap();
        let issued = keys.issue("ann", "v").unwrap();
        assert_eq!(issued.expires_in, 30);
        let claims = keys.verify(&issued.access_token).unwrap();
        assert_eq!(claims.exp - claims.iat, 30);
    }

    #[test]
    fn versions_are_random() {
        assert_ne!(new_version(), new_version());
        assert_eq!(new_version().len(), 32);
    }
}
