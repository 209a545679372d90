//! Each operation's own store calls broken, one at a time, with every kind of fault, through
//! the fault-injecting proxy (`integration_tests::faults`): the answer is the contract's 503
//! with `x-request-id`, nothing is half-written (the tables are read back directly), and once
//! the fault clears the same handler over the same store answers again. The API-key lookup is
//! never the call broken here (`failures.rs` covers it).

use integration_tests::faults::{
    on, Fault, FaultProxy, Hits, Match, PAST_QUICK_TIMEOUT, PATIENT, QUICK,
};
use integration_tests::{customer, loan_line, pay_date_line, scan_all, Op, Response, TestApp};
use serde_json::json;
use shared::customer::GiggleId;
use shared::import::Kind;

mod frozen;
mod import;

/// Every fault a call can meet on its way to DynamoDB, each ending (after the SDK's retries or
/// timeouts) in a 503.
fn faults() -> [Fault; 5] {
    [
        Fault::Throttling,
        Fault::ProvisionedThroughputExceeded,
        Fault::InternalServerError,
        Fault::Drop,
        Fault::Delay(PAST_QUICK_TIMEOUT),
    ]
}

/// The real handlers over the real store (to set up and to read back), and over stores whose
/// DynamoDB calls go through the proxy: with production's timeouts, and with shorter ones for
/// the delays.
struct Rig {
    app: TestApp,
    patient: TestApp,
    quick: TestApp,
    proxy: FaultProxy,
}

async fn rig() -> Rig {
    let app = TestApp::new().await;
    let proxy = FaultProxy::start().await;
    let patient = app.with_store(proxy.store(app.store.tables.clone(), PATIENT).await);
    let quick = app.with_store(proxy.store(app.store.tables.clone(), QUICK).await);
    Rig {
        app,
        patient,
        quick,
        proxy,
    }
}

fn gid(id: u64) -> GiggleId {
    GiggleId::new(id).expect("a valid id")
}

/// The contract's 503: its envelope, the request id named, nothing of the internals; and the
/// rule really met the call, on every attempt the SDK made.
fn assert_unavailable(r: &Response, hits: &Hits, what: &str) {
    let d = r.assert_error(503);
    assert!(d.contains("Request id"), "{what}: {d}");
    for internal in ["Throttl", "Provisioned", "127.0.0.1", "dispatch", "timeout"] {
        assert!(!d.contains(internal), "{what}: internals leaked: {d}");
    }
    assert!(r.headers.contains_key("x-request-id"), "{what}");
    // Three attempts of the call (more where calls run side by side, as the days of a page);
    // a delay may leave the operation's time up before the third attempt starts.
    let attempts = if what.contains("Delay") { 2 } else { 3 };
    assert!(
        hits.get() >= attempts,
        "{what}: the SDK's attempts all met the fault"
    );
}

impl Rig {
    /// The handlers to break with this fault (one store for its failure and its recovery).
    fn via(&self, fault: &Fault) -> &TestApp {
        match fault {
            Fault::Delay(_) => &self.quick,
            _ => &self.patient,
        }
    }

    /// Breaks the calls `rule` selects with `fault`.
    fn inject(&self, rule: &Match, fault: &Fault) -> Hits {
        self.proxy.inject(rule.clone(), fault.clone())
    }

    async fn trail_len(&self, id: u64) -> usize {
        self.app.store.audit_trail(gid(id)).await.unwrap().len()
    }

    /// The request's `Idempotency-Key` holds no record (neither in progress nor an answer).
    async fn assert_key_released(&self, key: &str, what: &str) {
        let suffix = format!("#{key}");
        let held = scan_all(&self.app.store, &self.app.store.tables.idempotency)
            .await
            .into_iter()
            .filter(|item| item["id"].as_s().is_ok_and(|id| id.ends_with(&suffix)))
            .count();
        assert_eq!(held, 0, "{what}: the Idempotency-Key is released");
    }

    /// A customer with one loan (with two pay dates in May 2024), written through the real
    /// store.
    async fn customer_with_loan(&self, id: u64, loan: u64) {
        assert_eq!(self.app.create(&customer(id)).await.status, 200);
        self.app
            .import_ok(Kind::Loans, &loan_line(loan, id, "2024-05-01"))
            .await;
        let lines = [
            pay_date_line(1, loan, "2024-05-16", "100.00", "0.00"),
            pay_date_line(2, loan, "2024-05-30", "100.00", "100.00"),
        ];
        self.app.import_ok(Kind::PayDates, &lines.join("\n")).await;
    }
}

#[tokio::test]
async fn create_is_503_when_its_transaction_fails_and_writes_nothing() {
    let rig = rig().await;
    let t = rig.app.store.tables.clone();
    let rule = on("TransactWriteItems").table(&t.customers);
    for (i, fault) in faults().iter().enumerate() {
        let what = format!("create, {fault:?}");
        let id = 100 + i as u64;
        let key = format!("create-{i}");
        let send = || {
            rig.via(fault)
                .call(Op::Create, "POST", "/customers")
                .json(&customer(id))
                .header("idempotency-key", &key)
                .send()
        };
        let hits = rig.inject(&rule, fault);
        assert_unavailable(&send().await, &hits, &what);
        assert!(rig.app.store.get_customer(gid(id)).await.unwrap().is_none());
        assert_eq!(rig.trail_len(id).await, 0, "{what}: no audit entry");
        rig.assert_key_released(&key, &what).await;

        rig.proxy.clear();
        let r = send().await;
        assert_eq!(r.status, 200, "{what}: {}", r.body);
        assert!(!r.headers.contains_key("idempotent-replayed"), "{what}");
        assert!(rig.app.store.get_customer(gid(id)).await.unwrap().is_some());
        assert_eq!(rig.trail_len(id).await, 1, "{what}");
    }
}

#[tokio::test]
async fn get_is_503_when_the_customer_read_or_the_loans_query_fails() {
    let rig = rig().await;
    rig.customer_with_loan(1, 11).await;
    let t = rig.app.store.tables.clone();
    for rule in [
        on("GetItem").table(&t.customers),
        on("Query").table(&t.loans),
    ] {
        for fault in faults() {
            let what = format!("get, {rule:?}, {fault:?}");
            let hits = rig.inject(&rule, &fault);
            assert_unavailable(&rig.via(&fault).get(1).await, &hits, &what);
            rig.proxy.clear();
            let r = rig.via(&fault).get(1).await;
            assert_eq!(r.status, 200, "{what}: {}", r.body);
            assert_eq!(r.json()["loanData"][0]["id"], 11, "{what}");
        }
    }
}

#[tokio::test]
async fn update_is_503_when_its_read_or_its_write_fails_and_changes_nothing() {
    let rig = rig().await;
    assert_eq!(rig.app.create(&customer(1)).await.status, 200);
    let t = rig.app.store.tables.clone();
    let mut n = 0;
    for rule in [
        on("GetItem").table(&t.customers),
        on("TransactWriteItems").table(&t.customers),
    ] {
        for fault in faults() {
            n += 1;
            let what = format!("update, {rule:?}, {fault:?}");
            let before = rig.app.store.get_customer(gid(1)).await.unwrap().unwrap();
            let trail = rig.trail_len(1).await;
            let key = format!("update-{n}");
            let name = format!("Name{n}");
            let send = || {
                rig.via(&fault)
                    .call(Op::Update, "PATCH", "/customers/1")
                    .json(&json!({ "name": name }))
                    .header("idempotency-key", &key)
                    .send()
            };
            let hits = rig.inject(&rule, &fault);
            assert_unavailable(&send().await, &hits, &what);
            let after = rig.app.store.get_customer(gid(1)).await.unwrap().unwrap();
            assert_eq!(after.version, before.version, "{what}: nothing written");
            assert_eq!(after.customer.name, before.customer.name, "{what}");
            assert_eq!(rig.trail_len(1).await, trail, "{what}: no audit entry");
            rig.assert_key_released(&key, &what).await;

            rig.proxy.clear();
            let r = send().await;
            assert_eq!(r.status, 200, "{what}: {}", r.body);
            let after = rig.app.store.get_customer(gid(1)).await.unwrap().unwrap();
            assert_eq!(after.version, before.version + 1, "{what}");
            assert_eq!(after.customer.name, name, "{what}");
            assert_eq!(rig.trail_len(1).await, trail + 1, "{what}");
        }
    }
}

#[tokio::test]
async fn delete_is_503_when_its_read_its_loan_count_or_its_delete_fails_and_deletes_nothing() {
    let rig = rig().await;
    let t = rig.app.store.tables.clone();
    let mut id = 100;
    for rule in [
        on("GetItem").table(&t.customers),
        on("Query").table(&t.loans),
        on("TransactWriteItems").table(&t.customers),
    ] {
        for fault in faults() {
            id += 1;
            let what = format!("delete, {rule:?}, {fault:?}");
            assert_eq!(rig.app.create(&customer(id)).await.status, 200);
            let key = format!("delete-{id}");
            let send = || {
                rig.via(&fault)
                    .call(Op::Delete, "DELETE", &format!("/customers/{id}"))
                    .header("idempotency-key", &key)
                    .send()
            };
            let hits = rig.inject(&rule, &fault);
            assert_unavailable(&send().await, &hits, &what);
            assert!(
                rig.app.store.get_customer(gid(id)).await.unwrap().is_some(),
                "{what}: still there"
            );
            assert_eq!(
                rig.trail_len(id).await,
                1,
                "{what}: only the create's entry"
            );
            rig.assert_key_released(&key, &what).await;

            rig.proxy.clear();
            let r = send().await;
            assert_eq!(r.status, 200, "{what}: {}", r.body);
            assert!(rig.app.store.get_customer(gid(id)).await.unwrap().is_none());
            let trail = rig.app.store.audit_trail(gid(id)).await.unwrap();
            let mut operations: Vec<&str> = trail.iter().map(|e| e.operation.as_str()).collect();
            operations.sort();
            assert_eq!(operations, ["create", "delete"], "{what}");
        }
    }
}

#[tokio::test]
async fn one_loans_pay_dates_are_503_when_the_loan_lookup_or_the_query_fails() {
    let rig = rig().await;
    rig.customer_with_loan(1, 11).await;
    let t = rig.app.store.tables.clone();
    for rule in [
        on("GetItem").table(&t.loans),
        on("Query").table(&t.pay_dates),
    ] {
        for fault in faults() {
            let what = format!("loan pay dates, {rule:?}, {fault:?}");
            let hits = rig.inject(&rule, &fault);
            assert_unavailable(&rig.via(&fault).loan_pay_dates(11, &[]).await, &hits, &what);
            rig.proxy.clear();
            let r = rig.via(&fault).loan_pay_dates(11, &[]).await;
            assert_eq!(r.status, 200, "{what}: {}", r.body);
            assert_eq!(r.json()["metadata"]["totalCount"], 2, "{what}");
        }
    }
}

#[tokio::test]
async fn all_pay_dates_are_503_when_the_counters_or_the_index_query_fail() {
    let rig = rig().await;
    rig.customer_with_loan(1, 11).await;
    let t = rig.app.store.tables.clone();
    let query = [("start_date", "2024-05-01"), ("end_date", "2024-05-31")];
    for rule in [
        on("Query").table(&t.pay_date_counts),
        on("Query").table(&t.pay_dates),
    ] {
        for fault in faults() {
            let what = format!("pay dates, {rule:?}, {fault:?}");
            let hits = rig.inject(&rule, &fault);
            assert_unavailable(&rig.via(&fault).pay_dates(&query).await, &hits, &what);
            rig.proxy.clear();
            let r = rig.via(&fault).pay_dates(&query).await;
            assert_eq!(r.status, 200, "{what}: {}", r.body);
            let v = r.json();
            assert_eq!(v["metadata"]["totalCount"], 2, "{what}");
            assert_eq!(v["data"].as_array().map(Vec::len), Some(2), "{what}");
        }
    }
}

/// Writes that DynamoDB carried out but whose answers were lost on the way back: the SDK sends
/// each again. A transaction carries the same ClientRequestToken and is not run twice; the
/// `Idempotency-Key` claim (a conditional put) meets its own record.
#[tokio::test]
async fn writes_whose_answers_are_lost_take_effect_once() {
    let rig = rig().await;
    let t = rig.app.store.tables.clone();
    let lost = |rule: Match| rig.proxy.inject(rule.times(1), Fault::DropResponse);

    let hits = lost(on("TransactWriteItems").table(&t.customers));
    let r = rig.patient.create(&customer(5)).await;
    assert_eq!((r.status, hits.get()), (200, 1), "{}", r.body);
    assert_eq!(rig.trail_len(5).await, 1);

    let hits = lost(on("TransactWriteItems").table(&t.customers));
    let r = rig.patient.patch(5, &json!({"name": "Lost"})).await;
    assert_eq!((r.status, hits.get()), (200, 1), "{}", r.body);
    let stored = rig.app.store.get_customer(gid(5)).await.unwrap().unwrap();
    assert_eq!((stored.version, rig.trail_len(5).await), (2, 2));

    // The claim of an Idempotency-Key, then its completion.
    for (i, rule) in [
        on("PutItem").table(&t.idempotency),
        on("UpdateItem").table(&t.idempotency),
    ]
    .into_iter()
    .enumerate()
    {
        let id = 10 + i as u64;
        let key = format!("lost-{i}");
        let send = || {
            rig.patient
                .call(Op::Create, "POST", "/customers")
                .json(&customer(id))
                .header("idempotency-key", &key)
                .send()
        };
        let hits = lost(rule.clone());
        let r = send().await;
        assert_eq!((r.status, hits.get()), (200, 1), "{rule:?}: {}", r.body);
        assert_eq!(rig.trail_len(id).await, 1);
        let again = send().await;
        assert_eq!(again.status, 200, "{rule:?}: {}", again.body);
        assert_eq!(again.body, r.body);
        assert_eq!(
            again.headers.get("idempotent-replayed").map(String::as_str),
            Some("true"),
            "{rule:?}"
        );
    }
}
