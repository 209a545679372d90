use lambda_http::{run, service_fn, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let store = shared::Store::from_env().await?;
    run(service_fn(|req| {
        get_customer::handler(&store, shared::time::Clock::System, req)
    }))
    .await
}
