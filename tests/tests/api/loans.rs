use integration_tests::{customer, loan_line, TestApp};
use shared::import::Kind;

#[tokio::test]
async fn get_lists_the_customers_loans_newest_first_with_the_seed_types() {
    let app = TestApp::new().await;
    app.create(&customer(123456)).await;
    app.create(&customer(999)).await;
    let lines = [
        loan_line(768943, 123456, "2024-05-22"),
        loan_line(768944, 123456, "2024-07-01"),
        loan_line(768945, 123456, "2023-01-15"),
        loan_line(768946, 999, "2024-08-01"),
    ]
    .join("\n");
    app.import_ok(Kind::Loans, &lines).await;
    let r = app.get(123456).await;
    assert_eq!(r.status, 200);
    let v = r.json();
    let ids: Vec<u64> = v["loanData"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [768944, 768943, 768945],
        "newest contractDate first, only this customer's"
    );
    // The seed's field names, order and types, to the byte.
    let expected = r#"{"id": 768943, "state": "active", "loanAmount": 1000000.11, "loanTerm": 52, "contractDate": "2024-05-22", "firstPaymentDate": "2024-06-22", "loanClass": "gold", "loanType": "instalment", "oFee": 200.55, "disbursementAmount": 800000.88, "discountSavings": "0.00", "discountDate": "2024-05-27", "renewalIncrement": 8, "applicationId": 79834, "disbursementFee": "25.99", "fundedDate": "2024-06-13", "partnerId": 75475, "leadId": 456312, "ccrScore": 800, "clarityScore": 788, "daysOverDue": 12, "amountOverdue": 1987.32, "contractBalance": 421123.33}"#;
    assert!(r.body.contains(expected), "{}", r.body);
    let loan = &v["loanData"][0];
    assert!(loan["discountSavings"].is_string() && loan["disbursementFee"].is_string());
    assert!(loan["loanAmount"].is_number() && loan["id"].is_u64() && loan["ccrScore"].is_u64());
    assert!(loan.get("giggleId").is_none());
}

#[tokio::test]
async fn amounts_keep_two_decimals_even_when_round() {
    let app = TestApp::new().await;
    app.create(&customer(5)).await;
    let line = loan_line(1, 5, "2024-05-22")
        .replace("1000000.11", "1000000")
        .replace("200.55", "200.5");
    app.import_ok(Kind::Loans, &line).await;
    let body = app.get(5).await.body;
    assert!(body.contains(r#""loanAmount": 1000000.00"#), "{body}");
    assert!(body.contains(r#""oFee": 200.50"#), "{body}");
}

#[tokio::test]
async fn a_customer_with_loans_is_not_deleted() {
    let app = TestApp::new().await;
    app.create(&customer(123)).await;
    app.import_ok(
        Kind::Loans,
        &format!(
            "{}\n{}",
            loan_line(1, 123, "2024-01-01"),
            loan_line(2, 123, "2024-02-01")
        ),
    )
    .await;
    let r = app.delete(123).await;
    assert_eq!(
        r.assert_error(409),
        "Giggle ID 123 has 2 loans and cannot be deleted."
    );
    let after = app.get(123).await;
    assert_eq!(after.status, 200);
    assert_eq!(after.json()["loanData"].as_array().unwrap().len(), 2);
}

/// No request path reads a table with a Scan: only the admin tool's key listing does.
#[test]
fn no_scan_on_any_request_path() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let mut files = Vec::new();
    rust_files(&root.join("shared/src"), &mut files);
    rust_files(&root.join("functions"), &mut files);
    assert!(files.len() > 20, "{files:?}");
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.to_string_lossy();
        if name.contains("/bin/") {
            continue; // the admin tool
        }
        let text = if name.ends_with("shared/src/auth.rs") {
            // list_keys (the admin tool's listing) is the one Scan.
            text.split("pub async fn list_keys")
                .next()
                .unwrap()
                .to_string()
        } else {
            text
        };
        assert!(!text.contains(".scan()"), "{name} scans a table");
        checked += 1;
    }
    assert!(checked > 20);
}
