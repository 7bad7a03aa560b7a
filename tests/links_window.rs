//! Links in a real window under Xvfb: text with nvim's `url` highlight
//! attribute opens with Ctrl+click in the configured opener (a script here,
//! set through `url_opener` in config.toml), a plain click still goes to
//! nvim, and the pointer is a hand while Ctrl is held over a link.

mod common;

use common::window::*;

use std::path::Path;
use std::time::Duration;

use vireo::render::font::Fonts;

/// Characters a shell would act on: the opener must get them as they are.
const URL: &str = "https://example.com/search?q=$(id)&x='y';z#`top`";

/// The centre of screen cell (`row`, `col`) in window pixels.
fn cell_centre(row: u32, col: u32) -> (String, String) {
    let m = Fonts::bundled(1.0).metrics();
    ((col * m.width + m.width / 2).to_string(), (row * m.height + m.height / 2).to_string())
}

/// The X cursor under the pointer: its name (libXcursor names the cursors
/// it loads from a theme) and its image with the hot spot.
fn pointer(display: &str) -> (String, Vec<u32>) {
    use x11rb::protocol::xfixes::ConnectionExt as _;
    let (conn, _) = x11rb::connect(Some(display)).expect("an X connection");
    conn.xfixes_query_version(5, 0).unwrap().reply().unwrap();
    let reply = conn.xfixes_get_cursor_image_and_name().unwrap().reply().unwrap();
    let mut image = reply.cursor_image;
    image.extend([reply.width, reply.height, reply.xhot, reply.yhot].map(u32::from));
    (String::from_utf8_lossy(&reply.name).into_owned(), image)
}

/// Whether a pointer image has any visible pixel.
fn shown(image: &[u32]) -> bool {
    image.iter().any(|p| p >> 24 != 0)
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn ctrl_click_opens_a_link_and_a_plain_click_moves_the_cursor() {
    let name = "links";
    // The opener appends its arguments, one line each, and a line "--".
    let opened = temp("links-opened.txt");
    let opener = temp("links-opener.sh");
    write_executable(
        &opener,
        &format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> {0}\necho -- >> {0}\n",
            opened.display()
        ),
    );
    // The session's own config folder (see Session::launch).
    let config = temp(&format!("{name}-config")).join("vireo");
    std::fs::create_dir_all(&config).unwrap();
    std::fs::write(config.join("config.toml"), format!("url_opener = {:?}\n", opener.to_str().unwrap()))
        .unwrap();

    let (s, socket) = Session::start_listening(name, "80x8");
    let lua = temp("links.lua");
    std::fs::write(
        &lua,
        format!(
            "vim.api.nvim_buf_set_lines(0, 0, -1, false, {{'see LINK and FILE here', 'second line'}})\n\
             local ns = vim.api.nvim_create_namespace('vireo-links')\n\
             vim.api.nvim_buf_set_extmark(0, ns, 0, 4, {{end_col = 8, url = [[{URL}]]}})\n\
             vim.api.nvim_buf_set_extmark(0, ns, 0, 13, {{end_col = 17, url = 'file:///etc/passwd'}})\n\
             vim.api.nvim_win_set_cursor(0, {{2, 0}})\n"
        ),
    )
    .unwrap();
    remote_expr(&socket, &format!("execute('luafile {}')", lua.display()));
    s.wait_row(0, "see LINK and FILE here");
    // The url reaches vireo's model with the text's highlight.
    wait_for("the link in vireo's model", Duration::from_secs(30), || {
        let frame = s.frame()?;
        let url = vireo::input::links::url_at(&frame, 0, 4)?;
        (&*url == URL && vireo::input::links::url_at(&frame, 0, 3).is_none()).then_some(())
    });
    let cursor = || remote_expr(&socket, "line('.') .. ',' .. col('.')");
    assert_eq!(cursor(), "2,1");
    s.xdotool(&["windowfocus", "--sync", &s.window]);
    std::thread::sleep(Duration::from_millis(300));

    // Over the link without Ctrl: the arrow. Ctrl held: a hand. Released: no hand.
    let (x, y) = cell_centre(0, 5);
    s.xdotool(&["mousemove", &x, &y]);
    let arrow = wait_for("the pointer over the window", Duration::from_secs(30), || {
        let (name, image) = pointer(&s.display);
        shown(&image).then_some((name, image))
    });
    s.xdotool(&["keydown", "ctrl"]);
    let hand = wait_for("a hand over the link while Ctrl is held", Duration::from_secs(30), || {
        // Shown: holding Ctrl alone does not hide it ('mousehide' is on).
        Some(pointer(&s.display)).filter(|p| p.1 != arrow.1 && shown(&p.1))
    });
    eprintln!("pointer names: arrow {:?}, over a link with Ctrl {:?}", arrow.0, hand.0);
    if !hand.0.is_empty() {
        assert!(
            ["pointer", "hand2", "hand1", "hand", "pointing_hand"].contains(&hand.0.as_str()),
            "{}",
            hand.0
        );
    }
    // Ctrl held, the pointer moves off the link and back.
    let (x2, y2) = cell_centre(0, 2);
    s.xdotool(&["mousemove", &x2, &y2]);
    wait_for("no hand off the link", Duration::from_secs(30), || {
        (pointer(&s.display).1 != hand.1).then_some(())
    });
    s.xdotool(&["mousemove", &x, &y]);
    wait_for("the hand back on the link", Duration::from_secs(30), || {
        (pointer(&s.display).1 == hand.1).then_some(())
    });

    // Ctrl+click: the opener gets exactly the URL; nvim gets no click.
    s.xdotool(&["click", "1"]);
    s.xdotool(&["keyup", "ctrl"]);
    let text = wait_for("the opener to run", Duration::from_secs(30), || {
        std::fs::read_to_string(&opened).ok().filter(|t| t.ends_with("--\n"))
    });
    assert_eq!(text, format!("{URL}\n--\n"));
    // (The arrow vireo sets back can differ from the window's first
    // pointer, which it takes from the root window under Xvfb.)
    let back = wait_for("no hand once Ctrl is released", Duration::from_secs(30), || {
        Some(pointer(&s.display)).filter(|p| p.1 != hand.1)
    });
    eprintln!("pointer name after Ctrl is released: {:?}", back.0);
    assert!(!["pointer", "hand2", "hand1", "hand", "pointing_hand"].contains(&back.0.as_str()), "{}", back.0);
    assert_eq!(cursor(), "2,1", "the Ctrl+click reached nvim");

    // A plain click on the link goes to nvim: the cursor moves there.
    let (x, y) = cell_centre(0, 6);
    s.xdotool(&["mousemove", &x, &y, "click", "1"]);
    wait_for("the plain click to move the cursor", Duration::from_secs(30), || {
        (cursor() == "1,7").then_some(())
    });

    // A file: link is refused with a message in nvim, and the opener does not run.
    let (x, y) = cell_centre(0, 14);
    s.xdotool(&["mousemove", &x, &y, "keydown", "ctrl", "click", "1", "keyup", "ctrl"]);
    let messages = wait_for("the refusal in :messages", Duration::from_secs(30), || {
        Some(remote_expr(&socket, "execute('messages')")).filter(|m| m.contains("file: links"))
    });
    assert!(messages.contains("vireo: file: links do not open, only http, https, ftp, mailto"), "{messages}");
    assert_eq!(cursor(), "1,7", "the refused Ctrl+click reached nvim");

    // One more Ctrl+click on the link: the opener ran twice in all, so the
    // plain click and the refused link never ran it.
    let (x, y) = cell_centre(0, 7);
    s.xdotool(&["mousemove", &x, &y, "keydown", "ctrl", "click", "1", "keyup", "ctrl"]);
    let text = wait_for("the opener to run again", Duration::from_secs(30), || {
        std::fs::read_to_string(&opened).ok().filter(|t| t.matches("--\n").count() == 2)
    });
    assert_eq!(text, format!("{URL}\n--\n{URL}\n--\n"));

    // Ctrl held over plain text: no hand until nvim puts a link there.
    let (x, y) = cell_centre(1, 2);
    s.xdotool(&["mousemove", &x, &y, "keydown", "ctrl"]);
    std::thread::sleep(Duration::from_millis(300));
    assert_ne!(pointer(&s.display).1, hand.1, "a hand over plain text");
    remote_expr(
        &socket,
        "luaeval('vim.api.nvim_buf_set_extmark(0, vim.api.nvim_create_namespace(\"vireo-links\"), \
         1, 0, {end_col = 6, url = \"https://example.org/\"})')",
    );
    wait_for("a hand once a link is drawn under the pointer", Duration::from_secs(30), || {
        (pointer(&s.display).1 == hand.1).then_some(())
    });
    s.xdotool(&["keyup", "ctrl"]);

    for path in [&opened, &opener, &lua, &socket] {
        std::fs::remove_file(path).ok();
    }
}
