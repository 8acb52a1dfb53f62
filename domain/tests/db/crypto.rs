//! Secrets at rest: sealed with the master key ring, bound to what they belong to.

use super::*;

#[sqlx::test(migrator = "gatehouse_domain::MIGRATOR")]
async fn encrypted_secrets_round_trip_through_the_database(pool: PgPool) {
    let acme = tenant(&pool, "acme").await;
    let keys = MasterKeys::parse(&MasterKeys::generate_text("k1")).unwrap();
    let aad = format!("sso_client_secret:{}", acme.id);
    let sealed = keys.encrypt(b"idp-client-secret", &aad).unwrap();
    sqlx::query("INSERT INTO sso_connections (tenant_id, issuer, discovery, client_id, client_secret_ciphertext) VALUES ($1, 'https://idp.example.com', '{}', 'gh', $2)")
        .bind(acme.id)
        .bind(&sealed)
        .execute(&pool)
        .await
        .unwrap();
    let stored: Vec<u8> = sqlx::query_scalar(
        "SELECT client_secret_ciphertext FROM sso_connections WHERE tenant_id = $1",
    )
    .bind(acme.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        !stored.windows(17).any(|w| w == b"idp-client-secret"),
        "stored encrypted"
    );
    assert_eq!(keys.decrypt(&stored, &aad).unwrap(), b"idp-client-secret");
    let other = MasterKeys::parse(&MasterKeys::generate_text("k1")).unwrap();
    assert!(
        other.decrypt(&stored, &aad).is_err(),
        "a wrong master key cannot read it"
    );
    let text = MasterKeys::generate_text("k2");
    assert!(
        !format!("{:?}", MasterKeys::parse(&text).unwrap()).contains(text.expose_secret().trim())
    );
}
