//! The HTTP API. Every endpoint is a row of [`Endpoint::ALL`]: its method, path and [`Access`]
//! rule. The routes are built from that table and nothing else, each wrapped in the platform's
//! [`guard`] for its rule, and the tests walk the table with every role — so an endpoint cannot
//! exist without a rule, and a rule cannot go untested.

mod docs;
mod session;
mod users;

use std::net::IpAddr;

use actix_web::http::Method;
use actix_web::middleware::from_fn;
use actix_web::{HttpRequest, Route, web};
use herald_domain::Role;
use herald_platform::auth::{Access, guard};

pub use docs::ApiDoc;

/// Every endpoint of the auth service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    Login,
    Refresh,
    Logout,
    Me,
    ChangePassword,
    Jwks,
    OpenApi,
    ListUsers,
    CreateUser,
    GetUser,
    UpdateUser,
    DisableUser,
    EnableUser,
    ResetPassword,
}

/// The route table: method, path, who may call it.
impl Endpoint {
    pub const ALL: [Endpoint; 14] = [
        Endpoint::Login,
        Endpoint::Refresh,
        Endpoint::Logout,
        Endpoint::Me,
        Endpoint::ChangePassword,
        Endpoint::Jwks,
        Endpoint::OpenApi,
        Endpoint::ListUsers,
        Endpoint::CreateUser,
        Endpoint::GetUser,
        Endpoint::UpdateUser,
        Endpoint::DisableUser,
        Endpoint::EnableUser,
        Endpoint::ResetPassword,
    ];

    pub fn method(self) -> Method {
        match self {
            Endpoint::Me | Endpoint::Jwks | Endpoint::OpenApi => Method::GET,
            Endpoint::ListUsers | Endpoint::GetUser => Method::GET,
            Endpoint::UpdateUser => Method::PATCH,
            Endpoint::Login
            | Endpoint::Refresh
            | Endpoint::Logout
            | Endpoint::ChangePassword
            | Endpoint::CreateUser
            | Endpoint::DisableUser
            | Endpoint::EnableUser
            | Endpoint::ResetPassword => Method::POST,
        }
    }

    /// The path pattern (`{id}` is a user id).
    pub const fn path(self) -> &'static str {
        match self {
            Endpoint::Login => "/api/v1/auth/login",
            Endpoint::Refresh => "/api/v1/auth/refresh",
            Endpoint::Logout => "/api/v1/auth/logout",
            Endpoint::Me => "/api/v1/auth/me",
            Endpoint::ChangePassword => "/api/v1/auth/password",
            Endpoint::Jwks => "/.well-known/jwks.json",
            Endpoint::OpenApi => "/api/v1/auth/openapi.json",
            Endpoint::ListUsers | Endpoint::CreateUser => "/api/v1/auth/users",
            Endpoint::GetUser | Endpoint::UpdateUser => "/api/v1/auth/users/{id}",
            Endpoint::DisableUser => "/api/v1/auth/users/{id}/disable",
            Endpoint::EnableUser => "/api/v1/auth/users/{id}/enable",
            Endpoint::ResetPassword => "/api/v1/auth/users/{id}/password",
        }
    }

    /// Who may call it. User management is the admin's (ARCHITECTURE §9).
    pub const fn access(self) -> Access {
        match self {
            Endpoint::Login
            | Endpoint::Refresh
            | Endpoint::Logout
            | Endpoint::Jwks
            | Endpoint::OpenApi => Access::Public,
            Endpoint::Me | Endpoint::ChangePassword => Access::SignedIn,
            Endpoint::ListUsers
            | Endpoint::CreateUser
            | Endpoint::GetUser
            | Endpoint::UpdateUser
            | Endpoint::DisableUser
            | Endpoint::EnableUser
            | Endpoint::ResetPassword => Access::Role(Role::Admin),
        }
    }

    fn route(self) -> Route {
        let route = web::method(self.method());
        let route = match self {
            Endpoint::Login => route.to(session::login),
            Endpoint::Refresh => route.to(session::refresh),
            Endpoint::Logout => route.to(session::logout),
            Endpoint::Me => route.to(session::me),
            Endpoint::ChangePassword => route.to(session::change_password),
            Endpoint::Jwks => route.to(docs::jwks),
            Endpoint::OpenApi => route.to(docs::openapi),
            Endpoint::ListUsers => route.to(users::list),
            Endpoint::CreateUser => route.to(users::create),
            Endpoint::GetUser => route.to(users::get),
            Endpoint::UpdateUser => route.to(users::update),
            Endpoint::DisableUser => route.to(users::disable),
            Endpoint::EnableUser => route.to(users::enable),
            Endpoint::ResetPassword => route.to(users::reset_password),
        };
        route.wrap(from_fn(guard(self.access())))
    }
}

/// Registers every endpoint of [`Endpoint::ALL`], one resource per path so that a wrong
/// method is a 405.
pub(crate) fn configure(cfg: &mut web::ServiceConfig) {
    let mut paths: Vec<&'static str> = Vec::new();
    for endpoint in Endpoint::ALL {
        if !paths.contains(&endpoint.path()) {
            paths.push(endpoint.path());
        }
    }
    for path in paths {
        let resource = Endpoint::ALL
            .into_iter()
            .filter(|e| e.path() == path)
            .fold(web::resource(path), |resource, e| resource.route(e.route()));
        cfg.service(resource);
    }
}

/// The client's address for login throttling: the last `X-Forwarded-For` entry (the one the
/// trusted gateway appended) when so configured, else the TCP peer.
pub(crate) fn client_address(req: &HttpRequest, trust_forwarded_for: bool) -> Option<IpAddr> {
    if trust_forwarded_for {
        let forwarded = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|v| v.trim().parse::<IpAddr>().ok())
            .last();
        if forwarded.is_some() {
            return forwarded;
        }
    }
    req.peer_addr().map(|a| a.ip())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn every_endpoint_has_a_distinct_method_and_path() {
        let mut seen = std::collections::HashSet::new();
        for e in Endpoint::ALL {
            assert!(seen.insert((e.method(), e.path())), "{e:?} is listed twice");
        }
    }

    #[test]
    fn the_forwarded_address_is_used_only_when_the_gateway_is_trusted() {
        let req = TestRequest::default()
            .peer_addr("10.0.0.2:5000".parse().unwrap())
            .insert_header(("x-forwarded-for", "1.2.3.4, 198.51.100.7"))
            .to_http_request();
        assert_eq!(
            client_address(&req, true),
            Some("198.51.100.7".parse().unwrap())
        );
        assert_eq!(
            client_address(&req, false),
            Some("10.0.0.2".parse().unwrap())
        );
    }
}
