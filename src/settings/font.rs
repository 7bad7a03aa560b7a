//! The `[font]` table of `config.toml`: the families for each style, the
//! size, OpenType features, hinting, edging and the fallback list.
//!
//! ```toml
//! [font]
//! normal = ["JetBrains Mono", "DejaVu Sans Mono"]
//! size = 13.5
//! features = ["-liga", "+ss01"]
//! fallback = ["Symbols Nerd Font Mono"]
//! ```
//!
//! `guifont`, a live nvim option, goes over the table: the families and
//! the size it names win; what it cannot say (features, hinting, edging,
//! fallback) always comes from here.

use serde::Deserialize;

use super::SettingError;

/// One key of the table, as the README and the template list it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FontKey {
    pub name: &'static str,
    pub doc: &'static str,
    /// An example value as written in `config.toml`.
    pub example: &'static str,
}

/// Every key of `[font]`, in the order the template lists them.
pub const FONT_KEYS: &[FontKey] = &[
    FontKey {
        name: "normal",
        doc: "The font family (or families, the first installed one wins) for regular text.",
        example: "[\"JetBrains Mono\"]",
    },
    FontKey {
        name: "bold",
        doc: "The family for bold text; unset, the normal family in its bold face.",
        example: "[\"JetBrains Mono\"]",
    },
    FontKey {
        name: "italic",
        doc: "The family for italic text; unset, the normal family in its italic face.",
        example: "[\"JetBrains Mono\"]",
    },
    FontKey {
        name: "bold_italic",
        doc: "The family for bold italic text; unset, the normal family in that face.",
        example: "[\"JetBrains Mono\"]",
    },
    FontKey { name: "size", doc: "The size in points.", example: "11.0" },
    FontKey {
        name: "features",
        doc: "OpenType features: \"+ss01\" turns one on, \"-liga\" off, \"cv01=2\" picks a variant.",
        example: "[\"-liga\", \"+ss01\"]",
    },
    FontKey {
        name: "hinting",
        doc: "\"full\", \"normal\" and \"slight\" hint the outlines, \"none\" does not.",
        example: "\"full\"",
    },
    FontKey {
        name: "edging",
        doc: "\"antialias\"; \"subpixelantialias\" and \"alias\" are accepted and drawn antialiased.",
        example: "\"antialias\"",
    },
    FontKey {
        name: "fallback",
        doc: "Families tried, in order, for characters the fonts above lack, before installed fonts.",
        example: "[\"Symbols Nerd Font Mono\", \"Noto Color Emoji\"]",
    },
];

/// Outline hinting. vireo's rasteriser (swash) hints fully or not at all,
/// so the three hinting values Neovide users write all mean "hint".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Hinting {
    #[default]
    Full,
    Normal,
    Slight,
    None,
}

impl Hinting {
    /// Whether outlines are hinted.
    pub fn enabled(self) -> bool {
        self != Hinting::None
    }
}

/// How glyph edges are drawn. The glyph atlas holds one coverage value
/// per pixel, so every value draws greyscale-antialiased edges; the other
/// two are accepted so that a config written for Neovide loads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Edging {
    #[default]
    Antialias,
    SubpixelAntialias,
    Alias,
}

/// One OpenType feature setting: `+ss01` is `ss01` = 1, `-liga` is
/// `liga` = 0, `cv01=2` is `cv01` = 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FontFeature {
    pub tag: [u8; 4],
    pub value: u32,
}

/// Parses one feature as it is written in `features`.
pub fn parse_feature(text: &str) -> Result<FontFeature, String> {
    let text = text.trim();
    let (tag, value) = if let Some(tag) = text.strip_prefix('+') {
        (tag, 1)
    } else if let Some(tag) = text.strip_prefix('-') {
        (tag, 0)
    } else if let Some((tag, value)) = text.split_once('=') {
        let value = value.trim().parse().map_err(|_| format!("bad value in feature '{text}'"))?;
        (tag.trim(), value)
    } else {
        (text, 1)
    };
    let tag: [u8; 4] = tag
        .as_bytes()
        .try_into()
        .ok()
        .filter(|t: &[u8; 4]| t.iter().all(|b| b.is_ascii_alphanumeric() || *b == b' '))
        .ok_or_else(|| format!("'{text}' is not a feature: a tag is four letters or digits, such as ss01"))?;
    Ok(FontFeature { tag, value })
}

/// The features for every font, and those Neovide's table form gives one
/// family (`features.MonoLisa = ["+ss01"]`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Features {
    pub all: Vec<FontFeature>,
    pub by_family: Vec<(String, Vec<FontFeature>)>,
}

impl Features {
    /// The features that apply to text drawn in `family`.
    pub fn for_family<'a>(&'a self, family: &'a str) -> impl Iterator<Item = FontFeature> + 'a {
        let own = self.by_family.iter().filter(move |(f, _)| f.eq_ignore_ascii_case(family));
        self.all.iter().chain(own.flat_map(|(_, list)| list)).copied()
    }
}

/// The `[font]` table; every field empty or default means "vireo's own".
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FontSettings {
    pub normal: Vec<String>,
    pub bold: Vec<String>,
    pub italic: Vec<String>,
    pub bold_italic: Vec<String>,
    /// Points; `None`: 11, or what `guifont` says.
    pub size: Option<f32>,
    pub features: Features,
    pub hinting: Hinting,
    pub edging: Edging,
    pub fallback: Vec<String>,
}

impl FontSettings {
    /// The families named for regular, bold, italic and bold italic text.
    pub fn families(&self) -> impl Iterator<Item = &String> {
        [&self.normal, &self.bold, &self.italic, &self.bold_italic].into_iter().flatten()
    }
}

const FAMILIES: &str = "a family name or a list of names";
const FEATURES: &str = "a list of features such as [\"-liga\", \"+ss01\"]";

/// A family name or a list of them; blank names are dropped.
fn families(name: &str, value: toml::Value) -> Result<Vec<String>, SettingError> {
    let names = strings(name, FAMILIES, value)?;
    Ok(names.into_iter().map(|n| n.trim().to_owned()).filter(|n| !n.is_empty()).collect())
}

/// A string or a list of strings.
fn strings(name: &str, expected: &'static str, value: toml::Value) -> Result<Vec<String>, SettingError> {
    let bad = |reason: String| SettingError::BadValue { name: name.to_owned(), expected, reason };
    match value {
        toml::Value::String(s) => Ok(vec![s]),
        toml::Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                toml::Value::String(s) => Ok(s),
                other => Err(bad(format!("found {} in the list", other.type_str()))),
            })
            .collect(),
        other => Err(bad(format!("found {}", other.type_str()))),
    }
}

/// `["+ss01"]`, or Neovide's `{ Family = ["+ss01"] }`.
fn features(name: &str, value: toml::Value) -> Result<Features, SettingError> {
    let list = |value| -> Result<Vec<FontFeature>, SettingError> {
        strings(name, FEATURES, value)?
            .iter()
            .map(|t| parse_feature(t))
            .collect::<Result<_, _>>()
            .map_err(|reason| SettingError::BadValue { name: name.to_owned(), expected: FEATURES, reason })
    };
    match value {
        toml::Value::Table(table) => {
            let by_family = table
                .into_iter()
                .map(|(family, value)| Ok((family, list(value)?)))
                .collect::<Result<_, SettingError>>()?;
            Ok(Features { all: Vec::new(), by_family })
        }
        value => Ok(Features { all: list(value)?, by_family: Vec::new() }),
    }
}

impl FontSettings {
    /// Sets `[font]` key `key`; a bad value keeps the previous one.
    pub fn set(&mut self, key: &str, value: toml::Value) -> Result<(), SettingError> {
        let name = format!("font.{key}");
        match key {
            "normal" => self.normal = families(&name, value)?,
            "bold" => self.bold = families(&name, value)?,
            "italic" => self.italic = families(&name, value)?,
            "bold_italic" => self.bold_italic = families(&name, value)?,
            "size" => {
                let expected = "a size in points between 1 and 200, such as 13.5";
                let points: f64 = parse(&name, expected, value)?;
                if !(1.0..=200.0).contains(&points) {
                    let reason = format!("{points} is out of range");
                    return Err(SettingError::BadValue { name, expected, reason });
                }
                self.size = Some(points as f32);
            }
            "features" => self.features = features(&name, value)?,
            "hinting" => {
                self.hinting = parse(&name, "\"full\", \"normal\", \"slight\" or \"none\"", value)?;
            }
            "edging" => {
                self.edging = parse(&name, "\"antialias\", \"subpixelantialias\" or \"alias\"", value)?;
            }
            "fallback" => self.fallback = families(&name, value)?,
            _ => return Err(SettingError::Unknown(name)),
        }
        Ok(())
    }

    /// Sets every key of a `[font]` table; stops at the first refusal.
    pub fn set_table(&mut self, value: toml::Value) -> Result<(), SettingError> {
        let toml::Value::Table(table) = value else {
            return Err(SettingError::BadValue {
                name: "font".into(),
                expected: "a table ([font])",
                reason: format!("found {}", value.type_str()),
            });
        };
        let mut next = self.clone();
        for (key, value) in table {
            next.set(&key, value)?;
        }
        *self = next;
        Ok(())
    }
}

/// The message for a key `[font]` does not have.
pub fn unknown_key(key: &str) -> String {
    let keys: Vec<&str> = FONT_KEYS.iter().map(|k| k.name).collect();
    format!("unknown key '{key}' in [font] (it takes {})", keys.join(", "))
}

fn parse<T: for<'de> Deserialize<'de>>(
    name: &str,
    expected: &'static str,
    value: toml::Value,
) -> Result<T, SettingError> {
    super::parse(name, expected, value)
}
