//! The first admin on a fresh install: created from the environment, or by `herald admin create`.

use herald_auth::admin::{self, CreateUserError, FirstAdmin};
use herald_auth::{AuthService, Password};
use herald_domain::{Email, Role};
use herald_store::Store;

use crate::helpers::{Options, captured_logs, spawn_app, spawn_app_with};

#[tokio::test]
async fn on_an_empty_store_the_configured_bootstrap_admin_is_created_once() {
    let password = "bootstrap secret 81f2c";
    let app = spawn_app_with(Options {
        bootstrap: Some(("first-admin@example.com".into(), password.into())),
        ..Options::default()
    })
    .await;
    let (access, _) = app.session("first-admin@example.com", password).await;
    let me = app.get("/api/v1/auth/me", Some(&access)).await;
    assert_eq!(me.body["role"], "admin");
    assert_eq!(
        app.service.ensure_first_admin().await.unwrap(),
        FirstAdmin::UsersExist
    );
    assert!(!captured_logs().contains(password));
}

#[tokio::test]
async fn on_an_empty_store_without_configuration_the_admin_is_reported_missing() {
    let app = spawn_app().await;
    assert_eq!(
        app.service.ensure_first_admin().await.unwrap(),
        FirstAdmin::Missing
    );
    let help = admin::first_admin_instructions("herald");
    assert!(help.contains("herald admin create --email") && help.contains("--password-stdin"));
}

#[tokio::test]
async fn the_admin_create_command_creates_an_admin_who_can_log_in_and_refuses_duplicates() {
    let app = spawn_app().await;
    let store = Store::connect(&app.app_store_settings).await.unwrap();
    let password = admin::read_password(&b"from standard input 4411\n"[..]).unwrap();
    let email = Email::parse("Ops@Example.com").unwrap();
    let user = admin::create_user(
        &store,
        &app.settings,
        "Ops",
        email.clone(),
        password,
        Role::Admin,
    )
    .await
    .unwrap();
    assert_eq!(user.role, Role::Admin);
    assert_eq!(
        app.login("ops@example.com", "from standard input 4411")
            .await
            .status,
        200
    );

    let again = admin::create_user(
        &store,
        &app.settings,
        "Ops",
        email,
        Password::new("another long password"),
        Role::Admin,
    )
    .await;
    assert!(matches!(again, Err(CreateUserError::Rejected(m)) if m.contains("already exists")));
    let short = admin::create_user(
        &store,
        &app.settings,
        "Ops",
        Email::parse("new@example.com").unwrap(),
        Password::new("short"),
        Role::Admin,
    )
    .await;
    assert!(matches!(short, Err(CreateUserError::Rejected(_))));
    // A service can be built on the same store for `herald serve` afterwards.
    assert!(AuthService::new(store, app.settings.clone()).is_ok());
}
