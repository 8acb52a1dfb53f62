//! OpenID Connect discovery for a tenant's identity provider (FR-AUTH-003).
//!
//! An owner types an issuer URL; this fetches its discovery document and key set through
//! the guarded [`IdpHttp`] client and checks everything a login through that provider will
//! later rely on, so a broken configuration is refused when it is entered, with a message
//! that names the failing URL or value, instead of failing at a user's first sign-in.
//!
//! The document is read as JSON rather than through openidconnect's typed
//! `ProviderMetadata`: that type stops at the first field it cannot parse and cannot say
//! which of our requirements failed, and the raw document is kept for the audit trail
//! anyway. The token exchange itself still goes through openidconnect.
//!
//! Trailing slash: the well-known URL is built with one trailing slash removed (OIDC
//! Discovery §4.1), but the document's `issuer` must equal the issuer as the owner typed
//! it, surrounding whitespace aside (§4.3); ID tokens carry that exact string in `iss`, so
//! accepting a near match here would only move the failure to sign-in. When the two differ
//! only by the slash, the message says so.

use serde_json::{Map, Value};

use super::http::{FetchError, IdpHttp};

/// A provider that passed discovery: the endpoints a login needs, what it advertises, and
/// the documents as received.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Discovered {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    pub userinfo_endpoint: Option<String>,
    pub end_session_endpoint: Option<String>,
    pub scopes_supported: Vec<String>,
    pub claims_supported: Vec<String>,
    /// `id_token_signing_alg_values_supported`.
    pub signing_algs: Vec<String>,
    /// `authorization_response_iss_parameter_supported` (RFC 9207).
    pub iss_parameter_supported: bool,
    /// Keys in the JWK set usable for verifying signatures.
    pub key_count: usize,
    /// The discovery document as received.
    pub metadata: Value,
    /// The JWK set as received.
    pub jwks: Value,
}

/// Why discovery refused a provider. The messages are written for the tenant owner who
/// entered the issuer; `code()` is the stable value for audit metadata.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryFailure {
    #[error("the issuer URL is not usable: {0}")]
    InvalidIssuer(String),
    #[error("could not fetch {url}: {detail}")]
    Fetch {
        url: String,
        code: &'static str,
        detail: String,
    },
    #[error("{url} answered with HTTP status {status} instead of a document")]
    HttpStatus { url: String, status: u16 },
    #[error("{url} did not return a usable JSON document: {detail}")]
    BadJson { url: String, detail: String },
    #[error("{}", issuer_mismatch_message(.expected, .found))]
    IssuerMismatch { expected: String, found: String },
    #[error("the discovery document has no {0}")]
    MissingField(&'static str),
    #[error("the discovery document's {field} ({value}) is not usable: {reason}")]
    InvalidEndpoint {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error(
        "the identity provider does not offer the authorization code flow \
         (response_types_supported does not list \"code\")"
    )]
    NoCodeFlow,
    #[error(
        "the identity provider does not advertise PKCE with S256 \
         (code_challenge_methods_supported: {})",
        list_or_none(.advertised)
    )]
    MissingS256 { advertised: Vec<String> },
    #[error(
        "the identity provider signs ID tokens with no algorithm Gatehouse can verify \
         (id_token_signing_alg_values_supported: {}); one of {} is required",
        list_or_none(.advertised),
        SIGNING_ALGS.join(", ")
    )]
    NoUsableSigningAlg { advertised: Vec<String> },
    #[error(
        "the identity provider's key set (jwks_uri) holds no RSA, EC or OKP key \
         usable for verifying signatures"
    )]
    JwksEmpty,
}

impl DiscoveryFailure {
    /// Stable snake_case codes for audit metadata. A fetch failure carries the client's own
    /// code (`dns`, `tls`, `timeout`, `redirect`, `private_address`, `too_large`, ...), so
    /// the audit trail says which layer failed.
    pub fn code(&self) -> &'static str {
        match self {
            DiscoveryFailure::InvalidIssuer(_) => "invalid_issuer",
            DiscoveryFailure::Fetch { code, .. } => code,
            DiscoveryFailure::HttpStatus { .. } => "http_status",
            DiscoveryFailure::BadJson { .. } => "bad_json",
            DiscoveryFailure::IssuerMismatch { .. } => "issuer_mismatch",
            DiscoveryFailure::MissingField(_) => "missing_field",
            DiscoveryFailure::InvalidEndpoint { .. } => "invalid_endpoint",
            DiscoveryFailure::NoCodeFlow => "no_code_flow",
            DiscoveryFailure::MissingS256 { .. } => "missing_s256",
            DiscoveryFailure::NoUsableSigningAlg { .. } => "no_usable_signing_alg",
            DiscoveryFailure::JwksEmpty => "jwks_empty",
        }
    }
}

/// The asymmetric ID token algorithms openidconnect can verify. HMAC algorithms are left
/// out on purpose: they would make the client secret the token's verification key.
const SIGNING_ALGS: &[&str] = &[
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
];

fn issuer_mismatch_message(expected: &str, found: &str) -> String {
    let hint = if expected.strip_suffix('/') == Some(found) {
        "; they must match exactly, so remove the trailing slash"
    } else if found.strip_suffix('/') == Some(expected) {
        "; they must match exactly, so add the trailing slash"
    } else {
        ""
    };
    format!(
        "the issuer in the document ({found}) does not match the URL you entered \
         ({expected}){hint}"
    )
}

fn list_or_none(values: &[String]) -> String {
    if values.is_empty() {
        "none".to_owned()
    } else {
        values.join(", ")
    }
}

/// Fetches and checks the provider's discovery document and key set (FR-AUTH-003).
pub async fn discover(http: &IdpHttp, issuer: &str) -> Result<Discovered, DiscoveryFailure> {
    let allow_http = http.allows_private();
    let entered = issuer.trim();
    let document_url = metadata_url(entered, allow_http)?;
    let metadata = fetch_json(http, &document_url).await?;
    let checked = check_document(entered, document_url.as_str(), &metadata, allow_http)?;
    readable_as_provider_metadata(document_url.as_str(), &metadata)?;
    let jwks_url = endpoint_url("jwks_uri", &checked.jwks_uri, allow_http)?;
    let (jwks, key_count) = fetch_key_set(http, &jwks_url).await?;
    Ok(Discovered {
        issuer: checked.issuer,
        authorization_endpoint: checked.authorization_endpoint,
        token_endpoint: checked.token_endpoint,
        jwks_uri: checked.jwks_uri,
        userinfo_endpoint: checked.userinfo_endpoint,
        end_session_endpoint: checked.end_session_endpoint,
        scopes_supported: checked.scopes_supported,
        claims_supported: checked.claims_supported,
        signing_algs: checked.signing_algs,
        iss_parameter_supported: checked.iss_parameter_supported,
        key_count,
        metadata,
        jwks,
    })
}

/// Fetches a JWK set and requires at least one key usable for verifying signatures; used
/// again when a provider rotates its keys.
pub async fn fetch_jwks(http: &IdpHttp, jwks_uri: &str) -> Result<Value, DiscoveryFailure> {
    let url = endpoint_url("jwks_uri", jwks_uri.trim(), http.allows_private())?;
    let (jwks, _) = fetch_key_set(http, &url).await?;
    Ok(jwks)
}

async fn fetch_key_set(http: &IdpHttp, url: &url::Url) -> Result<(Value, usize), DiscoveryFailure> {
    let jwks = fetch_json(http, url).await?;
    let count = usable_key_count(url.as_str(), &jwks)?;
    readable_as_key_set(url.as_str(), &jwks)?;
    Ok((jwks, count))
}

async fn fetch_json(http: &IdpHttp, url: &url::Url) -> Result<Value, DiscoveryFailure> {
    let (status, body) = http.get(url).await.map_err(|e| fetch_failure(url, &e))?;
    if !(200..300).contains(&status) {
        return Err(DiscoveryFailure::HttpStatus {
            url: url.to_string(),
            status,
        });
    }
    serde_json::from_slice(&body).map_err(|e| DiscoveryFailure::BadJson {
        url: url.to_string(),
        detail: e.to_string(),
    })
}

fn fetch_failure(url: &url::Url, err: &FetchError) -> DiscoveryFailure {
    DiscoveryFailure::Fetch {
        url: url.to_string(),
        code: err.code(),
        detail: err.to_string(),
    }
}

/// Validates the issuer as entered and builds `<issuer>/.well-known/openid-configuration`
/// from it (OIDC Discovery §4.1), removing one trailing slash first.
fn metadata_url(entered: &str, allow_http: bool) -> Result<url::Url, DiscoveryFailure> {
    let invalid = DiscoveryFailure::InvalidIssuer;
    if entered.is_empty() {
        return Err(invalid("nothing was entered".into()));
    }
    let parsed = url::Url::parse(entered)
        .map_err(|_| invalid(format!("\"{entered}\" is not an absolute URL")))?;
    // Checked before any message repeats the URL, so a password typed into it is not echoed.
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(invalid(
            "it must not contain a user name or password".into(),
        ));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(invalid(format!(
                "\"{entered}\" uses plain http; the issuer must be an https URL"
            )))
        }
        other => {
            return Err(invalid(format!(
                "\"{entered}\" uses the scheme \"{other}\"; the issuer must be an https URL"
            )))
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(format!("\"{entered}\" has no host name")));
    }
    // OIDC Discovery §2: the issuer has no query or fragment components.
    if parsed.query().is_some() {
        return Err(invalid(format!(
            "\"{entered}\" contains a query (?…); the issuer must not have one"
        )));
    }
    if parsed.fragment().is_some() {
        return Err(invalid(format!(
            "\"{entered}\" contains a fragment (#…); the issuer must not have one"
        )));
    }
    let base = entered.strip_suffix('/').unwrap_or(entered);
    url::Url::parse(&format!("{base}/.well-known/openid-configuration"))
        .map_err(|_| invalid(format!("\"{entered}\" is not an absolute URL")))
}

/// Checks an endpoint the document names: absolute, https (http only in development), no
/// credentials, no fragment (RFC 6749 §3.1, §3.2). The client refuses private addresses
/// when it connects, so that is not repeated here.
fn endpoint_url(
    field: &'static str,
    value: &str,
    allow_http: bool,
) -> Result<url::Url, DiscoveryFailure> {
    let invalid = |value: &str, reason: String| DiscoveryFailure::InvalidEndpoint {
        field,
        value: value.to_owned(),
        reason,
    };
    let parsed =
        url::Url::parse(value).map_err(|_| invalid(value, "it is not an absolute URL".into()))?;
    if !parsed.username().is_empty() || parsed.password().is_some() {
        let mut shown = parsed;
        // Both only fail for URLs that cannot have credentials, which this one has.
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(invalid(
            shown.as_str(),
            "it contains a user name or password".into(),
        ));
    }
    match parsed.scheme() {
        "https" => {}
        "http" if allow_http => {}
        "http" => {
            return Err(invalid(
                value,
                "it uses plain http; https is required".into(),
            ))
        }
        other => {
            return Err(invalid(
                value,
                format!("it uses the scheme \"{other}\"; https is required"),
            ))
        }
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid(value, "it has no host name".into()));
    }
    if parsed.fragment().is_some() {
        return Err(invalid(value, "it contains a fragment (#…)".into()));
    }
    Ok(parsed)
}

/// What [`check_document`] extracts from an acceptable discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CheckedDocument {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
    userinfo_endpoint: Option<String>,
    end_session_endpoint: Option<String>,
    scopes_supported: Vec<String>,
    claims_supported: Vec<String>,
    signing_algs: Vec<String>,
    iss_parameter_supported: bool,
}

/// Everything discovery requires of the document itself, without the network.
fn check_document(
    entered_issuer: &str,
    document_url: &str,
    doc: &Value,
    allow_http: bool,
) -> Result<CheckedDocument, DiscoveryFailure> {
    let bad_json = |detail: String| DiscoveryFailure::BadJson {
        url: document_url.to_owned(),
        detail,
    };
    let obj = doc
        .as_object()
        .ok_or_else(|| bad_json("the document is not a JSON object".into()))?;

    // OIDC Discovery §4.3: the issuer must be identical to the one the document was
    // fetched for.
    let found =
        string_field(obj, "issuer", &bad_json)?.ok_or(DiscoveryFailure::MissingField("issuer"))?;
    if found != entered_issuer {
        return Err(DiscoveryFailure::IssuerMismatch {
            expected: entered_issuer.to_owned(),
            found: found.to_owned(),
        });
    }

    let required_endpoint = |field: &'static str| -> Result<String, DiscoveryFailure> {
        let value = string_field(obj, field, &bad_json)?
            .filter(|v| !v.trim().is_empty())
            .ok_or(DiscoveryFailure::MissingField(field))?;
        endpoint_url(field, value, allow_http)?;
        Ok(value.to_owned())
    };
    let authorization_endpoint = required_endpoint("authorization_endpoint")?;
    let token_endpoint = required_endpoint("token_endpoint")?;
    let jwks_uri = required_endpoint("jwks_uri")?;

    // Optional, but a present value is used later (userinfo, sign-out redirect), so it is
    // held to the same standard.
    let optional_endpoint = |field: &'static str| -> Result<Option<String>, DiscoveryFailure> {
        match string_field(obj, field, &bad_json)?.filter(|v| !v.trim().is_empty()) {
            None => Ok(None),
            Some(value) => {
                endpoint_url(field, value, allow_http)?;
                Ok(Some(value.to_owned()))
            }
        }
    };
    let userinfo_endpoint = optional_endpoint("userinfo_endpoint")?;
    let end_session_endpoint = optional_endpoint("end_session_endpoint")?;

    // Gatehouse only runs the authorization code flow.
    let response_types = string_list(obj, "response_types_supported", &bad_json)?;
    if !response_types.iter().any(|t| t == "code") {
        return Err(DiscoveryFailure::NoCodeFlow);
    }

    // Every login uses PKCE with S256; a provider that does not advertise it may ignore
    // the code challenge silently.
    let pkce = string_list(obj, "code_challenge_methods_supported", &bad_json)?;
    if !pkce.iter().any(|m| m == "S256") {
        return Err(DiscoveryFailure::MissingS256 { advertised: pkce });
    }

    let signing_algs = string_list(obj, "id_token_signing_alg_values_supported", &bad_json)?;
    if !signing_algs
        .iter()
        .any(|alg| SIGNING_ALGS.contains(&alg.as_str()))
    {
        return Err(DiscoveryFailure::NoUsableSigningAlg {
            advertised: signing_algs,
        });
    }

    let iss_parameter_supported = match obj.get("authorization_response_iss_parameter_supported") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(bad_json(
                "authorization_response_iss_parameter_supported is not true or false".into(),
            ))
        }
    };

    Ok(CheckedDocument {
        issuer: found.to_owned(),
        authorization_endpoint,
        token_endpoint,
        jwks_uri,
        userinfo_endpoint,
        end_session_endpoint,
        scopes_supported: string_list(obj, "scopes_supported", &bad_json)?,
        claims_supported: string_list(obj, "claims_supported", &bad_json)?,
        signing_algs,
        iss_parameter_supported,
    })
}

/// A string member; absent or `null` is `None`, any other type is malformed JSON.
fn string_field<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    bad_json: &impl Fn(String) -> DiscoveryFailure,
) -> Result<Option<&'a str>, DiscoveryFailure> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.as_str())),
        Some(_) => Err(bad_json(format!("{name} is not a string"))),
    }
}

/// A list of strings the checks depend on; absent or `null` is empty, anything other than
/// an array of strings is malformed JSON.
fn string_list(
    obj: &Map<String, Value>,
    name: &str,
    bad_json: &impl Fn(String) -> DiscoveryFailure,
) -> Result<Vec<String>, DiscoveryFailure> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| {
                item.as_str().map(str::to_owned).ok_or_else(|| {
                    bad_json(format!("{name} contains a value that is not a string"))
                })
            })
            .collect(),
        Some(_) => Err(bad_json(format!("{name} is not a list"))),
    }
}

/// The sign-in flow builds its client from the stored documents with openidconnect's own
/// types on every sign-in; a document those types cannot read (a required field such as
/// `subject_types_supported` missing, a malformed URL) is refused here, where the owner
/// sees why, rather than failing every sign-in later.
fn readable_as_provider_metadata(
    document_url: &str,
    metadata: &Value,
) -> Result<(), DiscoveryFailure> {
    <openidconnect::core::CoreProviderMetadata as serde::Deserialize>::deserialize(metadata)
        .map(drop)
        .map_err(|e| DiscoveryFailure::BadJson {
            url: document_url.to_owned(),
            detail: format!("it is not valid OpenID provider metadata: {e}"),
        })
}

/// As [`readable_as_provider_metadata`], for the key set: openidconnect skips keys it cannot
/// read, so a set where it reads none is as good as empty.
fn readable_as_key_set(jwks_url: &str, jwks: &Value) -> Result<(), DiscoveryFailure> {
    let keys = <openidconnect::core::CoreJsonWebKeySet as serde::Deserialize>::deserialize(jwks)
        .map_err(|e| DiscoveryFailure::BadJson {
            url: jwks_url.to_owned(),
            detail: format!("it is not a valid JWK set: {e}"),
        })?;
    if keys.keys().is_empty() {
        return Err(DiscoveryFailure::JwksEmpty);
    }
    Ok(())
}

/// Counts the keys usable for verifying ID token signatures: an asymmetric key type with
/// its public parameters, meant for signatures (`use` absent or `sig`, `key_ops` absent or
/// including `verify`). Encryption keys and symmetric (`oct`) keys do not count.
fn usable_key_count(jwks_url: &str, jwks: &Value) -> Result<usize, DiscoveryFailure> {
    let keys =
        jwks.get("keys")
            .and_then(Value::as_array)
            .ok_or_else(|| DiscoveryFailure::BadJson {
                url: jwks_url.to_owned(),
                detail: "the key set has no \"keys\" list".into(),
            })?;
    let count = keys.iter().filter(|key| signing_key(key)).count();
    if count == 0 {
        return Err(DiscoveryFailure::JwksEmpty);
    }
    Ok(count)
}

fn signing_key(key: &Value) -> bool {
    let text = |name: &str| {
        key.get(name)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
    };
    let for_signatures = match key.get("use") {
        None | Some(Value::Null) => true,
        Some(value) => value.as_str() == Some("sig"),
    };
    let may_verify = match key.get("key_ops") {
        None | Some(Value::Null) => true,
        Some(ops) => ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify"))),
    };
    let has_material = match text("kty") {
        Some("RSA") => text("n").is_some() && text("e").is_some(),
        Some("EC") => text("crv").is_some() && text("x").is_some() && text("y").is_some(),
        Some("OKP") => text("crv").is_some() && text("x").is_some(),
        _ => false,
    };
    for_signatures && may_verify && has_material
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ISSUER: &str = "https://idp.example.com";
    const WELL_KNOWN: &str = "https://idp.example.com/.well-known/openid-configuration";

    fn document() -> Value {
        json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://idp.example.com/authorize",
            "token_endpoint": "https://idp.example.com/token",
            "jwks_uri": "https://idp.example.com/jwks",
            "userinfo_endpoint": "https://idp.example.com/userinfo",
            "response_types_supported": ["code", "code id_token"],
            "subject_types_supported": ["public"],
            "code_challenge_methods_supported": ["plain", "S256"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email"],
            "claims_supported": ["sub", "email"],
            "authorization_response_iss_parameter_supported": true
        })
    }

    fn check(doc: &Value) -> Result<CheckedDocument, DiscoveryFailure> {
        check_document(ISSUER, WELL_KNOWN, doc, false)
    }

    fn with(field: &str, value: Value) -> Value {
        let mut doc = document();
        doc[field] = value;
        doc
    }

    fn without(field: &str) -> Value {
        let mut doc = document();
        if let Some(obj) = doc.as_object_mut() {
            obj.remove(field);
        }
        doc
    }

    // FR-AUTH-003
    #[test]
    fn a_complete_document_passes() {
        let checked = check(&document()).unwrap();
        assert_eq!(checked.issuer, ISSUER);
        assert_eq!(checked.token_endpoint, "https://idp.example.com/token");
        assert_eq!(
            checked.userinfo_endpoint.as_deref(),
            Some("https://idp.example.com/userinfo")
        );
        assert_eq!(checked.end_session_endpoint, None);
        assert_eq!(checked.scopes_supported, vec!["openid", "email"]);
        assert_eq!(checked.signing_algs, vec!["RS256"]);
        assert!(checked.iss_parameter_supported);
    }

    #[test]
    fn the_well_known_url_drops_one_trailing_slash() {
        assert_eq!(metadata_url(ISSUER, false).unwrap().as_str(), WELL_KNOWN);
        assert_eq!(
            metadata_url("https://idp.example.com/", false)
                .unwrap()
                .as_str(),
            WELL_KNOWN
        );
        assert_eq!(
            metadata_url("https://idp.example.com/realms/acme/", false)
                .unwrap()
                .as_str(),
            "https://idp.example.com/realms/acme/.well-known/openid-configuration"
        );
    }

    #[test]
    fn unusable_issuers_are_refused() {
        for issuer in [
            "",
            "idp.example.com",
            "http://idp.example.com",
            "ftp://idp.example.com",
            "https://idp.example.com/?tenant=acme",
            "https://idp.example.com/#x",
        ] {
            let failure = metadata_url(issuer, false).unwrap_err();
            assert_eq!(failure.code(), "invalid_issuer", "{issuer}");
        }
    }

    #[test]
    fn credentials_in_the_issuer_are_refused_without_echoing_them() {
        let failure = metadata_url("https://admin:hunter2@idp.example.com", false).unwrap_err();
        assert_eq!(failure.code(), "invalid_issuer");
        assert!(!failure.to_string().contains("hunter2"));
    }

    #[test]
    fn plain_http_is_accepted_only_in_development() {
        assert!(metadata_url("http://localhost:8080/realms/dev", true).is_ok());
        let doc = json!({
            "issuer": "http://localhost:8080",
            "authorization_endpoint": "http://localhost:8080/authorize",
            "token_endpoint": "http://localhost:8080/token",
            "jwks_uri": "http://localhost:8080/jwks",
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "id_token_signing_alg_values_supported": ["ES256"]
        });
        assert!(check_document("http://localhost:8080", WELL_KNOWN, &doc, true).is_ok());
        assert_eq!(
            check_document("http://localhost:8080", WELL_KNOWN, &doc, false)
                .unwrap_err()
                .code(),
            "invalid_endpoint"
        );
    }

    #[test]
    fn the_issuer_must_match_exactly_including_a_trailing_slash() {
        let failure =
            check_document("https://idp.example.com/", WELL_KNOWN, &document(), false).unwrap_err();
        assert_eq!(
            failure,
            DiscoveryFailure::IssuerMismatch {
                expected: "https://idp.example.com/".into(),
                found: ISSUER.into(),
            }
        );
        assert!(failure.to_string().contains("remove the trailing slash"));

        let failure = check(&with("issuer", json!("https://other.example.com"))).unwrap_err();
        assert_eq!(failure.code(), "issuer_mismatch");
        assert!(failure.to_string().contains("https://other.example.com"));
        assert!(failure.to_string().contains(ISSUER));
    }

    #[test]
    fn required_fields_are_named_when_missing() {
        for field in [
            "issuer",
            "authorization_endpoint",
            "token_endpoint",
            "jwks_uri",
        ] {
            assert_eq!(
                check(&without(field)).unwrap_err(),
                DiscoveryFailure::MissingField(field)
            );
        }
        assert_eq!(
            check(&with("token_endpoint", json!(""))).unwrap_err(),
            DiscoveryFailure::MissingField("token_endpoint")
        );
    }

    #[test]
    fn malformed_documents_are_bad_json() {
        assert_eq!(
            check(&json!(["not", "an", "object"])).unwrap_err().code(),
            "bad_json"
        );
        assert_eq!(
            check(&with("issuer", json!(42))).unwrap_err().code(),
            "bad_json"
        );
        assert_eq!(
            check(&with("response_types_supported", json!("code")))
                .unwrap_err()
                .code(),
            "bad_json"
        );
        assert_eq!(
            check(&with("scopes_supported", json!(["openid", 7])))
                .unwrap_err()
                .code(),
            "bad_json"
        );
    }

    #[test]
    fn the_document_must_be_readable_by_the_sign_in_flow() {
        assert!(readable_as_provider_metadata(WELL_KNOWN, &document()).is_ok());
        let failure =
            readable_as_provider_metadata(WELL_KNOWN, &without("subject_types_supported"))
                .unwrap_err();
        assert_eq!(failure.code(), "bad_json");
        assert!(failure.to_string().contains("subject_types_supported"));
    }

    #[test]
    fn endpoints_must_be_absolute_https_urls() {
        for value in [
            "/token",
            "http://idp.example.com/token",
            "https://idp.example.com/token#frag",
            "https://user:secret@idp.example.com/token",
        ] {
            let failure = check(&with("token_endpoint", json!(value))).unwrap_err();
            assert_eq!(failure.code(), "invalid_endpoint", "{value}");
            assert!(!failure.to_string().contains("secret"));
        }
        let failure =
            check(&with("end_session_endpoint", json!("javascript:alert(1)"))).unwrap_err();
        assert_eq!(failure.code(), "invalid_endpoint");
    }

    #[test]
    fn the_code_flow_is_required() {
        assert_eq!(
            check(&with(
                "response_types_supported",
                json!(["id_token", "token id_token"])
            ))
            .unwrap_err(),
            DiscoveryFailure::NoCodeFlow
        );
        assert_eq!(
            check(&without("response_types_supported")).unwrap_err(),
            DiscoveryFailure::NoCodeFlow
        );
    }

    #[test]
    fn pkce_s256_is_required() {
        assert_eq!(
            check(&with("code_challenge_methods_supported", json!(["plain"]))).unwrap_err(),
            DiscoveryFailure::MissingS256 {
                advertised: vec!["plain".into()]
            }
        );
        let failure = check(&without("code_challenge_methods_supported")).unwrap_err();
        assert_eq!(failure.code(), "missing_s256");
        assert!(failure.to_string().contains("none"));
    }

    #[test]
    fn an_asymmetric_signing_algorithm_is_required() {
        let failure = check(&with(
            "id_token_signing_alg_values_supported",
            json!(["HS256", "none"]),
        ))
        .unwrap_err();
        assert_eq!(failure.code(), "no_usable_signing_alg");
        assert!(failure.to_string().contains("HS256"));
        assert!(check(&with(
            "id_token_signing_alg_values_supported",
            json!(["HS256", "ES256"])
        ))
        .is_ok());
    }

    #[test]
    fn the_key_set_needs_a_signature_key() {
        let url = "https://idp.example.com/jwks";
        let rsa = json!({"kty": "RSA", "use": "sig", "kid": "1", "n": "0vx7", "e": "AQAB"});
        let ec = json!({"kty": "EC", "crv": "P-256", "x": "f83O", "y": "x_FE"});
        let okp = json!({"kty": "OKP", "crv": "Ed25519", "x": "11qY"});
        let enc = json!({"kty": "RSA", "use": "enc", "n": "0vx7", "e": "AQAB"});
        let oct = json!({"kty": "oct", "k": "GawgguFyGrWKav7AX4VKUg"});
        let no_material = json!({"kty": "RSA", "use": "sig"});
        let wrap_only =
            json!({"kty": "EC", "crv": "P-256", "x": "a", "y": "b", "key_ops": ["wrapKey"]});

        assert_eq!(
            usable_key_count(url, &json!({"keys": [rsa, ec, okp, enc.clone()]})),
            Ok(3)
        );
        assert_eq!(
            usable_key_count(url, &json!({"keys": [enc, oct, no_material, wrap_only]})),
            Err(DiscoveryFailure::JwksEmpty)
        );
        assert_eq!(
            usable_key_count(url, &json!({"keys": []})),
            Err(DiscoveryFailure::JwksEmpty)
        );
        assert_eq!(
            usable_key_count(url, &json!({"no_keys": true}))
                .unwrap_err()
                .code(),
            "bad_json"
        );
    }

    #[test]
    fn fetch_failures_carry_the_client_code() {
        let url = url::Url::parse(WELL_KNOWN).unwrap();
        let failure = fetch_failure(&url, &FetchError::Redirect { status: 302 });
        assert_eq!(failure.code(), "redirect");
        assert!(failure.to_string().contains(WELL_KNOWN));
        assert_eq!(fetch_failure(&url, &FetchError::Timeout).code(), "timeout");
    }

    #[test]
    fn codes_are_distinct() {
        let failures = [
            DiscoveryFailure::InvalidIssuer(String::new()),
            DiscoveryFailure::HttpStatus {
                url: String::new(),
                status: 404,
            },
            DiscoveryFailure::BadJson {
                url: String::new(),
                detail: String::new(),
            },
            DiscoveryFailure::IssuerMismatch {
                expected: String::new(),
                found: String::new(),
            },
            DiscoveryFailure::MissingField("jwks_uri"),
            DiscoveryFailure::InvalidEndpoint {
                field: "jwks_uri",
                value: String::new(),
                reason: String::new(),
            },
            DiscoveryFailure::NoCodeFlow,
            DiscoveryFailure::MissingS256 { advertised: vec![] },
            DiscoveryFailure::NoUsableSigningAlg { advertised: vec![] },
            DiscoveryFailure::JwksEmpty,
        ];
        let mut codes: Vec<_> = failures.iter().map(DiscoveryFailure::code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), failures.len());
    }
}
