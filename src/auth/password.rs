//! Argon2id password hashing (RULES §6), always on a blocking thread.

use std::sync::LazyLock;

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::config::Secret;
use crate::error::{AppError, AppResult};

/// OWASP's parameters for Argon2id: 19 MiB, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid Argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a password nobody has, checked when the user does not exist so that an
/// unknown name costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_now("no user has this password").expect("hashable"));

fn hash_now(password: &str) -> anyhow::Result<String> {
    Ok(hasher().hash_password(password.as_bytes()).map_err(anyhow::Error::msg)?.to_string())
}

fn verify_now(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

/// The Argon2id PHC string for a new password.
pub async fn hash(password: Secret) -> AppResult<String> {
    tokio::task::spawn_blocking(move || hash_now(password.expose())).await?.map_err(AppError::internal)
}

/// Whether `password` matches `phc`; with no stored hash, does the same work and says no.
pub async fn verify(password: Secret, phc: Option<String>) -> AppResult<bool> {
    Ok(tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify_now(password.expose(), &phc),
        None => {
            verify_now(password.expose(), &DUMMY_HASH);
            false
        }
    })
    .await?)
}

/// Computes the dummy hash ahead of the first login, so that the first unknown-user
/// login is not slower than the others.
pub async fn warm_up() -> AppResult<()> {
    tokio::task::spawn_blocking(|| LazyLock::force(&DUMMY_HASH).len()).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_strings_that_verify() {
        let phc = hash(Secret::new("correct horse")).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify(Secret::new("correct horse"), Some(phc.clone())).await.unwrap());
        assert!(!verify(Secret::new("correct horsE"), Some(phc)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify(Secret::new("no user has this password"), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_corrupt_hash_never_verifies() {
        assert!(!verify(Secret::new("anything"), Some("not a phc".into())).await.unwrap());
    }
}
