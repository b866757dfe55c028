// Internal to distribute_*.cpp: one rank's thread pool over the items that a
// `fetch` callable hands out in chunks (from a local counter, or from MPI's shared
// one). Each thread keeps its (index, result) pairs; the first error stops the pool.
// No exception leaves a worker thread (that would be std::terminate): an item's
// becomes the PoolError, and one of `fetch` or `stop` is rethrown on the calling
// thread after every worker has joined.
#pragma once

#include "io/input_error.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace iclcert::api::detail {

struct PoolError {
  int kind = 0;  // 0: none, 2: bad input (exit 2 in main), 4: anything else
  std::string message;
};

using IndexedResults = std::vector<std::pair<long, std::string>>;

// Items per hand-out: small enough to balance uneven costs, large enough that the
// counter is not the bottleneck. The split never changes a result, only who computes it.
inline long hand_out_chunk(long count, int workers) {
  return std::max(1L, count / (16L * std::max(1, workers)));
}

// `fetch(chunk)` returns the first index of the next chunk (>= count: none left);
// `stop(chunk)` makes every later fetch return >= count. Both are called under
// one mutex, so at most one thread of the process calls them at a time.
template <class Fetch, class Stop>
IndexedResults run_pool(long count, int threads, long chunk, const std::function<std::string(long)>& evaluate,
                        Fetch fetch, Stop stop, PoolError& error) {
  std::vector<IndexedResults> parts(static_cast<std::size_t>(std::max(1, threads)));
  std::mutex mutex;
  std::exception_ptr fatal;  // fetch or stop failed (MPI): under `mutex`
  auto fail = [&](PoolError e) {
    std::lock_guard lock(mutex);
    if (error.kind || fatal) return;
    error = std::move(e);
    try {
      stop(chunk);
    } catch (...) {
      fatal = std::current_exception();
    }
  };
  auto work = [&](std::size_t part) {
    for (;;) {
      long first;
      {
        std::lock_guard lock(mutex);
        if (error.kind || fatal) return;
        try {
          first = fetch(chunk);
        } catch (...) {
          fatal = std::current_exception();
          return;
        }
      }
      if (first >= count) return;
      for (long i = first; i < std::min(count, first + chunk); ++i) {
        try {
          parts[part].emplace_back(i, evaluate(i));
        } catch (const std::exception& e) {
          const bool input = dynamic_cast<const std::invalid_argument*>(&e) || dynamic_cast<const InputError*>(&e);
          return fail({input ? 2 : 4, e.what()});
        } catch (...) {
          return fail({4, "an exception that is not a std::exception"});
        }
      }
    }
  };
  std::vector<std::thread> pool;
  try {
    for (std::size_t t = 1; t < parts.size(); ++t) pool.emplace_back(work, t);
  } catch (const std::exception& e) {  // a thread could not start: stop the others
    fail({4, e.what()});
  }
  work(0);
  for (auto& t : pool) t.join();
  if (fatal) std::rethrow_exception(fatal);
  IndexedResults all;
  for (auto& p : parts)
    for (auto& r : p) all.push_back(std::move(r));
  return all;
}

// Throws the pool's error as main expects it: bad input as std::invalid_argument (exit 2).
[[noreturn]] inline void rethrow(const PoolError& e) {
  if (e.kind == 2) throw std::invalid_argument(e.message);
  throw std::runtime_error(e.message);
}

// The whole run in this process (no MPI, or one rank): items from a local counter.
inline std::vector<std::string> evaluate_locally(long count, int threads,
                                                 const std::function<std::string(long)>& evaluate,
                                                 std::atomic<long>* claimed) {
  long next = 0;  // under the pool's mutex
  PoolError error;
  auto fetch = [&](long chunk) {
    const long first = next;
    next += chunk;
    if (claimed) *claimed = std::min(next, count);
    return first;
  };
  auto stop = [&](long) { next = count; };
  IndexedResults got = run_pool(count, threads, hand_out_chunk(count, threads), evaluate, fetch, stop, error);
  if (error.kind) rethrow(error);
  std::vector<std::string> results(static_cast<std::size_t>(count));
  for (auto& [i, r] : got) results[static_cast<std::size_t>(i)] = std::move(r);
  return results;
}

}  // namespace iclcert::api::detail

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
