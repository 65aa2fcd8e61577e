//! HTTPS (`--tls-cert`/`--tls-key`): keys never cross the network in clear text. The
//! certificate in tests/fixtures/tls is a self-signed one for localhost, for tests only.

use std::path::PathBuf;
use std::time::Duration;

use podctl::proxy::tls::TlsFiles;
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;

use crate::harness::{Env, READ_CALL, continue_request};
use crate::standin::{Config, Reply};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tls").join(name)
}

fn https_client() -> reqwest::Client {
    let pem = std::fs::read(fixture("ca.pem")).expect("test CA");
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&pem).expect("PEM")])
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread")]
async fn https_serves_translated_calls_and_plain_http_gets_nothing() {
    let env = Env::with(Config::default(), |c| {
        c.keys = vec!["sk-tls".into()];
        c.tls = Some(TlsFiles { cert: fixture("cert.pem"), key: fixture("key.pem") });
    })
    .await;
    let addr = env.url.trim_start_matches("http://").to_owned();
    let https = format!("https://localhost:{}", addr.rsplit(':').next().expect("port"));

    // A client that connects and never starts its handshake holds no one up.
    let mut idle = tokio::net::TcpStream::connect(&addr).await.expect("connect");

    let client = https_client();
    let health = client.get(format!("{https}/health")).send().await.expect("https answers");
    assert_eq!(health.status().as_u16(), 200);

    env.standin.push_reply(Reply::text(READ_CALL));
    let body: Value = client
        .post(format!("{https}/v1/chat/completions"))
        .bearer_auth("sk-tls")
        .json(&continue_request(false))
        .send()
        .await
        .expect("answer")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["choices"][0]["message"]["tool_calls"][0]["function"]["name"], "read_file", "{body}");

    // Plain HTTP on the TLS port gets no HTTP answer (so no key is ever sent in clear
    // text by mistake and then accepted).
    let plain = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().expect("client");
    assert!(plain.get(format!("http://{addr}/health")).send().await.is_err());

    let _ = idle.shutdown().await;
    env.shutdown.cancel();
}

#[test]
fn bad_tls_files_are_refused_with_the_reason() {
    let cert = fixture("cert.pem");
    let key = fixture("key.pem");
    let err = |c: Option<&PathBuf>, k: Option<&PathBuf>| {
        podctl::proxy::config::tls_files(c, k).expect_err("refused").to_string()
    };
    assert!(err(Some(&cert), None).contains("--tls-key"));
    assert!(err(None, Some(&key)).contains("--tls-cert"));
    // The key given as the certificate, and the reverse.
    assert!(err(Some(&key), Some(&key)).contains("no certificate"), "{}", err(Some(&key), Some(&key)));
    assert!(err(Some(&cert), Some(&cert)).contains("private key"), "{}", err(Some(&cert), Some(&cert)));
    assert!(err(Some(&PathBuf::from("/nonexistent.pem")), Some(&key)).contains("/nonexistent.pem"));
    assert!(podctl::proxy::config::tls_files(Some(&cert), Some(&key)).expect("valid").is_some());
}
