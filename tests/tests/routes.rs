//! The routes are written in three places: the OpenAPI spec (what integrators read), the SAM
//! template (what API Gateway serves) and the local router in Cargo.toml (what `make run`
//! serves). This test fails when they disagree.

use std::collections::{BTreeMap, BTreeSet};

const ROOT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../");

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{ROOT}{path}")).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// (METHOD, path) of every operation in the spec.
fn openapi_routes() -> BTreeSet<(String, String)> {
    let spec: serde_yaml::Value = serde_yaml::from_str(&read("infra/openapi.yaml")).unwrap();
    let mut out = BTreeSet::new();
    for (path, item) in spec["paths"].as_mapping().expect("paths").iter() {
        let path = path.as_str().unwrap();
        for method in ["get", "put", "post", "patch", "delete", "head", "options"] {
            if item.get(method).is_some() {
                out.insert((method.to_uppercase(), path.to_string()));
            }
        }
    }
    out
}

/// (METHOD, path) → binary of every API event in the SAM template.
fn sam_routes() -> BTreeMap<(String, String), String> {
    let t: serde_yaml::Value = serde_yaml::from_str(&read("infra/template.yaml")).unwrap();
    let mut out = BTreeMap::new();
    for (_, resource) in t["Resources"].as_mapping().unwrap() {
        if resource["Type"].as_str() != Some("AWS::Serverless::Function") {
            continue;
        }
        let binary = resource["Metadata"]["BuildProperties"]["Binary"]
            .as_str()
            .expect("a Binary build property")
            .to_string();
        if let Some(events) = resource["Properties"]["Events"].as_mapping() {
            for (_, event) in events {
                if event["Type"].as_str() == Some("Api") {
                    let p = &event["Properties"];
                    let key = (
                        p["Method"].as_str().unwrap().to_uppercase(),
                        p["Path"].as_str().unwrap().to_string(),
                    );
                    assert!(
                        out.insert(key.clone(), binary.clone()).is_none(),
                        "{key:?} twice in the template"
                    );
                }
            }
        }
    }
    out
}

/// (METHOD, path) → function of the local router.
fn router_routes() -> BTreeMap<(String, String), String> {
    let cargo: toml::Value = toml::from_str(&read("Cargo.toml")).unwrap();
    let router = cargo["workspace"]["metadata"]["lambda"]["watch"]["router"]
        .as_table()
        .expect("a router");
    let mut out = BTreeMap::new();
    for (path, routes) in router {
        match routes {
            // One function for every method of the path.
            toml::Value::String(function) => {
                for method in [
                    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
                ] {
                    out.insert((method.to_string(), path.clone()), function.clone());
                }
            }
            _ => {
                for r in routes
                    .as_array()
                    .expect("a function or routes with methods")
                {
                    out.insert(
                        (r["method"].as_str().unwrap().to_string(), path.clone()),
                        r["function"].as_str().unwrap().to_string(),
                    );
                }
            }
        }
    }
    out
}

#[test]
fn the_spec_the_template_and_the_router_agree() {
    let spec = openapi_routes();
    let sam = sam_routes();
    let router = router_routes();
    let sam_keys: BTreeSet<(String, String)> = sam.keys().cloned().collect();
    assert_eq!(spec, sam_keys, "OpenAPI and SAM routes differ");
    for (route, binary) in &sam {
        assert_eq!(
            router.get(route),
            Some(binary),
            "the local router does not send {route:?} to {binary}"
        );
    }
    let sam_paths: BTreeSet<&String> = sam.keys().map(|(_, p)| p).collect();
    for (method, path) in router.keys() {
        assert!(
            sam_paths.contains(path),
            "the local router serves {method} {path}, which is not deployed"
        );
    }
    // Every binary of the workspace that serves a route is built by SAM, and the other way round.
    let binaries: BTreeSet<&String> = sam.values().collect();
    let routed: BTreeSet<&String> = router.values().collect();
    assert_eq!(binaries, routed);
}

#[test]
fn both_prefixes_serve_the_pay_date_routes() {
    let spec = openapi_routes();
    for path in ["/loans/{loanId}/paydates", "/paydates"] {
        for prefix in ["/webhook/v1/json", "/webhook/json/v1/json"] {
            assert!(
                spec.contains(&("GET".to_string(), format!("{prefix}{path}"))),
                "{prefix}{path}"
            );
        }
    }
}
