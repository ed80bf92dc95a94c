//! The library as AFL++ uses it: loaded with `dlopen`, its symbols found with `dlsym`, and
//! `afl_custom_init` / `afl_custom_fuzz` / `afl_custom_describe` / `afl_custom_deinit` called
//! through the C ABI on the repository's attestation seeds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing, clippy::arithmetic_side_effects, clippy::panic, reason = "test code: a failing test is the point")]

use std::ffi::{c_char, c_uint, c_void, CStr, CString};

type Init = unsafe extern "C" fn(*mut c_void, c_uint) -> *mut c_void;
type Fuzz = unsafe extern "C" fn(*mut c_void, *mut u8, usize, *mut *mut u8, *mut u8, usize, usize) -> usize;
type Describe = unsafe extern "C" fn(*mut c_void, usize) -> *const c_char;
type Deinit = unsafe extern "C" fn(*mut c_void);

/// `target/<profile>/deps/libdiverge_afl_mutator.so`, beside this test binary (cargo builds the
/// library's cdylib with the test).
fn library() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap();
    for dir in [deps, deps.parent().unwrap()] {
        let p = dir.join("libdiverge_afl_mutator.so");
        if p.is_file() {
            return p;
        }
    }
    panic!("libdiverge_afl_mutator.so not found beside {}", exe.display());
}

#[allow(unsafe_code, reason = "the test loads the library and calls it through the C ABI, as afl-fuzz does")]
unsafe fn sym<T: Copy>(lib: *mut c_void, name: &str) -> T {
    let c = CString::new(name).unwrap();
    let p = unsafe { libc::dlsym(lib, c.as_ptr()) };
    assert!(!p.is_null(), "symbol {name} not exported");
    unsafe { std::mem::transmute_copy(&p) }
}

/// The tests run one at a time: one sets `DIVERGE_TARGET`, and the loaded library has its own copy
/// of std (its own environment lock), so no other test may read the environment meanwhile.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn seeds() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../corpora/attestation");
    let mut v: Vec<Vec<u8>> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|x| x == "bin")).map(|p| std::fs::read(p).unwrap()).collect();
    v.sort();
    v
}

/// Runs `calls` mutations from a fresh state seeded with `seed`; returns every output.
#[allow(unsafe_code, reason = "C ABI calls into the loaded library")]
fn session(lib: *mut c_void, seed: c_uint, calls: usize, max_size: usize) -> Vec<Vec<u8>> {
    let (init, fuzz, describe, deinit): (Init, Fuzz, Describe, Deinit) =
        unsafe { (sym(lib, "afl_custom_init"), sym(lib, "afl_custom_fuzz"), sym(lib, "afl_custom_describe"), sym(lib, "afl_custom_deinit")) };
    let seeds = seeds();
    let data = unsafe { init(std::ptr::null_mut(), seed) };
    assert!(!data.is_null());
    let mut outs = Vec::new();
    for i in 0..calls {
        let mut buf = seeds[i % seeds.len()].clone();
        let mut add = seeds[(i * 7 + 1) % seeds.len()].clone();
        let mut out: *mut u8 = std::ptr::null_mut();
        let n = unsafe { fuzz(data, buf.as_mut_ptr(), buf.len(), &mut out, add.as_mut_ptr(), add.len(), max_size) };
        assert!(n <= max_size, "{n} > max_size {max_size}");
        if n > 0 {
            assert!(!out.is_null());
            // The output stays valid until the next call: read all of it.
            outs.push(unsafe { std::slice::from_raw_parts(out, n) }.to_vec());
            let d = unsafe { describe(data, 64) };
            assert!(!d.is_null());
            let d = unsafe { CStr::from_ptr(d) }.to_str().unwrap();
            assert!(d.starts_with("diverge-"), "{d}");
            assert!(unsafe { describe(data, 3) }.is_null(), "a description longer than the room must be null");
        } else {
            outs.push(Vec::new());
        }
    }
    // A null state and null buffers are refused without a crash.
    let mut out: *mut u8 = std::ptr::null_mut();
    assert_eq!(unsafe { fuzz(std::ptr::null_mut(), std::ptr::null_mut(), 0, &mut out, std::ptr::null_mut(), 0, 100) }, 0);
    assert_eq!(unsafe { fuzz(data, std::ptr::null_mut(), 10, &mut out, std::ptr::null_mut(), 0, 100) }, 0);
    unsafe { deinit(data) };
    outs
}

#[test]
#[allow(unsafe_code, reason = "dlopen of the cdylib")]
fn init_fuzz_deinit_through_the_c_abi() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    std::env::set_var("DIVERGE_TARGET", "attestation");
    let path = CString::new(library().to_str().unwrap()).unwrap();
    let lib = unsafe { libc::dlopen(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    assert!(!lib.is_null(), "dlopen {path:?} failed");
    let a = session(lib, 42, 300, 1 << 20);
    // The same AFL++ seed gives the same outputs; another seed does not.
    assert_eq!(a, session(lib, 42, 300, 1 << 20));
    assert_ne!(a, session(lib, 43, 300, 1 << 20));
    // Every output differs from the input in most calls, and few are empty.
    let seeds = seeds();
    let changed = a.iter().enumerate().filter(|(i, o)| **o != seeds[i % seeds.len()]).count();
    assert!(changed >= 270, "only {changed}/300 outputs differ from their input");
    // A small max_size is honoured (checked inside `session`).
    let small = session(lib, 7, 100, 40);
    assert!(small.iter().all(|o| o.len() <= 40));
}

#[test]
fn target_from_env_or_arguments() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    use diverge::target::Target;
    use diverge_afl_mutator::target_from;
    assert_eq!(target_from(Some("block"), Vec::new()), Ok(Target::Block));
    assert!(target_from(Some("nope"), Vec::new()).unwrap_err().contains("attestation"));
    let args = ["afl-fuzz", "-i", "corpora/attestation", "-o", "out", "--", "targets/target/afl/release/voluntary_exit"].map(String::from);
    assert_eq!(target_from(None, args.clone()), Ok(Target::VoluntaryExit));
    assert_eq!(target_from(Some(""), args), Ok(Target::VoluntaryExit));
    assert!(target_from(None, ["afl-fuzz".to_string()]).unwrap_err().contains("DIVERGE_TARGET"));
}

/// AFL++'s FrameShift writes the parent's length fields into the returned buffer at offsets below
/// the parent's length: the buffer keeps that room whatever the output's length.
#[test]
fn output_buffer_has_room_for_the_parent() {
    let _serial = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    use diverge::target::Target;
    use diverge_afl_mutator::Mutator;
    let mut m = Mutator::new(Target::Attestation, 3);
    for (i, s) in seeds().iter().enumerate() {
        for max in [4, 40, 1 << 20] {
            let n = m.fuzz(s, seeds().get(i + 1).map(Vec::as_slice), max).len();
            assert!(n <= max);
            assert!(m.capacity() >= s.len() + 16, "capacity {} < parent {} + 16", m.capacity(), s.len());
        }
    }
}

