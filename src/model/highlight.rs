//! Highlight attributes as `hl_attr_define` sends them.

use std::sync::Arc;

/// Underline styles; nvim treats them as mutually exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Underline {
    #[default]
    None,
    Line,
    Curl,
    Double,
    Dotted,
    Dashed,
}

/// One highlight id's rgb attributes. A `None` colour means "the default
/// colour", resolved at draw time so that `default_colors_set` recolours
/// cells already on screen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HlAttr {
    pub fg: Option<u32>,
    pub bg: Option<u32>,
    pub sp: Option<u32>,
    pub reverse: bool,
    pub italic: bool,
    pub bold: bool,
    pub strikethrough: bool,
    pub underline: Underline,
    pub altfont: bool,
    pub standout: bool,
    pub nocombine: bool,
    /// 0 (opaque) to 100 (fully transparent).
    pub blend: u8,
    pub url: Option<Arc<str>>,
}

/// The default colours from `default_colors_set`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DefaultColors {
    pub fg: u32,
    pub bg: u32,
    pub sp: u32,
}

impl Default for DefaultColors {
    fn default() -> Self {
        // nvim's own defaults before it says otherwise ('background' dark).
        DefaultColors { fg: 0xffffff, bg: 0x000000, sp: 0xff0000 }
    }
}

/// Concrete colours of a cell after defaults and `reverse` are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolved {
    pub fg: u32,
    pub bg: u32,
    pub sp: u32,
}

impl HlAttr {
    /// Resolves colours against the current defaults.
    pub fn resolve(&self, defaults: &DefaultColors) -> Resolved {
        let fg = self.fg.unwrap_or(defaults.fg);
        let bg = self.bg.unwrap_or(defaults.bg);
        let (fg, bg) = if self.reverse { (bg, fg) } else { (fg, bg) };
        // An unset special colour follows the foreground, as in nvim's TUI.
        Resolved { fg, bg, sp: self.sp.unwrap_or(fg) }
    }
}

/// Highlight ids are small and dense, so a vector indexed by id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HlTable {
    attrs: Vec<HlAttr>,
}

impl HlTable {
    /// Ids above this are refused as malformed rather than allocated.
    pub const MAX_ID: u32 = 1 << 20;

    /// Id 0 and unknown ids are the default attributes.
    pub fn get(&self, id: u32) -> &HlAttr {
        static DEFAULT: HlAttr = HlAttr {
            fg: None,
            bg: None,
            sp: None,
            reverse: false,
            italic: false,
            bold: false,
            strikethrough: false,
            underline: Underline::None,
            altfont: false,
            standout: false,
            nocombine: false,
            blend: 0,
            url: None,
        };
        self.attrs.get(id as usize).unwrap_or(&DEFAULT)
    }

    /// Returns false (and changes nothing) for an id over [`Self::MAX_ID`].
    pub fn define(&mut self, id: u32, attr: HlAttr) -> bool {
        if id > Self::MAX_ID {
            return false;
        }
        let i = id as usize;
        if self.attrs.len() <= i {
            self.attrs.resize(i + 1, HlAttr::default());
        }
        self.attrs[i] = attr;
        true
    }

    pub fn len(&self) -> usize {
        self.attrs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_colours_follow_defaults_and_reverse_swaps() {
        let attr = HlAttr { fg: Some(0x112233), reverse: true, ..Default::default() };
        let light = DefaultColors { fg: 0x000000, bg: 0xffffff, sp: 0xff0000 };
        assert_eq!(attr.resolve(&light), Resolved { fg: 0xffffff, bg: 0x112233, sp: 0xffffff });
        let dark = DefaultColors { fg: 0xeeeeee, bg: 0x101010, sp: 0xff0000 };
        assert_eq!(attr.resolve(&dark).fg, 0x101010);
    }

    #[test]
    fn unknown_ids_are_default_and_huge_ids_refused() {
        let mut t = HlTable::default();
        assert_eq!(t.get(7), &HlAttr::default());
        assert!(t.define(3, HlAttr { bold: true, ..Default::default() }));
        assert!(t.get(3).bold);
        assert!(!t.define(HlTable::MAX_ID + 1, HlAttr::default()));
        assert_eq!(t.len(), 4);
    }
}
