#include "numerics/sampler.hpp"

#include <mpfr.h>

#include <stdexcept>
#include <string>

namespace iclcert {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

// Draws points until one passes the margin; a cap turns an impossible margin
// into an error instead of a hang.
constexpr int kMaxRejections = 200'000;

}  // namespace

Xoshiro256::Xoshiro256(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t Xoshiro256::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Xoshiro256::uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Xoshiro256::normal() {
  if (has_spare_) {
    has_spare_ = false;
    return spare_;
  }
  double u, v, s;
  do {
    u = 2.0 * uniform() - 1.0;  // exact in double
    v = 2.0 * uniform() - 1.0;
    s = u * u + v * v;          // IEEE-correctly rounded on every platform
  } while (s >= 1.0 || s == 0.0);
  // f = sqrt(-2 ln(s) / s), each step correctly rounded by MPFR.
  mpfr_t f;
  mpfr_init2(f, 53);
  mpfr_set_d(f, s, MPFR_RNDN);
  mpfr_log(f, f, MPFR_RNDN);
  mpfr_mul_si(f, f, -2, MPFR_RNDN);
  mpfr_div_d(f, f, s, MPFR_RNDN);
  mpfr_sqrt(f, f, MPFR_RNDN);
  const double factor = mpfr_get_d(f, MPFR_RNDN);
  mpfr_clear(f);
  spare_ = v * factor;
  has_spare_ = true;
  return u * factor;
}

Classification classify(const Matrix<Rational>& W, const std::vector<Rational>& x) {
  std::vector<Rational> scores(W.rows());
  for (std::size_t c = 0; c < W.rows(); ++c) {
    Rational s = 0;
    for (std::size_t k = 0; k < x.size(); ++k) s += W(c, k) * x[k];
    scores[c] = s;
  }
  int best = 0;
  for (int c = 1; c < static_cast<int>(scores.size()); ++c)
    if (scores[c] > scores[best]) best = c;
  std::optional<Rational> runner_up;
  for (int c = 0; c < static_cast<int>(scores.size()); ++c)
    if (c != best && (!runner_up || scores[c] > *runner_up)) runner_up = scores[c];
  return {best, scores[best] - *runner_up};
}

Prompt sample_prompt(const SamplerOptions& o) {
  if (o.d < 1 || o.C < 2 || o.N < 1)
    throw std::invalid_argument("sizes must satisfy d >= 1, C >= 2, N >= 1");
  if (o.balanced && o.N % o.C != 0)
    throw std::invalid_argument("--balanced needs C to divide N (N = " + std::to_string(o.N) +
                                ", C = " + std::to_string(o.C) + ")");
  if (o.margin < 0) throw std::invalid_argument("the margin must be >= 0");
  Xoshiro256 rng(o.seed);
  Matrix<Rational> W(o.C, o.d);
  for (int c = 0; c < o.C; ++c)
    for (int k = 0; k < o.d; ++k) W(c, k) = rational_from_double(rng.normal());

  auto draw = [&](int wanted_class, const std::vector<int>& class_budget) {
    for (int attempt = 0; attempt < kMaxRejections; ++attempt) {
      std::vector<Rational> x(o.d);
      for (auto& v : x) v = rational_from_double(rng.normal());
      Classification cl = classify(W, x);
      if (cl.gap < o.margin) continue;
      if (wanted_class >= 0 && class_budget[cl.label] == 0) continue;
      return std::pair{x, cl.label};
    }
    throw std::invalid_argument(
        "no acceptable point in " + std::to_string(kMaxRejections) + " draws: " +
        (wanted_class >= 0 ? "with --balanced every class needs points, but this task (seed " +
                                 std::to_string(o.seed) +
                                 ") gives some class an empty or tiny region (a class c wins only where "
                                 "<w_c, x> is largest, and some w_c may never be); try another --seed"
                           : "the margin " + to_string(o.margin) + " is too large for this task") );
  };

  Prompt p;
  p.d = o.d;
  p.C = o.C;
  p.N = o.N;
  p.X = Matrix<Rational>(o.N, o.d);
  std::vector<int> budget(o.C, o.N / o.C);
  for (int i = 0; i < o.N; ++i) {
    auto [x, label] = draw(o.balanced ? 0 : -1, budget);
    if (o.balanced) --budget[label];
    for (int k = 0; k < o.d; ++k) p.X(i, k) = x[k];
    p.labels.push_back(label);
  }
  auto [xq, cq] = draw(-1, budget);
  p.probe = xq;
  if (o.probe_label) p.probe_label = cq;
  return p;
}

}  // namespace iclcert
