//! Decoder + model: turns `redraw` params into frames. Shared by the live
//! session and by replays of recorded streams.

use rmpv::ValueRef;

use super::redraw::{Decoder, ExtTypes};
use crate::model::{Frame, Model};

/// The UI side of a session.
#[derive(Debug, Default)]
pub struct UiState {
    decoder: Decoder,
    model: Model,
    errors: u64,
}

impl UiState {
    pub fn new(ext: Option<ExtTypes>) -> Self {
        UiState { decoder: Decoder::new(ext), model: Model::new(), errors: 0 }
    }

    pub fn set_ext_types(&mut self, ext: ExtTypes) {
        self.decoder.set_ext_types(ext);
    }

    pub fn model(&self) -> &Model {
        &self.model
    }

    pub fn model_mut(&mut self) -> &mut Model {
        &mut self.model
    }

    /// Events that could not be applied so far (each is logged).
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// Applies one `redraw` notification, calling `publish` at each flush.
    pub fn handle_redraw(&mut self, params: &[ValueRef<'_>], mut publish: impl FnMut(Frame)) {
        let UiState { decoder, model, errors } = self;
        decoder.decode(params, |event| match model.apply(event) {
            Ok(Some(frame)) => publish(frame),
            Ok(None) => {}
            Err(e) => {
                *errors += 1;
                log::error!("redraw event dropped: {e}");
            }
        });
    }
}
