//! Black-box tests of the auth service: the real application on port 0, a fresh SQLite store
//! per test, requests over real sockets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod access;
mod bootstrap;
mod helpers;
mod secrets;
mod session;
mod throttle;
mod tokens;
mod users;
