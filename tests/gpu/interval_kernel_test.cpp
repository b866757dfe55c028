// Soundness of the float64 interval kernel (gpu/interval_kernel.hpp,
// gpu/interval_certify.hpp; theory/interval_kernel.md), against Arb balls at 256
// bits (more than 4 x 53):
//  * every operation, exp included, on 10^4 random arguments each (wide ranges,
//    subnormals, signed zeros, overflow and underflow): the interval contains the
//    whole Arb ball of the exact operation at points of the inputs;
//  * the constants the exp proof rests on (1/k!, ln 2's split, the remainder bound);
//  * >= 500 random prompts over reduced (probe overrides), full and dense layers,
//    softmax and linear, probe_is_key and uniform probe labels: every state entry's
//    interval contains Arb's midpoint and overlaps Arb's ball, and so does the final
//    margin; a certified prediction is Arb's;
//  * edge cases: score gaps of 1e11, exp underflow in the softmax, exact ties
//    (never certified), classes of identical points (within = 0);
//  * planted bugs: round to nearest without the outward step, and a halved exp
//    remainder bound, each make the containment checks fail.
// Seeds are fixed and printed; ICLCERT_TEST_SCALE multiplies the counts.
#include "batch_test_support.hpp"
#include "gpu/certify_host.hpp"
#include "gpu/interval_certify.hpp"
#include "gpu/interval_model.hpp"
#include "numerics/interval_arb.hpp"
#include "numerics/precision.hpp"
#include "numerics/recursion.hpp"
#include "numerics/rigorous.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <random>
#include <type_traits>

namespace iclcert::gpu::testing {
namespace {

using Tr = ScalarTraits<ArbBall>;
constexpr long kRefBits = 256;
constexpr std::uint64_t kSeed = 1313;
constexpr double kInf = std::numeric_limits<double>::infinity();

int scale() {
  const char* s = std::getenv("ICLCERT_TEST_SCALE");
  const int v = s ? std::atoi(s) : 1;
  return v > 0 ? v : 1;
}

ArbBall ball(double x) { return Tr::from_rational(rational_from_double(x)); }

// lo <= every point of the ball <= hi (the ball's exact endpoints).
bool contains_ball(Iv iv, const ArbBall& b) {
  if (!(iv.lo <= iv.hi) || iv.lo == kInf || iv.hi == -kInf) return false;  // NaN, empty, or beyond every real
  if (iv.lo > -kInf && rational_from_double(iv.lo) > Tr::lower(b)) return false;
  if (iv.hi < kInf && rational_from_double(iv.hi) < Tr::upper(b)) return false;
  return true;
}
// The ball's midpoint lies in iv and the two overlap.
bool contains_mid_and_overlaps(Iv iv, const ArbBall& b) {
  if (!(iv.lo <= iv.hi) || iv.lo == kInf || iv.hi == -kInf) return false;
  const Rational lo = Tr::lower(b), hi = Tr::upper(b), mid = (lo + hi) / 2;
  const bool lo_ok = iv.lo == -kInf || rational_from_double(iv.lo) <= mid;
  const bool hi_ok = iv.hi == kInf || rational_from_double(iv.hi) >= mid;
  return lo_ok && hi_ok;  // the midpoint is in both, so they overlap
}

// Random doubles over the whole range: sign, a random significand and an exponent
// drawn from `lo_exp..hi_exp`, with some exact specials.
class Draw {
 public:
  explicit Draw(std::uint64_t seed) : rng_(seed) {}
  double any(int lo_exp = -1074, int hi_exp = 1023) {
    const int pick = static_cast<int>(rng_() % 20);
    if (pick == 0) return (rng_() & 1) ? 0.0 : -0.0;
    if (pick == 1) return sign() * std::numeric_limits<double>::denorm_min() * static_cast<double>(1 + rng_() % 8);
    if (pick == 2) return sign() * std::ldexp(static_cast<double>(1 + rng_() % 1024), static_cast<int>(rng_() % 40) - 20);
    const int e = lo_exp + static_cast<int>(rng_() % static_cast<std::uint64_t>(hi_exp - lo_exp + 1));
    const double m = 1.0 + static_cast<double>(rng_() >> 12) * 0x1p-52;
    return sign() * std::ldexp(m, e);
  }
  double uniform(double a, double b) { return a + (b - a) * (static_cast<double>(rng_() >> 11) * 0x1p-53); }
  Iv interval(int lo_exp = -1074, int hi_exp = 1023) {
    const int kind = static_cast<int>(rng_() % 4);
    const double a = any(lo_exp, hi_exp);
    if (kind == 0) return {a, a};
    if (kind == 1) {  // narrow
      const double b = a + std::fabs(a) * uniform(0, 1e-10);
      return {a, std::isfinite(b) ? b : a};
    }
    const double b = any(lo_exp, hi_exp);
    return {std::fmin(a, b), std::fmax(a, b)};
  }
  std::uint64_t bits() { return rng_(); }

 private:
  double sign() { return (rng_() & 1) ? 1.0 : -1.0; }
  std::mt19937_64 rng_;
};

// Finite points of an interval to evaluate the exact operation at: both ends and
// a point between.
std::vector<double> points_of(Iv a) {
  std::vector<double> p;
  if (std::isfinite(a.lo)) p.push_back(a.lo);
  if (std::isfinite(a.hi)) p.push_back(a.hi);
  if (std::isfinite(a.lo) && std::isfinite(a.hi)) {
    // Halving a subnormal rounds: keep the point inside.
    p.push_back(std::fmin(std::fmax(0.5 * a.lo + 0.5 * a.hi, a.lo), a.hi));
  }
  return p;
}

enum class Op { add, sub, mul, div, exp };
const char* op_name(Op op) {
  const char* names[] = {"+", "-", "*", "/", "exp"};
  return names[static_cast<int>(op)];
}

// Failures of containment over `count` random argument pairs of `op` in the arithmetic A.
template <class A>
long op_failures(Op op, int count, std::uint64_t seed, long* checked = nullptr) {
  WorkingPrecision prec(kRefBits);
  Draw draw(seed);
  long failures = 0, n = 0;
  for (int it = 0; it < count; ++it) {
    Iv a, b{1, 1}, r;
    if (op == Op::exp) {
      const int kind = it % 4;
      double x;
      if (kind == 0) x = draw.uniform(-745.5, 710);
      else if (kind == 1) x = draw.uniform(-1, 1);
      else if (kind == 2) x = draw.any(-1074, 3);  // tiny magnitudes, zeros, subnormals
      else x = (draw.bits() & 1) ? draw.uniform(-745.5, -700) : draw.uniform(700, 709.9);  // under/overflow
      const double x2 = (draw.bits() % 3 == 0) ? x + std::fabs(x) * draw.uniform(0, 1e-6) : x;
      a = {x, x2};
      r = A::exp(a);
    } else {
      a = draw.interval();
      b = draw.interval();
      if (op == Op::add) r = A::add(a, b);
      if (op == Op::sub) r = A::sub(a, b);
      if (op == Op::mul) r = A::mul(a, b);
      if (op == Op::div) r = A::div(a, b);
    }
    bool ok = true;
    const std::vector<double> ys = op == Op::exp ? std::vector<double>{1} : points_of(b);
    for (double x : points_of(a))
      for (double y : ys) {
        if (op == Op::div && y == 0) continue;  // no exact value; the result must be the whole line
        if (op == Op::exp) {
          if (x > 709.79) {
            ok = ok && r.lo == std::numeric_limits<double>::max() && r.hi == kInf;
            continue;
          }
          if (x < -745.2) {
            ok = ok && r.lo >= 0 && r.hi >= std::numeric_limits<double>::denorm_min();
            continue;
          }
        }
        ArbBall e;
        const ArbBall bx = ball(x), by = ball(y);
        switch (op) {
          case Op::add: e = bx + by; break;
          case Op::sub: e = bx - by; break;
          case Op::mul: e = bx * by; break;
          case Op::div: e = bx / by; break;
          case Op::exp: e = Tr::exp(bx); break;
        }
        ++n;
        ok = ok && contains_ball(r, e);
      }
    if (op == Op::div && b.lo <= 0 && b.hi >= 0) ok = ok && r.lo == -kInf && r.hi == kInf;
    if (!ok) {
      if (failures < 3 && std::is_same_v<A, IvArith<>>)
        std::printf("  %s fails: [%a, %a] op [%a, %a] = [%a, %a]\n", op_name(op), a.lo, a.hi, b.lo, b.hi, r.lo, r.hi);
      ++failures;
    }
  }
  if (checked) *checked = n;
  return failures;
}

TEST(IntervalKernel, TheHostRoundsToNearestWithGradualUnderflow) {
  // The RN + one-ulp argument needs subnormals (no flush-to-zero) and round to nearest.
  volatile double tiny = 2.2250738585072014e-308, three = 3.0, one = 1.0;
  EXPECT_NE(tiny / 2, 0.0);
  EXPECT_EQ(one / three, 0.3333333333333333);
  EXPECT_LT(one / three * three, 1.0000000000000002);
}

TEST(IntervalKernel, EveryOperationContainsTheExactResultOnRandomArguments) {
  const int count = 10000 * scale();
  std::printf("seed %llu, %d argument pairs per operation\n", static_cast<unsigned long long>(kSeed), count);
  for (Op op : {Op::add, Op::sub, Op::mul, Op::div, Op::exp}) {
    long checked = 0;
    const long f = op_failures<IvArith<>>(op, count, kSeed + static_cast<int>(op), &checked);
    std::printf("%-3s: %ld exact results checked, %ld outside\n", op_name(op), checked, f);
    EXPECT_EQ(f, 0) << op_name(op);
    EXPECT_GT(checked, count) << op_name(op);
  }
}

TEST(IntervalKernel, RoundingToNearestWithoutTheOutwardStepIsCaught) {
  // The planted fault: each operation rounded to nearest, no outward step.
  for (Op op : {Op::add, Op::sub, Op::mul, Op::div, Op::exp}) {
    const long f = op_failures<IvArith<kFaultNearest>>(op, 2000, kSeed + 7);
    std::printf("planted round-to-nearest, %-3s: %ld of 2000 fail\n", op_name(op), f);
    EXPECT_GT(f, 0) << op_name(op);
  }
}

// exp_point<K> failures over x in [-20, 20] (every reduced argument r occurs).
template <int F, int K>
long exp_degree_failures(int count) {
  WorkingPrecision prec(kRefBits);
  Draw draw(kSeed + 99);
  long failures = 0;
  for (int i = 0; i < count; ++i) {
    const double x = draw.uniform(-20, 20);
    failures += !contains_ball(IvArith<F>::template exp_point<K>(x), Tr::exp(ball(x)));
  }
  return failures;
}

TEST(IntervalKernel, AHalvedExpRemainderBoundIsCaught) {
  // At the shipped degree 13 the remainder bound (6e-18) lies below the outward
  // rounding of the polynomial, so the same fault is planted at degree 6 (bound
  // 1.7e-7), where the remainder dominates: the honest bound holds there, half of
  // it does not.
  const int count = 4000;
  const long honest = exp_degree_failures<kNoFault, 6>(count);
  const long halved = exp_degree_failures<kFaultHalfExpBound, 6>(count);
  std::printf("degree 6 exp on %d points: %ld outside with the proved bound, %ld with half of it\n", count, honest,
              halved);
  EXPECT_EQ(honest, 0);
  EXPECT_GT(halved, count / 50);
  EXPECT_EQ((exp_degree_failures<kNoFault, 13>(count)), 0);
}

TEST(IntervalKernel, TheConstantsOfTheExpProofHold) {
  WorkingPrecision prec(kRefBits);
  // 1/k! enclosed.
  Rational fact = 1;
  for (int k = 0; k <= 17; ++k) {
    if (k > 0) fact *= k;
    const Iv c = iv_detail::inv_factorial(k);
    const Rational exact = Rational(1) / fact;
    EXPECT_LE(rational_from_double(c.lo), exact) << k;
    EXPECT_GE(rational_from_double(c.hi), exact) << k;
    EXPECT_TRUE(c.lo == c.hi || std::nextafter(c.lo, kInf) == c.hi) << "adjacent or equal, k = " << k;
  }
  // ln 2 = kLn2Hi + c2 with c2 in [kLn2LoDn, kLn2LoUp]; kLn2Hi has <= 33 significant bits.
  ArbBall ln2;
  arb_const_log2(ln2.get(), kRefBits);
  const Rational hi = rational_from_double(iv_detail::kLn2Hi);
  EXPECT_LE(hi + rational_from_double(iv_detail::kLn2LoDn), Tr::lower(ln2));
  EXPECT_GE(hi + rational_from_double(iv_detail::kLn2LoUp), Tr::upper(ln2));
  EXPECT_EQ(std::ldexp(iv_detail::kLn2Hi, 33), std::floor(std::ldexp(iv_detail::kLn2Hi, 33)));
  // rho >= ln(2)/2 with room for the rounding of n; e^rho <= kExpRhoUp.
  EXPECT_GT(Rational(rational_from_double(iv_detail::kRho)) - Tr::upper(ln2) / 2, Rational(1, 10000));
  EXPECT_LE(Tr::upper(Tr::exp(ball(iv_detail::kRho))), rational_from_double(iv_detail::kExpRhoUp));
  // The remainder bounds dominate the exact e^rho rho^(K+1) / (K+1)!.
  auto check = [&](int K, double bound) {
    Rational v = rational_from_double(iv_detail::kExpRhoUp), f = 1;
    for (int k = 1; k <= K + 1; ++k) {
      v *= rational_from_double(iv_detail::kRho);
      f *= k;
    }
    EXPECT_GE(rational_from_double(bound), v / f) << "K = " << K;
  };
  check(6, iv_detail::exp_remainder_bound<6>());
  check(13, iv_detail::exp_remainder_bound<13>());
  check(17, iv_detail::exp_remainder_bound<17>());
  std::printf("remainder bound at degree 13: %.3g\n", iv_detail::exp_remainder_bound<13>());
  // The range limits: exp(709.79) > DBL_MAX and exp(-745.2) < 2^-1074.
  EXPECT_GT(Tr::lower(Tr::exp(ball(iv_detail::kOverflowArg))), rational_from_double(std::numeric_limits<double>::max()));
  EXPECT_LT(Tr::upper(Tr::exp(ball(iv_detail::kUnderflowArg))),
            rational_from_double(std::numeric_limits<double>::denorm_min()));
  // The enclosure is tight: a few ulps of the exact value (e: ulp 2^-51).
  const Iv e1 = iv_exp(Iv{1, 1});
  std::printf("exp(1) in [%.17g, %.17g]: %.3g ulps wide\n", e1.lo, e1.hi, (e1.hi - e1.lo) / 0x1p-51);
  EXPECT_LE(e1.hi - e1.lo, 8 * 0x1p-51);
}

TEST(IntervalKernel, EnclosingRationalsIsExactAndTight) {
  for (const char* text : {"1/3", "-2/7", "0.1", "1e-320", "-1e-330", "1e400", "-1e400", "0", "0.5", "123456789012345678901234567890"}) {
    const Rational q = parse_rational(text);
    const Iv e = enclose(q);
    if (std::isfinite(e.lo)) {
      EXPECT_LE(rational_from_double(e.lo), q) << text;
    }
    if (std::isfinite(e.hi)) {
      EXPECT_GE(rational_from_double(e.hi), q) << text;
    }
    EXPECT_TRUE(e.lo == e.hi || std::nextafter(e.lo, kInf) == e.hi) << text;
  }
  EXPECT_EQ(enclose(parse_rational("0.5")).lo, 0.5);
  EXPECT_EQ(enclose(parse_rational("0.5")).hi, 0.5);
  EXPECT_EQ(enclose(parse_rational("1e400")).hi, kInf);
  EXPECT_EQ(enclose(parse_rational("1e400")).lo, std::numeric_limits<double>::max());
}

// The softmax enclosure of certify_prompt (interval_attention.hpp's panel_softmax)
// on one row of scores t (n <= 8), in every lane of a panel; w: lane 0's weights.
// Every lane must give the same weights (the lanes never mix).
bool softmax_row(const Iv* t, int n, Iv* w) {
  std::vector<double> buf(iv_attn::panel_scratch_doubles(1, n));
  const iv_attn::PanelScratch ps = iv_attn::carve_panel(buf.data(), 1, n);
  for (int i = 0; i < n; ++i)
    for (int l = 0; l < iv_attn::kIvLanes; ++l) ps.tl[i * iv_attn::kIvLanes + l] = t[i].lo, ps.th[i * iv_attn::kIvLanes + l] = t[i].hi;
  const bool ok = iv_attn::panel_softmax<kNoFault, iv_attn::kIvLanes, false>(n, ps);
  for (int i = 0; i < n; ++i) {
    w[i] = {ps.tl[i * iv_attn::kIvLanes], ps.th[i * iv_attn::kIvLanes]};
    for (int l = 1; l < iv_attn::kIvLanes; ++l) {
      EXPECT_EQ(ps.tl[i * iv_attn::kIvLanes + l], w[i].lo);
      EXPECT_EQ(ps.th[i * iv_attn::kIvLanes + l], w[i].hi);
    }
  }
  return ok;
}

TEST(IntervalKernel, SoftmaxRowsWithHugeGapsTiesAndUnderflow) {
  Iv t[4], w[4];
  // A gap of 1e11: the top weight within 2^-50 of 1, the others tiny but with a positive upper end.
  t[0] = {0, 0};
  t[1] = {-1e11, -1e11};
  t[2] = {-2e11, -1e11};
  t[3] = {-1e3, -1e3};  // exp underflows
  ASSERT_TRUE(softmax_row(t, 4, w));
  EXPECT_GE(w[0].lo, 1 - 0x1p-50);
  EXPECT_LE(w[0].hi, 1.0);
  for (int i = 1; i < 4; ++i) {  // about kTiny = 2^-600 (their exps' [0, kTiny], which keeps them normal)
    EXPECT_EQ(w[i].lo, 0.0);
    EXPECT_GT(w[i].hi, 0.0);
    EXPECT_LE(w[i].hi, 2 * iv_attn::kTiny);
  }
  // Equal scores: each weight encloses 1/4 tightly.
  for (int i = 0; i < 4; ++i) t[i] = {2.5, 2.5};
  ASSERT_TRUE(softmax_row(t, 4, w));
  for (int i = 0; i < 4; ++i) {
    EXPECT_LE(w[i].lo, 0.25);
    EXPECT_GE(w[i].hi, 0.25);
    EXPECT_LT(w[i].hi - w[i].lo, 3e-15);  // about 40 ulps of 1/4
  }
  // Unbounded scores: [0, 1] for every weight, then the sum-to-one step.
  t[0] = {-kInf, 1};
  ASSERT_TRUE(softmax_row(t, 4, w));
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(w[i].lo == 0 && w[i].hi == 1);
}

// ---- Whole prompts against run_recursion<ArbBall>.

struct PromptCheck {
  long prompts = 0, values = 0, failures = 0, certified = 0, arb_certified = 0, wrong = 0, errors = 0;
};

// The host's builds of certify_prompt for each x86-64 level this CPU runs
// (gpu/certify_host.hpp); the AVX-512 one rounds in the instruction, the others
// step, so each is checked here on its own.
using HostCertify = IntervalVerdict (*)(const ModelView<Iv>&, int, const double*, const std::int32_t*, const double*,
                                        int, Iv*, const IntervalOutputs&);
std::vector<std::pair<const char*, HostCertify>> host_levels() {
  std::vector<std::pair<const char*, HostCertify>> levels{{"base", &certify_host_base}};
#ifdef ICLCERT_CERTIFY_X86_LEVELS
  if (__builtin_cpu_supports("x86-64-v3")) levels.emplace_back("x86-64-v3", &certify_host_v3);
  if (__builtin_cpu_supports("x86-64-v4")) levels.emplace_back("x86-64-v4", &certify_host_v4);
#endif
  return levels;
}

// Runs `prompt` in A and in Arb; adds to `c`. The prompt's doubles are its exact
// values. Without a planted fault, also every host level (host_levels), each a
// run of its own in `c` against the same Arb trace.
template <class A = IvArith<>>
void check_prompt(const Model& model, const DoublePrompt& dp, PromptCheck& c, bool verbose = false) {
  const Prompt p = to_prompt(dp);
  const int d = p.d, C = p.C, N = p.N, D = d + C, R = N + 1;
  const BatchModel<Iv> im = make_interval_model(model, d, C);
  const int L1 = im.layers() + 1;
  WorkingPrecision prec(kRefBits);
  const Trace<ArbBall> trace = run_recursion<ArbBall>(p, model);
  std::vector<std::pair<const char*, HostCertify>> runs{{"certify_prompt", nullptr}};
  if constexpr (A::kFault == kNoFault)
    for (const auto& level : host_levels()) runs.push_back(level);
  for (const auto& [name, host] : runs) {
    std::vector<Iv> ws(interval_workspace_size(d, C, N)), states(static_cast<std::size_t>(L1) * R * D), margins(L1);
    std::vector<std::int32_t> labels(dp.labels.begin(), dp.labels.end()), preds(L1);
    std::vector<Iv> y_final(C);
    IntervalOutputs out{margins.data(), preds.data(), states.data(), y_final.data()};
    const int probe_label = dp.probe_label ? *dp.probe_label : -1;
    const IntervalVerdict v =
        host ? host(im.view(), N, dp.X.data(), labels.data(), dp.probe.data(), probe_label, ws.data(), out)
             : certify_prompt<A>(im.view(), N, dp.X.data(), labels.data(), dp.probe.data(), probe_label, ws.data(), out);
    ++c.prompts;
    c.errors += v.error;
    for (int t = 0; t < L1; ++t) {
      const State<ArbBall>& s = trace.entries[t].state;
      for (int j = 0; j < R; ++j)
        for (int k = 0; k < D; ++k) {
          ++c.values;
          const Iv iv = states[(static_cast<std::size_t>(t) * R + j) * D + k];
          if (!contains_mid_and_overlaps(iv, s.Z(j, k))) {
            if (verbose && c.failures < 3)
              std::printf("  %s: t=%d j=%d k=%d: [%.17g, %.17g] vs %s\n", name, t, j, k, iv.lo, iv.hi,
                          Tr::to_string(s.Z(j, k)).c_str());
            ++c.failures;
          }
        }
      // The margin y[c*] - max_{c != c*} y[c] in Arb with the kernel's c*.
      const auto y = s.y(s.probe_row());
      const int best = preds[t];
      ArbBall other = y[best == 0 ? 1 : 0];
      for (int k = 0; k < C; ++k)
        if (k != best) other = Tr::max(other, y[k]);
      ++c.values;
      if (!contains_mid_and_overlaps(margins[t], y[best] - other)) ++c.failures;
    }
    const auto y = trace.entries.back().state.y(trace.entries.back().state.probe_row());
    // The final label block (every class pair's margin) and the true label's margin.
    for (int k = 0; k < C; ++k) {
      ++c.values;
      if (!contains_mid_and_overlaps(y_final[k], y[k])) ++c.failures;
    }
    if (dp.probe_label) {
      const int lab = *dp.probe_label;
      ArbBall other = y[lab == 0 ? 1 : 0];
      for (int k = 0; k < C; ++k)
        if (k != lab) other = Tr::max(other, y[k]);
      ++c.values;
      if (!contains_mid_and_overlaps(v.label_margin, y[lab] - other)) ++c.failures;
    }
    const int arb = certified_prediction<ArbBall>(y);
    c.arb_certified += arb >= 0;
    if (v.certified) {
      ++c.certified;
      if (arb >= 0 && arb != v.prediction) ++c.wrong;
    }
  }
}

Rational random_coeff(std::mt19937_64& rng, int lo16, int hi16) {
  return Rational(lo16 + static_cast<int>(rng() % static_cast<std::uint64_t>(hi16 - lo16 + 1)), 16);
}

// A random model of every form: reduced layers (some with probe overrides), full
// layers (1-2 heads) and dense layers; softmax or linear; probe_is_key and uniform
// probe labels at random.
Model random_model(std::mt19937_64& rng, int d, int C) {
  Model m;
  m.kernel = (rng() & 1) ? Kernel::softmax : Kernel::linear;
  m.probe_is_key = rng() % 3 == 0;
  m.probe_label_init = rng() % 3 == 0 ? ProbeLabelInit::uniform : ProbeLabelInit::zero;
  const int layers = 2 + static_cast<int>(rng() % 3);
  const int D = d + C;
  for (int l = 0; l < layers; ++l) {
    const int form = static_cast<int>(rng() % 3);
    if (form == 0) {
      auto co = [&] {
        return ReducedCoefficients<Rational>{random_coeff(rng, 0, 24), random_coeff(rng, 0, 32), random_coeff(rng, 0, 16),
                                             random_coeff(rng, 0, 16)};
      };
      ReducedLayer<Rational> r{co(), std::nullopt};
      if (rng() & 1) r.probe = co();
      m.layers.push_back(r);
    } else if (form == 1) {
      FullLayer<Rational> f;
      const int heads = 1 + static_cast<int>(rng() % 2);
      for (int h = 0; h < heads; ++h) {
        FullHead<Rational> head;
        for (auto& v : head.score) v = random_coeff(rng, -6, 12);
        for (auto& v : head.value) v = random_coeff(rng, -3, 6);
        f.heads.push_back(head);
      }
      m.layers.push_back(f);
    } else {
      DenseLayer<Rational> dl;
      const int heads = 1 + static_cast<int>(rng() % 2);
      for (int h = 0; h < heads; ++h) {
        Matrix<Rational> S(D, D), V(D, D);
        for (int r = 0; r < D; ++r)
          for (int cc = 0; cc < D; ++cc) {
            S(r, cc) = random_coeff(rng, -6, 6);
            V(r, cc) = random_coeff(rng, -3, 3) / 2;
          }
        dl.heads.push_back({S, V});
      }
      m.layers.push_back(dl);
    }
  }
  return m;
}

DoublePrompt sampled(int d, int C, int N, std::uint64_t seed) {
  SamplerOptions o;
  o.d = d;
  o.C = C;
  o.N = N;
  o.seed = seed;
  return sample_prompt_doubles(o);
}

TEST(IntervalKernel, PromptEnclosuresContainArbOnRandomModelsOfEveryForm) {
  std::mt19937_64 rng(kSeed);
  PromptCheck c;
  const int count = 520 * scale();
  // The fixtures of the other gpu tests, then random models.
  std::vector<Model> fixed = {mixed_model(Kernel::softmax), mixed_model(Kernel::linear),
                              dense_model(Kernel::softmax, 3, 3), dense_model(Kernel::linear, 3, 3)};
  for (int i = 0; i < count; ++i) {
    const bool fixture = i < 40;
    const int d = fixture ? 3 : 2 + static_cast<int>(rng() % 3);
    const int C = fixture ? 3 : 2 + static_cast<int>(rng() % 2);
    const int N = 6 + static_cast<int>(rng() % 7);
    const Model model = fixture ? fixed[i % fixed.size()] : random_model(rng, d, C);
    check_prompt(model, sampled(d, C, N, kSeed + i), c, true);
  }
  std::printf("%ld prompt runs (%d prompts, each in this file's certify_prompt and the %zu host levels here), %ld values: "
              "%ld outside; certified %ld (Arb: %ld), wrong %ld, errors %ld\n",
              c.prompts, count, host_levels().size(), c.values, c.failures, c.certified, c.arb_certified, c.wrong,
              c.errors);
  EXPECT_EQ(c.failures, 0);
  EXPECT_EQ(c.wrong, 0);
  EXPECT_EQ(c.errors, 0);
  EXPECT_GE(c.prompts, 500);
  EXPECT_GT(c.certified, c.prompts / 2) << "the tier decides most prompts";
}

// A one-layer reduced softmax model.
Model reduced(const char* beta, const char* gamma, const char* alpha, const char* alpha_label, int layers = 1) {
  Model m;
  for (int l = 0; l < layers; ++l) m.layers.push_back(ReducedLayer<Rational>{coeffs(beta, gamma, alpha, alpha_label), std::nullopt});
  return m;
}

DoublePrompt hand_prompt(int d, int C, std::vector<double> X, std::vector<int> labels, std::vector<double> probe) {
  DoublePrompt p;
  p.d = d;
  p.C = C;
  p.N = static_cast<int>(labels.size());
  p.X = std::move(X);
  p.labels = std::move(labels);
  p.probe = std::move(probe);
  p.probe_label = 0;
  return p;
}

IntervalVerdict verdict(const Model& model, const DoublePrompt& p) {
  const BatchModel<Iv> im = make_interval_model(model, p.d, p.C);
  std::vector<Iv> ws(interval_workspace_size(p.d, p.C, p.N));
  std::vector<std::int32_t> labels(p.labels.begin(), p.labels.end());
  return certify_prompt(im.view(), p.N, p.X.data(), labels.data(), p.probe.data(), *p.probe_label, ws.data());
}

TEST(IntervalKernel, ScoreGapsOf1e11AndExpUnderflowStayFiniteAndDecide) {
  PromptCheck c;
  // Features of size 3e5 and beta = 1: scores differ by about 1e11.
  const DoublePrompt big = hand_prompt(2, 2, {3e5, 1e5, -3e5, 2e5, 2.9e5, -1e5, -2.5e5, 0}, {0, 1, 0, 1}, {3e5, 0});
  check_prompt(reduced("1", "1", "1/2", "1"), big, c, true);
  const IntervalVerdict v = verdict(reduced("1", "1", "1/2", "1"), big);
  EXPECT_TRUE(std::isfinite(v.margin.lo) && std::isfinite(v.margin.hi));
  EXPECT_TRUE(v.certified);
  EXPECT_EQ(v.prediction, 0);
  // Gaps of about 1e3: exp(-1e3) underflows to [0, 2^-1074].
  const DoublePrompt mid = hand_prompt(2, 2, {30, 10, -30, 20, 29, -10, -25, 0}, {0, 1, 0, 1}, {30, 0});
  check_prompt(reduced("1", "1", "1/2", "1"), mid, c, true);
  EXPECT_TRUE(verdict(reduced("1", "1", "1/2", "1"), mid).certified);
  EXPECT_EQ(c.failures, 0);
  EXPECT_EQ(c.errors, 0);
}

TEST(IntervalKernel, AnExactTieIsNeverCertified) {
  // Mirror-symmetric points of classes 0 and 1 and the probe at the origin: y[0] = y[1] exactly.
  const DoublePrompt tie = hand_prompt(1, 2, {1, -1, 2, -2}, {0, 1, 0, 1}, {0});
  for (const Model& m : {reduced("1", "1", "1/2", "1", 3), reduced("0.3", "2", "1", "0.7", 2)}) {
    PromptCheck c;
    check_prompt(m, tie, c, true);
    EXPECT_EQ(c.failures, 0);
    const IntervalVerdict v = verdict(m, tie);
    EXPECT_FALSE(v.certified);
    EXPECT_LE(v.margin.lo, 0.0);
    EXPECT_GE(v.margin.hi, 0.0);
  }
  // Depth 0 (no layers): the probe's labels are all 0, a tie.
  Model none;
  none.layers.push_back(ReducedLayer<Rational>{coeffs("1", "1", "0", "0"), std::nullopt});
  EXPECT_FALSE(verdict(none, tie).certified);
}

TEST(IntervalKernel, ClassesOfIdenticalPointsWithinZero) {
  // Every class's points coincide: within-class scatter 0, identical keys.
  const DoublePrompt same = hand_prompt(2, 3, {1, 2, 1, 2, -1, 0.5, -1, 0.5, 0, -2, 0, -2}, {0, 0, 1, 1, 2, 2}, {0.9, 1.8});
  PromptCheck c;
  for (const Model& m : {reduced("1", "1", "1/2", "1", 2), mixed_model(Kernel::softmax), dense_model(Kernel::linear, 2, 3)})
    check_prompt(m, same, c, true);
  EXPECT_EQ(c.failures, 0);
  EXPECT_EQ(c.errors, 0);
  EXPECT_TRUE(verdict(reduced("1", "1", "1/2", "1", 2), same).certified);
}

// ---- interval_attention.hpp: the lane exp, the branch-free steps, the
// midpoint-radius bound, and their planted faults.

// lanes_exp<F, 8, 1, K> over `count` random intervals (narrow ones, points, wide ones
// that take the scalar path, the range limits): failures of containment of Arb's
// exp at the ends.
template <int F, int K = iv_attn::kLaneExpDegree>
long lane_exp_failures(int count, std::uint64_t seed, long* fast = nullptr) {
  WorkingPrecision prec(kRefBits);
  Draw draw(seed);
  long failures = 0;
  for (int it = 0; it < count; it += 8) {
    double x[8], y[8];
    for (int l = 0; l < 8; ++l) {
      const int kind = static_cast<int>(draw.bits() % 6);
      double a = kind == 0 ? draw.uniform(-745.5, 710) : kind == 1 ? draw.uniform(-20, 20) : draw.uniform(-1e-3, 1e-3);
      if (kind == 3) a = draw.any(-1074, -20);
      const double w = kind == 4 ? draw.uniform(0, 2) : kind == 5 ? 0.0 : std::fabs(a) * draw.uniform(0, 1e-12);
      x[l] = a;
      y[l] = a + w;
    }
    double lo[8], hi[8];
    for (int l = 0; l < 8; ++l) lo[l] = x[l], hi[l] = y[l];
    iv_attn::lanes_exp<F, 8, 1, K>(lo, hi);
    for (int l = 0; l < 8; ++l) {
      if (fast && y[l] - x[l] <= 0.0078125 && x[l] >= -745.2 && y[l] <= 709.79) ++*fast;
      failures += !contains_ball(Iv{lo[l], lo[l] <= hi[l] ? hi[l] : lo[l]}, Tr::exp(ball(x[l]))) ||
                  !contains_ball(Iv{lo[l], hi[l]}, Tr::exp(ball(y[l])));
    }
  }
  return failures;
}

TEST(IntervalAttention, TheLaneExpContainsExpAndItsFaultsAreCaught) {
  const int count = 16000 * scale();
  long fast = 0;
  const long honest = lane_exp_failures<kNoFault>(count, kSeed + 301, &fast);
  const long nearest = lane_exp_failures<kFaultNearest>(count, kSeed + 301);
  const long halved6 = lane_exp_failures<kFaultHalfExpBound, 6>(count, kSeed + 302);
  const long honest6 = lane_exp_failures<kNoFault, 6>(count, kSeed + 302);
  std::printf("lane exp on %d intervals (%ld on the lane path): %ld outside; planted round-to-nearest %ld; degree 6: "
              "%ld with the proved bound, %ld with half of it\n",
              count, fast, honest, nearest, honest6, halved6);
  EXPECT_EQ(honest, 0);
  EXPECT_EQ(honest6, 0);
  EXPECT_GT(fast, count / 2);
  EXPECT_GT(nearest, 0);
  EXPECT_GT(halved6, 0);
  // The constants: e^0.6932 <= kLaneExpRhoLoUp; kLaneRhoLo bounds the largest
  // r_lo the reduction can leave; the remainder bounds dominate the exact ones.
  WorkingPrecision prec(kRefBits);
  EXPECT_LE(Tr::upper(Tr::exp(ball(iv_attn::kLaneRhoLo))), rational_from_double(iv_attn::kLaneExpRhoLoUp));
  // [0, kTiny] encloses exp on (-inf, kTinyArg] (interval_attention.hpp, kTiny).
  EXPECT_LE(Tr::upper(Tr::exp(ball(iv_attn::kTinyArg))), rational_from_double(iv_attn::kTiny));
  EXPECT_GE(rational_from_double(iv_attn::kLaneRhoLo),
            Rational(6931471805599454LL, 10000000000000000LL) *  // > ln 2 = 0.69314718055994530942...
                    (1 + Rational(1, 1 << 20) + Rational(1, 5000000000000LL)) +
                rational_from_double(0x1p-51));
  auto check = [&](int K, double bound) {
    Rational v = rational_from_double(iv_attn::kLaneExpRhoLoUp), f = 1;
    for (int k = 1; k <= K + 1; ++k) {
      v *= rational_from_double(iv_attn::kLaneRhoLo);
      f *= k;
    }
    EXPECT_GE(rational_from_double(bound), v / f) << "K = " << K;
  };
  check(6, iv_attn::lane_exp_remainder_bound<6>());
  check(17, iv_attn::lane_exp_remainder_bound<17>());
}

TEST(IntervalAttention, TheLaneStepsBoundNextUpAndNextDown) {
  // next_up(x) <= step_up(x) (the bound) and step_up(x) <= next_up^3(x) (the
  // width: one double more, two near the smallest normals where |x| 2^-52
  // rounds), mirrored for step_down; -inf -> -DBL_MAX, +inf and NaN stay.
  Draw draw(kSeed + 303);
  const double specials[] = {0.0, -0.0, std::numeric_limits<double>::max(), -std::numeric_limits<double>::max(),
                             std::numeric_limits<double>::denorm_min(), -std::numeric_limits<double>::denorm_min(),
                             std::numeric_limits<double>::min(), -std::numeric_limits<double>::min(), 1.0, -1.0,
                             0x1p-1022 - 0x1p-1074, 2.0 - 0x1p-52};
  long bad = 0, checked = 0;
  auto check = [&](double x) {
    ++checked;
    const double up = iv_attn::step_up(x), dn = iv_attn::step_down(x);
    const double u1 = iv_detail::next_up(x), d1 = iv_detail::next_down(x);
    bad += !(up >= u1 && up <= iv_detail::next_up(iv_detail::next_up(u1))) +
           !(dn <= d1 && dn >= iv_detail::next_down(iv_detail::next_down(d1)));
  };
  for (double x : specials) check(x);
  for (int i = 0; i < 100000; ++i) check(draw.any());
  EXPECT_EQ(iv_attn::step_up(-kInf), -std::numeric_limits<double>::max());
  EXPECT_EQ(iv_attn::step_up(kInf), kInf);
  EXPECT_EQ(iv_attn::step_down(kInf), std::numeric_limits<double>::max());
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(iv_attn::step_up(nan) != iv_attn::step_up(nan));
  std::printf("lane steps on %ld doubles: %ld outside [next, third next]\n", checked, bad);
  EXPECT_EQ(bad, 0);
}

// Lemma 2 of theory/interval_kernel.md on its own: sums of n nonnegative RN
// products; from_midrad's upper end must bound the exact sum. Without the
// factor (the planted fault) it falls short on some.
template <int F>
long radius_sum_failures(int trials, int n, std::uint64_t seed) {
  Draw draw(seed);
  long failures = 0;
  for (int t = 0; t < trials; ++t) {
    double s = 0;
    Rational exact = 0;
    for (int k = 0; k < n; ++k) {
      // Every fourth trial: subnormal products (their absolute rounding errors).
      const double a = draw.uniform(0.5, 1);
      const double b = t % 4 == 0 ? std::ldexp(draw.uniform(0.5, 1), -1070) : draw.uniform(0.5, 1);
      s += a * b;
      exact += rational_from_double(a) * rational_from_double(b);
    }
    const Iv e = iv_attn::from_midrad<F>(0.0, s, n, 0);
    failures += rational_from_double(e.hi) < exact || rational_from_double(e.lo) > -exact;
  }
  return failures;
}

TEST(IntervalAttention, TheRadiusSumsFactorIsNeededAndSuffices) {
  const int trials = 4000 * scale();
  const long honest = radius_sum_failures<kNoFault>(trials, 64, kSeed + 304);
  const long planted = radius_sum_failures<kFaultNoRadiusFactor>(trials, 64, kSeed + 304);
  std::printf("radius sums of 64 products, %d trials: %ld short with the factor, %ld without\n", trials, honest, planted);
  EXPECT_EQ(honest, 0);
  EXPECT_GT(planted, 0);
}

// Scores of point queries against point keys (panel_scores): every enclosure
// must contain the exact dot product; with the midpoint's rounding error left out
// (the planted fault) the enclosures are points near the rounded midpoint.
template <int F>
long point_score_failures(int panels, int D, std::uint64_t seed) {
  Draw draw(seed);
  const int n = 16, W = iv_attn::kIvLanes;
  std::vector<double> side(3L * D * n), buf(iv_attn::panel_scratch_doubles(D, n));
  const iv_attn::SideArrays ks{side.data(), side.data() + D * n, side.data() + 2 * D * n};
  const iv_attn::PanelScratch ps = iv_attn::carve_panel(buf.data(), D, n);
  long failures = 0;
  for (int p = 0; p < panels; ++p) {
    std::vector<double> K(static_cast<std::size_t>(n) * D), Q(static_cast<std::size_t>(W) * D);
    for (double& v : K) v = draw.uniform(-2, 2);
    for (double& v : Q) v = draw.uniform(-2, 2);
    for (int i = 0; i < n; ++i)
      for (int k = 0; k < D; ++k)
        iv_attn::key_side<F>(Iv{K[i * D + k], K[i * D + k]}, D * 0x1p-52, side[k * n + i], side[D * n + k * n + i],
                             side[2 * D * n + k * n + i]);
    for (int k = 0; k < D; ++k)
      for (int l = 0; l < W; ++l) ps.qm[k * W + l] = Q[l * D + k], ps.qa[k * W + l] = std::fabs(Q[l * D + k]), ps.qr[k * W + l] = 0;
    iv_attn::panel_scores<F, iv_attn::kIvLanes, iv_attn::kKeyBlock>(ks, n, D, n, 0, ps);
    for (int i = 0; i < n; ++i)
      for (int l = 0; l < W; ++l) {
        Rational exact = 0;
        for (int k = 0; k < D; ++k) exact += rational_from_double(K[i * D + k]) * rational_from_double(Q[l * D + k]);
        const double lo = ps.tl[i * W + l], hi = ps.th[i * W + l];
        failures += rational_from_double(lo) > exact || rational_from_double(hi) < exact;
      }
  }
  return failures;
}

TEST(IntervalAttention, TheMidpointErrorIsNeededAndSuffices) {
  const long honest = point_score_failures<kNoFault>(50, 20, kSeed + 305);
  const long planted = point_score_failures<kFaultNoMidpointError>(50, 20, kSeed + 305);
  std::printf("point scores (D = 20), 6400 dot products: %ld outside with the midpoint error, %ld without\n", honest,
              planted);
  EXPECT_EQ(honest, 0);
  EXPECT_GT(planted, 0);
}

#ifdef ICLCERT_IV_HOST_VECTORS
// The one-lane panel's vectors along the keys (column_scores), the features
// (column_aggregate) and the rows (its exps) give the one-lane code's values bit
// for bit: the same sums, in the same order.
TEST(IntervalAttention, TheOneLanePanelsVectorsGiveTheScalarValues) {
  Draw draw(kSeed + 306);
  const int D = 19, n = 37, P = 40;  // tails on both sides
  std::vector<double> side(3L * D * P), vside(3L * D * n), buf(iv_attn::panel_scratch_doubles(D, n));
  for (double& v : side) v = draw.uniform(0, 2);
  for (double& v : vside) v = draw.uniform(0, 2);
  const iv_attn::SideArrays ks{side.data(), side.data() + D * P, side.data() + 2 * D * P};
  const iv_attn::SideArrays vs{vside.data(), vside.data() + D * n, vside.data() + 2 * D * n};
  const iv_attn::PanelScratch ps = iv_attn::carve_panel(buf.data(), D, n, 1);
  for (int k = 0; k < D; ++k) ps.qm[k] = draw.uniform(-2, 2), ps.qa[k] = std::fabs(ps.qm[k]), ps.qr[k] = draw.uniform(0, 1e-9);
  iv_attn::panel_scores<kNoFault, 1, iv_attn::kKeyBlock>(ks, P, D, n, 0, ps);
  const std::vector<double> scalar_lo(ps.tl, ps.tl + n), scalar_hi(ps.th, ps.th + n);
  const int i0 = iv_attn::column_scores<kNoFault, iv_attn::kKeyBlock>(ks, P, D, n, 0, ps);
  EXPECT_GT(i0, n / 2);
  for (int i = 0; i < i0; ++i) {
    EXPECT_EQ(ps.tl[i], scalar_lo[i]) << i;
    EXPECT_EQ(ps.th[i], scalar_hi[i]) << i;
  }
  // Weights in midpoint-radius form, then the aggregates both ways.
  for (int i = 0; i < n; ++i) ps.tl[i] = draw.uniform(-1, 1), ps.sl[i] = std::fabs(ps.tl[i]), ps.th[i] = draw.uniform(0, 1e-9);
  std::vector<Iv> scalar(D), column(D);
  iv_attn::panel_aggregate<kNoFault, 1, iv_attn::kKeyBlock>(vs, D, n, 0, ps, scalar.data(), 1);
  const int c0 = iv_attn::column_aggregate<kNoFault, 2>(vs, D, n, 0, ps, column.data());
  EXPECT_GT(c0, D / 2);
  for (int c = 0; c < c0; ++c) {
    EXPECT_EQ(column[c].lo, scalar[c].lo) << c;
    EXPECT_EQ(column[c].hi, scalar[c].hi) << c;
  }
  // Exps of 32 rows in the lanes against one row at a time.
  double x[32], y[32], x1[32], y1[32];
  for (int i = 0; i < 32; ++i) {
    x[i] = x1[i] = draw.uniform(-800, 0);
    y[i] = y1[i] = x[i] + (i % 3 ? draw.uniform(0, 1e-9) : 0.0);
  }
  iv_attn::lanes_exp<kNoFault, iv_attn::kIvLanes, iv_attn::kExpRows>(x, y);
  for (int i = 0; i < 32; ++i) {
    iv_attn::lanes_exp<kNoFault, 1>(x1 + i, y1 + i);
    EXPECT_EQ(x[i], x1[i]) << i;
    EXPECT_EQ(y[i], y1[i]) << i;
  }
}
#endif

TEST(IntervalAttention, EverySlackRemovedFailsOnPrompts) {
  // Round to nearest everywhere, no midpoint error, no radius factor: the prompt
  // enclosures lose the true values. (Each fault alone is caught by the tests
  // above; on whole prompts the other bounds' slack can hide one of them.)
  PromptCheck c;
  for (int i = 0; i < 40; ++i) {
    const Model model = i % 2 ? mixed_model(Kernel::softmax) : dense_model(Kernel::softmax, 3, 3);
    check_prompt<IvArith<kFaultNearest | kFaultNoMidpointError | kFaultNoRadiusFactor>>(model, sampled(3, 3, 10, kSeed + 177 + i), c);
  }
  std::printf("every slack removed, 40 prompts: %ld of %ld values outside\n", c.failures, c.values);
  EXPECT_GT(c.failures, 0);
}

}  // namespace
}  // namespace iclcert::gpu::testing
