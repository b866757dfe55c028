#include "numerics/sampler.hpp"

#include <mpfr.h>

#include <algorithm>
#include <cmath>
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

// Rejection sampling draws points until one passes the margin (and, with
// --balanced, falls in a class that still needs points). Two caps turn an
// impossible request into an error instead of a hang: the draws for one point,
// and the draws for the whole prompt, kMinDrawnCoordinates / d or kDrawsPerPoint
// per point, whichever is more. A draw costs d normals (about 1 us each) and,
// when certainly_rejected() cannot tell, C d exact products (ms for d = 256,
// C = 64), so a hopeless margin stops in about a second while a large prompt may
// still draw more.
constexpr long kMaxRejections = 200'000;
constexpr long kMinDrawnCoordinates = 1L << 20;
constexpr long kDrawsPerPoint = 16;

// |fl(s) - s| for a score s = <w, x> summed in doubles, `abs_sum` = sum_k |w_k x_k|:
// gamma_d = d u / (1 - d u) of it, generously inflated (and the rounding of the
// bound itself), plus an absolute term for underflow.
double score_error(double abs_sum, int d) { return (d + 2) * 0x1p-52 * abs_sum + 0x1p-1000; }

// The scores s_c = sum_k w_ck x_k in doubles, each with its rounding error bound
// err_c (score_error): the exact score lies in [score_c - err_c, score_c + err_c].
void double_scores(const std::vector<double>& W, const double* x, int C, int d, double* score, double* err) {
  for (int c = 0; c < C; ++c) {
    double s = 0, a = 0;
    for (int k = 0; k < d; ++k) {
      s += W[c * d + k] * x[k];
      a += std::fabs(W[c * d + k] * x[k]);
    }
    score[c] = s;
    err[c] = score_error(a, d);
  }
}

// A draw that the exact classify() would certainly reject, decided in doubles:
// every exact score lies in [s_c - err_c, s_c + err_c], so the exact gap between
// the top two scores is at most (largest upper end) - (second largest lower end);
// with --balanced (`budget` not null), a class decided in doubles that is full.
// False when the doubles cannot tell: classify() decides.
bool certainly_rejected(const std::vector<double>& W, const std::vector<double>& x, int C, double margin_below,
                        const std::vector<int>* budget) {
  const int d = static_cast<int>(x.size());
  std::vector<double> score(C), err(C);
  double_scores(W, x.data(), C, d, score.data(), err.data());
  double top_upper = -INFINITY, lower1 = -INFINITY, lower2 = -INFINITY;
  int best = 0;
  for (int c = 0; c < C; ++c) {
    top_upper = std::max(top_upper, score[c] + err[c]);
    const double lower = score[c] - err[c];
    if (lower > lower1) lower2 = lower1, lower1 = lower;
    else lower2 = std::max(lower2, lower);
    if (score[c] > score[best]) best = c;
  }
  if (margin_below > 0 && (top_upper - lower2) * (1 + 0x1p-40) < margin_below) return true;
  if (budget == nullptr || (*budget)[best] != 0) return false;
  for (int c = 0; c < C; ++c)
    if (c != best && !(score[best] - score[c] > (err[best] + err[c]) * (1 + 0x1p-40))) return false;
  return true;
}

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
  if (o.margin < 0) throw std::invalid_argument("the margin must be >= 0, got " + describe_rational(o.margin));
  Xoshiro256 rng(o.seed);
  Matrix<Rational> W(o.C, o.d);
  std::vector<double> W_doubles;  // the same numbers, for certainly_rejected()
  for (int c = 0; c < o.C; ++c)
    for (int k = 0; k < o.d; ++k) {
      W_doubles.push_back(rng.normal());
      W(c, k) = rational_from_double(W_doubles.back());
    }
  // A double no larger than the margin: nearest_double may round up.
  const double margin_below = o.margin > 0 ? std::nextafter(nearest_double(o.margin), 0.0) : 0.0;
  const long max_draws = std::max(kMinDrawnCoordinates / o.d, kDrawsPerPoint * (static_cast<long>(o.N) + 1));
  long draws = 0;

  auto draw = [&](int wanted_class, const std::vector<int>& class_budget) {
    for (long attempt = 0; attempt < kMaxRejections && draws < max_draws; ++attempt) {
      ++draws;
      std::vector<double> xd(o.d);
      for (auto& v : xd) v = rng.normal();
      if (certainly_rejected(W_doubles, xd, o.C, margin_below, wanted_class >= 0 ? &class_budget : nullptr)) continue;
      std::vector<Rational> x(o.d);
      for (int k = 0; k < o.d; ++k) x[k] = rational_from_double(xd[k]);
      Classification cl = classify(W, x);
      if (cl.gap < o.margin) continue;
      if (wanted_class >= 0 && class_budget[cl.label] == 0) continue;
      return std::pair{x, cl.label};
    }
    const std::string cap = draws < max_draws
                                ? std::to_string(kMaxRejections) + " draws for one point"
                                : std::to_string(max_draws) + " draws, the sampler's cap on its work for d = " +
                                      std::to_string(o.d) + " and N = " + std::to_string(o.N);
    throw std::invalid_argument(
        "no acceptable point in " + cap + ": " +
        (wanted_class >= 0 ? "with --balanced every class needs points, but this task (seed " +
                                 std::to_string(o.seed) +
                                 ") gives some class an empty or tiny region (a class c wins only where "
                                 "<w_c, x> is largest, and some w_c may never be); try another --seed"
                           : "--margin " + describe_rational(o.margin) + " is too large for this task"));
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

// ---- Fast path: same doubles, same classes (see sampler.hpp).
namespace {

// log(s) rounded to nearest double, as mpfr_log at 53 bits gives it. logl's
// error is below 2 ulps of long double (2^-62 relative); the test widens that to
// 2^-58, and when both ends of [l - err, l + err] round to the same double the
// exact logarithm (inside it) does too. Otherwise, and where long double is no
// wider than double, MPFR decides.
double log_rounded(double s) {
  const long double l = std::log(static_cast<long double>(s));
  const long double err = std::fabs(l) * 0x1p-58L;
  const double d = static_cast<double>(l);
  if (static_cast<double>(l - err) == d && static_cast<double>(l + err) == d) return d;
  mpfr_t f;
  mpfr_init2(f, 53);
  mpfr_set_d(f, s, MPFR_RNDN);
  mpfr_log(f, f, MPFR_RNDN);
  const double out = mpfr_get_d(f, MPFR_RNDN);
  mpfr_clear(f);
  return out;
}

// Xoshiro256::normal() drawn through its public uniform(): the same polar method,
// the same steps, each correctly rounded.
class FastNormal {
 public:
  explicit FastNormal(std::uint64_t seed) : rng_(seed) {}
  double next() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, s;
    do {
      u = 2.0 * rng_.uniform() - 1.0;
      v = 2.0 * rng_.uniform() - 1.0;
      s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    const double factor = std::sqrt((-2.0 * log_rounded(s)) / s);
    spare_ = v * factor;
    has_spare_ = true;
    return u * factor;
  }

 private:
  Xoshiro256 rng_;
  bool has_spare_ = false;
  double spare_ = 0;
};

// argmax_c <w_c, x> (ties to the smallest index) when double scores decide it:
// |fl(s_c) - s_c| <= gamma_d sum_k |w_ck x_k| with gamma_d = d u / (1 - d u); the
// bound below inflates that (and the rounding of the bound itself) generously.
// Returns -1 when some rival is within the bounds.
int classify_fast(const std::vector<double>& W, const double* x, int C, int d) {
  constexpr int kMaxC = 256;
  double score[kMaxC], err[kMaxC];
  double_scores(W, x, C, d, score, err);
  int best = 0;
  for (int c = 1; c < C; ++c)
    if (score[c] > score[best]) best = c;
  for (int c = 0; c < C; ++c)
    if (c != best && !(score[best] - score[c] > (err[best] + err[c]) * (1 + 0x1p-40))) return -1;
  return best;
}

}  // namespace

DoublePrompt sample_prompt_doubles(const SamplerOptions& o) {
  if (o.d < 1 || o.C < 2 || o.N < 1 || o.C > 256 || o.margin != 0 || o.balanced) {
    // Rejection sampling or invalid sizes: the exact sampler (which also throws).
    const Prompt e = sample_prompt(o);
    DoublePrompt p{e.d, e.C, e.N, {}, e.labels, {}, e.probe_label};
    for (const Rational& v : e.X.data()) p.X.push_back(nearest_double(v));
    for (const Rational& v : e.probe) p.probe.push_back(nearest_double(v));
    return p;
  }
  FastNormal rng(o.seed);
  DoublePrompt p;
  p.d = o.d;
  p.C = o.C;
  p.N = o.N;
  std::vector<double> W(static_cast<std::size_t>(o.C) * o.d);
  for (double& w : W) w = rng.next();
  std::optional<Matrix<Rational>> exact_W;
  auto label_of = [&](const double* x) {
    const int fast = classify_fast(W, x, o.C, o.d);
    if (fast >= 0) return fast;
    if (!exact_W) {
      exact_W.emplace(o.C, o.d);
      for (int c = 0; c < o.C; ++c)
        for (int k = 0; k < o.d; ++k) (*exact_W)(c, k) = rational_from_double(W[c * o.d + k]);
    }
    std::vector<Rational> xr(o.d);
    for (int k = 0; k < o.d; ++k) xr[k] = rational_from_double(x[k]);
    return classify(*exact_W, xr).label;
  };
  // With margin 0 and no balancing every draw is accepted (sample_prompt's draw()).
  p.X.resize(static_cast<std::size_t>(o.N) * o.d);
  for (int i = 0; i < o.N; ++i) {
    double* x = p.X.data() + static_cast<std::size_t>(i) * o.d;
    for (int k = 0; k < o.d; ++k) x[k] = rng.next();
    p.labels.push_back(label_of(x));
  }
  p.probe.resize(o.d);
  for (int k = 0; k < o.d; ++k) p.probe[k] = rng.next();
  const int cq = label_of(p.probe.data());
  if (o.probe_label) p.probe_label = cq;
  return p;
}

Prompt to_prompt(const DoublePrompt& p) {
  Prompt out;
  out.d = p.d;
  out.C = p.C;
  out.N = p.N;
  out.X = Matrix<Rational>(p.N, p.d);
  for (int i = 0; i < p.N; ++i)
    for (int k = 0; k < p.d; ++k) out.X(i, k) = rational_from_double(p.X[static_cast<std::size_t>(i) * p.d + k]);
  out.labels = p.labels;
  for (double v : p.probe) out.probe.push_back(rational_from_double(v));
  out.probe_label = p.probe_label;
  return out;
}

}  // namespace iclcert
