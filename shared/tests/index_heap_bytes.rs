//! `Index::heap_bytes` against what the allocator really holds: a counting
//! global allocator (this test binary's own) measures the bytes an index
//! keeps after it is built, and the estimate must stay close to it, or the
//! worker's knowledge-base cache (16 MiB per isolate, by this estimate)
//! would not bound what it claims to.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::sync::Mutex;

use edgechat_shared::retrieval::Index;

/// The system allocator, counting the bytes currently allocated.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::SeqCst);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::SeqCst);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::SeqCst);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// One measurement at a time: tests of this binary run on several threads.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

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
/// articles themselves made before counting), and the index's estimate.
fn measured_and_estimated(n: usize) -> (usize, usize) {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner());
    let articles = articles(n);
    let before = LIVE.load(Ordering::SeqCst);
    let index = Index::build(articles.iter().map(|(t, b)| (t.as_str(), b.as_str())));
    let measured = (LIVE.load(Ordering::SeqCst) - before) as usize;
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
