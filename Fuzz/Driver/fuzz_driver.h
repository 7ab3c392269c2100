/*
 * libFuzzer's entry for programs with a main of their own (SwiftPM gives
 * every executable one): runs the fuzzer with the command line's flags and
 * corpus folders, calling `test` for every input.
 */
#ifndef FUZZ_DRIVER_H
#define FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*test)(const uint8_t *data, size_t size));

#endif
