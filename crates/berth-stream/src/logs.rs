//! The CRI log reader behind `kubectl logs`: parses the runtime's log file (one record per
//! line, `<RFC3339Nano UTC timestamp> <stdout|stderr> <F|P> <content>\n`, where `P` marks a
//! partial line continued by the next record) and applies the kubelet's options: `tailLines`
//! (counted in file records), `sinceSeconds`/`sinceTime`, `timestamps`, `limitBytes` and
//! `follow`.
//!
//! Follow ends when the runtime marks the file finished by creating the sibling file
//! `<log>.done` ([`done_marker`]) and everything up to the end of the file has been sent.

use crate::backend::StreamError;
use bytes::Bytes;
use jiff::Timestamp;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

/// How often a followed file is polled for growth.
const FOLLOW_POLL: Duration = Duration::from_millis(100);

/// Options of a log request (the kubelet's `/containerLogs` query).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    /// Keep streaming while the file grows.
    pub follow: bool,
    /// The previous instance of the container.
    pub previous: bool,
    /// Prefix every record with its RFC3339Nano timestamp.
    pub timestamps: bool,
    /// Only records at or after this time.
    pub since: Option<Timestamp>,
    /// Only the last N records of the file.
    pub tail_lines: Option<u64>,
    /// Stop after this many bytes.
    pub limit_bytes: Option<u64>,
}

fn bad(msg: String) -> StreamError {
    StreamError::BadRequest(msg)
}

impl LogOptions {
    /// Parses the query; `now` resolves `sinceSeconds`.
    pub fn from_query(q: Option<&str>, now: Timestamp) -> Result<LogOptions, StreamError> {
        let mut o = LogOptions::default();
        for (k, v) in form_urlencoded::parse(q.unwrap_or("").as_bytes()) {
            let int = |v: &str| {
                v.parse::<i64>()
                    .map_err(|_| bad(format!("invalid value for {k}: {v:?}")))
            };
            match &*k {
                "follow" => o.follow = v == "true" || v == "1",
                "previous" => o.previous = v == "true" || v == "1",
                "timestamps" => o.timestamps = v == "true" || v == "1",
                "sinceSeconds" => {
                    let s = int(&v)?;
                    let since = now
                        .checked_sub(jiff::SignedDuration::from_secs(s.max(0)))
                        .map_err(|e| bad(format!("invalid sinceSeconds: {e}")))?;
                    o.since = Some(since);
                }
                "sinceTime" => {
                    o.since = Some(
                        v.parse::<Timestamp>()
                            .map_err(|e| bad(format!("invalid sinceTime {v:?}: {e}")))?,
                    );
                }
                "tailLines" => o.tail_lines = Some(int(&v)?.max(0) as u64),
                "limitBytes" => o.limit_bytes = Some(int(&v)?.max(0) as u64),
                _ => {}
            }
        }
        Ok(o)
    }
}

/// Which output stream a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One record of a CRI log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// When the runtime read the bytes.
    pub time: Timestamp,
    /// Which stream.
    pub stream: Stream,
    /// `P`: the line continues in the next record.
    pub partial: bool,
    /// The content, without the newline.
    pub content: Vec<u8>,
}

/// Parses one file line (without its `\n`); `None` for a malformed line (skipped, as the
/// kubelet logs and skips them).
pub fn parse_line(line: &[u8]) -> Option<Record> {
    let mut parts = line.splitn(4, |b| *b == b' ');
    let time = std::str::from_utf8(parts.next()?)
        .ok()?
        .parse::<Timestamp>()
        .ok()?;
    let stream = match parts.next()? {
        b"stdout" => Stream::Stdout,
        b"stderr" => Stream::Stderr,
        _ => return None,
    };
    let partial = match parts.next()? {
        b"P" => true,
        b"F" => false,
        _ => return None,
    };
    let content = parts.next().unwrap_or_default().to_vec();
    Some(Record {
        time,
        stream,
        partial,
        content,
    })
}

/// A record as a line of the runtime's file (the format the runtime writes).
pub fn format_line(r: &Record) -> Vec<u8> {
    let mut out = format!(
        "{} {} {} ",
        rfc3339_nano(r.time),
        if r.stream == Stream::Stdout {
            "stdout"
        } else {
            "stderr"
        },
        if r.partial { "P" } else { "F" }
    )
    .into_bytes();
    out.extend_from_slice(&r.content);
    out.push(b'\n');
    out
}

/// Go's `time.RFC3339Nano` in UTC: trailing zeros of the fraction dropped.
pub fn rfc3339_nano(t: Timestamp) -> String {
    let s = t.strftime("%Y-%m-%dT%H:%M:%S%.9f").to_string();
    let (whole, frac) = s.split_once('.').unwrap_or((&s, ""));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        format!("{whole}Z")
    } else {
        format!("{whole}.{frac}Z")
    }
}

/// What the client sees for one record.
pub fn render(r: &Record, timestamps: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(r.content.len() + 40);
    if timestamps {
        out.extend_from_slice(rfc3339_nano(r.time).as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(&r.content);
    if !r.partial {
        out.push(b'\n');
    }
    out
}

/// The byte offset where the last `n` lines of `data` start (the kubelet counts file lines).
pub fn tail_start(data: &[u8], n: u64) -> usize {
    if n == 0 {
        return data.len();
    }
    let mut end = data.len();
    // A final line without '\n' is incomplete and still counts as one.
    if data.last() == Some(&b'\n') {
        end -= 1;
    }
    let mut seen = 0;
    for i in (0..end).rev() {
        if data[i] == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    0
}

/// The marker a runtime creates when the container instance behind `log` has exited.
pub fn done_marker(log: &Path) -> PathBuf {
    let mut s = log.as_os_str().to_owned();
    s.push(".done");
    PathBuf::from(s)
}

/// Applies `since` and `limitBytes` while rendering records.
#[derive(Debug)]
struct Writer {
    timestamps: bool,
    since: Option<Timestamp>,
    remaining: Option<u64>,
}

impl Writer {
    /// Renders `line`; `None` once the byte limit is reached.
    fn line(&mut self, line: &[u8]) -> Option<Vec<u8>> {
        if self.remaining == Some(0) {
            return None;
        }
        let Some(r) = parse_line(line) else {
            return Some(Vec::new());
        };
        if self.since.is_some_and(|s| r.time < s) {
            return Some(Vec::new());
        }
        let mut out = render(&r, self.timestamps);
        if let Some(rem) = self.remaining.as_mut() {
            if out.len() as u64 > *rem {
                out.truncate(*rem as usize);
            }
            *rem -= out.len() as u64;
        }
        Some(out)
    }
}

/// Renders a whole (non-followed) file's content with `opts`.
pub fn render_all(data: &[u8], opts: &LogOptions) -> Vec<u8> {
    let start = opts.tail_lines.map_or(0, |n| tail_start(data, n));
    let mut w = Writer {
        timestamps: opts.timestamps,
        since: opts.since,
        remaining: opts.limit_bytes,
    };
    let mut out = Vec::new();
    for line in data[start..].split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        match w.line(line) {
            Some(b) => out.extend_from_slice(&b),
            None => break,
        }
    }
    out
}

/// Streams the log at `path` to `tx` with `opts` (nothing for `None`). Returns when the
/// output is complete: at end of file, or with `follow` once [`done_marker`] exists and the
/// file is drained, or when the receiver is dropped.
pub async fn stream(path: Option<PathBuf>, opts: LogOptions, tx: mpsc::Sender<Bytes>) -> std::io::Result<()> {
    let Some(path) = path else { return Ok(()) };
    let mut file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let mut data = Vec::new();
    file.read_to_end(&mut data).await?;
    let start = opts.tail_lines.map_or(0, |n| tail_start(&data, n));
    let mut w = Writer {
        timestamps: opts.timestamps,
        since: opts.since,
        remaining: opts.limit_bytes,
    };
    let mut pending: Vec<u8> = data[start..].to_vec();
    let mut offset = data.len() as u64;
    let done = done_marker(&path);
    loop {
        // Emit every complete line in `pending`.
        let mut out = Vec::new();
        let mut consumed = 0;
        let mut limit_hit = false;
        while let Some(nl) = pending[consumed..].iter().position(|b| *b == b'\n') {
            let line = &pending[consumed..consumed + nl];
            consumed += nl + 1;
            if line.is_empty() {
                continue;
            }
            match w.line(line) {
                Some(b) => out.extend_from_slice(&b),
                None => {
                    limit_hit = true;
                    break;
                }
            }
        }
        pending.drain(..consumed);
        if !out.is_empty() && tx.send(Bytes::from(out)).await.is_err() {
            return Ok(());
        }
        if limit_hit || w.remaining == Some(0) || !opts.follow {
            return Ok(());
        }
        // Follow: check the marker before reading, so bytes written before it are not lost.
        let finished = tokio::fs::try_exists(&done).await.unwrap_or(false);
        file.seek(std::io::SeekFrom::Start(offset)).await?;
        let mut more = Vec::new();
        file.read_to_end(&mut more).await?;
        offset += more.len() as u64;
        let grew = !more.is_empty();
        pending.extend_from_slice(&more);
        if finished && !grew {
            return Ok(());
        }
        if !grew {
            if tx.is_closed() {
                return Ok(());
            }
            tokio::time::sleep(FOLLOW_POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "2026-01-01T00:00:01.5Z stdout F one\n\
2026-01-01T00:00:02Z stderr F two\n\
2026-01-01T00:00:03.000000001Z stdout P thr\n\
2026-01-01T00:00:03.1Z stdout F ee\n\
garbage line\n\
2026-01-01T00:00:04Z stdout F four\n";

    fn ts(s: &str) -> Timestamp {
        s.parse().expect("timestamp")
    }

    #[test]
    fn lines_parse_and_format_back() {
        let r = parse_line(b"2026-01-01T00:00:03.000000001Z stdout P thr").expect("parse");
        assert_eq!(r.stream, Stream::Stdout);
        assert!(r.partial);
        assert_eq!(r.content, b"thr");
        assert_eq!(format_line(&r), b"2026-01-01T00:00:03.000000001Z stdout P thr\n");
        let empty = parse_line(b"2026-01-01T00:00:01Z stderr F ").expect("empty content");
        assert_eq!((empty.stream, empty.content.len()), (Stream::Stderr, 0));
        assert!(parse_line(b"garbage line").is_none());
        assert!(parse_line(b"2026-01-01T00:00:01Z stdin F x").is_none());
    }

    #[test]
    fn timestamps_print_like_gos_rfc3339nano() {
        assert_eq!(
            rfc3339_nano(ts("2026-01-01T00:00:01.500Z")),
            "2026-01-01T00:00:01.5Z"
        );
        assert_eq!(rfc3339_nano(ts("2026-01-01T00:00:02Z")), "2026-01-01T00:00:02Z");
        assert_eq!(
            rfc3339_nano(ts("2026-01-01T00:00:03.000000001Z")),
            "2026-01-01T00:00:03.000000001Z"
        );
    }

    #[test]
    fn partial_records_join_into_one_line() {
        let out = render_all(FILE.as_bytes(), &LogOptions::default());
        assert_eq!(String::from_utf8_lossy(&out), "one\ntwo\nthree\nfour\n");
    }

    #[test]
    fn tail_counts_file_records() {
        let tail = |n| {
            String::from_utf8_lossy(&render_all(
                FILE.as_bytes(),
                &LogOptions {
                    tail_lines: Some(n),
                    ..Default::default()
                },
            ))
            .into_owned()
        };
        assert_eq!(tail(1), "four\n");
        assert_eq!(tail(3), "ee\nfour\n", "the garbage line counts as a file line");
        assert_eq!(tail(0), "");
        assert_eq!(tail(100), "one\ntwo\nthree\nfour\n");
        assert_eq!(tail_start(b"a\nb", 1), 2, "an unterminated last line counts");
    }

    #[test]
    fn since_timestamps_and_limit() {
        let opts = LogOptions {
            since: Some(ts("2026-01-01T00:00:02Z")),
            timestamps: true,
            ..Default::default()
        };
        assert_eq!(
            String::from_utf8_lossy(&render_all(FILE.as_bytes(), &opts)),
            "2026-01-01T00:00:02Z two\n2026-01-01T00:00:03.000000001Z thr2026-01-01T00:00:03.1Z ee\n2026-01-01T00:00:04Z four\n"
        );
        let opts = LogOptions {
            limit_bytes: Some(6),
            ..Default::default()
        };
        assert_eq!(render_all(FILE.as_bytes(), &opts), b"one\ntw");
    }

    #[test]
    fn query_options() {
        let now = ts("2026-01-01T01:00:00Z");
        let o = LogOptions::from_query(
            Some("follow=true&tailLines=5&sinceSeconds=60&timestamps=true&limitBytes=10&previous=true"),
            now,
        )
        .expect("parse");
        assert!(o.follow && o.timestamps && o.previous);
        assert_eq!((o.tail_lines, o.limit_bytes), (Some(5), Some(10)));
        assert_eq!(o.since, Some(ts("2026-01-01T00:59:00Z")));
        let o = LogOptions::from_query(Some("sinceTime=2026-01-01T00%3A00%3A00Z"), now).expect("parse");
        assert_eq!(o.since, Some(ts("2026-01-01T00:00:00Z")));
        assert!(LogOptions::from_query(Some("tailLines=x"), now).is_err());
    }

    #[tokio::test]
    async fn follow_streams_growth_until_the_done_marker() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("0.log");
        std::fs::write(
            &path,
            "2026-01-01T00:00:01Z stdout F first\n2026-01-01T00:00:01Z stdout P par",
        )
        .expect("write");
        let (tx, mut rx) = mpsc::channel(16);
        let task = tokio::spawn(stream(
            Some(path.clone()),
            LogOptions {
                follow: true,
                ..Default::default()
            },
            tx,
        ));
        assert_eq!(rx.recv().await.as_deref(), Some(&b"first\n"[..]));
        {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&path)
                .expect("append");
            f.write_all(b"tial\n2026-01-01T00:00:02Z stdout F second\n")
                .expect("append");
        }
        let mut got = Vec::new();
        while got.len() < b"partialsecond\n".len() {
            got.extend_from_slice(&rx.recv().await.expect("more output"));
        }
        assert_eq!(got, b"partialsecond\n");
        std::fs::write(done_marker(&path), "").expect("marker");
        task.await.expect("join").expect("stream");
        assert_eq!(rx.recv().await, None, "follow ends at the marker");
    }

    #[tokio::test]
    async fn a_missing_file_is_empty_output() {
        let (tx, mut rx) = mpsc::channel(1);
        stream(
            Some(PathBuf::from("/nonexistent/berth.log")),
            LogOptions::default(),
            tx,
        )
        .await
        .expect("ok");
        assert_eq!(rx.recv().await, None);
    }
}
