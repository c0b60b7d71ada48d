//! The macro's table: the declarations, the constructor it was given, and the flags from Sync.
use shadowheap_plugin::{export_plugin, AutPlugin, THREAD_SAFE};
use std::alloc::{GlobalAlloc, Layout, System};
use std::ffi::CStr;

pub struct Tagged {
    tag: usize,
}

unsafe impl GlobalAlloc for Tagged {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        System.alloc(layout)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

export_plugin!(
    Tagged,
    name = "tagged",
    max_align = 64,
    capacity = 1 << 20,
    new = || Tagged { tag: 42 }
);

// The symbol the macro exports, as the harness finds it.
extern "C" {
    fn aut_plugin_v1() -> *const shadowheap_plugin::AutPlugin;
}

#[test]
fn the_table_holds_the_declarations() {
    let t: &AutPlugin = unsafe { &*aut_plugin_v1() };
    assert_eq!(t.abi_version, 2);
    assert_eq!(t.flags, THREAD_SAFE, "Tagged is Sync");
    assert_eq!(
        unsafe { CStr::from_ptr(t.name as *const _) }
            .to_str()
            .unwrap(),
        "tagged"
    );
    assert_eq!((t.max_align, t.capacity), (64, 1 << 20));
    assert!(t.realloc.is_some() && t.alloc_zeroed.is_some() && t.usable_size.is_none());

    assert!(t.create_in.is_none() && t.held_when_empty == 0);
    let i = (t.create.unwrap())();
    assert_eq!(
        unsafe { &*(i as *const Tagged) }.tag,
        42,
        "made by the constructor given"
    );
    assert!((t.alloc)(i, 8, 128).is_null(), "above max_align 64");
    let p = (t.alloc)(i, 8, 64);
    assert_eq!(p as usize % 64, 0);
    (t.dealloc)(i, p, 8, 64);
    (t.destroy)(i);
}
