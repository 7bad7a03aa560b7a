//! Damage across frames that are never drawn.
//!
//! The window draws only the newest frame waiting when it wakes; each
//! frame's damage says what changed since the one published just before it.
//! Folding the skipped frames' damage into the drawn one keeps it relative
//! to the frame last drawn, so nothing that changed in between is missed.

use super::Frame;

impl Frame {
    /// Folds in the damage of `older`, published before this frame and
    /// never drawn. Grids that no longer exist are left out; rows are kept
    /// only where they still exist.
    pub fn absorb_damage(&mut self, older: &Frame) {
        for (id, old) in &older.damage {
            let Some(grid) = self.grids.get(id) else { continue };
            let mine = self.damage.entry(*id).or_default();
            mine.resized |= old.resized;
            mine.rows.extend(old.rows.iter().copied().filter(|&r| r < grid.height));
            mine.rows.sort_unstable();
            mine.rows.dedup();
        }
        for id in &older.destroyed {
            if !self.destroyed.contains(id) && !self.grids.contains_key(id) {
                self.destroyed.push(*id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::model::{CellUpdate, GridDamage, Model, RedrawEvent};

    fn write(model: &mut Model, grid: u64, row: usize) {
        let cells = vec![CellUpdate { text: "x".into(), hl: Some(0), repeat: None }];
        model.apply(RedrawEvent::GridLine { grid, row, col_start: 0, cells, wrap: false }).unwrap();
    }

    fn flush(model: &mut Model) -> crate::model::Frame {
        model.apply(RedrawEvent::Flush).unwrap().expect("flush publishes")
    }

    #[test]
    fn skipped_frames_hand_their_damage_to_the_drawn_one() {
        let mut m = Model::new();
        m.apply(RedrawEvent::GridResize { grid: 1, width: 5, height: 6 }).unwrap();
        m.apply(RedrawEvent::GridResize { grid: 2, width: 5, height: 2 }).unwrap();
        flush(&mut m);
        write(&mut m, 1, 4);
        write(&mut m, 2, 1);
        let first = flush(&mut m);
        write(&mut m, 1, 1);
        m.apply(RedrawEvent::GridDestroy { grid: 2 }).unwrap();
        let second = flush(&mut m);
        write(&mut m, 1, 2);
        let mut newest = flush(&mut m);
        // Only the newest is drawn: it carries everything since the last draw.
        newest.absorb_damage(&second);
        newest.absorb_damage(&first);
        assert_eq!(newest.damage.get(&1), Some(&GridDamage { rows: vec![1, 2, 4], resized: false }));
        assert!(!newest.damage.contains_key(&2), "a destroyed grid has no damage");
        assert_eq!(newest.destroyed, vec![2]);
    }
}
