//! The `herald` command. It only parses arguments, loads configuration, starts telemetry and
//! calls the library.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use herald::{Application, HeraldConfig, open_store};
use herald_auth::FirstAdmin;
use herald_auth::admin::{self, CreateUserError};
use herald_domain::{Email, Role};
use herald_platform::shutdown::{CancellationToken, cancel_on_signals};
use herald_platform::{config, telemetry};

/// Herald sends WhatsApp template campaigns through Meta's Cloud API and follows every message to
/// its end.
#[derive(Parser)]
#[command(name = "herald", version, about)]
struct Cli {
    /// A TOML configuration file; `HERALD__SECTION__KEY` environment variables override it.
    #[arg(long, global = true, env = "HERALD_CONFIG")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start every Herald service in one process on one port.
    Serve,
    /// Create the store's indexes and run its migrations, then exit. Idempotent.
    Migrate,
    /// Load and validate the configuration, then exit: 0 when it is usable, 2 with every problem
    /// named by its key when it is not.
    CheckConfig,
    /// Administration of users.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create a user (by default the first admin), reading the password from standard input.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
        /// admin, manager or agent.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Read the password from the first line of standard input (the only way: a password
        /// on the command line would end up in shell history and `ps`).
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

/// Exit status for input the operator can fix (bad configuration, rejected values).
const USAGE: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let config: HeraldConfig = match config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("herald: {e}");
            return ExitCode::from(USAGE);
        }
    };
    let outcome = match cli.command {
        Command::CheckConfig => {
            println!("herald: the configuration is valid");
            return ExitCode::SUCCESS;
        }
        Command::Serve => serve(config),
        Command::Migrate => migrate(config),
        Command::Admin(AdminCommand::Create {
            email,
            name,
            role,
            password_stdin: _,
        }) => return create_user(config, &email, &name, &role),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("herald: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[tokio::main]
async fn serve(config: HeraldConfig) -> anyhow::Result<()> {
    let mut telemetry = telemetry::init(&config.telemetry)?;
    let shutdown = CancellationToken::new();
    cancel_on_signals(shutdown.clone());
    let app = Application::build(config.clone(), shutdown).await?;
    let url = format!("http://{}:{}", config.http.host, app.port());
    tracing::info!(%url, "herald is listening");
    // Also on stdout, plainly, for the person who just typed `make run`.
    println!("Herald is listening on {url} (health: {url}/healthz, metrics: {url}/metrics)");
    match app.first_admin() {
        FirstAdmin::Missing => println!("{}", admin::first_admin_instructions("herald")),
        FirstAdmin::Created(email) => println!("Created the first admin, {email}."),
        FirstAdmin::UsersExist => {}
    }
    if config.services.sandbox {
        println!(
            "The sandbox stands in for Meta: Graph API at {url}{}, admin API at {url}{}.",
            config.sandbox.routes.graph_prefix, config.sandbox.routes.admin_prefix
        );
    }
    println!("Stop it with Ctrl-C.");
    let outcome = app.run_until_stopped().await;
    tracing::info!("herald stopped");
    telemetry.shutdown();
    Ok(outcome?)
}

#[tokio::main]
async fn migrate(config: HeraldConfig) -> anyhow::Result<()> {
    open_store(&config).await?;
    println!(
        "herald: the {} store is up to date",
        format!("{:?}", config.store.kind).to_lowercase()
    );
    Ok(())
}

#[tokio::main]
async fn create_user(config: HeraldConfig, email: &str, name: &str, role: &str) -> ExitCode {
    let rejected = |message: String| {
        eprintln!("herald: {message}");
        ExitCode::from(USAGE)
    };
    let email = match Email::parse(email) {
        Ok(email) => email,
        Err(e) => return rejected(e.to_string()),
    };
    let role: Role = match role.parse() {
        Ok(role) => role,
        Err(e) => return rejected(format!("{e}")),
    };
    let password = match admin::read_password(std::io::stdin().lock()) {
        Ok(password) => password,
        Err(e) => return rejected(format!("{e:#}")),
    };
    let store = match open_store(&config).await {
        Ok(store) => store,
        Err(e) => {
            eprintln!("herald: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    match admin::create_user(&store, &config.auth, name, email, password, role).await {
        Ok(user) => {
            println!("herald: created {} ({})", user.email, user.role);
            ExitCode::SUCCESS
        }
        Err(CreateUserError::Rejected(message)) => rejected(message),
        Err(CreateUserError::Failed(e)) => {
            eprintln!("herald: {e:#}");
            ExitCode::FAILURE
        }
    }
}
