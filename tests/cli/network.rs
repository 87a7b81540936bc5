//! The network edge through the real binary (issue 9): which CAs are
//! trusted (finding 2: corporate TLS) and which requests use a proxy
//! (finding 3: loopback never does).

use crate::support::{config, World};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Finding 2: a CA given only through `SSL_CERT_FILE` is trusted (no
/// `ca_file` in smoke.toml).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_trusts_a_ca_given_only_through_ssl_cert_file() {
    let w = World::start_with("healthy", true).await;
    w.write_config(&config::jwt());
    let ca = w.env["SIM_CA"].clone();
    let run = w.smoke_env(&[], &[("SSL_CERT_FILE", &ca)]).await;
    run.expect_code(0).check_junit(3, 0, 0, 0);
}

/// Finding 2: the same CA in a directory named by `SSL_CERT_DIR`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_trusts_a_ca_in_ssl_cert_dir() {
    let w = World::start_with("healthy", true).await;
    w.write_config(&config::jwt());
    let dir = w.path("certs");
    std::fs::create_dir(&dir).unwrap();
    std::fs::copy(&w.env["SIM_CA"], dir.join("sim.pem")).unwrap();
    let run = w
        .smoke_env(&[], &[("SSL_CERT_DIR", dir.to_str().unwrap())])
        .await;
    run.expect_code(0).check_junit(3, 0, 0, 0);
}

/// Finding 2: with no trust source naming the CA, the login is a
/// TLS_ERROR that says the issuer is unknown.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_without_any_trust_source_is_an_unknown_issuer() {
    let w = World::start_with("healthy", true).await;
    w.write_config(&config::jwt());
    let run = w.smoke(&[]).await;
    run.expect_code(1).check_junit(3, 0, 1, 2);
    let junit = run.junit();
    assert!(junit.contains(r#"type="TLS_ERROR""#), "{junit}");
    assert!(junit.contains("UnknownIssuer"), "{junit}");
}

/// Removes a certificate from the OS store and rebuilds the bundle when
/// dropped, also when the test fails.
struct InstalledCa(PathBuf);

impl Drop for InstalledCa {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let status = std::process::Command::new("update-ca-certificates").output();
        if !matches!(&status, Ok(o) if o.status.success()) {
            eprintln!(
                "could not rebuild the OS trust store after removing {}: {status:?}",
                self.0.display()
            );
        }
    }
}

fn can_install_system_cas() -> Option<&'static Path> {
    let dir = Path::new("/usr/local/share/ca-certificates");
    let root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let tool = std::process::Command::new("update-ca-certificates")
        .arg("--help")
        .output()
        .is_ok();
    (root && tool && dir.is_dir()).then_some(dir)
}

/// Finding 2: a CA installed in the OS store (the way a TLS-inspecting
/// proxy's CA reaches a runner) is trusted. Needs root and
/// update-ca-certificates (Debian/Ubuntu); skips with a note otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_trusts_a_ca_installed_in_the_os_store() {
    let Some(dir) = can_install_system_cas() else {
        crate::support::skipped(
            "tls_trusts_a_ca_installed_in_the_os_store needs root and update-ca-certificates \
             with /usr/local/share/ca-certificates",
        );
        return;
    };
    // Other checkouts' test runs on this machine (as root, too) install
    // and remove their certificates the same way: one at a time.
    let lock = std::fs::File::create(std::env::temp_dir().join("sfsmoke-os-store-test.lock"))
        .expect("lock file");
    #[allow(clippy::incompatible_msrv)] // a test-only use; the toolchain has it
    lock.lock().expect("lock the OS store for this test");
    let w = World::start_with("healthy", true).await;
    w.write_config(&config::jwt());
    let target = dir.join(format!("sfsmoke-test-{}.crt", std::process::id()));
    std::fs::copy(&w.env["SIM_CA"], &target).unwrap();
    let _installed = InstalledCa(target.clone());
    // Retried: a run of an older checkout (without the lock) may rebuild
    // the store at the same moment.
    let mut out = None;
    for _ in 0..3 {
        let o = std::process::Command::new("update-ca-certificates")
            .output()
            .expect("update-ca-certificates");
        if o.status.success() {
            out = None;
            break;
        }
        out = Some(o);
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    if let Some(o) = out {
        panic!(
            "update-ca-certificates failed 3 times: {}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    let run = w.smoke(&[]).await;
    run.expect_code(0).check_junit(3, 0, 0, 0);
}

/// A proxy that records the first line of every connection it gets and
/// answers 502 (it never forwards anything anywhere).
struct RecordingProxy {
    url: String,
    seen: Arc<Mutex<Vec<String>>>,
}

impl RecordingProxy {
    async fn start() -> RecordingProxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        tokio::spawn(async move {
            while let Ok((mut conn, _)) = listener.accept().await {
                let log = log.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 4096];
                    let n = conn.read(&mut buf).await.unwrap_or(0);
                    let head = String::from_utf8_lossy(&buf[..n]);
                    let first = head.lines().next().unwrap_or("").to_string();
                    log.lock().unwrap().push(first);
                    let _ = conn
                        .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
                        .await;
                });
            }
        });
        RecordingProxy { url, seen }
    }

    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// Finding 3: with every proxy variable set, a loopback org is reached
/// directly: the proxy sees nothing (the password never crosses it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_orgs_never_go_through_the_proxy() {
    let proxy = RecordingProxy::start().await;
    let w = World::start("healthy").await;
    w.write_config(&config::soap(r#""Account""#));
    let vars = [
        ("HTTP_PROXY", proxy.url.as_str()),
        ("http_proxy", proxy.url.as_str()),
        ("HTTPS_PROXY", proxy.url.as_str()),
        ("ALL_PROXY", proxy.url.as_str()),
    ];
    let run = w.smoke_env(&[], &vars).await;
    run.expect_code(0).check_junit(2, 0, 0, 0);
    assert_eq!(proxy.seen(), Vec::<String>::new());
}

/// Finding 3: a name under `.localhost` is not loopback, so HTTPS_PROXY
/// applies to it: the proxy is asked to CONNECT (and refuses; nothing is
/// resolved or reached beyond it). NO_PROXY is covered by unit tests:
/// a direct connection to that name would need DNS.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proxy_variables_apply_to_other_hosts() {
    let proxy = RecordingProxy::start().await;
    let w = World::start("healthy").await;
    w.write_config(
        r#"
[orgs.prod]
login_url = "https://sim.localhost:9"
auth = "password"
username = "${SF_USER}"
password = "${SF_PASSWORD}"
security_token = "${SF_TOKEN}"
objects = ["Account"]
"#,
    );
    let run = w
        .smoke_env(&[], &[("HTTPS_PROXY", proxy.url.as_str())])
        .await;
    run.expect_code(1);
    assert_eq!(
        proxy.seen(),
        vec!["CONNECT sim.localhost:9 HTTP/1.1".to_string()],
        "{}",
        run.stdout()
    );
}
