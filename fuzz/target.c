/*
 * target.c - one libFuzzer entry point, built once per target with
 * FT_FUZZ_TARGET set to an ft_fuzz_target value (fuzz/CMakeLists.txt):
 * fuzz_nfv5, fuzz_nfv9, fuzz_ipfix, fuzz_sflow, fuzz_pkt_header,
 * fuzz_stateful. The bodies are in harness.c.
 */
#include <stddef.h>
#include <stdint.h>

#include "harness.h"

#ifndef FT_FUZZ_TARGET
#error "build with -DFT_FUZZ_TARGET=FT_FUZZ_<NAME>"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return ft_fuzz_run(FT_FUZZ_TARGET, data, size);
}
