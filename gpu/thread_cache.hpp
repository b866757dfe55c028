// ThreadCacheRelease: held by a worker thread that runs MPFR or Arb.
#pragma once

#include <flint/flint.h>
#include <mpfr.h>

namespace iclcert::gpu {

// Held by every worker thread that runs MPFR or Arb (the sampler's MPFR log, the
// validation's Arb balls): frees the thread's caches when it ends. MPFR keeps
// constants and a pool of integers per thread, FLINT (under Arb) its own, and both
// would otherwise leak with the thread (up to 170 KB per run under LeakSanitizer).
// Only the local caches: MPFR's shared ones, if built with them, belong to every thread.
struct ThreadCacheRelease {
  ThreadCacheRelease() = default;
  ThreadCacheRelease(const ThreadCacheRelease&) = delete;
  ThreadCacheRelease& operator=(const ThreadCacheRelease&) = delete;
  ~ThreadCacheRelease() {
    mpfr_free_cache2(MPFR_FREE_LOCAL_CACHE);
    flint_cleanup();
  }
};

}  // namespace iclcert::gpu
