//! Demo credentials of the simulated org. These values are public on purpose:
//! they open only the simulated org (`sfsmoke sim`, `sfsmoke demo`, the
//! tests), never a real Salesforce org. Every built-in scenario uses them for
//! its integration user, its auditor, its Connected App and its External
//! Client Apps.

/// The integration user (the one the gate logs in as).
pub const USERNAME: &str = "integration@acme.example";
/// Its password (without the security token).
pub const PASSWORD: &str = "demo-Passw0rd";
/// Its security token (appended to the password when logging in from
/// outside a trusted IP range).
pub const SECURITY_TOKEN: &str = "DEMOtoken0000000000000000";

/// The read-only auditor used for diagnosis (View Setup and Configuration,
/// API Enabled).
pub const AUDITOR_USERNAME: &str = "auditor@acme.example";
pub const AUDITOR_PASSWORD: &str = "demo-Aud1tor";
pub const AUDITOR_SECURITY_TOKEN: &str = "AUDITtoken000000000000000";

/// The demo Connected App ("sfsmoke CI").
pub const CONNECTED_APP_NAME: &str = "sfsmoke CI";
/// Its consumer key (OAuth `client_id`, JWT `iss`).
pub const CLIENT_ID: &str =
    "3MVG9demo.sfsmoke.simulated.org.CONSUMER.KEY.public.on.purpose.0000000000000";
/// Its consumer secret (OAuth `client_secret`).
pub const CLIENT_SECRET: &str = "DEMO0000SECRET0000PUBLIC0000ON0000PURPOSE00000000000000000000000";
/// A refresh token issued to [`USERNAME`] for the demo Connected App.
pub const REFRESH_TOKEN: &str =
    "5Aep861demo.refresh.token.for.the.simulated.org.only.public.on.purpose";

/// The demo External Client App for the JWT bearer flow ("Warehouse
/// Sync"): admin-approved, pre-authorizing the integration user's
/// 'Stripe Integration Access' permission set; the same certificate as the
/// Connected App, so [`JWT_PRIVATE_KEY_PEM`] signs for it too.
pub const ECA_JWT_NAME: &str = "Warehouse_Sync";
/// Its consumer key (OAuth `client_id`, JWT `iss`).
pub const ECA_JWT_CLIENT_ID: &str =
    "3MVG9demo.sfsmoke.simulated.org.ECA.WAREHOUSE.SYNC.KEY.public.on.purpose.00000000";
/// Its consumer secret.
pub const ECA_JWT_CLIENT_SECRET: &str =
    "DEMO0000ECA0JWT0SECRET0000PUBLIC0000ON0000PURPOSE000000000000000";

/// The demo External Client App for the client credentials flow ("Nightly
/// Export"), running as [`USERNAME`].
pub const ECA_CC_NAME: &str = "Nightly_Export";
/// Its consumer key (OAuth `client_id`).
pub const ECA_CC_CLIENT_ID: &str =
    "3MVG9demo.sfsmoke.simulated.org.ECA.NIGHTLY.EXPORT.KEY.public.on.purpose.000000";
/// Its consumer secret (OAuth `client_secret`).
pub const ECA_CC_CLIENT_SECRET: &str =
    "DEMO0000ECA00CC0SECRET0000PUBLIC0000ON0000PURPOSE000000000000000";

/// The demo org's id (18 characters).
pub const ORG_ID: &str = "00D5g000004sMOKEAA";

/// The private key that signs JWT bearer assertions for the demo Connected
/// App (RSA 2048, PKCS#8 PEM). Public on purpose.
pub const JWT_PRIVATE_KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDK7+pVe0t5r6MC
GXds4pWS7ZAy7ue8+Z7t4y876TBPNUl3trVdGPdVKmq7bsowem3A6hafRw3O7H6/
GmMoF556+2EmP/pjaTFtWTS3Nk2z7FD1+9uRKTTWf8QgQRnsPjs6gsOg9fHjBPAi
pRbtjqrkcpa6Co5NNOEoFM4B1kwTePHLG2LrgvBKsosLvlC2EaheVt405mAsWut+
V0HdTlmfThBYDnIbAg3btwfLd1CbmWgsGuM4LUP1kKiCR5xvufmGIS6p7p6NRodV
ZBB5MG5EjLZdzHGMzUcnQeu/A5ax/jL+Rq6SkhHhv1K8DarthtxJXZQILpgX+dVK
XA1SMgVVAgMBAAECggEADrnRRuatfjHQ7rdEw6S/HQXnSTetntIWRqwOCP20Dbgp
Xp1MrjbAXwodUjO8SqXeDpOhLjZy7NybmrTVesFMAYYtCu0b93HyR9cJswnAiOY3
2CgW5LYZKXKxm3P3gTCuDfusxAjuYBgQCaBYXscHGF155oIbLvfZWfxrsa87nsxh
pN3B7bi0UVx1TUfyhfqL5judjdSEaspDEC/Ot1imariDE7RJnyepmHFw0RXLq5/L
ujcHtwst3q+YTAZx4vVeg7LxnAA87V3rjskSbcjFOqZR06+q+Uy/rp8IEoPxFfLj
zA/eDkOK4s0uoeydLwV9FJp98Qh0LTalBcM9PZO0+QKBgQDqBRiZNxoPbsnQIpao
w42nOXAAVUEmLrG+VBNZ+jKFOVvYAHXNnrfiHhtZMaq3QPeiY5CqeLOnHW8Wal8v
+We+l7Iq5B2a2WmPFxSv4FA/EyaREdWZQLWixeV6CW9P4g/pV63/tCBvv39yCOkX
j9iv2xA/2/vzrJFWIk+3S3QoCwKBgQDd/3Li7QGQMdi9JIRzPV6hbunkiRS1Y00A
70iuNDv4C/95NT44ginf8Mc3sQV4AocxfQcXq4fndi/hRHC1KqGmIJcqwqNLRsFh
PbHdwzrusPXZev81Add3JyRQjVWNZtT6qU5YtdVq7W02bPzJ3OE4vhTc3XQkxW85
QvMhzyMEHwKBgQCqhwQhwbFPxZ9x94Jpf/ZdANHIrFdJB4Wl94YSbusZgW6Xu94b
86hzMRUkrbiEyOaqgnsMfeALyrsETocGYmtiyw+diZS5Hex5xIvijUZsb/wOgjxv
7GNvNV2+y9k9ELIfizDTv+JTC+xGoI+aB8wSeUMiBZ9XNUzCw0XrfyQpeQKBgQCZ
qGCq9YVpezcb5BTRdx7y+kRmbQOqcWsxRG64NWt0y0kvak0A7Adz+8LIp3yzjnxp
IrMwDQhqi4GkmKyymSl+RXycmlBQoE7lscBVUPaPlGj2+Y1/8SBkVvFp2Anpb83n
Gh0ihemMs34ud82ZI4u4rMjf/2COuyG7Lr3/HtKL3QKBgQCgK8KxyPq1phgQ8bKJ
vXEvO/pOOMFtHdfliiDgYHNWBdgUCMweLUEb9AwfZ71436nMcvr9NAX2zBeG+mNn
FgO5yI6qqD2rbYo/CtbXx1EngJHdqhJ7Mgo+1nCJBloAU21XwTBkrxfDJkuikkf5
SFNWH8wvH1VI0Sdsy6agMe3Q7Q==
-----END PRIVATE KEY-----
";

/// The certificate registered on the demo Connected App (self-signed, holds
/// the public half of [`JWT_PRIVATE_KEY_PEM`]).
pub const JWT_CERTIFICATE_PEM: &str = "\
-----BEGIN CERTIFICATE-----
MIIDVzCCAj+gAwIBAgIUIzpM63fhyZP6POATqjq0IVBby2owDQYJKoZIhvcNAQEL
BQAwOjE4MDYGA1UEAwwvc2ZzbW9rZSBkZW1vIENvbm5lY3RlZCBBcHAgKHNpbXVs
YXRlZCBvcmcgb25seSkwIBcNMjYxMTI5MDIzOTU4WhgPMjEyNjExMDUwMjM5NTha
MDoxODA2BgNVBAMML3Nmc21va2UgZGVtbyBDb25uZWN0ZWQgQXBwIChzaW11bGF0
ZWQgb3JnIG9ubHkpMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAyu/q
VXtLea+jAhl3bOKVku2QMu7nvPme7eMvO+kwTzVJd7a1XRj3VSpqu27KMHptwOoW
n0cNzux+vxpjKBeeevthJj/6Y2kxbVk0tzZNs+xQ9fvbkSk01n/EIEEZ7D47OoLD
oPXx4wTwIqUW7Y6q5HKWugqOTTThKBTOAdZME3jxyxti64LwSrKLC75QthGoXlbe
NOZgLFrrfldB3U5Zn04QWA5yGwIN27cHy3dQm5loLBrjOC1D9ZCogkecb7n5hiEu
qe6ejUaHVWQQeTBuRIy2XcxxjM1HJ0HrvwOWsf4y/kaukpIR4b9SvA2q7YbcSV2U
CC6YF/nVSlwNUjIFVQIDAQABo1MwUTAdBgNVHQ4EFgQUKUBJiwlgbLq/Q8xk//O0
m9T4AwQwHwYDVR0jBBgwFoAUKUBJiwlgbLq/Q8xk//O0m9T4AwQwDwYDVR0TAQH/
BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAULWoFXZZ8BcW+zQKFmJ1V+c19hH3
/4o3aeNHa+Mo4GrLcNy+YYzaOHX85IZjWeKRggk8f3rXxuFaC9kuidd7kWg04uzs
0uQ8ze5H2R2uB20blX/1Pk2vhU/lH4mK6+JliGNr9a4GZaW17O5N80SqOPM1HhCM
x34LBW5eUSNA46I/FXcMjWd2w+hy/6LERhdiweDWoq4SXldHcv1MD5wHXWpkb1KW
X1ekeFO/Z+Y3eOp/CIrd4cdfyqqDhRFUfjPXa8gITHstKydjX3bslItMV6EBXVsO
HaIKXaXfLJdPSPYe8yTT/FyHueRTilcURSRc89gARNubQReJ4MVoL46LVA==
-----END CERTIFICATE-----
";
