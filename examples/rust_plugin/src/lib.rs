//! An allocator written in Rust, tested by shadowheap with one line (the last one):
//!
//!   cargo build --release        # target/release/liblinked_list_example.so
//!   ci/fuzz.sh --plugin target/release/liblinked_list_example.so
//!   ci/test.sh --plugin target/release/liblinked_list_example.so
//!
//! A `GlobalAlloc` of the kind Rust users write for a `#[global_allocator]`: a linked list of
//! free holes, sorted by address, first fit with the alignment gap kept as a hole, merged with
//! both neighbours on dealloc. Its memory comes from a page source, as a global allocator's comes
//! from `mmap`: here the host's (`Source`, plugin ABI version 2), in regions of 1 MiB (or one
//! sized for a larger request) taken when the holes cannot serve a request, up to 8 MiB in all.
//! A region that becomes one whole hole goes back, unless it is the only one left and of the
//! standard size, so an empty heap holds at most 1 MiB (held_when_empty). It is `Sync` (its state
//! behind a lock), so the plugin is declared thread-safe and checked with threads too. With the
//! feature `seeded_bug`, dealloc merges a hole with the next one when they are less than 64 bytes
//! apart, swallowing the live blocks between them.
use shadowheap_plugin::Source;
use std::alloc::{GlobalAlloc, Layout};
use std::ptr::null_mut;
use std::sync::Mutex;

const REGION: usize = 1 << 20;
const REGION_ALIGN: usize = 4096;
const CAPACITY: usize = 8 << 20;

struct Hole {
    size: usize,
    next: *mut Hole,
}

const GRAIN: usize = std::mem::size_of::<Hole>(); // holes start and end on it

fn round_up(n: usize, to: usize) -> usize {
    (n + to - 1) & !(to - 1)
}

pub struct LinkedList {
    source: Source,
    state: Mutex<State>,
}

struct State {
    head: *mut Hole,              // the first hole, or null
    regions: Vec<(usize, usize)>, // (start, bytes) of every region held
}

// The holes are reached only through the lock.
unsafe impl Sync for LinkedList {}
unsafe impl Send for LinkedList {}

impl LinkedList {
    pub fn new_in(source: Source) -> LinkedList {
        LinkedList {
            source,
            state: Mutex::new(State {
                head: null_mut(),
                regions: Vec::new(),
            }),
        }
    }
}

impl Drop for LinkedList {
    fn drop(&mut self) {
        for &(start, bytes) in &self.state.lock().unwrap().regions {
            self.source.release(start as *mut u8, bytes);
        }
    }
}

impl State {
    /// First fit: the start of `need` bytes aligned to `align`, taken from the holes, or None.
    unsafe fn take(&mut self, need: usize, align: usize) -> Option<usize> {
        let mut link: *mut *mut Hole = &mut self.head;
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
                return Some(start);
            }
            link = &mut (*hole).next;
        }
        None
    }

    /// [at, at + size) becomes a hole, merged with its neighbours; returns the merged hole.
    unsafe fn give(&mut self, at: usize, size: usize) -> *mut Hole {
        let mut prev: *mut Hole = null_mut();
        let mut next = self.head;
        while !next.is_null() && (next as usize) < at {
            prev = next;
            next = (*next).next;
        }
        let hole = at as *mut Hole;
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
            self.head = hole;
        } else if prev as usize + (*prev).size == at {
            (*prev).size += (*hole).size;
            (*prev).next = (*hole).next;
            return prev;
        } else {
            (*prev).next = hole;
        }
        hole
    }

    /// Takes `hole` off the list.
    unsafe fn unlink(&mut self, hole: *mut Hole) {
        let mut link: *mut *mut Hole = &mut self.head;
        while *link != hole {
            link = &mut (**link).next;
        }
        *link = (*hole).next;
    }

    /// The region that `hole` covers whole, if any.
    fn whole_region(&self, hole: *mut Hole) -> Option<usize> {
        let size = unsafe { (*hole).size };
        self.regions
            .iter()
            .position(|&(start, bytes)| start == hole as usize && bytes == size)
    }

    /// Gives back regions that are one whole hole, so that a new one fits under CAPACITY.
    unsafe fn release_whole(&mut self, source: &Source) {
        let mut hole = self.head;
        while !hole.is_null() {
            let next = (*hole).next;
            if let Some(i) = self.whole_region(hole) {
                self.unlink(hole);
                let (start, bytes) = self.regions.swap_remove(i);
                source.release(start as *mut u8, bytes);
            }
            hole = next;
        }
    }

    fn held(&self) -> usize {
        self.regions.iter().map(|&(_, bytes)| bytes).sum()
    }
}

unsafe impl GlobalAlloc for LinkedList {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAPACITY || layout.align() > REGION_ALIGN {
            return null_mut();
        }
        let need = round_up(layout.size(), GRAIN);
        let align = layout.align().max(GRAIN);
        let mut state = self.state.lock().unwrap();
        if let Some(start) = state.take(need, align) {
            return start as *mut u8;
        }
        // A new region, with room for the request at any alignment it may ask.
        let bytes = round_up(need + align, REGION_ALIGN).max(REGION);
        if state.held() + bytes > CAPACITY {
            state.release_whole(&self.source);
            if state.held() + bytes > CAPACITY {
                return null_mut();
            }
        }
        let region = self.source.acquire(bytes, REGION_ALIGN);
        if region.is_null() {
            return null_mut();
        }
        state.regions.push((region as usize, bytes));
        state.give(region as usize, bytes);
        match state.take(need, align) {
            Some(start) => start as *mut u8,
            None => null_mut(),
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let size = round_up(layout.size(), GRAIN);
        let mut state = self.state.lock().unwrap();
        let hole = state.give(ptr as usize, size);
        if let Some(i) = state.whole_region(hole) {
            let (start, bytes) = state.regions[i];
            if state.regions.len() > 1 || bytes != REGION {
                state.unlink(hole);
                state.regions.swap_remove(i);
                self.source.release(start as *mut u8, bytes);
            }
        }
    }
}

#[cfg(not(feature = "seeded_bug"))]
shadowheap_plugin::export_plugin!(
    LinkedList,
    name = "rust_linked_list",
    max_align = 4096,
    capacity = CAPACITY,
    source = LinkedList::new_in,
    held_when_empty = REGION
);
#[cfg(feature = "seeded_bug")]
shadowheap_plugin::export_plugin!(
    LinkedList,
    name = "rust_linked_list_buggy",
    max_align = 4096,
    capacity = CAPACITY,
    source = LinkedList::new_in,
    held_when_empty = REGION
);
