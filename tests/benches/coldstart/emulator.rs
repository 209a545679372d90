//! A Lambda Runtime API emulator on loopback, for the cold-start bench: the four routes a
//! custom runtime uses (`/next`, `/response`, `/error`, `/init/error`), with the timestamps the
//! bench reports.
//!
//! Plain HTTP/1.1 over `std::net`, a thread per connection: the runtime's client (hyper) keeps one
//! or two connections open, and a blocking `/next` is simplest as a thread waiting on a condition
//! variable. (hyper is in the lock file, but only with its client half: its server feature would
//! recompile the SDK's whole dependency tree for every build of the workspace.)
//!
//! One emulator serves every run of the bench, one process at a time: `reset` starts a session
//! for a fresh process, and a `/next` left waiting by the previous one returns without an event.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const PREFIX: &str = "/2018-06-01/runtime";

/// What the runtime posted back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Response,
    Error,
    InitError,
}

#[derive(Debug)]
pub struct Posted {
    pub kind: Kind,
    pub request_id: String,
    pub body: Vec<u8>,
    /// When the whole request (headers and body) had been read.
    pub at: Instant,
}

struct Event {
    request_id: String,
    body: Vec<u8>,
}

#[derive(Default)]
struct State {
    session: u64,
    queue: VecDeque<Event>,
    /// The first `/next` of the session: the end of the process's init.
    first_next: Option<Instant>,
    /// A `/next` is waiting for an event: the process is idle.
    waiting: bool,
    /// The last event handed out, and when its bytes were written.
    handed: Option<(String, Instant)>,
}

pub struct RuntimeApi {
    pub addr: String,
    state: Arc<(Mutex<State>, Condvar)>,
    posted: Receiver<Posted>,
    sequence: u64,
}

/// One invocation, as the emulator saw it.
pub struct Invocation {
    /// The event's bytes written to the runtime's `/next`.
    pub handed_at: Instant,
    /// Its response (or error) read in full.
    pub posted: Posted,
}

impl RuntimeApi {
    pub fn start() -> RuntimeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("its address").to_string();
        let state = Arc::new((Mutex::new(State::default()), Condvar::new()));
        let (tx, rx) = channel();
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (state, tx) = (shared.clone(), tx.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &state, &tx);
                });
            }
        });
        RuntimeApi {
            addr,
            state,
            posted: rx,
            sequence: 0,
        }
    }

    /// A new session, for a process about to start: nothing queued, no `/next` seen.
    pub fn reset(&mut self) {
        let (lock, cvar) = &*self.state;
        let mut s = lock.lock().unwrap();
        s.session += 1;
        s.queue.clear();
        s.first_next = None;
        s.waiting = false;
        s.handed = None;
        cvar.notify_all();
        drop(s);
        while self.posted.try_recv().is_ok() {}
    }

    /// Waits until the process sits in a `/next` with nothing to hand it (idle: its CPU time
    /// stands still), and returns the session's first `/next`: the end of its init.
    pub fn wait_idle(
        &self,
        timeout: Duration,
        mut alive: impl FnMut() -> bool,
    ) -> Result<Instant, String> {
        let deadline = Instant::now() + timeout;
        let (lock, cvar) = &*self.state;
        let mut s = lock.lock().unwrap();
        loop {
            if s.waiting && s.queue.is_empty() {
                return Ok(s.first_next.expect("a /next"));
            }
            if !alive() {
                return Err("the process exited".into());
            }
            if Instant::now() > deadline {
                return Err(format!("no /next within {timeout:?}"));
            }
            s = cvar.wait_timeout(s, Duration::from_millis(100)).unwrap().0;
        }
    }

    /// Queues `event` for the runtime's next `/next` and waits for what it posts back.
    /// `alive` is asked every 100 ms: when it says the process is gone, this gives up.
    pub fn invoke(
        &mut self,
        event: &[u8],
        timeout: Duration,
        mut alive: impl FnMut() -> bool,
    ) -> Result<Invocation, String> {
        self.sequence += 1;
        let request_id = format!("00000000-0000-4000-8000-{:012}", self.sequence);
        {
            let (lock, cvar) = &*self.state;
            let mut s = lock.lock().unwrap();
            s.queue.push_back(Event {
                request_id: request_id.clone(),
                body: event.to_vec(),
            });
            cvar.notify_all();
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.posted.recv_timeout(Duration::from_millis(100)) {
                Ok(posted) => {
                    if posted.kind == Kind::InitError {
                        return Err(format!(
                            "init error: {}",
                            String::from_utf8_lossy(&posted.body)
                        ));
                    }
                    if posted.request_id != request_id {
                        continue; // a late answer to an earlier session's event
                    }
                    let handed = self.state.0.lock().unwrap().handed.clone();
                    let handed_at = match handed {
                        Some((id, at)) if id == request_id => at,
                        _ => return Err("a response to an event never handed out".into()),
                    };
                    return Ok(Invocation { handed_at, posted });
                }
                Err(RecvTimeoutError::Timeout) => {
                    if !alive() {
                        return Err("the process exited".into());
                    }
                    if Instant::now() > deadline {
                        return Err(format!("no response within {timeout:?}"));
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return Err("the emulator stopped".into()),
            }
        }
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let (method, path) = match (parts.next(), parts.next()) {
        (Some(m), Some(p)) => (m.to_string(), p.to_string()),
        _ => return Ok(None),
    };
    let (mut length, mut chunked) = (0usize, false);
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().unwrap_or(0);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            reader.read_line(&mut line)?;
            let size_text = line.trim().split(';').next().unwrap_or("0");
            let size = usize::from_str_radix(size_text, 16).unwrap_or(0);
            if size == 0 {
                // Trailers, up to the empty line.
                loop {
                    line.clear();
                    if reader.read_line(&mut line)? == 0 || line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            line.clear();
            reader.read_line(&mut line)?; // the CRLF after the chunk
        }
    } else {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    }
    Ok(Some(Request { method, path, body }))
}

fn write_response(
    stream: &mut TcpStream,
    status: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> std::io::Result<()> {
    let mut out = format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    stream.write_all(&bytes)
}

fn serve(
    stream: TcpStream,
    state: &Arc<(Mutex<State>, Condvar)>,
    posted: &Sender<Posted>,
) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let accepted = br#"{"status":"OK"}"#;
    while let Some(req) = read_request(&mut reader)? {
        let at = Instant::now();
        let (lock, cvar) = &**state;
        let path = req.path.strip_prefix(PREFIX).unwrap_or("");
        if req.method == "GET" && path == "/invocation/next" {
            let mut s = lock.lock().unwrap();
            let session = s.session;
            s.first_next.get_or_insert(at);
            s.waiting = true;
            cvar.notify_all();
            while s.queue.is_empty() && s.session == session {
                s = cvar.wait(s).unwrap();
            }
            if s.session != session {
                return Ok(()); // that process is gone
            }
            s.waiting = false;
            let event = s.queue.pop_front().expect("an event");
            let deadline = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_millis()
                + 10_000;
            let headers = [
                ("content-type", "application/json".to_string()),
                ("lambda-runtime-aws-request-id", event.request_id.clone()),
                ("lambda-runtime-deadline-ms", deadline.to_string()),
                (
                    "lambda-runtime-invoked-function-arn",
                    "arn:aws:lambda:us-east-1:123456789012:function:coldstart-bench".to_string(),
                ),
                (
                    "lambda-runtime-trace-id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
                        .to_string(),
                ),
            ];
            // The time is taken as the bytes go out, with the lock held: the answer cannot be
            // read before it is recorded.
            s.handed = Some((event.request_id.clone(), Instant::now()));
            write_response(&mut writer, "200 OK", &headers, &event.body)?;
            continue;
        }
        let kind = if req.method == "POST" && path == "/init/error" {
            Some((Kind::InitError, String::new()))
        } else if let Some(rest) = path.strip_prefix("/invocation/") {
            match rest.rsplit_once('/') {
                Some((id, "response")) if req.method == "POST" => {
                    Some((Kind::Response, id.to_string()))
                }
                Some((id, "error")) if req.method == "POST" => Some((Kind::Error, id.to_string())),
                _ => None,
            }
        } else {
            None
        };
        match kind {
            Some((kind, request_id)) => {
                write_response(
                    &mut writer,
                    "202 Accepted",
                    &[("content-type", "application/json".into())],
                    accepted,
                )?;
                let _ = posted.send(Posted {
                    kind,
                    request_id,
                    body: req.body,
                    at,
                });
            }
            None => write_response(
                &mut writer,
                "404 Not Found",
                &[("content-type", "application/json".into())],
                br#"{"errorMessage":"unknown route","errorType":"NotFound"}"#,
            )?,
        }
    }
    Ok(())
}
