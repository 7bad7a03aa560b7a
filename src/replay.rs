//! Replays a recorded nvim stream (`--record`) through the decoder and the
//! model, with no nvim running.

use rmpv::ValueRef;

use crate::model::Frame;
use crate::nvim::ui::UiState;
use crate::nvim::{ExtTypes, parse_api_info};
use crate::rpc::framing::{FramingError, Scanner};

/// Why a recording could not be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error(transparent)]
    Framing(#[from] FramingError),
    #[error("a recorded message does not decode: {reason}")]
    Decode { reason: String },
}

/// Feeds every message of `bytes` through decoder and model, calling
/// `on_frame` at each flush. A trailing partial message is ignored.
pub fn replay(bytes: &[u8], mut on_frame: impl FnMut(Frame)) -> Result<UiState, ReplayError> {
    let mut ui = UiState::new(None);
    for msg in messages(bytes)? {
        apply_message(&mut ui, msg, &mut on_frame)?;
    }
    Ok(ui)
}

/// Splits a recording into complete messages (a partial tail is dropped).
pub fn messages(bytes: &[u8]) -> Result<Vec<&[u8]>, ReplayError> {
    let mut scanner = Scanner::default();
    let mut offset = 0;
    let mut out = Vec::new();
    while let Some(len) = scanner.next_message(&bytes[offset..])? {
        out.push(&bytes[offset..offset + len]);
        offset += len;
    }
    Ok(out)
}

/// Decodes one recorded message and applies it: redraw notifications go to
/// the model, the api-info response sets the EXT codes, the rest is skipped.
pub fn apply_message(ui: &mut UiState, msg: &[u8], on_frame: impl FnMut(Frame)) -> Result<(), ReplayError> {
    let value = crate::rpc::decode_message(msg).map_err(|e| ReplayError::Decode { reason: e.to_string() })?;
    let ValueRef::Array(items) = &value else {
        return Ok(());
    };
    match items.as_slice() {
        [ValueRef::Integer(t), method, ValueRef::Array(params)]
            if t.as_u64() == Some(2) && crate::rpc::lossy(method).as_deref() == Some("redraw") =>
        {
            ui.handle_redraw(params, on_frame);
        }
        [ValueRef::Integer(t), _, ValueRef::Nil, result] if t.as_u64() == Some(1) => {
            if let Some(ext) = api_info_ext(result) {
                ui.set_ext_types(ext);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The composed text screen after the last flush of a recording.
pub fn final_frame(bytes: &[u8]) -> Result<Option<Frame>, ReplayError> {
    let mut last = None;
    replay(bytes, |f| last = Some(f))?;
    Ok(last)
}

/// Responses are self-describing enough to spot `nvim_get_api_info`'s.
fn api_info_ext(result: &ValueRef<'_>) -> Option<ExtTypes> {
    let ValueRef::Array(items) = result else {
        return None;
    };
    if items.len() != 2 || !matches!(items[1], ValueRef::Map(_)) {
        return None;
    }
    parse_api_info(&result.to_owned()).ok().map(|api| api.ext)
}
