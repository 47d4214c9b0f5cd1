//! Counting global allocator: `used_memory` for INFO and maxmemory, as Redis's zmalloc.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};

static USED: AtomicIsize = AtomicIsize::new(0);

/// Smallest request that may get address space instead of memory (see `reserve`).
const RESERVE_MIN: usize = 1 << 30;
/// Live reserved regions; they only live between a lying count and its decode error.
static RESERVED: [AtomicUsize; 16] = [const { AtomicUsize::new(0) }; 16];

/// kafka-protocol 0.18 sizes `Vec::with_capacity(count)` by an array count read off the
/// wire before decoding a single element (upstream kafka-protocol-rs PRs #152, #161, #200,
/// not released), so a 14-byte request can ask for hundreds of GB and the default
/// allocation-error handler would abort the whole server. When the system allocator
/// refuses such a request, hand out address space without committing memory
/// (MAP_NORESERVE): only the pages of elements that really arrive are touched, and the
/// decode error that follows frees the region. Not counted in used_memory.
unsafe fn reserve(layout: Layout) -> *mut u8 {
    if layout.size() < RESERVE_MIN || layout.align() > 4096 {
        return std::ptr::null_mut();
    }
    // SAFETY: a fresh anonymous private mapping; no existing memory is affected.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            layout.size(),
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return std::ptr::null_mut();
    }
    for slot in &RESERVED {
        if slot
            .compare_exchange(0, p as usize, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            return p.cast();
        }
    }
    // SAFETY: unmapping the mapping created above, never handed out.
    unsafe { libc::munmap(p, layout.size()) };
    std::ptr::null_mut()
}

/// Unmaps `ptr` if `reserve` handed it out.
unsafe fn release(ptr: *mut u8, size: usize) -> bool {
    if size < RESERVE_MIN {
        return false;
    }
    for slot in &RESERVED {
        if slot.load(Ordering::Acquire) == ptr as usize {
            // SAFETY: `ptr` and `size` describe a live mapping from `reserve`.
            unsafe { libc::munmap(ptr.cast(), size) };
            slot.store(0, Ordering::Release);
            return true;
        }
    }
    false
}

fn is_reserved(ptr: *mut u8, size: usize) -> bool {
    size >= RESERVE_MIN
        && RESERVED
            .iter()
            .any(|s| s.load(Ordering::Acquire) == ptr as usize)
}

/// Wraps the system allocator, counting live bytes.
pub struct Counting;

// SAFETY: forwards every call to `System`, adding a relaxed counter; requests the system
// refuses may be served by `reserve`, whose regions are only ever freed by `release`.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            // SAFETY: as above.
            return unsafe { reserve(layout) };
        }
        USED.fetch_add(layout.size() as isize, Ordering::Relaxed);
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        if unsafe { release(ptr, layout.size()) } {
            return;
        }
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        USED.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            // SAFETY: as above; fresh anonymous mappings are zero-filled.
            return unsafe { reserve(layout) };
        }
        USED.fetch_add(layout.size() as isize, Ordering::Relaxed);
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if is_reserved(ptr, layout.size()) {
            // SAFETY: a valid layout for the new size (same alignment), as the caller's.
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            // SAFETY: as `alloc`.
            let q = unsafe { self.alloc(new_layout) };
            if !q.is_null() {
                // SAFETY: both regions are live and at least this long; they are distinct.
                unsafe {
                    std::ptr::copy_nonoverlapping(ptr, q, layout.size().min(new_size));
                    release(ptr, layout.size());
                }
            }
            return q;
        }
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            USED.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
            return p;
        }
        // SAFETY: a valid layout for the new size (same alignment), as the caller's.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as in `alloc`.
        let q = unsafe { reserve(new_layout) };
        if !q.is_null() {
            // SAFETY: `ptr` is still live (a failed realloc leaves it), `q` is fresh.
            unsafe {
                std::ptr::copy_nonoverlapping(ptr, q, layout.size().min(new_size));
                System.dealloc(ptr, layout);
            }
            USED.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        }
        q
    }
}

/// Bytes currently allocated by the process.
pub fn used_memory() -> usize {
    USED.load(Ordering::Relaxed).max(0) as usize
}

/// Resident set size from /proc (used_memory_rss).
pub fn rss_bytes() -> usize {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<usize>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}
