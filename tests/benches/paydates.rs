//! `make bench`: one day with 20,000 pay dates across 20,000 loans in DynamoDB Local, then, in
//! one run:
//! - raw: the time to read that day straight from the `byDate` index (every page, every item):
//!   the least any implementation must do to hand back all of them;
//! - api: the time to page through the same day through the real `list-paydates` handler
//!   (limit 1000, the default, and 5000, the maximum), with every page's size, and the counts
//!   checked against what was loaded;
//! - the ratio api / raw, and the peak memory (VmHWM) of a process that does only the paging.
//!
//! A benchmark, not a test: it reports, it asserts nothing about time.

use aws_sdk_dynamodb::types::AttributeValue;
use integration_tests::{customer, loan_line, pay_date_line, TestApp};
use lambda_http::{Body, RequestExt};
use shared::import::Kind;
use shared::store::{sdk_config, Store, Tables};
use std::collections::HashMap;
use std::time::Instant;

const DAY: &str = "2024-07-11";
const LOANS: u64 = 20_000;
const CUSTOMERS: u64 = 200;

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

async fn store_from_env() -> Store {
    let prefix = std::env::var("BENCH_PREFIX").expect("BENCH_PREFIX");
    Store::from_config(&sdk_config().await, Tables::with_prefix(&prefix))
}

/// Child mode "raw": read the whole day from the index, every item.
async fn raw() {
    let store = store_from_env().await;
    let started = Instant::now();
    let (mut items, mut queries, mut start) = (0usize, 0usize, None);
    loop {
        let page = store
            .client
            .query()
            .table_name(&store.tables.pay_dates)
            .index_name("byDate")
            .key_condition_expression("#d = :d")
            .expression_attribute_names("#d", "date")
            .expression_attribute_values(":d", AttributeValue::S(DAY.into()))
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("query");
        queries += 1;
        items += page.items().len();
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    println!(
        "RESULT raw seconds={:.3} items={items} queries={queries}",
        started.elapsed().as_secs_f64()
    );
}

/// Child mode "page": page through the day with the real handler.
async fn page(limit: &str) {
    let store = store_from_env().await;
    let key = std::env::var("BENCH_KEY").expect("BENCH_KEY");
    let before = peak_rss_kib();
    let started = Instant::now();
    let (mut cursor, mut pages, mut items, mut max_bytes): (Option<String>, usize, usize, usize) =
        (None, 0, 0, 0);
    let mut ids = std::collections::HashSet::new();
    let mut counts;
    loop {
        let mut query = HashMap::from([
            ("date".to_string(), DAY.to_string()),
            ("limit".to_string(), limit.to_string()),
        ]);
        if let Some(c) = &cursor {
            query.insert("cursor".into(), c.clone());
        }
        let req = lambda_http::http::Request::builder()
            .method("GET")
            .uri("/webhook/v1/json/paydates")
            .header("authorization", format!("Bearer {key}"))
            .body(Body::Empty)
            .unwrap()
            .with_query_string_parameters(query);
        let resp = list_paydates::handler(&store, req).await.expect("handler");
        assert_eq!(resp.status(), 200, "{:?}", resp.body());
        let body = resp.body().as_ref().to_vec();
        max_bytes = max_bytes.max(body.len());
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for p in v["data"].as_array().unwrap() {
            ids.insert((p["loanId"].as_u64().unwrap(), p["id"].as_u64().unwrap()));
            items += 1;
        }
        counts = v["metadata"].to_string(); // the last page's counts are checked
        pages += 1;
        match v["metadata"]["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let counts: serde_json::Value = serde_json::from_str(&counts).unwrap();
    println!(
        "RESULT page limit={limit} seconds={secs:.3} pages={pages} items={items} distinct={} max_page_bytes={max_bytes} total={} paid={} partial={} open={} rss_before_kib={before} peak_rss_kib={}",
        ids.len(),
        counts["totalCount"], counts["numPaid"], counts["numPartial"], counts["numOpen"],
        peak_rss_kib()
    );
}

fn child(mode: &[&str], prefix: &str, key: &str) -> HashMap<String, String> {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(mode)
        .env("BENCH_PREFIX", prefix)
        .env("BENCH_KEY", key)
        .output()
        .expect("child runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find(|l| l.starts_with("RESULT"))
        .unwrap_or_else(|| {
            panic!(
                "child {mode:?} failed: {text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    line.split_whitespace()
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.first().map(String::as_str) {
        Some("raw") => return raw().await,
        Some("page") => return page(&args[1]).await,
        _ => {}
    }
    let app = TestApp::new().await;
    let prefix = app
        .store
        .tables
        .customers
        .trim_end_matches("customers")
        .to_string();
    println!("loading {LOANS} loans for {CUSTOMERS} customers and {LOANS} pay dates on {DAY} into DynamoDB Local...");
    for g in 1..=CUSTOMERS {
        let mut c = customer(g);
        c["ssn"] = "321-54-9876".into();
        app.create(&c).await;
    }
    let loans: String = (1..=LOANS)
        .map(|l| loan_line(l, 1 + l % CUSTOMERS, "2024-01-01") + "\n")
        .collect();
    let t = Instant::now();
    app.import_ok(Kind::Loans, &loans).await;
    let loan_secs = t.elapsed().as_secs_f64();
    let (mut paid, mut partial, mut open) = (0, 0, 0);
    let pay_dates: String = (1..=LOANS)
        .map(|l| {
            let paid_amount = match l % 3 {
                0 => {
                    paid += 1;
                    "100.00"
                }
                1 => {
                    partial += 1;
                    "40.00"
                }
                _ => {
                    open += 1;
                    "0.00"
                }
            };
            pay_date_line(l, l, DAY, "100.00", paid_amount) + "\n"
        })
        .collect();
    let t = Instant::now();
    app.import_ok(Kind::PayDates, &pay_dates).await;
    let pay_secs = t.elapsed().as_secs_f64();
    println!("import: {LOANS} loans in {loan_secs:.1}s ({:.0}/s), {LOANS} pay dates in {pay_secs:.1}s ({:.0}/s)",
        LOANS as f64 / loan_secs, LOANS as f64 / pay_secs);

    let runs = 3;
    let raw: Vec<HashMap<String, String>> = (0..runs)
        .map(|_| child(&["raw"], &prefix, &app.key))
        .collect();
    let raw_secs = median(raw.iter().map(|r| r["seconds"].parse().unwrap()).collect());
    println!("raw: the day straight from the byDate index: {} items in {} queries, median {raw_secs:.3}s", raw[0]["items"], raw[0]["queries"]);
    for limit in ["1000", "5000"] {
        let results: Vec<HashMap<String, String>> = (0..runs)
            .map(|_| child(&["page", limit], &prefix, &app.key))
            .collect();
        let secs = median(
            results
                .iter()
                .map(|r| r["seconds"].parse().unwrap())
                .collect(),
        );
        let r = &results[0];
        let exact = r["total"] == LOANS.to_string()
            && r["paid"] == paid.to_string()
            && r["partial"] == partial.to_string()
            && r["open"] == open.to_string()
            && r["distinct"] == LOANS.to_string()
            && r["items"] == LOANS.to_string();
        let max_bytes: f64 = r["max_page_bytes"].parse().unwrap();
        println!(
            "api: limit={limit}: {} pages, {} items ({} distinct), median {secs:.3}s, ratio api/raw = {:.2}, largest page {:.2} MB (Lambda's limit 6 MB), counts exact: {exact}, peak memory {:.1} MiB (process before paging {:.1} MiB)",
            r["pages"], r["items"], r["distinct"], secs / raw_secs, max_bytes / 1e6,
            r["peak_rss_kib"].parse::<f64>().unwrap() / 1024.0, r["rss_before_kib"].parse::<f64>().unwrap() / 1024.0
        );
    }
}
