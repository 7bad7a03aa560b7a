//! `config.toml`: where it lives, and reading it so that one bad key costs
//! only that key, reported with its line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use toml::Spanned;

use super::{SettingError, Settings};

/// One problem in the config file, in the user's terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}:{column}: {message}", .path.display())]
pub struct FileError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// The config file vireo reads when none is named: `config.toml` in
/// `$XDG_CONFIG_HOME/vireo` (else `~/.config/vireo`), `%APPDATA%\vireo` on
/// Windows, `~/Library/Application Support/vireo` on macOS.
pub fn default_path(var: impl Fn(&str) -> Option<String>) -> Option<PathBuf> {
    Some(super::user_dir(&var, "XDG_CONFIG_HOME", ".config", "APPDATA")?.join("config.toml"))
}

/// Reads `path` into `settings`. A missing file is no error; every other
/// problem is returned, and the keys that were fine still apply.
pub fn load(path: &Path, settings: &mut Settings) -> Vec<FileError> {
    match std::fs::read_to_string(path) {
        Ok(text) => apply(path, &text, settings),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => vec![FileError {
            path: path.to_owned(),
            line: 1,
            column: 1,
            message: format!("cannot be read: {}", crate::util::io_reason(&e)),
        }],
    }
}

type SpannedTable = BTreeMap<Spanned<String>, Spanned<toml::Value>>;

/// Applies the text of a config file; `path` only names it in errors.
pub fn apply(path: &Path, text: &str, settings: &mut Settings) -> Vec<FileError> {
    let at = |span: std::ops::Range<usize>, message: String| {
        let (line, column) = line_column(text, span.start);
        FileError { path: path.to_owned(), line, column, message }
    };
    let table: SpannedTable = match toml::from_str(text) {
        Ok(table) => table,
        Err(e) => {
            let message = e.message().trim().to_owned();
            return vec![at(e.span().unwrap_or(0..0), format!("not valid TOML: {message}"))];
        }
    };
    let mut errors = Vec::new();
    for (key, value) in table {
        let span = key.span();
        let name = key.into_inner();
        if name == "font" && value.get_ref().is_table() {
            errors.extend(apply_font(text, settings).into_iter().map(|(span, message)| at(span, message)));
            continue;
        }
        if let Err(e) = settings.set(&name, value.into_inner()) {
            let message = match e {
                SettingError::Unknown(_) => format!("unknown setting '{name}' (see `vireo --help`)"),
                other => other.to_string(),
            };
            errors.push(at(span, message));
        }
    }
    errors
}

/// Applies the `[font]` table key by key, so that each problem has the
/// place of its own key; returns the problems with those places.
fn apply_font(text: &str, settings: &mut Settings) -> Vec<(std::ops::Range<usize>, String)> {
    #[derive(serde::Deserialize)]
    struct Doc {
        font: SpannedTable,
    }
    // The whole file parsed before; only [font] is read this time.
    let Ok(doc) = toml::from_str::<Doc>(text) else { return Vec::new() };
    let mut errors = Vec::new();
    for (key, value) in doc.font {
        let span = key.span();
        let key = key.into_inner();
        if let Err(e) = settings.font.set(&key, value.into_inner()) {
            let message = match e {
                SettingError::Unknown(_) => super::font::unknown_key(&key),
                other => other.to_string(),
            };
            errors.push((span, message));
        }
    }
    errors
}

/// 1-based line and column (in characters) of byte `offset`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, column)
}
