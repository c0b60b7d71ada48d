//! shadowheap's plugin ABI for Rust: any `GlobalAlloc` becomes a plugin in one line.
//!
//! ```ignore
//! // Cargo.toml: [lib] crate-type = ["cdylib"]
//! //             [dependencies] shadowheap-plugin = { path = "<shadowheap>/bindings/rust" }
//! shadowheap_plugin::export_plugin!(MyAlloc, name = "my_alloc", max_align = 4096, capacity = 0);
//! ```
//!
//! Every instance the harness creates is `MyAlloc::default()`, or what `new = <fn or closure>`
//! (last in the call) returns; dropping it must release everything it holds. `max_align` is the
//! largest alignment it serves; `capacity` bounds its live bytes (0: no bound). Thread safety
//! follows from `Sync`, as a `#[global_allocator]` requires: a `Sync` allocator is declared
//! thread-safe and is also checked with threads (ops on several threads, and the stress mode),
//! unless the call says `thread_safe = false` (an allocator that is `Sync` only to be a global
//! allocator of a single-threaded program).
//!
//! An allocator that takes its memory from the host's memory source (plugin ABI version 2, as a
//! `GlobalAlloc` over a page source is written: pages from `mmap`, here from the harness) is made
//! by a function of the `Source`, and declares what it holds once every block is freed:
//!
//! ```ignore
//! shadowheap_plugin::export_plugin!(MyHeap, name = "my_heap", max_align = 4096, capacity = 0,
//!                                   source = MyHeap::new_in, held_when_empty = 1 << 20);
//! ```
//!
//! The harness refuses its requests on purpose (each in turn), and checks that every chunk comes
//! back by the time the instance is dropped. `regains_capacity = true` (after `held_when_empty`)
//! declares that, once every block is freed, it serves again whatever it served when new.
//!
//! At the boundary, so that the harness tests the allocator and not this shim, requests that
//! `GlobalAlloc` forbids never reach it and are answered NULL: size 0, an alignment that is not
//! a power of two or is above `max_align`, a size that `Layout` cannot hold (above `isize::MAX`
//! once rounded up to the alignment). A panic inside the allocator aborts the process (it may
//! not unwind into C), which the harness reports as a crash, with the panic message.
use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;
use std::marker::PhantomData;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr::null_mut;

/// `AUT_ABI_VERSION` of include/shadowheap/aut_plugin.h.
pub const ABI_VERSION: u32 = 2;
/// `AUT_THREAD_SAFE`: every entry point may run concurrently on one instance.
pub const THREAD_SAFE: u32 = 1;
/// `AUT_USES_SOURCE`: made by `create_in`, over the host's memory source.
pub const USES_SOURCE: u32 = 2;
/// `AUT_REGAINS_CAPACITY`: every block freed, it serves again whatever it served when new.
pub const REGAINS_CAPACITY: u32 = 4;

/// `aut_source` of include/shadowheap/aut_plugin.h.
#[repr(C)]
pub struct AutSource {
    pub acquire: extern "C" fn(*mut AutSource, usize, usize) -> *mut c_void,
    pub release: extern "C" fn(*mut AutSource, *mut c_void, usize),
}

/// The host's memory source, valid while the instance made over it lives: chunks of `bytes`
/// aligned to `align` (a power of two up to 16 MiB), or null, and given back with the same size.
#[derive(Clone, Copy)]
pub struct Source(*mut AutSource);

// The host's source may be called from any thread.
unsafe impl Send for Source {}
unsafe impl Sync for Source {}

impl Source {
    /// # Safety
    /// `source` is the pointer `create_in` received.
    pub unsafe fn from_raw(source: *mut AutSource) -> Source {
        Source(source)
    }
    /// A chunk of at least `bytes` bytes aligned to `align`, or null.
    pub fn acquire(&self, bytes: usize, align: usize) -> *mut u8 {
        unsafe { ((*self.0).acquire)(self.0, bytes, align) as *mut u8 }
    }
    /// Gives back a chunk `acquire` returned, with the `bytes` it was asked for.
    pub fn release(&self, chunk: *mut u8, bytes: usize) {
        unsafe { ((*self.0).release)(self.0, chunk as *mut c_void, bytes) }
    }
}

/// The table of include/shadowheap/aut_plugin.h, field for field.
#[repr(C)]
pub struct AutPlugin {
    pub abi_version: u32,
    pub flags: u32,
    pub name: *const u8,
    pub max_align: usize,
    pub capacity: usize,
    pub create: Option<extern "C" fn() -> *mut c_void>,
    pub destroy: extern "C" fn(*mut c_void),
    pub alloc: extern "C" fn(*mut c_void, usize, usize) -> *mut c_void,
    pub dealloc: extern "C" fn(*mut c_void, *mut c_void, usize, usize),
    pub realloc:
        Option<extern "C" fn(*mut c_void, *mut c_void, usize, usize, usize) -> *mut c_void>,
    pub alloc_zeroed: Option<extern "C" fn(*mut c_void, usize, usize) -> *mut c_void>,
    pub usable_size: Option<extern "C" fn(*mut c_void, *const c_void) -> usize>,
    pub create_in: Option<extern "C" fn(*mut AutSource) -> *mut c_void>,
    pub held_when_empty: usize,
}

// The table is immutable; its name points at a static string.
unsafe impl Sync for AutPlugin {}

/// The ABI's entry points for allocator `A` serving alignments up to `MAX_ALIGN`.
pub struct Shim<A, const MAX_ALIGN: usize>(PhantomData<A>);

fn no_unwind<R>(f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(_) => std::process::abort(), // the panic hook has printed the message
    }
}

impl<A: GlobalAlloc, const MAX_ALIGN: usize> Shim<A, MAX_ALIGN> {
    /// The layout of a request the allocator may be asked, or None.
    pub fn layout(size: usize, align: usize) -> Option<Layout> {
        if size == 0 || align > MAX_ALIGN {
            return None;
        }
        Layout::from_size_align(size, align).ok()
    }

    /// Boxes a new instance (the macro's `create`).
    pub fn create(new: impl FnOnce() -> A) -> *mut c_void {
        no_unwind(|| Box::into_raw(Box::new(new())) as *mut c_void)
    }

    fn get<'a>(instance: *mut c_void) -> &'a A {
        unsafe { &*(instance as *const A) }
    }

    pub extern "C" fn destroy(instance: *mut c_void) {
        no_unwind(|| drop(unsafe { Box::from_raw(instance as *mut A) }))
    }

    pub extern "C" fn alloc(instance: *mut c_void, size: usize, align: usize) -> *mut c_void {
        match Self::layout(size, align) {
            Some(l) => no_unwind(|| unsafe { Self::get(instance).alloc(l) as *mut c_void }),
            None => null_mut(),
        }
    }

    pub extern "C" fn alloc_zeroed(
        instance: *mut c_void,
        size: usize,
        align: usize,
    ) -> *mut c_void {
        match Self::layout(size, align) {
            Some(l) => no_unwind(|| unsafe { Self::get(instance).alloc_zeroed(l) as *mut c_void }),
            None => null_mut(),
        }
    }

    pub extern "C" fn dealloc(instance: *mut c_void, ptr: *mut c_void, size: usize, align: usize) {
        // The block was allocated with this layout, so it is one.
        let l = unsafe { Layout::from_size_align_unchecked(size, align) };
        no_unwind(|| unsafe { Self::get(instance).dealloc(ptr as *mut u8, l) })
    }

    pub extern "C" fn realloc(
        instance: *mut c_void,
        ptr: *mut c_void,
        old_size: usize,
        align: usize,
        new_size: usize,
    ) -> *mut c_void {
        if Self::layout(new_size, align).is_none() {
            return null_mut();
        }
        let old = unsafe { Layout::from_size_align_unchecked(old_size, align) };
        no_unwind(|| unsafe {
            Self::get(instance).realloc(ptr as *mut u8, old, new_size) as *mut c_void
        })
    }
}

/// Whether `T` is `Sync`, decided at compile time by method resolution (`is_sync!`): the probe's
/// `IsSync` method applies only when `T: Sync`, and otherwise the one of `NotSync`, one
/// reference further, is found.
pub struct Probe<T>(pub PhantomData<T>);
pub trait IsSync {
    fn thread_safe(&self) -> bool {
        true
    }
}
impl<T: Sync> IsSync for Probe<T> {}
pub trait NotSync {
    fn thread_safe(&self) -> bool {
        false
    }
}
impl<T> NotSync for &Probe<T> {}

/// `true` when the type is `Sync`.
#[macro_export]
macro_rules! is_sync {
    ($t:ty) => {{
        #[allow(unused_imports)]
        use $crate::{IsSync as _, NotSync as _};
        (&$crate::Probe::<$t>(::std::marker::PhantomData)).thread_safe()
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __shadowheap_new {
    ($t:ty) => {
        <$t as ::std::default::Default>::default
    };
    ($t:ty, $new:expr) => {
        $new
    };
}

/// Exports `$t: GlobalAlloc` as this library's plugin (`aut_plugin_v1`). See the crate's top.
#[macro_export]
macro_rules! export_plugin {
    ($t:ty, name = $name:literal, max_align = $max_align:expr, capacity = $capacity:expr,
     source = $new_in:expr, held_when_empty = $held:expr $(, regains_capacity = $regains:expr)?
     $(, thread_safe = $thread_safe:expr)? $(,)?) => {
        const _: () = {
            type Shim = $crate::Shim<$t, { $max_align }>;
            extern "C" fn create_in(source: *mut $crate::AutSource) -> *mut ::std::ffi::c_void {
                Shim::create(|| ($new_in)(unsafe { $crate::Source::from_raw(source) }))
            }
            const FLAGS: u32 = $crate::USES_SOURCE
                | if false $(|| $regains)? { $crate::REGAINS_CAPACITY } else { 0 };
            $crate::__shadowheap_table!($t, $name, $max_align, $capacity, None, Some(create_in),
                                        $held, FLAGS $(, $thread_safe)?);
        };
    };
    ($t:ty, name = $name:literal, max_align = $max_align:expr, capacity = $capacity:expr
     $(, thread_safe = $thread_safe:expr)? $(, new = $new:expr)? $(,)?) => {
        const _: () = {
            type Shim = $crate::Shim<$t, { $max_align }>;
            extern "C" fn create() -> *mut ::std::ffi::c_void {
                Shim::create($crate::__shadowheap_new!($t $(, $new)?))
            }
            $crate::__shadowheap_table!($t, $name, $max_align, $capacity, Some(create), None, 0, 0
                                        $(, $thread_safe)?);
        };
    };
}

/// The table and `aut_plugin_v1`, inside `export_plugin!`'s block (where `Shim` is defined).
#[doc(hidden)]
#[macro_export]
macro_rules! __shadowheap_table {
    ($t:ty, $name:literal, $max_align:expr, $capacity:expr, $create:expr, $create_in:expr,
     $held:expr, $flags:expr $(, $thread_safe:expr)?) => {
        const fn table(flags: u32) -> $crate::AutPlugin {
            $crate::AutPlugin {
                abi_version: $crate::ABI_VERSION,
                flags,
                name: concat!($name, "\0").as_ptr(),
                max_align: $max_align,
                capacity: $capacity,
                create: $create,
                destroy: Shim::destroy,
                alloc: Shim::alloc,
                dealloc: Shim::dealloc,
                realloc: Some(Shim::realloc),
                alloc_zeroed: Some(Shim::alloc_zeroed),
                usable_size: None,
                create_in: $create_in,
                held_when_empty: $held,
            }
        }
        static THREAD_SAFE: $crate::AutPlugin = table($flags | $crate::THREAD_SAFE);
        static SINGLE_THREADED: $crate::AutPlugin = table($flags);
        #[no_mangle]
        pub extern "C" fn aut_plugin_v1() -> *const $crate::AutPlugin {
            let declared = true $(&& $thread_safe)?;
            if declared && $crate::is_sync!($t) {
                &THREAD_SAFE
            } else {
                &SINGLE_THREADED
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::alloc::System;
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// The system allocator, counting the calls that reach it.
    #[derive(Default)]
    struct Counting {
        calls: AtomicUsize,
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.calls.fetch_add(1, Ordering::Relaxed);
            System.alloc(layout)
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            self.calls.fetch_add(1, Ordering::Relaxed);
            System.dealloc(ptr, layout)
        }
    }

    type S = Shim<Counting, 4096>;

    fn calls(instance: *mut c_void) -> usize {
        unsafe { &*(instance as *const Counting) }
            .calls
            .load(Ordering::Relaxed)
    }

    #[test]
    fn requests_global_alloc_forbids_never_reach_the_allocator() {
        let i = S::create(Counting::default);
        assert!(S::alloc(i, 0, 8).is_null(), "size 0");
        assert!(S::alloc(i, 8, 8192).is_null(), "alignment above max_align");
        assert!(S::alloc(i, 8, 3).is_null(), "alignment not a power of two");
        assert!(
            S::alloc(i, usize::MAX, 8).is_null(),
            "size above isize::MAX"
        );
        assert!(
            S::alloc(i, isize::MAX as usize, 16).is_null(),
            "above isize::MAX once rounded"
        );
        assert!(S::alloc_zeroed(i, 0, 8).is_null());
        assert!(S::alloc_zeroed(i, usize::MAX - 8, 8).is_null());
        assert_eq!(calls(i), 0);

        let p = S::alloc(i, 24, 8);
        assert!(!p.is_null());
        assert_eq!(calls(i), 1);
        unsafe { std::ptr::write_bytes(p as *mut u8, 7, 24) };
        assert!(S::realloc(i, p, 24, 8, 0).is_null(), "realloc to 0");
        assert!(
            S::realloc(i, p, 24, 8, usize::MAX - 1).is_null(),
            "realloc above isize::MAX"
        );
        assert_eq!(calls(i), 1, "refused reallocs leave the block alone");
        let q = S::realloc(i, p, 24, 8, 100); // GlobalAlloc's default: alloc, copy, dealloc
        assert_eq!(unsafe { *(q as *const u8).add(23) }, 7);
        assert_eq!(calls(i), 3);
        S::dealloc(i, q, 100, 8);
        assert_eq!(calls(i), 4);
        S::destroy(i);
    }

    #[test]
    fn alloc_zeroed_reaches_the_allocator_and_is_zero() {
        let i = S::create(Counting::default);
        let p = S::alloc_zeroed(i, 4096, 4096);
        assert_eq!(p as usize % 4096, 0);
        assert!(unsafe { std::slice::from_raw_parts(p as *const u8, 4096) }
            .iter()
            .all(|&b| b == 0));
        S::dealloc(i, p, 4096, 4096);
        assert_eq!(calls(i), 2);
        S::destroy(i);
    }

    #[test]
    fn thread_safety_follows_sync() {
        assert!(is_sync!(Counting));
        assert!(!is_sync!(Cell<usize>));
    }
}
