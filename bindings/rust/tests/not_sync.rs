//! An allocator that is not Sync is declared single-threaded.
use shadowheap_plugin::export_plugin;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

#[derive(Default)]
pub struct Counted {
    live: Cell<usize>,
}

unsafe impl GlobalAlloc for Counted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.live.set(self.live.get() + 1);
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.live.set(self.live.get() - 1);
        System.dealloc(ptr, layout)
    }
}

export_plugin!(Counted, name = "counted", max_align = 16, capacity = 0);

// The symbol the macro exports, as the harness finds it.
extern "C" {
    fn aut_plugin_v1() -> *const shadowheap_plugin::AutPlugin;
}

#[test]
fn not_sync_is_single_threaded() {
    assert_eq!(unsafe { &*aut_plugin_v1() }.flags, 0);
}
