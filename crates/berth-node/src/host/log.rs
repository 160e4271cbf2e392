//! Container logs in the CRI format the kubelet reads: one record per line,
//! `<RFC 3339 nano UTC> <stdout|stderr> <F|P> <content>\n`, where `P` marks a partial line
//! (a line longer than [`MAX_RECORD`] or cut off when the stream ended) that the next record
//! continues.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

/// The longest content of one record; longer lines are split into partial records.
pub const MAX_RECORD: usize = 16 * 1024;

/// Appends a container's output to its log file.
pub struct LogWriter {
    file: std::fs::File,
    pending: BTreeMap<&'static str, Vec<u8>>,
}

fn timestamp() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.9fZ")
        .to_string()
}

/// One CRI log record.
pub fn record(time: &str, stream: &str, partial: bool, content: &[u8]) -> Vec<u8> {
    let mut line = Vec::with_capacity(content.len() + 48);
    line.extend_from_slice(time.as_bytes());
    line.push(b' ');
    line.extend_from_slice(stream.as_bytes());
    line.extend_from_slice(if partial { b" P " } else { b" F " });
    line.extend_from_slice(content);
    line.push(b'\n');
    line
}

impl LogWriter {
    /// Opens (appending to) the log at `path`.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file,
            pending: BTreeMap::new(),
        })
    }

    /// Writes `bytes` read from `stream`: complete lines become full records, long lines
    /// partial ones; an unfinished line waits for more output.
    pub fn write(&mut self, stream: &'static str, bytes: &[u8]) {
        let pending = self.pending.entry(stream).or_default();
        pending.extend_from_slice(bytes);
        let mut out = Vec::new();
        let time = timestamp();
        loop {
            if let Some(nl) = pending.iter().position(|b| *b == b'\n')
                && nl <= MAX_RECORD
            {
                out.extend(record(&time, stream, false, &pending[..nl]));
                pending.drain(..=nl);
                continue;
            }
            if pending.len() > MAX_RECORD {
                out.extend(record(&time, stream, true, &pending[..MAX_RECORD]));
                pending.drain(..MAX_RECORD);
                continue;
            }
            break;
        }
        let _ = self.file.write_all(&out);
    }

    /// Ends an unfinished line of `stream` as a partial record (its output ended).
    pub fn flush_partial(&mut self, stream: &'static str) {
        if let Some(pending) = self.pending.get_mut(stream)
            && !pending.is_empty()
        {
            let line = record(&timestamp(), stream, true, pending);
            pending.clear();
            let _ = self.file.write_all(&line);
        }
    }

    /// Flushes everything to disk.
    pub fn finish(&mut self) {
        for stream in ["stdout", "stderr"] {
            self.flush_partial(stream);
        }
        let _ = self.file.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(path: &Path) -> Vec<(String, String, String)> {
        std::fs::read_to_string(path)
            .expect("log")
            .lines()
            .map(|l| {
                let mut parts = l.splitn(4, ' ');
                let _time = parts.next();
                (
                    parts.next().unwrap_or("").to_string(),
                    parts.next().unwrap_or("").to_string(),
                    parts.next().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn lines_become_full_records_and_unfinished_ones_partial() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.log");
        let mut log = LogWriter::open(&path).expect("open");
        log.write("stdout", b"hello\nwor");
        log.write("stderr", b"oops\n");
        log.write("stdout", b"ld\ntail");
        log.finish();
        assert_eq!(
            records(&path),
            vec![
                ("stdout".into(), "F".into(), "hello".into()),
                ("stderr".into(), "F".into(), "oops".into()),
                ("stdout".into(), "F".into(), "world".into()),
                ("stdout".into(), "P".into(), "tail".into()),
            ]
        );
    }

    #[test]
    fn long_lines_are_split_into_partial_records() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("c.log");
        let mut log = LogWriter::open(&path).expect("open");
        let mut line = vec![b'x'; MAX_RECORD + 10];
        line.push(b'\n');
        log.write("stdout", &line);
        log.finish();
        let r = records(&path);
        assert_eq!(r.len(), 2);
        assert_eq!((r[0].1.as_str(), r[0].2.len()), ("P", MAX_RECORD));
        assert_eq!((r[1].1.as_str(), r[1].2.len()), ("F", 10));
    }
}
