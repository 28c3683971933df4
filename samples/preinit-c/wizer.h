/* Pre-initialization entry points for C programs built against wasi-libc.
 *
 * WIZER_INIT(fn) defines two exports:
 *
 *   wizer.initialize  runs the program's constructors, then fn(). A
 *                     pre-initializer (`wasmtime wizer --init-func
 *                     wizer.initialize`, `wpack --init-func
 *                     wizer.initialize`) calls it once, at pack time, and
 *                     snapshots memory and globals.
 *   wizer.resume      what `_start` does, minus the constructors, which
 *                     already ran in the snapshot: main (through wasi-libc's
 *                     __main_void, which reads argv at run time), then the
 *                     destructors (atexit handlers, stdio flush), then
 *                     proc_exit with main's value if it is not 0.
 *
 * `--rename-func _start=wizer.resume` makes wizer.resume the pre-initialized
 * module's `_start`. Without pre-initialization the module's own `_start`
 * runs and fn is never called: main has to call it itself when it finds its
 * state not built (see preinit-c.c).
 *
 * Naming __wasm_call_ctors anywhere tells wasm-ld that the program runs its
 * constructors itself: it then no longer wraps the exports in calls to the
 * constructors and destructors. Current wasi-libc's `_start` calls them
 * explicitly, but some releases' crt1-command.o leaves them to that wrapping
 * (no reference to __wasm_call_ctors; Debian 12's wasi-libc
 * 0.0~git20220510 is one), and its `_start` would then run no constructors
 * and no destructors (stdout never flushed). With such a wasi-libc, define
 * WIZER_OWN_START and link with -nostartfiles: WIZER_INIT then also defines
 * `_start`, the way newer wasi-libc does (samples/build-c.sh checks).
 *
 * Only one translation unit of a program may use WIZER_INIT.
 */
#ifndef WPACK_SAMPLES_WIZER_H
#define WPACK_SAMPLES_WIZER_H

#include <wasi/api.h> /* __wasi_proc_exit */

#ifdef __cplusplus
#define WIZER_EXTERN_C extern "C"
#else
#define WIZER_EXTERN_C
#endif

/* The function of wasi-libc that reads the arguments and calls main: its
 * name since 2021 (older releases had __original_main call it). */
#ifndef WIZER_MAIN_VOID
#define WIZER_MAIN_VOID __main_void
#endif

/* __wasm_call_ctors: synthesized by wasm-ld, calls every constructor.
 * __wasm_call_dtors: wasi-libc's, runs the atexit handlers and flushes stdio. */
WIZER_EXTERN_C void __wasm_call_ctors(void);
WIZER_EXTERN_C void __wasm_call_dtors(void);
WIZER_EXTERN_C int WIZER_MAIN_VOID(void);

#ifdef WIZER_OWN_START
#define WIZER_START_                                                         \
    WIZER_EXTERN_C __attribute__((export_name("_start"))) void _start(void) { \
        __wasm_call_ctors();                                                 \
        int wizer_status = WIZER_MAIN_VOID();                                \
        __wasm_call_dtors();                                                 \
        if (wizer_status != 0)                                               \
            __wasi_proc_exit((__wasi_exitcode_t)wizer_status);               \
    }
#else
#define WIZER_START_
#endif

#define WIZER_INIT(init_fn)                                                  \
    WIZER_EXTERN_C __attribute__((export_name("wizer.initialize")))          \
    void wizer_initialize_export(void) {                                     \
        __wasm_call_ctors();                                                 \
        init_fn();                                                           \
    }                                                                        \
    WIZER_EXTERN_C __attribute__((export_name("wizer.resume")))              \
    void wizer_resume_export(void) {                                         \
        int wizer_status = WIZER_MAIN_VOID();                                \
        __wasm_call_dtors();                                                 \
        if (wizer_status != 0)                                               \
            __wasi_proc_exit((__wasi_exitcode_t)wizer_status);               \
    }                                                                        \
    WIZER_START_

#endif
