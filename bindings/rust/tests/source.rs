//! `source = ...`: the table of an allocator over the host's memory source (ABI version 2), and
//! the `Source` it is made with, here a counting source of this test's own.
use shadowheap_plugin::{
    export_plugin, AutPlugin, AutSource, Source, REGAINS_CAPACITY, USES_SOURCE,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::c_void;

/// One chunk per block, straight from the source.
pub struct Chunks {
    source: Source,
    live: Cell<usize>,
}

unsafe impl GlobalAlloc for Chunks {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.live.set(self.live.get() + 1);
        self.source.acquire(layout.size(), layout.align())
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.live.set(self.live.get() - 1);
        self.source.release(ptr, layout.size())
    }
}

export_plugin!(
    Chunks,
    name = "chunks",
    max_align = 4096,
    capacity = 0,
    source = |source| Chunks {
        source,
        live: Cell::new(0)
    },
    held_when_empty = 0,
    regains_capacity = true
);

extern "C" {
    fn aut_plugin_v1() -> *const AutPlugin;
}

/// The host's side: acquire and release through System, counted.
#[repr(C)]
struct Counting {
    c: AutSource, // first: the plugin's pointer is this one
    held: Cell<isize>,
}
extern "C" fn acquire(s: *mut AutSource, bytes: usize, align: usize) -> *mut c_void {
    let s = unsafe { &*(s as *const Counting) };
    s.held.set(s.held.get() + bytes as isize);
    unsafe { System.alloc(Layout::from_size_align(bytes, align).unwrap()) as *mut c_void }
}
extern "C" fn release(s: *mut AutSource, chunk: *mut c_void, bytes: usize) {
    let s = unsafe { &*(s as *const Counting) };
    s.held.set(s.held.get() - bytes as isize);
    unsafe { System.dealloc(chunk as *mut u8, Layout::from_size_align(bytes, 1).unwrap()) }
}

#[test]
fn the_table_takes_the_hosts_source() {
    let t: &AutPlugin = unsafe { &*aut_plugin_v1() };
    assert_eq!(t.abi_version, 2);
    assert_eq!(
        t.flags,
        USES_SOURCE | REGAINS_CAPACITY,
        "Chunks is not Sync"
    );
    assert!(t.create.is_none() && t.create_in.is_some());
    assert_eq!(t.held_when_empty, 0);

    let mut host = Counting {
        c: AutSource { acquire, release },
        held: Cell::new(0),
    };
    let i = (t.create_in.unwrap())(&mut host.c);
    let p = (t.alloc)(i, 100, 64);
    assert_eq!(p as usize % 64, 0);
    assert_eq!(
        host.held.get(),
        100,
        "the block came from the host's source"
    );
    (t.dealloc)(i, p, 100, 64);
    assert_eq!(host.held.get(), 0);
    (t.destroy)(i);
}
