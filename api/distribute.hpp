// Splitting a command's work across the processes of an MPI run (`mpiexec -n R
// iclcert ...`), so that rank 0 writes the same files as a single process.
//
// The layer is thin on purpose: a command states its work as items 0 .. n - 1
// whose results are byte strings, and gets them back on rank 0 in index order;
// the math stays in the command's own per-item code. Items are handed out one
// chunk at a time from a shared counter (dynamic: a rank that drew cheap items
// draws more), every rank works (rank 0 too), and the merge is by index, so the
// output depends neither on the number of ranks nor on who computed what.
//
// Two implementations: distribute_mpi.cpp when the build found MPI
// (ICLCERT_HAVE_MPI), distribute_serial.cpp otherwise. A binary built with MPI but
// started without a launcher (no mpiexec) does not initialise MPI at all and runs
// as one process, exactly as a build without MPI does.
//
// Trusted: the MPI library's transport. Nothing here touches a number: results are
// opaque bytes, so a distributed run computes every value with the same code, in
// the same order within an item, as a single process does.
#pragma once

#include <algorithm>
#include <atomic>
#include <functional>
#include <string>
#include <vector>

namespace iclcert::api {

// The process group of this run: MPI_Init when started by an MPI launcher,
// MPI_Finalize at exit. One per program, in main. On ranks other than 0 standard
// output is discarded (rank 0 prints the reports and writes the files).
class Distribution {
 public:
  Distribution(int& argc, char**& argv);
  ~Distribution();
  Distribution(const Distribution&) = delete;
  Distribution& operator=(const Distribution&) = delete;
  // Every rank's exit status becomes rank 0's (a collective: every rank calls it
  // once, as the last thing before returning from main).
  int agree_on_status(int status);
};

int rank();          // 0 without MPI
int ranks();         // 1 without MPI
bool is_root();      // rank() == 0
int ranks_on_node(); // processes of this run on this machine (for the default thread count)

// "", or " on R processes (MPI)" for the reports printed on standard output.
std::string ranks_note();

// Who gets the results of evaluate_indexed: rank 0 (which writes the output), or
// every rank (when every rank must take the next step alike, as in a paving or a
// precision escalation that depends on the results).
enum class Deliver { to_root, to_every_rank };

// Evaluates items 0 .. count - 1 across every rank, each rank on `threads`
// threads: `evaluate(i)` returns item i's result as bytes and must be safe to call
// from several threads at once (with threads = 1 it runs on the calling thread
// only, which keeps thread-local state such as the working precision). Returns, on
// rank 0 (or every rank), the `count` results in index order; elsewhere, an empty vector. Every rank must call it with the same
// count (a collective). When an item throws on any rank, the hand-out stops and
// every rank throws std::runtime_error with the first error's message (the lowest
// rank's), so that all ranks leave with the same status.
// `claimed`, when given, is raised on rank 0 to the number of items handed out so
// far (for a progress line).
std::vector<std::string> evaluate_indexed(long count, int threads, const std::function<std::string(long)>& evaluate,
                                          std::atomic<long>* claimed = nullptr, Deliver deliver = Deliver::to_root);

// evaluate_indexed in rounds of `round` items, so that no rank holds more than a
// round of results: `take(i, bytes)` gets every item's result in index order, on
// rank 0 (or on every rank), round after round. A collective, as evaluate_indexed.
inline void evaluate_in_rounds(long count, long round, int threads, const std::function<std::string(long)>& evaluate,
                               const std::function<void(long, const std::string&)>& take,
                               Deliver deliver = Deliver::to_root) {
  for (long first = 0; first < count; first += round) {
    const long n = std::min(round, count - first);
    const std::vector<std::string> got =
        evaluate_indexed(n, threads, [&](long i) { return evaluate(first + i); }, nullptr, deliver);
    for (long i = 0; i < static_cast<long>(got.size()); ++i) take(first + i, got[static_cast<std::size_t>(i)]);
  }
}

// The shape of gpu::ItemDistributor (gpu/batch_run.hpp), without its header: on one
// process, empty (the caller runs every item itself); under mpiexec, the items
// split across the ranks in rounds of `per_rank` items per rank, taken on rank 0.
using ItemSplit = std::function<void(long items, const std::function<std::string(long)>& one,
                                     const std::function<void(long, const std::string&)>& take)>;
inline ItemSplit item_split(long per_rank) {
  if (ranks() == 1) return {};
  return [per_rank](long items, const std::function<std::string(long)>& one,
                    const std::function<void(long, const std::string&)>& take) {
    evaluate_in_rounds(items, per_rank * ranks(), 1, one, take);
  };
}

}  // namespace iclcert::api

// Transitional (issue 24): the commands of cli/ still name these unqualified.
namespace iclcert::cli {
using namespace iclcert::api;
}
