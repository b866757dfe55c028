// The price of certainty, measured in one run: the time of a certified A2 check
// (interval:128, Arb and MPFI) over the time of a double run of the same instance,
// at (N=32, d=8, C=3, L=8). A plain program: no Google Benchmark needed.
#include "claims/separation.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/interval_mpfi.hpp"
#include "numerics/scalar_double.hpp"
#include "numerics/sampler.hpp"

#include <chrono>
#include <cstdio>

using namespace iclcert;

template <class F>
double seconds_per_call(F&& f, int repeats) {
  const auto start = std::chrono::steady_clock::now();
  for (int k = 0; k < repeats; ++k) f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / repeats;
}

int main() {
  SamplerOptions o;
  o.d = 8;
  o.C = 3;
  o.N = 32;
  o.seed = 2026;
  const Prompt p = sample_prompt(o);
  Model m;
  for (int l = 0; l < 8; ++l)
    m.layers.push_back(ReducedLayer<Rational>{{Rational(1, 8), Rational(1), Rational(1, 2), Rational(1, 2)}, std::nullopt});

  const double dbl = seconds_per_call([&] { return run_recursion<double>(p, m).entries.size(); }, 200);
  WorkingPrecision bits(128);
  claims::Verdict arb_verdict{}, mpfi_verdict{};
  const double arb = seconds_per_call([&] { arb_verdict = claims::check_separation<ArbBall>("A2", p, m, {}).verdict; }, 10);
  const double mpfi =
      seconds_per_call([&] { mpfi_verdict = claims::check_separation<MpfiInterval>("A2", p, m, {}).verdict; }, 10);
  std::printf("instance: N=32 d=8 C=3 L=8 (seed 2026), A2 on the Fisher ratio\n");
  std::printf("double run:              %9.3f ms\n", dbl * 1e3);
  std::printf("check A2, interval:128:  %9.3f ms  (%s)  price of certainty %.0fx\n", arb * 1e3,
              claims::to_string(arb_verdict), arb / dbl);
  std::printf("check A2, interval-mpfi: %9.3f ms  (%s)  price of certainty %.0fx\n", mpfi * 1e3,
              claims::to_string(mpfi_verdict), mpfi / dbl);
  std::printf("MPFI / Arb: %.2f\n", mpfi / arb);
  return 0;
}
