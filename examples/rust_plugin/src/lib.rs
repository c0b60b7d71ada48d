//! An allocator written in Rust, tested by shadowheap with one line (the last one):
//!
//!   cargo build --release        # target/release/liblinked_list_example.so
//!   ci/fuzz.sh --plugin target/release/liblinked_list_example.so
//!   ci/test.sh --plugin target/release/liblinked_list_example.so
//!
//! A `GlobalAlloc` of the kind Rust users write for a `#[global_allocator]`: a linked list of
//! free holes in a fixed region of 1 MiB, sorted by address, first fit with the alignment gap
//! kept as a hole, merged with both neighbours on dealloc. It is `Sync` (its state behind a
//! lock), so the plugin is declared thread-safe and checked with threads too. With the feature
//! `seeded_bug`, dealloc merges a hole with the next one when they are less than 64 bytes apart,
//! swallowing the live blocks between them.
use std::alloc::{alloc, dealloc, GlobalAlloc, Layout};
use std::ptr::null_mut;
use std::sync::Mutex;

const REGION: usize = 1 << 20;
const REGION_ALIGN: usize = 4096;

struct Hole {
    size: usize,
    next: *mut Hole,
}

const GRAIN: usize = std::mem::size_of::<Hole>(); // holes start and end on it

fn round_up(n: usize, to: usize) -> usize {
    (n + to - 1) & !(to - 1)
}

pub struct LinkedList {
    base: *mut u8,
    head: Mutex<*mut Hole>, // the first hole, or null
}

// The holes are reached only through the lock.
unsafe impl Sync for LinkedList {}
unsafe impl Send for LinkedList {}

impl Default for LinkedList {
    fn default() -> Self {
        let base = unsafe { alloc(Layout::from_size_align(REGION, REGION_ALIGN).unwrap()) };
        let hole = base as *mut Hole;
        unsafe {
            hole.write(Hole {
                size: REGION,
                next: null_mut(),
            })
        };
        LinkedList {
            base,
            head: Mutex::new(hole),
        }
    }
}

impl Drop for LinkedList {
    fn drop(&mut self) {
        unsafe {
            dealloc(
                self.base,
                Layout::from_size_align(REGION, REGION_ALIGN).unwrap(),
            )
        }
    }
}

unsafe impl GlobalAlloc for LinkedList {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > REGION || layout.align() > REGION {
            return null_mut();
        }
        let need = round_up(layout.size(), GRAIN);
        let align = layout.align().max(GRAIN);
        let mut head = self.head.lock().unwrap();
        let mut link: *mut *mut Hole = &mut *head;
        while !(*link).is_null() {
            let hole = *link;
            let start = round_up(hole as usize, align);
            let gap = start - hole as usize;
            if gap + need <= (*hole).size {
                let tail = (*hole).size - gap - need;
                let mut next = (*hole).next;
                if tail > 0 {
                    let t = (start + need) as *mut Hole;
                    t.write(Hole { size: tail, next });
                    next = t;
                }
                if gap > 0 {
                    (*hole).size = gap;
                    (*hole).next = next;
                } else {
                    *link = next;
                }
                return start as *mut u8;
            }
            link = &mut (*hole).next;
        }
        null_mut()
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let at = ptr as usize;
        let size = round_up(layout.size(), GRAIN);
        let mut head = self.head.lock().unwrap();
        let mut prev: *mut Hole = null_mut();
        let mut next = *head;
        while !next.is_null() && (next as usize) < at {
            prev = next;
            next = (*next).next;
        }
        let hole = ptr as *mut Hole;
        hole.write(Hole { size, next });
        let merges = |end: usize, next: usize| -> bool {
            if cfg!(feature = "seeded_bug") {
                next >= end && next - end < 64
            } else {
                next == end
            }
        };
        if !next.is_null() && merges(at + size, next as usize) {
            (*hole).size = next as usize + (*next).size - at;
            (*hole).next = (*next).next;
        }
        if prev.is_null() {
            *head = hole;
        } else if prev as usize + (*prev).size == at {
            (*prev).size += (*hole).size;
            (*prev).next = (*hole).next;
        } else {
            (*prev).next = hole;
        }
    }
}

#[cfg(not(feature = "seeded_bug"))]
shadowheap_plugin::export_plugin!(
    LinkedList,
    name = "rust_linked_list",
    max_align = 4096,
    capacity = REGION
);
#[cfg(feature = "seeded_bug")]
shadowheap_plugin::export_plugin!(
    LinkedList,
    name = "rust_linked_list_buggy",
    max_align = 4096,
    capacity = REGION
);
