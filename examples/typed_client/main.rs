//! A schema-typed client: logs in, reads `me`, creates a model, lists every user with
//! the models each may read, and pages through a search. `cargo run --example typed_client` against a server at
//! `MLTE_URL` (default http://127.0.0.1:8080) as `MLTE_USERNAME` / `MLTE_PASSWORD`.

mod client;

use client::{Client, CreateModel, Me, UsersWithModels, create_model, me, users_with_models};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("MLTE_URL").unwrap_or_else(|_| "http://127.0.0.1:8080".to_owned());
    let username = std::env::var("MLTE_USERNAME").unwrap_or_else(|_| "admin".to_owned());
    let password = std::env::var("MLTE_PASSWORD")?;
    let mut client = Client::new(&url);

    let token = client.login(&username, &password).await?;
    println!("logged in; the token lasts {} s", token.expires_in);

    let me = client.run::<Me>(me::Variables).await?.me;
    println!("me: {} ({:?}), groups: {}", me.username, me.role, me.groups.len());

    let model = client.run::<CreateModel>(create_model::Variables { id: "typed-client-model".to_owned() }).await?;
    println!("created model {}", model.create_model.id);

    for user in client.run::<UsersWithModels>(users_with_models::Variables).await?.users {
        let models: Vec<_> = user.models.iter().map(|m| m.id.as_str()).collect();
        println!("{} ({:?}) reads {:?}", user.username, user.role, models);
    }

    let found = client.search_all("ad", 10).await?;
    println!("users matching \"ad\", 10 a page: {found:?}");
    Ok(())
}
