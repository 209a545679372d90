//! The operator's tool: tables and API keys, against the DynamoDB the environment points at
//! (`AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local, the normal AWS chain for a deployed stack).
//! Table names come from `CUSTOMERS_TABLE`, `API_KEYS_TABLE`, `LOANS_TABLE`, `PAY_DATES_TABLE`.

use shared::auth;
use shared::store::{sdk_config, Store, Tables};
use std::process::ExitCode;

const USAGE: &str = "usage:
  tasksuite-admin create-tables [--template infra/template.yaml]
      create the tables defined in the SAM template (existing ones are left alone)
  tasksuite-admin create-key --name NAME [--from-env VAR]
      register a new API key; prints it once. With --from-env, registers the key held in
      the environment variable VAR instead of generating one (used for the local dev key)
  tasksuite-admin list-keys
      every key's id, name, creation time and revocation time (never the key)
  tasksuite-admin revoke-key KEY_ID
      revoke the key with that id (from list-keys); it answers 401 from then on";

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("tasksuite-admin: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: &[String]) -> Result<(), String> {
    let command = args.first().map(String::as_str).unwrap_or("help");
    if matches!(command, "help" | "-h" | "--help") {
        println!("{USAGE}");
        return Ok(());
    }
    let tables = Tables::from_env()?;
    let client = aws_sdk_dynamodb::Client::new(&sdk_config().await);
    let store = Store::new(client.clone(), tables.clone());
    let fail = |e: shared::ApiError| match e {
        shared::ApiError::StoreUnavailable(d) | shared::ApiError::Internal(d) => d,
        other => other.to_string(),
    };
    match command {
        "create-tables" => {
            let path = flag(args, "--template").unwrap_or_else(|| "infra/template.yaml".into());
            let yaml = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            let created = shared::tables::create_all(&client, &yaml, &tables).await?;
            println!("tables ready ({} created)", created.len());
        }
        "create-key" => {
            let name = flag(args, "--name").ok_or(format!("create-key needs --name\n{USAGE}"))?;
            let key = match flag(args, "--from-env") {
                Some(var) => shared::error::Redacted(
                    std::env::var(&var)
                        .map_err(|_| format!("environment variable {var} is not set"))?,
                ),
                None => auth::generate_key(),
            };
            match store.register_key(&key.0, &name).await {
                Ok(id) => {
                    println!("key id: {id}");
                    if flag(args, "--from-env").is_none() {
                        // The only time the key is ever shown: it is stored as a hash.
                        println!("api key (shown once, store it now): {}", key.0);
                    }
                }
                Err(shared::ApiError::Conflict(_)) => println!("key already registered"),
                Err(e) => return Err(fail(e)),
            }
        }
        "list-keys" => {
            println!("{:<14} {:<24} {:<26} revoked", "key id", "name", "created");
            for k in store.list_keys().await.map_err(fail)? {
                println!(
                    "{:<14} {:<24} {:<26} {}",
                    k.key_id,
                    k.name,
                    k.created_at,
                    k.revoked_at.as_deref().unwrap_or("-")
                );
            }
        }
        "revoke-key" => {
            let id = args
                .get(1)
                .ok_or(format!("revoke-key needs a key id\n{USAGE}"))?;
            let k = store.revoke_key(id).await.map_err(fail)?;
            println!("revoked {} ({})", k.key_id, k.name);
        }
        other => return Err(format!("unknown command '{other}'\n{USAGE}")),
    }
    Ok(())
}
