//! "Today" is America/Chicago's, checked at an instant when Chicago and New York are on
//! different days: 2026-03-10 04:30 UTC is 23:30 on the 9th in Chicago and 00:30 on the 10th in
//! New York. With New York as the default zone every test here fails.

use chrono::TimeZone;
use integration_tests::{customer, loan_line, pay_date_line, TestApp};
use serde_json::json;
use shared::import::Kind;

/// Chicago's day at [`at`].
const CHICAGO: &str = "2026-03-09";
/// New York's day at [`at`]: Chicago's tomorrow.
const NEW_YORK: &str = "2026-03-10";

fn at() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc.with_ymd_and_hms(2026, 3, 10, 4, 30, 0).unwrap()
}

async fn app() -> TestApp {
    TestApp::new().await.at(at())
}

#[test]
fn the_instant_splits_chicago_and_new_york() {
    let day = |tz: chrono_tz::Tz| at().with_timezone(&tz).date_naive().to_string();
    assert_eq!(day(chrono_tz::America::Chicago), CHICAGO);
    assert_eq!(day(chrono_tz::America::New_York), NEW_YORK);
}

#[tokio::test]
async fn age_counts_the_birthday_on_chicagos_day() {
    let app = app().await;
    // Born on 10 March 2000: 26 in New York already, still 25 in Chicago.
    let mut body = customer(1);
    body["dob"] = json!("2000-03-10");
    assert_eq!(app.create(&body).await.status, 200);
    // And one whose birthday is Chicago's day: 26 there.
    let mut body = customer(2);
    body["dob"] = json!("2000-03-09");
    assert_eq!(app.create(&body).await.status, 200);
    for (id, age) in [(1, 25), (2, 26)] {
        let r = app.get(id).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["customerData"]["age"], age, "customer {id}");
    }
}

#[tokio::test]
async fn dob_today_in_chicago_is_accepted_and_tomorrow_refused_on_create() {
    let app = app().await;
    let mut body = customer(1);
    body["dob"] = json!(NEW_YORK);
    let d = app.create(&body).await.assert_error(400);
    assert_eq!(d, "Invalid 'dob': must not be in the future.");
    assert_eq!(
        app.get(1).await.assert_error(400),
        "Giggle ID 1 not found.",
        "nothing written"
    );
    body["dob"] = json!(CHICAGO);
    let r = app.create(&body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = app.get(1).await.json();
    assert_eq!(c["customerData"]["dob"], CHICAGO);
    assert_eq!(c["customerData"]["age"], 0);
}

#[tokio::test]
async fn dob_today_in_chicago_is_accepted_and_tomorrow_refused_on_patch() {
    let app = app().await;
    assert_eq!(app.create(&customer(1)).await.status, 200);
    let d = app
        .patch(1, &json!({"dob": NEW_YORK}))
        .await
        .assert_error(400);
    assert_eq!(d, "Invalid 'dob': must not be in the future.");
    assert_eq!(app.get(1).await.json()["customerData"]["dob"], "2000-01-30");
    let r = app.patch(1, &json!({"dob": CHICAGO})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(app.get(1).await.json()["customerData"]["dob"], CHICAGO);
}

#[tokio::test]
async fn date_today_is_chicagos_day_unless_a_zone_is_named() {
    let app = app().await;
    app.create(&customer(1)).await;
    app.import_ok(Kind::Loans, &loan_line(42, 1, "2024-01-01"))
        .await;
    app.import_ok(
        Kind::PayDates,
        &[
            pay_date_line(1, 42, CHICAGO, "10.00", "0.00"),
            pay_date_line(2, 42, NEW_YORK, "20.00", "20.00"),
        ]
        .join("\n"),
    )
    .await;
    for (zone, day, id) in [
        (None, CHICAGO, 1),
        (Some("America/Chicago"), CHICAGO, 1),
        (Some("America/New_York"), NEW_YORK, 2),
        (Some("America/NewYork"), NEW_YORK, 2),
    ] {
        let mut q = vec![("date", "today")];
        q.extend(zone.map(|z| ("timezone", z)));
        let one = app.loan_pay_dates(42, &q).await;
        assert_eq!(one.status, 200, "{zone:?}: {}", one.body);
        let v = one.json();
        assert_eq!(
            (&v["date"], &v["id"]),
            (&json!(day), &json!(id)),
            "{zone:?}"
        );
        let all = app.pay_dates(&q).await;
        assert_eq!(all.status, 200, "{zone:?}: {}", all.body);
        let v = all.json();
        let data = v["data"].as_array().unwrap();
        assert_eq!(data.len(), 1, "{zone:?}: {}", all.body);
        assert_eq!(
            (&data[0]["date"], &data[0]["id"]),
            (&json!(day), &json!(id))
        );
        assert_eq!(v["metadata"]["totalCount"], 1, "{zone:?}");
    }
}
