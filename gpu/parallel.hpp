// Worker threads whose exceptions reach the caller. An exception that leaves a
// std::thread's function calls std::terminate (the whole process aborts, exit 134,
// and Python's interpreter with it), so every pool of gpu/ runs its work here: the
// first exception of any worker is kept and rethrown on the calling thread once
// all workers have joined; the other workers may stop early by checking `stopped()`.
#pragma once

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace iclcert::gpu {

class WorkerPool {
 public:
  // Runs work(t) for t in [0, threads), joins every worker, then rethrows the
  // first exception that any of them threw. With caller_works, t = 0 runs on the
  // calling thread; else every t has a thread of its own (work that runs MPFR or
  // Arb frees its thread's caches when the thread ends: gpu/thread_cache.hpp).
  template <class Work>
  void run(int threads, Work&& work, bool caller_works = true) {
    threads = std::max(1, threads);
    const int first = caller_works ? 1 : 0;
    std::vector<std::thread> pool;
    try {
      for (int t = first; t < threads; ++t) pool.emplace_back([this, &work, t] { guarded(work, t); });
    } catch (...) {  // a thread could not start: the ones that did still finish
      keep(std::current_exception());
    }
    if (caller_works) guarded(work, 0);
    for (auto& th : pool) th.join();
    if (error_) std::rethrow_exception(error_);
  }

  // True once a worker has failed: long loops return early.
  bool stopped() const { return stopped_.load(std::memory_order_relaxed); }

 private:
  template <class Work>
  void guarded(Work& work, int t) {
    try {
      work(t);
    } catch (...) {
      keep(std::current_exception());
    }
  }
  void keep(std::exception_ptr e) {
    std::lock_guard lock(mutex_);
    if (!error_) error_ = e;
    stopped_ = true;
  }

  std::mutex mutex_;
  std::exception_ptr error_;
  std::atomic<bool> stopped_{false};
};

// work(t) on `threads` threads, the first exception rethrown here.
template <class Work>
void run_workers(int threads, Work&& work, bool caller_works = true) {
  WorkerPool pool;
  pool.run(threads, std::forward<Work>(work), caller_works);
}

}  // namespace iclcert::gpu
