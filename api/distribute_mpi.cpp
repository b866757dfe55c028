// distribute.hpp with MPI: the hand-out counter lives in a one-sided window on
// rank 0 (MPI_Fetch_and_op, so rank 0 works too instead of serving requests), and
// the results travel to rank 0 with one MPI_Gatherv at the end.
#include "api/distribute.hpp"

#include "api/distribute_pool.hpp"

// The C API only: the deprecated C++ bindings' header does not compile warning-free.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>

#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace iclcert::api {
namespace {

bool g_mpi = false;       // MPI_Init was called (started by a launcher)
bool g_threaded = false;  // MPI may be called from any thread, one at a time
int g_rank = 0, g_ranks = 1, g_node_ranks = 1;

// Whether an MPI launcher started this process. Without one, MPI stays
// uninitialised: a singleton MPI_Init would start Open MPI's runtime (and, as root,
// refuse to run) for every plain `iclcert` call.
bool started_by_launcher() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

void check(int rc, const char* what) {
  if (rc != MPI_SUCCESS) throw std::runtime_error(std::string("MPI: ") + what + " failed");
}

}  // namespace

Distribution::Distribution(int& argc, char**& argv) {
  if (!started_by_launcher()) return;
  int provided = 0;
  MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
  g_mpi = true;
  g_threaded = provided >= MPI_THREAD_SERIALIZED;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_ranks);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, g_rank, MPI_INFO_NULL, &node);
  MPI_Comm_size(node, &g_node_ranks);
  MPI_Comm_free(&node);
  // Rank 0 prints the reports; the others' would be copies.
  if (g_rank != 0 && !std::freopen("/dev/null", "w", stdout)) std::fclose(stdout);
}

Distribution::~Distribution() {
  if (g_mpi) MPI_Finalize();
}

int Distribution::agree_on_status(int status) {
  if (g_mpi) MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return status;
}

int rank() { return g_rank; }
int ranks() { return g_ranks; }
bool is_root() { return g_rank == 0; }
int ranks_on_node() { return g_node_ranks; }
std::string ranks_note() { return g_ranks > 1 ? " on " + std::to_string(g_ranks) + " processes (MPI)" : ""; }

std::vector<std::string> evaluate_indexed(long count, int threads, const std::function<std::string(long)>& evaluate,
                                          std::atomic<long>* claimed, Deliver deliver) {
  // Started without a launcher (MPI not initialised), or on one rank: no MPI call at all.
  if (g_ranks == 1) return detail::evaluate_locally(count, threads, evaluate, claimed);
  if (!g_threaded) threads = 1;  // only this thread may call MPI
  // The counter: one long on rank 0, read-modify-written atomically by every rank.
  long* counter = nullptr;
  MPI_Win win;
  check(MPI_Win_allocate(g_rank == 0 ? sizeof(long) : 0, sizeof(long), MPI_INFO_NULL, MPI_COMM_WORLD, &counter, &win),
        "MPI_Win_allocate");
  if (g_rank == 0) *counter = 0;
  MPI_Barrier(MPI_COMM_WORLD);
  MPI_Win_lock_all(0, win);
  detail::PoolError error;
  auto add = [&](long n) {
    long old = 0;
    check(MPI_Fetch_and_op(&n, &old, MPI_LONG, 0, 0, MPI_SUM, win), "MPI_Fetch_and_op");
    check(MPI_Win_flush(0, win), "MPI_Win_flush");
    return old;
  };
  auto fetch = [&](long chunk) {
    const long first = add(chunk);
    if (claimed) *claimed = std::min(first + chunk, count);
    return first;
  };
  auto stop = [&](long) { add(count); };  // every later fetch returns >= count
  const long chunk = detail::hand_out_chunk(count, g_ranks * threads);
  detail::IndexedResults got;
  try {
    got = detail::run_pool(count, threads, chunk, evaluate, fetch, stop, error);
  } catch (const std::exception& e) {  // MPI failed under a thread: no collective is safe any more
    std::fprintf(stderr, "iclcert: rank %d: %s\n", g_rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 4);
  }
  MPI_Win_unlock_all(win);
  MPI_Win_free(&win);

  // The first error (lowest rank) becomes every rank's.
  int failing = error.kind ? g_rank : g_ranks;
  MPI_Allreduce(MPI_IN_PLACE, &failing, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
  if (failing < g_ranks) {
    long len = static_cast<long>(error.message.size());
    MPI_Bcast(&error.kind, 1, MPI_INT, failing, MPI_COMM_WORLD);
    MPI_Bcast(&len, 1, MPI_LONG, failing, MPI_COMM_WORLD);
    error.message.resize(static_cast<std::size_t>(len));
    MPI_Bcast(error.message.data(), static_cast<int>(len), MPI_CHAR, failing, MPI_COMM_WORLD);
    detail::rethrow(error);
  }

  // Gather: each rank's pairs packed as (index, length, bytes).
  std::string packed;
  for (const auto& [i, r] : got) {
    const std::int64_t head[2] = {i, static_cast<std::int64_t>(r.size())};
    packed.append(reinterpret_cast<const char*>(head), sizeof head);
    packed += r;
  }
  std::vector<long> sizes(static_cast<std::size_t>(g_ranks));
  long mine = static_cast<long>(packed.size());
  MPI_Allgather(&mine, 1, MPI_LONG, sizes.data(), 1, MPI_LONG, MPI_COMM_WORLD);
  long total = 0;
  for (long s : sizes) total += s;
  if (total > INT_MAX)  // every rank sees the same sizes, so every rank throws
    throw std::runtime_error("the results of a distributed run exceed 2 GiB; run with fewer items per call");
  std::vector<int> counts(sizes.begin(), sizes.end()), displs(static_cast<std::size_t>(g_ranks), 0);
  for (int r = 1; r < g_ranks; ++r) displs[r] = displs[r - 1] + counts[r - 1];
  const bool everyone = deliver == Deliver::to_every_rank;
  std::string all(g_rank == 0 || everyone ? static_cast<std::size_t>(total) : 0, '\0');
  if (everyone)
    MPI_Allgatherv(packed.data(), static_cast<int>(mine), MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE,
                   MPI_COMM_WORLD);
  else
    MPI_Gatherv(packed.data(), static_cast<int>(mine), MPI_BYTE, all.data(), counts.data(), displs.data(), MPI_BYTE, 0,
                MPI_COMM_WORLD);
  if (g_rank != 0 && !everyone) return {};
  std::vector<std::string> results(static_cast<std::size_t>(count));
  std::vector<bool> seen(static_cast<std::size_t>(count), false);
  for (std::size_t at = 0; at < all.size();) {
    std::int64_t head[2];
    std::memcpy(head, all.data() + at, sizeof head);
    at += sizeof head;
    results[static_cast<std::size_t>(head[0])].assign(all, at, static_cast<std::size_t>(head[1]));
    seen[static_cast<std::size_t>(head[0])] = true;
    at += static_cast<std::size_t>(head[1]);
  }
  for (long i = 0; i < count; ++i)
    if (!seen[static_cast<std::size_t>(i)]) throw std::logic_error("distributed run: item " + std::to_string(i) + " lost");
  return results;
}

}  // namespace iclcert::api
