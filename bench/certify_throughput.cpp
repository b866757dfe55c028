// Throughput of the float64 interval tier (issue 13) against the float64 batch
// kernel on the same backend, prompts and thread count, measured in one run:
// the target is a ratio of 1/5 or more at d = 16, C = 4, N = 64, L = 8.
//
//   certify_throughput [--B 400] [--d 16] [--C 4] [--N 64] [--L 8] [--threads 1] [--repeat 3]
//                      [--kernel softmax|linear] [--only float|interval]
//
// The model: L reduced layers (beta, gamma, alpha, alpha') = (4/5, 3/2, 1/2, 1/2).
// Rates are the best of --repeat runs, in prompts per second of wall time and per
// CPU-second (the latter less sensitive to other jobs on a shared machine); the
// two sides' runs alternate, so that a slow spell of the machine falls on both.
// --only runs one side (for callgrind: instruction counts of each side alone).
#include "gpu/batch_backend.hpp"
#include "gpu/batch_certify.hpp"
#include "gpu/batch_model.hpp"
#include "gpu/batch_run.hpp"
#include "gpu/interval_model.hpp"
#include "numerics/sampler.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

using namespace iclcert;
using namespace iclcert::gpu;

namespace {

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

struct Rate {
  double wall = 0, cpu = 0;  // prompts per second, prompts per CPU-second
};

// One timed run of `run` (count prompts); the better of it and `best` in each rate.
template <class F>
Rate best_of(Rate best, int count, F&& run) {
  const auto t = std::chrono::steady_clock::now();
  const double c = cpu_seconds();
  run();
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  const double cpu = cpu_seconds() - c;
  return {std::max(best.wall, count / wall), std::max(best.cpu, count / cpu)};
}

}  // namespace

int main(int argc, char** argv) {
  int B = 400, d = 16, C = 4, N = 64, L = 8, threads = 1, repeat = 3;
  std::string kernel = "softmax", only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--B") B = std::atoi(v);
    else if (k == "--d") d = std::atoi(v);
    else if (k == "--C") C = std::atoi(v);
    else if (k == "--N") N = std::atoi(v);
    else if (k == "--L") L = std::atoi(v);
    else if (k == "--threads") threads = std::atoi(v);
    else if (k == "--repeat") repeat = std::atoi(v);
    else if (k == "--kernel") kernel = v;
    else if (k == "--only") only = v;
    else {
      std::fprintf(stderr, "certify_throughput: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (B < 1 || threads < 1 || repeat < 1 || (kernel != "softmax" && kernel != "linear") ||
      (!only.empty() && only != "float" && only != "interval")) {
    std::fprintf(stderr, "certify_throughput: bad --B, --threads, --repeat, --kernel or --only\n");
    return 2;
  }
  Model model;
  model.kernel = kernel == "softmax" ? Kernel::softmax : Kernel::linear;
  for (int l = 0; l < L; ++l)
    model.layers.push_back(ReducedLayer<Rational>{{Rational(4, 5), Rational(3, 2), Rational(1, 2), Rational(1, 2)}, {}});
  SamplerOptions so;
  so.d = d;
  so.C = C;
  so.N = N;
  so.seed = 1;
  const auto source = prompts_from_sampler(so, B, threads);
  PromptBlock<double> block;
  source->fill(0, B, block);
  std::printf("certify_throughput: B = %d, d = %d, C = %d, N = %d, L = %d %s, %d threads, best of %d\n", B, d, C, N,
              L, kernel.c_str(), threads, repeat);

  // The two sides' repeats alternate (float64, interval, float64, ...), so that
  // a slow spell of a shared machine falls on both, and each side's best is taken.
  const BatchModel<double> m64 = make_batch_model<double>(model, d, C);
  BlockOutput<double> out;
  const BatchModel<Iv> im = make_interval_model(model, d, C);
  const ModelView<Iv> view = im.view();
  std::vector<IntervalVerdict> verdicts(B);
  const long ws = interval_workspace_size(d, C, N);
  auto run_float = [&] { run_block_cpu(m64.view(), block, Detail::final_only, threads, out); };
  auto run_interval = [&] {
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        std::vector<Iv> w(ws);
        for (int b = static_cast<int>(static_cast<long>(B) * t / threads);
             b < static_cast<int>(static_cast<long>(B) * (t + 1) / threads); ++b)
          verdicts[b] = certify_on_host(view, N, block.X.data() + static_cast<long>(b) * N * d,
                                        block.labels.data() + static_cast<long>(b) * N,
                                        block.probe.data() + static_cast<long>(b) * d, block.probe_label[b], w.data());
      });
    for (auto& th : pool) th.join();
  };
  Rate f64, iv;
  for (int r = 0; r < repeat; ++r) {
    if (only != "interval") f64 = best_of(f64, B, run_float);
    if (only != "float") iv = best_of(iv, B, run_interval);
  }
  if (only != "interval")
    std::printf("float64 batch kernel (final-only):  %9.0f prompts/s  %9.0f prompts/CPU-s\n", f64.wall, f64.cpu);
  if (only != "float") {
    long certified = 0, errors = 0;
    double widest = 0;
    for (const IntervalVerdict& v : verdicts) {
      certified += v.certified;
      errors += v.error;
      widest = std::max(widest, v.margin.hi - v.margin.lo);
    }
    std::printf("float64 interval tier (certified):  %9.0f prompts/s  %9.0f prompts/CPU-s  (%ld of %d certified, "
                "%ld errors, widest margin enclosure %.3g)\n",
                iv.wall, iv.cpu, certified, B, errors, widest);
  }
  if (only.empty())
    std::printf("ratio interval / float64: 1/%.1f wall, 1/%.1f per CPU-second (target: 1/5 or better)\n",
                f64.wall / iv.wall, f64.cpu / iv.cpu);
  return 0;
}
