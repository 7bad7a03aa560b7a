//! The cursor's slide against a real nvim: where nvim puts the cursor in
//! each mode, and whether the motion model slides or jumps there.

mod common;

use std::time::{Duration, Instant};

use vireo::render::cursor_motion::{CursorMotion, MotionKnobs, Place, Target};
use vireo::render::font::Fonts;

#[test]
fn the_cursor_slides_into_the_command_line_only_in_command_line_mode() {
    let conn = common::start(40, 12, &[], vireo::rpc::RequestTable::default());
    let m = Fonts::bundled(1.0).metrics();
    let mut latest = None;
    let knobs = MotionKnobs::default();
    let mut motion = CursorMotion::default();
    let t0 = Instant::now();
    let at = |ms| t0 + Duration::from_millis(ms);

    let fill = ":call setline(1, map(range(1, 100), '\"line \" . v:val'))<CR>";
    let text = common::settled(&conn, &mut latest, Some(fill));
    let editor = Target::of(&text, m).expect("the cursor is on screen");
    assert_eq!(editor.place, Place::Editor);
    motion.retarget(Some(editor), at(0), &knobs);

    // A far move in the text slides.
    let far = Target::of(&common::settled(&conn, &mut latest, Some("50%")), m).unwrap();
    assert_eq!(far.place, Place::Editor);
    motion.retarget(Some(far), at(100), &knobs);
    assert!(motion.moving(at(110)), "a jump to the middle of the buffer slides");

    // `:` enters command-line mode: the cursor slides into the command line.
    let cmdline = Target::of(&common::settled(&conn, &mut latest, Some(":")), m).unwrap();
    assert_eq!(cmdline.place, Place::CommandLine, "{cmdline:?}");
    assert!(cmdline.cmdline);
    motion.retarget(Some(cmdline), at(1000), &knobs);
    assert!(motion.moving(at(1010)));

    // Typing along the command line slides too (with the full length: it
    // is not insert mode).
    let typed = Target::of(&common::settled(&conn, &mut latest, Some("echo")), m).unwrap();
    assert_eq!(typed.place, Place::CommandLine);
    motion.retarget(Some(typed), at(2000), &knobs);
    assert!(motion.moving(at(2010)));

    // Leaving it: straight back to the text, no flight from the bottom.
    let back = Target::of(&common::settled(&conn, &mut latest, Some("<Esc>")), m).unwrap();
    assert_eq!(back.place, Place::Editor);
    assert_eq!(back.rect, far.rect, "back on the cell it left");
    motion.retarget(Some(back), at(3000), &knobs);
    assert!(!motion.moving(at(3000)), "shown where it is at once");

    // A message in normal mode does not move the cursor to the bottom.
    let message = ":echo 'a message'<CR>";
    let after = Target::of(&common::settled(&conn, &mut latest, Some(message)), m).unwrap();
    motion.retarget(Some(after), at(4000), &knobs);
    assert_eq!(after.place, Place::Editor);
    assert!(!motion.moving(at(4000)));

    // Typing one character in insert mode: the short slide.
    common::settled(&conn, &mut latest, Some("i"));
    let before = Target::of(latest.as_ref().unwrap(), m).unwrap();
    motion.retarget(Some(before), at(5000), &knobs);
    let typed = Target::of(&common::settled(&conn, &mut latest, Some("x")), m).unwrap();
    assert!(typed.insert);
    motion.retarget(Some(typed), at(6000), &knobs);
    assert!(motion.moving(at(6020)));
    assert!(!motion.moving(at(6040)), "a typed character's slide takes cursor_short_animation_length");
}
