/* Pre-initialization of a C program (wasi-libc), with wizer.h.
 *
 * The init function fills a global array, the Collatz stopping time of
 * every number below 2^18 (how many steps n -> n/2 or 3n+1 take to reach
 * 1), and finds the longest. Pre-initialized, e.g.
 *
 *   wasmtime wizer -S cli=y preinit-c.wasm --init-func wizer.initialize \
 *       --rename-func _start=wizer.resume -o out.wasm
 *   wpack preinit-c.wasm --init-func wizer.initialize \
 *       --rename-func _start=wizer.resume -o out
 *
 * the array is in the snapshot and main only reads it; otherwise main fills
 * it first. The output is the same either way: the table's summary, how many
 * times the constructor ran (once: at init when pre-initialized, in _start
 * otherwise), the arguments after argv[0] with the stopping time of each
 * number among them, and the environment variable PREINIT_GREETING, all read
 * at run time. An argument "fail" makes main return 3 (through wizer.resume's
 * proc_exit when pre-initialized). samples/build-c.sh builds it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wizer.h"

#define N (1u << 18)

static uint16_t steps[N]; /* steps[n]: the stopping time of n (steps[0] = 0) */
static uint32_t longest;  /* the number below N with the most steps */
static uint64_t total;    /* the sum of all steps[n] */
static int table_ready;
static volatile int constructor_runs; /* volatile: else clang runs the constructor at compile time */

__attribute__((constructor)) static void count_constructor_run(void) {
    constructor_runs++;
}

static void build_table(void) {
    longest = 1;
    for (uint32_t n = 2; n < N; n++) {
        uint64_t m = n;
        uint32_t k = 0;
        while (m >= n) { /* until below n: that one is known */
            m = (m & 1) ? 3 * m + 1 : m / 2;
            k++;
        }
        steps[n] = (uint16_t)(k + steps[m]);
        total += steps[n];
        if (steps[n] > steps[longest])
            longest = n;
    }
    table_ready = 1;
}

WIZER_INIT(build_table)

int main(int argc, char **argv) {
    if (!table_ready) /* not pre-initialized */
        build_table();
    printf("table: stopping times below %u, longest %u (%u steps), sum %llu\n", N, longest,
           steps[longest], (unsigned long long)total);
    printf("constructor runs: %d\n", constructor_runs);
    int status = 0;
    for (int i = 1; i < argc; i++) { /* not argv[0]: the runner's name for the program */
        char *end;
        unsigned long n = strtoul(argv[i], &end, 10);
        if (*argv[i] && !*end && n > 0 && n < N)
            printf("argv[%d]=%s: %u steps\n", i, argv[i], steps[n]);
        else
            printf("argv[%d]=%s\n", i, argv[i]);
        if (strcmp(argv[i], "fail") == 0)
            status = 3;
    }
    const char *greeting = getenv("PREINIT_GREETING");
    printf("greeting: %s\n", greeting ? greeting : "(PREINIT_GREETING is not set)");
    return status;
}
