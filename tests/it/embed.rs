//! Embedding: a Rust test starts Rill in-process on port 0 and talks to it.

use rill_server::config::Config;

#[test]
fn embedded_server_on_port_zero() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    rt.block_on(async {
        let config = Config::from_args(&[
            "--dir".into(),
            dir.path().display().to_string(),
            "--port".into(),
            "0".into(),
            "--bind".into(),
            "127.0.0.1".into(),
            "--kafka-port".into(),
            "0".into(),
        ])
        .unwrap();
        let mut server = rill_server::Server::start(config).await.unwrap();
        server.loaded().await.unwrap();
        assert_ne!(server.addr().port(), 0);
        let url = format!("redis://{}/", server.addr());
        // The redis crate's sync client on a blocking thread, so the runtime keeps serving.
        let got = tokio::task::spawn_blocking(move || {
            let mut c = redis::Client::open(url).unwrap().get_connection().unwrap();
            let _: () = redis::cmd("SET")
                .arg("embedded")
                .arg("yes")
                .query(&mut c)
                .unwrap();
            redis::cmd("GET")
                .arg("embedded")
                .query::<String>(&mut c)
                .unwrap()
        })
        .await
        .unwrap();
        assert_eq!(got, "yes");
        server.shutdown();
    });
}
