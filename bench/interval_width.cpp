// Interval width per layer at depth 32: how fast the enclosures of the default
// prompt widen through examples/deep32_model.json (the default model's layer,
// 32 times), in Arb and MPFI at 128 and 256 bits, and the cost of one exp in each.
// A plain program (no Google Benchmark): prints a table, checks nothing.
//
//   interval_width [PROMPT MODEL]   (default: the files in examples/)
#include "io/model_io.hpp"
#include "io/prompt_io.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/interval_mpfi.hpp"
#include "numerics/recursion.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <string>

namespace iclcert {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Largest width over the state (X and Y) of each entry.
template <class I>
std::vector<double> widths_per_layer(const Trace<I>& trace) {
  std::vector<double> out;
  for (const auto& e : trace.entries) {
    double w = 0;
    for (const I& v : e.state.Z.data()) w = std::max(w, ScalarTraits<I>::width(v));
    out.push_back(w);
  }
  return out;
}

// Largest |entry| (midpoints) of each entry's state: the scale of the widths.
template <class I>
std::vector<double> magnitudes_per_layer(const Trace<I>& trace) {
  std::vector<double> out;
  for (const auto& e : trace.entries) {
    double m = 0;
    for (const I& v : e.state.Z.data()) m = std::max(m, std::abs(ScalarTraits<I>::to_double(v)));
    out.push_back(m);
  }
  return out;
}

template <class I>
double exp_nanoseconds(long bits) {
  WorkingPrecision scope(bits);
  const int n = 20000;
  I x = from_rational<I>(Rational(-7, 3)), acc = from_int<I>(0);
  const I step = from_rational<I>(Rational(1, 4096));
  const auto start = Clock::now();
  for (int i = 0; i < n; ++i) {
    acc += ScalarTraits<I>::exp(x);
    x += step;
  }
  return seconds_since(start) / n * 1e9;
}

int run(const std::string& prompt_path, const std::string& model_path) {
  const Prompt p = read_prompt_file(prompt_path).at(0);
  const Model m = read_model_file(model_path);
  std::printf("prompt %s (d=%d C=%d N=%d), model %s (%zu layers)\n", prompt_path.c_str(), p.d, p.C, p.N,
              model_path.c_str(), m.layers.size());
  std::vector<std::vector<double>> columns;
  std::vector<std::string> names;
  std::vector<double> scale;
  for (long bits : {128L, 256L}) {
    WorkingPrecision scope(bits);
    auto start = Clock::now();
    const Trace<ArbBall> arb_trace = run_recursion<ArbBall>(p, m);
    const auto arb = widths_per_layer(arb_trace);
    const double t_arb = seconds_since(start);
    start = Clock::now();
    const auto mpfi = widths_per_layer(run_recursion<MpfiInterval>(p, m));
    const double t_mpfi = seconds_since(start);
    std::printf("%ld bits: run %.2f s (Arb), %.2f s (MPFI)\n", bits, t_arb, t_mpfi);
    if (scale.empty()) scale = magnitudes_per_layer(arb_trace);
    columns.push_back(arb);
    columns.push_back(mpfi);
    names.push_back("arb:" + std::to_string(bits));
    names.push_back("mpfi:" + std::to_string(bits));
  }
  std::printf("\nlargest width of a state entry after t layers\n%4s", "t");
  for (const auto& n : names) std::printf(" %12s", n.c_str());
  std::printf(" %12s\n", "max |entry|");
  for (std::size_t t = 0; t < columns[0].size(); ++t) {
    std::printf("%4zu", t);
    for (const auto& c : columns) std::printf(" %12.3e", c[t]);
    std::printf(" %12.4g\n", scale[t]);
  }
  std::printf("\nexp of one enclosure (ns)\n");
  for (long bits : {128L, 256L})
    std::printf("%4ld bits: Arb %.0f, MPFI %.0f\n", bits, exp_nanoseconds<ArbBall>(bits),
                exp_nanoseconds<MpfiInterval>(bits));
  return 0;
}

}  // namespace
}  // namespace iclcert

int main(int argc, char** argv) {
  const std::string dir = ICLCERT_EXAMPLES_DIR;
  if (argc != 1 && argc != 3) {
    std::fprintf(stderr, "usage: interval_width [PROMPT MODEL]\n");
    return 2;
  }
  try {
    return iclcert::run(argc == 3 ? argv[1] : dir + "/default_prompt.json",
                        argc == 3 ? argv[2] : dir + "/deep32_model.json");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "interval_width: %s\n", e.what());
    return 2;
  }
}
