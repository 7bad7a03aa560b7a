//! The rows a frame composes, cut into rounds that fit a scratch texture
//! (see `Target::Rows`): each round is composed into the scratch and read
//! back before the next is composed into it, so no texture as large as
//! the window holds the shown frame.

use super::Round;
use super::geometry::merge_bands;

/// Columns `x0..x1` of rows `y..y + rows` of the frame, composed into the
/// scratch's rows `at..at + rows` (the same columns) and read back into
/// the read-back buffer's rows `at..at + rows`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub x0: u32,
    pub x1: u32,
    pub y: u32,
    pub rows: u32,
    pub at: u32,
}

/// The spans' rows (x0, y0, x1, y1) packed into rounds of at most
/// `capacity` rows, in order: a span that does not fit in what a round
/// has left is cut, but never inside one of the `whole` bands (a blurred
/// float's rows, its blur reading around it), which starts a round of its
/// own instead (one taller than `capacity` is cut all the same).
pub fn rounds(spans: &[[u32; 4]], capacity: u32, whole: &[(u32, u32)]) -> Vec<Vec<Piece>> {
    let capacity = capacity.max(1);
    let whole = merge_bands(whole.to_vec());
    let mut rounds = Vec::new();
    let mut round = Vec::new();
    let mut used = 0;
    for &[x0, mut y, x1, end] in spans {
        while y < end {
            if used == capacity {
                rounds.push(std::mem::take(&mut round));
                used = 0;
            }
            let mut rows = (end - y).min(capacity - used);
            let cut = y + rows;
            if let Some(&(a, _)) = whole.iter().find(|&&(a, b)| cut < end && a < cut && cut < b) {
                if a > y {
                    rows = a - y;
                } else if used > 0 {
                    rounds.push(std::mem::take(&mut round));
                    used = 0;
                    continue;
                }
            }
            round.push(Piece { x0, x1, y, rows, at: used });
            used += rows;
            y += rows;
        }
    }
    if !round.is_empty() {
        rounds.push(round);
    }
    rounds
}

/// Rows a scratch texture needs for `capacity`-row rounds that keep each
/// of the `whole` bands in one round.
pub fn scratch_rows(capacity: u32, whole: &[(u32, u32)]) -> u32 {
    let tallest = merge_bands(whole.to_vec()).iter().map(|(a, b)| b - a).max().unwrap_or(0);
    capacity.max(tallest).max(1)
}

/// The buffer rounds are read back through, as many rows as the scratch
/// texture they are composed into, kept between frames.
#[derive(Default)]
pub struct ReadBuffer(Option<(wgpu::Buffer, (u32, u32))>);

impl ReadBuffer {
    /// The buffer for rows `stride` bytes apart, `rows` of them.
    fn fit(&mut self, device: &wgpu::Device, stride: u32, rows: u32) -> &wgpu::Buffer {
        if self.0.as_ref().is_none_or(|(_, size)| *size != (stride, rows)) {
            self.0 = None;
            let buffer = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("composed rows"),
                size: u64::from(stride) * u64::from(rows),
                usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
                mapped_at_creation: false,
            });
            self.0 = Some((buffer, (stride, rows)));
        }
        &self.0.as_ref().expect("made above").0
    }
}

/// Submits `rounds` in order, each read back from `scratch` (the texture
/// they are composed into) through `buffer` before the next is submitted:
/// `row(piece, r, bytes)` takes the pixels of row `piece.y + r` of the
/// frame, columns `piece.x0..piece.x1`. Rounds with no pieces (the layers'
/// drawing alone) are only submitted.
pub fn read_back(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    rounds: Vec<Round>,
    (scratch, buffer): (Option<&wgpu::Texture>, &mut ReadBuffer),
    mut row: impl FnMut(&Piece, u32, &[u8]),
) -> Result<(), String> {
    for (i, Round { pieces, mut encoder }) in rounds.into_iter().enumerate() {
        let used = pieces.last().map_or(0, |p| p.at + p.rows);
        let target = match (used, scratch) {
            (0, _) => None,
            (_, Some(scratch)) => {
                let stride = (scratch.width() * 4).div_ceil(wgpu::COPY_BYTES_PER_ROW_ALIGNMENT)
                    * wgpu::COPY_BYTES_PER_ROW_ALIGNMENT;
                Some((scratch, buffer.fit(device, stride, scratch.height()), stride))
            }
            (_, None) => return Err("rows composed with no scratch to read them from".into()),
        };
        for piece in target.iter().flat_map(|_| &pieces) {
            let (scratch, buffer, stride) = target.expect("iterated only with one");
            encoder.copy_texture_to_buffer(
                wgpu::TexelCopyTextureInfo {
                    origin: wgpu::Origin3d { x: piece.x0, y: piece.at, z: 0 },
                    ..scratch.as_image_copy()
                },
                wgpu::TexelCopyBufferInfo {
                    buffer,
                    layout: wgpu::TexelCopyBufferLayout {
                        offset: u64::from(piece.at) * u64::from(stride),
                        bytes_per_row: Some(stride),
                        rows_per_image: None,
                    },
                },
                wgpu::Extent3d { width: piece.x1 - piece.x0, height: piece.rows, depth_or_array_layers: 1 },
            );
        }
        queue.submit([encoder.finish()]);
        if i == 0 {
            crate::trace::mark(crate::trace::Stage::FrameSubmitted);
        }
        let Some((_, buffer, stride)) = target else { continue };
        let span = buffer.slice(..u64::from(used) * u64::from(stride));
        let (tx, rx) = std::sync::mpsc::channel();
        span.map_async(wgpu::MapMode::Read, move |r| {
            // The receiver waits below; it cannot be gone.
            tx.send(r).ok();
        });
        device.poll(wgpu::PollType::wait_indefinitely()).map_err(|e| e.to_string())?;
        rx.recv().map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
        {
            let data = span.get_mapped_range().map_err(|e| e.to_string())?;
            for piece in &pieces {
                let len = (piece.x1 - piece.x0) as usize * 4;
                for r in 0..piece.rows {
                    row(piece, r, &data[((piece.at + r) * stride) as usize..][..len]);
                }
            }
        }
        buffer.unmap();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(x0: u32, x1: u32, y: u32, rows: u32, at: u32) -> Piece {
        Piece { x0, x1, y, rows, at }
    }

    #[test]
    fn composed_rows_go_in_rounds_that_fit_the_scratch() {
        // Everything fits: one round, spans packed one after the other.
        assert_eq!(
            rounds(&[[0, 0, 9, 3], [4, 10, 6, 12]], 8, &[]),
            vec![vec![p(0, 9, 0, 3, 0), p(4, 6, 10, 2, 3)]]
        );
        // A full frame of 20 rows in a scratch of 8.
        assert_eq!(
            rounds(&[[0, 0, 9, 20]], 8, &[]),
            vec![vec![p(0, 9, 0, 8, 0)], vec![p(0, 9, 8, 8, 0)], vec![p(0, 9, 16, 4, 0)]]
        );
        // A span cut where a round is full, the next round starting with its rest.
        assert_eq!(
            rounds(&[[0, 2, 9, 7], [3, 30, 5, 36]], 8, &[]),
            vec![vec![p(0, 9, 2, 5, 0), p(3, 5, 30, 3, 5)], vec![p(3, 5, 33, 3, 0)]]
        );
        assert_eq!(rounds(&[], 8, &[]), Vec::<Vec<Piece>>::new());
        // Every row of every band is composed once, and no round
        // overflows the scratch, whatever the bands and the capacity.
        let bands = [(0, 1), (5, 40), (41, 42), (100, 260)];
        let spans: Vec<[u32; 4]> = bands.iter().map(|&(y0, y1)| [0, y0, 9, y1]).collect();
        for capacity in 1..50 {
            for whole in [&[][..], &[(20, 27), (110, 111), (150, 158)][..]] {
                let rounds = rounds(&spans, capacity, whole);
                let mut rows: Vec<u32> = Vec::new();
                for round in &rounds {
                    let mut at = 0;
                    for piece in round {
                        assert_eq!(piece.at, at, "pieces packed in order");
                        at += piece.rows;
                        rows.extend(piece.y..piece.y + piece.rows);
                    }
                    assert!(at <= capacity && at > 0);
                }
                let want: Vec<u32> = bands.iter().flat_map(|&(a, b)| a..b).collect();
                assert_eq!(rows, want, "capacity {capacity}");
                // A band kept whole lies in one piece where it fits.
                for &(a, b) in whole.iter().filter(|&&(a, b)| b - a <= capacity) {
                    let holding = rounds.iter().flatten().filter(|p| p.y < b && a < p.y + p.rows);
                    assert!(holding.count() == 1, "capacity {capacity}: ({a}, {b}) cut");
                }
            }
        }
    }

    #[test]
    fn a_band_kept_whole_is_never_cut() {
        // Rows 5..12 are a blurred float's: not cut at 8, its round begins at 5.
        assert_eq!(
            rounds(&[[0, 0, 9, 20]], 8, &[(5, 12)]),
            vec![vec![p(0, 9, 0, 5, 0)], vec![p(0, 9, 5, 8, 0)], vec![p(0, 9, 13, 7, 0)]]
        );
        // After another span: the band goes to a round of its own.
        assert_eq!(
            rounds(&[[0, 0, 9, 3], [0, 10, 9, 16]], 8, &[(10, 16)]),
            vec![vec![p(0, 9, 0, 3, 0)], vec![p(0, 9, 10, 6, 0)]]
        );
        assert_eq!(scratch_rows(8, &[(10, 16), (30, 42)]), 12);
        assert_eq!(scratch_rows(8, &[]), 8);
    }
}
