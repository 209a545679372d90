//! Logs: one JSON object a line, with the Lambda request id (the runtime's span carries it, and
//! every line of ours names it), level from `RUST_LOG` (default `info`). Nothing logs a header,
//! a body or a key.
//!
//! Whatever `RUST_LOG` says, only this project's own crates may log below `info`. At `debug`
//! and `trace` the libraries log what must never reach a log: lambda_runtime the raw event (its
//! `Authorization` header and body), the AWS SDK the DynamoDB requests and items, hyper and h2
//! the bytes on the wire.

use tracing::{Level, Metadata};
use tracing_subscriber::filter::FilterFn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

/// The crates whose `debug` and `trace` lines are ours: they never format a secret.
const OWN_CRATES: [&str; 8] = [
    "shared",
    "create_customer",
    "get_customer",
    "update_customer",
    "delete_customer",
    "get_loan_paydates",
    "list_paydates",
    "tasksuite_admin",
];

fn own(target: &str) -> bool {
    OWN_CRATES.iter().any(|c| {
        target == *c
            || target
                .strip_prefix(c)
                .is_some_and(|rest| rest.starts_with("::"))
    })
}

/// Whether a line may be written at all: `info` and above from anyone, below that from our
/// own crates only.
pub fn allowed(meta: &Metadata<'_>) -> bool {
    *meta.level() <= Level::INFO || own(meta.target())
}

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
    let layer = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(writer)
        .with_target(false)
        .with_current_span(true)
        .with_span_list(false)
        .with_filter(FilterFn::new(allowed))
        .with_filter(filter());
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_crates_log_below_info() {
        for t in ["shared", "shared::edge", "list_paydates", "create_customer"] {
            assert!(own(t), "{t}");
        }
        for t in [
            "lambda_runtime",
            "lambda_runtime::layers::api_response",
            "lambda_http",
            "aws_smithy_runtime::client::http",
            "aws_sdk_dynamodb",
            "hyper",
            "hyper_util::client",
            "h2::codec",
            "rustls::conn",
            "sharedlib",
            "shared_other",
        ] {
            assert!(!own(t), "{t}");
        }
    }
}
