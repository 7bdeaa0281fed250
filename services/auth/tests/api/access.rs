//! Every endpoint with every role. The expected rule of each endpoint is written out here, apart
//! from the route table: an endpoint added to the table without a rule here fails the test, and
//! so does a rule the running service does not enforce.

use std::collections::{BTreeMap, BTreeSet};

use herald_auth::routes::{ApiDoc, Endpoint};
use herald_domain::Role;
use herald_platform::auth::Access;
use reqwest::Method;
use utoipa::OpenApi as _;

use crate::helpers::spawn_app;

/// Who may call what, as ARCHITECTURE §9 says: admins manage users; anyone signed in reads
/// themselves and changes their own password; logging in and the keys are public.
fn expected_rules() -> BTreeMap<(&'static str, &'static str), Access> {
    let admin = Access::Role(Role::Admin);
    BTreeMap::from([
        (("POST", "/api/v1/auth/login"), Access::Public),
        (("POST", "/api/v1/auth/refresh"), Access::Public),
        (("POST", "/api/v1/auth/logout"), Access::Public),
        (("GET", "/.well-known/jwks.json"), Access::Public),
        (("GET", "/api/v1/auth/openapi.json"), Access::Public),
        (("GET", "/api/v1/auth/me"), Access::SignedIn),
        (("POST", "/api/v1/auth/password"), Access::SignedIn),
        (("GET", "/api/v1/auth/users"), admin),
        (("POST", "/api/v1/auth/users"), admin),
        (("GET", "/api/v1/auth/users/{id}"), admin),
        (("PATCH", "/api/v1/auth/users/{id}"), admin),
        (("POST", "/api/v1/auth/users/{id}/disable"), admin),
        (("POST", "/api/v1/auth/users/{id}/enable"), admin),
        (("POST", "/api/v1/auth/users/{id}/password"), admin),
    ])
}

fn method_name(e: Endpoint) -> &'static str {
    match e.method().as_str() {
        "GET" => "GET",
        "POST" => "POST",
        "PATCH" => "PATCH",
        "PUT" => "PUT",
        "DELETE" => "DELETE",
        _ => "OTHER",
    }
}

#[test]
fn every_endpoint_in_the_route_table_has_the_expected_rule_and_vice_versa() {
    let expected = expected_rules();
    let table: BTreeMap<_, _> = Endpoint::ALL
        .iter()
        .map(|e| ((method_name(*e), e.path()), e.access()))
        .collect();
    assert_eq!(
        table.len(),
        Endpoint::ALL.len(),
        "duplicate rows in the route table"
    );
    for (route, access) in &table {
        assert_eq!(
            expected.get(route),
            Some(access),
            "{route:?} has no expected rule here, or a different one"
        );
    }
    assert_eq!(
        table.len(),
        expected.len(),
        "an expected endpoint is missing from the table"
    );
}

#[test]
fn the_openapi_document_describes_exactly_the_route_table() {
    let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let table: BTreeSet<_> = Endpoint::ALL
        .iter()
        .map(|e| (method_name(*e).to_owned(), e.path().to_owned()))
        .collect();
    assert_eq!(documented, table);
}

#[tokio::test]
async fn every_endpoint_answers_every_role_as_its_rule_says() {
    let app = spawn_app().await;
    let (_, agent) = app.signed_in("agent@example.com", Role::Agent).await;
    let (_, manager) = app.signed_in("manager@example.com", Role::Manager).await;
    let (_, admin) = app.signed_in("admin@example.com", Role::Admin).await;
    // The user the `{id}` endpoints act on, so that no caller changes itself.
    let target = app.user("target@example.com", Role::Agent).await;
    let callers: [(&str, Option<Role>, Option<&str>); 4] = [
        ("anonymous", None, None),
        ("agent", Some(Role::Agent), Some(agent.as_str())),
        ("manager", Some(Role::Manager), Some(manager.as_str())),
        ("admin", Some(Role::Admin), Some(admin.as_str())),
    ];
    for endpoint in Endpoint::ALL {
        let path = endpoint.path().replace("{id}", &target.id.to_string());
        for (who, role, token) in &callers {
            // An empty object: enough to get past the guard; the handler may then reject it.
            let method = Method::from_bytes(endpoint.method().as_str().as_bytes()).unwrap();
            let body = (method != Method::GET).then(|| serde_json::json!({}));
            let reply = app.send(method, &path, *token, body).await;
            let status = reply.status;
            if endpoint.access().allows(*role) {
                assert!(
                    status != 401 && status != 403 && status < 500,
                    "{who} on {endpoint:?} was refused or failed: {status} {}",
                    reply.body
                );
            } else if role.is_none() {
                assert_eq!(status, 401, "{who} on {endpoint:?}");
                assert!(reply.headers.contains_key("www-authenticate"));
            } else {
                assert_eq!(status, 403, "{who} on {endpoint:?}: {}", reply.body);
                assert_eq!(reply.body["code"], "forbidden");
            }
        }
    }
}

#[tokio::test]
async fn a_wrong_method_on_a_known_path_is_a_405_problem() {
    let app = spawn_app().await;
    let reply = app
        .send(Method::DELETE, "/api/v1/auth/login", None, None)
        .await;
    assert_eq!(reply.status, 405);
    assert_eq!(reply.body["code"], "method_not_allowed");
}
