//! Input from the window to nvim.

pub mod keys;
pub mod links;
pub mod mouse;
#[cfg(all(unix, not(target_os = "macos")))]
pub mod selection;
#[cfg(unix)]
pub mod xim;

/// The `nvim_exec_lua` arguments that open `path` with `:drop` (a file
/// dropped on the window). The path travels as an argument and nvim
/// escapes it itself, so spaces, `%`, `#` or quotes in a name cannot break
/// the command.
pub fn drop_file_args(path: &std::path::Path) -> Vec<rmpv::Value> {
    let code = "vim.cmd('drop ' .. vim.fn.fnameescape(...))";
    let path = path.to_string_lossy().into_owned();
    vec![code.into(), rmpv::Value::Array(vec![path.into()])]
}
pub mod clipboard;

/// Where the input method may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ImePolicy {
    /// Only where text is typed: insert, replace, command-line and terminal
    /// modes. In normal mode keys stay commands.
    #[default]
    Typing,
    /// In every mode.
    Always,
    /// Never.
    Off,
}

/// Whether the input method should be on in nvim mode `mode` (a
/// `mode_change` name such as "insert" or "cmdline_normal").
pub fn ime_wanted(mode: &str, policy: ImePolicy) -> bool {
    match policy {
        ImePolicy::Always => true,
        ImePolicy::Off => false,
        ImePolicy::Typing => {
            mode.starts_with("insert")
                || mode.starts_with("replace")
                || mode.starts_with("cmdline")
                || mode == "terminal"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ime_follows_the_typing_modes() {
        for mode in ["insert", "replace", "cmdline_normal", "cmdline_insert", "terminal"] {
            assert!(ime_wanted(mode, ImePolicy::Typing), "{mode}");
        }
        for mode in ["normal", "visual", "operator", "visual_select", "more"] {
            assert!(!ime_wanted(mode, ImePolicy::Typing), "{mode}");
        }
        assert!(ime_wanted("normal", ImePolicy::Always));
        assert!(!ime_wanted("insert", ImePolicy::Off));
    }
}
