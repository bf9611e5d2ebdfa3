/* under_asan.h: UNDER_ASAN is 1 when AddressSanitizer owns malloc (gcc's
 * -fsanitize=address or clang's), else 0. The allocation interposers
 * (rt_interposer.h, test_alloc_fail.c) stand aside under it. */
#ifndef CHORDLET_TESTS_UNDER_ASAN_H
#define CHORDLET_TESTS_UNDER_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#endif
