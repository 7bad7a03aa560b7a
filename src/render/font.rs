//! Fonts: `guifont` parsing, the bundled font, cell metrics, and the
//! deferred scan of system fonts (which must not hold up the first frame).

use std::collections::HashMap;
use std::sync::Arc;

use glyphon::{Attrs, Buffer, Family, FontSystem, Metrics, Shaping, SwashCache, fontdb};

/// True for characters that are emoji by default (pictographs, emoticons,
/// symbols with emoji presentation): these prefer a colour emoji font.
pub fn is_emoji(text: &str) -> bool {
    text.chars().any(|c| matches!(c as u32, 0x1f000..=0x1faff | 0x2600..=0x27bf | 0x2b00..=0x2bff | 0xfe0f))
}

/// The font vireo ships, used until (and unless) `guifont` names another.
pub const BUNDLED_FAMILY: &str = "JetBrains Mono";
const BUNDLED: [&[u8]; 4] = [
    include_bytes!("../../assets/fonts/JetBrainsMono-Regular.ttf"),
    include_bytes!("../../assets/fonts/JetBrainsMono-Bold.ttf"),
    include_bytes!("../../assets/fonts/JetBrainsMono-Italic.ttf"),
    include_bytes!("../../assets/fonts/JetBrainsMono-BoldItalic.ttf"),
];
/// Size when `guifont` sets none, in points.
pub const DEFAULT_POINTS: f32 = 11.0;

/// A parsed `guifont` (or `guifontwide`) value.
#[derive(Debug, Clone, PartialEq)]
pub struct FontSpec {
    /// Font names in order of preference (the first one found wins; the rest
    /// also serve as fallbacks).
    pub families: Vec<String>,
    pub points: f32,
    pub bold: bool,
    pub italic: bool,
}

impl Default for FontSpec {
    fn default() -> Self {
        FontSpec { families: Vec::new(), points: DEFAULT_POINTS, bold: false, italic: false }
    }
}

/// Parses Neovim's `guifont` syntax: `Name One,Name\ Two:h13:b:i`. Spaces
/// may be written as `\ ` or `_`, a comma inside a name as `\,`.
pub fn parse_guifont(value: &str) -> Result<FontSpec, String> {
    let mut spec = FontSpec::default();
    if value.trim().is_empty() {
        return Ok(spec);
    }
    // Split "names:options" at the first unescaped ':'.
    let mut names = String::new();
    let mut rest = None;
    let mut chars = value.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, n)) = chars.next() {
                    names.push('\\');
                    names.push(n);
                }
            }
            ':' => {
                rest = Some(&value[i + 1..]);
                break;
            }
            _ => names.push(c),
        }
    }
    let mut current = String::new();
    let mut escaped = false;
    for c in names.chars() {
        match (escaped, c) {
            (true, c) => {
                current.push(c);
                escaped = false;
            }
            (false, '\\') => escaped = true,
            (false, ',') => push_family(&mut spec.families, &mut current),
            (false, '_') => current.push(' '),
            (false, c) => current.push(c),
        }
    }
    push_family(&mut spec.families, &mut current);
    for opt in rest.unwrap_or("").split(':').filter(|o| !o.is_empty()) {
        let (key, arg) = opt.split_at(1);
        match key {
            "h" => {
                let points: f32 = arg.parse().map_err(|_| format!("bad size '{opt}' in guifont"))?;
                if !(1.0..=200.0).contains(&points) {
                    return Err(format!("font size {points} out of range in guifont"));
                }
                spec.points = points;
            }
            "b" => spec.bold = true,
            "i" => spec.italic = true,
            // Width, underline, strikeout, charset and quality: not applicable.
            "w" | "u" | "s" | "c" | "q" | "W" => {}
            _ => return Err(format!("unknown option '{opt}' in guifont")),
        }
    }
    Ok(spec)
}

fn push_family(families: &mut Vec<String>, current: &mut String) {
    let name = current.trim();
    if !name.is_empty() && name != "*" {
        families.push(name.to_owned());
    }
    current.clear();
}

/// Pixel sizes of one cell. Integers, so that column N starts at exactly
/// N × width and backgrounds have crisp edges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CellMetrics {
    pub width: u32,
    pub height: u32,
    /// The font size in pixels.
    pub font_px: f32,
    /// Distance from the cell top to the baseline.
    pub baseline: f32,
    /// Underline offset below the baseline and line thickness.
    pub underline_offset: f32,
    pub stroke: f32,
}

/// Cell metrics and the unrounded advance they came from.
struct Measured {
    cell: CellMetrics,
    advance: f32,
}

/// The fonts in use and their metrics.
pub struct Fonts {
    pub system: FontSystem,
    spec: FontSpec,
    wide: FontSpec,
    /// The primary family actually found.
    family: String,
    wide_family: Option<String>,
    /// A colour emoji font, preferred for emoji over monochrome fallbacks.
    emoji_family: Option<String>,
    scale: f32,
    /// Points added by Ctrl+= / Ctrl+-.
    zoom: f32,
    linespace: i32,
    pub ligatures: bool,
    metrics: CellMetrics,
    system_fonts_loaded: bool,
    /// Installed families already checked by [`Fonts::probe`], by lower-case
    /// name and style: whether they can draw text. Each is checked, and a
    /// broken one warned about, once per font database.
    usable: HashMap<String, bool>,
    /// The `guifont` families last warned about as all missing, so that the
    /// warning is given once, not on every size or linespace change.
    warned_missing: Option<Vec<String>>,
}

fn bundled_db() -> fontdb::Database {
    let mut db = fontdb::Database::new();
    for data in BUNDLED {
        db.load_font_source(fontdb::Source::Binary(Arc::new(data)));
    }
    db
}

/// Scans the system's fonts (slow: hundreds of milliseconds with CJK fonts
/// installed); meant for a background thread.
pub fn scan_system_fonts() -> fontdb::Database {
    let mut db = bundled_db();
    db.load_system_fonts();
    db
}

impl Fonts {
    /// Only the bundled font: instant, for the first frame.
    pub fn bundled(scale: f32) -> Self {
        Self::with_db(bundled_db(), scale, false)
    }

    /// Bundled plus system fonts, for runs that can wait (snapshots).
    pub fn with_system_fonts(scale: f32) -> Self {
        Self::with_db(scan_system_fonts(), scale, true)
    }

    fn with_db(db: fontdb::Database, scale: f32, system_fonts_loaded: bool) -> Self {
        let system = FontSystem::new_with_locale_and_db("en-US".into(), db);
        let mut fonts = Fonts {
            system,
            spec: FontSpec::default(),
            wide: FontSpec::default(),
            family: BUNDLED_FAMILY.into(),
            wide_family: None,
            emoji_family: None,
            scale,
            zoom: 0.0,
            linespace: 0,
            ligatures: true,
            metrics: CellMetrics {
                width: 1,
                height: 1,
                font_px: 1.0,
                baseline: 1.0,
                underline_offset: 1.0,
                stroke: 1.0,
            },
            system_fonts_loaded,
            usable: HashMap::new(),
            warned_missing: None,
        };
        fonts.update();
        fonts
    }

    /// Swaps in a finished system-font scan. Cached shapes must be dropped.
    pub fn install_system_fonts(&mut self, db: fontdb::Database) {
        self.system = FontSystem::new_with_locale_and_db("en-US".into(), db);
        self.system_fonts_loaded = true;
        self.usable.clear();
        self.update();
    }

    pub fn system_fonts_loaded(&self) -> bool {
        self.system_fonts_loaded
    }

    pub fn metrics(&self) -> CellMetrics {
        self.metrics
    }

    pub fn family(&self) -> &str {
        &self.family
    }

    pub fn wide_family(&self) -> Option<&str> {
        self.wide_family.as_deref()
    }

    pub fn spec(&self) -> &FontSpec {
        &self.spec
    }

    /// Applies `guifont`; returns whether anything changed.
    pub fn set_guifont(&mut self, value: &str) -> Result<bool, String> {
        let spec = parse_guifont(value)?;
        if spec == self.spec {
            return Ok(false);
        }
        self.spec = spec;
        self.update();
        Ok(true)
    }

    pub fn set_guifontwide(&mut self, value: &str) -> Result<bool, String> {
        let spec = parse_guifont(value)?;
        if spec == self.wide {
            return Ok(false);
        }
        self.wide = spec;
        self.update();
        Ok(true)
    }

    pub fn set_linespace(&mut self, linespace: i32) -> bool {
        let linespace = linespace.clamp(-50, 200);
        let changed = linespace != self.linespace;
        self.linespace = linespace;
        self.update();
        changed
    }

    pub fn set_scale(&mut self, scale: f32) -> bool {
        let changed = scale != self.scale;
        self.scale = scale;
        self.update();
        changed
    }

    /// Ctrl+= / Ctrl+-: changes the size by `delta` points for this run,
    /// on top of whatever `guifont` says.
    pub fn zoom(&mut self, delta: f32) {
        let points = (self.spec.points + self.zoom + delta).clamp(4.0, 72.0);
        self.zoom = points - self.spec.points;
        self.update();
    }

    /// Ctrl+0: back to the `guifont` size.
    pub fn reset_zoom(&mut self) {
        self.zoom = 0.0;
        self.update();
    }

    /// The attributes of text in `bold`/`italic`.
    pub fn attrs(&self, bold: bool, italic: bool) -> Attrs<'_> {
        let mut attrs = Attrs::new().family(Family::Name(&self.family));
        if bold || self.spec.bold {
            attrs = attrs.weight(glyphon::Weight::BOLD);
        }
        if italic || self.spec.italic {
            attrs = attrs.style(glyphon::Style::Italic);
        }
        if !self.ligatures {
            let mut features = glyphon::cosmic_text::FontFeatures::new();
            features.disable(glyphon::cosmic_text::FeatureTag::STANDARD_LIGATURES);
            features.disable(glyphon::cosmic_text::FeatureTag::CONTEXTUAL_ALTERNATES);
            attrs = attrs.font_features(features);
        }
        attrs
    }

    /// Attributes for emoji: the colour emoji font when there is one.
    pub fn emoji_attrs(&self, bold: bool, italic: bool) -> Attrs<'_> {
        match &self.emoji_family {
            Some(f) => self.attrs(bold, italic).family(Family::Name(f)),
            None => self.attrs(bold, italic),
        }
    }

    /// Attributes for double-width characters (`guifontwide`), if set.
    pub fn wide_attrs(&self, bold: bool, italic: bool) -> Attrs<'_> {
        match &self.wide_family {
            Some(f) => {
                let mut attrs = self.attrs(bold, italic);
                attrs = attrs.family(Family::Name(f));
                attrs
            }
            None => self.attrs(bold, italic),
        }
    }

    fn first_available(&self, families: &[String]) -> Option<String> {
        families.iter().find(|name| self.has_family(name)).cloned()
    }

    fn has_family(&self, name: &str) -> bool {
        self.face_of(name).is_some()
    }

    fn face_of(&self, name: &str) -> Option<&fontdb::FaceInfo> {
        self.system.db().faces().find(|f| f.families.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
    }

    /// The first of `families` that is installed and can draw text.
    fn first_usable(&mut self, families: &[String]) -> Option<String> {
        families.iter().find(|name| self.has_family(name) && self.is_usable(name)).cloned()
    }

    /// Whether the installed family `name` can draw text; checked once,
    /// with a warning naming the file when it cannot.
    fn is_usable(&mut self, name: &str) -> bool {
        let key = format!("{}:{}", name.to_lowercase(), self.style_name());
        if let Some(&usable) = self.usable.get(&key) {
            return usable;
        }
        let verdict = self.probe(name);
        if let Err(why) = &verdict {
            let file = match self.face_of(name).map(|f| &f.source) {
                Some(fontdb::Source::File(path) | fontdb::Source::SharedFile(path, _)) => {
                    format!(" ({})", path.display())
                }
                _ => String::new(),
            };
            log::warn!("guifont: the font '{name}'{file} cannot be used: {why}; skipping it");
        }
        self.usable.insert(key, verdict.is_ok());
        verdict.is_ok()
    }

    /// "regular", "bold", "italic" or "bold italic", as `guifont` asks.
    fn style_name(&self) -> &'static str {
        match (self.spec.bold, self.spec.italic) {
            (false, false) => "regular",
            (true, false) => "bold",
            (false, true) => "italic",
            (true, true) => "bold italic",
        }
    }

    /// Checks that `family` draws text in the style `guifont` asks for: "M"
    /// must shape to one of its own glyphs, of a sane width and line
    /// height, that rasterises to something. The font database reads only a
    /// file's names, so a corrupt font passes its scan and would otherwise
    /// draw nothing, or make cells a pixel or hundreds of pixels wide; a
    /// family without a face in that style would have every character drawn
    /// in some fallback font, proportional ones included.
    fn probe(&mut self, family: &str) -> Result<(), String> {
        const PX: f32 = 32.0;
        let mut attrs = Attrs::new().family(Family::Name(family));
        if self.spec.bold {
            attrs = attrs.weight(glyphon::Weight::BOLD);
        }
        if self.spec.italic {
            attrs = attrs.style(glyphon::Style::Italic);
        }
        let mut buffer = Buffer::new(&mut self.system, Metrics::new(PX, PX * 2.0));
        buffer.set_text("M", &attrs, Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut self.system, false);
        let glyph = buffer.layout_runs().next().and_then(|r| r.glyphs.first().cloned());
        let glyph = glyph.ok_or("it shapes no glyph for 'M'")?;
        let face = self.system.db().face(glyph.font_id);
        let names = face.map(|f| f.families.as_slice()).unwrap_or_default();
        if !names.iter().any(|(n, _)| n.eq_ignore_ascii_case(family)) {
            let fallback = names.first().map_or("another font", |(n, _)| n.as_str());
            return Err(format!("it does not draw 'M' in {} ({fallback} would)", self.style_name()));
        }
        if glyph.glyph_id == 0 {
            return Err("it has no glyph for 'M'".into());
        }
        let width = glyph.w / PX;
        if !(0.2..=2.0).contains(&width) {
            return Err(format!("its 'M' is {width:.2} em wide"));
        }
        let font = self.system.get_font(glyph.font_id, glyph.font_weight).ok_or("it cannot be read")?;
        let m = font.as_swash().metrics(&[]);
        let height = (m.ascent + m.descent) / f32::from(m.units_per_em.max(1));
        if !(0.5..=3.0).contains(&height) {
            return Err(format!("its lines are {height:.2} em high"));
        }
        let key = glyph.physical((0.0, 0.0), 1.0).cache_key;
        let image = SwashCache::new().get_image_uncached(&mut self.system, key);
        if !image.is_some_and(|i| i.data.iter().any(|&b| b != 0)) {
            return Err("its 'M' draws nothing".into());
        }
        Ok(())
    }

    /// Recomputes the family choice and the cell metrics.
    fn update(&mut self) {
        let families = self.spec.families.clone();
        self.family = self.first_usable(&families).unwrap_or_else(|| {
            let warned = self.warned_missing.as_ref() == Some(&families);
            if !families.is_empty() && self.system_fonts_loaded && !warned {
                log::warn!(
                    "none of the guifont fonts {families:?} is installed and usable; using {BUNDLED_FAMILY}"
                );
                self.warned_missing = Some(families);
            }
            BUNDLED_FAMILY.into()
        });
        self.wide_family = self.first_available(&self.wide.families);
        let emoji = ["Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", "Twemoji"].map(String::from);
        self.emoji_family = self.first_available(&emoji);
        // Scale the size a little so that the advance is a whole number of
        // pixels: then glyphs of the primary font land exactly on the cell
        // grid and whole rows shape as one run (ligatures included).
        let wanted_px = (self.spec.points + self.zoom).max(1.0) * 96.0 / 72.0 * self.scale;
        let first = self.measure(wanted_px);
        let font_px = wanted_px * first.cell.width as f32 / first.advance;
        self.metrics = self.measure(font_px).cell;
    }

    fn measure(&mut self, font_px: f32) -> Measured {
        let mut buffer = Buffer::new(&mut self.system, Metrics::new(font_px, font_px * 2.0));
        let attrs = self.attrs(false, false);
        buffer.set_text("M", &attrs, Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut self.system, false);
        let glyph = buffer.layout_runs().next().and_then(|r| r.glyphs.first().cloned());
        let advance = glyph.as_ref().map_or(font_px * 0.6, |g| g.w);
        let (ascent, descent, gap) = glyph
            .and_then(|g| self.system.get_font(g.font_id, g.font_weight))
            .map(|font| {
                let m = font.as_swash().metrics(&[]);
                let per_unit = font_px / f32::from(m.units_per_em.max(1));
                (m.ascent * per_unit, m.descent * per_unit, m.leading * per_unit)
            })
            .unwrap_or((font_px * 0.8, font_px * 0.2, 0.0));
        let natural = (ascent + descent + gap).ceil();
        let height = (natural as i32 + self.linespace).max(1) as u32;
        let baseline = ((height as f32 - (ascent + descent)) / 2.0 + ascent).round();
        let stroke = (font_px / 14.0).round().max(1.0);
        let cell = CellMetrics {
            width: advance.round().max(1.0) as u32,
            height,
            font_px,
            baseline,
            underline_offset: (descent * 0.4).round().max(1.0),
            stroke,
        };
        Measured { cell, advance: advance.max(0.1) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_neovim_guifont_syntax() {
        let spec = parse_guifont(r"JetBrains\ Mono,Noto\ Color\ Emoji:h13:b").unwrap();
        assert_eq!(spec.families, ["JetBrains Mono", "Noto Color Emoji"]);
        assert_eq!((spec.points, spec.bold, spec.italic), (13.0, true, false));
        let spec = parse_guifont("DejaVu_Sans_Mono:h10.5:i").unwrap();
        assert_eq!(spec.families, ["DejaVu Sans Mono"]);
        assert_eq!((spec.points, spec.italic), (10.5, true));
        let spec = parse_guifont(r"Odd\,Name:h9").unwrap();
        assert_eq!(spec.families, ["Odd,Name"]);
        assert_eq!(parse_guifont("").unwrap(), FontSpec::default());
        assert_eq!(parse_guifont(":h20").unwrap().points, 20.0);
    }

    #[test]
    fn bad_guifont_values_are_errors() {
        assert!(parse_guifont("Mono:hx").is_err());
        assert!(parse_guifont("Mono:h0").is_err());
        assert!(parse_guifont("Mono:z").is_err());
    }

    #[test]
    fn metrics_follow_size_scale_and_linespace() {
        let mut fonts = Fonts::bundled(1.0);
        let m = fonts.metrics();
        assert!(m.width >= 7 && m.width <= 10, "{m:?}");
        assert!(m.height > m.width, "{m:?}");
        fonts.set_scale(2.0);
        let m2 = fonts.metrics();
        assert!((m2.width as i32 - 2 * m.width as i32).abs() <= 1, "{m:?} {m2:?}");
        fonts.set_scale(1.0);
        fonts.set_linespace(4);
        assert_eq!(fonts.metrics().height, m.height + 4);
        fonts.set_guifont("Nonexistent Font:h22").unwrap();
        assert_eq!(fonts.family(), BUNDLED_FAMILY);
        assert!(fonts.metrics().width > m.width);
    }
}
