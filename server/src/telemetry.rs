//! Logging: JSON lines by default, each carrying the request id of the request it belongs
//! to (the `request` span's fields are flattened into every event inside it).
//!
//! Distributed tracing (NFR-MON-001; Seed 003 names Jaeger): with `GATEHOUSE_OTLP_ENDPOINT`
//! set, the same spans also go to an OpenTelemetry collector over OTLP/HTTP (JSON bodies;
//! Jaeger takes OTLP on port 4318 itself). A trace is a request: the `request` span with its
//! `request_id`, method and route, the events logged inside it, and one event per SQL
//! statement sqlx ran for it (sqlx 0.8 reports statements as events, not spans).

use crate::config::LogFormat;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::{fmt, prelude::*, EnvFilter, Layer, Registry};

/// What the OpenTelemetry layer receives, whatever `GATEHOUSE_LOG` says (a quiet log must
/// not empty the traces): Gatehouse's own spans and events at info, the `request` span
/// among them; other crates' warnings; and sqlx's statements, which sqlx reports at debug
/// under `sqlx::query` and which reach the traces only, not the log. OpenTelemetry's own
/// diagnostics are never fed back into the spans it is exporting.
const OTLP_FILTER: &str = "warn,gatehouse=info,sqlx::query=debug,opentelemetry=off";

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// Keeps the span export running; dropping it (or `shutdown`) sends what is still
/// buffered. Hold it in `main` until the runtime has finished. Without an endpoint it holds
/// nothing.
#[must_use = "dropping the guard ends the span export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Exports the spans still buffered and stops the exporter. Blocks (the SDK's shutdown
    /// waits up to 5 s), so call it after the runtime is done, as `Drop` in `main` does.
    pub fn shutdown(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(e) = provider.shutdown() {
                tracing::warn!(error = %e, "the last spans may not have been exported");
            }
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Logs go to stdout for the server; commands that print results (JSON for scripts) log
/// to stderr, so their stdout stays parseable. `otlp_endpoint` (`GATEHOUSE_OTLP_ENDPOINT`)
/// turns on span export; an unusable one is logged and the server runs without it.
pub fn init(
    filter: &str,
    format: LogFormat,
    to_stderr: bool,
    otlp_endpoint: Option<&str>,
) -> Telemetry {
    let writer = || {
        if to_stderr {
            BoxMakeWriter::new(std::io::stderr)
        } else {
            BoxMakeWriter::new(std::io::stdout)
        }
    };
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // The log's filter is the log layer's own, not the whole subscriber's: the trace layer
    // below sees events (sqlx's statements) the log leaves out.
    let log: BoxedLayer = match format {
        LogFormat::Json => fmt::layer()
            .with_writer(writer())
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_target(true)
            .with_filter(filter)
            .boxed(),
        LogFormat::Pretty => fmt::layer()
            .with_writer(writer())
            .compact()
            .with_filter(filter)
            .boxed(),
    };
    let mut layers = vec![log];

    let otlp = otlp_endpoint
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(tracer_provider);
    let mut provider = None;
    if let Some(Ok((p, _))) = &otlp {
        let traces: BoxedLayer = tracing_opentelemetry::layer()
            .with_tracer(p.tracer("gatehouse"))
            .with_filter(EnvFilter::new(OTLP_FILTER))
            .boxed();
        layers.push(traces);
        provider = Some(p.clone());
    }
    let _ = tracing_subscriber::registry().with(layers).try_init();
    // Said once the log exists.
    match otlp {
        Some(Ok((_, url))) => tracing::info!(%url, "spans are exported over OTLP/HTTP"),
        Some(Err(error)) => tracing::error!(
            %error,
            "GATEHOUSE_OTLP_ENDPOINT is unusable: spans are not exported"
        ),
        None => {}
    }
    Telemetry { provider }
}

/// The provider batching spans to `endpoint`, and the URL they go to. The SDK's batch
/// processor exports from a thread of its own, outside the tokio runtime, so the exporter
/// uses the blocking HTTP client (an async one would need a runtime that thread lacks);
/// `OTEL_BSP_SCHEDULE_DELAY` (ms, default 5000) and the other `OTEL_BSP_*` variables tune
/// the batches, `OTEL_EXPORTER_OTLP_TRACES_HEADERS` adds headers (a collector's token),
/// `OTEL_TRACES_SAMPLER` samples.
fn tracer_provider(endpoint: &str) -> Result<(SdkTracerProvider, String), String> {
    let url = traces_url(endpoint)?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        // Taken as the full URL: the exporter appends `/v1/traces` only to the
        // `OTEL_EXPORTER_OTLP_ENDPOINT` variable, never to a configured endpoint.
        .with_endpoint(url.clone())
        .build()
        .map_err(|e| e.to_string())?;
    let resource = Resource::builder()
        .with_service_name("gatehouse")
        .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
        .build();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build();
    Ok((provider, url))
}

/// `http://host:4318` → `http://host:4318/v1/traces`, read like
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (a URL already ending in `/v1/traces` is kept). Plain
/// http only: no TLS client is built in (a collector or Jaeger agent runs beside
/// Gatehouse). User info and query are dropped, so the URL can be logged.
fn traces_url(endpoint: &str) -> Result<String, String> {
    let uri: axum::http::Uri = endpoint
        .parse()
        .map_err(|_| "not a URL (expected http://host:port)".to_owned())?;
    let host = match (uri.scheme_str(), uri.host()) {
        (Some("http"), Some(host)) if !host.is_empty() => host,
        _ => return Err("expected an http://host:port URL (no TLS client is built in)".into()),
    };
    let port = uri.port_u16().map(|p| format!(":{p}")).unwrap_or_default();
    let path = uri.path().trim_end_matches('/');
    let path = if path.ends_with("/v1/traces") {
        path.to_owned()
    } else {
        format!("{path}/v1/traces")
    };
    Ok(format!("http://{host}{port}{path}"))
}

#[cfg(test)]
mod tests {
    use super::traces_url;

    #[test]
    fn endpoints_become_the_traces_url() {
        for (given, want) in [
            ("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces"),
            ("http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces"),
            (
                "http://jaeger:4318/v1/traces",
                "http://jaeger:4318/v1/traces",
            ),
            ("http://c.example/otlp/", "http://c.example/otlp/v1/traces"),
            (
                "http://u:secret@[::1]:4318?x=1",
                "http://[::1]:4318/v1/traces",
            ),
        ] {
            assert_eq!(traces_url(given).as_deref(), Ok(want), "{given}");
        }
        for bad in [
            "https://c.example:4318",
            "127.0.0.1:4318",
            "not a url",
            "grpc://c:4317",
        ] {
            assert!(traces_url(bad).is_err(), "{bad}");
        }
    }
}
