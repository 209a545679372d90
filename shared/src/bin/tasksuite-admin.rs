//! The operator's tool: tables and API keys, against the DynamoDB the environment points at
//! (`AWS_ENDPOINT_URL_DYNAMODB` for DynamoDB Local, the normal AWS chain for a deployed stack).
//! Table names come from `CUSTOMERS_TABLE`, `API_KEYS_TABLE`, `LOANS_TABLE`, `PAY_DATES_TABLE`,
//! `IDEMPOTENCY_TABLE` and `AUDIT_TABLE`; `reveal-ssn` decrypts with the KMS key `PII_KEY_ID`.

use shared::audit::{Actor, AuditEntry, Operation};
use shared::customer::GiggleId;
use shared::pii::{Field, Sensitive};
use shared::store::{sdk_config, Store, Tables};
use shared::{auth, demo, import};
use std::io::{BufRead, IsTerminal, Write};
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
      revoke the key with that id (from list-keys); it answers 401 from then on
  tasksuite-admin import-loans FILE
  tasksuite-admin import-paydates FILE
      load JSON Lines (one loan or pay date a line); every rejected line is reported as
      'line N: reason' and the command then exits non-zero, having written the good lines.
      Running a file twice changes nothing
  tasksuite-admin load-demo [--dir .local/demo]
      a few customers, their loans and weekly pay dates around today (mixed states), written
      as JSON Lines into the folder and imported like any other file
  tasksuite-admin audit GIGGLEID
      the customer's audit trail, newest first: when, operation, key id, request id and the
      names of the fields changed
  tasksuite-admin reveal-ssn GIGGLEID
      prints the customer's SSN. Needs kms:Decrypt on the PII key (PII_KEY_ID) in your own
      credentials (no function has it); writes an audit entry before it shows anything";

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
    let store = Store::from_config(&sdk_config().await, tables.clone());
    let client = store.client.clone();
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
        "import-loans" | "import-paydates" => {
            let path = args
                .get(1)
                .ok_or(format!("{command} needs a file\n{USAGE}"))?;
            let kind = if command == "import-loans" {
                import::Kind::Loans
            } else {
                import::Kind::PayDates
            };
            import_file(&store, kind, path).await?;
        }
        "load-demo" => {
            let dir = flag(args, "--dir").unwrap_or_else(|| ".local/demo".into());
            demo::load(&store, std::path::Path::new(&dir)).await?;
        }
        "audit" => {
            let id = giggle_id_arg(args)?;
            println!(
                "{:<26} {:<11} {:<14} {:<40} changed fields",
                "at", "operation", "key id", "request id"
            );
            for e in store.audit_trail(id).await.map_err(fail)? {
                println!(
                    "{:<26} {:<11} {:<14} {:<40} {}",
                    e.at,
                    e.operation,
                    e.key_id,
                    e.request_id,
                    e.changed_fields.join(",")
                );
            }
        }
        "reveal-ssn" => {
            let id = giggle_id_arg(args)?;
            let stored = store
                .get_customer(id)
                .await
                .map_err(fail)?
                .ok_or(format!("Giggle ID {id} not found"))?;
            let ssn = stored
                .customer
                .ssn
                .ok_or(format!("Giggle ID {id} has no SSN"))?;
            // The entry is written first: no SSN is shown without its trace.
            let actor = Actor::operator("reveal-ssn");
            store
                .append_audit(&AuditEntry::new(
                    id,
                    &actor,
                    Operation::RevealSsn,
                    vec!["ssn".into()],
                ))
                .await
                .map_err(fail)?;
            let digits = match ssn {
                Sensitive::Clear(d) => d,
                Sensitive::Sealed { sealed, .. } => {
                    store.unseal(id, Field::Ssn, &sealed).await.map_err(fail)?
                }
            };
            println!("{}-{}-{}", &digits[..3], &digits[3..5], &digits[5..]);
        }
        other => return Err(format!("unknown command '{other}'\n{USAGE}")),
    }
    Ok(())
}

fn giggle_id_arg(args: &[String]) -> Result<GiggleId, String> {
    let raw = args
        .get(1)
        .ok_or(format!("{} needs a giggleId\n{USAGE}", args[0]))?;
    GiggleId::from_path(raw).map_err(|e| e.to_string())
}

/// Imports one file, with a progress bar on a terminal, and fails if any line was rejected.
async fn import_file(store: &Store, kind: import::Kind, path: &str) -> Result<(), String> {
    let open = || {
        std::fs::File::open(path)
            .map(std::io::BufReader::new)
            .map_err(|e| format!("{path}: {e}"))
    };
    let total = open()?.lines().count().max(1);
    let terminal = std::io::stderr().is_terminal();
    let progress = |done: usize| {
        if terminal {
            let width = 40;
            let filled = width * done.min(total) / total;
            eprint!(
                "\r[{}{}] {done}/{total} lines",
                "#".repeat(filled),
                " ".repeat(width - filled)
            );
            let _ = std::io::stderr().flush();
        }
    };
    let report = import::import(store, kind, open()?, progress).await?;
    if terminal {
        eprintln!();
    }
    for (line, reason) in &report.rejected {
        println!("line {line}: {reason}");
    }
    println!(
        "{path}: {} lines, {} written, {} rejected",
        report.lines,
        report.written,
        report.rejected.len()
    );
    if report.rejected.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} of {} lines rejected",
            report.rejected.len(),
            report.lines
        ))
    }
}
