//! Small helpers shared across modules.

/// Cuts text to a readable length for error messages.
pub fn shorten(mut s: String, max: usize) -> String {
    if s.len() > max {
        let cut = (0..=max).rev().find(|&i| s.is_char_boundary(i)).unwrap_or(0);
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// A value's display text, shortened for an error message.
pub fn short_value(v: &dyn std::fmt::Display) -> String {
    shorten(v.to_string(), 200)
}

/// An I/O error as a user reads it: without the "(os error N)" suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    without_os_code(e.to_string())
}

fn without_os_code(text: String) -> String {
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_owned(),
        _ => text,
    }
}

/// An error and its causes on one line, each said once: a cause whose text
/// the message before it already contains is left out (error types that
/// print their source would otherwise repeat it).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let text = without_os_code(c.to_string());
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// `From` x11rb's connection and reply errors for `$error`, whose
/// `$variant` takes the message.
#[cfg(unix)]
macro_rules! from_x11_errors {
    ($error:ty, $variant:path) => {
        $crate::util::from_x11_errors!(@one $error, $variant, x11rb::errors::ConnectionError);
        $crate::util::from_x11_errors!(@one $error, $variant, x11rb::errors::ReplyError);
        $crate::util::from_x11_errors!(@one $error, $variant, x11rb::errors::ReplyOrIdError);
    };
    (@one $error:ty, $variant:path, $from:ty) => {
        impl From<$from> for $error {
            fn from(e: $from) -> $error {
                $variant(e.to_string())
            }
        }
    };
}
#[cfg(unix)]
pub(crate) use from_x11_errors;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("could not connect to '{addr}': {}", io_reason(.source))]
    struct Connect {
        addr: String,
        source: std::io::Error,
    }

    #[test]
    fn errors_say_each_cause_once_without_os_codes() {
        let e = Connect { addr: "/x".into(), source: std::io::Error::from_raw_os_error(2) };
        assert_eq!(error_chain(&e), "could not connect to '/x': No such file or directory");
        let wrapped = anyhow::Error::new(e).context("starting nvim");
        assert_eq!(
            error_chain(wrapped.as_ref()),
            "starting nvim: could not connect to '/x': No such file or directory"
        );
    }
}
