//! Bounded reads: no answer body is read past [`MAX_BODY`]. A declared
//! `Content-Length` over the cap is refused before reading; otherwise the
//! body is streamed and reading stops at the cap. Every answer sfsmoke
//! reads (REST, SOAP login, OAuth token answers) goes through here, so a
//! broken or hostile server cannot grow the process without bound (a
//! 300 MB answer once took it to 626 MB RSS).

use crate::salesforce::error::{self, Failure, Origin};

/// The largest answer body sfsmoke reads: 8 MiB. A query answer of a
/// smoke check is a few KiB; the largest setup read (describe of a big
/// object) stays well under 1 MiB.
pub const MAX_BODY: usize = 8 * 1024 * 1024;

/// The code of an answer over the cap.
pub const RESPONSE_TOO_LARGE: &str = "RESPONSE_TOO_LARGE";

fn too_large(what: &str, cap: usize, declared: Option<u64>) -> Failure {
    let size = match declared {
        Some(n) => format!("it declares {n} bytes"),
        None => "it went on past that".to_string(),
    };
    Failure::new(
        Origin::Protocol,
        RESPONSE_TOO_LARGE,
        format!(
            "{what}: the answer is larger than sfsmoke reads ({} cap; {size}); reading stopped",
            human(cap)
        ),
    )
}

fn human(bytes: usize) -> String {
    if bytes >= 1024 * 1024 && bytes % (1024 * 1024) == 0 {
        format!("{} MiB", bytes / (1024 * 1024))
    } else if bytes >= 1024 && bytes % 1024 == 0 {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}

/// The body of `response`, at most `cap` bytes. `what` names the call and
/// host in messages (`SOAP login() at https://login.salesforce.com`).
pub async fn read_capped(
    mut response: reqwest::Response,
    what: &str,
    cap: usize,
) -> Result<Vec<u8>, Failure> {
    if let Some(n) = response.content_length() {
        if n > cap as u64 {
            return Err(too_large(what, cap, Some(n)));
        }
    }
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| error::from_reqwest(what, e))?
    {
        if body.len() + chunk.len() > cap {
            return Err(too_large(what, cap, None));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// [`read_capped`] at [`MAX_BODY`].
pub async fn read_bytes(response: reqwest::Response, what: &str) -> Result<Vec<u8>, Failure> {
    read_capped(response, what, MAX_BODY).await
}

/// [`read_bytes`] as text (invalid UTF-8 replaced, as `reqwest`'s
/// `text()` does for Salesforce's UTF-8 answers).
pub async fn read_text(response: reqwest::Response, what: &str) -> Result<String, Failure> {
    let bytes = read_bytes(response, what).await?;
    Ok(match String::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A one-shot HTTP server on 127.0.0.1 that answers with `head` and
    /// then `chunks` chunks of `chunk` bytes (chunked encoding when the
    /// head says so), generated as it goes.
    async fn serve(head: &'static str, chunks: usize, chunk: usize) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/", listener.local_addr().unwrap());
        tokio::spawn(async move {
            let (mut conn, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 2048];
            let _ = conn.read(&mut buf).await;
            let _ = conn.write_all(head.as_bytes()).await;
            let data = vec![b'x'; chunk];
            for _ in 0..chunks {
                let framed = if head.contains("chunked") {
                    let mut f = format!("{chunk:x}\r\n").into_bytes();
                    f.extend_from_slice(&data);
                    f.extend_from_slice(b"\r\n");
                    f
                } else {
                    data.clone()
                };
                if conn.write_all(&framed).await.is_err() {
                    return; // the client stopped reading
                }
            }
            if head.contains("chunked") {
                let _ = conn.write_all(b"0\r\n\r\n").await;
            }
        });
        url
    }

    async fn get(url: &str) -> reqwest::Response {
        reqwest::Client::new().get(url).send().await.unwrap()
    }

    #[tokio::test]
    async fn a_declared_length_over_the_cap_is_refused_before_reading() {
        let url = serve(
            "HTTP/1.1 200 OK\r\ncontent-length: 314572800\r\n\r\n",
            1,
            16,
        )
        .await;
        let e = read_capped(
            get(&url).await,
            "REST GET /q at http://127.0.0.1:1",
            8 << 20,
        )
        .await
        .unwrap_err();
        assert_eq!(e.code, RESPONSE_TOO_LARGE);
        assert_eq!(
            e.message,
            "REST GET /q at http://127.0.0.1:1: the answer is larger than sfsmoke reads (8 MiB cap; it declares 314572800 bytes); reading stopped"
        );
    }

    #[tokio::test]
    async fn a_streamed_body_stops_at_the_cap() {
        // 64 chunks of 1 KiB, cap 16 KiB: the read stops after ~16 KiB.
        let url = serve(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            64,
            1024,
        )
        .await;
        let e = read_capped(
            get(&url).await,
            "SOAP login() at http://127.0.0.1:1",
            16 * 1024,
        )
        .await
        .unwrap_err();
        assert_eq!(e.code, RESPONSE_TOO_LARGE);
        assert!(
            e.message.contains("(16 KiB cap; it went on past that)"),
            "{}",
            e.message
        );
    }

    #[tokio::test]
    async fn a_body_under_the_cap_is_read_whole() {
        let url = serve(
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            4,
            1000,
        )
        .await;
        let body = read_capped(get(&url).await, "x", 4000).await.unwrap();
        assert_eq!(body.len(), 4000);
    }
}
