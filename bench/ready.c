/* ready.c -- the "small C program" of the worker-start baseline: writes one
 * byte ('!') to stdout and exits 0. Spawned by raw_bench (spawn section). */
#include <unistd.h>

int main(void) { return write(1, "!", 1) == 1 ? 0 : 1; }
