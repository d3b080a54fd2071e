//! The libc functions libwebp calls (malloc, calloc, free, qsort) and, with the `aom`
//! feature, libaom's allocator and maths (realloc, exp, log, ...), provided from Rust for
//! wasm32-unknown-unknown, which has no libc: the module then imports nothing from `env` and
//! the C libraries' memory comes from the same allocator as ours. (libaom's few string and
//! file functions are C: src/encode/aom/libc.c.)

use std::alloc::{Layout, alloc, alloc_zeroed, dealloc};
use std::ffi::c_void;

/// Each block starts with its size, padded to 16 bytes so the data keeps malloc's alignment.
const HEADER: usize = 16;

unsafe fn allocate(size: usize, zeroed: bool) -> *mut c_void {
    let Some(layout) = size.checked_add(HEADER).and_then(|total| Layout::from_size_align(total, 16).ok()) else {
        return std::ptr::null_mut();
    };
    // SAFETY: the layout has a non-zero size; the header is written inside the block.
    unsafe {
        let base = if zeroed { alloc_zeroed(layout) } else { alloc(layout) };
        if base.is_null() {
            return std::ptr::null_mut();
        }
        base.cast::<usize>().write(size);
        base.add(HEADER).cast()
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn malloc(size: usize) -> *mut c_void {
    unsafe { allocate(size, false) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn calloc(count: usize, size: usize) -> *mut c_void {
    match count.checked_mul(size) {
        Some(total) => unsafe { allocate(total, true) },
        None => std::ptr::null_mut(),
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn free(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` came from `allocate`, which put the size HEADER bytes before it.
    unsafe {
        let base = ptr.cast::<u8>().sub(HEADER);
        let size = base.cast::<usize>().read();
        dealloc(base, Layout::from_size_align_unchecked(size + HEADER, 16));
    }
}

#[cfg(feature = "aom")]
#[unsafe(no_mangle)]
pub unsafe extern "C" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    if ptr.is_null() {
        return unsafe { allocate(size, false) };
    }
    // SAFETY: `ptr` came from `allocate`: its size is HEADER bytes before it.
    unsafe {
        let old = ptr.cast::<u8>().sub(HEADER).cast::<usize>().read();
        let grown = allocate(size, false);
        if !grown.is_null() {
            std::ptr::copy_nonoverlapping(ptr.cast::<u8>(), grown.cast::<u8>(), old.min(size));
            free(ptr);
        }
        grown
    }
}

/// libaom unwinds from internal errors (failed allocations) with longjmp, which wasm32 lacks
/// (src/encode/aom/include/setjmp.h): the instance traps instead and the worker pool replaces
/// the worker, failing only that job (WORKER_CRASHED).
#[cfg(feature = "aom")]
#[unsafe(no_mangle)]
pub extern "C" fn mediaslim_aom_longjmp() -> ! {
    std::process::abort()
}

/// The C maths functions libaom calls, from the `libm` crate (musl's algorithms in Rust).
#[cfg(feature = "aom")]
mod maths {
    macro_rules! export {
        ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
            #[unsafe(no_mangle)]
            pub extern "C" fn $name($($arg: $ty),*) -> $ret { libm::$name($($arg),*) }
        )*};
    }
    export! {
        cos(x: f64) -> f64;
        exp(x: f64) -> f64;
        exp2(x: f64) -> f64;
        expf(x: f32) -> f32;
        fmax(x: f64, y: f64) -> f64;
        log(x: f64) -> f64;
        log10(x: f64) -> f64;
        log1p(x: f64) -> f64;
        log1pf(x: f32) -> f32;
        log2(x: f64) -> f64;
        pow(x: f64, y: f64) -> f64;
        round(x: f64) -> f64;
        roundf(x: f32) -> f32;
        tanh(x: f64) -> f64;
    }

    /// `long` is 32 bits on wasm32; rounding to nearest, ties to even, like C's default mode.
    #[unsafe(no_mangle)]
    pub extern "C" fn lrint(x: f64) -> i32 {
        libm::rint(x) as i32
    }
}

type Compare = unsafe extern "C" fn(*const c_void, *const c_void) -> i32;

#[unsafe(no_mangle)]
pub unsafe extern "C" fn qsort(base: *mut c_void, count: usize, size: usize, compare: Compare) {
    if count < 2 || size == 0 {
        return;
    }
    let base = base.cast::<u8>();
    // SAFETY: the caller passes `count` elements of `size` bytes at `base`.
    unsafe {
        let element = |i: usize| base.add(i * size).cast_const().cast::<c_void>();
        let mut order: Vec<usize> = (0..count).collect();
        order.sort_by(|&a, &b| compare(element(a), element(b)).cmp(&0));
        let mut sorted = Vec::with_capacity(count * size);
        for i in order {
            sorted.extend_from_slice(std::slice::from_raw_parts(base.add(i * size), size));
        }
        std::ptr::copy_nonoverlapping(sorted.as_ptr(), base, count * size);
    }
}
