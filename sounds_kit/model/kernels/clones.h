// Shared by the kit's kernels: build each hot loop for AVX-512, AVX2 and plain x86-64, and pick one
// when the library loads (GCC on x86-64; elsewhere the compiler's default target only).
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SK_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SK_CLONES
#endif
