//! SPDY/3 name/value header blocks: `u32` pair count, then `u32`-length-prefixed names and
//! values (multiple values joined by NUL), compressed with one zlib stream per direction of
//! a connection, primed with SPDY/3's dictionary, and SYNC_FLUSHed after every block.

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use std::sync::LazyLock;

/// Header names, in order, of the length-prefixed part of SPDY/3's zlib dictionary
/// (draft-mbelshe-httpbis-spdy-00, section 2.6.10.1).
const DICTIONARY_WORDS: [&str; 66] = [
    "options",
    "head",
    "post",
    "put",
    "delete",
    "trace",
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "accept-ranges",
    "age",
    "allow",
    "authorization",
    "cache-control",
    "connection",
    "content-base",
    "content-encoding",
    "content-language",
    "content-length",
    "content-location",
    "content-md5",
    "content-range",
    "content-type",
    "date",
    "etag",
    "expect",
    "expires",
    "from",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "if-range",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "pragma",
    "proxy-authenticate",
    "proxy-authorization",
    "range",
    "referer",
    "retry-after",
    "server",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "user-agent",
    "vary",
    "via",
    "warning",
    "www-authenticate",
    "method",
    "get",
    "status",
    "200 OK",
    "version",
    "HTTP/1.1",
    "url",
    "public",
    "set-cookie",
    "keep-alive",
    "origin",
    "",
];

/// The raw tail of the dictionary that follows the length-prefixed words.
const DICTIONARY_TAIL: &str = concat!(
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505",
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request",
    "401 Unauthorized403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented",
    "503 Service UnavailableJan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 ",
    "Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMTchunked,text/html,image/png,image/jpg,image/gif,",
    "application/xml,application/xhtml+xml,text/plain,text/javascript,publicprivatemax-age=",
    "gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.",
);

/// SPDY/3's zlib dictionary (1423 bytes).
pub static DICTIONARY: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let mut d = Vec::with_capacity(1423);
    for w in DICTIONARY_WORDS.iter().filter(|w| !w.is_empty()) {
        d.extend_from_slice(&(w.len() as u32).to_be_bytes());
        d.extend_from_slice(w.as_bytes());
    }
    d.extend_from_slice(DICTIONARY_TAIL.as_bytes());
    d
});

/// A header block: (lower-case name, value) pairs in order.
pub type HeaderBlock = Vec<(String, String)>;

/// Why a header block could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum HeaderError {
    /// zlib rejected the data.
    #[error("SPDY header compression: {0}")]
    Zlib(String),
    /// The decompressed block is not a valid name/value block.
    #[error("malformed SPDY header block")]
    Malformed,
}

/// Serialises a header block (uncompressed).
pub fn encode_block(headers: &[(String, String)]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    for (k, v) in headers {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k.to_ascii_lowercase().as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

/// Parses an uncompressed header block.
pub fn decode_block(mut b: &[u8]) -> Result<HeaderBlock, HeaderError> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8], HeaderError> {
        if b.len() < n {
            return Err(HeaderError::Malformed);
        }
        let (h, t) = b.split_at(n);
        *b = t;
        Ok(h)
    }
    fn u32_of(b: &mut &[u8]) -> Result<usize, HeaderError> {
        let h = take(b, 4)?;
        Ok(u32::from_be_bytes([h[0], h[1], h[2], h[3]]) as usize)
    }
    let n = u32_of(&mut b)?;
    let mut out = Vec::with_capacity(n.min(64));
    for _ in 0..n {
        let kl = u32_of(&mut b)?;
        let k = String::from_utf8_lossy(take(&mut b, kl)?).to_ascii_lowercase();
        let vl = u32_of(&mut b)?;
        let v = String::from_utf8_lossy(take(&mut b, vl)?).into_owned();
        out.push((k, v));
    }
    Ok(out)
}

/// The compressing side of one direction of a connection.
pub struct Compressor {
    z: Compress,
    primed: bool,
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compressor").finish_non_exhaustive()
    }
}

impl Default for Compressor {
    fn default() -> Self {
        Self {
            z: Compress::new(Compression::default(), true),
            primed: false,
        }
    }
}

impl Compressor {
    /// Compresses one header block (SYNC_FLUSHed, so the peer can decode it at once).
    pub fn compress(&mut self, headers: &[(String, String)]) -> Result<Vec<u8>, HeaderError> {
        if !self.primed {
            self.z
                .set_dictionary(&DICTIONARY)
                .map_err(|e| HeaderError::Zlib(e.to_string()))?;
            self.primed = true;
        }
        let input = encode_block(headers);
        let mut out = Vec::with_capacity(input.len() + 64);
        let mut consumed = 0;
        loop {
            out.reserve(256);
            let before = self.z.total_in();
            self.z
                .compress_vec(&input[consumed..], &mut out, FlushCompress::Sync)
                .map_err(|e| HeaderError::Zlib(e.to_string()))?;
            consumed += (self.z.total_in() - before) as usize;
            // A sync flush is complete when zlib left spare output room.
            if consumed == input.len() && out.len() < out.capacity() {
                return Ok(out);
            }
        }
    }
}

/// The decompressing side of one direction of a connection.
pub struct Decompressor {
    z: Decompress,
}

impl std::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decompressor").finish_non_exhaustive()
    }
}

impl Default for Decompressor {
    fn default() -> Self {
        Self {
            z: Decompress::new(true),
        }
    }
}

impl Decompressor {
    /// Decompresses and parses one header block.
    pub fn decompress(&mut self, block: &[u8]) -> Result<HeaderBlock, HeaderError> {
        let mut out = Vec::with_capacity(block.len() * 4 + 64);
        let mut consumed = 0;
        loop {
            out.reserve(1024);
            let before = self.z.total_in();
            let res = self
                .z
                .decompress_vec(&block[consumed..], &mut out, FlushDecompress::Sync);
            consumed += (self.z.total_in() - before) as usize;
            match res {
                Ok(Status::Ok | Status::BufError) => {
                    if consumed == block.len() && out.len() < out.capacity() {
                        break;
                    }
                }
                Ok(Status::StreamEnd) => break,
                Err(e) if e.needs_dictionary().is_some() => {
                    self.z
                        .set_dictionary(&DICTIONARY)
                        .map_err(|e| HeaderError::Zlib(e.to_string()))?;
                }
                Err(e) => return Err(HeaderError::Zlib(e.to_string())),
            }
        }
        decode_block(&out)
    }
}

/// The value of header `name` (case-insensitive) in a block.
pub fn get<'a>(block: &'a [(String, String)], name: &str) -> Option<&'a str> {
    block
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(pairs: &[(&str, &str)]) -> HeaderBlock {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn dictionary_is_spdy3s() {
        let d = &*DICTIONARY;
        assert_eq!(d.len(), 1423);
        assert_eq!(&d[..11], b"\x00\x00\x00\x07options");
        assert!(d.ends_with(b",enq=0."));
        // zlib identifies a preset dictionary by its Adler-32 (what a peer checks).
        let (mut a, mut b) = (1u32, 0u32);
        for byte in d {
            a = (a + u32::from(*byte)) % 65521;
            b = (b + a) % 65521;
        }
        let mut c = Compressor::default();
        let block = c.compress(&[]).expect("compress");
        assert_eq!(
            &block[2..6],
            &((b << 16) | a).to_be_bytes(),
            "FDICT carries the dictionary id"
        );
    }

    #[test]
    fn blocks_round_trip_through_one_stream_per_direction() {
        let mut c = Compressor::default();
        let mut d = Decompressor::default();
        let first = block(&[("streamtype", "error"), ("port", "8080"), ("requestid", "0")]);
        let second = block(&[("streamtype", "data"), ("port", "8080"), ("requestid", "0")]);
        let a = c.compress(&first).expect("compress");
        let b = c.compress(&second).expect("compress");
        // The first block asks for the dictionary (FDICT), the second reuses the window.
        assert_eq!(a[1] & 0x20, 0x20);
        assert!(b.len() < a.len());
        assert_eq!(d.decompress(&a).expect("first"), first);
        assert_eq!(d.decompress(&b).expect("second"), second);
        let empty = c.compress(&[]).expect("empty");
        assert_eq!(d.decompress(&empty).expect("empty"), vec![]);
    }

    #[test]
    fn names_are_lower_cased_and_looked_up_case_insensitively() {
        let raw = encode_block(&block(&[("StreamType", "stdout")]));
        let parsed = decode_block(&raw).expect("parse");
        assert_eq!(parsed, block(&[("streamtype", "stdout")]));
        assert_eq!(get(&parsed, "streamType"), Some("stdout"));
        assert!(decode_block(&raw[..raw.len() - 1]).is_err());
    }

    #[test]
    fn wrong_dictionary_is_rejected() {
        let mut z = Compress::new(Compression::default(), true);
        z.set_dictionary(b"not the spdy dictionary").expect("dict");
        let mut out = Vec::with_capacity(256);
        z.compress_vec(&encode_block(&[]), &mut out, FlushCompress::Sync)
            .expect("compress");
        assert!(Decompressor::default().decompress(&out).is_err());
    }
}
