// Throughput of the templated core and the price of each arithmetic, measured in
// one run: double at (N=64, d=16, C=4, L=8), then mpfr:256 (softmax) and rational
// (linear kernel) at the same size, and the ratios of their times to double's.
//
// FLOP count per prompt-layer (reduced form, one head, n = N+1 rows, N keys,
// D = d+C): queries n*D, the two Gram products (feature and label blocks of
// <q_j, z_i>) 2*n*N*D, the softmax ~ 4*n*N (subtract, exp counted as one, sum,
// divide), the update A Z 2*n*N*D and the scaling 2*n*D.
#include "numerics/recursion.hpp"
#include "numerics/scalar_double.hpp"
#include "numerics/scalar_mpfr.hpp"
#include "numerics/scalar_rational.hpp"
#include "numerics/sampler.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <string>

namespace {

using namespace iclcert;

constexpr int kD = 16, kC = 4, kN = 64, kL = 8;

double flops_per_prompt_layer() {
  const double n = kN + 1, D = kD + kC;
  return n * D + 2 * n * kN * D + 4 * n * kN + 2 * n * kN * D + 2 * n * D;
}

Prompt bench_prompt() {
  SamplerOptions o;
  o.d = kD;
  o.C = kC;
  o.N = kN;
  o.seed = 2026;
  return sample_prompt(o);
}

Model bench_model(Kernel kernel, int layers) {
  Model m;
  m.kernel = kernel;
  for (int l = 0; l < layers; ++l)
    m.layers.push_back(ReducedLayer<Rational>{{Rational(1, 8), Rational(1), Rational(1, 2), Rational(1, 2)}, std::nullopt});
  return m;
}

template <class T>
void run_core(benchmark::State& state, Kernel kernel, int layers = kL) {
  const Prompt p = bench_prompt();
  const Model m = bench_model(kernel, layers);
  for (auto _ : state) {
    Trace<T> t = run_recursion<T>(p, m);
    benchmark::DoNotOptimize(t.entries.back().state.Z.data().data());
  }
  const double prompt_layers = static_cast<double>(state.iterations()) * layers;
  state.counters["prompt_layers/s"] = benchmark::Counter(prompt_layers, benchmark::Counter::kIsRate);
  state.counters["GFLOP/s"] =
      benchmark::Counter(prompt_layers * flops_per_prompt_layer() * 1e-9, benchmark::Counter::kIsRate);
}

void BM_double_softmax(benchmark::State& s) { run_core<double>(s, Kernel::softmax); }
void BM_double_linear(benchmark::State& s) { run_core<double>(s, Kernel::linear); }
void BM_mpfr256_softmax(benchmark::State& s) {
  MpfrPrecision scope(256);
  run_core<MpfrReal>(s, Kernel::softmax);
}
// Exact rationals roughly triple their digits per layer (a layer is cubic in the
// state), so 8 layers would take hours: the exact cost is measured at L = 3 and
// compared with double at L = 3.
constexpr int kRationalLayers = 3;
void BM_double_linear_L3(benchmark::State& s) { run_core<double>(s, Kernel::linear, kRationalLayers); }
void BM_rational_linear_L3(benchmark::State& s) { run_core<Rational>(s, Kernel::linear, kRationalLayers); }

BENCHMARK(BM_double_softmax)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_double_linear)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mpfr256_softmax)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_double_linear_L3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rational_linear_L3)->Unit(benchmark::kMillisecond)->Iterations(1);

// Keeps each benchmark's time per iteration so the ratios come from this run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) seconds_[r.benchmark_name()] = r.GetAdjustedRealTime();
    ConsoleReporter::ReportRuns(runs);
  }
  double time(const std::string& name) const {
    auto it = seconds_.find(name);
    return it == seconds_.end() ? 0 : it->second;
  }

 private:
  std::map<std::string, double> seconds_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  const double dbl_soft = reporter.time("BM_double_softmax"), dbl_lin = reporter.time("BM_double_linear_L3");
  const double mpfr = reporter.time("BM_mpfr256_softmax/iterations:3");
  const double rat = reporter.time("BM_rational_linear_L3/iterations:1");
  std::printf("\nsize: N=%d d=%d C=%d L=%d; %.0f flop per prompt-layer\n", kN, kD, kC, kL, flops_per_prompt_layer());
  if (dbl_soft > 0 && mpfr > 0) std::printf("cost ratio mpfr:256 / double (softmax): %.1f\n", mpfr / dbl_soft);
  if (dbl_lin > 0 && rat > 0)
    std::printf("cost ratio rational / double (linear, L=%d): %.1f\n", kRationalLayers, rat / dbl_lin);
  benchmark::Shutdown();
  return 0;
}
