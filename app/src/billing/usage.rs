//! A tenant's usage (IF-TENANT-CONSOLE, FR-BILL-003): the exact totals per event type for
//! this month so far and last month, and one per-day chart per event type of this month
//! (UTC days, as the rollup counts them). The report is shared by the Operator Console's
//! tenant page ([`TenantUsage`]) and the tenant's own subscription page.

use super::chart::{grouped, DailyBars, DayUsage};
use crate::error::AppError;
use crate::ui::*;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// A month's exact total of one event type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthTotal {
    /// Exact decimal.
    pub quantity: String,
    pub events: i64,
}

/// One event type's usage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeUsage {
    pub event_type: String,
    pub this_month: Option<MonthTotal>,
    pub last_month: Option<MonthTotal>,
    /// Every day of this month so far, days without usage at "0"; empty when the type has
    /// no usage this month.
    pub days: Vec<DayUsage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageData {
    /// "July 2026".
    pub this_month: String,
    /// "June 2026".
    pub last_month: String,
    /// The chart's days in words: "1–14 July 2026".
    pub period: String,
    /// Event types with usage this month or last month, by name.
    pub types: Vec<TypeUsage>,
    /// With no usage in either month: whether there is any before.
    pub earlier: bool,
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::{MonthTotal, TypeUsage, UsageData};
    use crate::billing::chart::DayUsage;
    use crate::error::AppError;
    use gatehouse_domain::billing::{usage, Readable, UsageQuery, UsageTotal, UsageWindow};
    use std::collections::HashMap;
    use time::Date;
    use uuid::Uuid;

    /// The tenant's usage as of now (UTC). The caller has checked the reader may see the
    /// tenant.
    pub async fn usage_of(pool: &sqlx::PgPool, tenant: Uuid) -> Result<UsageData, AppError> {
        let today = time::OffsetDateTime::now_utc().date();
        let (this_month, last_month) = months_of(today)?;
        let tomorrow = today.next_day().ok_or_else(out_of_range)?;
        let readable = Readable(Some(vec![tenant]));
        let months = totals(
            pool,
            &readable,
            Some(last_month),
            tomorrow,
            UsageWindow::Month,
        )
        .await?;
        let days = totals(
            pool,
            &readable,
            Some(this_month),
            tomorrow,
            UsageWindow::Day,
        )
        .await?;
        // Only for the empty state's wording, so only when both months are empty.
        let earlier = months.is_empty()
            && !totals(pool, &readable, None, last_month, UsageWindow::Month)
                .await?
                .is_empty();
        report(today, &months, &days, earlier)
    }

    /// The readable tenants' totals per `window` from `from` (or the first usage) until
    /// the day before `until`, in UTC days.
    async fn totals(
        pool: &sqlx::PgPool,
        readable: &Readable,
        from: Option<Date>,
        until: Date,
        window: UsageWindow,
    ) -> Result<Vec<UsageTotal>, AppError> {
        let query = UsageQuery {
            tenant: None,
            event_type: None,
            from,
            until: Some(until),
            window,
            tz: None,
        };
        usage(pool, readable, &query).await.map_err(AppError::from)
    }

    fn out_of_range() -> AppError {
        AppError::new("today's date is out of range")
    }

    /// The first days of `today`'s month and of the month before.
    fn months_of(today: Date) -> Result<(Date, Date), AppError> {
        let first =
            |d: Date| Date::from_calendar_date(d.year(), d.month(), 1).map_err(|_| out_of_range());
        let this_month = first(today)?;
        let last_month = first(this_month.previous_day().ok_or_else(out_of_range)?)?;
        Ok((this_month, last_month))
    }

    /// A day as the totals name their windows: `YYYY-MM-DD`.
    fn iso(d: Date) -> String {
        format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
    }

    /// The report from the month totals (last month and this) and this month's day totals.
    pub fn report(
        today: Date,
        months: &[UsageTotal],
        days: &[UsageTotal],
        earlier: bool,
    ) -> Result<UsageData, AppError> {
        let (this_month, last_month) = months_of(today)?;
        let (this_key, last_key) = (iso(this_month), iso(last_month));
        let mut calendar = Vec::new();
        let mut day = this_month;
        while day <= today {
            calendar.push(iso(day));
            match day.next_day() {
                Some(next) => day = next,
                None => break,
            }
        }
        let total = |event_type: &str, period: &str| {
            months
                .iter()
                .find(|t| t.event_type == event_type && t.period == period)
                .map(|t| MonthTotal {
                    quantity: t.quantity.clone(),
                    events: t.events,
                })
        };
        let by_day: HashMap<(&str, &str), &str> = days
            .iter()
            .map(|t| {
                (
                    (t.event_type.as_str(), t.period.as_str()),
                    t.quantity.as_str(),
                )
            })
            .collect();
        let mut names: Vec<&str> = months.iter().map(|t| t.event_type.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        let types = names
            .into_iter()
            .map(|name| {
                let this = total(name, &this_key);
                let days = if this.is_some() {
                    calendar
                        .iter()
                        .map(|d| DayUsage {
                            day: d.clone(),
                            quantity: by_day
                                .get(&(name, d.as_str()))
                                .copied()
                                .unwrap_or("0")
                                .to_owned(),
                        })
                        .collect()
                } else {
                    Vec::new()
                };
                TypeUsage {
                    event_type: name.to_owned(),
                    this_month: this,
                    last_month: total(name, &last_key),
                    days,
                }
            })
            .collect();
        let period = if today.day() == 1 {
            format!("1 {} {}", today.month(), today.year())
        } else {
            format!("1–{} {} {}", today.day(), today.month(), today.year())
        };
        Ok(UsageData {
            this_month: format!("{} {}", this_month.month(), this_month.year()),
            last_month: format!("{} {}", last_month.month(), last_month.year()),
            period,
            types,
            earlier,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::report;
        use crate::error::AppError;
        use gatehouse_domain::billing::UsageTotal;
        use time::macros::date;

        fn total(event_type: &str, period: &str, quantity: &str, events: i64) -> UsageTotal {
            UsageTotal {
                tenant: "acme".into(),
                event_type: event_type.into(),
                period: period.into(),
                quantity: quantity.into(),
                events,
            }
        }

        #[test]
        fn months_side_by_side_and_every_day_of_this_month_so_far() -> Result<(), AppError> {
            let months = [
                total("api.call", "2026-01-01", "12", 3),
                total("api.call", "2025-12-01", "40", 4),
                total("export.rows", "2025-12-01", "7", 1),
            ];
            let days = [
                total("api.call", "2026-01-01", "5", 1),
                total("api.call", "2026-01-03", "7", 2),
            ];
            let r = report(date!(2026 - 01 - 04), &months, &days, false)?;
            assert_eq!(r.this_month, "January 2026");
            assert_eq!(r.last_month, "December 2025");
            assert_eq!(r.period, "1–4 January 2026");
            let names: Vec<&str> = r.types.iter().map(|t| t.event_type.as_str()).collect();
            assert_eq!(names, ["api.call", "export.rows"]);
            let calls = &r.types[0];
            assert_eq!(calls.this_month.as_ref().map(|t| t.events), Some(3));
            assert_eq!(
                calls.last_month.as_ref().map(|t| t.quantity.as_str()),
                Some("40")
            );
            let drawn: Vec<(&str, &str)> = calls
                .days
                .iter()
                .map(|d| (d.day.as_str(), d.quantity.as_str()))
                .collect();
            assert_eq!(
                drawn,
                [
                    ("2026-01-01", "5"),
                    ("2026-01-02", "0"),
                    ("2026-01-03", "7"),
                    ("2026-01-04", "0")
                ]
            );
            // Used last month only: in the table, without a chart.
            let rows = &r.types[1];
            assert_eq!(rows.this_month, None);
            assert!(rows.days.is_empty());
            Ok(())
        }

        #[test]
        fn the_first_of_the_month_is_a_period_of_one_day() -> Result<(), AppError> {
            let months = [total("api.call", "2026-03-01", "1", 1)];
            let days = [total("api.call", "2026-03-01", "1", 1)];
            let r = report(date!(2026 - 03 - 01), &months, &days, false)?;
            assert_eq!(r.period, "1 March 2026");
            assert_eq!(r.last_month, "February 2026");
            assert_eq!(r.types[0].days.len(), 1);
            let empty = report(date!(2026 - 03 - 01), &[], &[], true)?;
            assert!(empty.types.is_empty());
            assert!(empty.earlier);
            Ok(())
        }
    }
}

/// Reads the usage of the tenant `id` for the Operator Console's tenant page.
#[server(prefix = "/_rpc", endpoint = "tenant_usage")]
pub async fn tenant_usage(id: String) -> Result<UsageData, AppError> {
    use crate::auth::ssr::pool;
    use crate::ui::ssr::{id_of, not_found_as, operator_for_page};
    const NOT_FOUND: &str = "There is no tenant with this ID.";
    let actor = operator_for_page(&format!("/operator/tenants/{id}")).await?;
    let tenant = id_of(&id, "tenant", NOT_FOUND)?;
    let pool = pool()?;
    // Reading a tenant's usage is reading the tenant: the domain's permission and its
    // "not found".
    gatehouse_domain::tenants::get_tenant(&pool, Some(&actor), tenant)
        .await
        .map_err(|e| not_found_as(e, NOT_FOUND))?;
    ssr::usage_of(&pool, tenant).await
}

// --- the browser side ---------------------------------------------------------------------

/// What the operator reads when a tenant has no usage.
const OPERATOR_HINT: &str = "Applications report usage by sending events to the Billing API \
     (POST /api/v1/billing/events) with a key that has the bill:write scope.";

/// The Usage section of a tenant's page in the Operator Console; it loads its own data.
#[component]
pub fn TenantUsage(tenant_id: String) -> impl IntoView {
    let data = Resource::new_blocking(move || tenant_id.clone(), tenant_usage);
    view! {
        <Card heading_id="tenant-usage-h" title="Usage" extra="mt-6" testid="tenant-usage"
            aside=|| view! { <span class="text-sm text-slate-500">"This month so far and last month, UTC"</span> }>
            <Suspense fallback=|| view! { <p class="mt-3 text-sm text-slate-500">"Loading…"</p> }>
                {move || data.get().map(|r| match r {
                    Ok(d) => view! { <UsageReport data=d empty_hint=OPERATOR_HINT /> }.into_any(),
                    Err(e) => view! { <p class="mt-3 text-sm text-red-700">{e.message}</p> }.into_any(),
                })}
            </Suspense>
        </Card>
    }
}

/// "1 event", "1,234 events".
fn events(n: i64) -> String {
    if n == 1 {
        "1 event".to_owned()
    } else {
        format!("{} events", grouped(&n.to_string()))
    }
}

/// A month's cell: the exact quantity and, under it, the number of events.
fn month_cell(
    total: Option<MonthTotal>,
    quantity_id: &'static str,
    events_id: &'static str,
) -> AnyView {
    match total {
        Some(t) => view! {
            <span class="font-medium text-slate-900" data-testid=quantity_id>{grouped(&t.quantity)}</span>
            <span class="block text-xs text-slate-500" data-testid=events_id>{events(t.events)}</span>
        }
        .into_any(),
        None => view! {
            <span class="text-slate-400" data-testid=quantity_id>"—"</span>
            <span class="sr-only">"nothing reported"</span>
        }
        .into_any(),
    }
}

/// The usage report: the totals table and a chart per event type used this month, or the
/// empty state with `empty_hint` (how usage gets here, for this reader).
#[component]
pub fn UsageReport(data: UsageData, empty_hint: &'static str) -> impl IntoView {
    let UsageData {
        this_month,
        last_month,
        period,
        types,
        earlier,
    } = data;
    if types.is_empty() {
        let title = if earlier {
            format!("No usage reported since {last_month} began")
        } else {
            "No usage reported yet".to_owned()
        };
        return view! { <EmptyState testid="no-usage" title>{empty_hint}</EmptyState> }.into_any();
    }
    let rows: Vec<AnyView> = types
        .iter()
        .map(|t| {
            view! {
                <tr data-testid="usage-row" data-event-type=t.event_type.clone()>
                    <td class=TD_NOWRAP><span class="font-mono text-xs">{t.event_type.clone()}</span></td>
                    <td class=format!("{TD_NOWRAP} text-right tabular-nums")>
                        {month_cell(t.this_month.clone(), "usage-this-month", "usage-events-this-month")}
                    </td>
                    <td class=format!("{TD_NOWRAP} text-right tabular-nums")>
                        {month_cell(t.last_month.clone(), "usage-last-month", "usage-events-last-month")}
                    </td>
                </tr>
            }
            .into_any()
        })
        .collect();
    let columns = vec![
        Column::new("Event type"),
        Column::new("This month").right(),
        Column::new("Last month").right(),
    ];
    let charts: Vec<AnyView> = types
        .into_iter()
        .filter(|t| !t.days.is_empty())
        .map(|t| {
            let TypeUsage {
                event_type,
                this_month: this,
                days,
                ..
            } = t;
            let total = this.map(|m| m.quantity).unwrap_or_default();
            let caption = format!("{} this month", grouped(&total));
            let name = event_type.clone();
            view! {
                <figure class="min-w-0 rounded-md border border-slate-200 p-3" data-testid="usage-figure">
                    <figcaption class="mb-2 flex flex-wrap items-baseline justify-between gap-2 text-sm">
                        <span class="font-mono text-xs font-medium text-slate-700">{name}</span>
                        <span class="tabular-nums text-slate-600">{caption}</span>
                    </figcaption>
                    <DailyBars label=event_type days period=period.clone() total />
                </figure>
            }
            .into_any()
        })
        .collect();
    let per_day = if charts.is_empty() {
        view! { <EmptyNote text=format!("Nothing reported in {this_month} yet.") testid="no-usage-this-month" /> }
            .into_any()
    } else {
        view! { <div class="mt-3 grid gap-4 md:grid-cols-2">{charts}</div> }.into_any()
    };
    view! {
        <p class="mt-1 text-sm text-slate-600">
            {format!("Totals of what applications reported for {this_month} so far and for {last_month}.")}
        </p>
        <DataTable columns rows empty=|| () />
        <h3 class="mt-6 text-sm font-semibold">{format!("Per day, {period}")}</h3>
        <p class="mt-1 text-xs text-slate-500">"One bar per UTC day; point at a bar for its exact quantity."</p>
        {per_day}
    }
    .into_any()
}
