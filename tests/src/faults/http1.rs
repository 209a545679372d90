//! Just enough HTTP/1.1 for the proxy: one message at a time off a kept-alive connection, its
//! bytes passed on unchanged (Content-Length, chunked, or a response read to EOF).

use tokio::io::{AsyncRead, AsyncReadExt};

/// One HTTP/1.1 message as read: its raw bytes (head and body) and what the proxy needs of it.
pub(super) struct Message {
    pub raw: Vec<u8>,
    head_len: usize,
    headers: Vec<(String, String)>,
    /// The connection ends after this message (`Connection: close`, or a body read to EOF).
    pub closes: bool,
}

impl Message {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn body(&self) -> &[u8] {
        &self.raw[self.head_len..]
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Reads more into `buf`; false at EOF.
pub(super) async fn fill(
    stream: &mut (impl AsyncRead + Unpin),
    buf: &mut Vec<u8>,
) -> std::io::Result<bool> {
    let mut chunk = [0u8; 16 * 1024];
    let n = stream.read(&mut chunk).await?;
    buf.extend_from_slice(&chunk[..n]);
    Ok(n > 0)
}

/// Reads one message from `stream` (bytes already read but not used wait in `buf`). `None`:
/// the peer closed the connection before a new message began.
pub(super) async fn read_message(
    stream: &mut (impl AsyncRead + Unpin),
    buf: &mut Vec<u8>,
    is_response: bool,
) -> std::io::Result<Option<Message>> {
    let head_len = loop {
        if let Some(i) = find(buf, b"\r\n\r\n") {
            break i + 4;
        }
        if !fill(stream, buf).await? {
            if buf.is_empty() {
                return Ok(None);
            }
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_len]).into_owned();
    let headers: Vec<(String, String)> = head
        .split("\r\n")
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let get = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let mut closes = get("connection").is_some_and(|v| v.contains("close"));
    let chunked = get("transfer-encoding").is_some_and(|v| v.contains("chunked"));
    let length = get("content-length").and_then(|v| v.parse::<usize>().ok());
    let status_has_no_body =
        is_response && (head.starts_with("HTTP/1.1 204") || head.starts_with("HTTP/1.1 304"));
    let end = if chunked {
        // Chunks, passed on as they are: size line, data, CRLF; a zero size, trailers, CRLF.
        let mut at = head_len;
        loop {
            let line_end = loop {
                if let Some(i) = find(&buf[at..], b"\r\n") {
                    break at + i;
                }
                if !fill(stream, buf).await? {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            };
            let size_text = String::from_utf8_lossy(&buf[at..line_end]).into_owned();
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .map_err(|_| std::io::Error::other("a bad chunk size"))?;
            at = line_end + 2;
            if size == 0 {
                // Trailers up to an empty line.
                loop {
                    if let Some(i) = find(&buf[at..], b"\r\n") {
                        let empty = i == 0;
                        at += i + 2;
                        if empty {
                            break;
                        }
                        continue;
                    }
                    if !fill(stream, buf).await? {
                        return Err(std::io::ErrorKind::UnexpectedEof.into());
                    }
                }
                break at;
            }
            while buf.len() < at + size + 2 {
                if !fill(stream, buf).await? {
                    return Err(std::io::ErrorKind::UnexpectedEof.into());
                }
            }
            at += size + 2;
        }
    } else if let Some(n) = length {
        while buf.len() < head_len + n {
            if !fill(stream, buf).await? {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
        }
        head_len + n
    } else if is_response && !status_has_no_body {
        // No length: the body runs to the end of the connection.
        while fill(stream, buf).await? {}
        closes = true;
        buf.len()
    } else {
        head_len
    };
    let raw: Vec<u8> = buf.drain(..end).collect();
    Ok(Some(Message {
        raw,
        head_len,
        headers,
        closes,
    }))
}
