//! What a process writes, in the order it writes it, on which of its two output streams.
//!
//! Owns: `Stream` and `Emitted` (a transcript of chunks plus an exit code), so that `2>&1` can
//! merge stdout and stderr in the order curl wrote them. Leaves out: producing transcripts
//! (`output`, `filter`) and routing them through a pipeline (`pipeline`).

/// One of a process's output streams.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Everything a process wrote, in order, and its exit code.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Emitted {
    pub chunks: Vec<(Stream, String)>,
    pub exit_code: i32,
    /// How long the process ran, in simulated milliseconds (what its requests took).
    pub elapsed_ms: u64,
}

impl Emitted {
    /// Append `text` to `stream` (empty text is dropped; adjacent chunks of a stream are merged).
    pub fn write(&mut self, stream: Stream, text: impl AsRef<str>) {
        let text = text.as_ref();
        if text.is_empty() {
            return;
        }
        match self.chunks.last_mut() {
            Some((last, buf)) if *last == stream => buf.push_str(text),
            _ => self.chunks.push((stream, text.to_string())),
        }
    }

    /// Everything written to one stream.
    pub fn text(&self, stream: Stream) -> String {
        self.chunks
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, t)| t.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_order_and_merge_neighbours() {
        let mut e = Emitted::default();
        e.write(Stream::Stderr, "a");
        e.write(Stream::Stderr, "b");
        e.write(Stream::Stdout, "");
        e.write(Stream::Stdout, "c");
        e.write(Stream::Stderr, "d");
        assert_eq!(
            e.chunks,
            [
                (Stream::Stderr, "ab".to_string()),
                (Stream::Stdout, "c".to_string()),
                (Stream::Stderr, "d".to_string())
            ]
        );
        assert_eq!(e.text(Stream::Stderr), "abd");
        assert_eq!(e.text(Stream::Stdout), "c");
    }
}
