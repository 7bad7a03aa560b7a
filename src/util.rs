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
