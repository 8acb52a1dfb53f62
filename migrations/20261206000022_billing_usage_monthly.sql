-- Monthly usage totals (issue 19): the exact total per tenant × type × UTC month, kept in
-- the same transaction as the events and voids, like the daily rollup (migration 0020).
-- Month totals for every tenant then read tens of thousands of rows, not the daily
-- rollup's hundreds of thousands.
CREATE TABLE billing_usage_monthly (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE RESTRICT,
    event_type text NOT NULL,
    month      date NOT NULL CHECK (extract(day FROM month) = 1),
    quantity   numeric NOT NULL,
    events     bigint NOT NULL,
    PRIMARY KEY (tenant_id, event_type, month)
);
CREATE INDEX billing_usage_monthly_month_idx ON billing_usage_monthly (month, tenant_id);

INSERT INTO billing_usage_monthly (tenant_id, event_type, month, quantity, events)
SELECT tenant_id, event_type, date_trunc('month', day)::date, sum(quantity), sum(events)
  FROM billing_usage_daily
 GROUP BY 1, 2, 3;
