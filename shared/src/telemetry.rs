//! Logs: one JSON object a line, with the Lambda request id (the runtime's span carries it, and
//! every line of ours names it), level from `RUST_LOG` (default `info`). Nothing logs a header,
//! a body or a key.

use tracing_subscriber::fmt::MakeWriter;

fn filter() -> tracing_subscriber::EnvFilter {
    tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
}

pub fn init() {
    init_with_writer(std::io::stdout);
}

/// The same subscriber writing elsewhere: the tests read what would have been logged.
pub fn init_with_writer<W>(writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter())
        .with_writer(writer)
        .with_target(false)
        .with_current_span(true)
        .with_span_list(false)
        .try_init();
}
