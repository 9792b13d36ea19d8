//! Compile errors: what was wrong, and where in the expression.
//!
//! Every error carries a byte range into the expression text. [`CompileError::render`]
//! draws the expression with a caret line under that range:
//!
//! ```text
//! error: expected a port number or name after 'port', found end of expression
//!   tcp port
//!           ^
//! ```

use core::fmt;
use core::ops::Range;

/// What kind of problem stopped the compilation.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A character or token the language does not have (a stray `#`, a
    /// number that overflows 32 bits, a malformed address).
    Lex,
    /// The tokens do not form an expression: something expected is
    /// missing or something unexpected is there.
    Syntax,
    /// A name that /etc/hosts, /etc/services, /etc/protocols,
    /// /etc/networks or /etc/ethers does not know.
    UnknownName,
    /// A well-formed primitive whose qualifiers or values do not fit
    /// together (`tcp host`, `port 70000`, `net 10.1.2.3/8`).
    Invalid,
    /// A primitive that this link-layer type (or target) cannot test.
    Unsupported,
    /// The expression needs more than a classic BPF program can hold
    /// (nesting, scratch registers, 4096 instructions).
    Limit,
    /// The optimised program rejects every packet (libpcap refuses such
    /// an expression too).
    RejectsAll,
}

/// A compile error: a kind, a message and the byte range of the expression
/// it is about.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct CompileError {
    kind: ErrorKind,
    span: Range<usize>,
    message: String,
}

impl CompileError {
    /// An error of `kind` about the bytes `span` of the expression.
    pub fn new(kind: ErrorKind, span: Range<usize>, message: impl Into<String>) -> CompileError {
        CompileError {
            kind,
            span,
            message: message.into(),
        }
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte range of the expression the error points at. An empty range
    /// at the end of the text means "at the end of the expression".
    pub fn span(&self) -> Range<usize> {
        self.span.clone()
    }

    /// The message, without position.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The message, then the expression on its own line (indented by two
    /// spaces) and a line of carets under the span.
    pub fn render(&self, expr: &str) -> String {
        let mut out = format!("error: {}\n", self.message);
        // Show the expression on one line: control characters (newlines,
        // tabs) become spaces so that the caret column stays right.
        let shown: String = expr
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        out.push_str("  ");
        out.push_str(&shown);
        out.push('\n');
        let start = clamp_to_char(expr, self.span.start.min(expr.len()));
        let end = clamp_to_char(expr, self.span.end.clamp(start, expr.len()));
        let col = expr[..start].chars().count();
        let width = expr[start..end].chars().count().max(1);
        out.push_str("  ");
        out.extend(core::iter::repeat_n(' ', col));
        out.extend(core::iter::repeat_n('^', width));
        out
    }
}

/// The largest char boundary at or below `i`.
fn clamp_to_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for CompileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CompileError {}

/// Shorthand used across the compiler.
pub(crate) type Result<T> = core::result::Result<T, CompileError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_at_end() {
        let e = CompileError::new(
            ErrorKind::Syntax,
            8..8,
            "expected a port number or name after 'port', found end of expression",
        );
        assert_eq!(
            e.render("tcp port"),
            "error: expected a port number or name after 'port', found end of expression\n  tcp port\n          ^"
        );
    }

    #[test]
    fn caret_under_span_with_multibyte_text() {
        let e = CompileError::new(ErrorKind::Lex, 6..8, "unexpected character 'é'");
        // "host é" : 'é' is two bytes at 5..7; a span past a boundary is clamped.
        let r = e.render("host éx");
        assert_eq!(r.lines().nth(2), Some("       ^^"));
        let e = CompileError::new(ErrorKind::Lex, 0..4, "x");
        assert_eq!(e.render("host").lines().nth(2), Some("  ^^^^"));
    }
}
