//! Decodes `redraw` notification batches into typed [`RedrawEvent`]s.
//!
//! Every event is parsed by position: trailing arguments that older nvims do
//! not send are optional, extra arguments from newer nvims are ignored, and
//! unknown event names are skipped (each logged once). A tuple of the wrong
//! shape is reported with the offending value and skipped; the rest of the
//! batch still applies.

use std::borrow::Cow;
use std::collections::HashSet;

use rmpv::ValueRef;

use crate::model::highlight::{HlAttr, Underline};
use crate::model::{Anchor, CellUpdate, CursorShape, ModeInfo, OptionValue, RedrawEvent};
use crate::rpc::lossy;

/// The msgpack EXT type codes of nvim's handle types, from `nvim_get_api_info`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExtTypes {
    pub buffer: i8,
    pub window: i8,
    pub tabpage: i8,
}

/// A redraw tuple that could not be decoded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("bad '{event}' event ({reason}): {value}")]
pub struct DecodeError {
    pub event: String,
    pub reason: String,
    pub value: String,
}

/// Stateful only for log hygiene: it remembers which problems it reported.
#[derive(Debug, Default)]
pub struct Decoder {
    ext: Option<ExtTypes>,
    reported: HashSet<String>,
}

impl Decoder {
    /// `ext` = `None` accepts any EXT code for a handle (used by replays of
    /// streams recorded without the api info).
    pub fn new(ext: Option<ExtTypes>) -> Self {
        Decoder { ext, reported: HashSet::new() }
    }

    pub fn set_ext_types(&mut self, ext: ExtTypes) {
        self.ext = Some(ext);
    }

    /// Decodes one `redraw` notification's params (a list of batches),
    /// calling `emit` for each event in order.
    pub fn decode<'a>(&mut self, batches: &[ValueRef<'a>], mut emit: impl FnMut(RedrawEvent<'a>)) {
        for batch in batches {
            let ValueRef::Array(items) = batch else {
                self.report_once("batch", "a redraw batch is not an array", batch);
                continue;
            };
            let Some(name) = items.first().and_then(lossy) else {
                self.report_once("batch", "a redraw batch has no event name", batch);
                continue;
            };
            for tuple in &items[1..] {
                let ValueRef::Array(args) = tuple else {
                    self.report_once(&name, "arguments are not an array", tuple);
                    continue;
                };
                match decode_event(&name, args, self.ext) {
                    Ok(Some(event)) => emit(event),
                    Ok(None) => {
                        if self.reported.insert(format!("unknown:{name}")) {
                            log::info!("ignoring redraw event '{name}' (not handled by vireo)");
                        }
                    }
                    Err(e) => log::error!("{e}"),
                }
            }
        }
    }

    fn report_once(&mut self, event: &str, reason: &str, value: &ValueRef<'_>) {
        if self.reported.insert(format!("{event}:{reason}")) {
            log::error!("bad '{event}' event ({reason}): {}", short(value));
        }
    }
}

fn short(v: &ValueRef<'_>) -> String {
    crate::util::short_value(v)
}

/// Positional access to one event's arguments.
struct Args<'v, 'a> {
    event: &'v str,
    items: &'v [ValueRef<'a>],
    ext: Option<ExtTypes>,
}

impl<'v, 'a> Args<'v, 'a> {
    fn err(&self, reason: impl Into<String>) -> DecodeError {
        DecodeError {
            event: self.event.to_owned(),
            reason: reason.into(),
            value: short(&ValueRef::Array(self.items.to_vec())),
        }
    }

    fn get(&self, i: usize) -> Result<&'v ValueRef<'a>, DecodeError> {
        self.items.get(i).ok_or_else(|| self.err(format!("missing argument {i}")))
    }

    fn has(&self, i: usize) -> bool {
        i < self.items.len()
    }

    fn int(&self, i: usize) -> Result<i64, DecodeError> {
        match self.get(i)? {
            ValueRef::Integer(n) => n.as_i64().ok_or_else(|| self.err(format!("argument {i} too large"))),
            _ => Err(self.err(format!("argument {i} is not an integer"))),
        }
    }

    fn uint(&self, i: usize) -> Result<u64, DecodeError> {
        let n = self.int(i)?;
        u64::try_from(n).map_err(|_| self.err(format!("argument {i} is negative")))
    }

    fn usize(&self, i: usize) -> Result<usize, DecodeError> {
        let n = self.uint(i)?;
        usize::try_from(n).map_err(|_| self.err(format!("argument {i} too large")))
    }

    fn opt_int(&self, i: usize) -> Result<Option<i64>, DecodeError> {
        if self.has(i) { self.int(i).map(Some) } else { Ok(None) }
    }

    fn opt_uint(&self, i: usize) -> Result<Option<u64>, DecodeError> {
        if self.has(i) { self.uint(i).map(Some) } else { Ok(None) }
    }

    fn float(&self, i: usize) -> Result<f64, DecodeError> {
        match self.get(i)? {
            ValueRef::F64(f) if f.is_finite() => Ok(*f),
            ValueRef::F32(f) if f.is_finite() => Ok(f64::from(*f)),
            ValueRef::Integer(n) => n.as_f64().ok_or_else(|| self.err("bad number")),
            _ => Err(self.err(format!("argument {i} is not a number"))),
        }
    }

    fn bool(&self, i: usize) -> Result<bool, DecodeError> {
        match self.get(i)? {
            ValueRef::Boolean(b) => Ok(*b),
            // Some versions send 0/1 for flags.
            ValueRef::Integer(n) => Ok(n.as_i64() != Some(0)),
            _ => Err(self.err(format!("argument {i} is not a boolean"))),
        }
    }

    fn str(&self, i: usize) -> Result<Cow<'a, str>, DecodeError> {
        lossy(self.get(i)?).ok_or_else(|| self.err(format!("argument {i} is not a string")))
    }

    fn map(&self, i: usize) -> Result<&'v [(ValueRef<'a>, ValueRef<'a>)], DecodeError> {
        match self.get(i)? {
            ValueRef::Map(m) => Ok(m),
            _ => Err(self.err(format!("argument {i} is not a map"))),
        }
    }

    fn array(&self, i: usize) -> Result<&'v [ValueRef<'a>], DecodeError> {
        match self.get(i)? {
            ValueRef::Array(a) => Ok(a),
            _ => Err(self.err(format!("argument {i} is not an array"))),
        }
    }

    /// A Window handle: EXT with the api-info code, or a plain integer.
    fn window(&self, i: usize) -> Result<i64, DecodeError> {
        match self.get(i)? {
            ValueRef::Integer(n) => n.as_i64().ok_or_else(|| self.err("bad handle")),
            ValueRef::Ext(code, data) => {
                if let Some(ext) = self.ext
                    && *code != ext.window
                {
                    return Err(self.err(format!("argument {i} has EXT type {code}, not Window")));
                }
                decode_handle(data).ok_or_else(|| self.err(format!("argument {i}: bad handle payload")))
            }
            _ => Err(self.err(format!("argument {i} is not a window handle"))),
        }
    }

    fn color(&self, i: usize) -> Result<Option<u32>, DecodeError> {
        Ok(self.opt_int(i)?.and_then(|c| u32::try_from(c).ok()).map(|c| c & 0xff_ffff))
    }
}

/// An EXT handle's payload is a msgpack integer, possibly negative.
pub fn decode_handle(data: &[u8]) -> Option<i64> {
    // Depth 1: an integer needs no more, and nested junk is not read at all.
    match rmpv::decode::read_value_ref_with_max_depth(&mut &data[..], 1).ok()? {
        ValueRef::Integer(n) => n.as_i64(),
        _ => None,
    }
}

/// Decodes one event tuple. `Ok(None)` for an event vireo does not know.
pub fn decode_event<'a>(
    name: &str,
    items: &[ValueRef<'a>],
    ext: Option<ExtTypes>,
) -> Result<Option<RedrawEvent<'a>>, DecodeError> {
    use RedrawEvent as E;
    let a = Args { event: name, items, ext };
    Ok(Some(match name {
        "grid_line" => E::GridLine {
            grid: a.uint(0)?,
            row: a.usize(1)?,
            col_start: a.usize(2)?,
            cells: cells(&a, a.array(3)?)?,
            wrap: a.has(4) && a.bool(4)?,
        },
        "flush" => E::Flush,
        "grid_cursor_goto" => E::GridCursorGoto { grid: a.uint(0)?, row: a.usize(1)?, col: a.usize(2)? },
        "grid_scroll" => E::GridScroll {
            grid: a.uint(0)?,
            top: a.usize(1)?,
            bot: a.usize(2)?,
            left: a.usize(3)?,
            right: a.usize(4)?,
            rows: a.int(5)?,
        },
        "grid_clear" => E::GridClear { grid: a.uint(0)? },
        "grid_destroy" => E::GridDestroy { grid: a.uint(0)? },
        "grid_resize" => E::GridResize { grid: a.uint(0)?, width: a.usize(1)?, height: a.usize(2)? },
        "hl_attr_define" => E::HlAttrDefine {
            id: u32::try_from(a.uint(0)?).map_err(|_| a.err("id too large"))?,
            attr: hl_attr(&a, a.map(1)?)?,
        },
        "hl_group_set" => E::HlGroupSet {
            name: a.str(0)?,
            id: u32::try_from(a.uint(1)?).map_err(|_| a.err("id too large"))?,
        },
        "default_colors_set" => E::DefaultColorsSet { fg: a.color(0)?, bg: a.color(1)?, sp: a.color(2)? },
        "set_title" => E::SetTitle(a.str(0)?),
        "set_icon" => E::SetIcon(a.str(0)?),
        "chdir" => E::Chdir(a.str(0)?),
        "mode_info_set" => E::ModeInfoSet {
            cursor_style_enabled: a.bool(0)?,
            modes: a.array(1)?.iter().map(|m| mode_info(&a, m)).collect::<Result<_, _>>()?,
        },
        "mode_change" => E::ModeChange { mode: a.str(0)?, index: a.usize(1)? },
        "option_set" => E::OptionSet { name: a.str(0)?, value: option_value(a.get(1)?) },
        "mouse_on" => E::MouseOn,
        "mouse_off" => E::MouseOff,
        "busy_start" => E::BusyStart,
        "busy_stop" => E::BusyStop,
        "suspend" => E::Suspend,
        "update_menu" => E::UpdateMenu,
        "bell" => E::Bell,
        "visual_bell" => E::VisualBell,
        "error_exit" => E::ErrorExit(a.int(0)?),
        "win_pos" => E::WinPos {
            grid: a.uint(0)?,
            win: a.window(1)?,
            row: a.usize(2)?,
            col: a.usize(3)?,
            width: a.usize(4)?,
            height: a.usize(5)?,
        },
        "win_float_pos" => E::WinFloatPos {
            grid: a.uint(0)?,
            win: a.window(1)?,
            anchor: match &*a.str(2)? {
                "NW" => Anchor::NW,
                "NE" => Anchor::NE,
                "SW" => Anchor::SW,
                "SE" => Anchor::SE,
                other => return Err(a.err(format!("unknown anchor {other:?}"))),
            },
            anchor_grid: a.uint(3)?,
            anchor_row: a.float(4)?,
            anchor_col: a.float(5)?,
            mouse_enabled: !a.has(6) || a.bool(6)?,
            zindex: a.opt_uint(7)?,
            compindex: a.opt_uint(8)?,
        },
        "win_external_pos" => E::WinExternalPos { grid: a.uint(0)?, win: a.window(1)? },
        "win_hide" => E::WinHide { grid: a.uint(0)? },
        "win_close" => E::WinClose { grid: a.uint(0)? },
        "msg_set_pos" => E::MsgSetPos {
            grid: a.uint(0)?,
            row: a.usize(1)?,
            scrolled: a.bool(2)?,
            sep_char: if a.has(3) { a.str(3)? } else { Cow::Borrowed("") },
            zindex: a.opt_uint(4)?,
            compindex: a.opt_uint(5)?,
        },
        "win_viewport" => E::WinViewport {
            grid: a.uint(0)?,
            win: a.window(1)?,
            topline: a.int(2)?,
            botline: a.int(3)?,
            curline: a.int(4)?,
            curcol: a.int(5)?,
            line_count: a.opt_int(6)?,
            scroll_delta: a.opt_int(7)?,
        },
        "win_viewport_margins" => E::WinViewportMargins {
            grid: a.uint(0)?,
            win: a.window(1)?,
            top: a.usize(2)?,
            bottom: a.usize(3)?,
            left: a.usize(4)?,
            right: a.usize(5)?,
        },
        "win_extmark" => E::WinExtmark {
            grid: a.uint(0)?,
            win: a.window(1)?,
            ns_id: a.int(2)?,
            mark_id: a.int(3)?,
            row: a.usize(4)?,
            col: a.usize(5)?,
        },
        _ => return Ok(None),
    }))
}

fn cells<'a>(a: &Args<'_, 'a>, raw: &[ValueRef<'a>]) -> Result<Vec<CellUpdate<'a>>, DecodeError> {
    let mut out = Vec::with_capacity(raw.len());
    for (i, cell) in raw.iter().enumerate() {
        let ValueRef::Array(parts) = cell else {
            return Err(a.err(format!("cell {i} is not an array")));
        };
        let text = parts.first().and_then(lossy).ok_or_else(|| a.err(format!("cell {i} has no text")))?;
        let num = |j: usize| -> Result<Option<u64>, DecodeError> {
            match parts.get(j) {
                None => Ok(None),
                Some(ValueRef::Integer(n)) => {
                    n.as_u64().map(Some).ok_or_else(|| a.err(format!("cell {i}: bad number")))
                }
                Some(_) => Err(a.err(format!("cell {i}: argument {j} is not an integer"))),
            }
        };
        let hl = num(1)?.map(|h| u32::try_from(h).map_err(|_| a.err("hl id too large"))).transpose()?;
        if i == 0 && hl.is_none() {
            return Err(a.err("the first cell has no highlight id"));
        }
        out.push(CellUpdate { text, hl, repeat: num(2)? });
    }
    Ok(out)
}

fn hl_attr(a: &Args<'_, '_>, map: &[(ValueRef<'_>, ValueRef<'_>)]) -> Result<HlAttr, DecodeError> {
    let mut attr = HlAttr::default();
    for (k, v) in map {
        let Some(key) = lossy(k) else { continue };
        let color = || match v {
            ValueRef::Integer(n) => n.as_u64().map(|c| (c & 0xff_ffff) as u32),
            _ => None,
        };
        let flag = matches!(v, ValueRef::Boolean(true));
        match &*key {
            "foreground" => attr.fg = color(),
            "background" => attr.bg = color(),
            "special" => attr.sp = color(),
            "reverse" => attr.reverse = flag,
            "italic" => attr.italic = flag,
            "bold" => attr.bold = flag,
            "strikethrough" => attr.strikethrough = flag,
            "altfont" => attr.altfont = flag,
            "standout" => attr.standout = flag,
            "nocombine" => attr.nocombine = flag,
            "underline" if flag => attr.underline = Underline::Line,
            "undercurl" if flag => attr.underline = Underline::Curl,
            "underdouble" if flag => attr.underline = Underline::Double,
            "underdotted" if flag => attr.underline = Underline::Dotted,
            "underdashed" if flag => attr.underline = Underline::Dashed,
            "blend" => match v {
                ValueRef::Integer(n) => attr.blend = n.as_u64().unwrap_or(0).min(100) as u8,
                _ => return Err(a.err("blend is not an integer")),
            },
            "url" => attr.url = lossy(v).map(|u| u.as_ref().into()),
            // fg_indexed, bg_indexed and future keys.
            _ => {}
        }
    }
    Ok(attr)
}

fn mode_info(a: &Args<'_, '_>, v: &ValueRef<'_>) -> Result<ModeInfo, DecodeError> {
    let ValueRef::Map(map) = v else {
        return Err(a.err("a mode_info entry is not a map"));
    };
    let mut info = ModeInfo::default();
    for (k, v) in map {
        let Some(key) = lossy(k) else { continue };
        let num = || match v {
            ValueRef::Integer(n) => n.as_u64(),
            _ => None,
        };
        match &*key {
            "cursor_shape" => {
                info.cursor_shape = match lossy(v).as_deref() {
                    Some("block") => Some(CursorShape::Block),
                    Some("horizontal") => Some(CursorShape::Horizontal),
                    Some("vertical") => Some(CursorShape::Vertical),
                    _ => None,
                }
            }
            "cell_percentage" => info.cell_percentage = num().map(|p| p.min(100) as u32),
            "blinkwait" => info.blinkwait = num(),
            "blinkon" => info.blinkon = num(),
            "blinkoff" => info.blinkoff = num(),
            "attr_id" => info.attr_id = num().and_then(|n| u32::try_from(n).ok()),
            "attr_id_lm" => info.attr_id_lm = num().and_then(|n| u32::try_from(n).ok()),
            "short_name" => info.short_name = lossy(v).unwrap_or_default().into_owned(),
            "name" => info.name = lossy(v).unwrap_or_default().into_owned(),
            "mouse_shape" => info.mouse_shape = num().and_then(|n| i64::try_from(n).ok()),
            _ => {}
        }
    }
    Ok(info)
}

fn option_value(v: &ValueRef<'_>) -> OptionValue {
    match v {
        ValueRef::Boolean(b) => OptionValue::Bool(*b),
        ValueRef::Integer(n) => OptionValue::Int(n.as_i64().unwrap_or(0)),
        ValueRef::String(_) | ValueRef::Binary(_) => {
            OptionValue::Str(lossy(v).unwrap_or_default().into_owned())
        }
        _ => OptionValue::Nil,
    }
}

#[cfg(test)]
mod tests;
