//! Fonts: `guifont` parsing, the bundled font, cell metrics, and the
//! deferred scan of system fonts (which must not hold up the first frame).
//!
//! Which font draws a character, first to last:
//!
//! ```text
//!   the style's family    guifont's families, else [font] bold/italic/...,
//!                         else [font] normal, else the bundled font
//!   [font] fallback       in order            (UserFallback, below)
//!   cosmic-text's lists   per script, then common (Noto, DejaVu, ...)
//!   every installed font  the first that has the glyph
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use glyphon::cosmic_text::{CacheKeyFlags, Fallback, FeatureTag, FontFeatures, PlatformFallback};
use glyphon::{Attrs, Buffer, Family, FontSystem, Metrics, Shaping, SwashCache, Weight, fontdb};

use crate::settings::font::{Edging, FontSettings};

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
/// Size when neither `guifont` nor `[font] size` sets one, in points.
pub const DEFAULT_POINTS: f32 = 11.0;

/// A parsed `guifont` (or `guifontwide`) value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FontSpec {
    /// Font names in order of preference (the first one found wins; the rest
    /// also serve as fallbacks).
    pub families: Vec<String>,
    /// `:h<points>`; `None` leaves the size to `[font] size`.
    pub points: Option<f32>,
    pub bold: bool,
    pub italic: bool,
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
                spec.points = Some(points);
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

/// The face that draws one style of text (regular, bold, italic, bold
/// italic): its family as the font database spells it, the weight to ask
/// for (one the family has, so that cosmic-text does not pass it over for
/// a fallback font), and the OpenType features for it.
#[derive(Debug, Clone, PartialEq)]
struct StyleFace {
    family: String,
    weight: Weight,
    features: FontFeatures,
}

impl StyleFace {
    fn bundled(bold: bool) -> StyleFace {
        let weight = if bold { Weight::BOLD } else { Weight::NORMAL };
        StyleFace { family: BUNDLED_FAMILY.into(), weight, features: FontFeatures::new() }
    }
}

/// Index into [`Fonts::faces`].
pub fn style_index(bold: bool, italic: bool) -> usize {
    usize::from(bold) | usize::from(italic) << 1
}

/// The fonts in use and their metrics.
pub struct Fonts {
    pub system: FontSystem,
    spec: FontSpec,
    wide: FontSpec,
    /// The `[font]` table of config.toml, under `guifont`.
    config: FontSettings,
    /// The faces found for regular, bold, italic and bold italic text
    /// (see [`style_index`]).
    faces: [StyleFace; 4],
    /// Hinting, as `[font] hinting` says.
    flags: CacheKeyFlags,
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
    /// The family lists already warned about as all missing, so that a
    /// warning is given once, not on every size or linespace change.
    warned_missing: HashSet<Vec<String>>,
}

/// A font system holding only the bundled regular face: enough to draw
/// a glyph without reading the system's fonts.
pub fn regular_only() -> FontSystem {
    let mut db = fontdb::Database::new();
    db.load_font_source(fontdb::Source::Binary(Arc::new(BUNDLED[0])));
    FontSystem::new_with_locale_and_db("en-US".into(), db)
}

fn bundled_db() -> fontdb::Database {
    let mut db = fontdb::Database::new();
    for data in BUNDLED {
        db.load_font_source(fontdb::Source::Binary(Arc::new(data)));
    }
    db
}

/// A font system over `db` whose fallback lists start with `fallback`
/// (the `[font] fallback` families).
fn font_system(db: fontdb::Database, fallback: &[String]) -> FontSystem {
    // cosmic-text compares family names exactly: use the database's spelling.
    let spelled = |name: &String| {
        let known = db.faces().flat_map(|f| &f.families).find(|(n, _)| n.eq_ignore_ascii_case(name));
        intern(known.map_or(name.as_str(), |(n, _)| n.as_str()))
    };
    let first: Vec<&'static str> = fallback.iter().map(spelled).collect();
    FontSystem::new_with_locale_and_db_and_fallback("en-US".into(), db, UserFallback::new(first))
}

/// cosmic-text's fallback lists with the user's families in front: tried
/// for every character the style's own font lacks, before the lists for
/// its script, the common ones, and then every installed font.
struct UserFallback {
    first: Vec<&'static str>,
    common: Vec<&'static str>,
}

impl UserFallback {
    fn new(first: Vec<&'static str>) -> UserFallback {
        let common = first.iter().chain(PlatformFallback.common_fallback()).copied().collect();
        UserFallback { first, common }
    }
}

impl Fallback for UserFallback {
    fn common_fallback(&self) -> &[&'static str] {
        &self.common
    }

    fn forbidden_fallback(&self) -> &[&'static str] {
        PlatformFallback.forbidden_fallback()
    }

    fn script_fallback(&self, script: unicode_script::Script, locale: &str) -> &[&'static str] {
        let platform = PlatformFallback.script_fallback(script, locale);
        if self.first.is_empty() {
            return platform;
        }
        // The trait wants a slice that outlives the call; each distinct
        // list is made once per run (a handful of scripts, a short list).
        static LISTS: Mutex<Vec<&'static [&'static str]>> = Mutex::new(Vec::new());
        let list: Vec<&'static str> = self.first.iter().chain(platform).copied().collect();
        let mut lists = LISTS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(&known) = lists.iter().find(|&&l| l == list.as_slice()) {
            return known;
        }
        let made: &'static [&'static str] = Box::leak(list.into_boxed_slice());
        lists.push(made);
        made
    }
}

/// A family name that lives as long as vireo: cosmic-text's fallback
/// lists hold `&'static str`. Each distinct name is kept once.
fn intern(name: &str) -> &'static str {
    static NAMES: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(&known) = names.iter().find(|&&n| n == name) {
        return known;
    }
    let made: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.push(made);
    made
}

/// Scans the system's fonts (slow: hundreds of milliseconds with CJK fonts
/// installed); meant for a background thread.
pub fn scan_system_fonts() -> fontdb::Database {
    let mut db = bundled_db();
    db.load_system_fonts();
    crate::trace::mark(crate::trace::Stage::SystemFonts);
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
        let system = font_system(db, &[]);
        let mut fonts = Fonts {
            system,
            spec: FontSpec::default(),
            wide: FontSpec::default(),
            config: FontSettings::default(),
            faces: [false, true, false, true].map(StyleFace::bundled),
            flags: CacheKeyFlags::empty(),
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
            warned_missing: HashSet::new(),
        };
        fonts.update();
        crate::trace::mark(crate::trace::Stage::FontsReady);
        fonts
    }

    /// Swaps in a finished system-font scan. Cached shapes must be dropped.
    pub fn install_system_fonts(&mut self, db: fontdb::Database) {
        self.system = font_system(db, &self.config.fallback);
        self.system_fonts_loaded = true;
        self.usable.clear();
        self.warn_missing_fallbacks();
        self.update();
    }

    /// Applies the `[font]` table; returns whether anything changed (then
    /// cached shapes must be dropped).
    pub fn set_config(&mut self, config: &FontSettings) -> bool {
        if *config == self.config {
            return false;
        }
        let fallback_changed = config.fallback != self.config.fallback;
        if config.edging != self.config.edging && config.edging != Edging::Antialias {
            log::info!(
                "[font] edging {:?} is drawn antialiased: the glyph atlas has one coverage value per pixel",
                config.edging
            );
        }
        self.config = config.clone();
        if fallback_changed {
            // The fallback lists are read when the font system is made.
            let empty = FontSystem::new_with_locale_and_db("en-US".into(), fontdb::Database::new());
            let (_, db) = std::mem::replace(&mut self.system, empty).into_locale_and_db();
            self.system = font_system(db, &self.config.fallback);
            self.warn_missing_fallbacks();
        }
        self.update();
        true
    }

    fn warn_missing_fallbacks(&self) {
        if !self.system_fonts_loaded {
            return;
        }
        for name in self.config.fallback.iter().filter(|name| !self.has_family(name)) {
            log::warn!("[font] fallback: the font '{name}' is not installed");
        }
    }

    /// The size in points before zooming: `guifont`'s, else `[font]`'s.
    fn points(&self) -> f32 {
        self.spec.points.or(self.config.size).unwrap_or(DEFAULT_POINTS)
    }

    /// Whether drawing with `families` or drawing `text` needs the
    /// system's fonts: a family that is not the bundled one, or a
    /// character the bundled regular face has no glyph for.
    pub fn needs_system_fonts<'a>(
        &mut self,
        families: &[String],
        text: impl IntoIterator<Item = &'a str>,
    ) -> bool {
        if families.iter().any(|name| !name.eq_ignore_ascii_case(BUNDLED_FAMILY)) {
            return true;
        }
        let regular = self.system.db().faces().find(|f| {
            f.families.iter().any(|(n, _)| n == BUNDLED_FAMILY)
                && f.weight == Weight::NORMAL
                && f.style == fontdb::Style::Normal
        });
        let Some(font) = regular.map(|f| f.id).and_then(|id| self.system.get_font(id, Weight::NORMAL)) else {
            return true;
        };
        let charmap = font.as_swash().charmap();
        text.into_iter().flat_map(str::chars).any(|c| !c.is_ascii() && charmap.map(c) == 0)
    }

    pub fn system_fonts_loaded(&self) -> bool {
        self.system_fonts_loaded
    }

    pub fn metrics(&self) -> CellMetrics {
        self.metrics
    }

    /// The family that draws regular text.
    pub fn family(&self) -> &str {
        &self.faces[0].family
    }

    /// The family that draws text in `bold`/`italic`.
    pub fn style_family(&self, bold: bool, italic: bool) -> &str {
        &self.faces[style_index(bold, italic)].family
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
        let points = (self.points() + self.zoom + delta).clamp(4.0, 72.0);
        self.zoom = points - self.points();
        self.update();
    }

    /// Ctrl+0: back to the `guifont` (or `[font]`) size.
    pub fn reset_zoom(&mut self) {
        self.zoom = 0.0;
        self.update();
    }

    /// The attributes of text in `bold`/`italic`.
    pub fn attrs(&self, bold: bool, italic: bool) -> Attrs<'_> {
        let (bold, italic) = (bold || self.spec.bold, italic || self.spec.italic);
        let face = &self.faces[style_index(bold, italic)];
        let mut attrs =
            Attrs::new().family(Family::Name(&face.family)).weight(face.weight).cache_key_flags(self.flags);
        if italic {
            // A family with no italic face is slanted by cosmic-text.
            attrs = attrs.style(glyphon::Style::Italic);
        }
        let mut features = face.features.clone();
        if !self.ligatures {
            features.disable(FeatureTag::STANDARD_LIGATURES);
            features.disable(FeatureTag::CONTEXTUAL_ALTERNATES);
        }
        if !features.features.is_empty() {
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

    /// The face of the first of `families` that is installed and draws
    /// text in that style.
    fn first_usable(
        &mut self,
        families: &[String],
        bold: bool,
        italic: bool,
        source: &str,
    ) -> Option<StyleFace> {
        families.iter().find_map(|name| {
            let face = self.resolve(name, bold, italic)?;
            self.is_usable(&face, italic, source).then_some(face)
        })
    }

    /// The installed family `name` in the style asked for: its spelling in
    /// the font database (cosmic-text compares names exactly) and the
    /// weight to ask for. A family with no bold face is asked for its
    /// nearest weight, so that bold text stays in it.
    fn resolve(&mut self, name: &str, bold: bool, italic: bool) -> Option<StyleFace> {
        let db = self.system.db();
        let family = db.faces().flat_map(|f| &f.families).find(|(n, _)| n.eq_ignore_ascii_case(name))?;
        let family = family.0.clone();
        let wanted = if bold { Weight::BOLD } else { Weight::NORMAL };
        let style = if italic { fontdb::Style::Italic } else { fontdb::Style::Normal };
        let families = [fontdb::Family::Name(&family)];
        let query =
            fontdb::Query { families: &families, weight: wanted, stretch: fontdb::Stretch::Normal, style };
        let id = db.query(&query)?;
        let found = db.face(id)?.weight;
        let variable = found != wanted && {
            let font = self.system.get_font(id, found);
            font.is_some_and(|f| {
                f.as_swash().variations().find_by_tag(u32::from_be_bytes(*b"wght")).is_some()
            })
        };
        let weight = if found == wanted || variable { wanted } else { found };
        Some(StyleFace { family, weight, features: FontFeatures::new() })
    }

    /// Whether `face` can draw text; checked once per family and style,
    /// with a warning naming the file and the setting (`source`) when it
    /// cannot.
    fn is_usable(&mut self, face: &StyleFace, italic: bool, source: &str) -> bool {
        let key = format!("{}:{}:{italic}", face.family.to_lowercase(), face.weight.0);
        if let Some(&usable) = self.usable.get(&key) {
            return usable;
        }
        let verdict = self.probe(face, italic);
        if let Err(why) = &verdict {
            let name = &face.family;
            let file = match self.face_of(name).map(|f| &f.source) {
                Some(fontdb::Source::File(path) | fontdb::Source::SharedFile(path, _)) => {
                    format!(" ({})", path.display())
                }
                _ => String::new(),
            };
            log::warn!("{source}: the font '{name}'{file} cannot be used: {why}; skipping it");
        }
        self.usable.insert(key, verdict.is_ok());
        verdict.is_ok()
    }

    /// Checks that `face` draws text: "M" must shape to one of its own
    /// glyphs, of a sane width and line height, that rasterises to
    /// something. The font database reads only a file's names, so a
    /// corrupt font passes its scan and would otherwise draw nothing, or
    /// make cells a pixel or hundreds of pixels wide; a family without a
    /// face in that style would have every character drawn in some fallback
    /// font, proportional ones included.
    fn probe(&mut self, face: &StyleFace, italic: bool) -> Result<(), String> {
        const PX: f32 = 32.0;
        let family = face.family.as_str();
        let style = match italic {
            false => "regular",
            true => "italic",
        };
        let mut attrs = Attrs::new().family(Family::Name(family)).weight(face.weight);
        if italic {
            attrs = attrs.style(glyphon::Style::Italic);
        }
        let mut buffer = Buffer::new(&mut self.system, Metrics::new(PX, PX * 2.0));
        buffer.set_text("M", &attrs, Shaping::Advanced, None);
        buffer.shape_until_scroll(&mut self.system, false);
        let glyph = buffer.layout_runs().next().and_then(|r| r.glyphs.first().cloned());
        let glyph = glyph.ok_or("it shapes no glyph for 'M'")?;
        let found = self.system.db().face(glyph.font_id);
        let names = found.map(|f| f.families.as_slice()).unwrap_or_default();
        if !names.iter().any(|(n, _)| n.eq_ignore_ascii_case(family)) {
            let fallback = names.first().map_or("another font", |(n, _)| n.as_str());
            return Err(format!(
                "it does not draw 'M' in {style} weight {} ({fallback} would)",
                face.weight.0
            ));
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

    /// The families asked for text in `bold`/`italic`, and who asked:
    /// `guifont` over the `[font]` table's key for the style, over its
    /// `normal`.
    fn wanted(&self, bold: bool, italic: bool) -> (Vec<String>, &'static str) {
        if !self.spec.families.is_empty() {
            return (self.spec.families.clone(), "guifont");
        }
        let c = &self.config;
        let (own, key) = match (bold, italic) {
            (false, false) => (&c.normal, "[font] normal"),
            (true, false) => (&c.bold, "[font] bold"),
            (false, true) => (&c.italic, "[font] italic"),
            (true, true) => (&c.bold_italic, "[font] bold_italic"),
        };
        if own.is_empty() { (c.normal.clone(), "[font] normal") } else { (own.clone(), key) }
    }

    /// The face for `bold`/`italic` text: the first usable family asked
    /// for, else the bundled font.
    fn choose_face(&mut self, bold: bool, italic: bool) -> StyleFace {
        let (families, source) = self.wanted(bold, italic);
        let mut face = self.first_usable(&families, bold, italic, source).unwrap_or_else(|| {
            if !families.is_empty() && self.system_fonts_loaded && !self.warned_missing.contains(&families) {
                log::warn!(
                    "none of the {source} fonts {families:?} is installed and usable; using {BUNDLED_FAMILY}"
                );
                self.warned_missing.insert(families);
            }
            StyleFace::bundled(bold)
        });
        for feature in self.config.features.for_family(&face.family) {
            face.features.set(FeatureTag::new(&feature.tag), feature.value);
        }
        face
    }

    /// Recomputes the family choice and the cell metrics.
    fn update(&mut self) {
        for (i, (bold, italic)) in
            [(false, false), (true, false), (false, true), (true, true)].into_iter().enumerate()
        {
            self.faces[i] = self.choose_face(bold, italic);
        }
        self.flags = if self.config.hinting.enabled() {
            CacheKeyFlags::empty()
        } else {
            CacheKeyFlags::DISABLE_HINTING
        };
        self.wide_family = self.first_available(&self.wide.families);
        let emoji = ["Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", "Twemoji"].map(String::from);
        self.emoji_family = self.first_available(&emoji);
        // Scale the size a little so that the advance is a whole number of
        // pixels: then glyphs of the primary font land exactly on the cell
        // grid and whole rows shape as one run (ligatures included).
        let wanted_px = (self.points() + self.zoom).max(1.0) * 96.0 / 72.0 * self.scale;
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
    fn the_system_fonts_are_needed_for_other_families_and_for_glyphs_the_bundled_face_lacks() {
        let mut fonts = Fonts::bundled(1.0);
        let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert!(!fonts.needs_system_fonts(&[], ["fn main() {}", "  ~"]));
        assert!(!fonts.needs_system_fonts(&names(&["jetbrains mono"]), ["x"]));
        // Latin-1, box drawing and the arrows the bundled face has.
        assert!(!fonts.needs_system_fonts(&[], ["café", "│─┼", "→"]));
        assert!(fonts.needs_system_fonts(&names(&["DejaVu Sans Mono"]), ["x"]));
        assert!(fonts.needs_system_fonts(&names(&["JetBrains Mono", "Noto Color Emoji"]), ["x"]));
        assert!(fonts.needs_system_fonts(&[], ["ok", "日本"]));
        assert!(fonts.needs_system_fonts(&[], ["🙂"]));
    }

    #[test]
    fn parses_neovim_guifont_syntax() {
        let spec = parse_guifont(r"JetBrains\ Mono,Noto\ Color\ Emoji:h13:b").unwrap();
        assert_eq!(spec.families, ["JetBrains Mono", "Noto Color Emoji"]);
        assert_eq!((spec.points, spec.bold, spec.italic), (Some(13.0), true, false));
        let spec = parse_guifont("DejaVu_Sans_Mono:h10.5:i").unwrap();
        assert_eq!(spec.families, ["DejaVu Sans Mono"]);
        assert_eq!((spec.points, spec.italic), (Some(10.5), true));
        let spec = parse_guifont(r"Odd\,Name:h9").unwrap();
        assert_eq!(spec.families, ["Odd,Name"]);
        assert_eq!(parse_guifont("").unwrap(), FontSpec::default());
        assert_eq!(parse_guifont(":h20").unwrap().points, Some(20.0));
        assert_eq!(parse_guifont("Mono").unwrap().points, None, "the size is left to [font]");
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

    fn config(text: &str) -> FontSettings {
        let mut s = crate::settings::Settings::default();
        let errors = crate::settings::file::apply(std::path::Path::new("t.toml"), text, &mut s);
        assert!(errors.is_empty(), "{errors:?}");
        s.font
    }

    #[test]
    fn the_font_table_is_the_base_and_guifont_goes_over_it() {
        let mut fonts = Fonts::bundled(1.0);
        let small = fonts.metrics();
        assert!(fonts.set_config(&config("[font]\nsize = 20\nnormal = [\"Not Installed\"]")));
        assert!(!fonts.set_config(&config("[font]\nsize = 20\nnormal = [\"Not Installed\"]")), "no change");
        let big = fonts.metrics();
        assert!(big.width > small.width && big.height > small.height, "{small:?} {big:?}");
        assert_eq!(fonts.family(), BUNDLED_FAMILY, "a missing family falls back to the bundled one");
        // guifont names a family but no size: [font] size stays.
        fonts.set_guifont("Also Missing").unwrap();
        assert_eq!(fonts.metrics(), big);
        // Its size wins; cleared, the table's is back.
        fonts.set_guifont("Also Missing:h11").unwrap();
        assert_eq!(fonts.metrics(), small);
        fonts.set_guifont("").unwrap();
        assert_eq!(fonts.metrics(), big);
        // Ctrl+= zooms from the table's size; Ctrl+0 goes back to it.
        fonts.zoom(2.0);
        assert!(fonts.metrics().width > big.width);
        fonts.reset_zoom();
        assert_eq!(fonts.metrics(), big);
    }

    #[test]
    fn styles_use_the_faces_the_bundled_family_has() {
        let mut fonts = Fonts::bundled(1.0);
        fonts.set_config(&config("[font]\nnormal = \"jetbrains mono\""));
        assert_eq!(fonts.family(), "JetBrains Mono", "the database's spelling");
        assert_eq!(fonts.attrs(true, false).weight, Weight::BOLD);
        assert_eq!(fonts.attrs(false, true).style, glyphon::Style::Italic);
        assert_eq!(fonts.style_family(true, true), "JetBrains Mono");
        // A bold family that is not installed: the normal family's bold.
        fonts.set_config(&config("[font]\nbold = \"Not Installed\""));
        assert_eq!(fonts.style_family(true, false), BUNDLED_FAMILY);
    }

    #[test]
    fn features_and_hinting_reach_the_text_attributes() {
        let mut fonts = Fonts::bundled(1.0);
        let plain = fonts.attrs(false, false);
        assert!(plain.font_features.features.is_empty());
        assert!(!plain.cache_key_flags.contains(CacheKeyFlags::DISABLE_HINTING), "hinted by default");
        fonts.set_config(&config("[font]\nfeatures = [\"+ss01\", \"-calt\"]\nhinting = \"none\""));
        let attrs = fonts.attrs(true, false);
        let tags: Vec<_> = attrs.font_features.features.iter().map(|f| (f.tag, f.value)).collect();
        assert_eq!(tags, [(FeatureTag::new(b"ss01"), 1), (FeatureTag::new(b"calt"), 0)]);
        assert!(attrs.cache_key_flags.contains(CacheKeyFlags::DISABLE_HINTING));
        // Per family (Neovide's form): only for that family.
        fonts.set_config(&config(
            "[font]\nfeatures.\"JetBrains Mono\" = [\"zero\"]\nfeatures.Other = [\"ss02\"]",
        ));
        let tags: Vec<_> = fonts.attrs(false, false).font_features.features.iter().map(|f| f.tag).collect();
        assert_eq!(tags, [FeatureTag::new(b"zero")]);
        // --no-ligatures still turns ligatures off on top.
        fonts.ligatures = false;
        assert_eq!(fonts.attrs(false, false).font_features.features.len(), 3);
    }
}
