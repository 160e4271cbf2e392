//! `berth server`: starts the control plane in named phases: data directory, certificates,
//! store, API router, bootstrap objects, HTTPS listener, kubeconfig.

use anyhow::Context;
use berth_apiserver::auth::{TokenAuthenticator, UserInfo};
use berth_apiserver::{ApiState, ApiStateOptions, pki::Pki, serve};
use berth_store::{SqliteStore, SqliteStoreOptions};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

/// Flags of `berth server`.
#[derive(Debug, clap::Args)]
pub struct ServerArgs {
    /// Directory for the store, certificates and kubeconfig.
    #[arg(long, default_value = "./berth-data")]
    data_dir: PathBuf,
    /// Address of the HTTPS API listener.
    #[arg(long, default_value = "127.0.0.1:6443")]
    listen: SocketAddr,
}

/// Runs the server until interrupted.
pub fn run(args: ServerArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(serve_forever(args))
}

async fn serve_forever(args: ServerArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating the data directory {}", args.data_dir.display()))?;
    let pki = Pki::load_or_create(&args.data_dir.join("pki")).context("preparing certificates")?;
    let store = SqliteStore::open(&args.data_dir.join("store.db"), SqliteStoreOptions::default())
        .context("opening the store")?;
    let admin = UserInfo {
        username: "admin".into(),
        uid: "admin".into(),
        groups: vec!["system:masters".into(), "system:authenticated".into()],
    };
    let authenticator = TokenAuthenticator::new([(pki.admin_token.clone(), admin)]);
    let state = Arc::new(ApiState::new(
        Arc::new(store),
        Arc::new(authenticator),
        ApiStateOptions::default(),
    ));
    let router = berth_apiserver::router(state.clone());
    let system = UserInfo {
        username: "system:apiserver".into(),
        uid: "system:apiserver".into(),
        groups: vec!["system:masters".into()],
    };
    let internal = berth_apiserver::in_process(router.clone(), system);
    bootstrap::run(&internal)
        .await
        .context("creating the built-in namespaces")?;
    let client = kube::Client::new(internal, "default");
    tokio::spawn(berth_controllers::run_all(client));
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "listening on {} (is another server running? pass --listen)",
                args.listen
            )
        })?;
    let local = listener.local_addr().context("reading the listener address")?;
    let acceptor = serve::tls_acceptor(&pki).context("loading the serving certificate")?;
    let host = if local.ip().is_unspecified() {
        "127.0.0.1".to_string()
    } else {
        local.ip().to_string()
    };
    let kubeconfig = args.data_dir.join("kubeconfig");
    super::kubeconfig::write(&kubeconfig, &format!("https://{host}:{}", local.port()), &pki)?;
    tracing::info!(address = %local, "serving the Kubernetes API over HTTPS");
    tracing::info!(
        "ready: export KUBECONFIG={} && kubectl get namespaces",
        kubeconfig.display()
    );
    tokio::select! {
        _ = serve::serve_tls(listener, acceptor, router) => {}
        _ = tokio::signal::ctrl_c() => tracing::info!("interrupted; shutting down"),
    }
    Ok(())
}

mod bootstrap {
    //! Objects every cluster starts with, created through the API like any client would.

    use axum::body::Body;
    use http::{Method, Request, StatusCode};
    use tower::ServiceExt;

    /// Namespaces Kubernetes creates at start-up.
    const NAMESPACES: [&str; 4] = ["default", "kube-system", "kube-public", "kube-node-lease"];

    pub async fn run(router: &axum::Router) -> anyhow::Result<()> {
        for ns in NAMESPACES {
            let body = serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}});
            let req = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/namespaces")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))?;
            let resp = router.clone().oneshot(req).await?;
            match resp.status() {
                StatusCode::CREATED => tracing::info!(namespace = ns, "created namespace"),
                StatusCode::CONFLICT => {}
                other => anyhow::bail!("creating namespace {ns}: HTTP {other}"),
            }
        }
        Ok(())
    }
}
