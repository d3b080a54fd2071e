/* wasm32-unknown-unknown has no setjmp/longjmp. libaom uses them only to unwind from internal
   errors (allocation failure, corrupt state); here such an error traps the wasm instance
   instead, and the worker pool replaces the worker (WORKER_CRASHED). */
#ifndef MEDIASLIM_SETJMP_H
#define MEDIASLIM_SETJMP_H
typedef int jmp_buf[1];
#define setjmp(env) 0
_Noreturn void mediaslim_aom_longjmp(void);
#define longjmp(env, val) mediaslim_aom_longjmp()
#endif
