// Throughput of the batch path's CPU backend against the same batched recursion in
// its strongest peers (bench/peers.py: PyTorch eager, scaled_dot_product_attention,
// torch.compile, jax.jit), in one run on the same prompts, interleaved over
// --rounds rounds with the ratios per round, and GFLOP/s against the machine's
// float32 GEMM rate measured in the run (issues 6 and 25).
//
//   batch_throughput [--B 20000] [--d 16] [--C 4] [--N 64] [--L 8] [--threads 2] [--repeat 1]
//                    [--rounds 3] [--peers eager,sdpa,compile,jax] [--torch 1]
//
// --torch 0 measures iclcert alone (for profiling); ICLCERT_CPU_LEVEL=base|v3|v4
// forces the kernel's level. The peers run in one `bench/peers.py` process (the
// interpreter: ICLCERT_PYTHON, else .venv-bench/bin/python of the source tree, else
// python3, else /usr/bin/python3, the first with numpy); a peer whose package is
// missing is skipped with a message. Install them with scripts/install-deps.sh --bench.
// With a level forced below the CPU's best, the peers' libraries are asked to keep
// to it; jaxlib 0.10 ignores the ask, so bench/ynn_cap.py holds its YNNPACK kernels
// (the run prints a NOTE saying whether it did; bench/README.md, "Fourth pass").
#include "gpu/batch_backend.hpp"
#include "gpu/batch_model.hpp"
#include "gpu/batch_run.hpp"
#include "io/json_reader.hpp"
#include "numerics/sampler.hpp"

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace iclcert;
using namespace iclcert::gpu;

namespace {

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

std::string python_with_numpy() {
  if (const char* env = std::getenv("ICLCERT_PYTHON")) return env;
  const std::string venv = std::string(ICLCERT_SOURCE_DIR) + "/.venv-bench/bin/python";
  for (const std::string& py : {venv, std::string("python3"), std::string("/usr/bin/python3")})
    if (std::system((py + " -c 'import numpy' >/dev/null 2>&1").c_str()) == 0) return py;
  return "";
}

// bench/peers.py as a server: commands on its stdin, one JSON line back for each.
class PeerServer {
 public:
  explicit PeerServer(const std::string& cmd) {
    int in[2], out[2];
    if (pipe(in) != 0 || pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], 0);
      dup2(out[1], 1);
      close(in[1]);
      close(out[0]);
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    to_ = fdopen(in[1], "w");
    from_ = fdopen(out[0], "r");
  }
  ~PeerServer() {
    if (to_) {
      std::fputs("quit\n", to_);
      std::fclose(to_);
    }
    if (from_) std::fclose(from_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  PeerServer(const PeerServer&) = delete;
  PeerServer& operator=(const PeerServer&) = delete;
  // The next JSON line (null when the server ended).
  Json read() {
    std::string line;
    char buf[4096];
    while (from_ && std::fgets(buf, sizeof buf, from_)) {
      line += buf;
      if (!line.empty() && line.back() == '\n') break;
    }
    try {
      return line.empty() ? Json() : Json::parse(line);
    } catch (const std::exception&) {
      return Json();
    }
  }
  Json ask(const std::string& command) {
    if (!to_) return Json();
    std::fprintf(to_, "%s\n", command.c_str());
    std::fflush(to_);
    return read();
  }

 private:
  pid_t pid_ = -1;
  FILE* to_ = nullptr;
  FILE* from_ = nullptr;
};

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  for (std::string line; std::getline(f, line);)
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

std::string load_average() {
  double l[3] = {0, 0, 0};
  if (getloadavg(l, 3) != 3) return "unknown";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", l[0], l[1], l[2]);
  return buf;
}

std::vector<std::int32_t> read_predictions(const std::filesystem::path& p, int B) {
  std::vector<std::int32_t> v(B, -2);
  std::ifstream f(p, std::ios::binary);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(B * sizeof(std::int32_t)));
  return v;
}

struct Range {
  double lo = 1e300, hi = 0;
  void add(double v) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
};

template <class T>
void write_raw(const std::filesystem::path& p, const std::vector<T>& v) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
}

}  // namespace

int main(int argc, char** argv) {
  int B = 20000, d = 16, C = 4, N = 64, L = 8, threads = 2, repeat = 1, rounds = 3, torch = 1;
  std::string peer_list = "eager,sdpa,compile,jax";
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // each round's line as it is measured
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
    else if (k == "--rounds") rounds = v;
    else if (k == "--torch") torch = v;
    else if (k == "--peers") peer_list = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  std::printf("batch_throughput: B = %d, d = %d, C = %d, N = %d, L = %d, %d threads, %d rounds, best of %d each\n",
              B, d, C, N, L, threads, rounds, repeat);
  std::printf("CPU: %s, %ld online; kernel level: %s (best supported: %s); load average: %s\n", cpu_model().c_str(),
              sysconf(_SC_NPROCESSORS_ONLN), float_kernel_level(), cpu_level_name(best_cpu_level()),
              load_average().c_str());
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
  // Useful flops per prompt: per layer and query row, scores 2DN, softmax 4N
  // (subtract, exp, add, divide), aggregate 2DN, query scaling and update 3D.
  const int D = d + C;
  const double flops = static_cast<double>(L) * (N + 1) * (4.0 * D * N + 4.0 * N + 3.0 * D);

  // The peers: one server process, compiled before the rounds.
  const auto dir = std::filesystem::temp_directory_path() / ("iclcert_batch_bench_" + std::to_string(getpid()));
  std::unique_ptr<PeerServer> server;
  std::vector<std::string> peers;
  std::map<std::string, std::string> versions;
  double gemm = 0, gemm_cpu = 0;
  const std::string py = torch ? python_with_numpy() : "";
  if (!torch) {
    std::printf("peers: not run (--torch 0)\n");
  } else if (py.empty()) {
    std::printf("peers: no python3 with numpy (run scripts/install-deps.sh --bench): peers and GEMM rate skipped\n");
  } else {
    std::filesystem::create_directories(dir);
    write_raw(dir / "X.bin", block64.X);
    write_raw(dir / "probe.bin", block64.probe);
    write_raw(dir / "labels.bin", block64.labels);
    // A level forced below the CPU's best stands in for a machine of that level:
    // the peers' libraries are held to the same instructions.
    std::string isa_env;
    if (selected_cpu_level() != best_cpu_level()) {
      isa_env = selected_cpu_level() == CpuLevel::v3
                    ? "ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2 "
                      "ICLCERT_PEER_ISA=AVX2 "
                    : "ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 ONEDNN_MAX_CPU_ISA=SSE41 "
                      "ICLCERT_PEER_ISA=SSE4_2 ";
      std::printf("peers held to the level's instructions: %s\n", isa_env.c_str());
    }
    const std::string cmd = isa_env + py + " " + ICLCERT_SOURCE_DIR + "/bench/peers.py --input-dir " + dir.string() +
                            " --B " + std::to_string(B) + " --d " + std::to_string(d) + " --C " + std::to_string(C) +
                            " --N " + std::to_string(N) + " --layers '" + layers_json + "' --threads " +
                            std::to_string(threads) + " --repeat " + std::to_string(repeat) + " --peers " +
                            peer_list;
    server = std::make_unique<PeerServer>(cmd);
    const Json ready = server->read();
    if (ready.is_null()) {
      std::printf("peers: %s bench/peers.py did not start: peers skipped\n", py.c_str());
      server.reset();
    } else {
      for (const auto& [name, v] : ready["peers"].items()) {
        if (v.is_null()) {
          std::printf("peer %s: not installed (scripts/install-deps.sh --bench): skipped\n", name.c_str());
          continue;
        }
        peers.push_back(name);
        versions[name] = v.get<std::string>();
        const double c32 = ready["compile_s"].value(name + " float32", 0.0);
        const double c64 = ready["compile_s"].value(name + " float64", 0.0);
        std::printf("peer %-8s: %s (%s); first call's extra time (compile): float32 %.1f s, float64 %.1f s\n",
                    name.c_str(), versions[name].c_str(), py.c_str(), c32, c64);
        if (ready.contains("notes") && ready["notes"].contains(name))
          std::printf("peer %-8s: NOTE %s\n", name.c_str(), ready["notes"][name].get<std::string>().c_str());
      }
      gemm = ready["gemm_float32_gflops"];
      gemm_cpu = ready.value("gemm_float32_gflops_per_cpu_s", 0.0);
    }
  }

  // Rounds: iclcert then every peer, float32 then float64; ratios per round.
  const char* dtypes[2] = {"float32", "float64"};
  std::map<std::string, Range> wall[2], cpu[2];
  Range best_ratio_wall[2], best_ratio_cpu[2], f32_over_f64, f32_over_f64_cpu;
  std::map<std::string, long> agree[2];
  for (int r = 1; r <= rounds; ++r) {
    Rate own[2];
    for (int t = 0; t < 2; ++t) {
      own[t] = t == 0 ? best_rate(m32.view(), block32, Detail::final_only, threads, repeat, out32)
                      : best_rate(m64.view(), block64, Detail::final_only, threads, repeat, out64);
      wall[t]["iclcert"].add(own[t].wall);
      cpu[t]["iclcert"].add(own[t].cpu);
      std::printf("round %d %s: iclcert (%s) %9.0f prompts/s %9.0f per CPU-s  %6.2f GFLOP/s", r, dtypes[t],
                  float_kernel_level(), own[t].wall, own[t].cpu, own[t].wall * flops / 1e9);
      double fastest = 0, fastest_cpu = 0;
      for (const std::string& p : peers) {
        const Json j = server->ask(p + " " + dtypes[t]);
        if (j.is_null()) continue;
        const double w = j["prompts_per_s"], c = j["prompts_per_cpu_s"];
        wall[t][p].add(w);
        cpu[t][p].add(c);
        const auto pred = read_predictions(dir / ("predictions_" + p + "_" + dtypes[t] + ".bin"), B);
        long same = 0;
        for (int b = 0; b < B; ++b) same += pred[b] == (t == 0 ? out32.predictions[b] : out64.predictions[b]);
        agree[t][p] = r == 1 ? same : std::min(agree[t][p], same);
        // A peer whose predictions disagree on more than 1% did not compute this recursion
        // (torch.compile under ATEN_CPU_CAPABILITY=avx2 agreed on about 30%): it is not the
        // peer to beat, whatever its speed.
        const bool computes_it = same >= B - B / 100;
        if (computes_it) {
          fastest = std::max(fastest, w);
          fastest_cpu = std::max(fastest_cpu, c);
        }
        std::printf("; %s %.0f (%.0f) = %.2fx (%.2fx)%s", p.c_str(), w, c, own[t].wall / w, own[t].cpu / c,
                    computes_it ? "" : " [predictions differ: not counted]");
      }
      std::printf("\n");
      if (fastest > 0) {
        best_ratio_wall[t].add(own[t].wall / fastest);
        best_ratio_cpu[t].add(own[t].cpu / fastest_cpu);
      }
    }
    f32_over_f64.add(own[0].wall / own[1].wall);
    f32_over_f64_cpu.add(own[0].cpu / own[1].cpu);
  }
  server.reset();
  std::filesystem::remove_all(dir);

  const Rate layers32 = best_rate(m32.view(), block32, Detail::per_layer, threads, repeat, out32_layers);
  std::printf("iclcert float32 with per-layer metrics: %.0f prompts/s, %.0f per CPU-s\n", layers32.wall, layers32.cpu);
  std::printf("SUMMARY over %d rounds, prompts/s (per CPU-second), lowest to highest:\n", rounds);
  for (int t = 0; t < 2; ++t)
    for (const auto& [side, w] : wall[t])
      std::printf("  %s %-8s %-22s %9.0f to %9.0f  (%9.0f to %9.0f)  predictions equal to iclcert's: %s\n",
                  dtypes[t], side.c_str(), side == "iclcert" ? float_kernel_level() : versions[side].c_str(), w.lo,
                  w.hi, cpu[t][side].lo, cpu[t][side].hi,
                  side == "iclcert" ? "-" : (std::to_string(agree[t][side]) + " of " + std::to_string(B)).c_str());
  for (int t = 0; t < 2; ++t)
    if (best_ratio_wall[t].hi > 0)
      std::printf("RATIO iclcert / fastest peer of the round (of those agreeing on 99%% of the predictions), %s: "
                  "%.2fx to %.2fx wall, %.2fx to %.2fx per CPU-s\n",
                  dtypes[t], best_ratio_wall[t].lo, best_ratio_wall[t].hi, best_ratio_cpu[t].lo, best_ratio_cpu[t].hi);
  std::printf("RATIO iclcert float32 / float64: %.2fx to %.2fx wall, %.2fx to %.2fx per CPU-s\n", f32_over_f64.lo,
              f32_over_f64.hi, f32_over_f64_cpu.lo, f32_over_f64_cpu.hi);
  // The second figure counts the CPU time each side got: when other jobs share
  // the cores, the wall-clock rates move with them.
  if (gemm > 0) {
    const double r32 = wall[0]["iclcert"].hi, c32 = cpu[0]["iclcert"].hi;
    std::printf("machine GEMM rate (float32 4096^3 in the peer process, measured now): %.1f GFLOP/s, %.1f GFLOP per "
                "CPU-s; iclcert float32 (best round) at %.1f%% of it by wall clock, %.1f%% per CPU-second\n",
                gemm, gemm_cpu, 100 * r32 * flops / 1e9 / gemm,
                gemm_cpu > 0 ? 100 * c32 * flops / 1e9 / gemm_cpu : 0.0);
  } else {
    std::printf("machine GEMM rate: not measured (no peer process)\n");
  }
  return 0;
}
