// Throughput of the batch path's CPU backend against the same batched recursion in
// PyTorch (bench/pytorch_batch.py), measured in one run on the same prompts, and
// GFLOP/s against the machine's float32 GEMM rate (issue 6, "Performance").
//
//   batch_throughput [--B 20000] [--d 16] [--C 4] [--N 64] [--L 8] [--threads 2] [--repeat 3] [--torch 1]
//
// --torch 0 measures iclcert alone (for profiling).
//
// The torch part runs `python3 bench/pytorch_batch.py` (ICLCERT_PYTHON overrides
// the interpreter; Debian's /usr/bin/python3 is tried when `python3` lacks torch);
// without torch the ratio is skipped with a message. Install the peer with
// scripts/install-deps.sh --bench (python3-torch, python3-numpy, OpenBLAS).
#include "gpu/batch_backend.hpp"
#include "gpu/batch_model.hpp"
#include "gpu/batch_run.hpp"
#include "io/json_reader.hpp"
#include "numerics/sampler.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using namespace iclcert;
using namespace iclcert::gpu;

namespace {

constexpr double kToolchainPeakGflops = 207;  // shared/TOOLCHAIN.md: 4096^3 float32 GEMM, OpenBLAS, 2 cores

double cpu_seconds() {  // user + system time of every thread of this process
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

struct Rate {
  double wall, cpu;  // prompts per second, prompts per CPU-second
};

template <class T>
Rate best_rate(const ModelView<T>& m, const PromptBlock<T>& block, Detail detail, int threads, int repeat,
               BlockOutput<T>& out) {
  double best = 1e300, best_cpu = 1e300;
  for (int r = 0; r < repeat; ++r) {
    const auto t = std::chrono::steady_clock::now();
    const double c = cpu_seconds();
    run_block_cpu(m, block, detail, threads, out);
    best = std::min(best, seconds_since(t));
    best_cpu = std::min(best_cpu, cpu_seconds() - c);
  }
  return {block.count / best, block.count / best_cpu};
}

std::string run_capture(const std::string& cmd) {
  std::string out;
  if (FILE* p = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    if (pclose(p) != 0) return "";
  }
  return out;
}

std::string python_with_torch() {
  if (const char* env = std::getenv("ICLCERT_PYTHON")) return env;
  for (const char* py : {"python3", "/usr/bin/python3"})
    if (std::system((std::string(py) + " -c 'import torch, numpy' >/dev/null 2>&1").c_str()) == 0) return py;
  return "";
}

template <class T>
void write_raw(const std::filesystem::path& p, const std::vector<T>& v) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
}

}  // namespace

int main(int argc, char** argv) {
  int B = 20000, d = 16, C = 4, N = 64, L = 8, threads = 2, repeat = 3, torch = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i];
    const int v = std::atoi(argv[i + 1]);
    if (k == "--B") B = v;
    else if (k == "--d") d = v;
    else if (k == "--C") C = v;
    else if (k == "--N") N = v;
    else if (k == "--L") L = v;
    else if (k == "--threads") threads = v;
    else if (k == "--repeat") repeat = v;
    else if (k == "--torch") torch = v;
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  std::printf("batch_throughput: B = %d, d = %d, C = %d, N = %d, L = %d, %d threads, best of %d\n", B, d, C, N, L,
              threads, repeat);
  // The model: L reduced softmax layers (beta, gamma, alpha, alpha') = (1/4, 1, 1/2, 1/2).
  Model model;
  for (int l = 0; l < L; ++l)
    model.layers.push_back(ReducedLayer<Rational>{{Rational(1, 4), Rational(1), Rational(1, 2), Rational(1, 2)}, {}});
  const std::string layers_json = [&] {
    std::string s = "[";
    for (int l = 0; l < L; ++l) s += std::string(l ? "," : "") + "[0.25,1,0.5,0.5]";
    return s + "]";
  }();

  // Prompts: the sampler's fast path (prompt k with seed 1 + k), and the exact one for comparison.
  SamplerOptions so;
  so.d = d;
  so.C = C;
  so.N = N;
  auto t0 = std::chrono::steady_clock::now();
  const int exact_count = 200;
  for (int k = 0; k < exact_count; ++k) {
    so.seed = 1 + k;
    (void)sample_prompt(so);
  }
  const double exact_rate = exact_count / seconds_since(t0);
  so.seed = 1;
  auto source = prompts_from_sampler(so, B, threads);
  PromptBlock<double> block64;
  PromptBlock<float> block32;
  t0 = std::chrono::steady_clock::now();
  source->fill(0, B, block64);
  const double fast_rate = B / seconds_since(t0);
  source->fill(0, B, block32);
  std::printf("sampling: exact sample_prompt %.0f prompts/s (1 thread), fast path %.0f prompts/s (%d threads)\n",
              exact_rate, fast_rate, threads);

  const BatchModel<float> m32 = make_batch_model<float>(model, d, C);
  const BatchModel<double> m64 = make_batch_model<double>(model, d, C);
  BlockOutput<float> out32, out32_layers;
  BlockOutput<double> out64;
  const Rate rate32 = best_rate(m32.view(), block32, Detail::final_only, threads, repeat, out32);
  const Rate rate32_layers = best_rate(m32.view(), block32, Detail::per_layer, threads, repeat, out32_layers);
  const Rate rate64 = best_rate(m64.view(), block64, Detail::final_only, threads, repeat, out64);
  const double r32 = rate32.wall, r64 = rate64.wall;
  // Useful flops per prompt: per layer and query row, scores 2DN, softmax 4N
  // (subtract, exp, add, divide), aggregate 2DN, query scaling and update 3D.
  const int D = d + C;
  const double flops = static_cast<double>(L) * (N + 1) * (4.0 * D * N + 4.0 * N + 3.0 * D);
  std::printf("iclcert CPU backend, float32, predictions only : %9.0f prompts/s  %6.2f GFLOP/s  %9.0f prompts/CPU-s\n",
              r32, r32 * flops / 1e9, rate32.cpu);
  std::printf("iclcert CPU backend, float32, per-layer metrics: %9.0f prompts/s                   %9.0f prompts/CPU-s\n",
              rate32_layers.wall, rate32_layers.cpu);
  std::printf("iclcert CPU backend, float64, predictions only : %9.0f prompts/s  %6.2f GFLOP/s  %9.0f prompts/CPU-s\n",
              r64, r64 * flops / 1e9, rate64.cpu);

  double peak = kToolchainPeakGflops;
  std::string peak_source = "shared/TOOLCHAIN.md's measured 4096^3 float32 GEMM (OpenBLAS, 2 cores)";
  const std::string py = torch ? python_with_torch() : "";
  if (!torch) {
    std::printf("PyTorch: not run (--torch 0)\n");
  } else if (py.empty()) {
    std::printf("PyTorch: not found (no python3 with torch and numpy; run scripts/install-deps.sh --bench): "
                "ratio skipped\n");
  } else {
    const auto dir = std::filesystem::temp_directory_path() / ("iclcert_batch_bench_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    write_raw(dir / "X.bin", block64.X);
    write_raw(dir / "probe.bin", block64.probe);
    write_raw(dir / "labels.bin", block64.labels);
    const std::string script = std::string(ICLCERT_SOURCE_DIR) + "/bench/pytorch_batch.py";
    auto torch_run = [&](const char* dtype, bool gemm) {
      const std::string cmd = py + " " + script + " --input-dir " + dir.string() + " --B " + std::to_string(B) +
                              " --d " + std::to_string(d) + " --C " + std::to_string(C) + " --N " +
                              std::to_string(N) + " --layers '" + layers_json + "' --dtype " + dtype +
                              " --threads " + std::to_string(threads) + " --repeat " + std::to_string(repeat) +
                              (gemm ? "" : " --no-gemm");
      const std::string text = run_capture(cmd);
      return text.empty() ? Json() : Json::parse(text);
    };
    const Json t32 = torch_run("float32", true);
    std::vector<std::int32_t> torch_pred(B);
    {
      std::ifstream f(dir / "predictions.bin", std::ios::binary);
      f.read(reinterpret_cast<char*>(torch_pred.data()), static_cast<std::streamsize>(B * sizeof(std::int32_t)));
    }
    const Json t64 = torch_run("float64", false);
    std::filesystem::remove_all(dir);
    if (t32.is_null() || t64.is_null()) {
      std::printf("PyTorch: %s failed to run bench/pytorch_batch.py: ratio skipped\n", py.c_str());
    } else {
      const double p32 = t32["prompts_per_s"], p64 = t64["prompts_per_s"];
      long agree = 0;
      for (int b = 0; b < B; ++b) agree += torch_pred[b] == out32.predictions[b];
      const double c32 = t32["prompts_per_cpu_s"], c64 = t64["prompts_per_cpu_s"];
      std::printf("PyTorch %s (%s, %d threads), float32: %9.0f prompts/s  %6.2f GFLOP/s  %9.0f prompts/CPU-s\n",
                  t32["torch"].get<std::string>().c_str(), py.c_str(), t32["threads"].get<int>(), p32,
                  p32 * flops / 1e9, c32);
      std::printf("PyTorch float64                                  : %9.0f prompts/s  %6.2f GFLOP/s  %9.0f prompts/CPU-s\n",
                  p64, p64 * flops / 1e9, c64);
      std::printf("RATIO iclcert / PyTorch (wall clock): float32 %.2fx, float64 %.2fx (target >= 5x at float32)\n",
                  r32 / p32, r64 / p64);
      std::printf("RATIO iclcert / PyTorch (per CPU-second, robust to other load): float32 %.2fx, float64 %.2fx\n",
                  rate32.cpu / c32, rate64.cpu / c64);
      std::printf("float32 predictions equal to PyTorch's on %ld of %d prompts\n", agree, B);
      if (!t32["gemm_float32_gflops"].is_null()) {
        peak = t32["gemm_float32_gflops"];
        peak_source = "float32 4096^3 torch.mm measured now";
      }
    }
  }
  // The second figure counts the CPU time the threads got: when other jobs share
  // the cores, the wall-clock rate understates the kernel.
  std::printf("machine peak: %.1f GFLOP/s (%s); iclcert float32 at %.1f%% of it (wall clock), %.1f%% per CPU-second "
              "x %d threads\n",
              peak, peak_source.c_str(), 100 * r32 * flops / 1e9 / peak,
              100 * rate32.cpu * std::min(threads, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN))) * flops / 1e9 / peak,
              threads);
  return 0;
}
