//! `make bench`: pay dates at lender scale in DynamoDB Local, through the real `list-paydates`
//! handler, against the raw index reads of the same rows. One run reports:
//!
//! - (a) a day of 20,000 pay dates walked at 100, 1000 and 5000 a page: time and read capacity
//!   units (`ReturnConsumedCapacity=TOTAL`) per page, against reading the same rows straight
//!   from the `byDate` index with the same page size;
//! - (b) the same for a day of 100,000;
//! - (c) the first page on the 20,000 day against the first page on a day of 100;
//! - and, beside them, the `sort=amount` walks of the 20,000 day against the `byDateAmount`
//!   index, and the peak memory of each walking process.
//!
//! A benchmark, not a test: it reports figures and asserts nothing about time. Each walk runs in
//! a fresh process (so its peak memory is its own); times are medians of several runs.

use aws_sdk_dynamodb::operation::get_item::{GetItemInput, GetItemOutput};
use aws_sdk_dynamodb::operation::query::{QueryInput, QueryOutput};
use aws_sdk_dynamodb::types::{AttributeValue, ConsumedCapacity, ReturnConsumedCapacity};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    AfterDeserializationInterceptorContextRef, BeforeSerializationInterceptorContextMut,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use integration_tests::{customer, loan_line, pay_date_line, TestApp};
use lambda_http::{Body, RequestExt};
use shared::import::Kind;
use shared::store::{sdk_config, Store, Tables};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Instant;

const SMALL_DAY: &str = "2024-07-10";
const DAY_20K: &str = "2024-07-11";
const DAY_100K: &str = "2024-07-12";
const CUSTOMERS: u64 = 200;
/// Imports run side by side, each on the loans with one remainder (so that they write
/// different counter items and do not contend).
const IMPORTERS: u64 = 4;
/// Runs of each walk on the 20,000 day (the 100,000 day: one, for time's sake).
const RUNS: usize = 3;
const FIRST_PAGE_RUNS: usize = 25;

fn day_size(day: &str) -> u64 {
    match day {
        SMALL_DAY => 100,
        DAY_20K => 20_000,
        _ => 100_000,
    }
}

/// Read capacity consumed, by table, for every Query and GetItem the client makes: the
/// interceptor asks each for `ReturnConsumedCapacity=TOTAL` and adds up the answers.
#[derive(Debug, Default, Clone)]
struct Meter(Arc<Mutex<BTreeMap<String, f64>>>);

impl Meter {
    fn add(&self, c: Option<&ConsumedCapacity>) {
        if let Some(c) = c {
            let table = c.table_name().unwrap_or("?").to_string();
            *self.0.lock().unwrap().entry(table).or_default() += c.capacity_units().unwrap_or(0.0);
        }
    }

    fn take(&self) -> BTreeMap<String, f64> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Intercept for Meter {
    fn name(&self) -> &'static str {
        "ConsumedCapacityMeter"
    }

    fn modify_before_serialization(
        &self,
        context: &mut BeforeSerializationInterceptorContextMut<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let input = context.input_mut();
        if let Some(q) = input.downcast_mut::<QueryInput>() {
            q.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
        } else if let Some(g) = input.downcast_mut::<GetItemInput>() {
            g.return_consumed_capacity = Some(ReturnConsumedCapacity::Total);
        }
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _: &RuntimeComponents,
        _: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Ok(out) = context.output_or_error() {
            if let Some(q) = out.downcast_ref::<QueryOutput>() {
                self.add(q.consumed_capacity());
            } else if let Some(g) = out.downcast_ref::<GetItemOutput>() {
                self.add(g.consumed_capacity());
            }
        }
        Ok(())
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

async fn metered_store() -> (Store, Meter) {
    let prefix = std::env::var("BENCH_PREFIX").expect("BENCH_PREFIX");
    let meter = Meter::default();
    let conf = aws_sdk_dynamodb::config::Builder::from(&sdk_config().await)
        .interceptor(meter.clone())
        .build();
    let store = Store {
        client: aws_sdk_dynamodb::Client::from_conf(conf),
        ..Store::from_config(&sdk_config().await, Tables::with_prefix(&prefix))
    };
    // One small read first, so that no figure includes opening the connection.
    store
        .client
        .query()
        .table_name(&store.tables.pay_dates)
        .index_name("byDate")
        .key_condition_expression("#d = :d")
        .expression_attribute_names("#d", "date")
        .expression_attribute_values(":d", AttributeValue::S(SMALL_DAY.into()))
        .limit(1)
        .send()
        .await
        .expect("warm-up query");
    meter.take();
    (store, meter)
}

fn result(fields: &[(&str, String)]) {
    let kv: Vec<String> = fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
    println!("RESULT {}", kv.join(" "));
}

/// Splits what the meter saw into pay-date reads (the pay-dates table and its indexes), the
/// counters, and the API-key look-ups.
fn split(units: &BTreeMap<String, f64>) -> (f64, f64, f64) {
    let of = |suffix: &str| -> f64 {
        units
            .iter()
            .filter(|(t, _)| t.ends_with(suffix))
            .map(|(_, u)| *u)
            .sum()
    };
    (of("pay-dates"), of("pay-date-counts"), of("api-keys"))
}

async fn call(store: &Store, key: &str, query: &[(String, String)]) -> serde_json::Value {
    let mut q: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in query {
        q.entry(k.clone()).or_default().push(v.clone());
    }
    let req = lambda_http::http::Request::builder()
        .method("GET")
        .uri("/webhook/v1/json/paydates")
        .header("authorization", format!("Bearer {key}"))
        .body(Body::Empty)
        .unwrap()
        .with_query_string_parameters(q);
    let resp = list_paydates::handler(store, shared::time::Clock::System, req)
        .await
        .expect("handler");
    assert_eq!(resp.status(), 200, "{:?}", resp.body());
    serde_json::from_slice(resp.body().as_ref()).unwrap()
}

/// Child "walk DAY LIMIT SORT ORDER": every page of the day through the handler.
async fn walk(day: &str, limit: &str, sort: &str, order: &str) {
    let (store, meter) = metered_store().await;
    let key = std::env::var("BENCH_KEY").expect("BENCH_KEY");
    let mut cursor: Option<String> = None;
    let (mut pages, mut items, mut max_bytes) = (0usize, 0usize, 0usize);
    let mut ids = HashSet::new();
    let mut counts_exact = true;
    let expected = day_size(day);
    let mut last_amount = None;
    let mut in_order = true;
    let started = Instant::now();
    loop {
        let mut q = vec![
            ("date".to_string(), day.to_string()),
            ("limit".to_string(), limit.to_string()),
            ("sort".to_string(), sort.to_string()),
            ("order".to_string(), order.to_string()),
        ];
        if let Some(c) = &cursor {
            q.push(("cursor".into(), c.clone()));
        }
        let v = call(&store, &key, &q).await;
        let data = v["data"].as_array().unwrap();
        max_bytes = max_bytes.max(v.to_string().len());
        for p in data {
            ids.insert(p["id"].as_u64().unwrap());
            let amount = p["amount"].as_f64().unwrap();
            if let Some(prev) = last_amount {
                let ok = match (sort, order) {
                    ("amount", "asc") => prev <= amount,
                    ("amount", _) => prev >= amount,
                    _ => true,
                };
                in_order &= ok;
            }
            last_amount = Some(amount);
        }
        items += data.len();
        let m = &v["metadata"];
        // Loans 1..=n: l % 3 == 0 paid, 1 partial, 2 open.
        counts_exact &= m["totalCount"] == expected
            && m["numPaid"] == expected / 3
            && m["numPartial"] == expected.div_ceil(3)
            && m["numOpen"] == (expected + 1) / 3;
        pages += 1;
        match m["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let (rows, counters, auth) = split(&meter.take());
    result(&[
        ("seconds", format!("{secs:.4}")),
        ("pages", pages.to_string()),
        ("items", items.to_string()),
        ("distinct", ids.len().to_string()),
        ("rcu_rows", format!("{rows:.1}")),
        ("rcu_counters", format!("{counters:.1}")),
        ("rcu_auth", format!("{auth:.1}")),
        ("counts_exact", counts_exact.to_string()),
        ("in_order", in_order.to_string()),
        ("max_page_bytes", max_bytes.to_string()),
        ("peak_rss_kib", peak_rss_kib().to_string()),
    ]);
}

/// Child "raw DAY LIMIT INDEX FORWARD": the same rows straight from the index, `LIMIT` a call.
async fn raw(day: &str, limit: &str, index: &str, forward: bool) {
    let (store, meter) = metered_store().await;
    let limit: i32 = limit.parse().unwrap();
    let (mut pages, mut items, mut start) = (0usize, 0usize, None);
    let started = Instant::now();
    loop {
        let page = store
            .client
            .query()
            .table_name(&store.tables.pay_dates)
            .index_name(index)
            .key_condition_expression("#d = :d")
            .expression_attribute_names("#d", "date")
            .expression_attribute_values(":d", AttributeValue::S(day.into()))
            .scan_index_forward(forward)
            .limit(limit)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("query");
        // What a handler does with rows at the least: turn them into records.
        for item in page.items() {
            shared::records::Record::from_item(shared::records::PAY_DATE_FIELDS, item).unwrap();
        }
        items += page.items().len();
        if !page.items().is_empty() {
            pages += 1;
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    let (rows, _, _) = split(&meter.take());
    result(&[
        ("seconds", format!("{secs:.4}")),
        ("pages", pages.to_string()),
        ("items", items.to_string()),
        ("rcu_rows", format!("{rows:.1}")),
    ]);
}

/// Child "first DAY LIMIT": the first page, again and again (warm), median time.
async fn first(day: &str, limit: &str) {
    let (store, meter) = metered_store().await;
    let key = std::env::var("BENCH_KEY").expect("BENCH_KEY");
    let q = vec![
        ("date".to_string(), day.to_string()),
        ("limit".to_string(), limit.to_string()),
    ];
    call(&store, &key, &q).await;
    meter.take();
    let mut times = Vec::new();
    for _ in 0..FIRST_PAGE_RUNS {
        let t = Instant::now();
        call(&store, &key, &q).await;
        times.push(t.elapsed().as_secs_f64());
    }
    let (rows, counters, auth) = split(&meter.take());
    let n = FIRST_PAGE_RUNS as f64;
    result(&[
        ("median_ms", format!("{:.2}", median(times) * 1000.0)),
        ("rcu_rows", format!("{:.1}", rows / n)),
        ("rcu_counters", format!("{:.1}", counters / n)),
        ("rcu_auth", format!("{:.1}", auth / n)),
    ]);
}

fn child(args: &[&str], prefix: &str, key: &str) -> HashMap<String, String> {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(args)
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
                "child {args:?} failed: {text}\n{}",
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

type Figures = HashMap<String, String>;

/// Runs the API walk and the raw read alternately, `runs` times each, so that both meet the
/// same load on the machine: the first run's figures of each, with their median times.
fn compare(
    api: &[&str],
    raw: &[&str],
    runs: usize,
    prefix: &str,
    key: &str,
) -> (Figures, f64, Figures, f64) {
    let (mut a, mut r) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        a.push(child(api, prefix, key));
        r.push(child(raw, prefix, key));
    }
    let secs = |v: &[Figures]| median(v.iter().map(|f| f["seconds"].parse().unwrap()).collect());
    let (a_secs, r_secs) = (secs(&a), secs(&r));
    (a.swap_remove(0), a_secs, r.swap_remove(0), r_secs)
}

fn f(r: &HashMap<String, String>, k: &str) -> f64 {
    r[k].parse().unwrap()
}

/// The pay-date lines of a day for loans 1..=n whose id leaves `part` modulo IMPORTERS: the
/// state cycles paid, partial, open; amounts take 200 values, so that amounts tie.
fn pay_date_lines(day: &str, day_no: u64, n: u64, part: u64) -> String {
    (1..=n)
        .filter(|l| l % IMPORTERS == part)
        .map(|l| {
            let amount = format!("{}.00", 50 + l % 200);
            let paid = match l % 3 {
                0 => amount.clone(),
                1 => "10.00".to_string(),
                _ => "0.00".to_string(),
            };
            pay_date_line(day_no * 1_000_000 + l, l, day, &amount, &paid) + "\n"
        })
        .collect()
}

async fn load(app: &Arc<TestApp>) {
    let loans = day_size(DAY_100K);
    println!(
        "loading {loans} loans ({CUSTOMERS} customers) and 120,100 pay dates on {SMALL_DAY} (100), {DAY_20K} (20,000), {DAY_100K} (100,000), {IMPORTERS} imports side by side..."
    );
    for g in 1..=CUSTOMERS {
        app.create(&customer(g)).await;
    }
    let t = Instant::now();
    let tasks: Vec<_> = (0..IMPORTERS)
        .map(|part| {
            let app = app.clone();
            tokio::spawn(async move {
                let lines: String = (1..=loans)
                    .filter(|l| l % IMPORTERS == part)
                    .map(|l| loan_line(l, 1 + l % CUSTOMERS, "2024-01-01") + "\n")
                    .collect();
                app.import_ok(Kind::Loans, &lines).await;
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let loan_secs = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let tasks: Vec<_> = (0..IMPORTERS)
        .map(|part| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut lines = pay_date_lines(SMALL_DAY, 1, day_size(SMALL_DAY), part);
                lines += &pay_date_lines(DAY_20K, 2, day_size(DAY_20K), part);
                lines += &pay_date_lines(DAY_100K, 3, day_size(DAY_100K), part);
                app.import_ok(Kind::PayDates, &lines).await;
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let pay_secs = t.elapsed().as_secs_f64();
    println!(
        "import: {loans} loans in {loan_secs:.1} s ({:.0}/s); 120,100 pay dates with their counters in {pay_secs:.1} s ({:.0}/s)",
        loans as f64 / loan_secs,
        120_100.0 / pay_secs
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["walk", day, limit, sort, order] => return walk(day, limit, sort, order).await,
        ["raw", day, limit, index, dir] => return raw(day, limit, index, *dir == "forward").await,
        ["first", day, limit] => return first(day, limit).await,
        _ => {}
    }
    let app = Arc::new(TestApp::new().await);
    let prefix = app
        .store
        .tables
        .customers
        .trim_end_matches("customers")
        .to_string();
    let key = app.key.clone();
    let setup = Instant::now();
    load(&app).await;

    let mut table = Vec::new();
    for (label, day, runs) in [("a", DAY_20K, RUNS), ("b", DAY_100K, 1)] {
        for limit in ["100", "1000", "5000"] {
            let (api, api_secs, raw, raw_secs) = compare(
                &["walk", day, limit, "date", "asc"],
                &["raw", day, limit, "byDate", "forward"],
                runs,
                &prefix,
                &key,
            );
            report(
                &mut table, label, day, limit, "date", &api, api_secs, &raw, raw_secs,
            );
        }
    }
    for order in ["asc", "desc"] {
        let dir = if order == "asc" {
            "forward"
        } else {
            "backward"
        };
        let (api, api_secs, raw, raw_secs) = compare(
            &["walk", DAY_20K, "1000", "amount", order],
            &["raw", DAY_20K, "1000", "byDateAmount", dir],
            RUNS,
            &prefix,
            &key,
        );
        let sort = format!("amount {order}");
        report(
            &mut table, "+", DAY_20K, "1000", &sort, &api, api_secs, &raw, raw_secs,
        );
    }
    println!();
    println!(
        "(c) first page, warm, median of {FIRST_PAGE_RUNS} calls, two processes each, alternating:"
    );
    for limit in ["100", "1000"] {
        let mut pairs = Vec::new();
        for _ in 0..2 {
            pairs.push((
                child(&["first", SMALL_DAY, limit], &prefix, &key),
                child(&["first", DAY_20K, limit], &prefix, &key),
            ));
        }
        let mean = |big: bool, k: &str| {
            pairs
                .iter()
                .map(|(s, b)| f(if big { b } else { s }, k))
                .sum::<f64>()
                / pairs.len() as f64
        };
        let (small, big) = (&pairs[0].0, &pairs[0].1);
        let (s, b) = (mean(false, "median_ms"), mean(true, "median_ms"));
        println!(
            "  limit={limit}: day of 100: {s:.2} ms ({} RCU rows + {} counters + {} key); day of 20,000: {b:.2} ms ({} + {} + {}); ratio {:.2}",
            small["rcu_rows"], small["rcu_counters"], small["rcu_auth"],
            big["rcu_rows"], big["rcu_counters"], big["rcu_auth"],
            b / s
        );
        table.push(format!(
            "| (c) first page, limit={limit} | 20,000 vs 100 | {b:.2} ms vs {s:.2} ms: **{:.2}×** | {} vs {} RCU | within 2× |",
            b / s,
            f(big, "rcu_rows") + f(big, "rcu_counters"),
            f(small, "rcu_rows") + f(small, "rcu_counters"),
        ));
    }
    println!();
    println!("The README's table:");
    println!("| figure | day | API (time; read units per page) vs raw index read | ratio time / RCU | target |");
    println!("|---|---|---|---|---|");
    for row in table {
        println!("{row}");
    }
    println!("bench done in {:.0} s", setup.elapsed().as_secs_f64());
}

#[allow(clippy::too_many_arguments)]
fn report(
    table: &mut Vec<String>,
    label: &str,
    day: &str,
    limit: &str,
    sort: &str,
    api: &HashMap<String, String>,
    api_secs: f64,
    raw: &HashMap<String, String>,
    raw_secs: f64,
) {
    let pages = f(api, "pages");
    let api_rows = f(api, "rcu_rows") + f(api, "rcu_counters");
    let raw_rows = f(raw, "rcu_rows");
    let exact = api["counts_exact"] == "true"
        && api["in_order"] == "true"
        && api["items"] == day_size(day).to_string()
        && api["distinct"] == day_size(day).to_string();
    println!(
        "({label}) {} pay dates, sort={sort}, limit={limit}: API {pages} pages in {api_secs:.3} s ({:.2} ms/page), {:.1} RCU/page (rows {} + counters {}; key look-ups {} more) | raw {} calls in {raw_secs:.3} s ({:.2} ms/call), {:.1} RCU/call | ratio time {:.2}, RCU {:.2} | every pay date once, in order, counts exact on every page: {exact} | largest page {:.2} MB, peak memory {:.1} MiB",
        day_size(day),
        api_secs * 1000.0 / pages,
        api_rows / pages,
        api["rcu_rows"], api["rcu_counters"], api["rcu_auth"],
        raw["pages"],
        raw_secs * 1000.0 / f(raw, "pages"),
        raw_rows / f(raw, "pages"),
        api_secs / raw_secs,
        api_rows / raw_rows,
        f(api, "max_page_bytes") / 1e6,
        f(api, "peak_rss_kib") / 1024.0,
    );
    let target = if limit == "1000" && sort == "date" {
        "within 1.5×"
    } else {
        "(figure)"
    };
    table.push(format!(
        "| ({label}) walk, sort={sort}, limit={limit} | {} | {pages} pages, {api_secs:.2} s, {:.1} RCU/page vs {:.2} s, {:.1} RCU/call | **{:.2}× / {:.2}×** | {target} |",
        day_size(day),
        api_rows / pages,
        raw_secs,
        raw_rows / f(raw, "pages"),
        api_secs / raw_secs,
        api_rows / raw_rows,
    ));
}
