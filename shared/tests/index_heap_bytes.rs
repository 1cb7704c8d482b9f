//! `Index::heap_bytes` against what the allocator really holds: a counting
//! global allocator (this test binary's own) measures the bytes an index
//! keeps after it is built, and the estimate must stay close to it, or the
//! worker's knowledge-base cache (16 MiB per isolate, by this estimate)
//! would not bound what it claims to.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use edgechat_shared::retrieval::Index;

/// The system allocator, counting the bytes each thread currently holds
/// (allocated less freed on that thread): the test harness and the other
/// tests allocate on their own threads while one measures, and a count
/// shared by all threads took their bytes in (a CI run read 0.75).
struct Counting;

thread_local! {
    // `const`, a `Cell` of a number: reading it never allocates, so the
    // allocator may use it.
    static HELD: Cell<isize> = const { Cell::new(0) };
}

fn count(bytes: isize) {
    // `try_with`: nothing to count once the thread's locals are gone.
    let _ = HELD.try_with(|held| held.set(held.get() + bytes));
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn held() -> isize {
    HELD.with(Cell::get)
}

/// `n` distinct articles of a help centre.
fn articles(n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|i| {
            let title = format!("How do I configure feature{i} for my account{}", i % 7);
            let body = format!(
                "Open the settings{i} page and choose integration{i}. Webhooks, exports and billing{} are described \
                 below.\n\n---\n\nIf the token{i} expires, sign in again and regenerate it within {} minutes.",
                i % 11,
                i * 3
            );
            (title, body)
        })
        .collect()
}

/// The bytes the allocator holds for an index of `n` articles (the
/// articles themselves made before counting; `Index::build` runs on this
/// thread), and the index's estimate.
fn measured_and_estimated(n: usize) -> (usize, usize) {
    let articles = articles(n);
    let before = held();
    let index = Index::build(articles.iter().map(|(t, b)| (t.as_str(), b.as_str())));
    let measured = (held() - before) as usize;
    let estimated = index.heap_bytes();
    drop(index);
    (measured, estimated)
}

#[test]
fn heap_bytes_is_within_15_percent_of_what_the_allocator_holds() {
    for n in [1, 12, 125, 1_000] {
        let (measured, estimated) = measured_and_estimated(n);
        let ratio = estimated as f64 / measured as f64;
        eprintln!("{n} articles: estimated {estimated} bytes, allocator {measured} bytes, ratio {ratio:.3}");
        assert!((0.85..=1.15).contains(&ratio), "{n} articles: estimated {estimated} bytes, the allocator holds {measured} ({ratio:.2})");
    }
}

#[test]
fn heap_bytes_grows_with_the_knowledge_base() {
    let (_, small) = measured_and_estimated(12);
    let (_, large) = measured_and_estimated(1_000);
    assert!(large > 20 * small, "1,000 articles {large} bytes vs 12 articles {small} bytes");
}
