# CMake toolchain for C libraries built for wasm32-unknown-unknown with Debian's clang
# against wasi-libc headers only (libaom, scripts/build.sh). Nothing is linked here: the
# static library goes into the Rust cdylib, which supplies the libc functions.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR wasm32)
set(CMAKE_C_COMPILER clang)
set(CMAKE_CXX_COMPILER clang++)
set(CMAKE_C_COMPILER_TARGET wasm32-unknown-unknown)
set(CMAKE_CXX_COMPILER_TARGET wasm32-unknown-unknown)
set(CMAKE_AR llvm-ar CACHE FILEPATH "")
set(CMAKE_RANLIB llvm-ranlib CACHE FILEPATH "")
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# Our setjmp.h (no setjmp in wasm32: libaom's error unwinding traps instead) comes first. No
# -msimd128: libaom's generic C gained nothing from clang's auto-vectorising (scripts/build.sh).
set(CMAKE_C_FLAGS_INIT "-I${CMAKE_CURRENT_LIST_DIR}/../src/encode/aom/include -isystem /usr/include/wasm32-wasi -D__wasi__")
