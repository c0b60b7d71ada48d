//! A Sync allocator the call declares single-threaded (Sync only to be a global allocator).
use shadowheap_plugin::{export_plugin, is_sync};
use std::alloc::{GlobalAlloc, Layout, System};

#[derive(Default)]
pub struct SingleThreaded;

unsafe impl GlobalAlloc for SingleThreaded {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

export_plugin!(
    SingleThreaded,
    name = "single",
    max_align = 16,
    capacity = 0,
    thread_safe = false
);

// The symbol the macro exports, as the harness finds it.
extern "C" {
    fn aut_plugin_v1() -> *const shadowheap_plugin::AutPlugin;
}

#[test]
fn thread_safe_false_opts_out() {
    assert!(is_sync!(SingleThreaded));
    assert_eq!(unsafe { &*aut_plugin_v1() }.flags, 0);
}
