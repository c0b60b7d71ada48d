//! A panic inside the allocator aborts the process with its message: it may not unwind into C.
use shadowheap_plugin::Shim;
use std::alloc::{GlobalAlloc, Layout};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

#[derive(Default)]
pub struct Panics;

unsafe impl GlobalAlloc for Panics {
    unsafe fn alloc(&self, _: Layout) -> *mut u8 {
        panic!("the allocator panicked");
    }
    unsafe fn dealloc(&self, _: *mut u8, _: Layout) {}
}

#[test]
fn a_panic_aborts_with_its_message() {
    if std::env::var_os("SHADOWHEAP_PANIC_CHILD").is_some() {
        let i = Shim::<Panics, 16>::create(Panics::default);
        Shim::<Panics, 16>::alloc(i, 8, 8);
        return; // not reached
    }
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["a_panic_aborts_with_its_message", "--exact", "--nocapture"])
        .env("SHADOWHEAP_PANIC_CHILD", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.signal(), Some(6), "SIGABRT");
    assert!(String::from_utf8_lossy(&out.stderr).contains("the allocator panicked"));
}
