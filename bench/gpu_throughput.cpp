// The batch path on a GPU against the same recursion in PyTorch on the same device,
// measured in one run (issue 12): iclcert end to end through the public driver
// (run_batch over prompts_from_sampler: sampling, transfers and the kernel all in
// the time) and bench/pytorch_gpu.py (prompts sampled on the device with torch,
// torch.bmm / torch.softmax in chunks), for a reduced and a dense model, in
// float32 and float64, with GFLOP/s against the device's measured torch.mm peak.
//
//   gpu_throughput [--B 1000000] [--d 16] [--C 4] [--N 64] [--L 8] [--H 2]
//                  [--device cuda|cpu] [--threads T] [--models reduced,dense]
//                  [--arith float32,float64] [--chunk K] [--check K] [--peak-n n] [--no-torch]
//
// --device cuda needs a build with CUDA and a GPU; without either it exits 77 with
// the reason (as the GPU tests do). --device cpu runs the same comparison on the
// CPU (iclcert's CPU backend on --threads threads, torch on as many).
// --check K (default 4096, 0: none) runs the first K of iclcert's own prompts
// through the peer as well, in each arithmetic: it counts equal predictions (of
// the timed run) and compares the final probe margins with those of iclcert's CPU
// backend, a cross-check that both compute the same recursion (a transposed dense
// V moved the float64 margins by 58 where they agree to 3e-13; the timed peer runs
// on its own prompts).
// The torch part runs `python3` (or Debian's /usr/bin/python3 when the first has
// no torch; ICLCERT_PYTHON overrides); --no-torch or no torch skips it.
#include "gpu/batch_backend.hpp"
#include "gpu/batch_model.hpp"
#include "gpu/batch_run.hpp"
#include "io/json_reader.hpp"
#include "io/model_io.hpp"
#include "numerics/model.hpp"
#include "numerics/sampler.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

using namespace iclcert;
using namespace iclcert::gpu;

namespace {

constexpr int kSkipExit = 77;  // the tests' "skipped": no CUDA in this build or no GPU

// The reduced model's coefficients at every layer (issue 12).
const Rational kBeta(4, 5), kGamma(3, 2), kAlpha(1, 2), kAlphaLabel(1, 2);

constexpr const char* kUsage =
    "usage: gpu_throughput [--B 1000000] [--d 16] [--C 4] [--N 64] [--L 8] [--H 2] [--device cuda|cpu]\n"
    "                      [--threads T] [--models reduced,dense] [--arith float32,float64] [--chunk K]\n"
    "                      [--check K] [--peak-n n] [--no-torch]\n"
    "iclcert's run_batch against bench/pytorch_gpu.py on the same device (bench/README.md).\n";

struct Options {
  long B = 1000000;
  int d = 16, C = 4, N = 64, L = 8, H = 2;
  bool cuda = true;
  int threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::string> models{"reduced", "dense"}, ariths{"float32", "float64"};
  int chunk = 0;  // 0: BatchConfig's default (the driver's choice)
  long check = 4096;
  int peak_n = 0;  // 0: the peer's default
  bool torch = true;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

[[noreturn]] void usage_error(const std::string& why) {
  std::fprintf(stderr, "gpu_throughput: %s\n%s", why.c_str(), kUsage);
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--help" || k == "-h") {
      std::printf("%s", kUsage);
      std::exit(0);
    }
    if (k == "--no-torch") {
      o.torch = false;
      continue;
    }
    if (i + 1 >= argc) usage_error("option " + k + " needs a value");
    const std::string v = argv[++i];
    auto integer = [&](long lo) {
      char* end = nullptr;
      const long x = std::strtol(v.c_str(), &end, 10);
      if (end == v.c_str() || *end || x < lo) usage_error(k + " expects an integer >= " + std::to_string(lo));
      return x;
    };
    if (k == "--B") o.B = integer(1);
    else if (k == "--d") o.d = static_cast<int>(integer(1));
    else if (k == "--C") o.C = static_cast<int>(integer(2));
    else if (k == "--N") o.N = static_cast<int>(integer(1));
    else if (k == "--L") o.L = static_cast<int>(integer(1));
    else if (k == "--H") o.H = static_cast<int>(integer(1));
    else if (k == "--threads") o.threads = static_cast<int>(integer(1));
    else if (k == "--chunk") o.chunk = static_cast<int>(integer(1));
    else if (k == "--check") o.check = integer(0);
    else if (k == "--peak-n") o.peak_n = static_cast<int>(integer(1));
    else if (k == "--device") {
      if (v != "cuda" && v != "cpu") usage_error("--device expects cuda or cpu");
      o.cuda = v == "cuda";
    } else if (k == "--models") {
      o.models = split_list(v);
      for (const auto& m : o.models)
        if (m != "reduced" && m != "dense") usage_error("--models expects reduced,dense (or one of them)");
    } else if (k == "--arith") {
      o.ariths = split_list(v);
      for (const auto& a : o.ariths)
        if (a != "float32" && a != "float64") usage_error("--arith expects float32,float64 (or one of them)");
    } else {
      usage_error("unknown option " + k);
    }
  }
  if (o.models.empty() || o.ariths.empty()) usage_error("--models and --arith need at least one entry");
  o.check = std::min(o.check, o.B);
  return o;
}

Model reduced_model(int L) {
  Model m;
  for (int l = 0; l < L; ++l) m.layers.push_back(ReducedLayer<Rational>{{kBeta, kGamma, kAlpha, kAlphaLabel}, {}});
  return m;
}

// A fixed small integer in [-2, 2] for entry (r, c) of matrix `which` of head h
// of layer l: a multiplicative hash, so the matrices look random but are the same
// on every run and platform.
int fixed_noise(int l, int h, int which, int r, int c) {
  std::uint32_t x = static_cast<std::uint32_t>(((l * 8 + h) * 2 + which) * 4096 + r * 64 + c) + 1;
  x *= 2654435761u;
  x ^= x >> 15;
  x *= 2246822519u;
  x ^= x >> 13;
  return static_cast<int>(x % 5) - 2;
}

// L dense layers of H heads, D = d + C: per head S = diag(beta on x, gamma on y) / H
// plus noise in multiples of 1/64, V = diag(alpha on x, alpha' on y) / H plus noise
// in multiples of 1/128 (the reduced model spread over H heads, perturbed off the
// equivariant span). Every entry is dyadic and small: exact in float32, so both
// programs use the very same matrices.
Model dense_model(int d, int C, int L, int H) {
  const int D = d + C;
  Model m;
  m.d = d;
  m.C = C;
  for (int l = 0; l < L; ++l) {
    DenseLayer<Rational> layer;
    for (int h = 0; h < H; ++h) {
      DenseHead<Rational> head{Matrix<Rational>(D, D, Rational(0)), Matrix<Rational>(D, D, Rational(0))};
      for (int r = 0; r < D; ++r)
        for (int c = 0; c < D; ++c) {
          head.score(r, c) = Rational(fixed_noise(l, h, 0, r, c), 64);
          head.value(r, c) = Rational(fixed_noise(l, h, 1, r, c), 128);
        }
      for (int r = 0; r < D; ++r) {
        head.score(r, r) += (r < d ? kBeta : kGamma) / H;
        head.value(r, r) += (r < d ? kAlpha : kAlphaLabel) / H;
      }
      layer.heads.push_back(std::move(head));
    }
    // Built in place: g++ 12 warns (falsely) that moving a variant reads the
    // disengaged optional of its reduced alternative.
    m.layers.emplace_back(std::in_place_type<DenseLayer<Rational>>, std::move(layer));
  }
  return m;
}

// Useful flops per prompt and layer (padding and the probe's unused key not counted):
//   reduced: per query row (N + 1 of them) scores 2DN, softmax 4N (subtract, exp,
//            add, divide), aggregate 2DN, query scaling D and update 2D:
//            4DN + 4N + 3D (as bench/batch_throughput);
//   dense:   per head, keys S z_i and values V z_i of the N key rows, 2D^2 each:
//            4 D^2 N; then per query row scores 2DN, softmax 4N, aggregate 2DN and
//            the add of the head's output D: 4DN + 4N + D.
double flops_per_prompt(const std::string& model, const Options& o) {
  const double D = o.d + o.C, N = o.N, rows = N + 1;
  if (model == "reduced") return o.L * rows * (4 * D * N + 4 * N + 3 * D);
  return o.L * o.H * (4 * D * D * N + rows * (4 * D * N + 4 * N + D));
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string python_with_torch() {
  if (const char* env = std::getenv("ICLCERT_PYTHON")) return env;
  for (const char* py : {"python3", "/usr/bin/python3"})
    if (std::system((std::string(py) + " -c 'import torch' >/dev/null 2>&1").c_str()) == 0) return py;
  return "";
}

// Runs the peer; its JSON line, or null (with the reason on stderr) when it fails.
Json run_peer(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return Json();
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  if (pclose(p) != 0 || out.empty()) {
    std::fprintf(stderr, "gpu_throughput: the PyTorch peer failed: %s\n", command.c_str());
    return Json();
  }
  try {  // the last line: the peer prints its JSON last
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return Json::parse(out.substr(out.rfind('\n') + 1));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gpu_throughput: unreadable peer output (%s): %s\n", e.what(), out.c_str());
    return Json();
  }
}

template <class T>
void write_raw(const std::filesystem::path& p, const std::vector<T>& v) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(T)));
}

template <class T>
std::vector<T> read_raw(const std::filesystem::path& p, std::size_t n) {
  std::vector<T> v(n);
  std::ifstream f(p, std::ios::binary);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T)));
  if (!f) v.clear();
  return v;
}

struct IclcertRun {
  double seconds = 0;
  long labelled = 0, correct = 0;
  std::vector<std::uint16_t> first;  // predictions of the first --check prompts
  std::string device;
};

// One warm-up batch (CUDA context, allocations), then the timed run of all B prompts.
IclcertRun run_iclcert(const SamplerOptions& so, const Model& model, BatchArith arith, const Options& o) {
  BatchConfig config;
  config.arith = arith;
  config.device = o.cuda ? DeviceChoice::cuda : DeviceChoice::cpu;
  config.threads = o.threads;
  if (o.chunk > 0) config.chunk = o.chunk, config.chunk_given = true;
  config.progress = false;
  config.detail = Detail::final_only;
  (void)run_batch(*prompts_from_sampler(so, std::min<long>(o.B, 8192), o.threads), model, config);
  const auto source = prompts_from_sampler(so, o.B, o.threads);
  const auto start = std::chrono::steady_clock::now();
  BatchResult r = run_batch(*source, model, config);
  IclcertRun out;
  out.seconds = seconds_since(start);
  out.labelled = r.labelled;
  out.correct = r.correct;
  out.first.assign(r.predictions.begin(), r.predictions.begin() + o.check);
  out.device = r.device;
  return out;
}

struct Agreement {
  long equal = 0, total = 0;
  double largest_gap = 0;        // the peer's top-2 gap of the label block, over the prompts that differ
  double margin_difference = 0;  // the largest |iclcert's probe margin - the peer's|
  double margin_scale = 0;       // the largest |probe margin| (the peer's)
};

// The final probe margins of the check prompts from iclcert's CPU backend (the
// CUDA backend is tested to give the CPU's values): what the peer's label blocks
// are compared with, a finer test of the same recursion than the predictions.
template <class T>
std::vector<double> cpu_margins(const SamplerOptions& so, const Model& model, const Options& o) {
  PromptBlock<T> block;
  prompts_from_sampler(so, o.check, o.threads)->fill(0, static_cast<int>(o.check), block);
  const BatchModel<T> m = make_batch_model<T>(model, o.d, o.C);
  BlockOutput<T> out;
  run_block_cpu(m.view(), block, Detail::final_only, o.threads, out);
  return {out.probe_margins.begin(), out.probe_margins.end()};
}

// iclcert's predictions and margins against the peer's on the same prompts (check mode).
Agreement compare_with_peer(const std::vector<std::uint16_t>& mine, const std::vector<double>& my_margins,
                            const std::vector<std::int32_t>& probe_labels, const std::vector<std::int32_t>& theirs,
                            const std::vector<double>& blocks, int C) {
  Agreement a;
  a.total = static_cast<long>(mine.size());
  for (std::size_t b = 0; b < mine.size(); ++b) {
    const double* y = blocks.data() + b * C;
    double other = -INFINITY;
    for (int c = 0; c < C; ++c)
      if (c != probe_labels[b]) other = std::max(other, y[c]);
    const double margin = y[probe_labels[b]] - other;
    a.margin_difference = std::max(a.margin_difference, std::abs(margin - my_margins[b]));
    a.margin_scale = std::max(a.margin_scale, std::abs(margin));
    if (mine[b] == theirs[b]) {
      ++a.equal;
      continue;
    }
    std::vector<double> sorted(y, y + C);
    std::sort(sorted.rbegin(), sorted.rend());
    a.largest_gap = std::max(a.largest_gap, sorted[0] - sorted[1]);
  }
  return a;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // the table and the progress notes on stderr in order
  const Options o = parse(argc, argv);
  std::string command_line = "gpu_throughput";
  for (int i = 1; i < argc; ++i) command_line += std::string(" ") + argv[i];
  std::printf("command: %s\n", command_line.c_str());
  std::printf("B = %ld, d = %d, C = %d, N = %d, L = %d, dense heads H = %d, device %s, %d host threads, chunk %s\n",
              o.B, o.d, o.C, o.N, o.L, o.H, o.cuda ? "cuda" : "cpu", o.threads,
              o.chunk > 0 ? std::to_string(o.chunk).c_str() : "the driver's default");
  if (o.cuda) {
    std::string why;
    if (!built_with_cuda() || cuda_device_count(why) == 0) {
      std::fprintf(stderr, "gpu_throughput: --device cuda: %s; configure with -DICLCERT_WITH_CUDA=ON on a machine "
                           "with nvcc and run on one with a GPU, or use --device cpu\n",
                   built_with_cuda() ? ("no usable CUDA device (" + why + ")").c_str()
                                     : "this build has no CUDA backend (no nvcc at configure time)");
      return kSkipExit;
    }
  }

  const int D = o.d + o.C;
  std::map<std::string, Model> models{{"reduced", reduced_model(o.L)}, {"dense", dense_model(o.d, o.C, o.L, o.H)}};
  SamplerOptions so;
  so.d = o.d;
  so.C = o.C;
  so.N = o.N;
  so.seed = 1;

  // The sampler alone on the first prompts: how much of iclcert's end-to-end time is sampling.
  double sampler_rate = 0;
  {
    const int n = static_cast<int>(std::min<long>(o.B, 65536));
    PromptBlock<float> block;
    const auto source = prompts_from_sampler(so, n, o.threads);
    const auto start = std::chrono::steady_clock::now();
    source->fill(0, n, block);
    sampler_rate = n / seconds_since(start);
    std::printf("iclcert's sampler alone (prompts_from_sampler, %d threads, %d prompts): %.0f prompts/s\n",
                o.threads, n, sampler_rate);
  }

  const std::string py = o.torch ? python_with_torch() : "";
  const auto dir = std::filesystem::temp_directory_path() / ("iclcert_gpu_bench_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  const std::string script = std::string(ICLCERT_SOURCE_DIR) + "/bench/pytorch_gpu.py";
  if (o.torch && py.empty())
    std::printf("PyTorch: no python3 with torch (ICLCERT_PYTHON overrides): PyTorch columns skipped\n");
  std::vector<std::int32_t> check_probe_labels;
  if (!py.empty()) {
    std::ofstream(dir / "dense_model.json") << model_to_json(models["dense"]).dump() << "\n";
    if (o.check > 0) {  // the first K of iclcert's prompts, for the cross-check
      PromptBlock<double> block;
      prompts_from_sampler(so, o.check, o.threads)->fill(0, static_cast<int>(o.check), block);
      write_raw(dir / "X.bin", block.X);
      write_raw(dir / "probe.bin", block.probe);
      write_raw(dir / "labels.bin", block.labels);
      check_probe_labels = block.probe_label;  // every sampled prompt has one
    }
  }
  auto peer_command = [&](const std::string& model, const std::string& dtype, bool peak, bool check) {
    std::string c = py + " " + shell_quote(script) + " --device " + (o.cuda ? "cuda" : "cpu") + " --dtype " + dtype +
                    " --model " + model + " --B " + std::to_string(check ? o.check : o.B) + " --d " +
                    std::to_string(o.d) + " --C " + std::to_string(o.C) + " --N " + std::to_string(o.N) + " --L " +
                    std::to_string(o.L) + " --beta 0.8 --gamma 1.5 --alpha 0.5 --alpha-label 0.5";
    if (model == "dense") c += " --model-file " + shell_quote((dir / "dense_model.json").string());
    if (!o.cuda) c += " --threads " + std::to_string(o.threads);
    if (peak) c += " --peak" + (o.peak_n ? " --peak-n " + std::to_string(o.peak_n) : std::string());
    if (check) c += " --input-dir " + shell_quote(dir.string());
    return c;
  };

  struct Row {
    std::string model, arith;
    IclcertRun mine;
    Json torch, check;
    Agreement agreement;
  };
  std::vector<Row> rows;
  Json peak;  // {"float32": GFLOP/s, "float64": GFLOP/s} from the peer
  std::string device_name = "unknown (no torch)", torch_version;
  try {
    for (const auto& model : o.models)
      for (const auto& arith : o.ariths) {
        Row row{model, arith, {}, Json(), Json(), {}};
        std::fprintf(stderr, "gpu_throughput: %s model, %s: iclcert...\n", model.c_str(), arith.c_str());
        row.mine = run_iclcert(so, models[model], arith == "float32" ? BatchArith::float32 : BatchArith::float64, o);
        if (!py.empty()) {
          std::fprintf(stderr, "gpu_throughput: %s model, %s: PyTorch...\n", model.c_str(), arith.c_str());
          row.torch = run_peer(peer_command(model, arith, peak.is_null(), false));
          if (!row.torch.is_null()) {
            if (row.torch.contains("peak_gflops")) peak = row.torch["peak_gflops"];
            device_name = row.torch["device_name"].get<std::string>();
            torch_version = row.torch["torch"].get<std::string>();
          }
          if (o.check > 0) {
            row.check = run_peer(peer_command(model, arith, false, true));
            const auto theirs = read_raw<std::int32_t>(dir / "predictions.bin", o.check);
            const auto blocks = read_raw<double>(dir / "probe_labels.bin", o.check * o.C);
            if (!row.check.is_null() && !theirs.empty() && !blocks.empty())
              row.agreement = compare_with_peer(
                  row.mine.first,
                  arith == "float32" ? cpu_margins<float>(so, models[model], o) : cpu_margins<double>(so, models[model], o),
                  check_probe_labels, theirs, blocks, o.C);
          }
        }
        rows.push_back(std::move(row));
      }
  } catch (const std::exception& e) {
    std::filesystem::remove_all(dir);
    std::fprintf(stderr, "gpu_throughput: %s\n", e.what());
    return 2;
  }
  std::filesystem::remove_all(dir);

  std::printf("device: %s%s\n", device_name.c_str(),
              torch_version.empty() ? "" : (" (torch " + torch_version + ")").c_str());
  if (!peak.is_null())
    std::printf("device peak (square torch.mm, best of 3, TF32 off): float32 %.1f GFLOP/s, float64 %.1f GFLOP/s\n",
                peak["float32"].get<double>(), peak["float64"].get<double>());
  bool above_peak = false;
  for (const auto& r : rows) {
    const double flops = flops_per_prompt(r.model, o);
    const double mine = o.B / r.mine.seconds;
    const double peak_of = peak.is_null() ? 0 : peak[r.arith].get<double>();
    std::printf("\n== %s model (%d layers%s, D = %d), %s: %.3f MFLOP counted per prompt ==\n", r.model.c_str(), o.L,
                r.model == "dense" ? (", " + std::to_string(o.H) + " heads").c_str() : "", D, r.arith.c_str(),
                flops / 1e6);
    std::printf("  %-34s %12s %10s %9s\n", "", "prompts/s", "GFLOP/s", "of peak");
    auto line = [&](const std::string& who, double rate) {
      const double gflops = rate * flops / 1e9;
      above_peak = above_peak || (peak_of > 0 && gflops > peak_of);
      if (peak_of > 0) std::printf("  %-34s %12.0f %10.2f %8.3f%%\n", who.c_str(), rate, gflops, 100 * gflops / peak_of);
      else std::printf("  %-34s %12.0f %10.2f %9s\n", who.c_str(), rate, gflops, "?");
    };
    line("iclcert run_batch, " + r.mine.device, mine);
    if (r.torch.is_null()) {
      std::printf("  PyTorch: %s\n", py.empty() ? "not run" : "failed (see above)");
    } else {
      const double theirs = r.torch["prompts_per_s"].get<double>();
      line("PyTorch " + torch_version + " (" + r.torch["device"].get<std::string>() + ")", theirs);
      std::printf("  RATIO iclcert / PyTorch: %.2fx  (%.3f s against %.3f s", mine / theirs, r.mine.seconds,
                  r.torch["seconds"].get<double>());
      if (r.torch.contains("peak_memory_gib"))
        std::printf("; torch peak memory %.1f GiB, chunk %ld", r.torch["peak_memory_gib"].get<double>(),
                    r.torch["chunk"].get<long>());
      std::printf(")\n");
    }
    std::printf("  iclcert: its host sampler alone would take %.0f%% of this time; accuracy %ld of %ld (%.3f)\n",
                100 * (o.B / sampler_rate) / r.mine.seconds, r.mine.correct, r.mine.labelled,
                r.mine.labelled ? static_cast<double>(r.mine.correct) / r.mine.labelled : 0.0);
    if (r.agreement.total > 0) {
      std::printf("  same prompts: predictions equal to PyTorch's on %ld of %ld", r.agreement.equal, r.agreement.total);
      if (r.agreement.equal < r.agreement.total)
        std::printf(" (where they differ, PyTorch's top-2 label gap is at most %.3g)", r.agreement.largest_gap);
      std::printf(";\n  final probe margins differ by at most %.3g (largest |margin| %.3g)\n",
                  r.agreement.margin_difference, r.agreement.margin_scale);
    }
  }
  if (above_peak)
    std::printf("\nnote: a rate above the torch.mm peak: torch's GEMM is slow here (on a CPU, the reference BLAS "
                "without OpenBLAS: docs/toolchain.md), so the fractions of peak say little\n");
  // The float32 and float64 runs of iclcert on the same prompts: the float noise to
  // weigh the agreement with PyTorch against.
  for (const auto& model : o.models) {
    const Row *a = nullptr, *b = nullptr;
    for (const auto& r : rows)
      if (r.model == model) (r.arith == "float32" ? a : b) = &r;
    if (a && b && o.check > 0) {
      long equal = 0;
      for (long k = 0; k < o.check; ++k) equal += a->mine.first[k] == b->mine.first[k];
      std::printf("\n%s model: iclcert float32 and float64 predictions equal on %ld of %ld prompts\n", model.c_str(),
                  equal, o.check);
    }
  }
  return 0;
}
