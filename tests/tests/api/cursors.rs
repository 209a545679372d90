//! Signed cursors through the real handlers: a forged, altered or foreign cursor, one made with
//! the old constant-based check, or one from another query is a 400 naming `cursor`, refused
//! before any pay date or count is read.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use integration_tests::{customer, loan_line, pay_date_line, TestApp};
use sha2::{Digest, Sha256};
use shared::import::Kind;
use shared::store::Tables;

async fn seeded() -> TestApp {
    let app = TestApp::new().await;
    app.create(&customer(1)).await;
    app.import_ok(
        Kind::Loans,
        &[123, 456, 789]
            .map(|l| loan_line(l, 1, "2024-01-01"))
            .join("\n"),
    )
    .await;
    let lines = [
        pay_date_line(1, 123, "2024-05-16", "100.00", "0.00"),
        pay_date_line(2, 456, "2024-05-16", "250.00", "250.00"),
        pay_date_line(3, 789, "2024-05-16", "100.00", "50.00"),
        pay_date_line(4, 123, "2024-05-23", "100.00", "0.00"),
    ];
    app.import_ok(Kind::PayDates, &lines.join("\n")).await;
    app
}

/// What the old scheme made: a JSON payload and 12 bytes of SHA-256 over a constant in the
/// source and the payload. This one is the issue's: `date=2024-05-16`, carrying 1990 to 2030.
fn old_scheme_cursor() -> String {
    let payload = URL_SAFE_NO_PAD.encode(
        r#"{"after":{"primary":{"Date":"1990-01-01"},"loan_id":0,"id":0},"dates":["1990-01-01","2030-01-01"],"query":"all|2024-05-16||Date|false"}"#,
    );
    let mut h = Sha256::new();
    h.update(b"tasksuite-paydates-cursor-v1");
    h.update(payload.as_bytes());
    format!("{payload}.{}", URL_SAFE_NO_PAD.encode(&h.finalize()[..12]))
}

fn flip(text: &str, at: usize) -> String {
    let mut bytes = text.as_bytes().to_vec();
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    String::from_utf8(bytes).unwrap()
}

/// Bad cursors for `date=2024-05-16`, made from a genuine one.
fn bad_cursors(genuine: &str) -> Vec<(&'static str, String)> {
    let (payload, tag) = genuine.split_once('.').unwrap();
    let widened = URL_SAFE_NO_PAD.encode("v2|-|1990-01-01|0|0|0");
    vec![
        ("payload altered", flip(genuine, 3)),
        ("tag altered", flip(genuine, payload.len() + 5)),
        (
            "genuine tag on a widened payload",
            format!("{widened}.{tag}"),
        ),
        (
            "forged tag",
            format!("{widened}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
        ),
        ("old constant-based scheme", old_scheme_cursor()),
        ("tag missing", payload.to_string()),
        ("not base64", "%%%.%%%".to_string()),
        ("too long", "A".repeat(2000)),
    ]
}

#[tokio::test]
async fn forged_altered_and_old_cursors_are_400() {
    let app = seeded().await;
    let v = app
        .pay_dates(&[("date", "2024-05-16"), ("limit", "1")])
        .await
        .json();
    let genuine = v["metadata"]["nextCursor"].as_str().unwrap().to_string();
    // The genuine one works.
    let r = app
        .pay_dates(&[("date", "2024-05-16"), ("limit", "1"), ("cursor", &genuine)])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    for (what, c) in bad_cursors(&genuine) {
        let d = app
            .pay_dates(&[("date", "2024-05-16"), ("limit", "1"), ("cursor", &c)])
            .await
            .assert_error(400);
        assert!(d.contains("'cursor'"), "{what}: {d}");
    }
}

#[tokio::test]
async fn a_cursor_from_another_query_is_400() {
    let app = seeded().await;
    let v = app
        .pay_dates(&[("date", "2024-05-16"), ("limit", "1")])
        .await
        .json();
    let c = v["metadata"]["nextCursor"].as_str().unwrap().to_string();
    let others: Vec<Vec<(&str, &str)>> = vec![
        vec![("date", "2024-05-17")],
        vec![("date", "2024-05-23")],
        vec![("start_date", "2024-05-16"), ("end_date", "2024-05-16")],
        vec![("start_date", "2024-05-01"), ("end_date", "2024-05-31")],
        vec![("date", "2024-05-16"), ("state", "open")],
        vec![("date", "2024-05-16"), ("sort", "amount")],
        vec![("date", "2024-05-16"), ("order", "desc")],
        vec![("date", "today")],
    ];
    for mut q in others {
        q.push(("cursor", &c));
        let d = app.pay_dates(&q).await.assert_error(400);
        assert!(d.contains("'cursor'"), "{q:?}: {d}");
    }
    // Nor on one loan's route, nor one loan's cursor on another loan.
    let d = app
        .loan_pay_dates(
            123,
            &[
                ("start_date", "2024-05-16"),
                ("end_date", "2024-05-16"),
                ("cursor", &c),
            ],
        )
        .await
        .assert_error(400);
    assert!(d.contains("'cursor'"), "{d}");
    let v = app.loan_pay_dates(123, &[("limit", "1")]).await.json();
    let loan_cursor = v["metadata"]["nextCursor"].as_str().unwrap().to_string();
    assert_eq!(
        app.loan_pay_dates(123, &[("limit", "1"), ("cursor", &loan_cursor)])
            .await
            .status,
        200
    );
    let d = app
        .loan_pay_dates(456, &[("limit", "1"), ("cursor", &loan_cursor)])
        .await
        .assert_error(400);
    assert!(d.contains("'cursor'"), "{d}");
}

/// The cursor is judged before anything is read: with the pay-date tables gone, a bad cursor
/// is still a 400 (a read would have failed with a 500).
#[tokio::test]
async fn a_bad_cursor_is_refused_before_any_read() {
    let app = seeded().await;
    let v = app
        .pay_dates(&[("date", "2024-05-16"), ("limit", "1")])
        .await
        .json();
    let genuine = v["metadata"]["nextCursor"].as_str().unwrap().to_string();
    let gone = app.with_store(app.store.with_tables(Tables {
        pay_dates: "no-such-pay-dates".into(),
        pay_date_counts: "no-such-pay-date-counts".into(),
        loans: "no-such-loans".into(),
        ..app.store.tables.clone()
    }));
    gone.pay_dates(&[("date", "2024-05-16")])
        .await
        .assert_error(500);
    for (what, c) in bad_cursors(&genuine) {
        let d = gone
            .pay_dates(&[("date", "2024-05-16"), ("limit", "1"), ("cursor", &c)])
            .await
            .assert_error(400);
        assert!(d.contains("'cursor'"), "{what}: {d}");
        let d = gone
            .loan_pay_dates(123, &[("limit", "1"), ("cursor", &c)])
            .await
            .assert_error(400);
        assert!(d.contains("'cursor'"), "loan route, {what}: {d}");
    }
}
