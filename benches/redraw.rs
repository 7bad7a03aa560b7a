//! Decode + apply + publish of recorded nvim streams at 200x60.
//!
//! - `stream/*`: whole recordings, reported as MB/s of msgpack.
//! - `full_screen_redraw`: one page of a syntax-highlighted C file (nvim
//!   repaints nearly every row), the per-keystroke worst case.
//!
//! Re-record the inputs with `tools/record-fixtures.sh`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rmpv::ValueRef;
use vireo::model::Frame;
use vireo::nvim::ui::UiState;
use vireo::replay;

fn load(name: &str) -> Vec<u8> {
    let path = format!("{}/benches/data/{name}.msgpack", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn streams(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream");
    for name in ["scroll-200x60", "pages-200x60"] {
        let bytes = load(name);
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                // Keep the newest frame alive, as the render thread would, so
                // copy-on-write costs are counted.
                let mut held: Option<Frame> = None;
                replay::replay(black_box(&bytes), |f| held = Some(f)).unwrap();
                held
            })
        });
    }
    group.finish();
}

/// True for a message that is a redraw notification containing `flush`.
fn ends_with_flush(msg: &[u8]) -> bool {
    let Ok(ValueRef::Array(items)) = rmpv::decode::read_value_ref(&mut &msg[..]) else {
        return false;
    };
    let Some(ValueRef::Array(batches)) = items.get(2) else {
        return false;
    };
    batches.iter().any(|b| matches!(b, ValueRef::Array(e) if e.first().and_then(vireo::rpc::lossy).as_deref() == Some("flush")))
}

fn full_screen_redraw(c: &mut Criterion) {
    let bytes = load("pages-200x60");
    let messages = replay::messages(&bytes).unwrap();
    // Split at flushes: the start-up prefix, then one chunk per page.
    let mut chunks: Vec<Vec<&[u8]>> = vec![Vec::new()];
    for msg in messages {
        chunks.last_mut().unwrap().push(msg);
        if ends_with_flush(msg) {
            chunks.push(Vec::new());
        }
    }
    let prefix_len = 3; // attach, intro, :for typed: the pages follow.
    let mut ui = UiState::new(None);
    let mut held: Option<Frame> = None;
    for chunk in &chunks[..prefix_len] {
        for msg in chunk {
            replay::apply_message(&mut ui, msg, |f| held = Some(f)).unwrap();
        }
    }
    let pages: Vec<&Vec<&[u8]>> = chunks[prefix_len..].iter().filter(|c| !c.is_empty()).collect();
    let page_bytes: usize = pages.iter().map(|p| p.iter().map(|m| m.len()).sum::<usize>()).sum();
    println!(
        "full_screen_redraw: {} pages, {:.1} KiB of msgpack per page on average",
        pages.len(),
        page_bytes as f64 / pages.len() as f64 / 1024.0
    );
    let mut next = 0;
    c.bench_function("full_screen_redraw_200x60", |b| {
        b.iter(|| {
            for msg in pages[next % pages.len()] {
                replay::apply_message(&mut ui, black_box(msg), |f| held = Some(f)).unwrap();
            }
            next += 1;
        })
    });
    black_box(held);
}

/// The worst case: 200x60 cells, each a different character with its own
/// highlight id (no repeats for nvim to compress), then a flush.
fn dense_page(seed: u32) -> Vec<u8> {
    use rmpv::Value;
    let mut batch = vec![Value::from("grid_line")];
    for row in 0..60u32 {
        let cells: Vec<Value> = (0..200u32)
            .map(|col| {
                let ch = char::from_u32(0x21 + (row * 200 + col + seed) % 90).unwrap();
                Value::Array(vec![ch.to_string().into(), ((col + seed) % 40 + 1).into()])
            })
            .collect();
        batch.push(Value::Array(vec![1.into(), row.into(), 0.into(), Value::Array(cells), false.into()]));
    }
    let flush = Value::Array(vec!["flush".into(), Value::Array(vec![])]);
    let msg = Value::Array(vec![2.into(), "redraw".into(), Value::Array(vec![Value::Array(batch), flush])]);
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &msg).unwrap();
    out
}

fn dense_full_screen_redraw(c: &mut Criterion) {
    let resize = {
        use rmpv::Value;
        let ev =
            Value::Array(vec!["grid_resize".into(), Value::Array(vec![1.into(), 200.into(), 60.into()])]);
        let msg = Value::Array(vec![2.into(), "redraw".into(), Value::Array(vec![ev])]);
        let mut out = Vec::new();
        rmpv::encode::write_value(&mut out, &msg).unwrap();
        out
    };
    let pages = [dense_page(0), dense_page(1)];
    println!("dense_full_screen_redraw: {:.1} KiB of msgpack per page", pages[0].len() as f64 / 1024.0);
    let mut ui = UiState::new(None);
    let mut held: Option<Frame> = None;
    replay::apply_message(&mut ui, &resize, |_| {}).unwrap();
    let mut next = 0;
    c.bench_function("dense_full_screen_redraw_200x60", |b| {
        b.iter(|| {
            replay::apply_message(&mut ui, black_box(&pages[next % 2]), |f| held = Some(f)).unwrap();
            next += 1;
        })
    });
    black_box(held);
}

criterion_group!(benches, streams, full_screen_redraw, dense_full_screen_redraw);
criterion_main!(benches);
