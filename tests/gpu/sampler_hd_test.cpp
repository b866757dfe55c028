// The __host__ __device__ sampler (gpu/sample_kernel.hpp) against its references:
// its log against mpfr_log (correctly rounded, 53 bits) and its error bound
// against MPFR at 256 bits; its prompts against sample_prompt_doubles, bit for
// bit; and a planted bug (a truncated log series) that these checks must catch.
// Case counts scale with ICLCERT_TEST_SCALE.
#include "gpu/sample_kernel.hpp"

#include <gtest/gtest.h>
#include <mpfr.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "numerics/sampler.hpp"
#include "support/instances.hpp"

namespace iclcert {
namespace {

namespace hd = gpu::sampler_hd;

// mpfr_log at 53 bits, rounded to nearest: what the reference sampler uses.
double mpfr_log_rounded(double s) {
  mpfr_t f;
  mpfr_init2(f, 53);
  mpfr_set_d(f, s, MPFR_RNDN);
  mpfr_log(f, f, MPFR_RNDN);
  const double out = mpfr_get_d(f, MPFR_RNDN);
  mpfr_clear(f);
  return out;
}

// |(hi + lo) - log s| / |log s|, from MPFR at 256 bits (far beyond the 2^-96 claimed).
double relative_error(double s, hd::DoubleWord l) {
  mpfr_t exact, got;
  mpfr_inits2(256, exact, got, static_cast<mpfr_ptr>(nullptr));
  mpfr_set_d(exact, s, MPFR_RNDN);
  mpfr_log(exact, exact, MPFR_RNDN);
  mpfr_set_d(got, l.hi, MPFR_RNDN);
  mpfr_add_d(got, got, l.lo, MPFR_RNDN);  // exact at 256 bits
  mpfr_sub(got, got, exact, MPFR_RNDN);
  mpfr_div(got, got, exact, MPFR_RNDN);
  const double out = std::fabs(mpfr_get_d(got, MPFR_RNDU));
  mpfr_clears(exact, got, static_cast<mpfr_ptr>(nullptr));
  return out;
}

// The arguments of the log checks, by kind: the sampler's own s = u^2 + v^2, s
// just below 1 (tiny logs), s around powers of two (where the reduction switches
// exponent), around the reduction threshold 1/sqrt 2, and tiny s.
struct Arguments {
  std::string kind;
  std::vector<double> s;
};

std::vector<Arguments> log_arguments() {
  std::vector<Arguments> all;
  const int scale = testing::scaled(1);
  {
    Arguments a{"sampler's s = u^2 + v^2", {}};
    hd::Xoshiro256 rng(20240611);
    while (static_cast<int>(a.s.size()) < 600'000 * scale) {
      const double u = 2.0 * rng.uniform() - 1.0, v = 2.0 * rng.uniform() - 1.0;
      const double s = hd::mul_rn(u, u) + hd::mul_rn(v, v);
      if (s < 1.0 && s != 0.0) a.s.push_back(s);
    }
    all.push_back(std::move(a));
  }
  {
    Arguments a{"1 - k 2^-53 (tiny logs)", {}};
    for (int k = 1; k <= 100'000 * scale; ++k) a.s.push_back(1.0 - k * 0x1p-53);
    all.push_back(std::move(a));
  }
  {
    Arguments a{"2^-j (1 +- i ulp), j = 1..104", {}};
    for (int j = 1; j <= 104; ++j) {
      const double p = std::ldexp(1.0, -j);
      a.s.push_back(p);
      for (int i = 1; i <= 1000 * scale; ++i) {
        a.s.push_back(p * (1.0 + i * 0x1p-52));  // exact
        a.s.push_back(p * (1.0 - i * 0x1p-53));
      }
    }
    all.push_back(std::move(a));
  }
  {
    Arguments a{"2^-j (1/sqrt 2 +- i ulp)", {}};
    for (int j = 0; j <= 100; j += 4)
      for (int i = -500; i <= 500; ++i)
        a.s.push_back(std::ldexp(hd::kRangeLow + i * 0x1p-53, -j));  // exact
    all.push_back(std::move(a));
  }
  {
    Arguments a{"tiny s = (a^2 + b^2) 2^-104", {}};
    for (int x = 0; x <= 300; ++x)
      for (int y = 1; y <= 300; ++y) a.s.push_back((static_cast<double>(x) * x + static_cast<double>(y) * y) * 0x1p-104);
    all.push_back(std::move(a));
  }
  return all;
}

struct LogStats {
  long points = 0, undecided = 0, wrong = 0;
  double first_wrong = 0;
};

template <int kTerms>
LogStats check_log(const std::vector<double>& args) {
  LogStats st;
  for (double s : args) {
    ++st.points;
    double got;
    if (!hd::log_rounded<kTerms>(s, &got)) {
      ++st.undecided;
      continue;
    }
    if (got != mpfr_log_rounded(s)) {
      if (st.wrong++ == 0) st.first_wrong = s;
    }
  }
  return st;
}

TEST(SamplerHd, SeriesConstantsAreTheRoundedValues) {
  mpfr_t c, rest;
  mpfr_inits2(300, c, rest, static_cast<mpfr_ptr>(nullptr));
  auto expect_word = [&](hd::DoubleWord w, const char* what) {
    EXPECT_EQ(w.hi, mpfr_get_d(c, MPFR_RNDN)) << what;
    mpfr_sub_d(rest, c, w.hi, MPFR_RNDN);
    EXPECT_EQ(w.lo, mpfr_get_d(rest, MPFR_RNDN)) << what;
  };
  for (int k = 0; k < hd::kLogSeriesTerms; ++k) {
    mpfr_set_ui(c, 1, MPFR_RNDN);
    mpfr_div_ui(c, c, 2 * k + 1, MPFR_RNDN);
    expect_word(hd::log_series_coefficient(k), ("1/(2k+1), k = " + std::to_string(k)).c_str());
  }
  mpfr_const_log2(c, MPFR_RNDN);
  expect_word(hd::kLn2, "ln 2");
  EXPECT_EQ(hd::kRangeLow, std::sqrt(0.5));
  mpfr_clears(c, rest, static_cast<mpfr_ptr>(nullptr));
}

// (a) Every decided log is mpfr_log's; undecided ones are rare.
TEST(SamplerHd, LogIsCorrectlyRoundedWhereItDecides) {
  long points = 0, undecided = 0;
  for (const Arguments& a : log_arguments()) {
    const LogStats st = check_log<hd::kLogSeriesTerms>(a.s);
    std::printf("  %-32s %8ld points, %4ld undecided, %ld wrong\n", a.kind.c_str(), st.points, st.undecided,
                st.wrong);
    EXPECT_EQ(st.wrong, 0) << a.kind << ", first at s = " << st.first_wrong;
    points += st.points;
    undecided += st.undecided;
  }
  std::printf("log: %ld points, %ld undecided (%.2g)\n", points, undecided, static_cast<double>(undecided) / points);
  EXPECT_GE(points, 1'000'000);
  EXPECT_LE(undecided, points / 10'000);
}

// The proved bound |L - log s| <= 2^-96 |log s|, measured at 256 bits on every
// 8th argument: what the rounding test relies on.
TEST(SamplerHd, LogErrorIsWithinTheProvedBound) {
  double worst = 0, worst_s = 0;
  long points = 0;
  for (const Arguments& a : log_arguments())
    for (std::size_t i = 0; i < a.s.size(); i += 8) {
      const double e = relative_error(a.s[i], hd::log_double_word(a.s[i]));
      ++points;
      if (e > worst) worst = e, worst_s = a.s[i];
    }
  std::printf("largest relative error of the double-word log: %.3g u^2 (u = 2^-53; proved < 710 u^2 < 2^-96), "
              "at s = %a, over %ld points\n",
              worst / 0x1p-106, worst_s, points);
  EXPECT_LE(worst, 0x1p-96) << "at s = " << worst_s;
}

// (c) The checks catch a wrong log: a series cut after 8 terms (its error, up to
// about tau^8 / 17 ~ 2^-45, exceeds the claimed bound) gives wrong decisions.
TEST(SamplerHd, PlantedBugTruncatedSeriesIsCaught) {
  const std::vector<Arguments> args = log_arguments();
  const LogStats st = check_log<8>(args[0].s);
  std::printf("planted bug (8 series terms): %ld wrong of %ld decided\n", st.wrong, st.points - st.undecided);
  EXPECT_GT(st.wrong, 0);
  double worst = 0;
  for (std::size_t i = 0; i < args[0].s.size(); i += 64)
    worst = std::max(worst, relative_error(args[0].s[i], hd::log_double_word<16>(args[0].s[i])));
  std::printf("planted bug (16 series terms): largest relative error %.3g u^2\n", worst / 0x1p-106);
  EXPECT_GT(worst, 0x1p-96);  // 16 terms: tau^16 / 33 ~ 2^-86 breaks the bound check
}

// Where it cannot decide, it says so: logs within 2^-96 of a rounding boundary
// (log(1 - k 2^-53) = -x - x^2/2 - x^3/3 - ..., x = k 2^-53, lies within about
// x^3/3 of a midpoint for k = 2, 12, 40, 56) and classes within the score bound.
TEST(SamplerHd, RefusesWhatItCannotDecide) {
  double out;
  for (int k : {2, 12, 40, 56}) EXPECT_FALSE(hd::log_rounded(1.0 - k * 0x1p-53, &out)) << "k = " << k;
  EXPECT_TRUE(hd::log_rounded(1.0 - 3 * 0x1p-53, &out));
  EXPECT_EQ(out, mpfr_log_rounded(1.0 - 3 * 0x1p-53));

  const double W[] = {1.0, 2.0, 1.0, 2.0, 0.5, 1.0};  // rows of C = 3 classes, d = 2
  const double x[] = {1.0, 1.0};
  EXPECT_EQ(hd::classify(W, x, 3, 2), -1);  // scores 3, 3, 1.5: a tie at the top
  const double zero[] = {0.0, 0.0};
  EXPECT_EQ(hd::classify(W, zero, 3, 2), -1);  // all scores 0
  const double W2[] = {1.0, 1.0, 0.0, 1.0, 1.0, 1.0 - 0x1p-50};
  EXPECT_EQ(hd::classify(W2, x, 3, 2), -1);  // scores 2, 1, 2 - 2^-50: within the bound
  const double y[] = {-1.0, 1.0};
  EXPECT_EQ(hd::classify(W2, y, 3, 2), 1);  // scores 0, 1, -2^-50
}

// Decided classes are the exact argmax (ties to the smallest index), on random
// doubles and on near-ties (rows that differ in their last bits).
TEST(SamplerHd, DecidedClassesAreTheExactArgmax) {
  hd::Xoshiro256 rng(3);
  int decided = 0, cases = testing::scaled(20'000);
  for (int i = 0; i < cases; ++i) {
    const int d = 1 + static_cast<int>(rng.next() % 6), C = 2 + static_cast<int>(rng.next() % 5);
    std::vector<double> W(static_cast<std::size_t>(C) * d), x(d);
    for (double& w : W) w = 2.0 * rng.uniform() - 1.0;
    if (i % 2)  // a near-tie: class 1 copies class 0 up to a few ulps
      for (int k = 0; k < d; ++k) W[d + k] = W[k] * (1.0 + static_cast<double>(rng.next() % 9) * 0x1p-52);
    for (double& v : x) v = 2.0 * rng.uniform() - 1.0;
    const int fast = hd::classify(W.data(), x.data(), C, d);
    if (fast < 0) continue;
    ++decided;
    Matrix<Rational> Wr(C, d);
    std::vector<Rational> xr(d);
    for (int c = 0; c < C; ++c)
      for (int k = 0; k < d; ++k) Wr(c, k) = rational_from_double(W[c * d + k]);
    for (int k = 0; k < d; ++k) xr[k] = rational_from_double(x[k]);
    EXPECT_EQ(fast, classify(Wr, xr).label) << "case " << i;
  }
  std::printf("classes: %d of %d decided\n", decided, cases);
  EXPECT_GE(decided, cases / 2);
}

template <class T>
bool same_prompt(const DoublePrompt& ref, const SamplerOptions& o, std::string* why) {
  const int d = o.d, C = o.C, N = o.N;
  std::vector<T> X(static_cast<std::size_t>(N) * d), probe(d);
  std::vector<std::int32_t> labels(N, -7);
  std::int32_t probe_label = -7;
  std::vector<double> scratch(gpu::sample_prompt_hd_scratch(d, C));
  if (!gpu::sample_prompt_hd<T>(o.seed, d, C, N, o.probe_label, X.data(), labels.data(), probe.data(), &probe_label,
                                scratch.data()))
    return false;  // falls back: counted by the caller
  for (std::size_t i = 0; i < X.size(); ++i)
    if (X[i] != static_cast<T>(ref.X[i])) *why += "X[" + std::to_string(i) + "] ";
  for (int i = 0; i < N; ++i)
    if (labels[i] != ref.labels[i]) *why += "label[" + std::to_string(i) + "] ";
  for (int k = 0; k < d; ++k)
    if (probe[k] != static_cast<T>(ref.probe[k])) *why += "probe[" + std::to_string(k) + "] ";
  if (probe_label != (ref.probe_label ? *ref.probe_label : -1)) *why += "probe label ";
  return true;
}

// (b) The prompts: wherever sample_prompt_hd decides, it draws sample_prompt_doubles's.
TEST(SamplerHd, DrawsTheSamePromptsAsTheFastSampler) {
  hd::Xoshiro256 shapes(7);
  const int cases = testing::scaled(3000);
  int compared = 0, fallbacks = 0;
  for (int i = 0; i < cases; ++i) {
    SamplerOptions o;
    o.d = 1 + static_cast<int>(shapes.next() % 20);
    o.C = 2 + static_cast<int>(shapes.next() % 8);
    o.N = 1 + static_cast<int>(shapes.next() % 80);
    o.seed = i < 100 ? static_cast<std::uint64_t>(i) : shapes.next();
    for (bool probe_label : {true, false}) {
      o.probe_label = probe_label;
      const DoublePrompt ref = sample_prompt_doubles(o);
      std::string why_double, why_float;
      const bool decided_double = same_prompt<double>(ref, o, &why_double);
      const bool decided_float = same_prompt<float>(ref, o, &why_float);
      EXPECT_EQ(decided_double, decided_float) << "seed " << o.seed;
      compared += 2;
      fallbacks += !decided_double + !decided_float;
      const std::string shape = "d=" + std::to_string(o.d) + " C=" + std::to_string(o.C) + " N=" +
                                std::to_string(o.N) + " seed=" + std::to_string(o.seed) +
                                (probe_label ? "" : " (no probe label)");
      EXPECT_EQ(why_double, "") << "double, " << shape;
      EXPECT_EQ(why_float, "") << "float, " << shape;
    }
  }
  std::printf("prompts: %d compared (double and float, with and without probe label), %d fell back\n", compared,
              fallbacks);
  EXPECT_LE(fallbacks, compared / 100);  // a sampler that always falls back passes nothing
}

// The largest shapes it takes, and the sizes it refuses (the caller's fallback
// then throws or draws as sample_prompt_doubles does).
TEST(SamplerHd, EdgeShapesAndRefusedSizes) {
  for (auto [d, C, N] : {std::tuple{1, 2, 1}, std::tuple{1, 256, 3}, std::tuple{3, 256, 40}, std::tuple{64, 2, 5}}) {
    SamplerOptions o;
    o.d = d;
    o.C = C;
    o.N = N;
    o.seed = 99;
    std::string why;
    EXPECT_TRUE(same_prompt<double>(sample_prompt_doubles(o), o, &why)) << d << " " << C << " " << N;
    EXPECT_EQ(why, "");
  }
  double scratch[64];
  double X[4], probe[4];
  std::int32_t labels[4], pl;
  EXPECT_FALSE(gpu::sample_prompt_hd<double>(1, 0, 3, 1, true, X, labels, probe, &pl, scratch));
  EXPECT_FALSE(gpu::sample_prompt_hd<double>(1, 1, 1, 1, true, X, labels, probe, &pl, scratch));
  EXPECT_FALSE(gpu::sample_prompt_hd<double>(1, 1, 3, 0, true, X, labels, probe, &pl, scratch));
}

}  // namespace
}  // namespace iclcert
