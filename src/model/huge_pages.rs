//! The visited set's allocator: the global allocator, and for a large table a request
//! that the kernel back it with huge pages.
//!
//! Why: the set is probed at random, one probe per successor of every state. On 4 KB
//! pages a table of several gigabytes has megabytes of page tables, which no cache
//! holds, so nearly every probe also walks the page table. The depth-24 search of
//! `learner_mixes_ballots`' whole scope (an 18 GB table) went from about 85,000 to
//! about 118,000 new states a second once its table was moved onto 2 MB pages
//! (docs/model-checking.md, "Huge pages").
//!
//! The request is `madvise(MADV_HUGEPAGE)`, which Linux honours when transparent huge
//! pages are set to `madvise` (the usual default) or `always`, and ignores when they
//! are `never`. It is advice: it never changes what the memory holds, and a refusal
//! costs nothing, so its result is not checked. Elsewhere than Linux the allocator is
//! the global one.

use allocator_api2::alloc::{AllocError, Allocator, Global};
use std::alloc::Layout;
use std::ptr::NonNull;

/// Tables at least this large ask for huge pages. Below it the page tables of the
/// whole table fit in the CPU's caches and there is nothing to gain, while a huge-page
/// fault may stall to compact memory.
pub const HUGE_PAGE_TABLE_BYTES_MIN: usize = 128 * 1024 * 1024;

/// The global allocator, asking for huge pages under allocations of
/// [`HUGE_PAGE_TABLE_BYTES_MIN`] bytes or more.
#[derive(Debug, Clone, Copy, Default)]
pub struct HugePageAlloc;

// SAFETY: every allocation and deallocation is the global allocator's, unchanged; the
// advice given in between does not touch the memory's contents or its ownership.
unsafe impl Allocator for HugePageAlloc {
    fn allocate(&self, layout: Layout) -> Result<NonNull<[u8]>, AllocError> {
        let block = Global.allocate(layout)?;
        if layout.size() >= HUGE_PAGE_TABLE_BYTES_MIN {
            advise_huge_pages(block);
        }
        Ok(block)
    }

    unsafe fn deallocate(&self, ptr: NonNull<u8>, layout: Layout) {
        // SAFETY: `ptr` was allocated by `Global` with `layout` (the caller's contract
        // for this allocator, and `allocate` above hands out only `Global`'s blocks).
        unsafe { Global.deallocate(ptr, layout) }
    }
}

/// Asks the kernel to back the whole 4 KB pages of `block` with huge pages.
#[cfg(target_os = "linux")]
fn advise_huge_pages(block: NonNull<[u8]>) {
    const PAGE_BYTES: usize = 4096;
    let start = block.cast::<u8>().as_ptr() as usize;
    let end = start.saturating_add(block.len());
    let first_page = start.next_multiple_of(PAGE_BYTES);
    let last_page_end = end / PAGE_BYTES * PAGE_BYTES;
    if last_page_end <= first_page {
        return;
    }
    // SAFETY: the range lies within `block`, which this process owns and which stays
    // allocated for the call; MADV_HUGEPAGE changes how pages are backed, never their
    // contents. A failure (transparent huge pages off) leaves the memory as it was.
    unsafe {
        libc::madvise(
            first_page as *mut libc::c_void,
            last_page_end - first_page,
            libc::MADV_HUGEPAGE,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn advise_huge_pages(_block: NonNull<[u8]>) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The `THPeligible` field of the mapping in /proc/self/smaps that holds `address`.
    fn huge_page_eligible(address: usize) -> Option<bool> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            let range = line.split_whitespace().next().unwrap_or("");
            if let Some((from, to)) = range.split_once('-') {
                if let (Ok(from), Ok(to)) = (
                    usize::from_str_radix(from, 16),
                    usize::from_str_radix(to, 16),
                ) {
                    inside = (from..to).contains(&address);
                    continue;
                }
            }
            if inside {
                if let Some(value) = line.strip_prefix("THPeligible:") {
                    return Some(value.trim() == "1");
                }
            }
        }
        None
    }

    /// A large table's pages are marked for huge pages and a small one's are not, where
    /// the machine leaves that to madvise (the usual default; with huge pages `always`
    /// or `never` every mapping reads alike, and the test says so and checks nothing).
    #[test]
    fn a_large_table_asks_for_huge_pages_and_a_small_one_does_not() {
        let setting = std::fs::read_to_string("/sys/kernel/mm/transparent_hugepage/enabled")
            .unwrap_or_default();
        if !setting.contains("[madvise]") {
            eprintln!("transparent huge pages are not set to madvise ({setting:?}): nothing to tell apart");
            return;
        }
        let eligible_after_allocating = |bytes: usize| {
            let layout = Layout::from_size_align(bytes, 64).unwrap();
            let block = HugePageAlloc.allocate(layout).unwrap();
            // Well inside the block, past any allocator header and the first huge page.
            let probe = block.cast::<u8>().as_ptr() as usize + bytes / 2;
            let eligible = huge_page_eligible(probe);
            // SAFETY: allocated just above by the same allocator with the same layout.
            unsafe { HugePageAlloc.deallocate(block.cast(), layout) };
            eligible
        };
        assert_eq!(
            eligible_after_allocating(HUGE_PAGE_TABLE_BYTES_MIN),
            Some(true),
            "a table of {HUGE_PAGE_TABLE_BYTES_MIN} bytes asks for huge pages"
        );
        assert_eq!(
            eligible_after_allocating(HUGE_PAGE_TABLE_BYTES_MIN / 2),
            Some(false),
            "a table of half that does not"
        );
    }
}
