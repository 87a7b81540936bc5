//! `sfsmoke sim`: serve a scenario or an org file on loopback until Ctrl-C,
//! printing how to reach it and one line per request.

use super::{FatalError, Handled};
use crate::cli::SimArgs;
use crate::exit;
use crate::sim::{demo, load_org_file, scenarios, start, AccessLog, SimOptions};
use std::sync::Arc;

pub(super) async fn run(args: SimArgs) -> Handled {
    if args.list_scenarios {
        let width = scenarios::names()
            .iter()
            .map(|(n, _)| n.len())
            .max()
            .unwrap_or(0);
        for (name, desc) in scenarios::names() {
            say!("{name:width$}  {desc}");
        }
        return Ok(exit::SUCCESS);
    }
    let (org, source) = match &args.org_file {
        Some(path) => match load_org_file(path) {
            Ok(org) => (org, format!("org file {}", path.display())),
            Err(e) => return Err(vec![FatalError::Usage(e)]),
        },
        None => match scenarios::build(&args.scenario) {
            Some(org) => (org, format!("scenario '{}'", args.scenario)),
            None => {
                return Err(vec![FatalError::Usage(format!(
                    "unknown scenario '{}'\n(hint: `sfsmoke sim --list-scenarios` lists them)",
                    args.scenario
                ))])
            }
        },
    };
    super::init_logging(args.verbosity);
    let access_log =
        (!args.verbosity.quiet).then(|| AccessLog(Arc::new(|line: &str| say!("{line}"))));
    let opts = SimOptions {
        tls: args.tls,
        port: args.port,
        cert_path: args.tls.then(|| args.cert_out.clone()),
        access_log,
        latency: std::time::Duration::from_millis(args.latency_ms),
    };
    let handle = start(org, opts).await.map_err(|e| {
        vec![FatalError::Usage(format!(
            "cannot start the simulated org on 127.0.0.1:{}: {e}\n(hint: pick another --port, or 0 for any free port)",
            args.port
        ))]
    })?;
    say!("simulated Salesforce org ({source}) listening");
    say!("  login URL:      {}", handle.login_url());
    say!("  instance URL:   {}", handle.login_url());
    if args.latency_ms > 0 {
        say!(
            "  latency:        {} ms added to every request",
            args.latency_ms
        );
    }
    if let Some(cert) = handle.cert_path() {
        say!("  certificate:    {} (trust it: ca_file)", cert.display());
    }
    match &args.org_file {
        None => {
            say!(
                "demo credentials (DEMO VALUES, public on purpose; they open only this simulated org):"
            );
            say!("  username:       {}", demo::USERNAME);
            say!("  password:       {}", demo::PASSWORD);
            say!("  security token: {}", demo::SECURITY_TOKEN);
            say!("  client id:      {}", demo::CLIENT_ID);
            say!("  client secret:  {}", demo::CLIENT_SECRET);
            say!("  refresh token:  {}", demo::REFRESH_TOKEN);
            say!(
                "  External Client App {} (JWT, same key): client id {}",
                demo::ECA_JWT_NAME,
                demo::ECA_JWT_CLIENT_ID
            );
            say!(
                "  External Client App {} (client credentials): client id {}",
                demo::ECA_CC_NAME,
                demo::ECA_CC_CLIENT_ID
            );
            say!("    its client secret: {}", demo::ECA_CC_CLIENT_SECRET);
            say!("  JWT key:        sfsmoke::sim::demo::JWT_PRIVATE_KEY_PEM (src/sim/demo.rs)");
            say!(
                "  auditor:        {} / {}",
                demo::AUDITOR_USERNAME,
                demo::AUDITOR_PASSWORD
            );
        }
        Some(path) => {
            // The org file's own credentials apply, whatever they are: never
            // print them (nor the demo ones, which may not apply).
            let users = handle.read(|org| {
                org.users
                    .iter()
                    .map(|u| u.username.clone())
                    .collect::<Vec<_>>()
            });
            say!("  users:          {}", users.join(", "));
            say!(
                "  credentials:    as written in {} (passwords, tokens, Connected App and External Client App keys)",
                path.display()
            );
        }
    }
    say!(
        "press Ctrl-C to stop; one line per request follows (-q: none; -v: why each refusal happened, on stderr)"
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {e}");
    }
    handle.stop().await;
    Ok(exit::SUCCESS)
}
