//! An allocator written in Rust, tested by shadowheap through the plugin ABI.
//!
//!   rustc --edition 2021 --crate-type cdylib -O lib.rs -o librust_example.so
//!   ci/fuzz.sh --plugin ./librust_example.so ; ci/test.sh --plugin ./librust_example.so
//!
//! The allocator is a `GlobalAlloc`: a bump arena of 1 MiB that frees only its most recent block
//! (as Rust's own bump allocators do). It is `Sync`, as a `#[global_allocator]` must be: its state
//! sits behind a lock, so the plugin declares thread safety (AUT_THREAD_SAFE) and is checked with
//! threads too. The `extern "C"` shim below maps the ABI's functions one to one onto `GlobalAlloc`
//! (alloc, dealloc, realloc, alloc_zeroed); no crates are needed.
use std::alloc::{alloc, dealloc, GlobalAlloc, Layout};
use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::Mutex;

const ARENA: usize = 1 << 20;
const ARENA_ALIGN: usize = 4096;
const AUT_THREAD_SAFE: u32 = 1;

struct State {
    top: usize,
    last: usize, // offset of the most recent block, or usize::MAX
}

pub struct Bump {
    base: *mut u8,
    state: Mutex<State>,
}

// The arena's base pointer is only read; everything that changes is behind the lock.
unsafe impl Sync for Bump {}

unsafe impl GlobalAlloc for Bump {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut s = self.state.lock().unwrap();
        let start = (s.top + layout.align() - 1) & !(layout.align() - 1);
        if layout.align() > ARENA_ALIGN || start > ARENA || layout.size() > ARENA - start {
            return null_mut();
        }
        s.last = start;
        s.top = start + layout.size();
        self.base.add(start)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        let offset = ptr as usize - self.base as usize;
        let mut s = self.state.lock().unwrap();
        if offset == s.last {
            s.top = offset;
            s.last = usize::MAX;
        }
    }
}

#[repr(C)]
pub struct AutPlugin {
    abi_version: u32,
    flags: u32,
    name: *const u8,
    max_align: usize,
    capacity: usize,
    create: extern "C" fn() -> *mut c_void,
    destroy: extern "C" fn(*mut c_void),
    alloc: extern "C" fn(*mut c_void, usize, usize) -> *mut c_void,
    dealloc: extern "C" fn(*mut c_void, *mut c_void, usize, usize),
    realloc: Option<extern "C" fn(*mut c_void, *mut c_void, usize, usize, usize) -> *mut c_void>,
    alloc_zeroed: Option<extern "C" fn(*mut c_void, usize, usize) -> *mut c_void>,
    usable_size: Option<extern "C" fn(*mut c_void, *const c_void) -> usize>,
}

unsafe impl Sync for AutPlugin {}

fn bump<'a>(instance: *mut c_void) -> &'a Bump {
    unsafe { &*(instance as *const Bump) }
}

// Sizes and alignments the harness may pass that Layout cannot hold (size above isize::MAX
// once rounded) get null, as GlobalAlloc's callers would never ask for them.
fn layout(size: usize, align: usize) -> Option<Layout> {
    Layout::from_size_align(size, align).ok()
}

extern "C" fn create() -> *mut c_void {
    let base = unsafe { alloc(Layout::from_size_align(ARENA, ARENA_ALIGN).unwrap()) };
    if base.is_null() {
        return null_mut();
    }
    let b = Box::new(Bump { base, state: Mutex::new(State { top: 0, last: usize::MAX }) });
    Box::into_raw(b) as *mut c_void
}

extern "C" fn destroy(instance: *mut c_void) {
    let b = unsafe { Box::from_raw(instance as *mut Bump) };
    unsafe { dealloc(b.base, Layout::from_size_align(ARENA, ARENA_ALIGN).unwrap()) };
}

extern "C" fn shim_alloc(instance: *mut c_void, size: usize, align: usize) -> *mut c_void {
    match layout(size, align) {
        Some(l) => unsafe { bump(instance).alloc(l) as *mut c_void },
        None => null_mut(),
    }
}

extern "C" fn shim_alloc_zeroed(instance: *mut c_void, size: usize, align: usize) -> *mut c_void {
    match layout(size, align) {
        Some(l) => unsafe { bump(instance).alloc_zeroed(l) as *mut c_void },
        None => null_mut(),
    }
}

extern "C" fn shim_dealloc(instance: *mut c_void, ptr: *mut c_void, size: usize, align: usize) {
    unsafe { bump(instance).dealloc(ptr as *mut u8, layout(size, align).unwrap()) }
}

extern "C" fn shim_realloc(
    instance: *mut c_void,
    ptr: *mut c_void,
    old_size: usize,
    align: usize,
    new_size: usize,
) -> *mut c_void {
    if layout(new_size, align).is_none() {
        return null_mut();
    }
    let old = layout(old_size, align).unwrap();
    unsafe { bump(instance).realloc(ptr as *mut u8, old, new_size) as *mut c_void }
}

static PLUGIN: AutPlugin = AutPlugin {
    abi_version: 1,
    flags: AUT_THREAD_SAFE,
    name: b"rust_bump\0".as_ptr(),
    max_align: ARENA_ALIGN,
    capacity: ARENA,
    create,
    destroy,
    alloc: shim_alloc,
    dealloc: shim_dealloc,
    realloc: Some(shim_realloc),
    alloc_zeroed: Some(shim_alloc_zeroed),
    usable_size: None,
};

#[no_mangle]
pub extern "C" fn aut_plugin_v1() -> *const AutPlugin {
    &PLUGIN
}
