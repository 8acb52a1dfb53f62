//! How a tenant's flags are evaluated (SPEC §6, FR-FLAG-002): a tenant override, else the
//! plan's default, else a sticky percentage rollout by targeting key, else the flag's
//! default; each answer says which rule decided it.

use super::*;

/// Which rule decided a flag's value: a tenant `override`, the `plan`'s default, a
/// percentage `rollout`, or the flag's `default`.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = FlagSource)]
pub enum Source {
    Override,
    Plan,
    Rollout,
    Default,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Override => "override",
            Source::Plan => "plan",
            Source::Rollout => "rollout",
            Source::Default => "default",
        }
    }

    /// The OFREP `reason` for this source.
    pub fn reason(self) -> &'static str {
        match self {
            Source::Override => "TARGETING_MATCH",
            Source::Plan => "TARGETING_MATCH",
            Source::Rollout => "SPLIT",
            Source::Default => "DEFAULT",
        }
    }
}

/// A flag's value for one tenant (and targeting key), with where it comes from.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct EffectiveFlag {
    /// The flag's key.
    pub key: String,
    /// The flag's value.
    pub value: bool,
    /// The rule that decided the value.
    pub source: Source,
}

/// Everything needed to evaluate every flag for one tenant, without the database.
#[derive(Debug, Clone, Serialize)]
pub struct TenantFlags {
    pub tenant_id: Uuid,
    pub plan: Plan,
    pub suspended: bool,
    /// Ordered by key.
    pub flags: Vec<FlagRule>,
}

/// One flag's rule for a tenant: its override, its plan's default, rollout and default.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct FlagRule {
    pub key: String,
    pub default_value: bool,
    pub plan_value: Option<bool>,
    pub override_value: Option<bool>,
    pub rollout_percentage: Option<i16>,
}

/// The bucket (0..100) of a targeting key for a flag: stable across servers and restarts.
pub fn bucket(flag_key: &str, targeting_key: &str) -> u8 {
    let digest = Sha256::digest(format!("{flag_key}:{targeting_key}").as_bytes());
    let n = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    (n % 100) as u8
}

impl FlagRule {
    /// override ?? plan default ?? rollout ?? default.
    pub fn evaluate(&self, targeting_key: &str) -> (bool, Source) {
        if let Some(v) = self.override_value {
            return (v, Source::Override);
        }
        if let Some(v) = self.plan_value {
            return (v, Source::Plan);
        }
        if let Some(pct) = self.rollout_percentage {
            return (
                i16::from(bucket(&self.key, targeting_key)) < pct,
                Source::Rollout,
            );
        }
        (self.default_value, Source::Default)
    }
}

impl TenantFlags {
    /// Every flag, evaluated for `user` (the rollout's sticky key) or, without one, for the
    /// tenant.
    pub fn evaluate(&self, user: Option<&str>) -> Vec<EffectiveFlag> {
        let tenant = self.tenant_id.to_string();
        let targeting = user.unwrap_or(&tenant);
        self.flags
            .iter()
            .map(|rule| {
                let (value, source) = rule.evaluate(targeting);
                EffectiveFlag {
                    key: rule.key.clone(),
                    value,
                    source,
                }
            })
            .collect()
    }

    pub fn rule(&self, key: &str) -> Option<&FlagRule> {
        self.flags.iter().find(|r| r.key == key)
    }
}

/// Loads a tenant's flag rules (one query). `None` for an unknown tenant.
pub async fn tenant_flags(
    pool: &PgPool,
    tenant_id: Uuid,
) -> Result<Option<TenantFlags>, DomainError> {
    let tenant: Option<(String, String)> =
        sqlx::query_as("SELECT plan, status FROM tenants WHERE id = $1")
            .bind(tenant_id)
            .fetch_optional(pool)
            .await?;
    let Some((plan, status)) = tenant else {
        return Ok(None);
    };
    let rows: Vec<FlagRule> = sqlx::query_as(
        "SELECT d.key, d.default_value, pd.value AS plan_value, o.value AS override_value, d.rollout_percentage
           FROM flag_definitions d
           LEFT JOIN flag_plan_defaults pd ON pd.flag_key = d.key AND pd.plan = $2
           LEFT JOIN flag_overrides o ON o.flag_key = d.key AND o.tenant_id = $1
          WHERE d.archived_at IS NULL
          ORDER BY d.key",
    )
    .bind(tenant_id)
    .bind(&plan)
    .fetch_all(pool)
    .await?;
    Ok(Some(TenantFlags {
        tenant_id,
        plan: Plan::parse(&plan)?,
        suspended: status == "suspended",
        flags: rows,
    }))
}
