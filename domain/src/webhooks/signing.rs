//! Standard Webhooks 1.0 signatures: `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{webhook-id}.{webhook-timestamp}.{body}">`, keyed with the base64 part of a `whsec_`
//! secret. During a rotation's overlap both secrets sign, space-separated.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

const PREFIX: &str = "whsec_";
/// 32 random bytes: the HMAC-SHA256 block's worth of key is more than enough.
const SECRET_BYTES: usize = 32;

/// A new `whsec_` secret.
pub fn new_secret() -> SecretString {
    let mut key = [0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut key);
    SecretString::from(format!("{PREFIX}{}", STANDARD.encode(key)))
}

/// The HMAC key of a `whsec_` secret; `None` when it is not one.
fn key_of(secret: &SecretString) -> Option<Vec<u8>> {
    let text = secret.expose_secret();
    STANDARD.decode(text.strip_prefix(PREFIX)?).ok()
}

/// One `v1,` signature of the message.
pub fn sign(secret: &SecretString, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = key_of(secret)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).ok()?;
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-signature` header value: one signature per live secret.
pub fn signature_header(secrets: &[SecretString], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|s| sign(s, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn matches_the_specifications_example() {
        let secret = SecretString::from("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned());
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            sign(&secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }

    #[test]
    fn secrets_are_whsec_and_distinct() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.expose_secret().starts_with("whsec_"));
        assert_ne!(a.expose_secret(), b.expose_secret());
        assert_eq!(key_of(&a).map(|k| k.len()), Some(SECRET_BYTES));
        let header = signature_header(&[a, b], "id", 1, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert!(sign(&SecretString::from("nope".to_owned()), "i", 1, b"").is_none());
    }
}
