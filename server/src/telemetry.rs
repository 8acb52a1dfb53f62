//! Logging: JSON lines by default, each carrying the request id of the request it belongs
//! to (the `request` span's fields are flattened into every event inside it).

use crate::config::LogFormat;
use tracing_subscriber::fmt::writer::BoxMakeWriter;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Logs go to stdout for the server; commands that print results (JSON for scripts) log
/// to stderr, so their stdout stays parseable.
pub fn init(filter: &str, format: LogFormat, to_stderr: bool) {
    let writer = || {
        if to_stderr {
            BoxMakeWriter::new(std::io::stderr)
        } else {
            BoxMakeWriter::new(std::io::stdout)
        }
    };
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .with_writer(writer())
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_span_list(false)
                    .with_target(true),
            )
            .try_init(),
        LogFormat::Pretty => registry
            .with(fmt::layer().with_writer(writer()).compact())
            .try_init(),
    };
}
