use integration_tests::{customer, Op, TestApp};

#[tokio::test]
async fn delete_removes_the_record_with_the_documented_envelope() {
    let app = TestApp::new().await;
    app.create(&customer(20)).await;
    let r = app.delete(20).await;
    assert_eq!(
        r.body,
        r#"{"statusCode": 200, "status": "OK", "message": "Customer Successfully Deleted", "error": false, "giggleId": 20}"#
    );
    assert_eq!(
        app.get(20).await.assert_error(400),
        "Giggle ID 20 not found."
    );
    assert_eq!(
        app.delete(20).await.assert_error(400),
        "Giggle ID 20 not found."
    );
}

#[tokio::test]
async fn delete_honours_if_match() {
    let app = TestApp::new().await;
    app.create(&customer(21)).await;
    let etag = app.get(21).await.headers["etag"].clone();
    app.patch(21, &serde_json::json!({"active": false})).await;
    let r = app
        .call(Op::Delete, "DELETE", "/customers/21")
        .header("If-Match", &etag)
        .send()
        .await;
    r.assert_error(412);
    assert_eq!(app.get(21).await.status, 200);
    let fresh = app.get(21).await.headers["etag"].clone();
    let r = app
        .call(Op::Delete, "DELETE", "/customers/21")
        .header("If-Match", &fresh)
        .send()
        .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn delete_refuses_query_parameters() {
    let app = TestApp::new().await;
    app.create(&customer(22)).await;
    let r = app
        .call(Op::Delete, "DELETE", "/customers/22")
        .query("force", "true")
        .send()
        .await;
    r.assert_error(400);
    assert_eq!(app.get(22).await.status, 200);
}
