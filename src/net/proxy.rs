//! Proxies from the environment, as curl reads them: `HTTPS_PROXY` for
//! https targets, `HTTP_PROXY` for http targets, `ALL_PROXY` for either
//! (each also in lower case), `NO_PROXY` for exceptions (`*`, domains with
//! their subdomains, IP addresses and CIDR ranges). `HTTP_PROXY` is ignored
//! when `REQUEST_METHOD` is set (a CGI request can set it: "httpoxy").
//!
//! Loopback targets never use a proxy, whatever the variables say: the
//! simulated org and local tools speak plain http, and a password sent to a
//! local org must not cross a proxy in clear text. Loopback means
//! `127.0.0.0/8`, `::1` and `localhost` only; `*.localhost` may be resolved
//! through DNS, so it is treated like any other name.

use crate::auth::is_loopback;
use hyper_util::client::proxy::matcher::Matcher;
use url::Url;

/// The proxy rules read from the environment once, at client construction.
pub struct ProxyEnv {
    /// Decides whether a target is proxied (scheme, `NO_PROXY`, CGI).
    matcher: Matcher,
    http: Option<Url>,
    https: Option<Url>,
}

impl std::fmt::Debug for ProxyEnv {
    // The proxy URLs may carry credentials: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProxyEnv")
            .field("http", &self.http.is_some())
            .field("https", &self.https.is_some())
            .finish()
    }
}

fn first_var(get: &dyn Fn(&str) -> Option<String>, names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| get(n))
        .filter(|v| !v.trim().is_empty())
}

/// `proxy.corp:3128` means `http://proxy.corp:3128`, as curl reads it.
fn proxy_url(value: &str) -> Option<Url> {
    let value = value.trim();
    if value.contains("://") {
        Url::parse(value).ok()
    } else {
        Url::parse(&format!("http://{value}")).ok()
    }
}

impl ProxyEnv {
    /// Read the rules through `get` (the process environment in
    /// [`from_env`], a map in tests).
    pub fn read(get: &dyn Fn(&str) -> Option<String>) -> Self {
        let all = first_var(get, &["ALL_PROXY", "all_proxy"]);
        let cgi = get("REQUEST_METHOD").is_some();
        let http = if cgi {
            None
        } else {
            first_var(get, &["HTTP_PROXY", "http_proxy"]).or_else(|| all.clone())
        };
        let https = first_var(get, &["HTTPS_PROXY", "https_proxy"]).or(all);
        let no = first_var(get, &["NO_PROXY", "no_proxy"]).unwrap_or_default();
        let mut matcher = Matcher::builder().no(no);
        if let Some(h) = &http {
            matcher = matcher.http(h.clone());
        }
        if let Some(h) = &https {
            matcher = matcher.https(h.clone());
        }
        ProxyEnv {
            matcher: matcher.build(),
            http: http.as_deref().and_then(proxy_url),
            https: https.as_deref().and_then(proxy_url),
        }
    }

    /// The proxy for a request to `target`, or None to connect directly.
    pub fn proxy_for(&self, target: &Url) -> Option<Url> {
        if is_loopback(target) {
            return None;
        }
        let uri: hyper::Uri = target.as_str().parse().ok()?;
        self.matcher.intercept(&uri)?;
        match target.scheme() {
            "https" => self.https.clone(),
            "http" => self.http.clone(),
            _ => None,
        }
    }
}

/// The reqwest proxy rule for the process environment.
pub fn from_env() -> reqwest::Proxy {
    let env = ProxyEnv::read(&|name| std::env::var(name).ok());
    reqwest::Proxy::custom(move |url| env.proxy_for(url))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> ProxyEnv {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ProxyEnv::read(&move |n| map.get(n).cloned())
    }

    fn via(e: &ProxyEnv, target: &str) -> Option<String> {
        e.proxy_for(&Url::parse(target).unwrap())
            .map(|u| u.to_string())
    }

    #[test]
    fn loopback_targets_never_use_a_proxy() {
        let e = env(&[
            ("HTTP_PROXY", "http://proxy.corp:3128"),
            ("HTTPS_PROXY", "http://proxy.corp:3128"),
            ("ALL_PROXY", "http://proxy.corp:3128"),
        ]);
        for target in [
            "http://127.0.0.1:8080/services/Soap/u/62.0",
            "http://127.8.9.10/",
            "https://[::1]:8443/",
            "http://localhost:1234/",
            "http://LOCALHOST/",
        ] {
            assert_eq!(via(&e, target), None, "{target}");
        }
        // *.localhost is only a name: it goes through the proxy.
        assert_eq!(
            via(&e, "http://sim.localhost:1234/").as_deref(),
            Some("http://proxy.corp:3128/")
        );
        assert_eq!(
            via(&e, "https://login.salesforce.com/").as_deref(),
            Some("http://proxy.corp:3128/")
        );
    }

    #[test]
    fn each_scheme_has_its_variable_and_all_proxy_fills_in() {
        let e = env(&[
            ("https_proxy", "proxy.corp:8443"),
            ("ALL_PROXY", "http://all.corp:1"),
        ]);
        assert_eq!(
            via(&e, "https://acme.my.salesforce.com/").as_deref(),
            Some("http://proxy.corp:8443/")
        );
        assert_eq!(
            via(&e, "http://example.com/").as_deref(),
            Some("http://all.corp:1/")
        );
        assert_eq!(via(&env(&[]), "https://login.salesforce.com/"), None);
    }

    #[test]
    fn no_proxy_exempts_domains_subdomains_and_ranges() {
        let e = env(&[
            ("HTTPS_PROXY", "http://proxy.corp:3128"),
            ("NO_PROXY", "salesforce.com, 10.0.0.0/8"),
        ]);
        assert_eq!(via(&e, "https://login.salesforce.com/"), None);
        assert_eq!(via(&e, "https://10.1.2.3/"), None);
        assert!(via(&e, "https://notsalesforce.com/").is_some());
        let star = env(&[("HTTPS_PROXY", "http://p:1"), ("no_proxy", "*")]);
        assert_eq!(via(&star, "https://login.salesforce.com/"), None);
    }

    #[test]
    fn proxy_credentials_are_kept_and_never_printed() {
        let e = env(&[("HTTPS_PROXY", "http://user:s3cret@proxy.corp:3128")]);
        assert_eq!(
            via(&e, "https://login.salesforce.com/").as_deref(),
            Some("http://user:s3cret@proxy.corp:3128/")
        );
        assert!(!format!("{e:?}").contains("s3cret"));
    }

    #[test]
    fn http_proxy_is_ignored_under_cgi() {
        let e = env(&[("HTTP_PROXY", "http://evil:1"), ("REQUEST_METHOD", "GET")]);
        assert_eq!(via(&e, "http://example.com/"), None);
    }
}
